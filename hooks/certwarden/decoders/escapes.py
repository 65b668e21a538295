"""Text escapes around armored keys: JSON strings (`\\n`, `\\/`, `\\u002B`), arrays of lines,
XML and HTML character references and `<br>`, URL- and form-encoding, and one string
literal per line (Python, JavaScript, shell `echo`/`printf`, C, Java properties).

These decoders work on a region the key recognisers point at (an armor block they could
not read, or a "PRIVATE" that starts no block), and each runs only when its syntax is in
that region: a cheap `in` test, then one linear pass.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator

_JSON_ESCAPE = re.compile(rb'\\(u[0-9a-fA-F]{4}|["\\/bfnrt])')
_SIMPLE = {b'"': b'"', b"\\": b"\\", b"/": b"/", b"b": b"\b", b"f": b"\f", b"n": b"\n",
           b"r": b"\r", b"t": b"\t"}


def json_string(region: bytes) -> bytes | None:
    """JSON (and .NET, PHP, Java properties) string escapes, wherever they are."""
    if b"\\" not in region:
        return None

    def replace(match: re.Match[bytes]) -> bytes:
        token = match.group(1)
        if token[:1] == b"u":
            return chr(int(token[1:], 16)).encode("utf-8", "replace")
        return _SIMPLE[token]

    decoded = _JSON_ESCAPE.sub(replace, region)
    # Java properties continue a value on the next line after a trailing backslash.
    decoded = re.sub(rb"\\\r?\n[ \t]*", b"", decoded)
    return decoded if decoded != region else None


# A quoted literal with an optional prefix (b, r, u, f, $): its quote and its content.
_LITERAL = re.compile(rb"""(?<![A-Za-z0-9_])([bBrRuUfF]{0,2}|\$)(["'`])"""
                      rb"""((?:\\.|(?!\2)[^\\\n])*)\2""")


def _literal_content(prefix: bytes, content: bytes) -> bytes:
    if b"r" in prefix.lower() or b"\\" not in content:
        return content
    try:
        decoded: bytes = codecs.escape_decode(content)[0]  # \n \t \\ \' \" \xHH \NNN
    except (ValueError, UnicodeDecodeError):
        return content
    return decoded


def string_literals(region: bytes) -> bytes | None:
    """The text of the string literals in the region, one line per source line, as a
    program printing or joining them would produce (arrays: one element per line)."""
    if b'"' not in region and b"'" not in region and b"`" not in region:
        return None
    out: list[bytes] = []
    for line in region.splitlines():
        literals = list(_LITERAL.finditer(line))
        if not literals:
            continue
        piece = b""
        for index, literal in enumerate(literals):
            if index and b"," in line[literals[index - 1].end():literal.start()]:
                piece += b"\n"  # array elements: one per line
            piece += _literal_content(literal.group(1), literal.group(3))
        out.append(piece if piece.endswith(b"\n") else piece + b"\n")
    decoded = b"".join(out)
    return decoded if decoded and decoded != region else None


_REFERENCE = re.compile(rb"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|amp|lt|gt|quot|apos|nbsp);")
_NAMED = {b"amp": b"&", b"lt": b"<", b"gt": b">", b"quot": b'"', b"apos": b"'", b"nbsp": b" "}
# Tags that end a line (HTML, and word processors' XML: <w:p>, <text:p>), then any other.
_BREAK = re.compile(rb"<\s*(?:br|/?p|/?div|/?li|/?tr|/w:p|w:br|/text:p|text:line-break)\b"
                    rb"[^>]{0,200}>", re.IGNORECASE)
_TAG = re.compile(rb"<[A-Za-z/!?][^<>]{0,200}>")


def markup(region: bytes) -> bytes | None:
    """XML and HTML character references and line-breaking tags."""
    if b"&" not in region and b"<" not in region:
        return None

    def replace(match: re.Match[bytes]) -> bytes:
        token = match.group(1)
        if token[:1] == b"#":
            number = int(token[2:], 16) if token[1:2] in (b"x", b"X") else int(token[1:])
            return chr(min(number, 0x10FFFF)).encode("utf-8", "replace")
        return _NAMED[token]

    decoded = _REFERENCE.sub(replace, _TAG.sub(b"", _BREAK.sub(b"\n", region)))
    return decoded if decoded != region else None


_SOFT_BREAK = re.compile(rb"=\r?\n")


def quoted_printable(region: bytes) -> bytes | None:
    """MIME quoted-printable (e-mail): `=3D` for '=', `=` at a line's end continues it."""
    if b"=3D" not in region and b"=3d" not in region and not _SOFT_BREAK.search(region):
        return None
    import quopri

    decoded = quopri.decodestring(region)
    return decoded if decoded != region else None


_PERCENT = re.compile(rb"%[0-9A-Fa-f]{2}")


def url(region: bytes) -> bytes | None:
    """URL percent-encoding; form encoding ('+' for a space) when the armor says so."""
    if b"%" not in region or not _PERCENT.search(region):
        return None
    from urllib.parse import unquote_to_bytes

    form = any(marker in region for marker in (b"BEGIN+", b"+PRIVATE", b"PRIVATE+KEY",
                                               b"END+"))
    if form:
        region = region.replace(b"+", b" ")
    decoded = unquote_to_bytes(region)
    return decoded if decoded != region else None


Unescape = Callable[[bytes], "bytes | None"]
UNESCAPES: tuple[tuple[str, Unescape], ...] = (
    ("URL-encoding", url), ("XML/HTML references", markup), ("JSON string", json_string),
    ("string literals", string_literals), ("quoted-printable", quoted_printable))


def unescapings(region: bytes, *, depth: int = 2) -> Iterator[tuple[tuple[str, ...], bytes]]:
    """(layers, text) for each way of unescaping the region, compositions included."""
    seen = {region}
    frontier: list[tuple[tuple[str, ...], bytes]] = [((), region)]
    for _ in range(depth):
        following = []
        for layers, text in frontier:
            for name, unescape in UNESCAPES:
                decoded = unescape(text)
                if decoded is None or decoded in seen:
                    continue
                seen.add(decoded)
                following.append(((*layers, name), decoded))
                yield (*layers, name), decoded
        frontier = following


# -- Python (and C, Go, Rust) string literals of DER: b'0\x82\x04\xa4\x02\x01\x00...' ------

_BYTES_LITERAL = re.compile(rb"""[bB]?(["'])((?:\\.|(?!\1)[^\\\n])*)\1""")
_CONTINUED = re.compile(rb"""[\s\\()+]*[bB]?(["'])((?:\\.|(?!\1)[^\\\n])*)\1""")


def bytes_literal_at(data: bytes, position: int) -> tuple[int, int, bytes] | None:
    """(start, end, value) of the string literal of `\\x` escapes (with adjacent ones:
    C and Python juxtaposition, `+` in Go, a `\\` continuation) holding position."""
    line_start = data.rfind(b"\n", 0, position) + 1
    floor = max(line_start, position - (1 << 16))
    start = max(data.rfind(b"'", floor, position), data.rfind(b'"', floor, position))
    if start == -1:
        return None
    if start > floor and data[start - 1:start] in (b"b", b"B"):
        start -= 1
    first = _BYTES_LITERAL.match(data, start)
    if first is None or first.end() <= position:
        return None
    pieces = [first.group(2)]
    end = first.end()
    while len(pieces) < 100_000:
        following = _CONTINUED.match(data, end)
        if following is None:
            break
        pieces.append(following.group(2))
        end = following.end()
    try:
        value: bytes = codecs.escape_decode(b"".join(pieces))[0]
    except (ValueError, UnicodeDecodeError):
        return None
    return start, end, value
