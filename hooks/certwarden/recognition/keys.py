"""Find every private key in a file's bytes, in any form and under any layer of encoding.

The file is a View; the markers found in it (key_sniff) say which key formats
(key_formats.FORMATS) and which decoders (certwarden.decoders) have work there. Formats
turn bytes into facts (found_key.py); decoders turn bytes into new Views, searched the
same way, at most decoders.MAX_DEPTH layers deep. Work is bounded: decoded bytes by
decoders.Limits, key derivation by work_caps.WorkBudget. Facts only: no configuration is
read here, every judgement is the key rules' (rules/key_rules.py).
"""

from __future__ import annotations

import bisect
import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from types import ModuleType

from certwarden.decoders import MAX_DEPTH, Decoded, Limits, Transport, transports
from certwarden.recognition import key_sniff
from certwarden.recognition.armor import LineCounter
from certwarden.recognition.found_key import FoundKey, UnreadableKey, digest
from certwarden.recognition.key_formats import FORMATS
from certwarden.recognition.work_caps import WorkBudget


class View:
    """Bytes to search, and how they were reached from the file."""

    __slots__ = ("_lines", "anchor", "claimed", "data", "depth", "line_base", "member",
                 "unescaped", "via")

    def __init__(self, data: bytes, *, via: tuple[str, ...] = (), member: str | None = None,
                 depth: int = 0, anchor: int | None = None, line_base: int = 0,
                 unescaped: bool = False) -> None:
        self.data = data
        self.via = via  # decodings applied, outermost first
        self.member = member  # path inside an archive
        self.depth = depth
        self.anchor = anchor  # the file's line where these bytes were found (decoded views)
        self.line_base = line_base  # lines before this window of the file
        self.claimed: list[tuple[int, int]] = []  # spans a format has read (sorted by start)
        # Text escapes were undone on the way here: they are not undone again below (each
        # unescaping composes two layers itself; redoing it inside its own output grew
        # exponentially, a 1 KB block hung the hook).
        self.unescaped = unescaped
        self._lines: LineCounter | None = None

    def line_at(self, offset: int) -> int | None:
        if self.depth:
            return self.anchor
        if self._lines is None:
            self._lines = LineCounter(self.data)
        return self._lines.line_at(offset) + self.line_base

    def claim(self, start: int, end: int) -> None:
        bisect.insort(self.claimed, (start, end))

    def is_claimed(self, position: int) -> bool:
        index = bisect.bisect_right(self.claimed, (position, 1 << 62))
        return any(start <= position < end for start, end in self.claimed[max(0, index - 8):index])

    def child(self, data: bytes, how: str, start: int, member: str | None, *,
              unescaped: bool = False) -> View:
        inside = self.member
        if member:
            inside = f"{inside}:{member}" if inside else member
        binary = member is not None or (self.anchor is None and self.depth > 0)
        return View(data, via=(*self.via, how), member=inside, depth=self.depth + 1,
                    anchor=None if binary else self.line_at(start),
                    unescaped=unescaped or self.unescaped)


Finder = Callable[[View, list[int], "KeyScan", str], None]


