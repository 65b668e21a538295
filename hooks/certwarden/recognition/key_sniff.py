"""Cheap tests for "might these bytes hold a private key?", run on every file.

The markers of every key format (key_formats.FORMATS) and the triggers of every decoder
(certwarden.decoders) are searched together in one pass: an Aho-Corasick automaton with a
SIMD prefilter (ahocorasick_rs), a few GB/s, about the cost of one substring search
however many literals there are. The result says which formats and decoders have work in
these bytes, and where; only files that pass are handed to the key loaders, so a commit
without keys never imports cryptography. Without the compiled automaton (an unusual
platform), the same literals are searched one by one: same answers, slower.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

WINDOW = 1 << 22  # bytes per automaton call: bounds the memory of its answer
MAX_POSITIONS = 100_000  # per owner and file: more is an attack, not a file


class Hits:
    """Where each owner (a format or decoder name) has a marker, and which probes fired."""

    __slots__ = ("overflow", "positions", "probes")

    def __init__(self) -> None:
        self.positions: dict[str, list[int]] = {}
        self.probes: set[str] = set()
        self.overflow: set[str] = set()  # owners with more than MAX_POSITIONS markers

    def __bool__(self) -> bool:
        return bool(self.positions or self.probes)

    def of(self, owner: str) -> list[int]:
        return self.positions.get(owner, [])

    def wants(self, owner: str) -> bool:
        return owner in self.positions or owner in self.probes


class _Matcher:
    """All literals at once: (literal index, start) of every non-overlapping match."""

    def __init__(self, literals: list[bytes]) -> None:
        self.literals = literals
        try:
            import ahocorasick_rs

            self.automaton: ahocorasick_rs.BytesAhoCorasick | None = \
                ahocorasick_rs.BytesAhoCorasick(literals,
                                                matchkind=ahocorasick_rs.MATCHKIND_LEFTMOST_FIRST)
        except ImportError:  # pragma: no cover - the wheel exists for common platforms
            self.automaton = None

    def matches(self, data: bytes, start: int, end: int) -> Iterable[tuple[int, int]]:
        window = data[start:end] if start or end < len(data) else data
        if self.automaton is not None:
            found = self.automaton.find_matches_as_indexes(window)
            return ((index, start + begin) for index, begin, _ in found)
        return self._one_by_one(window, start)

    def _one_by_one(self, window: bytes, base: int) -> list[tuple[int, int]]:
        found = []
        for index, literal in enumerate(self.literals):
            position = window.find(literal)
            while position != -1:
                found.append((index, base + position))
                position = window.find(literal, position + len(literal))
        found.sort(key=lambda item: item[1])
        return found


class _Table:
    def __init__(self) -> None:
        from certwarden.decoders import transports
        from certwarden.recognition.key_formats import FORMATS

        owners: dict[bytes, list[str]] = {}
        probes: dict[Callable[[bytes], bool], list[str]] = {}  # a shared probe runs once
        for key_format in FORMATS:
            for marker in key_format.markers:
                owners.setdefault(marker, []).append(key_format.name)
            if key_format.probe is not None:
                probes.setdefault(key_format.probe, []).append(key_format.name)
        for decoder in transports():
            for trigger in decoder.triggers:
                owners.setdefault(trigger, []).append(decoder.name)
            probes.setdefault(decoder.probe, []).append(decoder.name)
        self.probes = [(probe, tuple(names)) for probe, names in probes.items()]
        self.text_probes = [(probe, names) for probe, names in self.probes
                            if not TEXT_PROBES.isdisjoint(names)]
        self.literals = list(owners)
        self.owners = [owners[literal] for literal in self.literals]
        self.matcher = _Matcher(self.literals)
        # Literals that overlap others ("PRIVATE" inside "SSH2 ENCRYPTED PRIVATE KEY"):
        # the automaton reports one match per place, so the longer one also counts for
        # the shorter one's owners.
        self.also: list[list[str]] = []
        for literal, names in zip(self.literals, self.owners, strict=True):
            extra = [name for other, other_names in zip(self.literals, self.owners,
                                                         strict=True)
                     if other != literal and other in literal for name in other_names]
            self.also.append([n for n in dict.fromkeys(extra) if n not in names])
        self.owners_of = [(*names, *also) for names, also in zip(self.owners, self.also,
                                                                   strict=True)]

    def scan(self, data: bytes) -> Hits:
        hits = Hits()
        # Every probe looks at the first bytes only; data opening with printable ASCII
        # other than "0" can only interest the text probes.
        probes = self.text_probes if data and 0x20 <= data[0] <= 0x7E and data[0] != 0x30 \
            else self.probes
        for probe, names in probes:
            if probe(data):
                hits.probes.update(names)
        if len(data) <= WINDOW and self.matcher.automaton is not None:
            # The common case, one call: most files have no marker at all.
            for index, position, _ in self.matcher.automaton.find_matches_as_indexes(data):
                self._record(hits, index, position)
            return hits
        for start in range(0, max(len(data), 1), WINDOW):
            # Windows overlap by the longest literal, so no marker is cut in two.
            end = min(len(data), start + WINDOW + 64)
            for index, position in self.matcher.matches(data, start, end):
                if position < start + WINDOW:
                    self._record(hits, index, position)
        return hits

    def _record(self, hits: Hits, index: int, position: int) -> None:
        """A marker (literal number `index`) at `position`, for each format it belongs to;
        past MAX_POSITIONS for a format, only that there were more."""
        for owner in self.owners_of[index]:
            owner_positions = hits.positions.setdefault(owner, [])
            if len(owner_positions) < MAX_POSITIONS:
                owner_positions.append(position)
            else:
                hits.overflow.add(owner)


# The probes that can fire on data opening with printable ASCII. The others (DER and
# PKCS#12, OpenPGP, PVK) need a first byte 0x30 ("0", a DER SEQUENCE), 0x1E or >= 0x80.
TEXT_PROBES = frozenset({"base64", "hex", "openssh", "archive", "text encoding"})

_table: _Table | None = None
_last: tuple[bytes, Hits] | None = None  # the group asks twice about the same bytes


def hits(data: bytes) -> Hits:
    global _table, _last
    if _last is not None and _last[0] is data:
        return _last[1]
    if _table is None:
        _table = _Table()
    found = _table.scan(data)
    _last = (data, found)
    return found


def may_hold_private_key(data: bytes) -> bool:
    return bool(hits(data))


def der_key_start(data: bytes) -> bool:
    """The data opens with one DER SEQUENCE shaped like a private key or PKCS#12 bundle."""
    if len(data) < 16 or data[0] != 0x30:
        return False
    first = data[1]
    header = 2 if first < 0x80 else 2 + (first & 0x7F)
    if header > 6:
        return False
    length = first if first < 0x80 else int.from_bytes(data[2:header], "big")
    if header + length > len(data):
        return False
    body = data[header:header + 3]
    # version 0/1 (keys), version 3 (PKCS#12), or an AlgorithmIdentifier SEQUENCE that
    # opens with its OID (encrypted PKCS#8; a certificate's first SEQUENCE does not)
    return body in (b"\x02\x01\x00", b"\x02\x01\x01", b"\x02\x01\x03") or (
        body[:1] == b"\x30" and body[1:2] < b"\x80" and body[2:3] == b"\x06")
