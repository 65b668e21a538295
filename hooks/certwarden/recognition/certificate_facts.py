"""Facts of one certificate or CSR, field by field: each a value, or Malformed (why).

cryptography loads a certificate eagerly but interprets its subject, public key and
extensions on first use, and refuses a whole field (all the extensions at once) when one
part is odd. Here each field is read on its own; where cryptography refuses, the raw
DER (certificate_der) still gives what the rules need (the CN, the SAN DNS names, the CA
flag), and the refused part becomes a Malformed fact that cert-malformed reports. Reading
a fact never raises: no malformed input ends in an internal error (docs/policy.md).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from certwarden.config import SIGNATURE_ALGORITHM_NAMES
from certwarden.recognition import certificate_der as der
from certwarden.recognition.der_keys import spki_der


@dataclass(frozen=True)
class Malformed:
    """A part of a certificate that cannot be parsed, and why, in words users know."""

    part: str  # e.g. subjectAltName, subject, public key, signatureAlgorithm
    message: str


# -- names as openssl prints them -----------------------------------------------------------

EXTENSION_NAMES = {
    "2.5.29.9": "subjectDirectoryAttributes", "2.5.29.14": "subjectKeyIdentifier",
    "2.5.29.15": "keyUsage", "2.5.29.16": "privateKeyUsagePeriod",
    "2.5.29.17": "subjectAltName", "2.5.29.18": "issuerAltName",
    "2.5.29.19": "basicConstraints", "2.5.29.30": "nameConstraints",
    "2.5.29.31": "crlDistributionPoints", "2.5.29.32": "certificatePolicies",
    "2.5.29.33": "policyMappings", "2.5.29.35": "authorityKeyIdentifier",
    "2.5.29.36": "policyConstraints", "2.5.29.37": "extendedKeyUsage",
    "2.5.29.46": "freshestCRL", "2.5.29.54": "inhibitAnyPolicy",
    "1.3.6.1.5.5.7.1.1": "authorityInfoAccess", "1.3.6.1.5.5.7.1.11": "subjectInfoAccess",
    "1.3.6.1.5.5.7.1.24": "tlsfeature", "1.3.6.1.5.5.7.48.1.5": "noCheck",
    "1.3.6.1.4.1.11129.2.4.2": "ct_precert_scts (signed certificate timestamps)",
    "1.3.6.1.4.1.11129.2.4.3": "ct_precert_poison",
    "1.3.6.1.4.1.11129.2.4.5": "ct_cert_scts (signed certificate timestamps)",
    "2.16.840.1.113730.1.1": "nsCertType", "2.16.840.1.113730.1.13": "nsComment",
}

ATTRIBUTE_NAMES = {
    "2.5.4.3": "CN", "2.5.4.4": "SN", "2.5.4.5": "serialNumber", "2.5.4.6": "C",
    "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.9": "street", "2.5.4.10": "O", "2.5.4.11": "OU",
    "2.5.4.12": "title", "2.5.4.13": "description", "2.5.4.15": "businessCategory",
    "2.5.4.17": "postalCode", "2.5.4.18": "postOfficeBox", "2.5.4.41": "name",
    "2.5.4.42": "GN", "2.5.4.43": "initials", "2.5.4.44": "generationQualifier",
    "2.5.4.46": "dnQualifier", "2.5.4.65": "pseudonym", "2.5.4.97": "organizationIdentifier",
    "0.9.2342.19200300.100.1.1": "UID", "0.9.2342.19200300.100.1.25": "DC",
    "1.2.840.113549.1.9.1": "emailAddress", "1.2.840.113549.1.9.2": "unstructuredName",
    "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionL", "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionST",
    "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionC",
}
ATTRIBUTE_OIDS = {name: oid for oid, name in ATTRIBUTE_NAMES.items()}

# SubjectPublicKeyInfo algorithms, named as the policy's key types (config.KEY_TYPES).
KEY_ALGORITHMS = {
    "1.2.840.113549.1.1.1": "rsa",
    "1.2.840.113549.1.1.10": "rsa-pss",  # an RSA key restricted to RSASSA-PSS signatures
    "1.2.840.10045.2.1": "ec", "1.2.840.10040.4.1": "dsa", "1.2.840.10046.2.1": "dh",
    "1.3.101.110": "x25519", "1.3.101.111": "x448",
    "1.3.101.112": "ed25519", "1.3.101.113": "ed448",
    "2.16.840.1.101.3.4.3.17": "ml-dsa-44", "2.16.840.1.101.3.4.3.18": "ml-dsa-65",
    "2.16.840.1.101.3.4.3.19": "ml-dsa-87",
    "2.16.840.1.101.3.4.4.1": "ml-kem-512", "2.16.840.1.101.3.4.4.2": "ml-kem-768",
    "2.16.840.1.101.3.4.4.3": "ml-kem-1024",
    "1.2.643.2.2.19": "gost2001", "1.2.643.7.1.1.1.1": "gost2012-256",
    "1.2.643.7.1.1.1.2": "gost2012-512", "1.2.156.10197.1.301": "sm2",
    **{f"2.16.840.1.101.3.4.3.{20 + index}": f"slh-dsa-{variant}"
       for index, variant in enumerate(
           f"{hash_}-{bits}{speed}" for hash_ in ("sha2", "shake") for bits in (128, 192, 256)
           for speed in "sf")},
}


def extension_name(oid: str) -> str:
    return EXTENSION_NAMES.get(oid, f"extension {oid}")


def attribute_name(oid: str) -> str:
    return ATTRIBUTE_NAMES.get(oid, oid)


def key_type_label(name: str) -> str:
    """How a key type reads in a message: RSA, RSA-PSS, ML-KEM-768, SLH-DSA-SHA2-128s,
    or the dotted OID of an algorithm without a name."""
    if not name[:1].isalpha():
        return name
    if name.startswith("slh-dsa-"):  # FIPS 205 spells the s/f (small/fast) suffix lower case
        return name[:-1].upper() + name[-1]
    return name.upper()


def signature_name(algorithm_der: bytes) -> str:
    oid = der.algorithm_oid(algorithm_der) or "an unreadable algorithm"
    return SIGNATURE_ALGORITHM_NAMES.get(oid, oid)


# -- subject ---------------------------------------------------------------------------------

Rdn = tuple[tuple[str, str], ...]  # (attribute OID, value) in file order


@dataclass(frozen=True)
class SubjectFacts:
    rdns: tuple[Rdn, ...]
    malformed: Malformed | None = None
    readable: bool = True  # False: not even the raw attributes could be read

    def values(self, oid: str) -> list[str]:
        return [value for rdn in self.rdns for attribute, value in rdn if attribute == oid]

    def text(self) -> str:
        """As openssl prints a name: `C = US, O = Example Corp, CN = sensor1...`."""
        return ", ".join(" + ".join(f"{attribute_name(oid)} = {value}" for oid, value in rdn)
                         for rdn in self.rdns if rdn) or "(empty)"


def attribute_text(value: object) -> str:
    return value if isinstance(value, str) else bytes(value).hex()  # type: ignore[call-overload]


_STRING_CODECS = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x1A: "ascii", 0x12: "ascii",
                  0x14: "latin-1", 0x1E: "utf-16-be", 0x1C: "utf-32-be"}


def _raw_string(data: bytes, element: der.Tlv) -> str:
    body = data[element.content:element.end]
    codec = _STRING_CODECS.get(element.tag)
    return body.decode(codec, "replace") if codec else "#" + body.hex()


def _raw_rdns(name: bytes) -> list[list[tuple[str, str]]] | None:
    """The attributes of a Name, read without judging them; None when the framing fails."""
    rdns = []
    elements = der.elements(name)
    if elements is None:
        return None
    for rdn in elements:
        pairs = der.children(name, rdn) if rdn.tag == der.SET else None
        if pairs is None:
            return None
        attributes = []
        for pair in pairs:
            parts = der.children(name, pair) if pair.tag == der.SEQUENCE else None
            oid = der.oid_at(name, parts[0]) if parts and len(parts) == 2 else None
            if parts is None or oid is None:
                return None
            attributes.append((oid, _raw_string(name, parts[1])))
        rdns.append(attributes)
    return rdns


def _subject_problem(rdns: list[list[tuple[str, str]]],
                     refused: Exception | None) -> str | None:
    for position, rdn in enumerate(rdns, 1):
        if not rdn:
            return f"RDN {position} (relative distinguished name) is empty"
        repeated = {pair for pair in rdn if rdn.count(pair) > 1}
        if repeated:
            oid, value = sorted(repeated)[0]
            return f"RDN {position} holds {attribute_name(oid)}={value} twice"
        for oid, value in rdn:
            if "\ufffd" in value:
                return f"the {attribute_name(oid)} value is not valid in its string type " \
                       "(e.g. UTF8String that is not UTF-8)"
            if value.startswith("#"):
                return f"the {attribute_name(oid)} value is not a string type"
    if refused is None:
        return None
    return _parse_error(str(refused)) if "ParseError" in str(refused) else \
        str(refused) or type(refused).__name__


Signed = x509.Certificate | x509.CertificateSigningRequest
# The raw parts, split only when a reader needs them: cryptography reads most certificates
# whole, and splitting every certificate of a 10,000-file index would cost more than it.
RawSource = Callable[[], "der.RawParts | None"]


def read_subject(signed: Signed | None, raw: RawSource) -> SubjectFacts:
    def raw_name() -> bytes | None:
        parts = raw()
        return parts.subject if parts is not None else None
    return _read_name(None if signed is None else lambda: signed.subject, raw_name, "subject")


def read_issuer(certificate: x509.Certificate | None, raw: RawSource) -> SubjectFacts:
    def raw_name() -> bytes | None:
        parts = raw()
        return parts.issuer if parts is not None else None
    return _read_name(None if certificate is None else lambda: certificate.issuer, raw_name,
                      "issuer")


def _read_name(name: Callable[[], x509.Name] | None, raw_name: Callable[[], bytes | None],
               part: str) -> SubjectFacts:
    """The name as cryptography reads it; else from the raw DER, and why it was refused."""
    refused: Exception | None = None
    if name is not None:
        try:
            return SubjectFacts(tuple(
                tuple((attribute.oid.dotted_string, attribute_text(attribute.value))
                      for attribute in rdn) for rdn in name().rdns))
        except Exception as exc:  # cryptography refuses the whole name
            refused = exc
    raw = raw_name()
    rdns = _raw_rdns(raw) if raw is not None else None
    if rdns is None:
        return SubjectFacts((), Malformed(part, f"{part} could not be parsed"
                                                f"{f': {refused}' if refused else ''}"),
                            readable=False)
    problem = _subject_problem(rdns, refused)
    return SubjectFacts(tuple(tuple(rdn) for rdn in rdns), Malformed(
        part, f"{part} could not be parsed: {problem}") if problem else None)


# -- extensions ------------------------------------------------------------------------------

BASIC_CONSTRAINTS, KEY_USAGE, SAN, CRL_DP = "2.5.29.19", "2.5.29.15", "2.5.29.17", "2.5.29.31"


@dataclass
class ExtensionFacts:
    """What the rules read from the extensions, and what could not be parsed."""

    ca: bool = False  # basicConstraints cA
    key_cert_sign: bool = False
    dns_names: list[str] = field(default_factory=list)  # SAN DNS names
    crl_urls: list[str] | None = None  # None: no crlDistributionPoints
    crl_unreadable: bool = False  # crlDistributionPoints present but malformed
    malformed: list[Malformed] = field(default_factory=list)

    def take(self, extension: x509.Extension[x509.ExtensionType]) -> None:
        """Note what the rules need from one extension cryptography parsed."""
        value = extension.value
        if isinstance(value, x509.BasicConstraints):
            self.ca = self.ca or value.ca
        elif isinstance(value, x509.KeyUsage):
            self.key_cert_sign = self.key_cert_sign or value.key_cert_sign
        elif isinstance(value, x509.SubjectAlternativeName):
            self.dns_names += value.get_values_for_type(x509.DNSName)
        elif isinstance(value, x509.CRLDistributionPoints):
            self.crl_urls = (self.crl_urls or []) + [
                name.value for point in value for name in (point.full_name or [])
                if isinstance(name, x509.UniformResourceIdentifier)]


def _template(extension: bytes) -> bytes:
    """A minimal certificate holding only this extension: cryptography parses extensions
    only as part of a certificate, and this is how to ask about one at a time."""
    e = der.encode
    algorithm = e(0x30, bytes.fromhex("06092a864886f70d01010b0500"))
    validity = e(0x30, e(0x17, b"250101000000Z") * 2)
    spki = e(0x30, e(0x30, bytes.fromhex("06032b6570")) + e(0x03, bytes(33)))
    tbs = e(0x30, e(0xA0, b"\x02\x01\x02") + b"\x02\x01\x01" + algorithm + e(0x30, b"")
            + validity + e(0x30, b"") + spki + e(0xA3, e(0x30, extension)))
    return e(0x30, tbs + algorithm + e(0x03, bytes(65)))


def parse_extension(raw: der.RawExtension) -> x509.Extension[x509.ExtensionType]:
    """One extension, parsed by cryptography on its own (raises what cryptography raises)."""
    extension: x509.Extension[x509.ExtensionType] = x509.load_der_x509_certificate(
        _template(raw.der)).extensions[0]
    return extension


_UNIVERSAL_TYPES = {1: "BOOLEAN", 2: "INTEGER", 3: "BIT STRING", 4: "OCTET STRING", 5: "NULL",
                    6: "OBJECT IDENTIFIER", 10: "ENUMERATED", 12: "UTF8String", 16: "SEQUENCE",
                    17: "SET", 19: "PrintableString", 22: "IA5String", 23: "UTCTime",
                    24: "GeneralizedTime", 30: "BMPString"}
_PARSE_KINDS = {"InvalidValue": "holds an invalid value", "ShortData": "is truncated",
                "ExtraData": "has extra data after its end", "InvalidLength": "has an invalid "
                "length", "IntegerOverflow": "holds an integer too large to read",
                "EncodedDefault": "encodes a DEFAULT value, which DER forbids",
                "InvalidSetOrdering": "holds a SET whose elements are not in DER order",
                "InvalidTag": "holds an invalid tag", "OidTooLong": "holds an OID too long to "
                "read", "UnknownDefinedBy": "holds a value of an unknown type"}


def _parse_error(text: str) -> str:
    """cryptography's ParseError { kind: ..., location: [...] } in words."""
    kind = re.search(r"kind: (\w+)", text)
    where = re.findall(r'"([^"]+)"', text)
    place = f" in {where[-1].replace('::', '.')}" if where else ""
    name = kind.group(1) if kind else ""
    if name == "UnexpectedTag":
        tag = re.search(r"value: (\d+), constructed: \w+, class: (\w+)", text)
        if tag and tag.group(2) == "Universal":
            found = _UNIVERSAL_TYPES.get(int(tag.group(1)), f"tag {tag.group(1)}")
        else:
            found = f"[{tag.group(1)}] ({tag.group(2).lower()})" if tag else "element"
        return f"unexpected {found}{place}"
    if name == "InvalidSize":
        size = re.search(r"min: (\d+).*actual: (\d+)", text)
        if size and size.group(2) == "0":
            return f"it is empty{place} (at least {size.group(1)} entry is required)"
        return f"wrong number of entries{place}"
    return f"it {_PARSE_KINDS.get(name, 'is not valid DER')}{place}"


