"""Issue 11 end to end: real `git commit`s through the real pre-commit client.

The hooks are installed from a snapshot of this package (tests/hookrepo.py), as users get
them. Each scenario is one fresh repository and one commit, and asserts both the hook's
answer and git's: a blocked commit did not land, an allowed one did.

- one commit per class of tests/adversarial_keys.py (a leaked key from that class must
  be blocked; its encrypted counterparts, placeholders and public keys must land)
- class 9, the staged blob: a clean filter that turns what is on disk into a plain key in
  the index (must block), a git-crypt-like filter whose blob is ciphertext while the disk
  holds the plain key (must land), and `working-tree-encoding=UTF-16` (must block)
- class 10, file names that look like options: `-h`, `--help`, `--he` (an argparse
  abbreviation), `--config=x.toml` beside a permissive x.toml, staged beside a leak
- class 11, crafted input through every hook: the commit finishes, and a later commit of
  a good certificate is not held up by a crafted PKCS#12 already in the repository

Every commit runs under a hard timeout (its whole process group is killed), so a hook
that hangs fails its scenario instead of the suite.
"""

from __future__ import annotations

import base64
import codecs
import os
import secrets
import shutil
import signal
import string
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import adversarial_keys as ak
from tests import hookrepo, pki

PRE_COMMIT_BIN = Path(sys.executable).parent
if not (PRE_COMMIT_BIN / "pre-commit").exists():
    PRE_COMMIT_BIN = Path(shutil.which("pre-commit") or "pre-commit").parent

COMMIT_TIMEOUT = 20.0  # a whole `git commit` with every hook (hook environments pre-installed)
KEY_HOOKS = ("check-private-keys",)
ALL_HOOKS = ("check-certificates", "check-private-keys", "check-unique-certificates")
KEY_RULES = ("key-unencrypted", "key-unreadable", "key-weak-encryption")
ROT13 = "tr 'A-Za-z' 'N-ZA-Mn-za-m'"
CRYPT = ("openssl enc -aes-256-cbc -pbkdf2 -iter 1000 -S 0011223344556677 "
         "-pass pass:repo-secret")


@dataclass
class Commit:
    code: int | None  # None: killed at the timeout
    output: str
    seconds: float


@dataclass
class Repo:
    path: Path
    env: dict[str, str]

    def git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return hookrepo.git(self.path, *args, check=check, env=self.env)

    def write(self, files: dict[str, bytes]) -> None:
        for name, data in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

    def stage(self, files: dict[str, bytes]) -> None:
        self.write(files)
        for name in files:
            self.git("add", "--", name)

    def commit(self, message: str = "scenario") -> Commit:
        """`git commit` with the pre-commit hook, killed (with every child) at the timeout."""
        started = time.perf_counter()
        process = subprocess.Popen(["git", "commit", "-m", message], cwd=self.path,
                                   env=self.env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            output, _ = process.communicate(timeout=COMMIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            return Commit(None, output, time.perf_counter() - started)
        return Commit(process.returncode, output, time.perf_counter() - started)

    def commits(self) -> int:
        return int(self.git("rev-list", "--count", "HEAD").stdout)

    def blob(self, name: str) -> bytes:
        return subprocess.run(["git", "cat-file", "blob", f":{name}"], cwd=self.path,
                              env=self.env, capture_output=True, check=True).stdout


@pytest.fixture(scope="module")
def hook_snapshot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, str]]:
    base = tmp_path_factory.mktemp("adversarial-hook-repo")
    rev = hookrepo.make_snapshot(base / "certwarden")
    env = hookrepo.git_env(PRE_COMMIT_HOME=str(base / "pre-commit-home"))
    env["PATH"] = str(PRE_COMMIT_BIN) + os.pathsep + env["PATH"]
    # Install the hook environment now, so no commit's timeout pays for pip.
    warm = hookrepo.make_user_repo(base / "warm", hook_repo=base / "certwarden", rev=rev,
                                   hook_ids=list(ALL_HOOKS), env=env)
    subprocess.run(["pre-commit", "install-hooks"], cwd=warm, env=env, check=True,
                   capture_output=True)
    return base / "certwarden", rev, env


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> ak.Corpus:
    return ak.shared_corpus(tmp_path_factory.getbasetemp())


