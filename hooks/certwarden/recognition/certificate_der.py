"""The raw DER parts of a certificate or CSR that cryptography loaded but may refuse to
interpret: the two signature algorithm fields, the subject, the public key and each
extension as bytes. Nothing here judges; certificate_facts reads meaning from the parts.

A small definite-length TLV reader of our own: cryptography has already checked the outer
framing when it loaded the object, and this runs for every certificate of a bundle, so
it stays cheaper than a general ASN.1 library.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

# Tag bytes (class and constructed bits included) of the elements read here.
SEQUENCE, SET, BOOLEAN, INTEGER, OCTET_STRING, BIT_STRING, OID = (
    0x30, 0x31, 0x01, 0x02, 0x04, 0x03, 0x06)
UTC_TIME, GENERALIZED_TIME = 0x17, 0x18
VERSION, EXTENSIONS, CSR_ATTRIBUTES = 0xA0, 0xA3, 0xA0
EXTENSION_REQUEST = "1.2.840.113549.1.9.14"


@dataclass(frozen=True)
class Tlv:
    tag: int
    start: int  # offset of the tag byte
    content: int  # offset of the first content byte
    end: int  # offset just past the element


def read_tlv(data: bytes, offset: int = 0, limit: int | None = None) -> Tlv | None:
    """The element at `offset`, or None when its header or length does not fit."""
    limit = len(data) if limit is None else limit
    if offset + 2 > limit:
        return None
    tag = data[offset]
    size = 1
    if tag & 0x1F == 0x1F:  # a long-form tag number: its bytes follow, high bit on but last
        while offset + size < limit and data[offset + size] & 0x80 and size < 6:
            size += 1
        size += 1
        if offset + size + 1 > limit:
            return None
    first = data[offset + size]
    if first < 0x80:
        length, header = first, size + 1
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or offset + size + 1 + count > limit:
            return None
        length = int.from_bytes(data[offset + size + 1:offset + size + 1 + count], "big")
        header = size + 1 + count
    end = offset + header + length
    if end > limit:
        return None
    return Tlv(tag, offset, offset + header, end)


def children(data: bytes, parent: Tlv) -> list[Tlv] | None:
    """The elements inside a constructed element, or None when they do not tile it."""
    found = []
    offset = parent.content
    while offset < parent.end:
        child = read_tlv(data, offset, parent.end)
        if child is None:
            return None
        found.append(child)
        offset = child.end
    return found


def decode_oid(body: bytes) -> str | None:
    """Dotted form of an OBJECT IDENTIFIER's content bytes."""
    if not body or body[-1] & 0x80:
        return None
    arcs: list[int] = []
    value = 0
    for byte in body:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(arc) for arc in head + arcs[1:])


def oid_at(data: bytes, element: Tlv) -> str | None:
    if element.tag != OID:
        return None
    return decode_oid(data[element.content:element.end])


def algorithm_oid(algorithm_der: bytes) -> str | None:
    """The OID of an AlgorithmIdentifier."""
    outer = read_tlv(algorithm_der)
    inner = children(algorithm_der, outer) if outer and outer.tag == SEQUENCE else None
    return oid_at(algorithm_der, inner[0]) if inner else None


@dataclass(frozen=True)
class RawExtension:
    oid: str
    critical: bool
    value: bytes  # the extnValue OCTET STRING's content
    der: bytes  # the whole Extension


@dataclass(frozen=True)
class RawParts:
    outer_signature: bytes  # signatureAlgorithm
    inner_signature: bytes | None  # tbsCertificate.signature (CSRs have none)
    subject: bytes  # the Name
    spki: bytes  # SubjectPublicKeyInfo
    extension_list: bytes | None  # the Extensions SEQUENCE; None: there is none
    issuer: bytes | None = None  # the Name (CSRs have none)
    validity: bytes | None = None  # the Validity (CSRs have none)

    @functools.cached_property
    def extensions(self) -> tuple[RawExtension, ...] | None:
        """Each extension, split only when asked (cryptography usually reads them all);
        None when the list is present but not readable."""
        if self.extension_list is None:
            return ()
        return _extension_list(self.extension_list, read_tlv(self.extension_list))


def _extension(data: bytes, element: Tlv) -> RawExtension | None:
    parts = children(data, element) if element.tag == SEQUENCE else None
    if not parts or len(parts) not in (2, 3):
        return None
    identifier = oid_at(data, parts[0])
    critical = len(parts) == 3 and parts[1].tag == BOOLEAN and \
        data[parts[1].content:parts[1].end] != b"\x00"
    value = parts[-1]
    if identifier is None or value.tag != OCTET_STRING:
        return None
    return RawExtension(identifier, critical, data[value.content:value.end],
                        data[element.start:element.end])


