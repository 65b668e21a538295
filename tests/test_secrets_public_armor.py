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
    elif how == "private key label":
        lines[0], lines[-1] = "-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----"
    elif how == "other end label":
        lines[-1] = "-----END PUBLIC KEY-----"
    elif how == "no end":
        lines.pop()
    elif how == "not one DER element":
        lines.insert(1, "MAA=")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("how", ["text on a body line", "header", "private key label",
                                 "other end label", "no end", "not one DER element"])
def test_only_a_clean_public_block_is_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str],
                                               certificate: str, how: str) -> None:
    """Anything else on a body line, headers, a private key's label, an END of another
    label, a missing END or a body that is not one DER element: detect-secrets' findings
    stay (a private key block is for the key rules to judge, from what it holds)."""
    (tmp_path / "cert.pem").write_text(_tampered(certificate, how))
    monkeypatch.chdir(tmp_path)
    theirs = _detect_secrets_scan(tmp_path, ["cert.pem"])
    assert theirs
    assert _ours(capsys, ["cert.pem"]) == theirs
