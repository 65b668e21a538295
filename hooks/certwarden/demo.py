"""`certwarden demo`: generate an example repository in a temporary folder and check it.

Nothing here touches the user's repository; the example keys live only in that folder.
"""

from __future__ import annotations

import datetime
import os
import sys
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from certwarden.findings import Rule
from certwarden.rules import certificate_rules, key_rules

# file -> the rule the demo expects certwarden to report for it (None: compliant)
EXPECTED: dict[str, Rule | None] = {
    "pki/sensor1.crt": None,
    "pki/sensor1.key": None,
    "pki/console.der": certificate_rules.EXPIRED,
    "pki/sensor2.crt": certificate_rules.WILDCARD,
    "pki/historian.csr": certificate_rules.SUBJECT_ORG_UNIT,
    "deploy/values.yaml": key_rules.UNENCRYPTED,
}


def _name(cn: str, *, org_unit: bool = True) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                  x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Corp")]
    if org_unit:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME,
                                             "Plant Engineering"))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attributes)


def _certificate(key: rsa.RSAPrivateKey, cn: str, *, days_left: int) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    crl = x509.CRLDistributionPoints([x509.DistributionPoint(
        [x509.UniformResourceIdentifier("http://crl.plant.example.com/issuing.crl")],
        None, None, None)])
    return (x509.CertificateBuilder()
            .subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=400))
            .not_valid_after(now + datetime.timedelta(days=days_left))
            .add_extension(crl, critical=False)
            .sign(key, hashes.SHA256()))


def write_example(folder: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    files: dict[str, bytes] = {
        "pki/sensor1.crt": _certificate(key, "sensor1.plant.example.com", days_left=365)
        .public_bytes(serialization.Encoding.PEM),
        "pki/sensor1.key": key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"demo-passphrase-1")),
        "pki/console.der": _certificate(other, "console.plant.example.com", days_left=-5)
        .public_bytes(serialization.Encoding.DER),
        "pki/sensor2.crt": _certificate(other, "*.plant.example.com", days_left=365)
        .public_bytes(serialization.Encoding.PEM),
        "pki/historian.csr": x509.CertificateSigningRequestBuilder()
        .subject_name(_name("historian.plant.example.com", org_unit=False))
        .sign(other, hashes.SHA256()).public_bytes(serialization.Encoding.PEM),
    }
    unencrypted = other.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption()).decode()
    indented = "".join(f"    {line}\n" for line in unencrypted.splitlines())
    files["deploy/values.yaml"] = f"tls:\n  key: |\n{indented}".encode()
    for name, data in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def run_demo(folder: str | None) -> int:
    from certwarden import pipeline
    from certwarden.config import Config
    from certwarden.context import RuleContext
    from certwarden.groups import default_names, load_all
    from certwarden.reporters import ReportOptions, text

    target = Path(folder or tempfile.mkdtemp(prefix="certwarden-demo-")).resolve()
    write_example(target)
    sys.stdout.write(f"certwarden demo: example files written to {target}\n\n"
                     f"$ certwarden check {' '.join(EXPECTED)}\n")
    previous = Path.cwd()
    os.chdir(target)  # report paths relative to the example, as in a real repository
    try:
        context = RuleContext(Config(root=str(target)),
                              datetime.datetime.now(datetime.timezone.utc))
        report = pipeline.run_paths(list(EXPECTED),
                                    groups=load_all(default_names(repository=False)),
                                    context=context)
    finally:
        os.chdir(previous)
    text.write(report, sys.stdout, ReportOptions())
    reported = {(f.path, f.rule) for f in report.findings if f.blocks(strict=False)}
    wrong = [name for name, rule in EXPECTED.items()
             if (rule is None and any(path == name for path, _ in reported))
             or (rule is not None and (name, rule) not in reported)]
    if wrong:
        sys.stdout.write(f"\ncertwarden demo: FAILED: unexpected verdict for {', '.join(wrong)}\n")
        return 1
    sys.stdout.write("\ncertwarden demo: each bad file was blocked with its rule; "
                     "the compliant certificate and the encrypted key passed.\n")
    return 0
