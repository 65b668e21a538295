"""The literal strings every match of a regular expression must contain, read from Python's
own regex parser: a prefilter that can only ever say "this pattern cannot match here".

`requirement(pattern)` gives sets of literals; every match contains at least one literal
of each set. A text (or line) holding no literal of some set cannot hold a match, so the
pattern need not be searched there. What the analysis cannot vouch for gives no set (an
unknown opcode, a parser that changed, a flag it does not model): "no requirement" means
"always search", never "never search".

Case-insensitive patterns: their literals, and the text they are looked for in, are
compared through `fold`, a one-character-to-one-character map that sends every character
re.IGNORECASE equates with an ASCII character onto its ASCII lower case (including the
Kelvin sign, long s and dotted/dotless i, which the str methods fold differently or into
two characters). A case-insensitive literal is built only from ASCII characters; any other
character ends it (tests/test_required_literals.py checks the map against this Python's
re over every code point).
"""

from __future__ import annotations

import bisect
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# Characters outside ASCII that re.IGNORECASE matches with an ASCII letter, and that letter.
_SPECIAL_FOLDS = {"\u212a": "k", "\u017f": "s", "\u0130": "i", "\u0131": "i"}
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

# Bounds on the analysis (a pattern is analysed once per run): literal sets larger than
# CAP are shortened or given up, character classes are expanded up to CLASS_LIMIT
# characters, counted repeats up to REPEAT_LIMIT.
CAP = 128
CLASS_LIMIT = 16
REPEAT_LIMIT = 3
KEPT_SETS = 6  # per pattern, the most selective ones


def fold(text: str) -> str:
    """`text` with every character re.IGNORECASE equates with an ASCII character replaced by
    that character's lower case; other characters unchanged (same length, same offsets)."""
    return _without_specials(text).translate(_ASCII_LOWER)


def fold_utf8(text: str) -> bytes:
    """fold(text) in UTF-8, made faster: bytes.lower() changes ASCII letters only (no byte
    of a multi-byte UTF-8 sequence is ASCII)."""
    return _without_specials(text).encode("utf-8", "surrogatepass").lower()


def _without_specials(text: str) -> str:
    if not text.isascii():
        for special, ascii_letter in _SPECIAL_FOLDS.items():
            if special in text:
                text = text.replace(special, ascii_letter)
    return text


@dataclass(frozen=True)
class Requirement:
    """Every match contains at least one literal of each set. `caseless`: the literals are
    folded and must be looked for in the folded text."""

    caseless: bool
    sets: tuple[frozenset[str], ...]

    def holds_in(self, text: str) -> bool:
        """Whether a match could lie in `text` (slow path: tests and small texts)."""
        haystack = fold(text) if self.caseless else text
        return all(any(literal in haystack for literal in options) for options in self.sets)


NO_REQUIREMENT = Requirement(False, ())


class _Unsure(Exception):
    """Something the analysis does not model: no requirement."""


@dataclass(frozen=True)
class _Info:
    """What one node of the parsed pattern tells.

    exact: every string the node can match, when there are few (None: too many, unknown);
    first/last: every non-empty match starts/ends with one of these ("" in it: unknown);
    nullable: the node can match the empty string;
    required: sets of literals, every match holds one literal of each.
    """

    exact: frozenset[str] | None
    first: frozenset[str]
    last: frozenset[str]
    nullable: bool
    required: tuple[frozenset[str], ...] = ()


_NOTHING = frozenset({""})
_UNKNOWN = _Info(None, _NOTHING, _NOTHING, False)
_UNKNOWN_NULLABLE = _Info(None, _NOTHING, _NOTHING, True)
_EMPTY = _Info(_NOTHING, _NOTHING, _NOTHING, True)


def _exact(strings: frozenset[str]) -> _Info:
    nonempty = strings - _NOTHING or _NOTHING
    return _Info(strings, _minimal(nonempty, "prefix"), _minimal(nonempty, "suffix"),
                 "" in strings)


