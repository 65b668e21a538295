"""Windows CryptoAPI private keys: PRIVATEKEYBLOB (`CryptExportKey`, .NET
`ExportCspBlob(true)`, `openssl rsa -outform MS\\ PRIVATEKEYBLOB`) and PVK files
(`openssl rsa -outform PVK`, Microsoft's pvk2pfx input). A PRIVATEKEYBLOB is the key in
the clear; a PVK file says in its header whether it is encrypted (RC4 under a SHA-1 of
the password: weak).

Spotted by the blob's magic ("RSA2" for RSA, "DSS2" for DSA), checked against the
BLOBHEADER before it (type 7, version 2), and by a PVK header's magic before that.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from certwarden.recognition.found_key import FoundKey, Protection, digest

if TYPE_CHECKING:
    from certwarden.recognition.keys import KeyScan, View

PRIVATEKEYBLOB, CUR_BLOB_VERSION = 0x07, 0x02
ALGORITHMS = {0x0000A400: "rsa", 0x00002400: "rsa", 0x00002200: "dsa"}
PVK_MAGIC = 0xB0B5F11E
MAX_BLOBS = 256


def _pvk_header(data: bytes, blob_start: int) -> tuple[int, bool] | None:
    """(offset, encrypted) of the PVK header whose key blob starts at blob_start."""
    for salt_length in (0, 16):
        start = blob_start - 24 - salt_length
        if start < 0:
            continue
        magic, _, _, encrypted, salt, length = struct.unpack_from("<6I", data, start)
        if magic == PVK_MAGIC and salt == salt_length and length >= 20:
            return start, encrypted != 0
    return None


def _encrypted_pvk(view: View, scan: KeyScan) -> None:
    """A PVK file whose header says encrypted: its key blob (magic included) is ciphertext."""
    data = view.data
    if len(data) < 32 or struct.unpack_from("<I", data)[0] != PVK_MAGIC:
        return
    _, _, _, encrypted, salt_length, length = struct.unpack_from("<6I", data)
    blob = 24 + salt_length
    if not encrypted or not 16 <= length <= len(data) - blob or salt_length > 64:
        return
    algorithm = struct.unpack_from("<I", data, blob + 4)[0]
    view.claim(0, blob + length)
    scan.add_key(view, FoundKey(form="PVK file", line=None, encrypted=True,
                                material_digest=digest(data[:blob + length]),
                                key_type=ALGORITHMS.get(algorithm), family="mscapi",
                                encoding="binary",
                                protection=Protection("PVK", "rc4", "sha1", {"iterations": 1})))


def find(view: View, positions: list[int], scan: KeyScan, name: str) -> None:
    data = view.data
    _encrypted_pvk(view, scan)
    for count, position in enumerate(positions):
        if count >= MAX_BLOBS:
            return
        start = position - 8  # BLOBHEADER: type, version, reserved (2), algorithm (4)
        if start < 0 or view.is_claimed(position):
            continue
        kind, version, _, algorithm = struct.unpack_from("<BBHI", data, start)
        pvk = _pvk_header(data, start)
        if version != CUR_BLOB_VERSION or algorithm not in ALGORITHMS or (
                kind != PRIVATEKEYBLOB and not (pvk and pvk[1])):
            continue
        bits = struct.unpack_from("<I", data, position + 4)[0] if len(data) >= position + 8 \
            else 0
        key_type = ALGORITHMS[algorithm]
        size = bits if 256 <= bits <= 16384 else None
        material = data[start:start + 8 + 12 + (bits // 8) * 5 if bits else 256]
        if pvk is not None and pvk[1]:
            found = FoundKey(form="PVK file", line=None, encrypted=True,
                             material_digest=digest(material), key_type=key_type, key_size=size,
                             protection=Protection("PVK", "rc4", "sha1", {"iterations": 1}),
                             family="mscapi", encoding="binary")
        else:
            found = FoundKey(form="PVK file" if pvk else "CryptoAPI PRIVATEKEYBLOB", line=None,
                             encrypted=False, material_digest=digest(material),
                             key_type=key_type, key_size=size, family="mscapi",
                             encoding="binary")
        view.claim(pvk[0] if pvk else start, start + len(material))
        scan.add_key(view, found)
