"""How much of its private part a key cut short still holds: facts for keys that are the
first bytes of a PKCS#1, SEC1, DSA or PKCS#8 structure (a truncated file, a key missing
its last lines, a documentation excerpt), whose DER claims more bytes than are there.

The order of the fields decides: an RSA key opens with its public modulus and exponent,
so its first lines are public; a SEC1 (EC) key opens with its private scalar, so one line
holds all of it; a PKCS#8 Ed25519 key is 48 bytes, its seed at byte 16. A prefix that
holds private bytes is a leaked key whatever the placeholder threshold says; one that
ends before them holds nothing secret. Lenient on lengths (they may point past the
data), strict on shape: anything not shaped like a key is None, never a guess.
"""

from __future__ import annotations

SEQUENCE, INTEGER, OCTET_STRING, OID = 0x30, 0x02, 0x04, 0x06
MIN_SECRET = 8  # bytes of a private field that make a prefix a leak, not an excerpt


def is_secret_like(secret: bytes) -> bool:
    """Enough bytes of a private field, and not a pattern: 'MHcCAQEEIxxxx...' in a
    template, or a constant followed by code. Random bytes have nearly all distinct
    values; fewer than half distinct happens by chance far below once in 2^64."""
    return len(secret) >= MIN_SECRET and len(set(secret[:64])) >= min(len(secret), 64) // 2
MIN_MODULUS = 64  # content bytes of an RSA modulus or DSA prime (512 bits)


def _head(data: bytes, offset: int) -> tuple[int, int, int] | None:
    """(tag, content start, claimed content end) of the element at offset: the end may
    lie past the data; None when not even the header is there."""
    if offset + 2 > len(data):
        return None
    tag, first = data[offset], data[offset + 1]
    start = offset + 2
    if first < 0x80:
        return tag, start, start + first
    count = first & 0x7F
    if count == 0 or count > 4 or start + count > len(data):
        return None
    return tag, start + count, start + count + int.from_bytes(data[start:start + count], "big")


def private_prefix(data: bytes) -> tuple[str, bytes] | None:
    """(structure, the bytes of its private fields present) when data opens like an
    unencrypted private key; None when it does not."""
    outer = _head(data, 0)
    if outer is None or outer[0] != SEQUENCE:
        return None
    version = _head(data, outer[1])
    if version is None or version[0] != INTEGER or version[2] - version[1] != 1 \
            or version[2] >= len(data) or data[version[1]] not in (0, 1):
        return None
    following = _head(data, version[2])
    if following is None:
        return None
    end = min(len(data), outer[2])
    if data[version[1]] == 0 and following[0] == INTEGER:
        return _integers(data, version[2], end)
    if data[version[1]] == 1 and following[0] == OCTET_STRING:
        _, start, claimed = following
        if not 16 <= claimed - start <= 80:  # an EC private scalar
            return None
        return "SEC1", data[start:min(claimed, end)]
    if following[0] == SEQUENCE:
        return _pkcs8(data, following, end)
    return None


def _integers(data: bytes, offset: int, end: int) -> tuple[str, bytes] | None:
    """PKCS#1 (n, e, d, p, q, ...) or DSA (p, q, g, y, x) after the version."""
    first = _head(data, offset)
    if first is None or first[2] - first[1] < MIN_MODULUS:
        return None
    if first[2] >= end:
        return "PKCS#1", b""  # cut inside the modulus (or DSA's p): public bytes only
    second = _head(data, first[2])
    if second is None or second[0] != INTEGER:
        return None
    size = second[2] - second[1]
    if size <= 8:  # RSA's public exponent: every later field is private
        return "PKCS#1", data[second[2]:end]
    if not 20 <= size <= 33:  # DSA's q
        return None
    cursor = second[2]
    for _ in range(2):  # g, y: public
        element = _head(data, cursor)
        if element is None or element[0] != INTEGER or element[2] >= end:
            return "DSA", b""
        cursor = element[2]
    return "DSA", data[cursor:end]


def _pkcs8(data: bytes, algorithm: tuple[int, int, int], end: int) -> tuple[str, bytes] | None:
    """PrivateKeyInfo: the AlgorithmIdentifier whole, then the private key OCTET STRING."""
    _, start, claimed = algorithm
    oid = _head(data, start)
    if oid is None or oid[0] != OID:
        return None
    if claimed > len(data):
        return "PKCS#8", b""  # cut inside the algorithm (DSA's parameters are long)
    key = _head(data, claimed)
    if key is None:
        return "PKCS#8", b""
    if key[0] != OCTET_STRING:
        return None
    inner = data[key[1]:min(end, key[2])]
    nested = private_prefix(inner)
    if nested is not None:
        return f"PKCS#8 {nested[0]}", nested[1]
    head = _head(inner, 0)
    if head is not None and head[0] in (OCTET_STRING, INTEGER):  # EdDSA/X25519 seed, DSA x
        return "PKCS#8", inner[head[1]:]
    if inner[:1] == bytes([SEQUENCE]):  # a structure cut before it could be read
        return ("PKCS#8", b"") if len(inner) < 16 else None
    return "PKCS#8", inner  # an algorithm not known here: every byte may be secret
