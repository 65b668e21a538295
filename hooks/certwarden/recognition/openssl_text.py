"""`openssl pkey -text` (also `openssl rsa -text`, `openssl ec -text`) dumps: the private
numbers in `aa:bb:` hex under `privateExponent:`/`prime1:` (RSA) or `priv:` (EC, DSA,
Ed25519, X25519). Text is never encrypted: found is unencrypted. `Public-Key:` dumps
(`openssl x509 -text`) hold no private number and are not matched."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from certwarden.recognition.found_key import FoundKey, digest

if TYPE_CHECKING:
    from certwarden.recognition.keys import KeyScan, View

_HEADER = re.compile(rb"(?:([A-Z0-9]+) )?Private-Key:(?: \((\d+) bit[^)\n]*\))?")
_SECRET = re.compile(rb"\n[ \t]*(privateExponent|priv|prime1):[ \t]*\r?\n"
                     rb"((?:[ \t]+[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2})*:?[ \t]*\r?\n)+)")
_WINDOW = 1 << 16
MAX_HEADERS = 256  # "Private-Key:" headers looked at in one file


def find(view: View, positions: list[int], scan: KeyScan, name: str) -> None:
    data = view.data
    done = -1
    for count, header in enumerate(_HEADER.finditer(data)):
        if count >= MAX_HEADERS:
            return
        if header.start() < done:
            continue
        window = data[header.end():header.end() + _WINDOW]
        secret = _SECRET.search(window)
        if secret is None:
            continue
        done = header.end() + secret.end()
        named, bits = header.group(1), header.group(2)
        key_type = named.decode().lower() if named else (
            "rsa" if b"modulus:" in window[:secret.start()] or secret.group(1) != b"priv"
            else ("ec" if b"ASN1 OID" in window[:secret.end() + 4096] else None))
        size = int(bits) if bits and len(bits) < 7 else None
        view.claim(header.start(), done)
        scan.add_key(view, FoundKey(form="openssl -text dump", line=view.line_at(header.start()),
                                    encrypted=False, material_digest=digest(secret.group(2)),
                                    key_type=key_type, key_size=size, family="x509",
                                    encoding="text"))
