"""The secrets fast path's prefilter never changes findings: on random texts built from
fragments of the plugins' own literals, the prefiltered scan gives what the same scan
without literal requirements gives, and what detect-secrets' own scan_file gives."""

from __future__ import annotations

import contextlib
import string
import tempfile
import unittest.mock
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st

from certwarden.recognition import secrets_scan
from certwarden.recognition.required_literals import NO_REQUIREMENT, LiteralFinder
from tests import secretcorpus

Found = set[tuple[int, str, str]]


@pytest.fixture(scope="module")
def scanners(tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[tuple[secrets_scan.SecretScanner, secrets_scan.SecretScanner]]:
    """(prefiltered, unfiltered) fast-path scanners in one detect-secrets session."""
    root = tmp_path_factory.mktemp("prefilter")
    with secrets_scan.session(str(root)) as prefiltered, contextlib.ExitStack() as cleanup:
        assert prefiltered.fast
        unfiltered = secrets_scan.SecretScanner(prefiltered.root, prefiltered.known, fast=True,
                                                cleanup=cleanup)
        for probe in unfiltered.probes:
            if probe is not None:
                probe.requirements = [NO_REQUIREMENT] * len(probe.patterns)
        unfiltered.literals = LiteralFinder([])
        yield prefiltered, unfiltered


def _literals() -> list[str]:
    """Every literal the probes look for, under detect-secrets' default settings."""
    with tempfile.TemporaryDirectory() as empty, secrets_scan.session(empty) as scanner:
        return sorted({literal for probe in scanner.probes if probe is not None
                       for required in probe.requirements for options in required.sets
                       for literal in options})


LITERALS = _literals()
VALUES = [secretcorpus.AWS, secretcorpus.GITHUB, secretcorpus.SLACK, secretcorpus.STRIPE,
          secretcorpus.JWT, secretcorpus.BASIC_AUTH, secretcorpus.HIGH_ENTROPY,
          secretcorpus.HEX_ENTROPY, "AP1" + "Zq8Lm3Pp0aa1" * 5, "hunter2hunter2"]
# A caseless literal may be written in any case, or with the characters re equates with
# ASCII letters (Kelvin sign, long s, dotted/dotless i).
SPELLINGS = str.maketrans({"k": "\u212a", "s": "\u017f", "i": "\u0130"})


def _fragment() -> st.SearchStrategy[str]:
    literal = st.sampled_from(LITERALS)
    return st.one_of(
        literal, literal.map(str.upper), literal.map(lambda s: s.translate(SPELLINGS)),
        st.sampled_from(VALUES),
        st.text(string.ascii_uppercase + string.digits, min_size=8, max_size=24),
        st.text(string.ascii_letters + string.digits + "+/=", min_size=8, max_size=48),
        st.text("0123456789abcdef", min_size=8, max_size=64),
        st.sampled_from([" ", "  ", "\n", "\n", "\n  ", '"', "'", "=", ": ", " = ", ";", "(",
                         ")", "[", "]", ",", "#", "\t", "é", "ß", "\r\n"]),
    )


LINE = st.lists(_fragment(), max_size=6).map(
    lambda parts: "".join(parts).replace("\r", " ").replace("\n", " ").strip() or "x")


def _yaml(entries: list[tuple[str, list[str]]]) -> str:
    """YAML whose block scalars detect-secrets' transformer gives as one line holding line
    breaks (`|`), or folded (`>`), beside plain values."""
    out = []
    for index, (style, lines) in enumerate(entries):
        if style in "|>":
            out.append(f"key{index}: {style}\n" + "".join(f"  {line}\n" for line in lines))
        else:
            out.append(f"key{index}: {lines[0]}\n")
    return "".join(out)


TEXTS = st.one_of(
    st.lists(_fragment(), max_size=40).map("".join),
    st.lists(st.tuples(st.sampled_from(["|", ">", ""]), st.lists(LINE, min_size=1, max_size=4)),
             min_size=1, max_size=5).map(_yaml))
NAMES = st.sampled_from(["a.py", "b.yaml", "c.txt", "d.json", "e.ini", "f.go", "g.cs",
                         "h.cpp", "app.env", "Dockerfile", "values.yml"])


def _scan(scanner: secrets_scan.SecretScanner, name: str, data: bytes) -> Found:
    return {(s.line_number, s.type, s.secret_hash) for s in scanner._fast_scan(name, data)}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=NAMES, text=TEXTS)
def test_prefiltered_scan_equals_unfiltered_scan(
        scanners: tuple[secrets_scan.SecretScanner, secrets_scan.SecretScanner],
        name: str, text: str) -> None:
    prefiltered, unfiltered = scanners
    data = text.encode()
    found = _scan(prefiltered, name, data)
    target(float(len(found)))
    assert found == _scan(unfiltered, name, data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=NAMES, text=TEXTS)
def test_prefiltered_scan_equals_detect_secrets_scan_file(
        scanners: tuple[secrets_scan.SecretScanner, secrets_scan.SecretScanner],
        name: str, text: str) -> None:
    prefiltered, _ = scanners
    data = text.encode()
    public = {(s.line_number, s.type, s.secret_hash)
              for s in prefiltered._public_scan(name, name, data)}
    assert _scan(prefiltered, name, data) == public