_GENERAL_NAME_TYPES = {0xA3: "x400Address", 0xA5: "ediPartyName"}


def _unsupported_general_names(value: bytes) -> str:
    found = {_GENERAL_NAME_TYPES[element.tag] for element in der.elements(value) or []
             if element.tag in _GENERAL_NAME_TYPES}
    return " and ".join(sorted(found)) or "x400Address or ediPartyName"


def _bad_ip_masks(value: bytes) -> list[str]:
    """`address/mask` of each IP name constraint whose mask is not a CIDR prefix."""
    bad = []
    for subtrees in der.elements(value) or []:
        for subtree in der.children(value, subtrees) or []:
            parts = der.children(value, subtree)
            base = parts[0] if parts else None
            if base is None or base.tag != 0x87 or base.end - base.content not in (8, 32):
                continue
            body = value[base.content:base.end]
            half = len(body) // 2
            mask = int.from_bytes(body[half:], "big")
            inverted = ~mask & ((1 << (8 * half)) - 1)
            if inverted & (inverted + 1):  # the ones are not one leading run
                address = ipaddress.ip_address(body[:half])
                bad.append(f"{address}/{ipaddress.ip_address(body[half:])}")
    return bad


def extension_problem(raw: der.RawExtension, refused: Exception) -> str:
    text = str(refused)
    if type(refused).__name__ == "UnsupportedGeneralNameType":
        return f"unsupported general name {_unsupported_general_names(raw.value)}"
    if "ParseError" in text:
        return _parse_error(text)
    if text == "Invalid netmask":
        masks = _bad_ip_masks(raw.value)
        which = f" ({', '.join(masks)})" if masks else ""
        return f"an IP address constraint{which} has a mask that is not a CIDR prefix"
    if "must not contain the '*'" in text:
        return "a DNS name constraint holds '*': name constraints are domain names, " \
               "not wildcards"
    if text == "a relative distinguished name cannot be empty":
        return "a directory name in it holds an empty RDN (relative distinguished name)"
    if text == "duplicate attributes are not allowed":
        return "a directory name in it holds the same attribute twice in one RDN"
    if text == "path_length must be None when ca is False":
        return "CA:FALSE with a path length (pathLenConstraint is only allowed with CA:TRUE)"
    if text.startswith("Invalid IPNetwork"):
        return "an IP address constraint is neither 8 bytes (IPv4 and mask) nor 32 (IPv6)"
    if "SCT" in text:
        return f"the signed certificate timestamp (SCT) list is malformed: {text.lower()}"
    return text or type(refused).__name__


