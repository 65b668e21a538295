"""One golden sample per key format module (recognition/key_formats.FORMATS), each with a
counterpart that must stay allowed (its encrypted form, or its public key where the format
has no encryption). Real tool outputs where a tool writes the format (openssl, ssh-keygen,
puttygen, gpg), generated at test time; nothing here is committed key material.

Facts are asserted on `find_keys` (recognition: what the bytes are), verdicts on the
command line (rules: what the policy says).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519

from certwarden.recognition.found_key import FoundKey
from certwarden.recognition.key_formats import FORMATS
from certwarden.recognition.keys import find_keys
from tests import adversarial_keys as ak
from tests import pki
from tests.conftest import RunJson, rules_of

E, F = serialization.Encoding, serialization.PrivateFormat
NO = serialization.NoEncryption()
PASS = "golden-Pass-3"


def _tool(*command: str, data: bytes | None = None, cwd: Path | None = None) -> bytes:
    if shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} is not installed")
    result = subprocess.run(command, input=data, capture_output=True, cwd=cwd, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr.decode()[-400:]
    return result.stdout


def _only_key(data: bytes) -> FoundKey:
    scan = find_keys(data)
    assert scan.unreadable == [], [u.reason for u in scan.unreadable]
    assert len(scan.keys) == 1, [k.form for k in scan.keys]
    return scan.keys[0]


def _plain_pem() -> bytes:
    return pki.rsa_key(2048, 21).private_bytes(E.PEM, F.TraditionalOpenSSL, NO)


def _openssl_encrypted(tmp_path: Path, *options: str) -> bytes:
    source = tmp_path / "plain.pem"
    source.write_bytes(_plain_pem())
    return _tool("openssl", "pkcs8", "-topk8", *options, "-in", str(source), "-passout",
                 f"pass:{PASS}")


# -- pem ---------------------------------------------------------------------------------------

def test_pem_pkcs1_and_its_encrypted_pkcs8(tmp_path: Path) -> None:
    plain = _only_key(_plain_pem())
    assert (plain.encrypted, plain.key_type, plain.key_size) == (False, "rsa", 2048)
    encrypted = _only_key(_openssl_encrypted(tmp_path, "-v2", "aes-256-cbc"))
    assert encrypted.encrypted and encrypted.opens_with_empty_passphrase is False
    assert encrypted.protection is not None
    assert (encrypted.protection.scheme, encrypted.protection.kdf,
            encrypted.protection.cipher) == ("PBES2", "pbkdf2", "aes-256-cbc")
    assert encrypted.protection.parameters["iterations"] == 2048


def test_pem_pkcs8_with_the_empty_passphrase_is_not_protected(tmp_path: Path) -> None:
    source = tmp_path / "plain.pem"
    source.write_bytes(_plain_pem())
    empty = _tool("openssl", "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", str(source),
                  "-passout", "pass:")
    key = _only_key(empty)
    assert key.encrypted and key.opens_with_empty_passphrase is True
    assert (key.key_type, key.key_size) == ("rsa", 2048)  # learned by opening it


def test_pem_legacy_and_sec1(tmp_path: Path) -> None:
    source = tmp_path / "plain.pem"
    source.write_bytes(_plain_pem())
    legacy = _tool("openssl", "rsa", "-aes128", "-traditional", "-in", str(source),
                   "-passout", f"pass:{PASS}")
    key = _only_key(legacy)
    assert key.encrypted and key.opens_with_empty_passphrase is False
    assert key.protection is not None and key.protection.scheme == "legacy PEM"
    sec1 = _only_key(pki.ec_key(3).private_bytes(E.PEM, F.TraditionalOpenSSL, NO))
    assert (sec1.encrypted, sec1.key_type, sec1.key_size) == (False, "ec", 256)


# -- openssh, ssh2 -----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["ed25519", "ecdsa", "rsa"])
def test_openssh_from_ssh_keygen(tmp_path: Path, kind: str) -> None:
    keys = {}
    for label, passphrase in (("plain", ""), ("encrypted", PASS)):
        target = tmp_path / f"id_{kind}_{label}"
        _tool("ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-C", "golden", "-f",
              str(target))
        keys[label] = _only_key(target.read_bytes())
    assert not keys["plain"].encrypted and keys["plain"].family == "ssh"
    protection = keys["encrypted"].protection
    assert keys["encrypted"].encrypted and protection is not None
    assert protection.kdf == "bcrypt" and protection.parameters["rounds"] == 16


def test_openssh_bare_structure_under_base64(tmp_path: Path) -> None:
    target = tmp_path / "id_ed25519"
    _tool("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(target))
    blob = base64.b64decode(b"".join(target.read_bytes().splitlines()[1:-1]))
    key = _only_key(json.dumps({"ssh_key": base64.b64encode(blob).decode()}).encode())
    assert not key.encrypted and key.via == ("base64",)


def test_ssh2_cipher_field_decides() -> None:
    from tests import keycorpus

    assert not _only_key(keycorpus._ssh2(False)).encrypted
    assert _only_key(keycorpus._ssh2(True)).encrypted


# -- putty -------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["2", "3"])
def test_putty_from_puttygen(tmp_path: Path, version: str) -> None:
    source = tmp_path / "key.pem"
    source.write_bytes(_plain_pem())
    secret = tmp_path / "pass"
    secret.write_text(PASS)
    empty = tmp_path / "empty"
    empty.write_text("")
    for name, passphrase_file in (("plain.ppk", empty), ("encrypted.ppk", secret)):
        _tool("puttygen", str(source), "-o", str(tmp_path / name), "--new-passphrase",
              str(passphrase_file), "--ppk-param", f"version={version}")
    plain = _only_key((tmp_path / "plain.ppk").read_bytes())
    assert (plain.encrypted, plain.form, plain.key_size) == (False, f"PuTTY v{version}", 2048)
    encrypted = _only_key((tmp_path / "encrypted.ppk").read_bytes())
    assert encrypted.encrypted and encrypted.opens_with_empty_passphrase is False
    assert encrypted.protection is not None
    assert encrypted.protection.kdf == ("argon2id" if version == "3" else "sha1")


# -- openpgp, gpg-agent ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def gpg_homes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if shutil.which("gpg") is None:
        pytest.skip("gpg is not installed")
    homes = {}
    for label, passphrase in (("plain", ""), ("protected", PASS)):
        home = tmp_path_factory.mktemp(f"gnupg-{label}")
        home.chmod(0o700)
        base = ["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback",
                "--passphrase", passphrase]
        _tool(*base, "--quick-gen-key", "Golden <golden@example.invalid>", "ed25519", "sign",
              "never")
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False,
                       capture_output=True)
        homes[label] = home
    return homes


def _gpg(home: Path, passphrase: str, *options: str) -> bytes:
    try:
        return _tool("gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback",
                     "--passphrase", passphrase, *options)
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False,
                       capture_output=True)


@pytest.mark.parametrize("armored", [True, False])
def test_openpgp_from_gpg(gpg_homes: dict[str, Path], armored: bool) -> None:
    options = ["--armor"] if armored else []
    plain = _only_key(_gpg(gpg_homes["plain"], "", *options, "--export-secret-keys"))
    protected = _only_key(_gpg(gpg_homes["protected"], PASS, *options, "--export-secret-keys"))
    assert not plain.encrypted and plain.family == "openpgp"
    assert protected.encrypted and protected.protection is not None
    assert protected.protection.kdf == "s2k iterated and salted"
    assert find_keys(_gpg(gpg_homes["plain"], "", *options, "--export")).keys == []


def test_gpg_agent_key_files(gpg_homes: dict[str, Path]) -> None:
    def agent_file(label: str) -> bytes:
        files = sorted((gpg_homes[label] / "private-keys-v1.d").glob("*.key"))
        assert files
        return files[0].read_bytes()

    assert not _only_key(agent_file("plain")).encrypted
    assert _only_key(agent_file("protected")).encrypted


# -- der, pkcs12 -------------------------------------------------------------------------------

def test_der_whole_and_embedded(tmp_path: Path) -> None:
    der = pki.rsa_key(2048, 21).private_bytes(E.DER, F.PKCS8, NO)
    whole = _only_key(der)
    assert (whole.encrypted, whole.encoding) == (False, "der")
    embedded = _only_key(b"HEADER\x00\x01" + der + pki.der(pki.certificate()))
    assert (embedded.encrypted, embedded.encoding) == (False, "der-embedded")
    encrypted = pki.rsa_key(2048, 21).private_bytes(
        E.DER, F.PKCS8, serialization.BestAvailableEncryption(PASS.encode()))
    assert _only_key(encrypted).encrypted


@pytest.mark.parametrize(("options", "unencrypted"), [
    (("-passout", "pass:"), True), (("-keypbe", "NONE", "-passout", f"pass:{PASS}"), True),
    (("-passout", f"pass:{PASS}"), False), (("-legacy", "-passout", f"pass:{PASS}"), False)])
def test_pkcs12_from_openssl(tmp_path: Path, options: tuple[str, ...], unencrypted: bool) -> None:
    (tmp_path / "key.pem").write_bytes(_plain_pem())
    (tmp_path / "cert.pem").write_bytes(pki.pem(pki.certificate(pki.Spec(key_slot=21))))
    bundle = _tool("openssl", "pkcs12", "-export", "-inkey", str(tmp_path / "key.pem"), "-in",
                   str(tmp_path / "cert.pem"), *options)
    key = _only_key(bundle)
    protected = key.encrypted and not key.opens_with_empty_passphrase
    assert protected is not unencrypted, key


# -- jwk, xml, openssl text, age, wireguard, openvpn -------------------------------------------

def _jwk(private: bool) -> bytes:
    numbers = pki.ec_key(4).private_numbers()

    def b64(value: int) -> str:
        return base64.urlsafe_b64encode(value.to_bytes(32, "big")).rstrip(b"=").decode()

    jwk = {"kty": "EC", "crv": "P-256", "x": b64(numbers.public_numbers.x),
           "y": b64(numbers.public_numbers.y)}
    if private:
        jwk["d"] = b64(numbers.private_value)
    return json.dumps({"keys": [jwk]}).encode()


def test_jwk_with_d_and_without() -> None:
    key = _only_key(_jwk(True))
    assert (key.encrypted, key.key_type, key.key_size, key.family) == (False, "ec", 256, "jose")
    assert find_keys(_jwk(False)).keys == []


def test_dotnet_xml_private_and_public() -> None:
    key = pki.rsa_key(2048, 21)
    private = ak._rsa_key_value(key)
    found = _only_key(private)
    assert (found.key_type, found.key_size) == ("rsa", 2048)
    assert find_keys(ak._rsa_key_value(key, private=False)).keys == []


def test_openssl_text_dump_private_and_public(tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_bytes(_plain_pem())
    dump = _tool("openssl", "pkey", "-in", str(tmp_path / "key.pem"), "-text", "-noout")
    assert _only_key(dump).key_size == 2048
    public = _tool("openssl", "pkey", "-in", str(tmp_path / "key.pem"), "-pubout", "-text",
                   "-noout")
    assert find_keys(public).keys == []


def test_age_identity_and_recipient() -> None:
    raw = os.urandom(32)
    secret = ak.bech32_encode("age-secret-key-", raw).upper()
    public = ak.bech32_encode("age", x25519.X25519PrivateKey.from_private_bytes(raw)
                              .public_key().public_bytes(E.Raw, serialization.PublicFormat.Raw))
    assert not _only_key(f"# public key: {public}\n{secret}\n".encode()).encrypted
    assert find_keys(f"{public}\n".encode()).keys == []
    assert find_keys(b"AGE-SECRET-KEY-1" + b"Q" * 58 + b"\n").keys == []  # bad checksum


def test_wireguard_private_key_and_peer() -> None:
    private = x25519.X25519PrivateKey.generate()
    raw = private.private_bytes(E.Raw, F.Raw, NO)
    public = private.public_key().public_bytes(E.Raw, serialization.PublicFormat.Raw)
    config = f"[Interface]\nPrivateKey = {base64.b64encode(raw).decode()}\n".encode()
    assert _only_key(config).family == "wireguard"
    peers = f"[Peer]\nPublicKey = {base64.b64encode(public).decode()}\n".encode()
    assert find_keys(peers).keys == []


def test_openvpn_static_key_and_placeholder() -> None:
    lines = "\n".join(os.urandom(16).hex() for _ in range(16))
    key = f"-----BEGIN OpenVPN Static key V1-----\n{lines}\n-----END OpenVPN Static key V1-----\n"
    assert _only_key(key.encode()).family == "openvpn"
    placeholder = (b"-----BEGIN OpenVPN Static key V1-----\n...\n"
                   b"-----END OpenVPN Static key V1-----\n")
    scan = find_keys(placeholder)
    assert scan.keys == [] and scan.unreadable == []


def test_windows_cryptoapi_blob_and_pvk(tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_bytes(_plain_pem())
    for options in (["-outform", "MSBLOB"], ["-outform", "PVK", "-pvk-none"]):
        out = tmp_path / "out.bin"
        _tool("openssl", "rsa", "-in", str(tmp_path / "key.pem"), *options, "-out", str(out))
        key = _only_key(out.read_bytes())
        assert (key.encrypted, key.key_size, key.family) == (False, 2048, "mscapi")
    out = tmp_path / "enc.pvk"
    result = subprocess.run(["openssl", "rsa", "-in", str(tmp_path / "key.pem"), "-outform",
                             "PVK", "-passout", f"pass:{PASS}", "-out", str(out), "-provider",
                             "legacy", "-provider", "default"], capture_output=True, check=False)
    if result.returncode != 0:
        pytest.skip("openssl has no legacy provider for RC4")
    assert _only_key(out.read_bytes()).encrypted
    public = tmp_path / "public.blob"
    _tool("openssl", "rsa", "-in", str(tmp_path / "key.pem"), "-pubout", "-outform", "MSBLOB",
          "-out", str(public))
    assert find_keys(public.read_bytes()).keys == []


def test_every_format_has_a_golden_test() -> None:
    """A new format is one registry entry, one module and one golden sample here."""
    tested = {"pem", "openssh", "ssh2", "putty", "openpgp", "gpg-agent", "der", "pkcs12", "jwk",
              "xml", "openssl-text", "age", "wireguard", "openvpn", "mscapi"}
    assert {key_format.name for key_format in FORMATS} == tested


# -- verdicts: the rules on these facts --------------------------------------------------------

def test_pbes2_3des_is_a_warning_des_is_an_error(run_json: RunJson, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "des3.key").write_bytes(_openssl_encrypted(tmp_path, "-v2", "des3"))
    (tmp_path / "pbes1.key").write_bytes(_openssl_encrypted(tmp_path, "-v1", "PBE-SHA1-3DES"))
    _, document = run_json("--group", "keys", "des3.key", "pbes1.key")
    weak = {f["path"]: f["severity"] for f in document["findings"]
            if f["rule"] == "key-weak-encryption"}
    assert weak == {"des3.key": "warning", "pbes1.key": "error"}
    (tmp_path / ".certwarden.toml").write_text('pbes2-3des-severity = "error"\n')
    code, document = run_json("--group", "keys", "des3.key")
    assert code == 1 and rules_of(document, "des3.key", severity="error") == {
        "key-weak-encryption"}


def test_openssl_req_keyout_writes_pbes2_3des(run_json: RunJson, tmp_path: Path) -> None:
    _tool("openssl", "req", "-newkey", "rsa:2048", "-keyout", "sensor1.key", "-out",
          "sensor1.csr", "-subj", "/CN=sensor1.plant.example.com", "-passout",
          f"pass:{PASS}", cwd=tmp_path)
    (tmp_path / ".git").mkdir()
    code, document = run_json("--group", "keys", "sensor1.key")
    assert code == 0
    assert rules_of(document, "sensor1.key", severity="warning") == {"key-weak-encryption"}


def test_scrypt_floor_is_configurable(run_json: RunJson, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "scrypt.key").write_bytes(_openssl_encrypted(tmp_path, "-scrypt", "-scrypt_N",
                                                             "8192"))
    code, document = run_json("--group", "keys", "scrypt.key")
    assert code == 1 and "key-weak-encryption" in rules_of(document, severity="error")
    (tmp_path / ".certwarden.toml").write_text("scrypt-min-n = 4096\n")
    code, document = run_json("--group", "keys", "scrypt.key")
    assert code == 0, document


def test_der_key_file_for_upload_gets_a_pem_finding(run_json: RunJson, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    encrypted = pki.rsa_key(2048, 21).private_bytes(
        E.DER, F.PKCS8, serialization.BestAvailableEncryption(PASS.encode()))
    (tmp_path / "sensor1.key").write_bytes(encrypted)
    (tmp_path / "sensor1.der").write_bytes(encrypted)
    code, document = run_json("--group", "keys", "sensor1.key", "sensor1.der")
    assert code == 0
    assert rules_of(document, "sensor1.key", severity="warning") == {"key-not-pem"}
    assert "key-not-pem" not in rules_of(document, "sensor1.der")


KeyMaker = Callable[[Path], bytes]


def _ssh_ed25519(tmp_path: Path) -> bytes:
    target = tmp_path / "deploy_ed25519"
    _tool("ssh-keygen", "-q", "-t", "ed25519", "-N", PASS, "-f", str(target))
    return target.read_bytes()


def test_key_type_policy_is_for_certificate_keys(run_json: RunJson, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "deploy_ed25519").write_bytes(_ssh_ed25519(tmp_path))
    (tmp_path / "ec.key").write_bytes(pki.ec_key(5).private_bytes(E.PEM, F.PKCS8, NO))
    _, document = run_json("--group", "keys", "deploy_ed25519", "ec.key")
    assert rules_of(document, "deploy_ed25519") == set()  # an SSH deploy key: encryption only
    assert rules_of(document, "ec.key") == {"key-unencrypted", "key-type"}  # certificate family
    (tmp_path / ".certwarden.toml").write_text('key-policy-paths = ["deploy_*"]\n')
    _, document = run_json("--group", "keys", "deploy_ed25519")
    assert rules_of(document, "deploy_ed25519") == {"key-type"}


def test_unencrypted_ed25519_is_blocked_whatever_its_type(run_json: RunJson,
                                                          tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    key = ed25519.Ed25519PrivateKey.generate().private_bytes(E.PEM, F.OpenSSH, NO)
    (tmp_path / "id_ed25519").write_bytes(key)
    code, document = run_json("--group", "keys", "id_ed25519")
    assert code == 1 and rules_of(document) == {"key-unencrypted"}


def test_placeholder_bodies_stay_allowed_and_a_long_unreadable_body_blocks(
        run_json: RunJson, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "docs.md").write_bytes(
        b"-----BEGIN PRIVATE KEY-----\n<your key goes here>\n-----END PRIVATE KEY-----\n"
        b"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI...\n-----END EC PRIVATE KEY-----\n")
    body = base64.encodebytes(os.urandom(600))
    (tmp_path / "broken.key").write_bytes(b"-----BEGIN PRIVATE KEY-----\n" + body
                                          + b"-----END PRIVATE KEY-----\n")
    code, document = run_json("--group", "keys", "docs.md", "broken.key")
    assert code == 1
    assert rules_of(document, "docs.md") == set()
    assert rules_of(document, "broken.key", severity="error") == {"key-unreadable"}


def test_ec_key_facts_are_read_from_keys_not_config() -> None:
    """Recognition never reads the configuration: find_keys takes bytes only."""
    import inspect

    parameters = inspect.signature(find_keys).parameters
    assert list(parameters) == ["data", "line_base", "scan", "config"]
    from certwarden.config import Config

    assert find_keys(_plain_pem(), config=Config()).keys[0].key_size == 2048  # ignored
    assert isinstance(pki.ec_key(3), ec.EllipticCurvePrivateKey)


def test_closed_keys_are_remembered_with_their_parameters(tmp_path: Path) -> None:
    """The empty-passphrase check runs once per encrypted key: its verdict is remembered
    by a digest of the encrypted bytes and every parameter, so changed parameters (or a
    changed file) are checked again."""
    from certwarden.recognition.keys import KeyScan
    from certwarden.recognition.work_caps import WorkBudget
    from tests.adversarial_keys import der_patch_integers

    closed: set[str] = set()
    encrypted = _openssl_encrypted(tmp_path, "-v2", "aes-256-cbc")
    first = find_keys(encrypted, scan=KeyScan(budget=WorkBudget(closed=closed))).keys[0]
    assert first.opens_with_empty_passphrase is False and len(closed) == 1
    spent = WorkBudget(0.0, closed=closed)  # no budget: only the memo can answer
    again = find_keys(encrypted, scan=KeyScan(budget=spent)).keys[0]
    assert again.opens_with_empty_passphrase is False and again.not_tried is None
    der = base64.b64decode(b"".join(encrypted.splitlines()[1:-1]))
    patched = base64.encodebytes(der_patch_integers(der, 2048, 4096))
    changed = b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + patched + \
        b"-----END ENCRYPTED PRIVATE KEY-----\n"
    other = find_keys(changed, scan=KeyScan(budget=WorkBudget(0.0, closed=closed))).keys[0]
    assert other.opens_with_empty_passphrase is None and other.not_tried


def test_the_memo_lives_under_the_git_directory(run_json: RunJson, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "sensor1.key").write_bytes(_openssl_encrypted(tmp_path, "-v2", "aes-256-cbc"))
    run_json("--group", "keys", "sensor1.key")
    memo = tmp_path / ".git" / "certwarden" / "empty-passphrase-v1.txt"
    assert len(memo.read_text().split()) == 1
    code, document = run_json("--group", "keys", "sensor1.key")
    assert code == 0 and rules_of(document, severity="error") == set()
    assert len(memo.read_text().split()) == 1


def test_begin_lines_mentioned_in_prose_are_not_keys() -> None:
    """A BEGIN line with no END line is a truncated key only when key lines follow it; a
    table or a sentence naming the line is documentation (this README has both)."""
    prose = (b"| SSH2 | `---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----` | cipher is not `none` |\n"
             b"| OpenVPN | `-----BEGIN OpenVPN Static key V1-----` (also inline) | never |\n"
             + b"| more rows | with Words, NUMBERS 1234 and OpenSSL, PKCS#8 |\n" * 40)
    scan = find_keys(prose)
    assert scan.keys == [] and scan.unreadable == []
    truncated = b"-----BEGIN PRIVATE KEY-----\n" + b"".join(
        _plain_pem().splitlines(keepends=True)[1:12])
    reasons = [u.reason for u in find_keys(truncated).unreadable]
    assert len(reasons) == 1 and reasons[0].startswith(
        "BEGIN PRIVATE KEY without an END line (a truncated key?)"), reasons
    assert "bytes of its private part" in reasons[0]  # 11 lines reach past the modulus
