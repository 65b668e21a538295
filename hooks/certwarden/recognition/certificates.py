"""Load the certificates and CSRs a file holds: PEM, DER, PKCS#7 and PKCS#12, by content."""

from __future__ import annotations

import functools
import hashlib
import warnings
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
from certwarden.recognition import certificate_der as der_parts
from certwarden.recognition import certificate_facts as facts
from certwarden.recognition.der_keys import spki_der
from certwarden.recognition.pkcs12_limits import pkcs12_work


@dataclass(frozen=True)
class CertificateObject:
    """One certificate or CSR, with where it sits in its file, and its facts field by field.

    Each fact is read on first use and never raises: a part cryptography refuses is read
    from the raw DER where the rules need it, and listed in `malformed` (certificate_facts).
    """

    kind: Literal["certificate", "csr"]
    der: bytes
    line: int | None
    index: int  # position in the file, 0-based
    certificate: x509.Certificate | None = None  # None: cryptography refused to load it
    csr: x509.CertificateSigningRequest | None = None
    in_chain: bool = False  # the file holds more than one certificate
    # Why cryptography refused the whole object, though its framing is sound: its facts
    # then come from the raw DER alone.
    load_problem: facts.Malformed | None = None

    @functools.cached_property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.der).hexdigest()

    @property
    def signed(self) -> x509.Certificate | x509.CertificateSigningRequest | None:
        return self.certificate if self.certificate is not None else self.csr

    @property
    def label(self) -> str:
        return "certificate" if self.kind == "certificate" else "CSR"

    # -- the fields, each read once ----------------------------------------------------------

    @functools.cached_property
    def raw(self) -> der_parts.RawParts | None:
        split = der_parts.split_certificate if self.kind == "certificate" else \
            der_parts.split_csr
        return split(self.der)

    def _raw(self) -> der_parts.RawParts | None:
        return self.raw

    @functools.cached_property
    def subject(self) -> facts.SubjectFacts:
        return facts.read_subject(self.signed, self._raw)

    @functools.cached_property
    def issuer(self) -> facts.SubjectFacts:
        """The issuer's name (certificates only; a CSR names no issuer)."""
        if self.kind != "certificate":
            return facts.SubjectFacts(())
        return facts.read_issuer(self.certificate, self._raw)

    @property
    def self_issued(self) -> bool:
        """Subject and issuer are the same name (a root, or a self-signed certificate)."""
        return self.kind == "certificate" and self.subject.rdns == self.issuer.rdns

    @functools.cached_property
    def extension_facts(self) -> facts.ExtensionFacts:
        return facts.read_extensions(self.signed, self._raw)

    @functools.cached_property
    def public_key(self) -> facts.PublicKeyFacts:
        return facts.read_public_key(self.signed, self._raw)

    @functools.cached_property
    def validity(self) -> tuple[datetime | None, datetime | None]:
        if self.kind != "certificate":
            return None, None
        return facts.read_validity(self.certificate, self._raw)

    @property
    def malformed(self) -> list[facts.Malformed]:
        """Every part that cannot be parsed, in the order openssl prints them."""
        found = [facts.signature_mismatch(self.der) if self.kind == "certificate" else None,
                 self.subject.malformed, self.public_key.malformed]
        parts = [m for m in found if m is not None] + self.extension_facts.malformed
        problem = self.load_problem
        # The load error names one part; say it once, unless that part's own reading did.
        covered = {m.part for m in parts} | ({"extensions"} if self.extension_facts.malformed
                                               else set())
        if problem is not None and problem.part not in covered:
            parts.insert(0, problem)
        return parts

    # -- facts the rules judge (rules never touch cryptography's objects) --------------------

    @property
    def asserts_ca(self) -> bool:
        """basicConstraints says CA:TRUE."""
        return self.extension_facts.ca

    @property
    def signs_certificates(self) -> bool:
        return self.extension_facts.key_cert_sign

    @property
    def is_ca(self) -> bool:
        """Acts as a CA here: CA:TRUE inside a chain file, or CA:TRUE with keyCertSign.

        `openssl req -x509` marks every self-signed certificate CA:TRUE; alone in its file
        and without keyCertSign, such a certificate is an appliance's and meets every rule.
        """
        return self.asserts_ca and (self.in_chain or self.signs_certificates)

    @functools.cached_property
    def common_names(self) -> list[str]:
        if "subject" not in self.__dict__ and self.signed is not None:
            # The repository index asks only this of 10,000s of certificates: skip reading
            # the whole subject when cryptography can answer directly.
            try:
                return [facts.attribute_text(attribute.value) for attribute in
                        self.signed.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
            except Exception:  # a subject cryptography refuses: read it field by field
                pass
        return self.subject.values(facts.ATTRIBUTE_OIDS["CN"])

    def subject_values(self, attribute: str) -> list[str]:
        """Values of one subject attribute, by its openssl short name (CN, C, O, OU)."""
        return self.subject.values(facts.ATTRIBUTE_OIDS[attribute])

    @property
    def subject_readable(self) -> bool:
        """False when not even the raw subject could be read: its rules cannot decide."""
        return self.subject.readable

    @property
    def subject_text(self) -> str:
        return self.subject.text()

    @property
    def dns_names(self) -> list[str]:
        """SAN DNS names (read from the raw extension when cryptography refuses it)."""
        return self.extension_facts.dns_names

    @property
    def crl_urls(self) -> list[str] | None:
        """URLs of the CRL distribution points; None when the extension is absent."""
        return self.extension_facts.crl_urls

    @property
    def crl_unreadable(self) -> bool:
        """crlDistributionPoints is present but malformed: cert-malformed speaks for it."""
        return self.extension_facts.crl_unreadable

    @functools.cached_property
    def spki(self) -> bytes:
        if "public_key" not in self.__dict__ and self.signed is not None:
            try:  # as common_names: the index asks only this of the key
                return spki_der(self.signed.public_key())
            except Exception:  # a key cryptography refuses: its facts say what it is
                pass
        return self.public_key.spki

    @property
    def signature_oid(self) -> str:
        if self.signed is not None:
            return self.signed.signature_algorithm_oid.dotted_string
        algorithm = self.raw.outer_signature if self.raw is not None else b""
        return der_parts.algorithm_oid(algorithm) or "unreadable"

    @property
    def public_key_type(self) -> str:
        """rsa, rsa-pss, ec, dsa, ed25519, ml-dsa-65, ... or the algorithm's dotted OID."""
        return self.public_key.algorithm

    @property
    def public_key_label(self) -> str:
        """The key type as a message names it: RSA, RSA-PSS, ML-KEM-768, or an OID."""
        return facts.key_type_label(self.public_key.algorithm)

    @property
    def public_key_size(self) -> int | None:
        return self.public_key.size

    @property
    def not_before(self) -> datetime | None:
        """None when the time cannot be read (cert-malformed names the validity)."""
        return self.validity[0]

    @property
    def not_after(self) -> datetime | None:
        return self.validity[1]


def issued_by(child: CertificateObject, parent: CertificateObject) -> bool:
    """`parent` signed `child`: the names match and the signature verifies."""
    if child.certificate is None or parent.certificate is None or \
            child.issuer.rdns != parent.subject.rdns:
        return False
    try:
        child.certificate.verify_directly_issued_by(parent.certificate)
    except Exception:  # another key, or a key type that cannot verify
        return False
    return True


def issuers_in_file(objects: list[CertificateObject]) -> dict[int, CertificateObject]:
    """For each certificate (by position in `objects`), another one in the file that
    issued it, if any: names first (a dictionary), signatures only for those."""
    by_subject: dict[object, list[CertificateObject]] = {}
    for obj in objects:
        if obj.kind == "certificate":
            by_subject.setdefault(obj.subject.rdns, []).append(obj)
    found = {}
    for position, obj in enumerate(objects):
        if obj.kind != "certificate":
            continue
        issuer = next((candidate for candidate in by_subject.get(obj.issuer.rdns, [])
                       if candidate is not obj and issued_by(obj, candidate)), None)
        if issuer is not None:
            found[position] = issuer
    return found


def key_type_name(key: object) -> str:
    """rsa, ec, dsa, ed25519, ed448 or unknown (for a loaded key object)."""
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    kinds: list[tuple[type, str]] = [
        (rsa.RSAPublicKey, "rsa"), (ec.EllipticCurvePublicKey, "ec"), (dsa.DSAPublicKey, "dsa"),
        (ed25519.Ed25519PublicKey, "ed25519"), (ed448.Ed448PublicKey, "ed448")]
    return next((name for cls, name in kinds if isinstance(key, cls)), "unknown")


@dataclass(frozen=True)
class Unreadable:
    line: int | None
    reason: str


@dataclass
class CertificateFile:
    objects: list[CertificateObject] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)
    holds_key: bool = False  # a private key is the key rules' business, not ours
    holds_crl: bool = False  # a CRL is no certificate: nothing for the certificate rules
    encrypted_bundle: bool = False  # PKCS#12 that neither no password nor ours opens
    bundle_refused: str | None = None  # PKCS#12 not opened: why (work over the limits)
    opened_with_passphrase: bool = False  # the result depends on the configured passphrase

    @property
    def final(self) -> bool:
        """The same bytes always give this result (no passphrase involved): cacheable."""
        return not (self.encrypted_bundle or self.opened_with_passphrase
                    or self.bundle_refused)


