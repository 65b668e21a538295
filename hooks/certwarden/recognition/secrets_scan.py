"""detect-secrets behind one adapter: its plugins, filters, transformers and baseline decide
what is a secret; this module only decides how fast their verdict is reached.

Two paths, one set of findings (the (file, line, type) set of `detect-secrets scan`):
- The public path: detect-secrets' own `scan_file`, run on the bytes we read, written
  under their repository-relative name in a private folder. Always right; as slow as
  detect-secrets.
- The fast path, taken only on the releases in TESTED_RELEASES (the ones the test matrix
  covers, see docs/architecture.md; pyproject.toml admits any later 1.x) and only while the
  private functions it calls keep the signatures it was written against. Before scanning
  a file's lines, each plugin's own patterns are searched: a plugin whose patterns match
  nowhere cannot report anything in that file (its analyze_line only yields what those
  patterns match), so it is skipped, and so is any line no remaining plugin's pattern
  matches (an entropy plugin's match counts only above the plugin's own entropy limit, by
  its own measure). A pattern is searched only where the literals every match of it holds
  occur (required_literals.py; one Aho-Corasick pass per text). Everything that decides
  a finding is detect-secrets' own code; the line loop mirrors its private
  `_process_line_based_plugins`.
Another release, a missing private function or a changed signature selects the public
path: a new detect-secrets release makes the hook slower, never wrong or blocking.

detect-secrets' settings are process-global: `session()` scopes them with its own
`transient_settings`, which gives them back however the run ends.
"""

from __future__ import annotations

import bisect
import contextlib
import inspect
import io
import json
import locale
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from detect_secrets.core import scan as ds_scan
from detect_secrets.core.potential_secret import PotentialSecret
from detect_secrets.core.secrets_collection import SecretsCollection
from detect_secrets.core.usage import ParserBuilder
from detect_secrets.plugins import keyword
from detect_secrets.plugins.base import BasePlugin, RegexBasedDetector
from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
from detect_secrets.settings import get_plugins, get_settings, transient_settings
from detect_secrets.transformers import get_transformed_file
from detect_secrets.util.code_snippet import get_code_snippet

from certwarden.recognition.required_literals import (
    LiteralFinder,
    letterless_sets,
    requirement,
)

# The releases (major, minor) the fast path is tested on: [first, last). pyproject.toml's
# dependency range is the same (a test compares), and .ci/detect-secrets-matrix runs the
# secrets tests on each release in it.
TESTED_RELEASES = ((1, 4), (1, 6))

# The private functions the fast path calls, with the parameters it passes them.
PRIVATE_SIGNATURES = {
    "_scan_line": ("plugin", "filename", "line", "line_number", "context", "kwargs"),
    "_is_filtered_out": ("required_filter_parameters", "kwargs"),
}

# Built-in regex plugins whose own analyze_string only filters what their denylist
# matches (read in each tested release).
FILTERING_PLUGINS = {"JwtTokenDetector"}

# Our key rules judge private keys (by parsing, not by header text).
REPLACED_PLUGINS = {"PrivateKeyDetector"}
DROPPED_FILTERS = {
    # We hand detect-secrets the bytes we read; the file need not exist on disk (index,
    # history).
    "detect_secrets.filters.common.is_invalid_file",
    # Verification sends each candidate secret to its service's API: a secret must never
    # leave the machine, and a commit must not wait on the network. Offline, verification
    # keeps every secret anyway (unverified), so findings are the same.
    "detect_secrets.filters.common.is_ignored_due_to_verification_policies",
}
BASELINE_NAME = ".secrets.baseline"
EXCLUDE_FILTERS = {  # detect-secrets-hook's --exclude-* options, as detect-secrets sets them
    "lines": "detect_secrets.filters.regex.should_exclude_line",
    "files": "detect_secrets.filters.regex.should_exclude_file",
    "secrets": "detect_secrets.filters.regex.should_exclude_secret",  # pragma: allowlist secret
}


def installed_release() -> tuple[int, ...]:
    from detect_secrets.__version__ import VERSION

    return tuple(int(part) for part in re.findall(r"\d+", VERSION)[:3])


