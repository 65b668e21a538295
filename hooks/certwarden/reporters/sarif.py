"""`--format sarif`: SARIF 2.1.0 for GitHub code scanning and other CI dashboards.

Rules come from the registry; locations are relative to the repository root.
"""

from __future__ import annotations

import json
import os
from urllib.parse import quote

from certwarden import __version__
from certwarden.findings import Finding, Report, Severity
from certwarden.registry import all_rules
from certwarden.reporters import ReportOptions, split_commit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _result(finding: Finding, root: str, rule_index: dict[str, int]) -> dict[str, object]:
    path, commit = split_commit(finding.path, root)
    uri = quote(path, safe="/")
    location: dict[str, object] = {"artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"}}
    if finding.line is not None:
        location["region"] = {"startLine": finding.line}
    result: dict[str, object] = {
        "ruleId": finding.rule.id,
        "ruleIndex": rule_index[finding.rule.id],
        "level": LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": location}],
        "partialFingerprints": {"certwarden/v1": finding.fingerprint},
    }
    if commit:
        result["properties"] = {"commit": commit}
    return result


def document(report: Report, root: str) -> dict[str, object]:
    rules = [{
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": f"Policy: {rule.policy}"},
        "help": {"text": rule.hint_for("FILE"), "markdown": rule.hint_for("FILE")},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"group": rule.group, "tags": ["security", *rule.tags],
                       "security-severity": rule.security_severity},
    } for rule in all_rules()]
    rule_index = {rule.id: index for index, rule in enumerate(all_rules())}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "certwarden", "version": __version__,
                "informationUri": "https://github.com/certwarden/certwarden",
                "rules": rules,
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": f"file://{quote(root)}/"}},
            "results": [_result(f, root, rule_index) for f in report.findings],
            "properties": {"filesChecked": report.files_checked},
        }],
    }


def write(report: Report, stream: TextIO, options: ReportOptions) -> None:
    json.dump(document(report, os.path.abspath(options.root)), stream, indent=2)
    stream.write("\n")