def _certificate(der: bytes, line: int | None, index: int) -> CertificateObject:
    """A certificate; one cryptography refuses but whose framing is sound is read raw."""
    try:
        return CertificateObject("certificate", der, line, index,
                                 certificate=x509.load_der_x509_certificate(der))
    except Exception as refused:  # ValueError, InvalidVersion, ...
        if der_parts.split_certificate(der) is None:
            raise ValueError("not a certificate") from None
        return CertificateObject("certificate", der, line, index,
                                 load_problem=facts.load_problem(refused, "certificate"))


def _csr(der: bytes, line: int | None, index: int) -> CertificateObject:
    try:
        return CertificateObject("csr", der, line, index, csr=x509.load_der_x509_csr(der))
    except Exception as refused:
        if der_parts.split_csr(der) is None:
            raise ValueError("not a CSR") from None
        return CertificateObject("csr", der, line, index,
                                 load_problem=facts.load_problem(refused, "CSR"))


def _pkcs7_certificate_ders(der: bytes) -> list[bytes] | None:
    """Each certificate's DER inside PKCS#7 SignedData, for when one spoils the whole load."""
    from asn1crypto import cms

    try:
        info = cms.ContentInfo.load(der, strict=False)
        if info["content_type"].native != "signed_data":
            return None
        return [choice.chosen.dump() for choice in info["content"]["certificates"]]
    except Exception:  # asn1crypto raises many types on garbage
        return None