def _raw_facts(raw: der.RawExtension, facts: ExtensionFacts) -> None:
    """What the rules need, read from an extension cryptography refused."""
    value = raw.value
    items = der.elements(value)
    if raw.oid == BASIC_CONSTRAINTS and items and items[0].tag == der.BOOLEAN:
        facts.ca = facts.ca or value[items[0].content:items[0].end] != b"\x00"
    elif raw.oid == KEY_USAGE:
        bits = der.read_tlv(value)
        if bits is not None and bits.tag == der.BIT_STRING and bits.end - bits.content > 1:
            facts.key_cert_sign = facts.key_cert_sign or bool(value[bits.content + 1] & 0x04)
    elif raw.oid == SAN:
        facts.dns_names += [value[item.content:item.end].decode("ascii", "replace")
                            for item in items or [] if item.tag == 0x82]
    elif raw.oid == CRL_DP:
        facts.crl_unreadable = True


def read_extensions(signed: Signed | None, raw: RawSource) -> ExtensionFacts:
    facts = ExtensionFacts()
    if signed is None:  # cryptography refused the whole certificate: the raw extensions
        return _one_by_one(raw(), None)
    try:
        extensions = signed.extensions
    except Exception as refused:  # one odd extension: cryptography refuses them all
        return _one_by_one(raw(), refused)
    for extension in extensions:
        facts.take(extension)
    return facts


