"""Test-time PKI: keys, certificates and CSRs built by construction, never committed."""

from __future__ import annotations

import datetime
import functools
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
NOW = datetime.datetime(2026, 6, 1, tzinfo=datetime.timezone.utc)
NOW_ISO = "2026-06-01T00:00:00Z"
CRL_URL = "http://crl.plant.example.com/issuing.crl"


def rsa_key(bits: int = 2048, slot: int = 0) -> rsa.RSAPrivateKey:
    """Cached per (size, slot): generating RSA keys dominates test time otherwise."""
    return _cached_rsa_key(bits, slot)


@functools.cache
def _cached_rsa_key(bits: int, slot: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@functools.cache
def ec_key(slot: int = 0) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@dataclass
class Spec:
    """A certificate's fields; the defaults meet the Defender for IoT policy."""

    cn: str | None = "sensor1.plant.example.com"
    country: str | None = "US"
    org: str | None = "Example Corp"
    org_unit: str | None = "Plant Engineering"
    key_bits: int = 2048
    key_kind: str = "rsa"
    key_slot: int = 0
    hash_name: str = "sha256"
    pss: bool = False
    not_before: datetime.datetime = NOW - datetime.timedelta(days=30)
    not_after: datetime.datetime = NOW + datetime.timedelta(days=365)
    crl_urls: Sequence[str] | None = (CRL_URL,)
    san_dns: Sequence[str] = ()
    ca: bool = False
    extra_subject: list[tuple[x509.ObjectIdentifier, str]] = field(default_factory=list)

    def private_key(self) -> PrivateKey:
        if self.key_kind == "ec":
            return ec_key(self.key_slot)
        if self.key_kind == "ed25519":
            return ed25519.Ed25519PrivateKey.generate()
        return rsa_key(self.key_bits, self.key_slot)

    def name(self) -> x509.Name:
        attributes = []
        for oid, value in ((NameOID.COUNTRY_NAME, self.country),
                           (NameOID.ORGANIZATION_NAME, self.org),
                           (NameOID.ORGANIZATIONAL_UNIT_NAME, self.org_unit),
                           (NameOID.COMMON_NAME, self.cn)):
            if value is not None:
                attributes.append(x509.NameAttribute(oid, value, _validate=False))
        attributes += [x509.NameAttribute(oid, value) for oid, value in self.extra_subject]
        return x509.Name(attributes)


def _hash(spec: Spec) -> hashes.HashAlgorithm | None:
    if spec.key_kind == "ed25519":
        return None
    return {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(),
            "sha512": hashes.SHA512()}[spec.hash_name]


def _padding(spec: Spec) -> padding.AsymmetricPadding | None:
    if spec.pss:
        return padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH)
    return None


def certificate(spec: Spec | None = None, *, issuer: tuple[x509.Certificate, rsa.RSAPrivateKey]
                | None = None) -> x509.Certificate:
    spec = spec or Spec()
    key = spec.private_key()
    builder = (x509.CertificateBuilder()
               .subject_name(spec.name())
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(spec.not_before)
               .not_valid_after(spec.not_after)
               .add_extension(x509.BasicConstraints(ca=spec.ca, path_length=None), critical=True))
    if spec.ca:  # as real CAs are: allowed to sign certificates and CRLs
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
    if spec.crl_urls is not None:
        builder = builder.add_extension(x509.CRLDistributionPoints([
            x509.DistributionPoint([x509.UniformResourceIdentifier(u) for u in spec.crl_urls],
                                   None, None, None)]), critical=False)
    if spec.san_dns:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in spec.san_dns]), critical=False)
    if issuer is None:
        builder = builder.issuer_name(spec.name())
        signing_key = key
    else:
        builder = builder.issuer_name(issuer[0].subject)
        signing_key = issuer[1]
    if spec.pss:
        return builder.sign(signing_key, hashes.SHA256(), rsa_padding=_padding(spec))  # type: ignore[arg-type]
    return builder.sign(signing_key, _hash(spec))  # type: ignore[arg-type]


def csr(spec: Spec | None = None) -> x509.CertificateSigningRequest:
    spec = spec or Spec()
    builder = x509.CertificateSigningRequestBuilder().subject_name(spec.name())
    if spec.san_dns:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in spec.san_dns]), critical=False)
    return builder.sign(spec.private_key(), _hash(spec))  # type: ignore[arg-type]


def pem(obj: x509.Certificate | x509.CertificateSigningRequest) -> bytes:
    return obj.public_bytes(serialization.Encoding.PEM)


def der(obj: x509.Certificate | x509.CertificateSigningRequest) -> bytes:
    return obj.public_bytes(serialization.Encoding.DER)


def openssl_sha1_certificate(folder: Path) -> bytes:
    """cryptography refuses to sign with SHA-1, so the openssl CLI makes this one."""
    key = folder / "sha1.key"
    key.write_bytes(rsa_key(2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"test-only-pass")))
    out = folder / "sha1.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-new", "-key", str(key), "-passin", "pass:test-only-pass",
         "-sha1", "-days", "3650", "-subj",
         "/C=US/O=Example Corp/OU=Plant Engineering/CN=sensor1.plant.example.com",
         "-addext", f"crlDistributionPoints=URI:{CRL_URL}", "-out", str(out),
         "-set_serial", "5"],
        check=True, capture_output=True)
    key.unlink()
    return out.read_bytes()


def crl(issuer: x509.Certificate, issuer_key: rsa.RSAPrivateKey, revoked_serials: Sequence[int],
        *, next_update: datetime.datetime | None = None) -> bytes:
    """A DER CRL of `issuer` revoking these serial numbers (reason: key compromise)."""
    next_update = next_update or NOW + datetime.timedelta(days=7)
    builder = (x509.CertificateRevocationListBuilder()
               .issuer_name(issuer.subject)
               .last_update(min(NOW, next_update) - datetime.timedelta(days=7))
               .next_update(next_update))
    for serial in revoked_serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial)
            .revocation_date(NOW - datetime.timedelta(hours=2))
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
            .build())
    return builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
