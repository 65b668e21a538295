"""Find PEM-style armored blocks wherever they hide, in one linear pass, without cryptography.

Tolerates CRLF, indentation (YAML), a wrapper repeated on every line (`> ` e-mail quotes,
`# ` comments, ` * ` C comments, `+` in diffs, line numbers, `b"..."` literals), quoting
and `\\n` escapes (JSON, .env, source strings), blank and stray lines, spaced groups,
legacy PEM headers and OpenPGP armor headers/checksums. Every BEGIN and END marker is found
by one regular expression scan; blocks are their pairs, so no input costs more than a
linear pass (1 MiB of BEGIN lines, or a 100 KB line of spaces, is read once).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

_MARKER = re.compile(rb"-----(BEGIN|END) ([A-Za-z0-9][A-Za-z0-9 #._/-]{0,62}?)-----")
_ESCAPED_NEWLINE = re.compile(rb"\\r\\n|\\n|\\r")
# Wrapping around a body line: indentation, quotes, comment or quote markers, string
# concatenation. '+' and '/' are base64 characters, so they are only stripped beside a quote.
_LEADING_WRAPPER = re.compile(rb"[ \t#>;|*]*(?:\+[ \t]*[\"']|[\"'`])?")
_BASE64_LINE = re.compile(rb"[A-Za-z0-9+/]*={0,2}")
_PGP_CHECKSUM = re.compile(rb"=[A-Za-z0-9+/]{4}")
_HEADER_LINE = re.compile(rb"([A-Za-z][A-Za-z0-9-]*): ?(.*)")
_DIGITS = re.compile(rb"\d+")
MAX_BODY = 16 * 1024 * 1024  # an incomplete block's body: what can follow its BEGIN line
_PLAIN = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= \t\r\n")


@dataclass(frozen=True)
class ArmoredBlock:
    label: str
    line: int  # 1-based line of the BEGIN marker
    start: int  # byte offset of the BEGIN marker
    end: int  # byte offset just past the END marker (or the body, when incomplete)
    headers: dict[str, str]
    der: bytes | None  # None when the body is not base64 (placeholder, garbage)
    complete: bool  # False when no END marker follows
    body: bytes = b""  # the raw bytes between the markers
    end_label: str = ""  # the END marker's label (may differ: still a block)
    stray_lines: int = 0  # body lines that were neither base64 nor a header

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


def _wrapper_pattern(wrapper: bytes, *, at_end: bool) -> re.Pattern[bytes] | None:
    """The wrapper seen around the BEGIN marker, as a pattern for the body lines: digits
    may change (line numbers), whitespace may vary."""
    wrapper = wrapper.strip(b"\r")
    if not wrapper.strip() or len(wrapper) > 48:
        return None
    parts = [rb"\s*"] if not at_end else []
    for piece in re.split(rb"(\d+|\s+)", wrapper):
        if not piece:
            continue
        if piece.isdigit():
            parts.append(rb"\d+")
        elif piece.isspace():
            parts.append(rb"\s*")
        else:
            parts.append(re.escape(piece))
    if at_end:
        parts.append(rb"\s*$")
    # Adjacent `\s*` would let the engine try every split of a long run of spaces.
    deduplicated = [part for index, part in enumerate(parts)
                    if not (part == rb"\s*" and index and parts[index - 1] == rb"\s*")]
    return re.compile(b"".join(deduplicated))


# A wrapper after the base64 is at most this far from the end of its line: searching only
# there keeps a long line linear (a regex searched for at every position is quadratic).
_TRAILING_REACH = 128
_TRAILING_CLASS = b" \t+,;)\\"


def _strip_trailing_wrapper(line: bytes) -> bytes:
    """What `(?:["'`][ \t+,;)\\]*|[ \t,;)\\]+)$` removes (a closing quote and the
    concatenation or continuation after it, or those characters alone), in linear time."""
    stripped = line.rstrip(_TRAILING_CLASS)
    if stripped[-1:] in (b'"', b"'", b"`"):
        return stripped[:-1]
    return line.rstrip(b" \t,;)\\")


def decode_body(body: bytes, prefix: bytes = b"", suffix: bytes = b""
                ) -> tuple[dict[str, str], bytes | None]:
    """Split an armored body into headers and decoded bytes."""
    headers, der, _ = read_body(body, prefix, suffix)
    return headers, der


