"""The literals every match of a regex holds (recognition/required_literals.py): a prefilter
that may only ever say "cannot match here". Checked against Python's own re."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from certwarden.recognition import required_literals
from certwarden.recognition.required_literals import (
    NO_REQUIREMENT,
    LiteralFinder,
    fold,
    fold_utf8,
    requirement,
)

EVERY_CHARACTER = "".join(chr(code) for code in range(0x110000)
                          if not 0xD800 <= code < 0xE000)


def test_fold_maps_what_ignorecase_equates_with_ascii_onto_ascii_lower_case() -> None:
    """Over every code point: a character that re.IGNORECASE matches with an ASCII character
    (as a literal or in a class) folds to that character's fold; nothing else changes, and
    no character becomes two (the str methods turn U+0130 into two and leave U+017F alone)."""
    folded = fold(EVERY_CHARACTER)
    assert len(folded) == len(EVERY_CHARACTER)
    assert fold_utf8(EVERY_CHARACTER) == folded.encode()  # the automata's haystack
    ascii_literal = re.compile("|".join(re.escape(chr(code)) for code in range(128)),
                               re.IGNORECASE)
    ascii_class = re.compile(r"[\x00-\x7f]", re.IGNORECASE)
    equated = {m.group() for m in ascii_literal.finditer(EVERY_CHARACTER)} | \
        {m.group() for m in ascii_class.finditer(EVERY_CHARACTER)}
    # Kelvin sign, long s, dotted capital i, dotless small i
    assert {"\u212a", "\u017f", "\u0130", "\u0131"} <= equated
    for character in equated:
        partners = [chr(code) for code in range(128)
                    if re.fullmatch(re.escape(chr(code)), character, re.IGNORECASE)
                    or re.fullmatch(f"[{re.escape(chr(code))}]", character, re.IGNORECASE)]
        assert partners, repr(character)
        assert {fold(partner) for partner in partners} == {fold(character)}, repr(character)
    unchanged = [ch for ch, f in zip(EVERY_CHARACTER, folded, strict=True)
                 if ch != f and ch not in equated]
    assert unchanged == []
    assert fold("ß") == "ß" and fold("ẞ") == "ẞ"  # re does not equate them with "ss"


@pytest.mark.parametrize("span", ["a-z", "A-Z", "a-f", "A-F", "0-9", "j-l", "J-L", "r-t", "R-T",
                                  "h-j", "H-J", "\x00-\x7f", "+/=", "Kk", "\u212a", "sS"])
def test_a_class_of_ascii_characters_matches_only_their_folds(span: str) -> None:
    """A character class the analysis expands (under re.IGNORECASE: ranges compile to
    tests on lower and upper case, plus Python's extra cases): every character it matches,
    folded, is one of the class's characters folded."""
    members = {m.group() for m in re.finditer(f"[{span}]", EVERY_CHARACTER)}
    allowed = {fold(ch) for ch in members}
    matched = {m.group() for m in re.finditer(f"[{span}]", EVERY_CHARACTER, re.IGNORECASE)}
    assert {fold(ch) for ch in matched} <= allowed


CASES = [
    ("(?:r|s)k_live_[0-9a-zA-Z]{24}", 0, False, [{"rk_live_", "sk_live_"}]),
    ("AKIA[0-9A-Z]{16}", 0, False, [{"AKIA"}]),
    ("api_?key", re.IGNORECASE, True, [{"apikey", "api_key"}]),
    ("ghp_[A-Za-z0-9]{36}|gho_x", 0, False, [{"ghp_", "gho_x"}]),
    ("x*", 0, False, []),
    ("a|", 0, False, []),
    ("(?:abc)?", 0, False, []),
    (r"\d+\.\d+", 0, False, [{"."}]),
    ("(?i)straße", 0, True, [{"stra"}, {"e"}]),  # a non-ASCII letter ends a caseless run
    ("(?i)Kelvin", 0, True, [{"kelvin"}]),
    ("ab(?i:CD)", 0, True, [{"abcd"}]),
    (r"key\s*=", 0, False, [{"key"}, {"="}]),
    ("(?=secret)s", 0, False, [{"s"}]),  # lookarounds are zero width: their text is not
    (r"(a)b\1", 0, False, [{"ab"}]),  # a back reference is unknown
    ("[^a]bc", 0, False, [{"bc"}]),
]


@pytest.mark.parametrize(("source", "flags", "caseless", "expected"), CASES)
def test_requirements_of_known_patterns(source: str, flags: int, caseless: bool,
                                        expected: list[set[str]]) -> None:
    found = requirement(re.compile(source, flags))
    assert found.caseless == caseless or not expected
    assert sorted(map(sorted, found.sets)) == sorted(map(sorted, expected))


def test_any_surprise_means_no_requirement(monkeypatch: pytest.MonkeyPatch) -> None:
    assert requirement(re.compile(b"AKIA[0-9]")) == NO_REQUIREMENT  # type: ignore[arg-type]

    def broken() -> tuple[object, object]:
        raise AttributeError("the parser moved")

    monkeypatch.setattr(required_literals, "_parser", broken)
    assert requirement(re.compile("AKIA[0-9]")) == NO_REQUIREMENT
    assert NO_REQUIREMENT.holds_in("")


def test_an_opcode_the_analysis_does_not_know_gives_no_requirement(
        monkeypatch: pytest.MonkeyPatch) -> None:
    analysis_node = required_literals._Analysis.node

    def node(self: required_literals._Analysis, op: object, av: object,
             caseless: bool) -> object:
        if op is self.c.IN:
            raise required_literals._Unsure("new opcode")
        return analysis_node(self, op, av, caseless)

    monkeypatch.setattr(required_literals._Analysis, "node", node)
    assert requirement(re.compile("AKIA[0-9]")) == NO_REQUIREMENT


# -- random patterns, random texts: a match always holds the requirement -----------------------

PIECES = ["a", "b", "k", "K", "s", "S", "i", "I", "\u212a", "\u017f", "\u0130", "\u0131", "ß",
          "é", "-", "_", " ", ":", "=", '"', "ab", "key", "KEY", "secret", "\n"]


def _literal() -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(PIECES), min_size=1, max_size=3).map(
        lambda parts: re.escape("".join(parts)))


