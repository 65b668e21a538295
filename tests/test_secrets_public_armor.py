"""Certificates are public material: the secret rule leaves out what detect-secrets finds in
their armored bodies (a deliberate difference from `detect-secrets scan`, README "Generic
secrets"), and nothing else."""

from __future__ import annotations

import base64
import datetime
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from certwarden.cli import main
from tests import pki
from tests.test_secrets import _detect_secrets_scan, _ours

# What ArtifactoryDetector reports at a line start: "AP", a hex digit, 8+ letters or digits.
ARTIFACTORY_LINE = "AP1" + ("Zq8Lm3Pp0aa1" * 6)[:61]


def _certificate_with_body_line(line: str) -> str:
    """A real certificate (signed, parseable) whose PEM body has `line` as one of its
    64-character lines: the 48 bytes it encodes sit in an extension, moved along until
    they start on a line boundary (every 48 bytes of DER)."""
    payload = base64.b64decode(line)
    key = pki.rsa_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sensor1.plant.example.com")])
    for pad in range(48):
        certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1000 + pad)
            .not_valid_before(pki.NOW - datetime.timedelta(days=1))
            .not_valid_after(pki.NOW + datetime.timedelta(days=365))
            .add_extension(x509.UnrecognizedExtension(
                x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"),
                bytes([0x04, pad + len(payload)]) + b"\0" * pad + payload), critical=False)
            .sign(key, hashes.SHA256()))
        if certificate.public_bytes(serialization.Encoding.DER).find(payload) % 48 == 0:
            pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
            assert line in pem.splitlines()
            return pem
    raise AssertionError("no padding puts the payload on a line boundary")


@pytest.fixture(scope="module")
def certificate() -> str:
    return _certificate_with_body_line(ARTIFACTORY_LINE)


def _forms(pem: str) -> dict[str, str]:
    """The certificate as it is committed: a .pem file, indented in YAML, quoted line by
    line in source code and in a JSON array."""
    lines = pem.splitlines()
    return {
        "cert.pem": pem,
        "values.yaml": "tls:\n  cert: |\n" + "".join(f"    {line}\n" for line in lines)
                       + "  name: sensor1\n",
        "cert.py": "CERT = (\n" + "".join(f'    "{line}\\n"\n' for line in lines) + ")\n",
        "chain.json": json.dumps({"chain": lines}, indent=2) + "\n",
    }


def test_certificate_bodies_are_not_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str],
                                            certificate: str) -> None:
    forms = _forms(certificate)
    for name, text in forms.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    theirs = _detect_secrets_scan(tmp_path, list(forms))
    # detect-secrets flags the body: the Artifactory-looking line, and quoted base64 lines
    # as high-entropy strings.
    assert {name for name, _, _ in theirs} == set(forms)
    assert ("cert.pem", certificate.splitlines().index(ARTIFACTORY_LINE) + 1,
            "Artifactory Credentials") in theirs
    assert {kind for _, _, kind in theirs} >= {"Artifactory Credentials",
                                               "Base64 High Entropy String"}
    assert _ours(capsys, list(forms)) == set()
    assert main(["check", "--group", "secrets", *forms]) == 0


def test_the_same_string_outside_a_certificate_is_reported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        certificate: str) -> None:
    (tmp_path / "notes.txt").write_text(f"build token\n{ARTIFACTORY_LINE}\n")
    (tmp_path / "both.pem").write_text(f"{certificate}{ARTIFACTORY_LINE}\n")
    monkeypatch.chdir(tmp_path)
    ours = _ours(capsys, ["notes.txt", "both.pem"])
    assert ("notes.txt", 2, "Artifactory Credentials") in ours
    outside = len(certificate.splitlines()) + 1
    assert ("both.pem", outside, "Artifactory Credentials") in ours


def _tampered(pem: str, how: str) -> str:
    lines = pem.splitlines()
    at = lines.index(ARTIFACTORY_LINE)
    if how == "text on a body line":
        lines[at - 1] += "  # deploy: AP1 token below"
    elif how == "header":
        lines.insert(1, "Proc-Type: 4,ENCRYPTED")
    elif how == "other end label":
        lines[-1] = "-----END PUBLIC KEY-----"
    elif how == "no end":
        lines.pop()
    elif how == "not one DER element":
        lines.insert(1, "MAA=")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("how", ["text on a body line", "header", "other end label", "no end",
                                 "not one DER element"])
def test_only_a_clean_public_block_is_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str],
                                               certificate: str, how: str) -> None:
    """Anything else on a body line, headers, an END of another label, a missing END or a
    body that is not one DER element: detect-secrets' findings stay."""
    (tmp_path / "cert.pem").write_text(_tampered(certificate, how))
    monkeypatch.chdir(tmp_path)
    theirs = _detect_secrets_scan(tmp_path, ["cert.pem"])
    assert theirs
    assert _ours(capsys, ["cert.pem"]) == theirs


def _encrypted_key_with_body_line(line: str, legacy: bool) -> str:
    """An encrypted key (PKCS#8 or legacy PEM with DEK-Info) whose ciphertext has `line` as
    one of its body lines, as random ciphertext now and then does."""
    key = pki.rsa_key()
    if legacy:
        # cryptography writes legacy encryption for TraditionalOpenSSL with a password.
        pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.BestAvailableEncryption(b"correct horse"))
    else:
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(b"correct horse"))
    lines = pem.decode().splitlines()
    lines[-3] = line  # well inside the ciphertext: the DER structure is unchanged
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("legacy", [False, True])
def test_encrypted_key_ciphertext_is_not_a_secret(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str],
                                                  legacy: bool) -> None:
    text = _encrypted_key_with_body_line(ARTIFACTORY_LINE, legacy)
    (tmp_path / "sensor1.key").write_text(text)
    (tmp_path / "values.yaml").write_text(
        "tls:\n  key: |\n" + "".join(f"    {line}\n" for line in text.splitlines()))
    monkeypatch.chdir(tmp_path)
    names = ["sensor1.key", "values.yaml"]
    assert ("sensor1.key", text.splitlines().index(ARTIFACTORY_LINE) + 1,
            "Artifactory Credentials") in _detect_secrets_scan(tmp_path, names)
    assert _ours(capsys, names) == set()
    # Every group: the key is encrypted, the commit passes.
    assert main(["check", *names]) == 0


def test_a_private_key_label_is_still_judged_by_the_key_rules(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        certificate: str) -> None:
    """Leaving a private block's body to the key rules never lets it through: a block
    labelled as a private key that is not proven encrypted blocks there."""
    lines = certificate.splitlines()
    lines[0], lines[-1] = "-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----"
    (tmp_path / "sensor1.key").write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(tmp_path)
    assert _ours(capsys, ["sensor1.key"]) == set()
    capsys.readouterr()
    assert main(["check", "--format", "json", "sensor1.key"]) == 1
    rules = {f["rule"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert rules & {"key-unreadable", "key-unencrypted"}
