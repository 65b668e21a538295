"""Hex dumps and byte arrays: `xxd -p` (wrapped or one line), `xxd` and `hexdump -C` style
dumps with offsets, colon or space separators, C arrays (`xxd -i`), `\\x` escapes, and
decimal byte lists (`JSON.stringify(buffer)`, C and Python arrays).

Triggers: hex of the start of a PEM armor line ("-----") and of a DER key's version field
(INTEGER 0, 1 or 3), in each separator style, and decimal DER openings. A file that opens
with a long run of hex digits is decoded too.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from certwarden.decoders import MIN_ENCODED, Decoded, Limits, Transport, opens_with_run

# The automaton keeps its SIMD fast path up to 64 literals in all: few, well-chosen ones.
_HEX_TRIGGERS = (b"2d2d2d2d2d", b"2D2D2D2D2D", b"2d 2d 2d 2d", b"0x2d, 0x2d",  # "-----"
                 b"02010", b"02:01:0", b"02 01 0", b"x02, 0x01, 0x0", b"X02, 0X01, 0X0",
                 b"\\x02\\x01\\x0",
                 b"x01, (byte)")  # Java casts: "(byte) 0x02, (byte) 0x01, (byte) 0x00"
_DECIMAL_TRIGGERS = (b"48,130,", b"48, 130, ", b"2,1,0,48,", b"2,1,1,4,",
                     b"48,-126,", b"48, -126, ")  # Java, Kotlin, C# sbyte: signed
TRIGGERS = _HEX_TRIGGERS + _DECIMAL_TRIGGERS



@functools.lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[bytes], ...]:
    """(offset column, hex body, not hex, decimals, hexdump -C line, od line, casts),
    compiled on first use."""
    return (
        # An offset column: "00000000: ", "00000000  ", "0000 | "
        re.compile(rb"[ \t]*(?:0[xX])?[0-9A-Fa-f]{4,16}(?::[ \t]*|[ \t]{2,}|[ \t]*\|[ \t]*)"),
        # Hex bytes with at most one separator between them (two spaces start the ASCII
        # column of a dump).
        re.compile(rb"[ \t{\[(\"']*((?:(?:0[xX]|\\x)?[0-9A-Fa-f]{2}(?:, ?|[:;.\- \t])?)+)"),
        re.compile(rb"0[xX]|\\x|[^0-9A-Fa-f]"),
        re.compile(rb"[-\d,\s]+"),
        # hexdump -C / hd: two groups of eight, the ASCII column between bars
        re.compile(rb"[0-9a-fA-F]{8}  ((?:[0-9a-fA-F]{2} ){1,8})(?: ((?:[0-9a-fA-F]{2} ){1,8}))?"
                   rb" *\|"),
        # od -A x -t x1z: a short offset, one space, the ASCII column between > <
        re.compile(rb"[0-9a-fA-F]{6,8} ((?:[0-9a-fA-F]{2} ?){1,16}) *(?:>.*<)?"),
        # casts around each byte: Java (byte) 0x30, Kotlin 0x82.toByte(), C (uint8_t)0x30
        re.compile(rb"\((?:byte|sbyte|char|u?int8_t|unsigned char)\) ?|\.toU?Byte\(\)"))
MAX_LINES = 1 << 20


def _line_bytes(line: bytes, start: int | None = None) -> bytes | None:
    """The bytes a hex dump line holds (None when it is not one); from `start` when the
    hex begins after other text on the line (`unsigned char key[] = {0x30, ...`)."""
    offset_column, hex_body, not_hex, _, hexdump, od, casts = _patterns()
    if start is None:
        dump = hexdump.match(line) or od.fullmatch(line.rstrip())
        if dump is not None:
            digits = not_hex.sub(b"", b"".join(group for group in dump.groups() if group))
            return bytes.fromhex(digits.decode("ascii"))
    if b"(" in line or b".to" in line:
        cleaned = casts.sub(b"", line)
        if cleaned != line:
            line = cleaned
            if start is not None:  # the hex now opens at the first 0x, the casts gone
                first = min((i for i in (line.find(b"0x"), line.find(b"0X")) if i != -1),
                            default=-1)
                start = first if first != -1 else min(start, len(line))
    offset = offset_column.match(line) if start is None else None
    body = hex_body.match(line, start if start is not None else (offset.end() if offset else 0))
    if body is None:
        return None
    digits = not_hex.sub(b"", body.group(1))
    if len(digits) % 2:
        digits = digits[:-1]
    if len(digits) < 8 and offset is None and len(line[body.end():].strip()) > 4:
        return None  # a few hex-looking letters before other text: not a dump line
    try:
        return bytes.fromhex(digits.decode("ascii"))
    except ValueError:
        return None


def _hex_region(data: bytes, position: int) -> tuple[int, int, bytes]:
    """(start, end, bytes) of the hex dump lines around position."""
    line_start = data.rfind(b"\n", 0, position) + 1
    start = line_start
    lines_back = 0
    while start > 0 and lines_back < 64:  # a trigger sits within the first lines
        previous = data.rfind(b"\n", 0, start - 1) + 1
        if _line_bytes(data[previous:start - 1].rstrip(b"\r")) is None:
            break
        start = previous
        lines_back += 1
    out: list[bytes] = []
    cursor = start
    for _ in range(MAX_LINES):
        end = data.find(b"\n", cursor)
        end = len(data) if end == -1 else end
        line = data[cursor:end].rstrip(b"\r")
        chunk = _line_bytes(line)
        if chunk is None and cursor == line_start:  # text before the hex on the hit's line
            chunk = _line_bytes(line, _run_start(line, position - line_start))
        if chunk is None:
            if cursor > line_start:
                break
        else:
            out.append(chunk)
        if end >= len(data):
            cursor = end
            break
        cursor = end + 1
    return start, cursor, b"".join(out)


def _run_start(line: bytes, position: int) -> int:
    """Where the hex (and its separators, `0x` prefixes) holding position starts."""
    start = position
    while start > 0 and line[start - 1] in b"0123456789abcdefABCDEFxX,:; \t\\":
        start -= 1
    while start < position and line[start] in b" \t,;:":
        start += 1
    return start


def _decimal_region(data: bytes, position: int) -> tuple[int, int, bytes]:
    start = position
    floor = max(0, position - 65536)
    while start > floor and data[start - 1] in b"-0123456789, \t\r\n":
        start -= 1
    match = _patterns()[3].match(data, start)
    if match is None:
        return start, position + 1, b""
    out = bytearray()
    for token in match.group().replace(b",", b" ").split():
        try:
            value = int(token)
        except ValueError:  # a lone "-"
            continue
        if -128 <= value < 0:
            value += 256  # Java, Kotlin and C# sbyte arrays are signed
        if not 0 <= value <= 255:
            if len(out) >= MIN_ENCODED:
                break
            out.clear()
            continue
        out.append(value)
    return start, match.end(), bytes(out)


class HexRuns(Transport):
    name = "hex"
    triggers = TRIGGERS

    def probe(self, data: bytes) -> bool:
        return opens_with_run(data, b"0123456789abcdefABCDEF")

    def decode(self, data: bytes, positions: list[int], limits: Limits) -> Iterator[Decoded]:
        covered = -1
        for position in self.starts(data, positions):
            if position < covered:
                continue
            if data.startswith(b"\\x", position):
                from certwarden.decoders.escapes import bytes_literal_at

                literal = bytes_literal_at(data, position)
                if literal is not None:
                    start, covered, value = literal
                    if len(value) >= MIN_ENCODED // 2 and limits.take(len(value), "bytes"):
                        yield Decoded(value, "bytes literal", start)
                    continue
            decimal = _is_decimal_hit(data, position)
            start, end, decoded = (_decimal_region if decimal else _hex_region)(data, position)
            covered = max(position + 1, end)
            if len(decoded) < MIN_ENCODED // 2 or not limits.first_time(decoded) \
                    or not limits.take(len(decoded), "hex"):
                continue
            yield Decoded(decoded, "decimal bytes" if decimal else "hex", start)


def _is_decimal_hit(data: bytes, position: int) -> bool:
    return any(data.startswith(literal, position) for literal in _DECIMAL_TRIGGERS)


DECODER = HexRuns()
