"""Real `git commit`s through the real pre-commit client, using this repository's hooks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import hookrepo, pki

# pre-commit pip-installs the hook repository and its dependencies.
pytestmark = pytest.mark.needs_index

# pre-commit is a test dependency: installed beside this interpreter, or on PATH.
PRE_COMMIT_BIN = Path(sys.executable).parent
if not (PRE_COMMIT_BIN / "pre-commit").exists():
    PRE_COMMIT_BIN = Path(shutil.which("pre-commit") or "pre-commit").parent
# Hooks judge at the real clock (pre-commit passes no --now): certificates meant to be
# valid are valid from 2000 to 2099, whenever the tests run.
SINCE = pki.NOW.replace(year=2000)


@pytest.fixture(scope="session")
def hook_snapshot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, str]]:
    base = tmp_path_factory.mktemp("hook-repo")
    rev = hookrepo.make_snapshot(base / "certwarden")
    env = hookrepo.git_env(PRE_COMMIT_HOME=str(base / "pre-commit-home"))
    env["PATH"] = str(PRE_COMMIT_BIN) + os.pathsep + env["PATH"]
    return base / "certwarden", rev, env


def _repo(tmp_path: Path, snapshot: tuple[Path, str, dict[str, str]],
          hook_ids: list[str]) -> tuple[Path, dict[str, str]]:
    hook_repo, rev, env = snapshot
    repo = hookrepo.make_user_repo(tmp_path / "user", hook_repo=hook_repo, rev=rev,
                                   hook_ids=hook_ids, env=env)
    return repo, env


def test_commit_of_bad_certificate_is_blocked_good_one_allowed(
        tmp_path: Path, hook_snapshot: tuple[Path, str, dict[str, str]]) -> None:
    repo, env = _repo(tmp_path, hook_snapshot, ["check-certificates"])
    bad = hookrepo.commit(repo, {"pki/sensor2.cer": pki.der(pki.certificate(
        pki.Spec(cn="*.plant.example.com", not_before=SINCE,
                 not_after=pki.NOW.replace(year=2099))))}, env)
    assert bad.returncode != 0
    assert "cert-wildcard" in bad.stdout + bad.stderr
    assert hookrepo.git(repo, "log", "--oneline").stdout.count("\n") == 1
    hookrepo.git(repo, "reset", "-q", "--hard")

    spec = pki.Spec(not_before=SINCE, not_after=pki.NOW.replace(year=2099))
    good = hookrepo.commit(repo, {"pki/sensor1.crt": pki.pem(pki.certificate(spec)),
                                  "notes.md": b"sensor certificates\n"}, env)
    assert good.returncode == 0, good.stdout + good.stderr
    assert hookrepo.git(repo, "log", "--oneline").stdout.count("\n") == 2


def test_all_files_run_and_manual_stage(
        tmp_path: Path, hook_snapshot: tuple[Path, str, dict[str, str]]) -> None:
    repo, env = _repo(tmp_path, hook_snapshot, ["check-certificates"])
    expired = pki.certificate(pki.Spec(not_before=pki.NOW.replace(year=2020),
                                       not_after=pki.NOW.replace(year=2021)))
    for index in range(12):  # enough files for pre-commit to split into batches
        (repo / f"c{index}.crt").write_bytes(pki.pem(pki.certificate(
            pki.Spec(not_before=SINCE, not_after=pki.NOW.replace(year=2099)))))
    (repo / "old.crt").write_bytes(pki.pem(expired))
    hookrepo.git(repo, "add", "-A")
    result = subprocess.run(["pre-commit", "run", "--all-files"], cwd=repo, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "old.crt" in result.stdout and "cert-expired" in result.stdout
    assert "c3.crt" not in result.stdout


def test_commit_of_unencrypted_key_in_yaml_is_blocked_encrypted_key_allowed(
        tmp_path: Path, hook_snapshot: tuple[Path, str, dict[str, str]]) -> None:
    from cryptography.hazmat.primitives import serialization

    repo, env = _repo(tmp_path, hook_snapshot, ["check-certificates", "check-private-keys"])
    key = pki.rsa_key()
    plain = key.private_bytes(serialization.Encoding.PEM,
                              serialization.PrivateFormat.TraditionalOpenSSL,
                              serialization.NoEncryption()).decode()
    values = "tls:\n  key: |\n" + "".join(f"    {line}\n" for line in plain.splitlines())
    blocked = hookrepo.commit(repo, {"deploy/values.yaml": values.encode()}, env)
    assert blocked.returncode != 0
    assert "key-unencrypted" in blocked.stdout + blocked.stderr
    assert plain.splitlines()[1] not in blocked.stdout + blocked.stderr
    hookrepo.git(repo, "reset", "-q", "--hard")

    encrypted = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(b"e2e-Pass-phrase"))
    allowed = hookrepo.commit(repo, {"pki/sensor1.key": encrypted}, env)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr


def test_unique_certificates_through_real_commits(
        tmp_path: Path, hook_snapshot: tuple[Path, str, dict[str, str]]) -> None:
    repo, env = _repo(tmp_path, hook_snapshot, ["check-unique-certificates"])
    later = pki.NOW.replace(year=2099)
    first = pki.pem(pki.certificate(pki.Spec(not_before=SINCE, not_after=later, key_slot=1)))
    assert hookrepo.commit(repo, {"site-a/sensor1.crt": first}, env).returncode == 0

    cases = {
        "cert-duplicate-cn": {"site-b/sensor1.crt": pki.pem(pki.certificate(
            pki.Spec(not_before=SINCE, not_after=later, key_slot=2)))},
        "key-reused": {"site-b/sensor2.crt": pki.pem(pki.certificate(
            pki.Spec(cn="sensor2.plant.example.com", not_before=SINCE, not_after=later,
                     key_slot=1)))},
        "cert-duplicate": {"backup/sensor1.crt": first},
    }
    for rule, files in cases.items():
        result = hookrepo.commit(repo, files, env)
        assert result.returncode != 0, rule
        assert rule in result.stdout + result.stderr
        hookrepo.git(repo, "reset", "-q", "--hard")

    (repo / "site-c").mkdir()
    hookrepo.git(repo, "mv", "site-a/sensor1.crt", "site-c/sensor1.crt", env=env)
    moved = hookrepo.git(repo, "commit", "-m", "move", check=False, env=env)
    assert moved.returncode == 0, moved.stdout + moved.stderr


def test_manual_stage(tmp_path: Path, hook_snapshot: tuple[Path, str, dict[str, str]]) -> None:
    hook_repo, rev, env = hook_snapshot
    repo = tmp_path / "user"
    repo.mkdir()
    hookrepo.git(repo, "init", "-q", "-b", "main")
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hook_repo}\n    rev: {rev}\n    hooks:\n"
        "      - id: check-private-keys\n        stages: [manual]\n")
    subprocess.run(["pre-commit", "install"], cwd=repo, env=env, check=True,
                   capture_output=True)
    from cryptography.hazmat.primitives import serialization

    plain = pki.rsa_key().private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.TraditionalOpenSSL,
                                        serialization.NoEncryption())
    committed = hookrepo.commit(repo, {".pre-commit-config.yaml":
                                       (repo / ".pre-commit-config.yaml").read_bytes(),
                                       "leak.key": plain}, env)
    assert committed.returncode == 0  # manual-stage hooks do not run at commit time
    manual = subprocess.run(["pre-commit", "run", "--hook-stage", "manual", "--all-files"],
                            cwd=repo, env=env, capture_output=True, text=True)
    assert manual.returncode == 1
    assert "key-unencrypted" in manual.stdout


def test_appliance_rules_through_real_commits(
        tmp_path: Path, hook_snapshot: tuple[Path, str, dict[str, str]]) -> None:
    """check-unique-certificates with an appliance manifest: a compliant site commits, and
    each appliance rule blocks the commit that breaks it."""
    from tests.plant import KEY_PASSPHRASE
    from tests.test_appliances import CASES, PASS_VARIABLE, Site

    repo, env = _repo(tmp_path, hook_snapshot, ["check-unique-certificates"])
    env = {**env, PASS_VARIABLE: KEY_PASSPHRASE.decode()}
    good = hookrepo.commit(repo, Site(far=True).all_files(), env)
    assert good.returncode == 0, good.stdout + good.stderr
    for rule, change, _ in CASES:
        if rule == "cert-orphan":  # a warning: it does not block a commit
            continue
        site = Site(far=True)
        change(site)
        result = hookrepo.commit(repo, site.all_files(), env)
        assert result.returncode != 0, rule
        assert rule in result.stdout + result.stderr, rule
        hookrepo.git(repo, "reset", "-q", "--hard")
        hookrepo.git(repo, "clean", "-qfd")
    site = Site(far=True)
    site.certificate("pki/old/historian.crt", "historian.plant.example.com", 44)
    orphan = hookrepo.commit(repo, site.all_files(), env)
    assert orphan.returncode == 0, orphan.stdout + orphan.stderr  # warned, not blocked
    shown = subprocess.run(["pre-commit", "run", "check-unique-certificates", "--verbose",
                            "--all-files"],
                           cwd=repo, env=env, capture_output=True, text=True)
    assert shown.returncode == 0 and "cert-orphan" in shown.stdout