def _one_by_one(raw: der.RawParts | None, refused: Exception | None) -> ExtensionFacts:
    facts = ExtensionFacts()
    if raw is None or raw.extensions is None:
        facts.malformed.append(Malformed("extensions", "the extensions could not be parsed"
                                                       f"{f': {refused}' if refused else ''}"))
        return facts
    oids = [extension.oid for extension in raw.extensions]
    for oid in dict.fromkeys(oids):
        if oids.count(oid) > 1:
            name = extension_name(oid)
            facts.malformed.append(Malformed(name, f"{name} could not be parsed: duplicate "
                                                   f"extension, it appears {oids.count(oid)} "
                                                   "times (each extension may appear once)"))
    for extension in raw.extensions:
        try:
            facts.take(parse_extension(extension))
        except Exception as problem:
            name = extension_name(extension.oid)
            facts.malformed.append(Malformed(
                name, f"{name} could not be parsed: {extension_problem(extension, problem)}"))
            _raw_facts(extension, facts)
    if refused is not None and not facts.malformed:  # refused, yet each reads on its own
        facts.malformed.append(Malformed("extensions", "the extensions could not be parsed: "
                                                       f"{refused}"))
    return facts


# -- public key ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PublicKeyFacts:
    algorithm: str  # a KEY_ALGORITHMS name, or the dotted OID
    size: int | None
    spki: bytes  # as cryptography encodes the key; the raw bytes when it cannot read it
    malformed: Malformed | None = None


