"""`--format codequality`: GitLab's Code Quality report (the Code Climate subset GitLab
reads), which merge requests show in every GitLab tier. GitLab does not display SARIF.

Store it with `artifacts: reports: codequality: gl-code-quality-report.json`.
"""

from __future__ import annotations

import json

from certwarden.findings import Finding, Report, Severity
from certwarden.reporters import ReportOptions, split_commit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

# Blocking findings are GitLab's "critical"; warnings "major"; notes "info".
SEVERITIES = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.INFO: "info"}


def _issue(finding: Finding, options: ReportOptions) -> dict[str, object]:
    path, commit = split_commit(finding.path, options.root)
    description = f"{finding.rule.id}: {finding.message}"
    if commit:
        description += f" (commit {commit})"
    return {
        "type": "issue",
        "check_name": finding.rule.id,
        "description": description,
        "content": {"body": finding.hint},
        "categories": ["Security"],
        "fingerprint": finding.fingerprint,
        "severity": SEVERITIES[finding.severity],
        "location": {"path": path, "lines": {"begin": finding.line or 1}},
    }


def write(report: Report, stream: TextIO, options: ReportOptions) -> None:
    json.dump([_issue(finding, options) for finding in report.findings], stream, indent=2)
    stream.write("\n")