def _repo(tmp_path: Path, snapshot: tuple[Path, str, dict[str, str]],
          hooks: tuple[str, ...]) -> Repo:
    """As hookrepo.make_user_repo, but the configuration is committed without the hooks
    (detect-secrets would take the 40-hex `rev:` for a secret)."""
    hook_repo, rev, env = snapshot
    path = tmp_path / "user"
    path.mkdir(parents=True)
    repo = Repo(path, env)
    repo.git("init", "-q", "-b", "main")
    listed = "".join(f"      - id: {hook}\n" for hook in hooks)
    repo.stage({".pre-commit-config.yaml": (f"repos:\n  - repo: {hook_repo}\n    rev: {rev}\n"
                                            f"    hooks:\n{listed}").encode()})
    subprocess.run(["pre-commit", "install"], cwd=path, env=env, check=True,
                   capture_output=True)
    repo.git("commit", "-q", "--no-verify", "-m", "config")
    return repo


def _data(corpus: ak.Corpus, name: str) -> bytes:
    try:
        return corpus.sample(name).data
    except ak.MissingTool as exc:
        pytest.skip(f"{name}: {exc}")


def _plain_key() -> bytes:
    from cryptography.hazmat.primitives import serialization

    return pki.rsa_key(2048, ak.KEY_SLOT).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption())


def assert_blocked(repo: Repo, result: Commit, rules: tuple[str, ...] = KEY_RULES,
                   before: int = 1) -> None:
    assert result.code is not None, (
        f"git commit still running after {COMMIT_TIMEOUT:.0f} s (killed):\n{result.output}")
    assert "Traceback" not in result.output, result.output
    assert result.code != 0, f"the commit landed:\n{result.output}"
    assert repo.commits() == before, "the commit landed"
    assert any(rule in result.output for rule in rules), (
        f"blocked, but not by {' or '.join(rules)}:\n{result.output}")


def assert_landed(repo: Repo, result: Commit, before: int = 1) -> None:
    assert result.code is not None, (
        f"git commit still running after {COMMIT_TIMEOUT:.0f} s (killed):\n{result.output}")
    assert "Traceback" not in result.output, result.output
    assert result.code == 0, f"the commit was blocked:\n{result.output}"
    assert repo.commits() == before + 1


# -- one commit per class ----------------------------------------------------------------------

@dataclass(frozen=True)
class ClassScenario:
    id: str
    cls: int
    files: dict[str, str]  # path in the repository -> corpus sample name
    blocked: bool
    hooks: tuple[str, ...] = KEY_HOOKS
    rules: tuple[str, ...] = KEY_RULES


CLASS_SCENARIOS = [
    ClassScenario("c1-stray-line", 1, {"pki/sensor1.key": "c01-stray-text.key"}, True),
    ClassScenario("c2-php-json", 2, {"config/tls.json": "c02-php.json"}, True),
    ClassScenario("c3-powershell-utf16", 3, {"pki/sensor1.pem": "c03-ps5.pem"}, True,
                  hooks=("check-certificates", "check-private-keys")),
    ClassScenario("c4-kubernetes-pfx", 4, {"deploy/tls-secret.yaml": "c04-tls-pfx.yaml"}, True),
    ClassScenario("c5-key-then-certificate", 5, {"pki/sensor1.der": "c05-key-then-cert.der"},
                  True, hooks=("check-certificates", "check-private-keys")),
    ClassScenario("c6-zip", 6, {"backup/bundle.zip": "c06-bundle.zip"}, True),
    ClassScenario("c6-gpg-binary", 6, {"keys/release.gpg": "c06-secret.gpg"}, True),
    ClassScenario("c7-empty-passphrase", 7, {"pki/sensor1.key": "c07-pkcs8-empty.key"}, True),
    ClassScenario("c7-weak-scrypt", 7, {"pki/sensor1.key": "c07-scrypt-1024.key"}, True,
                  rules=("key-weak-encryption",)),
    ClassScenario("c8-past-64MiB", 8, {"firmware/sensor.img": "c08-firmware-70MiB.img"}, True),
    ClassScenario("c11-pkcs12-every-hook", 11, {"pki/sensor1.p12": "c11-mac-2e31-plainbag.p12"},
                  True, hooks=ALL_HOOKS),
    ClassScenario("c12-deploy-keys-land", 12, {"ci/deploy_ed25519": "c12-deploy_ed25519",
                                               "keys/signing.asc": "c12-signing-key.asc",
                                               "keys/release.gpg": "c06-secret-protected.gpg"},
                  False),
    ClassScenario("protected-and-keyless-land", 0, {
        "docs/reply.eml": "c01-quoted-reply-enc.eml",
        "pki/sensor1.key": "c07-pkcs8-pass.key",
        "pki/legacy.key": "c07-legacy-pass.key",
        "config/tls.json": "c02-php-enc.json",
        "config/web.config": "c02-entity10-enc.config",
        "pki/utf16.pem": "c03-ps5-enc.pem",
        "deploy/values.b64": "c04-b64w76-enc.txt",
        "deploy/azure.json": "c04-azure-pfx-enc.json",
        "backup/bundle.zip": "c06-bundle-enc.zip",
        "keys/sensor.jwe.json": "c06-jwk-encrypted.json",
        "keys/id_rsa": "c07-id_rsa_pass",
        "keys/putty.ppk": "c07-puttygen-pass.ppk",
        "docs/setup.md": "c01-placeholder-dots.md",
        "docs/keys.yaml": "c01-placeholder-redacted.yaml",
        "keys/jwks.json": "c06-jwks-public.json",
        "vpn/peers.conf": "c06-wg-peers.conf",
    }, False),
]


