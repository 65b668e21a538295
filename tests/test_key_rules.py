"""Key rules beyond the corpus: type, size, passphrases, pairing with certificates."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from certwarden.cli import main
from tests import pki
from tests.conftest import RunJson, rules_of

E, F = serialization.Encoding, serialization.PrivateFormat
PASSPHRASE = "Sensor-1.pass_word"


def _encrypted(bits: int = 2048, slot: int = 0, passphrase: str = PASSPHRASE) -> bytes:
    return pki.rsa_key(bits, slot).private_bytes(
        E.PEM, F.PKCS8, serialization.BestAvailableEncryption(passphrase.encode()))


def _plain(bits: int = 2048, slot: int = 0) -> bytes:
    return pki.rsa_key(bits, slot).private_bytes(E.PEM, F.TraditionalOpenSSL,
                                                 serialization.NoEncryption())


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    return tmp_path


def _configure(repo: Path, text: str) -> None:
    (repo / ".certwarden.toml").write_text(text)


KEY_SIZE_CASES = [
    ("rsa-1024", 1024, {"key-unencrypted", "key-size"}),
    ("rsa-3072", 3072, {"key-unencrypted", "key-size"}),
    ("rsa-2048", 2048, {"key-unencrypted"}),
    ("rsa-4096", 4096, {"key-unencrypted"}),
]


@pytest.mark.parametrize(("name", "bits", "expected"), KEY_SIZE_CASES,
                         ids=[c[0] for c in KEY_SIZE_CASES])
def test_unencrypted_key_size(run_json: RunJson, repo: Path, name: str, bits: int,
                              expected: set[str]) -> None:
    (repo / f"{name}.key").write_bytes(_plain(bits))
    code, document = run_json(f"{name}.key")
    assert code == 1
    assert rules_of(document) == expected


def test_key_type_ec_is_refused(run_json: RunJson, repo: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "ec.key").write_bytes(pki.ec_key().private_bytes(
        E.PEM, F.PKCS8, serialization.BestAvailableEncryption(b"abcd-1234")))
    code, document = run_json("ec.key")
    assert code == 0  # encrypted EC: type is unknown until opened
    _configure(repo, '[passphrases]\n"*.key" = "EC_PASS"\n')
    monkeypatch.setenv("EC_PASS", "abcd-1234")
    code, document = run_json("ec.key")
    assert code == 1
    assert rules_of(document) == {"key-type"}


def test_encrypted_key_size_unverified_is_a_note(run_json: RunJson, repo: Path) -> None:
    (repo / "lonely.key").write_bytes(_encrypted())
    code, document = run_json("lonely.key")
    assert code == 0
    assert [(f["rule"], f["severity"]) for f in document["findings"]] == [("key-size", "info")]


def test_encrypted_key_size_learned_from_its_certificate(run_json: RunJson, repo: Path) -> None:
    (repo / "sensor1.key").write_bytes(_encrypted(1024, 3))
    (repo / "sensor1.crt").write_bytes(pki.pem(pki.certificate(pki.Spec(key_bits=1024,
                                                                          key_slot=3))))
    code, document = run_json("--group", "keys", "sensor1.key")
    assert code == 1
    sizes = [f for f in document["findings"] if f["rule"] == "key-size"]
    assert sizes and sizes[0]["severity"] == "error" and "sensor1.crt" in sizes[0]["message"]


def test_passphrase_opens_key_and_learns_size(run_json: RunJson, repo: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "pki").mkdir()
    (repo / "pki" / "sensor1.key").write_bytes(_encrypted(1024, 4))
    _configure(repo, '[passphrases]\n"pki/sensor*.key" = "SENSOR_PASS"\n')
    monkeypatch.setenv("SENSOR_PASS", PASSPHRASE)
    code, document = run_json("pki/sensor1.key")
    assert code == 1
    assert rules_of(document) == {"key-size"}
    assert PASSPHRASE not in str(document)


def test_wrong_passphrase(run_json: RunJson, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "a.key").write_bytes(_encrypted())
    _configure(repo, '[passphrases]\n"*.key" = "A_PASS"\n')
    monkeypatch.setenv("A_PASS", "not-the-passphrase")
    code, document = run_json("a.key")
    assert code == 1
    assert "passphrase-wrong" in rules_of(document)
    assert "not-the-passphrase" not in str(document)


def test_passphrase_charset(run_json: RunJson, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = "bad pass$word"
    (repo / "a.key").write_bytes(_encrypted(passphrase=bad))
    _configure(repo, '[passphrases]\n"*.key" = "A_PASS"\n')
    monkeypatch.setenv("A_PASS", bad)
    code, document = run_json("a.key")
    assert code == 1
    assert rules_of(document) == {"passphrase-charset"}
    assert bad not in str(document) and "pass$" not in str(document)


def test_passphrase_committed_in_a_file_and_as_a_file(run_json: RunJson, repo: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _configure(repo, '[passphrases]\n"*.key" = "A_PASS"\n')
    monkeypatch.setenv("A_PASS", PASSPHRASE)
    (repo / "deploy.sh").write_text(f"openssl rsa -passin pass:{PASSPHRASE} -in a.key\n")
    (repo / "a.key").write_bytes(_encrypted())
    (repo / "a.pass").write_text("something\n")
    (repo / "docs").mkdir()
    (repo / "docs" / "b.pass").write_text("no key beside me\n")
    (repo / "README.md").write_text("nothing secret\n")
    code, document = run_json("deploy.sh", "a.pass", "docs/b.pass", "README.md")
    assert code == 1
    committed = {(f["path"], f["line"]) for f in document["findings"]
                 if f["rule"] == "passphrase-committed"}
    assert committed == {("deploy.sh", 1), ("a.pass", None)}
    assert PASSPHRASE not in str(document)


def test_key_certificate_mismatch_same_stem_both_sides(run_json: RunJson, repo: Path) -> None:
    (repo / "sensor1.key").write_bytes(_plain(2048, 5))
    (repo / "sensor1.crt").write_bytes(pki.pem(pki.certificate(pki.Spec(key_slot=6))))
    code, document = run_json("--group", "keys", "sensor1.crt")
    assert code == 1
    assert rules_of(document, "sensor1.crt") == {"cert-key-mismatch"}
    code, document = run_json("--group", "keys", "sensor1.key")
    assert "cert-key-mismatch" in rules_of(document, "sensor1.key")


def test_matching_pair_and_bundle(run_json: RunJson, repo: Path) -> None:
    cert = pki.certificate(pki.Spec(key_slot=5))
    (repo / "good.key").write_bytes(_encrypted(2048, 5))
    (repo / "good.crt").write_bytes(pki.pem(cert))
    code, document = run_json("--group", "keys", "good.key", "good.crt")
    assert code == 0 and document["findings"] == []
    other = pki.certificate(pki.Spec(key_slot=6))
    (repo / "bundle.pem").write_bytes(pki.pem(other) + _plain(2048, 5))
    code, document = run_json("--group", "keys", "bundle.pem")
    assert rules_of(document) == {"key-unencrypted", "cert-key-mismatch"}


def test_pkcs12_key_certificate_mismatch_is_not_possible_and_key_found(
        run_json: RunJson, repo: Path) -> None:
    from cryptography.hazmat.primitives.serialization import pkcs12

    data = pkcs12.serialize_key_and_certificates(
        b"s", pki.rsa_key(), pki.certificate(), None, serialization.NoEncryption())
    (repo / "bundle.bin").write_bytes(data)
    code, document = run_json("--group", "keys", "bundle.bin")
    assert code == 1
    assert rules_of(document) == {"key-unencrypted"}


def test_findings_carry_public_key_fingerprint_and_hints(run_json: RunJson, repo: Path) -> None:
    import hashlib

    (repo / "a.key").write_bytes(_plain())
    _, document = run_json("a.key")
    finding = next(f for f in document["findings"] if f["rule"] == "key-unencrypted")
    spki = pki.rsa_key().public_key().public_bytes(
        E.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert finding["fingerprint"] == hashlib.sha256(spki).hexdigest()
    assert "openssl pkcs8 -topk8 -v2 aes-256-cbc" in finding["hint"]
    assert "rotated" in finding["hint"]


def test_same_verdict_whatever_the_batches(run_json: RunJson, repo: Path) -> None:
    (repo / "s.key").write_bytes(_plain(2048, 5))
    (repo / "s.crt").write_bytes(pki.pem(pki.certificate(pki.Spec(key_slot=6))))
    _, together = run_json("s.key", "s.crt")
    _, first = run_json("s.key")
    _, second = run_json("s.crt")
    assert together["findings"] == sorted(first["findings"] + second["findings"],
                                          key=lambda f: (f["path"], f["line"] or 0, f["rule"]))
    assert {f["rule"] for f in together["findings"]} >= {"cert-key-mismatch", "key-unencrypted"}


def test_check_passphrase_command(monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("bad pass$word\n"))
    assert main(["check-passphrase", "--stdin"]) == 1
    out = capsys.readouterr()
    assert "bad pass$word" not in out.out + out.err and "allowed" in out.out
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSPHRASE + "\n"))
    assert main(["check-passphrase", "--stdin"]) == 0


HOSTILE = [
    ("truncated.key", None),
    ("nul.bin", b"\0" * 100_000),
    ("der-absurd.der", b"\x30\x84\xff\xff\xff\xff\x02\x01\x00" + b"\x00" * 64),
    ("garbage-armor.pem", b"-----BEGIN PRIVATE KEY-----\n" + b"QUJD" * 100
     + b"\n-----END PRIVATE KEY-----\n"),
    ("many-blocks.pem", b"-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n" * 2000),
    ("odd name -x.key", b"hello"),
]


@pytest.mark.parametrize(("name", "data"), HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_files_never_crash_and_others_are_checked(run_json: RunJson, repo: Path,
                                                          name: str, data: bytes | None) -> None:
    if data is None:
        data = _plain()[:700]
    (repo / name).write_bytes(data)
    (repo / "z.key").write_bytes(_plain())
    code, document = run_json("--group", "keys", name, "z.key")
    assert code == 1
    assert "key-unencrypted" in rules_of(document, "z.key")
    assert "key-unencrypted" not in rules_of(document, name)


@pytest.mark.parametrize("version", [2, 3])
def test_putty_passphrase_is_checked(run_json: RunJson, repo: Path,
                                     monkeypatch: pytest.MonkeyPatch, version: int) -> None:
    from tests import keycorpus

    (repo / "lab.ppk").write_bytes(keycorpus._putty(version, True))
    _configure(repo, '[passphrases]\n"*.ppk" = "PPK_PASS"\n')
    monkeypatch.setenv("PPK_PASS", keycorpus.PASS.decode())
    _, document = run_json("--group", "keys", "lab.ppk")
    assert "passphrase-wrong" not in rules_of(document)
    monkeypatch.setenv("PPK_PASS", "Not-the-passphrase-1")
    code, document = run_json("--group", "keys", "lab.ppk")
    assert code == 1
    assert "passphrase-wrong" in rules_of(document)


def test_unset_passphrase_variable_is_said_and_strict_blocks(
        run_json: RunJson, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CI without the secret: the skipped passphrase checks are a visible warning."""
    (repo / "sensor1.key").write_bytes(_encrypted())
    (repo / "sensor1.crt").write_bytes(pki.pem(pki.certificate()))
    _configure(repo, '[passphrases]\n"*.key" = "SENSOR_KEY_PASSPHRASE"\n')
    monkeypatch.delenv("SENSOR_KEY_PASSPHRASE", raising=False)
    code, document = run_json("--group", "keys", "--", "sensor1.key")
    assert code == 0
    [note] = [f for f in document["findings"] if f["rule"] == "passphrase-unset"]
    assert note["severity"] == "warning"
    assert note["message"].startswith("passphrase checks skipped: SENSOR_KEY_PASSPHRASE is "
                                      "not set")
    code, _ = run_json("--strict", "--group", "keys", "--", "sensor1.key")
    assert code == 1
    monkeypatch.setenv("SENSOR_KEY_PASSPHRASE", PASSPHRASE)
    code, document = run_json("--strict", "--group", "keys", "--", "sensor1.key")
    assert code == 0 and rules_of(document) == set()