def fast_path_problem() -> str | None:
    """Why the fast path cannot be trusted with the installed detect-secrets; None: it can."""
    release = installed_release()
    first, last = TESTED_RELEASES
    if not first <= release[:2] < last:
        return (f"detect-secrets {'.'.join(map(str, release))} is not a tested release "
                f"(>={first[0]}.{first[1]},<{last[0]}.{last[1]})")
    for name, expected in PRIVATE_SIGNATURES.items():
        function = getattr(ds_scan, name, None)
        if function is None:
            return f"detect_secrets.core.scan.{name} is missing"
        try:
            parameters = tuple(inspect.signature(function).parameters)
        except (TypeError, ValueError):
            parameters = ()
        if parameters != expected:
            return f"detect_secrets.core.scan.{name} has another signature"
    return None


def default_configuration() -> dict[str, Any]:
    """The settings `detect-secrets scan` uses with no options."""
    with transient_settings({"plugins_used": []}):
        ParserBuilder().add_console_use_arguments().parse_args(["scan"])
        configuration: dict[str, Any] = get_settings().json()
    return configuration


def keyword_patterns() -> list[re.Pattern[str]] | None:
    """Every regex KeywordDetector searches a line with, whatever the file type (it picks
    one table by type; a line none of them matches is not reported whatever the type)."""
    tables = getattr(keyword, "REGEX_BY_FILETYPE", None)
    default = getattr(keyword, "QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP", None)
    if not isinstance(tables, dict) or not isinstance(default, dict):
        return None
    patterns: dict[tuple[str, int], re.Pattern[str]] = {}
    for table in [*tables.values(), default]:
        if not isinstance(table, dict) or not table:
            return None
        for pattern in table:
            if not isinstance(pattern, re.Pattern) or not isinstance(pattern.pattern, str):
                return None
            patterns[(pattern.pattern, pattern.flags)] = pattern
    return list(patterns.values())


class Probe:
    """Where one plugin could report: its patterns, each with the literals every match of
    it holds (recognition/required_literals.py); `by_line`: searched line by line only
    (the keyword plugin's patterns span line breaks over a whole text); for the entropy
    plugins, the test a match must pass to be reported at all."""

    __slots__ = ("accepts", "by_line", "patterns", "requirements")

    def __init__(self, patterns: list[re.Pattern[str]], *, by_line: bool = False,
                 accepts: Callable[[re.Match[str]], bool] | None = None) -> None:
        self.patterns = patterns
        self.requirements = [requirement(pattern) for pattern in patterns]
        self.by_line = by_line
        self.accepts = accepts

    def matches_line(self, pattern: re.Pattern[str], line: str) -> bool:
        if self.accepts is None:
            return pattern.search(line) is not None
        return any(self.accepts(match) for match in pattern.finditer(line))


def _entropy_test(plugin: HighEntropyStringsPlugin) -> Callable[[re.Match[str]], bool] | None:
    """The plugin's own threshold: it reports a quoted string (group 2 of its regex) only
    when the string's Shannon entropy, by its own measure, is above its limit. The
    entropy of n characters is at most log2(n) (the hex plugin's measure only subtracts
    from it), so a string shorter than 2**limit cannot pass and is not measured."""
    measure = getattr(plugin, "calculate_shannon_entropy", None)
    limit = getattr(plugin, "entropy_limit", None)
    if not callable(measure) or not isinstance(limit, (int, float)) or \
            plugin.regex.groups < 2:
        return None
    shortest = math.ceil(2 ** (limit - 1e-9)) if limit > 0 else 0

    def accepts(match: re.Match[str]) -> bool:
        value = match.group(2)
        return len(value) >= shortest and bool(measure(value) > limit)

    return accepts