def _minimal(strings: Iterable[str], how: str) -> frozenset[str]:
    """Drop the strings another string of the set already implies: a longer string with a
    shorter one as its prefix ("prefix"), suffix ("suffix") or substring ("factor")."""
    unique = set(strings)
    if "" in unique:
        return _NOTHING
    if how == "factor":
        kept: list[str] = []
        for candidate in sorted(unique, key=len):
            if not any(shorter in candidate for shorter in kept):
                kept.append(candidate)
        return frozenset(kept)
    # In sorted order a string's extensions follow it directly (suffixes: sort reversed).
    backwards = how == "suffix"
    result = []
    last = None
    for candidate in sorted(s[::-1] for s in unique) if backwards else sorted(unique):
        if last is None or not candidate.startswith(last):
            result.append(candidate[::-1] if backwards else candidate)
            last = candidate
    return frozenset(result)


def _capped(strings: frozenset[str], how: str) -> frozenset[str]:
    """A set of at most CAP strings that still holds: shortened to a common length from the
    side that keeps it true (prefixes keep their start, suffixes their end), else unknown."""
    strings = _minimal(strings, how)
    if len(strings) <= CAP:
        return strings
    shortest = min(len(s) for s in strings)
    while shortest > 0:
        cut = frozenset(s[:shortest] if how == "prefix" else s[-shortest:] for s in strings)
        cut = _minimal(cut, how)
        if len(cut) <= CAP:
            return cut
        shortest -= 1
    return _NOTHING


def _product(left: frozenset[str], right: frozenset[str]) -> frozenset[str] | None:
    """Each string of `left` followed by each of `right` (None: more than CAP of them)."""
    if right == _NOTHING:
        return left
    if left == _NOTHING:
        return right
    if len(left) * len(right) > CAP:
        return None
    return frozenset(a + b for a in left for b in right)


def _score(options: frozenset[str]) -> tuple[int, int]:
    """Longer literals are rarer; fewer of them are cheaper."""
    return (min(len(s) for s in options), -len(options))


def _best(candidates: Iterable[frozenset[str]], *, thorough: bool = False
          ) -> tuple[frozenset[str], ...]:
    """The KEPT_SETS most selective sets; thorough: leaving out those a kept set implies
    (each kept literal holds one of theirs: it adds nothing)."""
    kept: list[frozenset[str]] = []
    for options in sorted(set(candidates), key=_score, reverse=True):
        if thorough and any(all(any(o in k for o in options) for k in chosen)
                            for chosen in kept):
            continue
        kept.append(options)
        if len(kept) == KEPT_SETS:
            break
    return tuple(kept)


