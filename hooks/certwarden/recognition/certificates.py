"""Load the certificates and CSRs a file holds: PEM, DER, PKCS#7 and PKCS#12, by content."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    load_der_private_key,
    pkcs7,
    pkcs12,
)
from cryptography.x509.oid import NameOID

from certwarden.recognition import armor, sniff
from certwarden.recognition.der_keys import spki_der


@dataclass(frozen=True)
class CertificateObject:
    """One certificate or CSR, with where it sits in its file."""

    kind: Literal["certificate", "csr"]
    der: bytes
    line: int | None
    index: int  # position in the file, 0-based
    certificate: x509.Certificate | None = None
    csr: x509.CertificateSigningRequest | None = None
    in_chain: bool = False  # the file holds more than one certificate

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.der).hexdigest()

    @property
    def subject(self) -> x509.Name:
        if self.certificate is not None:
            return self.certificate.subject
        assert self.csr is not None
        return self.csr.subject

    @property
    def extensions(self) -> x509.Extensions:
        if self.certificate is not None:
            return self.certificate.extensions
        assert self.csr is not None
        return self.csr.extensions

    @property
    def asserts_ca(self) -> bool:
        return asserts_ca(self.extensions)

    @property
    def common_names(self) -> list[str]:
        return [str(a.value) for a in self.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]

    @property
    def dns_names(self) -> list[str]:
        """SAN DNS names."""
        try:
            extension = self.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        except x509.ExtensionNotFound:
            return []
        return list(extension.value.get_values_for_type(x509.DNSName))

    @property
    def spki(self) -> bytes:
        signed = self.certificate if self.certificate is not None else self.csr
        assert signed is not None
        return spki_der(signed.public_key())

    @property
    def signs_certificates(self) -> bool:
        try:
            return self.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
        except x509.ExtensionNotFound:
            return False

    @property
    def is_ca(self) -> bool:
        """Acts as a CA here: CA:TRUE inside a chain file, or CA:TRUE with keyCertSign.

        `openssl req -x509` marks every self-signed certificate CA:TRUE; alone in its file
        and without keyCertSign, such a certificate is an appliance's and meets every rule.
        """
        return self.asserts_ca and (self.in_chain or self.signs_certificates)

    @property
    def label(self) -> str:
        return "certificate" if self.kind == "certificate" else "CSR"

    # -- facts the rules judge (rules never touch cryptography's objects) --------------------

    @property
    def signed(self) -> x509.Certificate | x509.CertificateSigningRequest:
        signed = self.certificate if self.certificate is not None else self.csr
        assert signed is not None
        return signed

    @property
    def signature_oid(self) -> str:
        return self.signed.signature_algorithm_oid.dotted_string

    @property
    def public_key_type(self) -> str:
        return key_type_name(self.signed.public_key())

    @property
    def public_key_size(self) -> int | None:
        size = getattr(self.signed.public_key(), "key_size", None)
        return size if isinstance(size, int) else None

    @property
    def not_before(self) -> datetime:
        assert self.certificate is not None
        return self.certificate.not_valid_before_utc

    @property
    def not_after(self) -> datetime:
        assert self.certificate is not None
        return self.certificate.not_valid_after_utc

    @property
    def crl_urls(self) -> list[str] | None:
        """URLs of the CRL distribution points; None when the extension is absent."""
        try:
            points = self.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        except x509.ExtensionNotFound:
            return None
        return [name.value for point in points for name in (point.full_name or [])
                if isinstance(name, x509.UniformResourceIdentifier)]

    def subject_values(self, attribute: str) -> list[str]:
        """Values of one subject attribute, by its openssl short name (CN, C, O, OU)."""
        oid = SUBJECT_ATTRIBUTES[attribute]
        return [str(a.value) for a in self.subject.get_attributes_for_oid(oid)]


SUBJECT_ATTRIBUTES = {"CN": NameOID.COMMON_NAME, "C": NameOID.COUNTRY_NAME,
                      "O": NameOID.ORGANIZATION_NAME, "OU": NameOID.ORGANIZATIONAL_UNIT_NAME}


def key_type_name(key: object) -> str:
    """rsa, ec, dsa, ed25519, ed448 or unknown."""
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    kinds: list[tuple[type, str]] = [
        (rsa.RSAPublicKey, "rsa"), (ec.EllipticCurvePublicKey, "ec"), (dsa.DSAPublicKey, "dsa"),
        (ed25519.Ed25519PublicKey, "ed25519"), (ed448.Ed448PublicKey, "ed448")]
    return next((name for cls, name in kinds if isinstance(key, cls)), "unknown")


def asserts_ca(extensions: x509.Extensions) -> bool:
    """basicConstraints says CA:TRUE."""
    try:
        return bool(extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


@dataclass(frozen=True)
class Unreadable:
    line: int | None
    reason: str


@dataclass
class CertificateFile:
    objects: list[CertificateObject] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)
    holds_key: bool = False  # a private key is the key rules' business, not ours
    encrypted_bundle: bool = False  # PKCS#12 we hold no passphrase for


def _certificate(der: bytes, line: int | None, index: int) -> CertificateObject:
    return CertificateObject("certificate", der, line, index,
                             certificate=x509.load_der_x509_certificate(der))


def _csr(der: bytes, line: int | None, index: int) -> CertificateObject:
    return CertificateObject("csr", der, line, index, csr=x509.load_der_x509_csr(der))


def _from_pkcs7(der: bytes, line: int | None, start: int) -> list[CertificateObject]:
    certificates = pkcs7.load_der_pkcs7_certificates(der)
    return [
        CertificateObject("certificate", cert.public_bytes(Encoding.DER), line, start + offset,
                          certificate=cert)
        for offset, cert in enumerate(certificates)
    ]


def _load_block(block: armor.ArmoredBlock, index: int) -> list[CertificateObject]:
    assert block.der is not None
    if block.label in sniff.CERTIFICATE_LABELS:
        # TRUSTED CERTIFICATE appends OpenSSL trust data after the certificate.
        length = armor.der_element_length(block.der) or len(block.der)
        return [_certificate(block.der[:length], block.line, index)]
    if block.label in sniff.CSR_LABELS:
        return [_csr(block.der, block.line, index)]
    return _from_pkcs7(block.der, block.line, index)


def _load_pem(data: bytes, found: CertificateFile) -> None:
    for block in armor.find_blocks(data):
        if sniff.is_private_key_label(block.label):
            found.holds_key = True
            continue
        if block.label not in sniff.CERTIFICATE_BEARING_LABELS:
            continue
        if not block.complete:
            found.unreadable.append(Unreadable(
                block.line, f"truncated PEM: BEGIN {block.label} has no END line"))
            continue
        if block.der is None:
            found.unreadable.append(Unreadable(
                block.line, f"the {block.label} block is not valid base64"))
            continue
        try:
            found.objects.extend(_load_block(block, len(found.objects)))
        except ValueError:
            found.unreadable.append(Unreadable(
                block.line, f"the {block.label} block is not a valid {block.label.lower()}"))


def _load_pkcs12(data: bytes, passphrase: bytes | None, found: CertificateFile) -> bool:
    """True when the data is PKCS#12 (opened or not)."""
    from certwarden.recognition.pkcs12_keys import bounded_for_loading

    # Caps on the MAC and key derivation parameters the file asks for (issue 11).
    safe, refused = bounded_for_loading(data)
    if safe is None:
        found.encrypted_bundle = True
        found.unreadable.append(Unreadable(None, f"PKCS#12 bundle not opened: {refused}"))
        return True
    data = safe
    passwords: list[bytes | None] = [None, b""]
    if passphrase:
        passwords.append(passphrase)
    for password in passwords:
        try:
            bundle = pkcs12.load_pkcs12(data, password)
        except ValueError:
            continue
        certificates = [c.certificate for c in
                        ([bundle.cert] if bundle.cert else []) + list(bundle.additional_certs)]
        for cert in certificates:
            found.objects.append(CertificateObject(
                "certificate", cert.public_bytes(Encoding.DER), None, len(found.objects),
                certificate=cert))
        found.holds_key = bundle.key is not None
        return True
    if _looks_like_pkcs12(data):
        found.encrypted_bundle = True
        return True
    return False


