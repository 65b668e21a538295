"""What rules produce and reporters print.

Kept free of dataclasses and typing: this module is on every run's start-up path.
"""

from __future__ import annotations

import enum


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Finding:
    """One problem in one file. Never holds key material or a passphrase."""

    __slots__ = ("fingerprint", "hint", "line", "message", "path", "rule", "severity")

    def __init__(self, *, path: str, line: int | None, rule: str, severity: Severity,
                 message: str, hint: str, fingerprint: str) -> None:
        self.path = path
        self.line = line
        self.rule = rule
        self.severity = severity
        self.message = message
        self.hint = hint
        self.fingerprint = fingerprint

    def __repr__(self) -> str:
        return f"Finding({self.path!r}, {self.line!r}, {self.rule!r}, {self.severity.value!r})"

    def with_severity(self, severity: Severity) -> Finding:
        return Finding(path=self.path, line=self.line, rule=self.rule, severity=severity,
                       message=self.message, hint=self.hint, fingerprint=self.fingerprint)

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