def _without_parameters(spki: bytes) -> bool:
    parts = der.elements(spki)
    algorithm = der.children(spki, parts[0]) if parts else None
    return algorithm is not None and len(algorithm) == 1


def _raw_spki(raw: RawSource) -> bytes:
    parts = raw()
    return parts.spki if parts is not None else b""


def read_public_key(signed: Signed | None, raw: RawSource) -> PublicKeyFacts:
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    try:  # CSRs have it too, though their type stubs do not say so
        oid = str(getattr(signed, "public_key_algorithm_oid").dotted_string)  # noqa: B009
    except Exception:
        spki = _raw_spki(raw)
        parts = der.elements(spki) or []
        oid = (der.algorithm_oid(spki[parts[0].start:parts[0].end]) if parts else None) or ""
    algorithm = KEY_ALGORITHMS.get(oid, oid or "unknown")
    label = key_type_label(algorithm)
    try:
        key = signed.public_key() if signed is not None else \
            load_der_public_key(_raw_spki(raw))
    except UnsupportedAlgorithm:
        return PublicKeyFacts(algorithm, None, _raw_spki(raw), Malformed(
            "public key", f"public key could not be parsed: the algorithm {label}"
                          f"{f' ({oid})' if label != oid else ''} is not supported"))
    except Exception as refused:
        raw_spki = _raw_spki(raw)
        if algorithm == "dsa" and _without_parameters(raw_spki):
            return PublicKeyFacts(algorithm, None, raw_spki, Malformed(
                "public key", "public key could not be parsed: the DSA key has no parameters "
                              "of its own (RFC 3279 lets it inherit them from the issuer's "
                              "key; cryptography cannot read such a key)"))
        detail = str(refused)
        if "Could not deserialize key data" in detail:  # cryptography's long generic text
            detail = detail.partition("Details: ")[2]
        detail = detail.lower().rstrip(".")
        detail = "" if detail in ("", "invalid key") else f" ({detail})"
        return PublicKeyFacts(algorithm, None, raw_spki, Malformed(
            "public key", f"public key could not be parsed: the {label} key is invalid{detail}"))
    size = getattr(key, "key_size", None)
    try:
        encoded = spki_der(key)
    except Exception:  # a key type cryptography reads but will not write back
        encoded = _raw_spki(raw)
    return PublicKeyFacts(algorithm, size if isinstance(size, int) else None, encoded)