@pytest.mark.parametrize("scenario", CLASS_SCENARIOS, ids=lambda s: s.id)
def test_one_commit_per_class(tmp_path: Path, hook_snapshot: tuple[Path, str, dict[str, str]],
                              corpus: ak.Corpus, scenario: ClassScenario) -> None:
    files = {path: _data(corpus, name) for path, name in scenario.files.items()}
    repo = _repo(tmp_path, hook_snapshot, scenario.hooks)
    repo.stage(files)
    result = repo.commit()
    if scenario.blocked:
        assert_blocked(repo, result, scenario.rules)
    else:
        assert_landed(repo, result)


def test_crafted_pkcs12_in_the_index_does_not_hold_up_the_next_commit(
        tmp_path: Path, hook_snapshot: tuple[Path, str, dict[str, str]],
        corpus: ak.Corpus) -> None:
    """Class 11: a PKCS#12 with 2^31-1 MAC iterations got in (--no-verify); the unique hook
    reads the whole index on every later certificate commit, and must still finish."""
    repo = _repo(tmp_path, hook_snapshot, ALL_HOOKS)
    repo.stage({"legacy/old.p12": _data(corpus, "c11-mac-2e31.p12")})
    repo.git("commit", "-q", "--no-verify", "-m", "landed before the hooks")
    repo.stage({"pki/sensor1.crt": pki.pem(pki.certificate(pki.Spec(
        not_after=pki.NOW.replace(year=2099))))})
    result = repo.commit()
    assert_landed(repo, result, before=2)


# -- class 10: file names that look like options -----------------------------------------------

PERMISSIVE = b'exclude = ["**"]\n[severity]\nkey-unencrypted = "off"\nkey-unreadable = "off"\n'

OPTION_NAMES = {
    "dash-h": {"-h": b"notes\n"},
    "double-dash-help": {"--help": b"notes\n"},
    "abbreviation-he": {"--he": b"notes\n"},
    "config-swap": {"--config=x.toml": b"notes\n", "x.toml": PERMISSIVE},
}


@pytest.mark.parametrize("decoys", OPTION_NAMES.values(), ids=OPTION_NAMES.keys())
def test_file_named_like_an_option_beside_a_key(
        tmp_path: Path, hook_snapshot: tuple[Path, str, dict[str, str]],
        decoys: dict[str, bytes]) -> None:
    repo = _repo(tmp_path, hook_snapshot, KEY_HOOKS)
    repo.stage({**decoys, "pki/leak.key": _plain_key()})
    assert_blocked(repo, repo.commit(), ("key-unencrypted",))


def test_config_swap_on_the_certificate_hook(
        tmp_path: Path, hook_snapshot: tuple[Path, str, dict[str, str]]) -> None:
    """`--config=evil.pem` matches the certificate hook's file pattern; evil.pem is a TOML
    file that excludes everything."""
    repo = _repo(tmp_path, hook_snapshot, ("check-certificates",))
    wildcard = pki.pem(pki.certificate(pki.Spec(cn="*.plant.example.com",
                                                not_after=pki.NOW.replace(year=2099))))
    repo.stage({"--config=evil.pem": b"notes\n", "evil.pem": b'exclude = ["**"]\n',
                "pki/sensor1.crt": wildcard})
    assert_blocked(repo, repo.commit(), ("cert-wildcard",))


