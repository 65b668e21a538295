"""Every certificate rule has a passing and a failing case, PEM and DER."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from cryptography.x509.oid import NameOID

from certwarden.cli import main
from tests import pki
from tests.conftest import RunJson, rules_of
from tests.tools import needs

DAY = datetime.timedelta(days=1)


def _judged_when_valid(*paths: Path) -> str:
    """A moment inside the validity of certificates the openssl CLI minted from the real
    clock: a day after the latest notBefore (they are valid for years)."""
    from cryptography import x509

    start = max(x509.load_pem_x509_certificate(path.read_bytes()).not_valid_before_utc
                for path in paths)
    return (start + DAY).isoformat()

# (case id, certificate spec, rules that must be reported as errors)
FAILING = [
    ("sha384", pki.Spec(hash_name="sha384"), {"cert-signature-algorithm"}),
    ("sha512", pki.Spec(hash_name="sha512"), {"cert-signature-algorithm"}),
    ("rsa-pss", pki.Spec(pss=True), {"cert-signature-algorithm"}),
    ("ecdsa", pki.Spec(key_kind="ec"), {"cert-signature-algorithm", "cert-key-type"}),
    ("ed25519", pki.Spec(key_kind="ed25519"), {"cert-signature-algorithm", "cert-key-type"}),
    ("not-yet-valid", pki.Spec(not_before=pki.NOW + DAY), {"cert-not-yet-valid"}),
    ("expired", pki.Spec(not_before=pki.NOW - 400 * DAY, not_after=pki.NOW - DAY),
     {"cert-expired"}),
    ("rsa-1024", pki.Spec(key_bits=1024), {"cert-key-size"}),
    ("rsa-3072", pki.Spec(key_bits=3072), {"cert-key-size"}),
    ("no-crl", pki.Spec(crl_urls=None), {"cert-crl-distribution-point"}),
    ("https-crl", pki.Spec(crl_urls=["https://crl.example.com/a.crl"]),
     {"cert-crl-distribution-point"}),
    ("ldap-crl", pki.Spec(crl_urls=["ldap://crl.example.com/cn=x"]),
     {"cert-crl-distribution-point"}),
    ("no-cn", pki.Spec(cn=None), {"cert-subject-cn"}),
    ("ip-cn", pki.Spec(cn="192.0.2.10"), {"cert-subject-cn"}),
    ("ipv6-cn", pki.Spec(cn="2001:db8::1"), {"cert-subject-cn"}),
    ("not-dns-cn", pki.Spec(cn="Sensor One"), {"cert-subject-cn"}),
    ("single-label-cn", pki.Spec(cn="sensor1"), {"cert-subject-cn"}),
    ("two-cns", pki.Spec(extra_subject=[(NameOID.COMMON_NAME, "sensor2.plant.example.com")]),
     {"cert-subject-cn"}),
    ("no-country", pki.Spec(country=None), {"cert-subject-country"}),
    ("bad-country", pki.Spec(country="XX"), {"cert-subject-country"}),
    ("long-country", pki.Spec(country="USA"), {"cert-subject-country"}),
    ("lower-country", pki.Spec(country="us"), {"cert-subject-country"}),
    ("no-ou", pki.Spec(org_unit=None), {"cert-subject-org-unit"}),
    ("no-o", pki.Spec(org=None), {"cert-subject-org"}),
    ("wildcard-cn", pki.Spec(cn="*.plant.example.com"), {"cert-wildcard"}),
    ("wildcard-san", pki.Spec(san_dns=["sensor1.plant.example.com", "*.plant.example.com"]),
     {"cert-wildcard"}),
]

PASSING = [
    ("default", pki.Spec()),
    ("rsa-4096", pki.Spec(key_bits=4096)),
    ("san", pki.Spec(san_dns=["sensor1.plant.example.com"])),
    ("trailing-dot-cn", pki.Spec(cn="sensor1.plant.example.com.")),
    ("expires-in-60-days", pki.Spec(not_after=pki.NOW + 60 * DAY)),
]


@pytest.mark.parametrize("encoding", ["pem", "der"])
@pytest.mark.parametrize(("case", "spec", "expected"), FAILING, ids=[c[0] for c in FAILING])
def test_failing_certificate_is_blocked_with_its_rule(
        run_json: RunJson, tmp_path: Path, case: str, spec: pki.Spec, expected: set[str],
        encoding: str) -> None:
    cert = pki.certificate(spec)
    path = tmp_path / f"{case}.{'crt' if encoding == 'pem' else 'der'}"
    path.write_bytes(pki.pem(cert) if encoding == "pem" else pki.der(cert))
    code, document = run_json(path.name)
    assert code == 1
    assert expected <= rules_of(document, path.name, severity="error")
    assert document["files_checked"] == 1


@pytest.mark.parametrize(("case", "spec"), PASSING, ids=[c[0] for c in PASSING])
@pytest.mark.parametrize("extension", [".crt", ".pem", ".cer", ".der"])
def test_compliant_certificate_passes(run_json: RunJson, tmp_path: Path, case: str,
                                      spec: pki.Spec, extension: str) -> None:
    cert = pki.certificate(spec)
    data = pki.der(cert) if extension in (".cer", ".der") else pki.pem(cert)
    (tmp_path / f"{case}{extension}").write_bytes(data)
    code, document = run_json(f"{case}{extension}")
    assert code == 0, document
    assert rules_of(document, severity="error") == set()


@needs("openssl")
def test_sha1_certificate_made_by_openssl_is_blocked(run_json: RunJson, tmp_path: Path) -> None:
    (tmp_path / "legacy.crt").write_bytes(pki.openssl_sha1_certificate(tmp_path))
    code, document = run_json("legacy.crt", now=_judged_when_valid(tmp_path / "legacy.crt"))
    assert code == 1
    assert "cert-signature-algorithm" in rules_of(document, "legacy.crt")


def test_4096_bits_is_a_note_not_a_block(run_json: RunJson, tmp_path: Path) -> None:
    (tmp_path / "big.crt").write_bytes(pki.pem(pki.certificate(pki.Spec(key_bits=4096))))
    code, document = run_json("big.crt")
    assert code == 0
    assert rules_of(document, "big.crt") == {"cert-key-size-slow"}
    assert rules_of(document, severity="info") == {"cert-key-size-slow"}


def test_expiring_soon_warns_and_blocks_only_with_strict(run_json: RunJson,
                                                         tmp_path: Path) -> None:
    (tmp_path / "soon.crt").write_bytes(
        pki.pem(pki.certificate(pki.Spec(not_after=pki.NOW + 10 * DAY))))
    code, document = run_json("soon.crt")
    assert code == 0
    assert rules_of(document, "soon.crt", severity="warning") == {"cert-expiring-soon"}
    code, _ = run_json("--strict", "soon.crt")
    assert code == 1


def test_now_option_drives_validity(run_json: RunJson, tmp_path: Path) -> None:
    (tmp_path / "a.crt").write_bytes(pki.pem(pki.certificate()))
    assert run_json("a.crt", now="2026-06-01")[0] == 0
    code, document = run_json("a.crt", now="2030-01-01T00:00:00+02:00")
    assert code == 1
    assert "cert-expired" in rules_of(document)


def test_csr_is_held_to_subject_key_and_signature_rules(run_json: RunJson,
                                                        tmp_path: Path) -> None:
    (tmp_path / "good.csr").write_bytes(pki.pem(pki.csr()))
    (tmp_path / "bad.csr").write_bytes(pki.pem(pki.csr(pki.Spec(
        cn="*.plant.example.com", org=None, key_bits=1024, hash_name="sha384"))))
    code, document = run_json("good.csr", "bad.csr")
    assert code == 1
    assert rules_of(document, "good.csr") == set()
    assert rules_of(document, "bad.csr") == {"cert-wildcard", "cert-subject-org",
                                             "cert-key-size", "cert-signature-algorithm"}


def test_chain_file_ca_certificates_are_exempt_from_subject_and_crl_rules(
        run_json: RunJson, tmp_path: Path) -> None:
    root_spec = pki.Spec(cn="Example Root CA", org_unit=None, ca=True, crl_urls=None,
                         key_slot=1)
    root = pki.certificate(root_spec)
    leaf = pki.certificate(pki.Spec(), issuer=(root, pki.rsa_key(2048, 1)))
    (tmp_path / "fullchain.pem").write_bytes(pki.pem(leaf) + pki.pem(root))
    code, document = run_json("fullchain.pem")
    assert code == 0, document
    # A leaf in the same bundle is still judged on its own.
    bad_leaf = pki.certificate(pki.Spec(country=None), issuer=(root, pki.rsa_key(2048, 1)))
    (tmp_path / "badchain.pem").write_bytes(pki.pem(root) + pki.pem(bad_leaf))
    code, document = run_json("badchain.pem")
    assert code == 1
    lines = {f["line"] for f in document["findings"] if f["rule"] == "cert-subject-country"}
    assert lines == {len(pki.pem(root).splitlines()) + 1}


def test_bundle_is_judged_certificate_by_certificate(run_json: RunJson, tmp_path: Path) -> None:
    good = pki.certificate()
    expired = pki.certificate(pki.Spec(not_after=pki.NOW - DAY, not_before=pki.NOW - 9 * DAY))
    (tmp_path / "bundle.pem").write_bytes(pki.pem(good) + b"\n" + pki.pem(expired))
    code, document = run_json("bundle.pem")
    assert code == 1
    assert [f["line"] for f in document["findings"] if f["rule"] == "cert-expired"] == [
        len(pki.pem(good).splitlines()) + 2]


def test_pkcs7_bundle(run_json: RunJson, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

    good, wild = pki.certificate(), pki.certificate(pki.Spec(cn="*.x.example.com"))
    (tmp_path / "chain.p7b").write_bytes(pkcs7.serialize_certificates([good, wild], Encoding.DER))
    code, document = run_json("chain.p7b")
    assert code == 1
    assert rules_of(document) == {"cert-wildcard"}


def test_locked_pkcs12_without_passphrase_is_an_unverified_warning(
        run_json: RunJson, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    cert = pki.certificate(pki.Spec(crl_urls=None))
    data = pkcs12.serialize_key_and_certificates(
        b"sensor1", pki.rsa_key(), cert, None, BestAvailableEncryption(b"bundle-pass"))
    (tmp_path / "locked.pfx").write_bytes(data)
    code, document = run_json("--group", "certificates", "locked.pfx")
    assert code == 0
    assert [(f["rule"], f["severity"]) for f in document["findings"]] == [
        ("cert-unreadable", "warning")]
    [message] = [f["message"] for f in document["findings"]]
    assert "not verified against the certificate policy, nor for uniqueness" in message
    assert "[tool.certwarden.passphrases]" in message
    assert run_json("--group", "certificates", "--strict", "locked.pfx")[0] == 1


def test_pkcs12_with_configured_passphrase_is_checked(run_json: RunJson, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    cert = pki.certificate(pki.Spec(crl_urls=None))
    data = pkcs12.serialize_key_and_certificates(
        b"sensor1", pki.rsa_key(), cert, None, BestAvailableEncryption(b"bundle-pass"))
    (tmp_path / "locked.pfx").write_bytes(data)
    (tmp_path / ".certwarden.toml").write_text('[passphrases]\n"*.pfx" = "PFX_PASS"\n')
    monkeypatch.setenv("PFX_PASS", "bundle-pass")
    code, document = run_json("--group", "certificates", "locked.pfx")
    assert code == 1
    assert rules_of(document) == {"cert-crl-distribution-point"}
    assert "bundle-pass" not in str(document)


UNREADABLE = [
    ("empty.crt", b""),
    ("blank.pem", b"\n\n  \n"),
    ("garbage.der", bytes(range(256)) * 4),
    ("garbage.crt", b"this is not a certificate\n"),
    ("truncated.crt", None),
    ("bad-base64.pem", b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"),
    ("not-a-cert.pem", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
    ("public-key-only.pem", b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
    ("der-prefix.cer", b"\x30\x82\x05\x00" + b"\x00" * 64),
    ("nul.crt", b"\x00" * 1000),
]


@pytest.mark.parametrize(("name", "data"), UNREADABLE, ids=[c[0] for c in UNREADABLE])
def test_bad_input_is_cert_unreadable_and_other_files_still_checked(
        run_json: RunJson, tmp_path: Path, name: str, data: bytes | None) -> None:
    if data is None:
        data = pki.pem(pki.certificate())[:500]
    (tmp_path / name).write_bytes(data)
    (tmp_path / "z-expired.crt").write_bytes(pki.pem(pki.certificate(
        pki.Spec(not_before=pki.NOW - 9 * DAY, not_after=pki.NOW - DAY))))
    code, document = run_json(name, "z-expired.crt")
    assert code == 1
    assert rules_of(document, name) == {"cert-unreadable"}
    assert rules_of(document, "z-expired.crt") == {"cert-expired"}
    assert document["files_checked"] == 2


def test_file_holding_only_a_private_key_is_not_a_certificate_problem(
        run_json: RunJson, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    key = pki.rsa_key().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"test-only-pass"))
    (tmp_path / "sensor1.pem").write_bytes(key)
    code, document = run_json("--group", "certificates", "sensor1.pem")
    assert code == 0
    assert document["findings"] == []


def test_missing_file_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "there.crt").write_bytes(pki.pem(pki.certificate()))
    for name in ("vanished.crt", "vanished.txt"):  # whatever the extension: exit 2
        assert main(["check", "--group", "certificates", "--", "there.crt", name]) == 2
        assert f"no such file: {name}" in capsys.readouterr().err


def test_certificate_in_any_file_name_is_checked(run_json: RunJson, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_bytes(b"our cert:\n" + pki.pem(pki.certificate(
        pki.Spec(cn="*.plant.example.com"))))
    (tmp_path / "README.md").write_bytes(b"# nothing here\n")
    code, document = run_json("--group", "certificates", "notes.txt", "README.md")
    assert code == 1
    assert rules_of(document, "notes.txt") == {"cert-wildcard"}
    assert document["files_checked"] == 2


@needs("openssl")
def test_openssl_self_signed_ca_true_certificate_is_still_an_appliance_certificate(
        run_json: RunJson, tmp_path: Path) -> None:
    """`openssl req -x509` adds basicConstraints CA:TRUE; alone in its file it is judged."""
    import subprocess

    for name, subject in (("good.crt", "/C=US/O=Example Corp/OU=Plant Engineering/"
                                       "CN=sensor1.plant.example.com"),
                          ("no-ou.crt", "/C=US/O=Example Corp/CN=sensor2.plant.example.com")):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        str(tmp_path / f"{name}.tmpkey"), "-sha256", "-days", "3650", "-subj",
                        subject, "-addext", f"crlDistributionPoints=URI:{pki.CRL_URL}",
                        "-out", str(tmp_path / name)], check=True, capture_output=True)
        (tmp_path / f"{name}.tmpkey").unlink()
    code, document = run_json("--group", "certificates", "good.crt", "no-ou.crt",
                              now=_judged_when_valid(tmp_path / "good.crt",
                                                     tmp_path / "no-ou.crt"))
    assert code == 1
    assert rules_of(document, "good.crt") == set()
    assert rules_of(document, "no-ou.crt") == {"cert-subject-org-unit"}


@needs("openssl")
def test_lone_ca_certificate_with_key_cert_sign_is_exempt(run_json: RunJson,
                                                          tmp_path: Path) -> None:
    import subprocess

    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(tmp_path / "ca.tmpkey"), "-sha256", "-days", "3650", "-subj",
                    "/O=Example Corp/CN=Example Root CA", "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign", "-out", str(tmp_path / "ca.crt")],
                   check=True, capture_output=True)
    (tmp_path / "ca.tmpkey").unlink()
    code, document = run_json("--group", "certificates", "ca.crt",
                              now=_judged_when_valid(tmp_path / "ca.crt"))
    assert code == 0, document