def probe_for(plugin: BasePlugin) -> Probe | None:
    """The plugin's own patterns, when we know they cover everything it reports;
    None: the plugin is scanned on every line."""
    plugin_type = type(plugin)
    if not plugin_type.__module__.startswith("detect_secrets.plugins."):
        return None  # a custom plugin: no promise about how it matches
    if isinstance(plugin, RegexBasedDetector):
        if plugin_type.analyze_line is not BasePlugin.analyze_line or (
                plugin_type.analyze_string is not RegexBasedDetector.analyze_string
                and plugin_type.__name__ not in FILTERING_PLUGINS):
            return None  # it may report what its denylist does not match
        denylist = getattr(plugin, "denylist", None)
        if not isinstance(denylist, (list, tuple)) or not denylist or \
                not all(isinstance(p, re.Pattern) for p in denylist):
            return None
        # Whole text instead of one line: let ^ and $ match at every line.
        return Probe([re.compile(p.pattern, p.flags | re.MULTILINE) for p in denylist])
    if isinstance(plugin, HighEntropyStringsPlugin):
        regex = getattr(plugin, "regex", None)
        if not isinstance(regex, re.Pattern):
            return None
        return Probe([regex], accepts=_entropy_test(plugin))
    if isinstance(plugin, keyword.KeywordDetector):
        patterns = keyword_patterns()
        if plugin_type.analyze_string is not keyword.KeywordDetector.analyze_string or \
                plugin_type.analyze_line is not keyword.KeywordDetector.analyze_line or \
                not patterns:
            return None  # a subclass may match otherwise
        return Probe(patterns, by_line=True)
    return None


def _configuration(baseline_path: str, excludes: dict[str, list[str]] | None
                   ) -> tuple[dict[str, Any], SecretsCollection]:
    """(the settings to scan with, the secrets the baseline already knows)."""
    known = SecretsCollection()
    configuration = None
    if os.path.isfile(baseline_path):
        with open(baseline_path, encoding="utf-8") as stream:
            baseline = json.load(stream)
        known = SecretsCollection.load_from_baseline(baseline)
        configuration = {"plugins_used": baseline.get("plugins_used", []),
                         "filters_used": baseline.get("filters_used", [])}
    configuration = configuration or default_configuration()
    configuration["plugins_used"] = [p for p in configuration["plugins_used"]
                                     if p["name"] not in REPLACED_PLUGINS]
    configuration["filters_used"] = [f for f in configuration.get("filters_used", [])
                                     if f["path"] not in DROPPED_FILTERS]
    for kind, patterns in (excludes or {}).items():
        if patterns:
            configuration["filters_used"].append(
                {"path": EXCLUDE_FILTERS[kind], "pattern": list(patterns)})
    if os.path.isfile(baseline_path):
        # As detect-secrets-hook --baseline does: the baseline's own hashes are not secrets.
        configuration["filters_used"].append(
            {"path": "detect_secrets.filters.common.is_baseline_file",
             "filename": os.path.basename(baseline_path)})
    return configuration, known


@contextlib.contextmanager
def session(root: str, baseline_file: str | None = None,
            excludes: dict[str, list[str]] | None = None) -> Iterator[SecretScanner]:
    """A scanner with detect-secrets configured for this run only: the settings are
    restored when the block ends, however it ends."""
    configuration, known = _configuration(os.path.join(root, baseline_file or BASELINE_NAME),
                                          excludes)
    with transient_settings(configuration), contextlib.ExitStack() as cleanup:
        # configure_filters always adds the defaults back; these two must stay off.
        get_settings().disable_filters(*DROPPED_FILTERS)
        yield SecretScanner(root, known, fast=fast_path_problem() is None, cleanup=cleanup)


