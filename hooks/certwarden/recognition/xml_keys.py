""".NET XML keys (`RSA.ToXmlString(true)`, `DSA.ToXmlString(true)`): `<RSAKeyValue>` with a
private member (`<D>`, `<P>`, `<Q>`, `<DP>`, `<DQ>`, `<InverseQ>`) or `<DSAKeyValue>` with
`<X>` is an unencrypted private key; without them it is a public key."""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING

from certwarden.recognition.found_key import FoundKey, digest

if TYPE_CHECKING:
    from certwarden.recognition.keys import KeyScan, View

_START = re.compile(rb"<(RSA|DSA)KeyValue>")
MAX_BODY = 1 << 16
_PRIVATE = {b"RSA": (b"D", b"P", b"Q", b"DP", b"DQ", b"InverseQ"), b"DSA": (b"X",)}


def _member(body: bytes, name: bytes) -> bytes | None:
    match = re.search(rb"<" + name + rb">\s*([A-Za-z0-9+/=\s]{16,})\s*</" + name + rb">", body)
    return match.group(1) if match else None


def _bits(value: bytes | None) -> int | None:
    if value is None:
        return None
    try:
        raw = base64.b64decode(b"".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return int.from_bytes(raw, "big").bit_length() or None


def find(view: View, positions: list[int], scan: KeyScan, name: str) -> None:
    data = view.data
    if b"KeyValue&gt;" in data and b"KeyValue>" not in data:
        import html

        data = html.unescape(data.decode("utf-8", "replace")).encode("utf-8")
    ends: dict[bytes, int] = {b"RSA": -1, b"DSA": -1}
    for match in _START.finditer(data):
        kind = match.group(1)
        closing = b"</" + kind + b"KeyValue>"
        if ends[kind] < match.end():  # one search per end tag: linear in the data
            found_end = data.find(closing, match.end())
            ends[kind] = found_end if found_end != -1 else len(data) + 1
        if ends[kind] > len(data) or ends[kind] - match.end() > MAX_BODY:
            continue
        body = data[match.end():ends[kind]]
        secret = next((value for member in _PRIVATE[kind]
                       if (value := _member(body, member)) is not None), None)
        if secret is None:
            continue
        size = _bits(_member(body, b"Modulus" if kind == b"RSA" else b"P"))
        line = view.line_at(match.start()) if data is view.data else view.line_at(0)
        scan.add_key(view, FoundKey(form=f".NET {kind.decode()}KeyValue XML", line=line,
                                    encrypted=False, material_digest=digest(secret),
                                    key_type=kind.decode().lower(), key_size=size,
                                    family="xml", encoding="text"))