def _from_pkcs7(der: bytes, line: int | None, found: CertificateFile) -> None:
    try:
        with warnings.catch_warnings():  # BER (indefinite lengths), as some tools write
            warnings.simplefilter("ignore")
            certificates = pkcs7.load_der_pkcs7_certificates(der)
    except Exception as refused:  # ValueError; UnsupportedAlgorithm when not SignedData
        ders = _pkcs7_certificate_ders(der)
        if not ders:
            raise ValueError("not a PKCS#7 certificate bundle") from refused
        for position, one in enumerate(ders, 1):
            try:
                found.objects.append(_certificate(one, line, len(found.objects)))
            except ValueError:
                found.unreadable.append(Unreadable(
                    line, f"certificate {position} of the PKCS#7 bundle is not a valid "
                          "certificate"))
        return
    for cert in certificates:
        found.objects.append(CertificateObject(
            "certificate", cert.public_bytes(Encoding.DER), line, len(found.objects),
            certificate=cert))


def _load_block(block: armor.ArmoredBlock, found: CertificateFile) -> None:
    assert block.der is not None
    index = len(found.objects)
    if block.label in sniff.CERTIFICATE_LABELS:
        # TRUSTED CERTIFICATE appends OpenSSL trust data after the certificate.
        length = armor.der_element_length(block.der) or len(block.der)
        found.objects.append(_certificate(block.der[:length], block.line, index))
    elif block.label in sniff.CSR_LABELS:
        found.objects.append(_csr(block.der, block.line, index))
    else:
        _from_pkcs7(block.der, block.line, found)