class _Analysis:
    def __init__(self, constants: Any) -> None:
        self.c = constants
        self.caseless_used = False

    def sequence(self, items: Iterable[tuple[Any, Any]], caseless: bool) -> _Info:
        infos: list[_Info] = []
        run: list[int] = []  # consecutive literal characters: one string, one node
        for op, av in items:
            if op is self.c.LITERAL and (not caseless or chr(av).isascii()):
                run.append(av)
                continue
            if run:
                infos.append(self.characters(run, caseless, joined=True))
                run = []
            infos.append(self.node(op, av, caseless))
        if run:
            infos.append(self.characters(run, caseless, joined=True))
        count = len(infos)
        # prefixes[i]: every match of items[i:] starts with one of these.
        prefixes: list[frozenset[str]] = [_NOTHING] * (count + 1)
        for i in range(count - 1, -1, -1):
            info = infos[i]
            if info.exact is not None:
                joined = _product(info.exact, prefixes[i + 1])
                prefixes[i] = _capped(joined, "prefix") if joined is not None else \
                    _capped(info.exact, "prefix")
            elif info.nullable:
                prefixes[i] = _capped(info.first | prefixes[i + 1], "prefix")
            else:
                prefixes[i] = info.first
        required: list[frozenset[str]] = []
        for info in infos:
            required.extend(info.required)
        # suffix: every match of items[:i] ends with one of these. At each boundary, every
        # match holds (an end of what precedes) + (a start of what follows).
        suffix = _NOTHING
        exact: frozenset[str] | None = _NOTHING
        for i in range(count + 1):
            across = _product(suffix, prefixes[i])
            if across is not None and "" not in across:
                required.append(across)
            if i == count:
                break
            info = infos[i]
            if info.exact is not None:
                joined = _product(suffix, info.exact)
                suffix = _capped(joined, "suffix") if joined is not None else \
                    _capped(info.exact, "suffix")
                if exact is not None:
                    whole = _product(exact, info.exact)
                    exact = whole if whole is not None and len(whole) <= CAP else None
            else:
                suffix = _capped(info.last | suffix, "suffix") if info.nullable else info.last
                exact = None
        nullable = all(info.nullable for info in infos)
        kept = () if nullable else _best(required)
        if exact is not None:
            described = _exact(exact)
            return _Info(exact, described.first, described.last, nullable, kept)
        return _Info(None, prefixes[0] if not nullable else _NOTHING, suffix, nullable, kept)

    def node(self, op: Any, av: Any, caseless: bool) -> _Info:
        c = self.c
        if op is c.LITERAL:
            return self.characters([av], caseless)
        if op is c.IN:
            return self.char_class(av, caseless)
        if op in (c.ANY, c.NOT_LITERAL, c.CATEGORY):
            return _UNKNOWN
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            return _EMPTY  # zero width: contributes no characters
        if op in (c.GROUPREF, c.GROUPREF_EXISTS):
            return _UNKNOWN_NULLABLE
        if op is c.SUBPATTERN:
            _group, add_flags, del_flags, body = av
            if (add_flags | del_flags) & ~(re.IGNORECASE | re.MULTILINE | re.DOTALL |
                                           re.VERBOSE | re.UNICODE | re.ASCII):
                raise _Unsure("scoped flag")
            if add_flags & re.IGNORECASE:
                caseless = True
            if del_flags & re.IGNORECASE:
                caseless = False
            return self.sequence(body, caseless)
        if op is getattr(c, "ATOMIC_GROUP", object()):
            return self.sequence(av, caseless)
        if op is c.BRANCH:
            return self.branch(av[1], caseless)
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", object())):
            low, high, body = av
            return self.repeat(low, high, self.sequence(body, caseless))
        raise _Unsure(f"opcode {op}")

    def characters(self, codes: list[int], caseless: bool, *, joined: bool = False) -> _Info:
        """One of these characters (joined: these characters in a row)."""
        chars = [chr(code) for code in codes]
        if caseless:
            if not all(ch.isascii() for ch in chars):
                return _UNKNOWN  # only ASCII is folded with certainty
            chars = [fold(ch) for ch in chars]
            self.caseless_used = True
        return _exact(frozenset(["".join(chars)] if joined else chars))

    def char_class(self, items: list[tuple[Any, Any]], caseless: bool) -> _Info:
        c = self.c
        codes: list[int] = []
        for op, av in items:
            if op is c.LITERAL:
                codes.append(av)
            elif op is c.RANGE and av[1] - av[0] < CLASS_LIMIT:
                codes.extend(range(av[0], av[1] + 1))
            else:  # NEGATE, CATEGORY, a wide RANGE, ...: too many characters
                return _UNKNOWN
            if len(codes) > CLASS_LIMIT:
                return _UNKNOWN
        if not codes:
            return _UNKNOWN
        return self.characters(codes, caseless)

    def branch(self, alternatives: list[Any], caseless: bool) -> _Info:
        infos = [self.sequence(alternative, caseless) for alternative in alternatives]
        nullable = any(info.nullable for info in infos)
        exact: frozenset[str] | None = None
        if all(info.exact is not None for info in infos):
            union = frozenset().union(*(info.exact or () for info in infos))
            exact = union if len(union) <= CAP else None
        if exact is not None:
            return _exact(exact)
        first = _capped(frozenset().union(*(info.first for info in infos)), "prefix")
        last = _capped(frozenset().union(*(info.last for info in infos)), "suffix")
        required: tuple[frozenset[str], ...] = ()
        if not nullable and all(info.required for info in infos):
            # Each alternative's best set: a match of the alternation holds one of them.
            union = frozenset().union(*(max(info.required, key=_score) for info in infos))
            options = _minimal(union, "factor")
            if options != _NOTHING and len(options) <= CAP:
                required = (options,)
        return _Info(None, first, last, nullable, required)

    def repeat(self, low: int, high: int, body: _Info) -> _Info:
        if body.exact is not None and high <= REPEAT_LIMIT:
            strings: set[str] = set()
            power: frozenset[str] | None = _NOTHING
            for count in range(high + 1):
                if power is None:
                    break
                if count >= low:
                    strings |= power
                power = _product(power, body.exact)
            if power is not None and len(strings) <= CAP:
                return _exact(frozenset(strings))
        if low == 0:
            return _Info(None, body.first, body.last, True)
        return _Info(None, body.first, body.last, body.nullable, body.required)


