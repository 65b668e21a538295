"""`--format json`: exactly the object of the outside contract (docs/contract.md)."""

from __future__ import annotations

import json

from certwarden.findings import Report
from certwarden.reporters import ReportOptions

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO


def write(report: Report, stream: TextIO, options: ReportOptions) -> None:
    document = {
        "findings": [finding.as_json() for finding in report.findings],
        "files_checked": report.files_checked,
    }
    json.dump(document, stream, indent=2)
    stream.write("\n")