def _looks_like_pkcs12(data: bytes) -> bool:
    from asn1crypto import pkcs12 as asn1_pkcs12  # only for bundles we cannot open

    try:
        pfx = asn1_pkcs12.Pfx.load(data, strict=False)
        return pfx["version"].native in ("v3", 3) and pfx["auth_safe"]["content_type"].native in (
            "data", "signed_data")
    except Exception:  # asn1crypto raises many types on garbage
        return False


def _holds_der_key(data: bytes) -> bool:
    try:
        load_der_private_key(data, None, unsafe_skip_rsa_key_validation=True)
    except TypeError:  # encrypted: a key all the same
        return True
    except Exception:  # not a key, or a key of a type cryptography cannot load
        return False
    return True


def _load_der(data: bytes, path: str, passphrase: bytes | None, found: CertificateFile) -> None:
    if sniff.extension_of(path) in sniff.PKCS12_EXTENSIONS and _load_pkcs12(
            data, passphrase, found):
        return
    length = armor.der_element_length(data)
    if data[:1] != b"\x30" or length is None:
        found.unreadable.append(Unreadable(None, "neither PEM nor DER"))
        return
    for loader in (_certificate, _csr):
        try:
            found.objects.append(loader(data[:length], None, 0))
            if length < len(data.rstrip(b"\r\n\0")):
                found.unreadable.append(Unreadable(None, "data after the end of the DER object"))
            return
        except ValueError:
            pass
    try:
        found.objects.extend(_from_pkcs7(data, None, 0))
        return
    except ValueError:
        pass
    if _holds_der_key(data) or _load_pkcs12(data, passphrase, found):
        found.holds_key = found.holds_key or not found.encrypted_bundle
        return
    found.unreadable.append(Unreadable(None, "DER data that is not a certificate, CSR, "
                                             "PKCS#7 or PKCS#12 bundle"))


def load_certificates(data: bytes, path: str, *, passphrase: bytes | None,
                      chain_file: bool = False) -> CertificateFile:
    """Everything certificate-like in the bytes of one file (`chain_file`: the configured
    CA chain, whose certificates are CAs even one at a time)."""
    found = _load(data, path, passphrase)
    if chain_file or sum(1 for obj in found.objects if obj.certificate is not None) > 1:
        found.objects = [replace(obj, in_chain=True) for obj in found.objects]
    return found


def _load(data: bytes, path: str, passphrase: bytes | None) -> CertificateFile:
    found = CertificateFile()
    if not data.strip():
        found.unreadable.append(Unreadable(None, "empty file"))
        return found
    if b"-----BEGIN " in data:
        _load_pem(data, found)
        if found.objects or found.unreadable or found.holds_key:
            return found
        if sniff.is_text(data):
            found.unreadable.append(Unreadable(None, "no certificate, CSR or bundle in it"))
            return found
    elif sniff.is_text(data) and data[:1] != b"\x30":
        found.unreadable.append(Unreadable(None, "text without a PEM block, and not DER"))
        return found
    _load_der(data, path, passphrase, found)
    return found
