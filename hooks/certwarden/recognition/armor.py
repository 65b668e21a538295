"""Find PEM-style armored blocks wherever they hide, without importing cryptography.

Tolerates CRLF, indentation (YAML), quoting and `\\n` escapes (JSON, .env, source
strings), markdown quoting, legacy PEM headers and OpenPGP armor headers/checksums.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9][A-Z0-9 #._/-]{0,60}?)-----")
_ESCAPED_NEWLINE = re.compile(rb"\\r\\n|\\n|\\r")
# Wrapping around a body line: indentation, quotes, comment or quote markers, string
# concatenation. '+' and '/' are base64 characters, so they are only stripped beside a quote.
_LEADING_WRAPPER = re.compile(rb"^[\s#>;|]*(?:\+\s*[\"']|[\"'])?")
_TRAILING_WRAPPER = re.compile(rb"(?:[\"'][\s+,;)\\]*|[\s,;)\\]+)$")
_BASE64_LINE = re.compile(rb"^[A-Za-z0-9+/=]*$")
_WRAPPER_ONLY = re.compile(rb"^[\s\"'+,;()\\]*$")  # what is left between concatenated strings
_PGP_CHECKSUM = re.compile(rb"^=[A-Za-z0-9+/]{4}$")
_HEADER_LINE = re.compile(rb"^([A-Za-z][A-Za-z0-9-]*): ?(.*)$")


@dataclass(frozen=True)
class ArmoredBlock:
    label: str
    line: int  # 1-based line of the BEGIN marker
    start: int  # byte offset of the BEGIN marker
    end: int  # byte offset just past the END marker (or the BEGIN marker when incomplete)
    headers: dict[str, str]
    der: bytes | None  # None when the body is not base64 (placeholder, garbage)
    complete: bool  # False when no END marker follows

    @property
    def body_length(self) -> int:
        return len(self.der) if self.der else 0


class LineCounter:
    """Line numbers for offsets asked in increasing order, counted incrementally: a file
    with thousands of blocks must not be recounted from its start for each one."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0
        self.line = 1

    def line_at(self, offset: int) -> int:
        if offset < self.offset:
            self.offset, self.line = 0, 1
        self.line += self.data.count(b"\n", self.offset, offset)
        self.offset = offset
        return self.line


_PLAIN_WHITESPACE = b" \t\r\n"


def decode_body(body: bytes) -> tuple[dict[str, str], bytes | None]:
    """Split an armored body into headers and decoded bytes."""
    if not any(c in body for c in (b":", b"\\", b'"', b"'", b">", b"#", b"|")):
        # The common case: plain base64 lines, maybe indented or CRLF.
        try:
            return {}, base64.b64decode(body.translate(None, _PLAIN_WHITESPACE), validate=True)
        except (binascii.Error, ValueError):
            pass
    text = _ESCAPED_NEWLINE.sub(b"\n", body).replace(b"\r", b"\n")
    headers: dict[str, str] = {}
    chunks: list[bytes] = []
    for raw_line in text.split(b"\n"):
        if _WRAPPER_ONLY.match(raw_line):
            continue
        line = _TRAILING_WRAPPER.sub(b"", _LEADING_WRAPPER.sub(b"", raw_line, count=1), count=1)
        if not line:
            continue
        header = _HEADER_LINE.match(line)
        if header and not chunks:
            headers[header.group(1).decode("ascii")] = header.group(2).decode("ascii", "replace")
            continue
        if _PGP_CHECKSUM.match(line):
            continue
        chunks.append(line)
    joined = b"".join(chunks)
    if not joined or not _BASE64_LINE.match(joined):
        return headers, None
    try:
        return headers, base64.b64decode(joined + b"=" * (-len(joined) % 4), validate=True)
    except (binascii.Error, ValueError):
        return headers, None


def find_blocks(data: bytes, *, labels: frozenset[str] | None = None) -> list[ArmoredBlock]:
    """Every `-----BEGIN X-----` ... `-----END X-----` block, in file order."""
    blocks: list[ArmoredBlock] = []
    lines = LineCounter(data)
    position = 0
    while True:
        begin = _BEGIN.search(data, position)
        if begin is None:
            return blocks
        label_bytes = begin.group(1)
        label = label_bytes.decode("ascii")
        end_marker = b"-----END " + label_bytes + b"-----"
        end = data.find(end_marker, begin.end())
        following_begin = _BEGIN.search(data, begin.end())
        if end != -1 and (following_begin is None or end < following_begin.start()):
            if labels is None or label in labels:
                headers, der = decode_body(data[begin.end():end])
                blocks.append(ArmoredBlock(label, lines.line_at(begin.start()), begin.start(),
                                           end + len(end_marker), headers, der, True))
            position = end + len(end_marker)
        else:
            if labels is None or label in labels:
                blocks.append(ArmoredBlock(label, lines.line_at(begin.start()), begin.start(),
                                           begin.end(), {}, None, False))
            position = begin.end()


def der_element_length(data: bytes, offset: int = 0) -> int | None:
    """Total length (header included) of the DER element at `offset`, if well formed."""
    if len(data) < offset + 2:
        return None
    first = data[offset + 1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4 or len(data) < offset + 2 + count:
        return None
    length = int.from_bytes(data[offset + 2:offset + 2 + count], "big")
    return 2 + count + length
