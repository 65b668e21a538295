"""What rules produce and reporters print."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True)
class Finding:
    """One problem in one file. Never holds key material or a passphrase."""

    path: str
    line: int | None
    rule: str
    severity: Severity
    message: str
    hint: str
    fingerprint: str

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.path, self.line or 0, self.rule, self.message)

    def blocks(self, *, strict: bool) -> bool:
        if self.severity is Severity.ERROR:
            return True
        return strict and self.severity is Severity.WARNING

    def as_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
            "fingerprint": self.fingerprint,
        }