ATOMS = st.one_of(_literal(), st.sampled_from(
    ["[ab]", "[a-d]", "[Kk]", "[^a]", r"\d", r"\w", r"\s", ".", "[0-9A-F]", "[\u212as]", r"\b",
     "^", "$", "(?=k)", "(?<=a)", "(?!b)"]))


def _combine(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, inner).map("".join),
        st.tuples(inner, inner).map(lambda p: f"(?:{p[0]}|{p[1]})"),
        inner.map(lambda p: f"(?:{p}|)"),
        inner.map(lambda p: f"(?:{p})?"),
        inner.map(lambda p: f"(?:{p})*"),
        inner.map(lambda p: f"(?:{p})+"),
        inner.map(lambda p: f"(?:{p}){{2,3}}"),
        inner.map(lambda p: f"(?:{p}){{1,5}}"),
        inner.map(lambda p: f"({p})"),
        inner.map(lambda p: f"(?i:{p})"),
        inner.map(lambda p: f"(?-i:{p})"),
    )


PATTERNS = st.recursive(ATOMS, _combine, max_leaves=8)
TEXT_PIECES = st.sampled_from([*PIECES, "x", "y", "A", "B", "0", "F", "key=", "Secret", "SECRET",
                               "\u212aey", "\u017fecret", "\u0130", "\t"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.filter_too_much])
@given(source=PATTERNS, caseless=st.booleans(), data=st.data())
def test_a_match_always_holds_the_requirement(source: str, caseless: bool,
                                              data: st.DataObject) -> None:
    try:
        pattern = re.compile(source, re.IGNORECASE if caseless else 0)
    except re.error:
        assume(False)
        return
    around = st.lists(TEXT_PIECES, max_size=6).map("".join)
    try:
        middle = data.draw(st.from_regex(pattern, fullmatch=True).filter(lambda s: len(s) < 60))
    except Exception:  # a pattern hypothesis cannot generate from: random text only
        middle = ""
    text = data.draw(around) + middle + data.draw(around)
    required = requirement(pattern)
    if pattern.search(text):
        assert required.holds_in(text), (source, text, required)
    # The Aho-Corasick path agrees: the text as one, and the lines that can match.
    lines = text.split("\n")
    found = LiteralFinder([required]).find(lines)
    matching = [index for index, line in enumerate(lines) if pattern.search(line)]
    if matching:
        assert found.holds(required), (source, text, required)
        where = found.where(required)
        assert where is None or set(matching) <= set(where), (source, text, required, where)


def test_lines_holding_line_breaks_are_located_by_their_lengths() -> None:
    """detect-secrets' YAML transformer gives a block scalar as one line holding line
    breaks: literals found after it must still be placed on the right line."""
    required = requirement(re.compile("AKIA[0-9A-Z]{16}"))
    lines = ["key: |", "first\nsecond\nthird", "AKIA" + "Q" * 16, "é\u212a", "AKIA"]
    found = LiteralFinder([required]).find(lines)
    assert found.where(required) == [2, 4]
    caseless = requirement(re.compile("kelvin", re.IGNORECASE))
    found = LiteralFinder([caseless]).find(["\u212aelvin\nx", "é", "KELVIN"])
    assert found.where(caseless) == [0, 2]