def _load_pem(data: bytes, found: CertificateFile) -> None:
    for block in armor.find_blocks(data):
        if sniff.is_private_key_label(block.label):
            found.holds_key = True
            continue
        if block.label == "X509 CRL":
            found.holds_crl = True
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
            _load_block(block, found)
        except ValueError:
            what = "certificate bundle (PKCS#7 SignedData)" if block.label in \
                sniff.PKCS7_LABELS else block.label.lower()
            found.unreadable.append(Unreadable(
                block.line, f"the {block.label} block is not a valid {what}"))


def _load_pkcs12(data: bytes, passphrase: bytes | None, found: CertificateFile) -> bool:
    """True when the data is PKCS#12 (opened or not)."""
    work = pkcs12_work(data)
    if work is None:
        return False
    refusal = work.refusal()
    if refusal is not None:
        found.bundle_refused = refusal
        return True
    # The configured passphrase first: each failed attempt costs a MAC derivation.
    passwords: list[bytes | None] = [passphrase] if passphrase else []
    passwords += [None, b""]
    for password in passwords:
        try:
            bundle = pkcs12.load_pkcs12(data, password)
        except Exception:  # wrong password, or a scheme the loader refuses
            continue
        certificates = [c.certificate for c in
                        ([bundle.cert] if bundle.cert else []) + list(bundle.additional_certs)]
        for cert in certificates:
            found.objects.append(CertificateObject(
                "certificate", cert.public_bytes(Encoding.DER), None, len(found.objects),
                certificate=cert))
        found.holds_key = bundle.key is not None
        found.opened_with_passphrase = password is passphrase and bool(passphrase)
        return True
    found.encrypted_bundle = True
    return True


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
    if data[:2] == b"\x30\x80":  # BER with indefinite lengths: PKCS#7 or PKCS#12 only
        try:
            _from_pkcs7(data, None, found)
            return
        except ValueError:
            if _load_pkcs12(data, passphrase, found):
                return
    if data[:1] != b"\x30" or length is None:
        found.unreadable.append(Unreadable(None, "neither PEM nor DER"))
        return
    if der_parts.is_crl(data[:length]):
        found.holds_crl = True
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
        _from_pkcs7(data, None, found)
        return
    except ValueError:
        pass
    if _holds_der_key(data) or _load_pkcs12(data, passphrase, found):
        found.holds_key = found.holds_key or not (found.encrypted_bundle or found.bundle_refused)
        return
    found.unreadable.append(Unreadable(None, "DER data that is not a certificate, CSR, "
                                             "PKCS#7 or PKCS#12 bundle"))


def load_certificates(data: bytes, path: str, *, passphrase: bytes | None,
                      chain_file: bool = False) -> CertificateFile:
    """Everything certificate-like in the bytes of one file (`chain_file`: the configured
    CA chain, whose certificates are CAs even one at a time)."""
    found = _load(data, path, passphrase)
    if chain_file or sum(1 for obj in found.objects if obj.kind == "certificate") > 1:
        found.objects = [replace(obj, in_chain=True) for obj in found.objects]
    return found


def _is_one_der_element(data: bytes) -> bool:
    """The file is one DER SEQUENCE (a trailing newline or NULs allowed)."""
    if data[:1] != b"\x30":
        return False
    length = armor.der_element_length(data)
    return length is not None and length <= len(data) <= length + 4 and \
        not data[length:].strip(b"\r\n\0")


def _load(data: bytes, path: str, passphrase: bytes | None) -> CertificateFile:
    found = CertificateFile()
    if not data.strip():
        found.unreadable.append(Unreadable(None, "empty file"))
        return found
    if _is_one_der_element(data):
        # Binary DER, even when an extension value happens to hold PEM-looking text
        # (a `-----BEGIN PRIVATE KEY-----` in a policy URI must not hide the certificate).
        _load_der(data, path, passphrase, found)
        return found
    if b"-----BEGIN " in data:
        _load_pem(data, found)
        if found.objects or found.unreadable or found.holds_key or found.holds_crl:
            return found
        if sniff.is_text(data):
            found.unreadable.append(Unreadable(None, "no certificate, CSR or bundle in it"))
            return found
    elif sniff.is_text(data) and data[:1] != b"\x30":
        found.unreadable.append(Unreadable(None, "text without a PEM block, and not DER"))
        return found
    _load_der(data, path, passphrase, found)
    return found