def _parser() -> tuple[Any, Any]:
    """Python's regex parser and its opcodes (re._parser from 3.11, sre_parse before)."""
    if sys.version_info >= (3, 11):
        from re import _constants, _parser  # type: ignore[attr-defined]

        return _parser, _constants
    import sre_constants
    import sre_parse

    return sre_parse, sre_constants


def requirement(pattern: re.Pattern[str]) -> Requirement:
    """The literal sets every match of `pattern` holds; NO_REQUIREMENT when unsure."""
    try:
        if not isinstance(pattern.pattern, str) or pattern.flags & re.LOCALE:
            return NO_REQUIREMENT
        parser, constants = _parser()
        parsed = parser.parse(pattern.pattern, pattern.flags)
        analysis = _Analysis(constants)
        info = analysis.sequence(parsed.data if hasattr(parsed, "data") else parsed,
                                 bool(parsed.state.flags & re.IGNORECASE))
    except Exception:  # any surprise from private parser internals: always search
        return NO_REQUIREMENT
    folded = fold if analysis.caseless_used else str
    sets = _best((_minimal(map(folded, options), "factor") for options in info.required),
                 thorough=True)
    return Requirement(analysis.caseless_used, sets)


class LiteralFinder:
    """The literals of many requirements, found in one pass over a text (Aho-Corasick over
    its UTF-8 bytes; once more over the folded text for case-insensitive ones).
    One-character literals are looked up with `in` instead: they are too common to list."""

    def __init__(self, requirements: Iterable[Requirement]) -> None:
        import ahocorasick_rs

        words: dict[bool, set[str]] = {False: set(), True: set()}
        for required in requirements:
            for options in required.sets:
                words[required.caseless].update(s for s in options if len(s) > 1)
        self.ids: dict[tuple[bool, str], int] = {}
        self.automata: dict[bool, Any] = {}
        for caseless, literals in words.items():
            ordered = sorted(literals)
            self.ids.update(((caseless, literal), index) for index, literal in enumerate(ordered))
            if ordered:
                self.automata[caseless] = ahocorasick_rs.BytesAhoCorasick(
                    [literal.encode("utf-8", "surrogatepass") for literal in ordered])

    def find(self, lines: list[str]) -> FoundLiterals:
        return FoundLiterals(self, lines)