def _extension_list(data: bytes, sequence: Tlv | None) -> tuple[RawExtension, ...] | None:
    items = children(data, sequence) if sequence and sequence.tag == SEQUENCE else None
    if items is None:
        return None
    found = [_extension(data, item) for item in items]
    if any(item is None for item in found):
        return None
    return tuple(item for item in found if item is not None)


# A TBSCertificate after its version: serial, signature, issuer, validity, subject, spki.
_TBS_TAGS = (INTEGER, SEQUENCE, SEQUENCE, SEQUENCE, SEQUENCE, SEQUENCE)


def _signed_parts(der: bytes) -> list[Tlv] | None:
    """The three parts of a signed object (to-be-signed, algorithm, signature) when they
    tile it exactly: the framing of a certificate, CSR or CRL, however odd inside."""
    outer = read_tlv(der)
    if outer is None or outer.tag != SEQUENCE or outer.end != len(der):
        return None
    top = children(der, outer)
    if not top or [part.tag for part in top] != [SEQUENCE, SEQUENCE, BIT_STRING]:
        return None
    return top


def split_certificate(der: bytes) -> RawParts | None:
    """The parts of a certificate; None unless the framing is a certificate's."""
    top = _signed_parts(der)
    fields = children(der, top[0]) if top else None
    if top is None or fields is None:
        return None
    if fields and fields[0].tag == VERSION:
        fields = fields[1:]
    if len(fields) < 6 or tuple(f.tag for f in fields[:6]) != _TBS_TAGS:
        return None
    extensions: bytes | None = None
    for extra in fields[6:]:
        if extra.tag == EXTENSIONS:
            extensions = der[extra.content:extra.end]
    def part(element: Tlv) -> bytes:
        return der[element.start:element.end]

    return RawParts(part(top[1]), part(fields[1]), part(fields[4]), part(fields[5]),
                    extensions, part(fields[2]), part(fields[3]))


def signature_fields(der: bytes) -> tuple[bytes, bytes] | None:
    """(signatureAlgorithm, tbsCertificate.signature) of a certificate, read without
    splitting the rest: every certificate is asked, so it reads five headers, no more."""
    outer = read_tlv(der)
    tbs = read_tlv(der, outer.content) if outer is not None else None
    algorithm = read_tlv(der, tbs.end) if tbs is not None else None
    if tbs is None or algorithm is None:
        return None
    field = read_tlv(der, tbs.content, tbs.end)
    if field is not None and field.tag == VERSION:
        field = read_tlv(der, field.end, tbs.end)
    inner = read_tlv(der, field.end, tbs.end) if field is not None else None  # after serial
    if inner is None:
        return None
    return der[algorithm.start:algorithm.end], der[inner.start:inner.end]


def split_csr(der: bytes) -> RawParts | None:
    """The parts of a CSR; None unless the framing is a CSR's."""
    top = _signed_parts(der)
    fields = children(der, top[0]) if top else None  # version, subject, spki, [0] attributes
    if top is None or fields is None or len(fields) not in (3, 4) or \
            tuple(f.tag for f in fields[:3]) != (INTEGER, SEQUENCE, SEQUENCE) or \
            (len(fields) == 4 and fields[3].tag != CSR_ATTRIBUTES):
        return None
    extensions: bytes | None = None
    if len(fields) > 3 and fields[3].tag == CSR_ATTRIBUTES:
        for attribute in children(der, fields[3]) or []:
            parts = children(der, attribute) if attribute.tag == SEQUENCE else None
            if not parts or len(parts) != 2 or oid_at(der, parts[0]) != EXTENSION_REQUEST:
                continue
            values = children(der, parts[1]) if parts[1].tag == SET else None
            extensions = der[values[0].start:values[0].end] if values else b""
    return RawParts(der[top[1].start:top[1].end], None,
                    der[fields[1].start:fields[1].end], der[fields[2].start:fields[2].end],
                    extensions)


def is_crl(der: bytes) -> bool:
    """The framing of a CRL: [version,] signature, issuer, thisUpdate (a time), ..."""
    top = _signed_parts(der)
    fields = children(der, top[0]) if top else None
    if not fields:
        return False
    if fields[0].tag == INTEGER:
        fields = fields[1:]
    return len(fields) >= 3 and fields[0].tag == SEQUENCE and fields[1].tag == SEQUENCE and \
        fields[2].tag in (UTC_TIME, GENERALIZED_TIME)


def elements(data: bytes) -> list[Tlv] | None:
    """The children of the constructed element that `data` is."""
    outer = read_tlv(data)
    return children(data, outer) if outer is not None and outer.tag & 0x20 else None


# -- DER writing, for wrapping one extension in a certificate cryptography will read -------

def encode(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes((tag, length)) + content
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + content