class SecretScanner:
    """Scans one file's bytes at a time, within a session()."""

    def __init__(self, root: str, known: SecretsCollection, *, fast: bool,
                 cleanup: contextlib.ExitStack) -> None:
        self.root = root
        self.known = known
        self.fast = fast
        self.encoding = locale.getpreferredencoding(False)
        self.plugins = list(get_plugins())
        self.probes = [probe_for(plugin) for plugin in self.plugins] if fast else []
        self.literals = LiteralFinder(required for probe in self.probes if probe is not None
                                      for required in probe.requirements)
        self._cleanup = cleanup
        self._folder: str | None = None  # where the public path writes files, once needed

    def relative(self, path: str) -> str:
        absolute = os.path.abspath(path)
        if absolute.startswith(self.root + os.sep):
            return os.path.relpath(absolute, self.root)
        return path

    def scan(self, path: str, data: bytes) -> list[PotentialSecret]:
        """New secrets in this file: what `detect-secrets scan` reports, minus the baseline."""
        filename = self.relative(path)
        found = self._fast_scan(filename, data) if self.fast else \
            self._public_scan(path, filename, data)
        known = self.known[filename] if filename in self.known.files else set()
        return [secret for secret in found if secret not in known]

    # -- the public path --------------------------------------------------------------------

    def _public_scan(self, path: str, filename: str, data: bytes) -> list[PotentialSecret]:
        """detect-secrets' own scan_file, run from a folder where `filename` holds `data`,
        so its file filters and transformers see the name `detect-secrets scan` would."""
        if os.path.isabs(filename) or filename.split(os.sep)[0] == os.pardir:
            # Outside the repository: only a named file on disk gets here; scan it in place.
            return list(ds_scan.scan_file(path))
        if self._folder is None:
            import tempfile

            self._folder = self._cleanup.enter_context(
                tempfile.TemporaryDirectory(prefix="certwarden-secrets-"))
        target = os.path.join(self._folder, filename)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as stream:
            stream.write(data)
        previous = os.getcwd()
        os.chdir(self._folder)
        try:
            return list(ds_scan.scan_file(filename))
        finally:
            os.chdir(previous)
            os.remove(target)

    # -- the fast path ----------------------------------------------------------------------

    def _fast_scan(self, filename: str, data: bytes) -> list[PotentialSecret]:
        if _is_filtered_out(required_filter_parameters=["filename"], filename=filename):
            return []
        try:
            text = data.decode(self.encoding)
        except (UnicodeDecodeError, LookupError):
            return []  # detect-secrets skips files it cannot read as text
        text = text.replace("\r\n", "\n").replace("\r", "\n")  # as open() in text mode
        found: list[PotentialSecret] = []
        for lines in _line_variants(filename, text):
            found = list(self._scan_lines(filename, lines))
            if found:
                break
        return found

    def _candidates(self, lines: list[str]) -> dict[int, set[int]]:
        """Line index -> indexes of the plugins whose patterns can match that line.

        A pattern is searched only where the literals every match of it holds are found
        (one Aho-Corasick pass per text): on just those lines, or, when they are most of
        the text, once over the whole text (lines as detect-secrets sees them,
        right-stripped), where a match marks every line it spans: a per-line match is
        either found where it starts or lies inside an earlier match that is marked.
        """
        stripped = [line.rstrip() for line in lines]
        found = self.literals.find(stripped)
        whole = found.text
        starts: list[int] | None = None
        candidates: dict[int, set[int]] = {}
        for index, probe in enumerate(self.probes):
            if probe is None:
                for line_index in range(len(lines)):
                    candidates.setdefault(line_index, set()).add(index)
                continue
            by_line: list[tuple[re.Pattern[str], tuple[frozenset[str], ...],
                                set[int] | None]] = []
            for pattern, required in zip(probe.patterns, probe.requirements, strict=True):
                if not found.holds(required):
                    continue  # no match anywhere in the text
                where = found.where(required)
                if probe.by_line or (where is not None and 2 * len(where) <= len(stripped)):
                    by_line.append((pattern, letterless_sets(required),
                                    None if where is None else set(where)))
                    continue
                if starts is None:
                    starts = [0]
                    for line in stripped[:-1]:
                        starts.append(starts[-1] + len(line) + 1)
                for match in pattern.finditer(whole):
                    if probe.accepts is not None and not probe.accepts(match):
                        continue
                    first = bisect.bisect_right(starts, match.start()) - 1
                    last = bisect.bisect_right(starts, max(match.end() - 1, match.start())) - 1
                    for line_index in range(first, last + 1):
                        candidates.setdefault(line_index, set()).add(index)
            if not by_line:
                continue
            holding = [only for _, _, only in by_line]
            lines_to_search: Iterable[int] = range(len(stripped)) if None in holding else \
                sorted(set().union(*(only for only in holding if only is not None)))
            for line_index in lines_to_search:
                marked = candidates.get(line_index)
                if marked is not None and index in marked:
                    continue  # a whole-text match already marked it
                line = stripped[line_index]
                for pattern, raw_sets, only in by_line:
                    if (only is None or line_index in only) and \
                            all(any(literal in line for literal in options)
                                for options in raw_sets) and \
                            probe.matches_line(pattern, line):
                        candidates.setdefault(line_index, set()).add(index)
                        break
        return candidates

    def _scan_lines(self, filename: str, lines: list[str]) -> Iterator[PotentialSecret]:
        """detect-secrets' line loop (core.scan._process_line_based_plugins), run only with
        the plugins, and on the lines, that its patterns can match."""
        candidates = self._candidates(lines)
        for line_index in sorted(candidates):
            line_number = line_index + 1
            line = lines[line_index].rstrip()
            plugins = [self.plugins[i] for i in sorted(candidates[line_index])]
            snippet = get_code_snippet(lines=lines, line_number=line_number)
            if _is_filtered_out(required_filter_parameters=["line"], filename=filename,
                                line=line, context=snippet):
                continue
            for plugin in plugins:
                for secret in _scan_line(plugin=plugin, filename=filename, line=line,
                                         line_number=line_number, context=snippet):
                    if not _is_filtered_out(
                            required_filter_parameters=["context"], filename=secret.filename,
                            secret=secret.secret_value, plugin=plugin, line=line,
                            context=snippet):
                        yield secret