# -- validity --------------------------------------------------------------------------------

def _raw_time(data: bytes, element: der.Tlv) -> datetime | None:
    """UTCTime or GeneralizedTime in UTC; seconds may be missing, as some issuers wrote."""
    text = data[element.content:element.end].decode("ascii", "replace")
    if not text.endswith("Z"):
        return None
    text = text[:-1].split(".")[0]
    if element.tag == der.UTC_TIME and len(text) in (10, 12):
        year = int(text[:2]) if text[:2].isdigit() else -1
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    elif element.tag != der.GENERALIZED_TIME or len(text) not in (12, 14):
        return None
    try:
        moment = datetime.strptime(text.ljust(14, "0"), "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return moment.replace(tzinfo=timezone.utc)


def read_validity(certificate: x509.Certificate | None, source: RawSource
                  ) -> tuple[datetime | None, datetime | None]:
    """(not before, not after); None where the time cannot be read."""
    if certificate is not None:
        return certificate.not_valid_before_utc, certificate.not_valid_after_utc
    raw = source()
    times = der.elements(raw.validity) if raw is not None and raw.validity else None
    if raw is None or raw.validity is None or not times or len(times) != 2:
        return None, None
    start, end = (_raw_time(raw.validity, element) for element in times)
    return start, end


# -- what cryptography refused when it would not load the object at all ----------------------

_LOAD_PARTS = {"version": "version", "serial": "serialNumber",
               "signature_alg": "tbsCertificate.signature", "issuer": "issuer",
               "validity": "validity", "subject": "subject", "spki": "public key",
               "raw_extensions": "extensions", "issuer_unique_id": "issuerUniqueID",
               "subject_unique_id": "subjectUniqueID", "attributes": "attributes"}


def load_problem(refused: Exception, kind: str) -> Malformed:
    """Why cryptography would not load a certificate (or CSR) whose framing is sound."""
    text = str(refused)
    if type(refused).__name__ == "InvalidVersion":
        known = "X.509 knows v1, v2 and v3" if kind == "certificate" else \
            "a CSR is version 1, encoded as 0"
        return Malformed("version", f"version could not be parsed: {text} ({known})")
    part = kind
    for struct, name in re.findall(r'"(\w+)::(\w+)"', text):
        if struct in ("Certificate", "Csr"):  # the outer signed structure
            part = {"signature_alg": "signatureAlgorithm", "signature": "signature"}.get(
                name, part)
        else:
            part = _LOAD_PARTS.get(name, part)
            break
    words = _parse_error(text) if "ParseError" in text else text or type(refused).__name__
    return Malformed(part, f"{part} could not be parsed: {words}")


# -- signature algorithm ---------------------------------------------------------------------

def signature_mismatch(certificate_der: bytes) -> Malformed | None:
    """RFC 5280 4.1.1.2: signatureAlgorithm must equal tbsCertificate.signature."""
    fields = der.signature_fields(certificate_der)
    if fields is None or fields[0] == fields[1]:
        return None
    outer, inner = signature_name(fields[0]), signature_name(fields[1])
    detail = f"{outer}, with other parameters" if outer == inner else inner
    return Malformed("signatureAlgorithm", f"signatureAlgorithm ({outer}) differs from "
                     f"tbsCertificate.signature ({detail}): the two must be identical, and "
                     "the appliance cannot validate the signature")
