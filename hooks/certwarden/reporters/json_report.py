"""`--format json`: exactly the object SPEC.md describes."""

from __future__ import annotations

import json

from certwarden.pipeline import Report

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO


def write(report: Report, stream: TextIO) -> None:
    document = {
        "findings": [finding.as_json() for finding in report.findings],
        "files_checked": report.files_checked,
    }
    json.dump(document, stream, indent=2)
    stream.write("\n")