def test_fragments_make_findings(
        scanners: tuple[secrets_scan.SecretScanner, secrets_scan.SecretScanner],
        tmp_path: Path) -> None:
    """The fragments can form what every kind of plugin reports (else the comparisons
    above would compare empty sets)."""
    prefiltered, _ = scanners
    text = "\n".join(f'value_{i} = "{v}"' for i, v in enumerate(VALUES)) + \
        '\npassword = "Kx9-wq2-Lm4-zz8"\n'  # pragma: allowlist secret
    types = {kind for _, kind, _ in _scan(prefiltered, "a.py", text.encode())}
    assert {"AWS Access Key", "GitHub Token", "Slack Token", "Stripe Access Key",
            "JSON Web Token", "Basic Auth Credentials", "Base64 High Entropy String",
            "Artifactory Credentials", "Secret Keyword"} <= types


@pytest.mark.parametrize("line", [
    'api_\u212aey = "Kx9-wq2-Lm4-zz8"',  # Kelvin sign: re.IGNORECASE matches it with k
    '\u017fecret = "Kx9-wq2-Lm4-zz8"',  # long s
    'PR\u0130VATE_KEY = "Kx9-wq2-Lm4-zz8"',  # dotted capital I
    'pr\u0131vate_key = "Kx9-wq2-Lm4-zz8"',  # dotless small i
    'stra\u00dfe_password = "Kx9-wq2-Lm4-zz8"',  # pragma: allowlist secret
    'CONTRASE\u00d1A = "Kx9-wq2-Lm4-zz8"',
])
def test_keywords_spelled_with_characters_re_folds_to_ascii(
        scanners: tuple[secrets_scan.SecretScanner, secrets_scan.SecretScanner],
        line: str) -> None:
    prefiltered, unfiltered = scanners
    data = f"x = 1\n{line}\n".encode()
    public = {(s.line_number, s.type, s.secret_hash)
              for s in prefiltered._public_scan("a.py", "a.py", data)}
    assert {kind for _, kind, _ in public} == {"Secret Keyword"}
    assert _scan(prefiltered, "a.py", data) == public == _scan(unfiltered, "a.py", data)


@pytest.mark.parametrize("limit", [0.5, 1.0, 2.0, 3.0, 3.3, 4.5, 5.0, 6.0])
def test_strings_the_entropy_probe_does_not_measure_cannot_pass(limit: float) -> None:
    """The probe skips quoted strings shorter than 2**limit: even with every character
    different (the most entropy n characters can have), they stay at or under the limit."""
    from detect_secrets.plugins.high_entropy_strings import (
        Base64HighEntropyString,
        HexHighEntropyString,
    )

    for plugin_type in (Base64HighEntropyString, HexHighEntropyString):
        plugin = plugin_type(limit=limit)
        accepts = secrets_scan._entropy_test(plugin)
        assert accepts is not None
        measured = skipped = 0
        for size in range(1, len(plugin.charset) + 1):
            value = plugin.charset[:size]
            match = plugin.regex.fullmatch(f'"{value}"')
            assert match is not None
            passes = plugin.calculate_shannon_entropy(value) > limit
            assert accepts(match) == passes
            measured += passes
            skipped += size < 2 ** limit
        assert skipped and (measured or limit > 4)


# -- eager (INI) lines: a rejected prefix spares parsing the rest ------------------------------

INI_LINE = st.one_of(
    st.tuples(st.sampled_from(["password", "secret_key", "token", "name", "api_key", "x y"]),
              st.sampled_from([" = ", ": ", "="]), LINE).map("".join),
    LINE, st.sampled_from(["[section]", "", "  continued", "# comment", "; comment"]))
INI_TEXTS = st.lists(INI_LINE, max_size=30).map(lambda lines: "\n".join(lines) + "\n")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(["notes.txt", "app.env", "Dockerfile", "settings"]),
       text=st.one_of(INI_TEXTS, TEXTS), prefix=st.integers(1, 200))
def test_eager_lines_with_a_short_prefix_equal_detect_secrets_scan_file(
        scanners: tuple[secrets_scan.SecretScanner, secrets_scan.SecretScanner],
        name: str, text: str, prefix: int) -> None:
    prefiltered, _ = scanners
    data = text.encode()
    public = {(s.line_number, s.type, s.secret_hash)
              for s in prefiltered._public_scan(name, name, data)}
    with unittest.mock.patch.object(secrets_scan, "EAGER_PREFIX", prefix):
        assert _scan(prefiltered, name, data) == public


def test_a_rejected_prefix_spares_the_eager_parse(
        scanners: tuple[secrets_scan.SecretScanner, secrets_scan.SecretScanner],
        monkeypatch: pytest.MonkeyPatch) -> None:
    prefiltered, _ = scanners
    calls: list[bool] = []
    transformed = secrets_scan.get_transformed_file

    def get_transformed_file(stream: object, use_eager_transformers: bool = False) -> object:
        calls.append(use_eager_transformers)
        return transformed(stream, use_eager_transformers)  # type: ignore[arg-type]

    monkeypatch.setattr(secrets_scan, "get_transformed_file", get_transformed_file)
    garbage = "-----BEGIN PRIVATE KEY-----\n" * 4000  # no INI line: rejected at line 2
    assert _scan(prefiltered, "begin.txt", garbage.encode()) == set()
    assert calls == [False]
    calls.clear()
    # INI all along: parsed whole, and its eager lines (values quoted) give the finding.
    ini = "".join(f"name{i} = value {i}\n" for i in range(6000)) + \
        "secret_key = Kx9wq2Lm4zz8Qp7\n"
    assert len(ini) > secrets_scan.EAGER_PREFIX
    found = _scan(prefiltered, "settings.txt", ini.encode())
    assert calls == [False, True]
    assert {kind for _, kind, _ in found} == {"Secret Keyword"}
    assert found == {(s.line_number, s.type, s.secret_hash) for s in
                     prefiltered._public_scan("settings.txt", "settings.txt", ini.encode())}
