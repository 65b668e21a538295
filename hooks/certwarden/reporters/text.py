"""Text for people: `path[:line]: rule: message`, the hint below, then a summary line."""

from __future__ import annotations

import os

from certwarden.findings import Report, Severity
from certwarden.reporters import ReportOptions

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

_COLOURS = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m", Severity.INFO: "\033[36m"}
_RESET = "\033[0m"
_DIM = "\033[2m"


def use_colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def display_path(path: str) -> str:
    """One finding, one line: control characters in a file name are shown escaped."""
    if path.isprintable():
        return path
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in path)


def write(report: Report, stream: TextIO, options: ReportOptions) -> None:
    colour = use_colour(stream)
    strict = options.strict
    for finding in report.findings:
        path = display_path(finding.path)
        location = path if finding.line is None else f"{path}:{finding.line}"
        level = finding.severity.value
        if colour:
            level = f"{_COLOURS[finding.severity]}{level}{_RESET}"
        stream.write(f"{location}: {finding.rule.id}: {finding.message} [{level}]\n")
        hint = f"    hint: {finding.hint}"
        stream.write(f"{_DIM}{hint}{_RESET}\n" if colour else f"{hint}\n")
    counts = {severity: 0 for severity in Severity}
    for finding in report.findings:
        counts[finding.severity] += 1
    blocking = len(report.blocking(strict=strict))
    verdict = "blocked" if blocking else "passed"
    stream.write(
        f"certwarden: {verdict}: {_plural(counts[Severity.ERROR], 'error')}, "
        f"{_plural(counts[Severity.WARNING], 'warning')}, {_plural(counts[Severity.INFO], 'note')} "
        f"in {_plural(report.files_checked, 'file')} checked\n")