# The private functions, looked up when called: fast_path_problem() vouched for them.
def _is_filtered_out(**kwargs: Any) -> bool:
    function: Callable[..., bool] = ds_scan._is_filtered_out
    return function(**kwargs)


def _scan_line(**kwargs: Any) -> Iterator[PotentialSecret]:
    function: Callable[..., Iterator[PotentialSecret]] = ds_scan._scan_line
    return function(**kwargs)


class _NamedText(io.StringIO):
    """The NamedIO detect-secrets' transformers expect, over text we already read."""

    def __init__(self, text: str, name: str) -> None:
        super().__init__(text)
        self.name = name


def _line_variants(filename: str, text: str) -> Iterator[list[str]]:
    """As core.scan._get_lines_from_file: transformed (or plain) lines, then eager ones."""
    stream = _NamedText(text, filename)
    lines = get_transformed_file(stream)  # type: ignore[arg-type]
    if not lines:
        stream.seek(0)
        lines = stream.readlines()
    yield lines
    if _eager_parse_fails_early(filename, text):
        return
    stream.seek(0)
    eager = get_transformed_file(stream, use_eager_transformers=True)  # type: ignore[arg-type]
    if eager:
        yield eager


# Eager lines are only wanted for a file the first pass found nothing in; on the tested
# releases they come from one transformer that reads the file as INI (configparser). Over a
# long text its first lines are tried alone first: configparser reads line by line and
# judges each line by the lines before it, so a prefix it rejects means it rejects the
# whole text (and the transformer gives nothing) without parsing a megabyte of it.
EAGER_PREFIX = 64 * 1024


def _eager_parse_fails_early(filename: str, text: str) -> bool:
    if len(text) <= EAGER_PREFIX:
        return False
    try:
        import configparser

        from detect_secrets.transformers import get_transformers
        from detect_secrets.transformers.config import (
            EagerConfigFileTransformer,
            IniFileParser,
        )

        transformers: list[Any] = list(get_transformers())
        eager = [t for t in transformers if t.is_eager]
        if [type(t) for t in eager] != [EagerConfigFileTransformer] or \
                not eager[0].should_parse_file(filename):
            return False
        end = text.rfind("\n", 0, EAGER_PREFIX)
        if end <= 0:
            return False
        try:
            IniFileParser(_NamedText(text[:end + 1], filename),  # type: ignore[arg-type]
                          add_header=True)
        except configparser.Error:
            return True
    except Exception:  # anything unexpected: parse the whole text, as detect-secrets does
        return False
    return False
