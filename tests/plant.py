"""A generated plant for the inventory tests: appliances, their certificates and keys, a
CA chain and an appliance manifest, in a fresh git repository (keys made at run time,
encrypted, never committed to this project).

The done-when plant of issue 15: 40 sensors, 2 consoles and 1 HA server; sensor-07's
certificate has expired, sensor-12's expires in 10 days, console-2's is a wildcard, an
old historian certificate belongs to no appliance, and sensor-40 has no certificate.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests import hookrepo, pki

KEY_PASSPHRASE = b"Plant-Key_pass.42"
DAY = datetime.timedelta(days=1)


@dataclass
class Authority:
    root: x509.Certificate
    root_key: rsa.RSAPrivateKey
    issuing: x509.Certificate
    issuing_key: rsa.RSAPrivateKey

    def chain_pem(self) -> bytes:
        return pki.pem(self.issuing) + pki.pem(self.root)

    def sign(self, subject: x509.Name, public_key: rsa.RSAPublicKey, *,
             not_before: datetime.datetime, not_after: datetime.datetime,
             san: list[str]) -> x509.Certificate:
        builder = (x509.CertificateBuilder().subject_name(subject)
                   .issuer_name(self.issuing.subject).public_key(public_key)
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(not_before).not_valid_after(not_after)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
                   .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                       [x509.UniformResourceIdentifier(pki.CRL_URL)], None, None, None)]),
                       False))
        if san:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(n) for n in san]), False)
        return builder.sign(self.issuing_key, hashes.SHA256())

    def sign_csr(self, csr: x509.CertificateSigningRequest, *, now: datetime.datetime,
                 days: int = 365) -> x509.Certificate:
        names = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        return self.sign(csr.subject, csr.public_key(),  # type: ignore[arg-type]
                         not_before=now - DAY, not_after=now + days * DAY,
                         san=list(names.get_values_for_type(x509.DNSName)))


def authority() -> Authority:
    root_key, issuing_key = pki.rsa_key(2048, 90), pki.rsa_key(2048, 91)
    far = pki.NOW + 3650 * DAY
    root = pki.certificate(pki.Spec(cn="Plant Root CA", ca=True, key_slot=90,
                                    not_before=pki.NOW - 400 * DAY, not_after=far,
                                    crl_urls=None))
    issuing = pki.certificate(pki.Spec(cn="Plant Issuing CA", ca=True, key_slot=91,
                                       not_before=pki.NOW - 400 * DAY, not_after=far,
                                       crl_urls=None), issuer=(root, root_key))
    return Authority(root, root_key, issuing, issuing_key)


def subject(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Corp"),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Plant Engineering"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def encrypted_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.BestAvailableEncryption(KEY_PASSPHRASE))


@dataclass
class ApplianceSpec:
    name: str
    role: str
    cn: str
    certificate: str | None
    key: str | None
    not_after: datetime.datetime = pki.NOW + 300 * DAY
    certificate_cn: str | None = None  # default: cn
    san: list[str] = field(default_factory=list)


@dataclass
class Plant:
    root: Path
    ca: Authority
    appliances: list[ApplianceSpec]
    files: dict[str, bytes]

    def manifest(self) -> str:
        lines = ['chain = "pki/chain.pem"', ""]
        for spec in self.appliances:
            lines += ["[[appliances]]", f'name = "{spec.name}"', f'role = "{spec.role}"',
                      f'cn = "{spec.cn}"']
            if spec.certificate:
                lines.append(f'certificate = "{spec.certificate}"')
            if spec.key:
                lines.append(f'key = "{spec.key}"')
            lines.append("")
        return "\n".join(lines)


def done_when_specs() -> list[ApplianceSpec]:
    specs = []
    for number in range(1, 41):
        name = f"sensor{number:02d}"
        specs.append(ApplianceSpec(f"sensor-{number:02d}", "sensor",
                                   f"{name}.plant.example.com",
                                   None if number == 40 else f"pki/sensors/{name}.crt",
                                   None if number == 40 else f"pki/sensors/{name}.key"))
    specs[6].not_after = pki.NOW - 3 * DAY  # sensor-07: expired
    specs[11].not_after = pki.NOW + 10 * DAY  # sensor-12: expires in 10 days
    specs.append(ApplianceSpec("console-1", "console", "console1.plant.example.com",
                               "pki/consoles/console1.crt", "pki/consoles/console1.key"))
    specs.append(ApplianceSpec("console-2", "console", "console2.plant.example.com",
                               "pki/consoles/console2.crt", "pki/consoles/console2.key",
                               certificate_cn="*.plant.example.com",
                               san=["*.plant.example.com", "console2.plant.example.com"]))
    specs.append(ApplianceSpec("ha-1", "ha", "ha1.plant.example.com", "pki/ha/ha1.crt",
                               "pki/ha/ha1.key"))
    return specs


def build(root: Path, specs: list[ApplianceSpec] | None = None, *, orphan: bool = True,
          commit: bool = True) -> Plant:
    """Write the plant into `root` (a new git repository) and stage it (and commit)."""
    specs = done_when_specs() if specs is None else specs
    ca = authority()
    files: dict[str, bytes] = {"pki/chain.pem": ca.chain_pem()}
    for slot, spec in enumerate(specs, 100):
        if spec.certificate is None:
            continue
        key = pki.rsa_key(2048, slot)
        cn = spec.certificate_cn or spec.cn
        certificate = ca.sign(subject(cn), key.public_key(), not_before=pki.NOW - 60 * DAY,
                              not_after=spec.not_after, san=spec.san or [spec.cn])
        files[spec.certificate] = pki.pem(certificate)
        if spec.key:
            files[spec.key] = encrypted_key(key)
    if orphan:
        key = pki.rsa_key(2048, 99)
        files["pki/old/historian.crt"] = pki.pem(ca.sign(
            subject("historian.plant.example.com"), key.public_key(),
            not_before=pki.NOW - 60 * DAY, not_after=pki.NOW + 200 * DAY,
            san=["historian.plant.example.com"]))
    plant = Plant(root, ca, specs, files)
    files[".certwarden.toml"] = plant.manifest().encode()
    root.mkdir(parents=True, exist_ok=True)
    hookrepo.git(root, "init", "-q", "-b", "main")
    for name, data in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    hookrepo.git(root, "add", "-A")
    if commit:
        hookrepo.git(root, "commit", "-q", "-m", "plant")
    return plant