class FoundLiterals:
    """Which literals some lines hold (searched as one text, the lines joined by "\\n"),
    and on which lines. A line may itself hold line breaks (a YAML block scalar, as
    detect-secrets' transformer gives it): line starts come from the lines' lengths."""

    def __init__(self, finder: LiteralFinder, lines: list[str]) -> None:
        self.finder = finder
        self.lines = lines
        self.text = "\n".join(lines)
        self._haystacks: dict[bool, bytes] = {}
        self._matches: dict[bool, list[tuple[int, int, int]]] = {}
        self._found: dict[bool, dict[int, int]] = {}  # literal id -> occurrences
        self._starts: dict[bool, list[int]] = {}
        self._where: dict[tuple[bool, frozenset[str]], list[int]] = {}

    def _haystack(self, caseless: bool) -> bytes:
        """The text in UTF-8 (folded, for caseless literals): what the automata search."""
        if caseless not in self._haystacks:
            self._haystacks[caseless] = fold_utf8(self.text) if caseless else \
                self.text.encode("utf-8", "surrogatepass")
        return self._haystacks[caseless]

    def _occurrences(self, caseless: bool) -> dict[int, int]:
        if caseless not in self._found:
            automaton = self.finder.automata.get(caseless)
            matches: list[tuple[int, int, int]] = []
            if automaton is not None:
                matches = automaton.find_matches_as_indexes(self._haystack(caseless),
                                                             overlapping=True)
            self._matches[caseless] = matches
            counts: dict[int, int] = {}
            for literal_id, _start, _end in matches:
                counts[literal_id] = counts.get(literal_id, 0) + 1
            self._found[caseless] = counts
        return self._found[caseless]

    def _holds(self, caseless: bool, literal: str) -> bool:
        if len(literal) == 1:
            return literal.encode("utf-8", "surrogatepass") in \
                self._haystack(caseless and not _letterless(literal))
        return self.finder.ids[(caseless, literal)] in self._occurrences(caseless)

    def holds(self, required: Requirement) -> bool:
        """Whether the text could hold a match."""
        return all(any(self._holds(required.caseless, literal) for literal in options)
                   for options in required.sets)

    def where(self, required: Requirement) -> list[int] | None:
        """The indexes of the only lines that could hold a match (sorted), from its set
        of literals found least often; None: no set tells (one-character literals)."""
        best: tuple[int, frozenset[str]] | None = None
        occurrences = self._occurrences(required.caseless)
        for options in required.sets:
            if any(len(literal) == 1 for literal in options):
                continue
            count = sum(occurrences.get(self.finder.ids[(required.caseless, literal)], 0)
                        for literal in options)
            if best is None or count < best[0]:
                best = (count, options)
        if best is None:
            return None
        key = (required.caseless, best[1])
        if key not in self._where:  # patterns often share a set (the keyword plugin's)
            wanted = {self.finder.ids[(required.caseless, literal)] for literal in best[1]}
            starts = self._byte_starts(required.caseless)
            self._where[key] = sorted({bisect.bisect_right(starts, start) - 1
                                       for literal_id, start, _end
                                       in self._matches[required.caseless]
                                       if literal_id in wanted})
        return self._where[key]

    def _byte_starts(self, caseless: bool) -> list[int]:
        """Where each line starts in the haystack's UTF-8 bytes."""
        if caseless not in self._starts:
            ascii_text = self.text.isascii()
            starts = [0]
            for line in self.lines[:-1]:
                size = len(line) if ascii_text else len(
                    (_without_specials(line) if caseless else line).encode("utf-8",
                                                                           "surrogatepass"))
                starts.append(starts[-1] + size + 1)
            self._starts[caseless] = starts
        return self._starts[caseless]


def letterless_sets(required: Requirement) -> tuple[frozenset[str], ...]:
    """The sets whose literals hold no ASCII letter: they can be looked for in the text as
    it is, even for a case-insensitive pattern (folding changes only letters)."""
    return tuple(options for options in required.sets
                 if all(_letterless(literal) for literal in options))


def _letterless(literal: str) -> bool:
    return not any(ch.isascii() and ch.isalpha() for ch in literal)