def test_help_file_beside_a_secret_on_the_secrets_hook(
        tmp_path: Path, hook_snapshot: tuple[Path, str, dict[str, str]]) -> None:
    repo = _repo(tmp_path, hook_snapshot, ("detect-secrets",))
    access_key = "AKIA" + "".join(secrets.choice(string.ascii_uppercase + string.digits)
                                  for _ in range(16))
    secret_key = base64.b64encode(secrets.token_bytes(30)).decode()
    repo.stage({"--help": b"notes\n", "deploy.env": (
        f"AWS_ACCESS_KEY_ID={access_key}\nAWS_SECRET_ACCESS_KEY={secret_key}\n").encode()})
    assert_blocked(repo, repo.commit(), ("secret",))


# -- class 9: the staged blob, not the working tree --------------------------------------------

def _attributes(repo: Repo, text: str, config: dict[str, str] | None = None) -> None:
    """Commit .gitattributes (without the hooks) and set the git config it relies on."""
    for key, value in (config or {}).items():
        repo.git("config", key, value)
    repo.stage({".gitattributes": text.encode()})
    repo.git("commit", "-q", "--no-verify", "-m", "attributes")


def test_clean_filter_puts_a_plain_key_in_the_index(
        tmp_path: Path, hook_snapshot: tuple[Path, str, dict[str, str]]) -> None:
    """On disk: rot13 of a key (no key at all). In the index, after the clean filter: the
    plain key. The commit holds the key, so it must be blocked."""
    repo = _repo(tmp_path, hook_snapshot, KEY_HOOKS)
    _attributes(repo, "*.key filter=rot\n", {"filter.rot.clean": ROT13,
                                             "filter.rot.smudge": ROT13,
                                             "filter.rot.required": "true"})
    plain = _plain_key()
    repo.stage({"pki/sensor1.key": codecs.encode(plain.decode(), "rot13").encode()})
    assert repo.blob("pki/sensor1.key") == plain  # the scenario is what it claims
    assert (repo.path / "pki/sensor1.key").read_bytes() != plain
    assert_blocked(repo, repo.commit(), before=2)


def test_encrypting_filter_keeps_ciphertext_in_the_index(
        tmp_path: Path, hook_snapshot: tuple[Path, str, dict[str, str]]) -> None:
    """git-crypt-like: the disk holds the plain key, the index (and the commit) only
    ciphertext. Nothing secret is committed, so it must land."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    repo = _repo(tmp_path, hook_snapshot, KEY_HOOKS)
    _attributes(repo, "secrets/** filter=crypt diff=crypt\n", {
        "filter.crypt.clean": f"sh -c 'printf \"\\000GITCRYPT\\000\"; {CRYPT}'",
        "filter.crypt.smudge": f"sh -c 'tail -c +11 | {CRYPT} -d'",
        "filter.crypt.required": "true"})
    plain = _plain_key()
    repo.stage({"secrets/sensor1.key": plain})
    blob = repo.blob("secrets/sensor1.key")
    assert blob.startswith(b"\0GITCRYPT\0") and b"PRIVATE KEY" not in blob
    assert_landed(repo, repo.commit(), before=2)


@pytest.mark.parametrize("kind", ["unencrypted", "encrypted"])
def test_working_tree_encoding_utf16(tmp_path: Path,
                                     hook_snapshot: tuple[Path, str, dict[str, str]],
                                     corpus: ak.Corpus, kind: str) -> None:
    """On disk UTF-16 (with BOM), in the index UTF-8: the index decides."""
    repo = _repo(tmp_path, hook_snapshot, KEY_HOOKS)
    _attributes(repo, "*.key text working-tree-encoding=UTF-16\n")
    key = _plain_key() if kind == "unencrypted" else _data(corpus, "c07-pkcs8-pass.key")
    repo.stage({"pki/sensor1.key": key.decode().encode("utf-16")})
    assert repo.blob("pki/sensor1.key") == key
    result = repo.commit()
    if kind == "unencrypted":
        assert_blocked(repo, result, before=2)
    else:
        assert_landed(repo, result, before=2)
