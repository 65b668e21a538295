"""Generic secrets through detect-secrets: its plugins, filters, transformers and baseline,
with the same findings as `detect-secrets scan`, far faster.

Why detect-secrets is slow: every line of every file goes through every plugin (about 25)
and the line filters, twice for files it can also read as config. What we change: before
scanning a file's lines, each plugin's own patterns are searched over the whole text;
a plugin whose patterns match nowhere cannot report anything in that file (its
analyze_line only yields what those patterns match), so it is skipped, and so is any line
no remaining plugin's pattern matches. Everything that runs is detect-secrets' own code
(its scan internals are mirrored here, see `_scan_lines`); a differential test keeps the
(file, line, type) sets identical to `detect-secrets scan`.

detect-secrets' settings are process-global: `SecretScanner` sets them for its lifetime
and restores them in `close()`.
"""

from __future__ import annotations

import bisect
import io
import json
import locale
import os
import re
from collections.abc import Iterator
from typing import Any

from detect_secrets.core import scan as ds_scan
from detect_secrets.core.potential_secret import PotentialSecret
from detect_secrets.core.secrets_collection import SecretsCollection
from detect_secrets.core.usage import ParserBuilder
from detect_secrets.plugins import keyword
from detect_secrets.plugins.base import BasePlugin, RegexBasedDetector
from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
from detect_secrets.settings import (
    configure_settings_from_baseline,
    get_filters,
    get_plugins,
    get_settings,
    transient_settings,
)
from detect_secrets.transformers import get_transformed_file
from detect_secrets.util.code_snippet import get_code_snippet

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


def default_configuration() -> dict[str, Any]:
    """The settings `detect-secrets scan` uses with no options."""
    with transient_settings({"plugins_used": []}):
        ParserBuilder().add_console_use_arguments().parse_args(["scan"])
        configuration: dict[str, Any] = get_settings().json()
    return configuration


def keyword_gates(denylist: tuple[str, ...]) -> frozenset[str]:
    """Literal words one of which every KeywordDetector keyword contains, computed from
    detect-secrets' own denylist: the longest run of letters of each keyword pattern
    (`api_?key` -> `api`). Compared case-folded, which maps everything re.IGNORECASE
    equates onto one form, so a text without any gate cannot match."""
    gates = set()
    for pattern in denylist:
        runs = re.findall(r"[^\W\d_]+", re.sub(r".\?", " ", pattern))  # drop optional chars
        gates.add(max(runs, key=len).casefold() if runs else "")
    return frozenset(gates)


KEYWORD_GATES = keyword_gates(keyword.DENYLIST)


def _probes(plugin: BasePlugin) -> list[re.Pattern[str]] | None:
    """Patterns that match wherever the plugin could report; None: always scan."""
    plugin_type = type(plugin)
    if not plugin_type.__module__.startswith("detect_secrets.plugins."):
        return None  # a custom plugin: no promise about how it matches
    if isinstance(plugin, RegexBasedDetector) and plugin_type.analyze_line is \
            BasePlugin.analyze_line:
        # Whole text instead of one line: let ^ and $ match at every line.
        return [re.compile(p.pattern, p.flags | re.MULTILINE) for p in plugin.denylist]
    if isinstance(plugin, HighEntropyStringsPlugin):
        return [plugin.regex]
    if isinstance(plugin, keyword.KeywordDetector):
        # Every keyword regex starts from one of these words, case-insensitively.
        return [re.compile("|".join(keyword.DENYLIST), re.IGNORECASE)]
    return None


EXCLUDE_FILTERS = {  # detect-secrets-hook's --exclude-* options, as detect-secrets sets them
    "lines": "detect_secrets.filters.regex.should_exclude_line",
    "files": "detect_secrets.filters.regex.should_exclude_file",
    "secrets": "detect_secrets.filters.regex.should_exclude_secret",
}


class SecretScanner:
    def __init__(self, root: str, baseline_file: str | None = None,
                 excludes: dict[str, list[str]] | None = None) -> None:
        self.root = root
        baseline_path = os.path.join(root, baseline_file or BASELINE_NAME)
        self.known = SecretsCollection()
        configuration = None
        if os.path.isfile(baseline_path):
            with open(baseline_path, encoding="utf-8") as stream:
                baseline = json.load(stream)
            self.known = SecretsCollection.load_from_baseline(baseline)
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
        self._original = get_settings().json()
        configure_settings_from_baseline(configuration)
        get_settings().disable_filters(*DROPPED_FILTERS)
        get_plugins.cache_clear()
        get_filters.cache_clear()
        self.plugins = list(get_plugins())
        self.probes = [(plugin, _probes(plugin)) for plugin in self.plugins]
        self.encoding = locale.getpreferredencoding(False)

    def close(self) -> None:
        configure_settings_from_baseline(self._original)
        get_plugins.cache_clear()
        get_filters.cache_clear()

    def relative(self, path: str) -> str:
        absolute = os.path.abspath(path)
        if absolute.startswith(self.root + os.sep):
            return os.path.relpath(absolute, self.root)
        return path

    def scan(self, path: str, data: bytes) -> list[PotentialSecret]:
        """New secrets in this file: what `detect-secrets scan` reports, minus the baseline."""
        filename = self.relative(path)
        if ds_scan._is_filtered_out(required_filter_parameters=["filename"], filename=filename):
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
        known = self.known[filename] if filename in self.known.files else set()
        return [secret for secret in found if secret not in known]

    def _candidates(self, lines: list[str]) -> dict[int, set[int]]:
        """Line index -> indexes of the plugins whose patterns can match that line.

        Each pattern runs once over the whole text (lines as detect-secrets sees them,
        right-stripped). A match marks every line it spans: a per-line match is either
        found where it starts or lies inside an earlier match that is marked.
        """
        stripped = [line.rstrip() for line in lines]
        whole = "\n".join(stripped)
        folded: str | None = None
        starts = [0]
        for line in stripped[:-1]:
            starts.append(starts[-1] + len(line) + 1)
        candidates: dict[int, set[int]] = {}
        for index, (_, probes) in enumerate(self.probes):
            if probes is None:
                for line_index in range(len(lines)):
                    candidates.setdefault(line_index, set()).add(index)
                continue
            if isinstance(self.plugins[index], keyword.KeywordDetector):
                folded = whole.casefold() if folded is None else folded
                if not any(gate in folded for gate in KEYWORD_GATES):
                    continue  # its case-insensitive alternation is slow on long texts
            for probe in probes:
                for match in probe.finditer(whole):
                    first = bisect.bisect_right(starts, match.start()) - 1
                    last = bisect.bisect_right(starts, max(match.end() - 1, match.start())) - 1
                    for line_index in range(first, last + 1):
                        candidates.setdefault(line_index, set()).add(index)
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
            if ds_scan._is_filtered_out(required_filter_parameters=["line"], filename=filename,
                                        line=line, context=snippet):
                continue
            for plugin in plugins:
                for secret in ds_scan._scan_line(plugin=plugin, filename=filename, line=line,
                                                 line_number=line_number, context=snippet):
                    if not ds_scan._is_filtered_out(
                            required_filter_parameters=["context"], filename=secret.filename,
                            secret=secret.secret_value, plugin=plugin, line=line,
                            context=snippet):
                        yield secret


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
    stream.seek(0)
    eager = get_transformed_file(stream, use_eager_transformers=True)  # type: ignore[arg-type]
    if eager:
        yield eager
