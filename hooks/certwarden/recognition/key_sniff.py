"""Cheap tests for "might this file hold a private key?", run on every file.

Each test is a substring search over bytes already in memory; only files that pass
are handed to the key loaders, so a commit without keys never imports cryptography.
"""

from __future__ import annotations

import re

# PEM/OpenSSH/SSH2/OpenPGP labels all end in "PRIVATE KEY" (also when \n-escaped);
# "LS0tLS1CRUdJTi" is base64 of "-----BEGIN" (Kubernetes Secret data, other wrappers).
ARMOR_MARKERS = (b"PRIVATE KEY", b"PuTTY-User-Key-File-", b"LS0tLS1CRUdJTi")

# Short pieces every unarmored base64 DER private key has near its start (the version
# INTEGER after the outer SEQUENCE, for 2-byte, 1-byte and short DER lengths).
_BASE64_ANCHORS = (b"IBA", b"AgE", b"CAQ")
BASE64_KEY_START = re.compile(
    rb"(?<![A-Za-z0-9+/])(?:MII[A-Za-z0-9+/]{2}[AQgw]IBA[AD]"  # PKCS#1, DSA, PKCS#8
    rb"|MI[GH][A-Za-z0-9+/]AgE[AB][MB]"  # PKCS#8, SEC1 (1-byte length)
    rb"|M[A-Za-z0-9+/]{2}CAQ[AE][wE])"  # PKCS#8, SEC1 (short length)
)


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
    # version 0/1 (keys), version 3 (PKCS#12), or a nested SEQUENCE (encrypted PKCS#8)
    return body in (b"\x02\x01\x00", b"\x02\x01\x01", b"\x02\x01\x03") or body[:1] == b"\x30"


def may_hold_private_key(data: bytes) -> bool:
    if any(marker in data for marker in ARMOR_MARKERS):
        return True
    if der_key_start(data):
        return True
    return any(anchor in data for anchor in _BASE64_ANCHORS) and bool(
        BASE64_KEY_START.search(data))
