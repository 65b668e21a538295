"""UTF-16 and UTF-32 text (with or without a byte order mark) as UTF-8.

PowerShell 5 writes UTF-16LE with a BOM for `>`; .NET and Windows tools write UTF-16 too.
Trigger: a BOM, the pattern of NUL bytes at the start of the file, or "PRIVATE" spelt in
UTF-16 or UTF-32 anywhere in binary data.
"""

from __future__ import annotations

from collections.abc import Iterator

from certwarden.decoders import Decoded, Limits, Transport

_BOMS = ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
         (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_NAMES = {"utf-32-le": "UTF-32LE", "utf-32-be": "UTF-32BE", "utf-16-le": "UTF-16LE",
          "utf-16-be": "UTF-16BE"}


_BEFORE, _AFTER = 8192, 1 << 20  # bytes decoded around UTF-16 text found in binary data


def _by_nul_pattern(head: bytes) -> str | None:
    """The encoding ASCII text has when every 2nd or 4th byte carries it."""
    if b"\0" not in head[:4]:
        return None  # ASCII text in UTF-16 or UTF-32 has a NUL in its first four bytes
    sample = head[:64] if len(head) >= 64 else head[: len(head) - len(head) % 4]
    if len(sample) < 8:
        return None
    quads = [sample[i:i + 4] for i in range(0, len(sample), 4)]
    if all(q[1:] == b"\0\0\0" and q[0] for q in quads):
        return "utf-32-le"
    if all(q[:3] == b"\0\0\0" and q[3] for q in quads):
        return "utf-32-be"
    pairs = [sample[i:i + 2] for i in range(0, len(sample), 2)]
    if all(p[1] == 0 and p[0] for p in pairs):
        return "utf-16-le"
    if all(p[0] == 0 and p[1] for p in pairs):
        return "utf-16-be"
    return None


def detect(data: bytes) -> tuple[str, int] | None:
    """(codec, offset of the text) when the whole file is UTF-16 or UTF-32 text."""
    if data[:1] not in (b"\xff", b"\xfe", b"\x00") and b"\0" not in data[1:4]:
        return None  # no byte order mark, and ASCII-range text would have a NUL here
    for bom, codec in _BOMS:
        if data.startswith(bom):
            if codec == "utf-32-le" and len(data) % 4:  # UTF-16LE text starting with NUL?
                return "utf-16-le", 2
            return codec, len(bom)
    by_pattern = _by_nul_pattern(data)
    return (by_pattern, 0) if by_pattern else None


class TextEncodings(Transport):
    name = "text encoding"
    # "RIVATE" (of PRIVATE) and "LS0t" (base64 of "---") in UTF-16, "RIVA" in UTF-32
    triggers = (b"R\0I\0V\0A\0T\0E\0", b"L\0S\x000\0t\0",
                b"R\0\0\0I\0\0\0V\0\0\0A\0\0\0")

    def probe(self, data: bytes) -> bool:
        return detect(data) is not None

    def decode(self, data: bytes, positions: list[int], limits: Limits) -> Iterator[Decoded]:
        found = detect(data)
        candidates: list[tuple[str, int, int]] = [(*found, len(data))] if found else []
        done = -1
        for position in positions if not found else ():
            if position < done:
                continue
            # Text inside binary data: decode a window around it, in the hit's alignment.
            start = max(0, position - _BEFORE)
            done = position + _AFTER
            for codec, first in (("utf-16-le", position), ("utf-16-be", position + 1),
                                 ("utf-32-le", position), ("utf-32-be", position + 3)):
                width = 4 if codec.startswith("utf-32") else 2
                candidates.append((codec, start + (first - start) % width, done))
        for codec, offset, end in candidates:
            body = data[offset:end]
            width = 4 if codec.startswith("utf-32") else 2
            body = body[: len(body) - len(body) % width]
            if not limits.take(len(body) // width, _NAMES[codec]):
                return
            text = body.decode(codec, "replace").encode("utf-8", "replace")
            yield Decoded(text, _NAMES[codec], offset)


DECODER = TextEncodings()
