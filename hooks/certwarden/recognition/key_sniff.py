"""Cheap tests for "might this file hold a private key?", run on every file.

Each test is a substring search over bytes already in memory (memchr speed); only
files that pass are handed to the key loaders, so a commit without keys never imports
cryptography.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# PEM/OpenSSH/SSH2/OpenPGP labels all end in "PRIVATE KEY" (also when \n-escaped);
# "LS0tLS1CRUdJTi" is base64 of "-----BEGIN" (Kubernetes Secret data, other wrappers).
ARMOR_MARKERS = (b"PRIVATE KEY", b"PuTTY-User-Key-File-", b"LS0tLS1CRUdJTi")

# An unarmored base64 DER private key opens with its outer SEQUENCE and version INTEGER:
# base64 "M" then a fixed shape per DER length form. The leading literal "M" lets the
# regex engine skip ahead quickly (about as fast as one substring search).
_OPENING = re.compile(
    rb"M(?:II[A-Za-z0-9+/]{2}[AQgw]IBA[AD]"  # 2-byte length: PKCS#1, DSA, PKCS#8
    rb"|I[GH][A-Za-z0-9+/]AgE[AB][MB]"  # 1-byte length: PKCS#8, SEC1
    rb"|[A-Za-z0-9+/]{2}CAQ[AE][wE])"  # short length: PKCS#8 (Ed25519, X25519), SEC1
)
_BASE64_CHARACTERS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def base64_key_starts(data: bytes) -> Iterator[int]:
    """Offsets where an unarmored base64 DER private key may start, in file order."""
    for match in _OPENING.finditer(data):
        start = match.start()
        if start == 0 or data[start - 1] not in _BASE64_CHARACTERS:
            yield start


def der_key_start(data: bytes) -> bool:
    """The file is one DER SEQUENCE that opens like a private key or PKCS#12 bundle."""
    if len(data) < 16 or data[0] != 0x30:
        return False
    first = data[1]
    header = 2 if first < 0x80 else 2 + (first & 0x7F)
    if header > 6:
        return False
    length = first if first < 0x80 else int.from_bytes(data[2:header], "big")
    if not len(data) - 4 <= header + length <= len(data):  # allow a trailing newline
        return False
    body = data[header:header + 3]
    # version 0/1 (keys), version 3 (PKCS#12), or an AlgorithmIdentifier SEQUENCE that
    # opens with its OID (encrypted PKCS#8; a certificate's first SEQUENCE does not)
    return body in (b"\x02\x01\x00", b"\x02\x01\x01", b"\x02\x01\x03") or (
        body[:1] == b"\x30" and body[1:2] < b"\x80" and body[2:3] == b"\x06")


def may_hold_private_key(data: bytes) -> bool:
    if any(marker in data for marker in ARMOR_MARKERS):
        return True
    if der_key_start(data):
        return True
    return next(base64_key_starts(data), None) is not None