@dataclass
class KeyScan:
    keys: list[FoundKey] = field(default_factory=list)
    unreadable: list[UnreadableKey] = field(default_factory=list)
    bundle_certificates: list[bytes] = field(default_factory=list)  # SPKIs beside the keys
    budget: WorkBudget = field(default_factory=WorkBudget)
    limits: Limits = field(default_factory=Limits)
    unescaped_regions: int = 0  # regions searched again under text unescapings (pem_keys)
    unescaped_bytes: int = 0  # ... and the text those unescapings produced
    _digests: set[str] = field(default_factory=set)

    def add_key(self, view: View, key: FoundKey) -> None:
        """Record a key once per file, with the layers it was found under."""
        if key.material_digest in self._digests:
            return
        self._digests.add(key.material_digest)
        key.via, key.member = view.via, view.member
        if view.depth and key.line is None:
            key.line = view.anchor
        self.keys.append(key)

    def add_unreadable(self, view: View, line: int | None, reason: str, material: bytes,
                       kind: str = "unreadable") -> None:
        material_digest = digest(material)
        if material_digest in self._digests:
            return
        self._digests.add(material_digest)
        self.unreadable.append(UnreadableKey(line if line is not None else view.anchor, reason,
                                             material_digest, view.via, view.member, kind))

    def attempt(self, view: View) -> bool:
        """Search a view that may explain something unreadable: keep what it finds only
        if it finds a key."""
        keys, unreadable, digests = len(self.keys), len(self.unreadable), set(self._digests)
        self.scan_view(view)
        if len(self.keys) > keys:
            del self.unreadable[unreadable:]
            return True
        del self.keys[keys:]
        del self.unreadable[unreadable:]
        self._digests = digests
        return False

    def scan_view(self, view: View) -> None:
        hits = key_sniff.hits(view.data)
        if not hits:
            return
        decoders = transports() if view.depth < MAX_DEPTH else []
        if view.depth >= MAX_DEPTH:
            self._past_depth(view, hits)
        # An archive's members first: a key in an uncompressed tar is then reported with
        # its member path, not as text of the tar itself (the same key is recorded once).
        first = [d for d in decoders if d.name == "archive" and "archive" in hits.probes]
        self._decode(view, hits, first)
        for key_format in FORMATS:
            if hits.wants(key_format.name):
                _finder(key_format.module)(view, hits.of(key_format.name), self,
                                           key_format.name)
        self._decode(view, hits, [d for d in decoders if d not in first])
        for owner in sorted(hits.overflow):
            self.add_unreadable(view, view.line_at(0), f"more than {key_sniff.MAX_POSITIONS:,} "
                                f"{owner} markers: not all could be checked", view.data[:4096])

    def _past_depth(self, view: View, hits: key_sniff.Hits) -> None:
        """Another layer under the last one searched: not searched, but said (a key five
        gzip layers down is not silently passed)."""
        for decoded in self._decodings(view, hits, transports()):
            if key_sniff.may_hold_private_key(decoded.data):
                layers = " > ".join((*view.via, decoded.how))
                self.limits.refuse(f"more than {MAX_DEPTH} layers of encoding ({layers}): "
                                   "the innermost was not searched")
                return

    def _decode(self, view: View, hits: key_sniff.Hits, decoders: list[Transport]) -> None:
        for decoded in self._decodings(view, hits, decoders):
            self.scan_view(view.child(decoded.data, decoded.how, decoded.start, decoded.member))

    def _decodings(self, view: View, hits: key_sniff.Hits,
                   decoders: Iterable[Transport]) -> Iterator[Decoded]:
        """What each decoder the sniff asked for decodes, at the positions no earlier
        finding claimed (worked out when that decoder's turn comes)."""
        for decoder in decoders:
            if not hits.wants(decoder.name):
                continue
            positions = [p for p in hits.of(decoder.name) if not view.is_claimed(p)]
            if not positions and decoder.name not in hits.probes:
                continue
            yield from decoder.decode(view.data, positions, self.limits)

    def finish(self) -> None:
        """Caps the decoders hit become findings: what was not decoded was not checked."""
        if self.limits.refused and not self.keys:
            reasons = "; ".join(self.limits.refused[:3])
            self.unreadable.append(UnreadableKey(None, f"not fully decoded: {reasons}",
                                                 digest(reasons.encode()), kind="not-decoded"))


_MODULES: dict[str, ModuleType] = {}


def _finder(module: str) -> Finder:
    if module not in _MODULES:
        _MODULES[module] = importlib.import_module(f"certwarden.recognition.{module}")
    finder: Finder = _MODULES[module].find
    return finder


def find_keys(data: bytes, *, line_base: int = 0, scan: KeyScan | None = None,
              config: object = None) -> KeyScan:
    """Every private key in these bytes (a file, or one window of a large file).

    `config` is accepted for older callers and ignored: recognition reads no configuration
    (the key rules judge what it reports)."""
    scan = scan if scan is not None else KeyScan()
    scan.scan_view(View(data, line_base=line_base))
    return scan