def read_body(body: bytes, prefix: bytes = b"", suffix: bytes = b""
              ) -> tuple[dict[str, str], bytes | None, int]:
    """(headers, decoded bytes or None, stray lines) of an armored body."""
    if _PLAIN.issuperset(body):
        compact = body.translate(None, b" \t\r\n")
        # The common case: plain base64 lines, maybe indented or CRLF.
        if len(compact) % 4 == 0 and b"=" not in compact.rstrip(b"="):
            try:
                return {}, base64.b64decode(compact, validate=True), 0
            except (binascii.Error, ValueError):
                pass
    if b"\n" not in body.strip(b"\r\n") and _ESCAPED_NEWLINE.search(body):
        body = _ESCAPED_NEWLINE.sub(b"\n", body)
    leading = _wrapper_pattern(prefix, at_end=False)
    trailing = _wrapper_pattern(suffix, at_end=True)
    headers: dict[str, str] = {}
    chunks: list[bytes] = []
    stray = 0
    continued = False
    for raw_line in body.replace(b"\r", b"\n").split(b"\n"):
        line = raw_line
        if leading is not None:
            match = leading.match(line)
            if match:
                line = line[match.end():]
        if trailing is not None:
            match = trailing.search(line, max(0, len(line) - _TRAILING_REACH))
            if match:
                line = line[:match.start()]
        line = _LEADING_WRAPPER.sub(b"", line, count=1)
        line = _strip_trailing_wrapper(line).strip()
        if not line:
            continue
        if continued:  # RFC 1421 / OpenPGP header continuation
            continued = line.endswith(b"\\")
            continue
        header = _HEADER_LINE.fullmatch(line) if not chunks else None
        if header is not None:
            name = header.group(1).decode("ascii")
            headers[name] = header.group(2).decode("ascii", "replace")
            continued = line.endswith(b"\\")
            continue
        if _PGP_CHECKSUM.fullmatch(line):
            continue
        compact = line.replace(b" ", b"").replace(b"\t", b"")
        if _BASE64_LINE.fullmatch(compact):
            chunks.append(compact)
        else:
            stray += 1
    joined = b"".join(chunk.rstrip(b"=") if index < len(chunks) - 1 else chunk
                      for index, chunk in enumerate(chunks))
    if not joined:
        return headers, None, stray
    try:
        unpadded = joined.rstrip(b"=")
        usable = unpadded[: len(unpadded) - (len(unpadded) % 4 == 1)]
        return headers, base64.b64decode(usable + b"=" * (-len(usable) % 4),
                                         validate=True), stray
    except (binascii.Error, ValueError):
        return headers, None, stray


def _line_bounds(data: bytes, start: int, end: int) -> tuple[bytes, bytes]:
    """What precedes a marker on its line, and what follows the marker ending at `end`."""
    line_start = max(data.rfind(b"\n", max(0, start - 256), start) + 1, start - 256, 0)
    line_end = data.find(b"\n", end, end + 256)
    return data[line_start:start], data[end:line_end if line_end != -1 else min(len(data),
                                                                                   end + 256)]


def find_blocks(data: bytes, *, labels: frozenset[str] | None = None,
                keep_empty: bool = True) -> list[ArmoredBlock]:
    """Every `-----BEGIN X-----` ... `-----END Y-----` block, in file order; a BEGIN that
    another BEGIN follows is an incomplete block (without keep_empty, only when something
    that could be a body follows it: 1 MiB of BEGIN lines costs one pass, not 37,000
    blocks)."""
    blocks: list[ArmoredBlock] = []
    if b"-----BEGIN " not in data:
        return blocks
    lines = LineCounter(data)
    markers = _MARKER.finditer(data)
    begin = next(markers, None)
    while begin is not None:
        following = next(markers, None)
        if begin[1] != b"BEGIN":
            begin = following
            continue
        label = begin[2].decode("ascii")
        if labels is not None and label not in labels:
            begin = following
            continue
        if following is not None and following[1] == b"END":
            body = data[begin.end():following.start()]
            prefix, suffix = _line_bounds(data, begin.start(), begin.end())
            headers, der, stray = read_body(body, prefix, suffix)
            blocks.append(ArmoredBlock(label, lines.line_at(begin.start()), begin.start(),
                                       following.end(), headers, der, True, body,
                                       following[2].decode("ascii"), stray))
            begin = next(markers, None)
            continue
        stop = following.start() if following is not None else len(data)
        body = data[begin.end():min(stop, begin.end() + MAX_BODY)]
        if keep_empty or (len(body) > 16 and body[:4096].strip()):
            blocks.append(ArmoredBlock(label, lines.line_at(begin.start()), begin.start(),
                                       begin.end() + len(body), {}, None, False, body))
        begin = following
    return blocks


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
