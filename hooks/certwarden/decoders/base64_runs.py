"""Runs of base64 (also base64url, wrapped lines, JSON-escaped `\\/`) and what they encode.

Triggers: what base64 makes of the start of a PEM armor line ("-----BEGIN"), of a DER key's
version field (INTEGER 0, 1 or 3 right after the outer SEQUENCE), of archive magic and of
UTF-16 armor, at each of the three offsets mod 3 a plaintext can start at, and the same
once more for base64 of base64. The literals are computed here from those plaintexts, so
the trigger table and the decoder cannot drift apart. A whole file that opens with a long
run of base64 is decoded too (whatever it encodes).
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import string
from collections.abc import Generator, Iterator

from certwarden.decoders import MIN_ENCODED, Decoded, Limits, Transport, opens_with_run

# base64 and base64url, built rather than spelled out (a literal looks like a secret)
_ALPHABET_BYTES = (string.ascii_uppercase + string.ascii_lowercase + string.digits
                   + "+/-_").encode()
_ALPHABET = frozenset(_ALPHABET_BYTES)
_FILLERS = (0x00, 0xFF, 0x5A)


def _stable(plain: bytes, layers: int, prefix: int, outer_prefix: int) -> bytes:
    """The longest stretch of the encoding that does not depend on what surrounds plain."""
    encodings = []
    for filler in _FILLERS:
        data = bytes([filler]) * prefix + plain + bytes([filler]) * 3
        if layers == 2:
            data = bytes([filler]) * outer_prefix + base64.b64encode(data) + bytes([filler]) * 3
        encodings.append(base64.b64encode(data))
    length = min(len(e) for e in encodings)
    best, run_start = b"", None
    for index in range(length + 1):
        same = index < length and len({e[index] for e in encodings}) == 1
        if same and run_start is None:
            run_start = index
        elif not same and run_start is not None:
            if index - run_start > len(best):
                best = encodings[0][run_start:index]
            run_start = None
    return best[:12]


def signatures(plain: bytes, *, layers: int = 1, offsets: tuple[int, ...] = (0, 1, 2)
               ) -> tuple[bytes, ...]:
    """Literals that appear in base64 (layers=2: base64 of base64) of anything holding
    plain at these offsets mod 3."""
    found = set()
    for prefix in offsets:
        for outer in range(3) if layers == 2 else (0,):
            literal = _stable(plain, layers, prefix, outer)
            if len(literal) >= 3:
                found.add(literal)
    return tuple(sorted(found))


# A DER key's version INTEGER and the first byte after it (PKCS#8 v0 and v1, PKCS#1 or
# DSA, SEC1, PKCS#12), at the offsets its SEQUENCE header puts it when the DER is what was
# encoded: 2 bytes (30 LL), 3 (30 81 LL) or 4 (30 82 LL LL). Certificates hold neither
# ("02 01 02"); SEC1 keys are never long enough for a 4-byte header (whose literal,
# "x2 01 01 0y", would match every 2048-bit signature's "82 01 01 00").
_DER_VERSIONS = ((b"\x02\x01\x00\x30", (0, 1, 2)), (b"\x02\x01\x00\x02", (0, 1, 2)),
                 (b"\x02\x01\x01\x04", (0, 2)), (b"\x02\x01\x01\x30", (1, 2)),
                 (b"\x02\x01\x03\x30", (1, 2)))  # a PFX is never 128-255 bytes long
# A SEC1 key that does not start at a multiple of 3 in what was encoded (bytes before it)
# puts its version at offset 1 too: there, the scalar's length byte keeps the literal off
# signatures ("IBAQQ": a 32-63 byte scalar, P-256 and P-384; "IBAQR": 64-79, P-521).
_SEC1_OFFSET_1 = (b"\x02\x01\x01\x04\x20", b"\x02\x01\x01\x04\x40")


def computed_triggers() -> tuple[bytes, ...]:
    """The trigger literals, from the plaintexts they stand for (a test keeps TRIGGERS
    equal to this; computing them on every start would cost a millisecond)."""
    return tuple(sorted({
        *signatures(b"-----BEGIN"), *signatures(b"-----BEGIN", layers=2),
        *(literal for version, offsets in _DER_VERSIONS
          for literal in signatures(version, offsets=offsets)),
        *(literal[:5] for version in _SEC1_OFFSET_1
          for literal in signatures(version, offsets=(1,))),
        base64.b64encode(b"-\0-\0-\0-\0-\0B\0")[:12],  # UTF-16 armor (PowerShell), aligned
        base64.b64encode(b"\x1f\x8b\x08")[:4], base64.b64encode(b"PK\x03\x04")[:5],
        base64.b64encode(b"openssh-key-v1\0")[:16],  # an OpenSSH key's bare structure
    }))


# The automaton keeps its SIMD fast path up to 64 literals in all: few, well-chosen ones.
TRIGGERS = (b'0TFMwdExVSkZ', b'0tLS0tQkVHSU', b'AgEAA', b'AgEAM', b'AgEBB', b'B0TFMwdFFrVk',
            b'CAQAC', b'CAQAw', b'CAQEE', b'CAQEw', b'CAQMw', b'H4sI', b'IBAA', b'IBAD', b'IBAQQ',
            b'IBAQR', b'IBAT', b'IBAz', b'LQAtAC0ALQAt', b'LS0tLS1CRUdJ', b'MHRMUzB0UWtW',
            b'MUzB0TFMxQ1J', b'RMUzB0TFVKRl', b'TFMwdExTMUNS', b'UEsDB', b'b3BlbnNzaC1rZXkt',
            b'dExTMHRMVUpG', b'tLS0tLUJFR0l', b'wdExTMHRRa1Z', b'xTMHRMUzFDUl')

# A run: base64 characters, JSON-escaped '/' and '+', and line breaks (real or `\n`) with
# the spaces around them, as wrapped base64 (`base64 -w 76`, YAML, a copy from a web page
# with trailing spaces or no-break spaces) has; or, loosely, blank lines between its lines,
# or a string literal continued on the next line, as source code wraps a long constant.
_BLANK = rb"(?:[ \t]|\xc2\xa0)*"  # spaces, tabs, no-break spaces (UTF-8)
_NEXT = rb"(?=[A-Za-z0-9+/_-])"


@functools.lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[bytes], re.Pattern[bytes], re.Pattern[bytes]]:
    """(a run on one line, the line break that continues it, a loose continuation: blank
    lines, or a string literal closed and another opened on the next line), compiled on
    first use. One character class for the run: the regular expression engine's fast
    path."""
    return (re.compile(rb"[A-Za-z0-9+/=_\\-]+"),
            re.compile(_BLANK + rb"(?:\r?\n|\\r\\n|\\n)" + _BLANK + _NEXT),
            re.compile(_BLANK + rb"(?:\r?\n" + _BLANK + rb"){2,}" + _NEXT + b"|"
                       # Java/Kotlin/C#/JS/Go `" +`, PHP `' .`, VB `" & _`, arrays `",`,
                       # Python and C adjacent literals, Ruby/shell `" \`, `+ "` leading.
                       rb"[\"'`][ \t]*(?:[+.&,]|\|\|)?[ \t]*[_\\]?[ \t]*\r?\n[ \t]*"
                       rb"(?:[+.&][ \t]*)?[\"'`]" + _NEXT))


def _run(data: bytes, start: int, stop: int) -> tuple[int, list[bytes]]:
    """(end, groups) of the run starting at start: base64 on one line, then on each
    following line that continues it. Each group is what line breaks join; groups are
    what a loose continuation joins, which may be unrelated values."""
    run, gap, loose = _patterns()
    end = start
    groups: list[bytes] = []
    group: list[bytes] = []
    for _ in range(4_000_000):
        match = run.match(data, end, stop)
        if match is None:
            break
        group.append(match.group())
        end = match.end()
        if data[end - 1:end] == b"=":
            break  # padding closes a run
        following = gap.match(data, end, stop)
        if following is None:
            following = loose.match(data, end, stop)
            if following is None:
                break
            groups.append(b"".join(group))
            group = []
        end = following.end()
    if group:
        groups.append(b"".join(group))
    return end, groups


_ESCAPES = ((b"\\/", b"/"), (b"\\u002B", b"+"), (b"\\u002b", b"+"), (b"\\u002F", b"/"),
            (b"\\u002f", b"/"), (b"\\r", b""), (b"\\n", b""))
_SPACE = b" \t\r\n"
MAX_RUN = 48 * 1024 * 1024


def _run_start(data: bytes, position: int) -> int:
    """Where the run holding position starts on its line (base64 has no spaces)."""
    start = position
    floor = max(0, position - 4096)
    while start > floor and data[start - 1] in _ALPHABET:
        start -= 1
    return start


def _normalise(run: bytes) -> bytes:
    if b"\\" in run:
        for escaped, plain in _ESCAPES:
            run = run.replace(escaped, plain)
    run = run.translate(None, _SPACE).rstrip(b"=")
    if b"-" in run or b"_" in run:
        run = run.translate(bytes.maketrans(b"-_", b"+/"))
    return run


def decode_run(text: bytes) -> bytes | None:
    """Base64 or base64url text (no whitespace), padding optional; None if it is not."""
    usable = text[: len(text) - len(text) % 4] if len(text) % 4 == 1 else text
    try:
        return base64.b64decode(usable + b"=" * (-len(usable) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _meaningful(decoded: bytes) -> bool:
    from certwarden.recognition.key_sniff import may_hold_private_key

    return may_hold_private_key(decoded)


def _decoded(text: bytes, how: str, start: int, limits: Limits
             ) -> Generator[Decoded, None, bool]:
    """The bytes a run encodes when they may hold a key; returns whether they did."""
    for skip in range(4):  # where the encoder started, if not at the run's start
        decoded = decode_run(text[skip:])
        if decoded and _meaningful(decoded):
            if limits.take(len(decoded), how):
                yield Decoded(decoded, how, start)
            return True
    return False


class Base64Runs(Transport):
    name = "base64"
    triggers = TRIGGERS

    def probe(self, data: bytes) -> bool:
        return opens_with_run(data, _ALPHABET_BYTES)

    def decode(self, data: bytes, positions: list[int], limits: Limits) -> Iterator[Decoded]:
        covered = -1
        for position in self.starts(data, positions):
            if position < covered:
                continue
            start = _run_start(data, position)
            covered, groups = _run(data, start, min(len(data), start + MAX_RUN))
            raw = b"".join(groups)
            text = _normalise(raw)
            if len(text) < MIN_ENCODED or not limits.first_time(text):
                continue
            url = b"-" in raw or b"_" in raw
            how = "base64url" if url else "base64"
            found = yield from _decoded(text, how, start, limits)
            if not found and len(groups) > 1:
                # Loosely joined groups that are not one value (paragraphs, a list of
                # unrelated strings): each on its own.
                for group in groups:
                    text = _normalise(group)
                    if len(text) >= MIN_ENCODED and limits.first_time(text):
                        yield from _decoded(text, how, start, limits)


DECODER = Base64Runs()
