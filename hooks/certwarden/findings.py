"""The vocabulary every stage shares: a Rule, the Issue a rule raises about one object,
the Finding that ties it to a file, and the Report that reporters print.

Kept free of dataclasses and typing: this module is on every run's start-up path.
A rule is declared once, as a module-level `Rule(...)` beside its check; the registry
collects those declarations (see docs/architecture.md).
"""

from __future__ import annotations

import enum


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


# How a code-scanning dashboard ranks a rule (SARIF `security-severity`, 0.0 to 10.0).
SECURITY_SEVERITY = {"critical": "9.0", "high": "7.5", "medium": "5.0", "low": "2.0"}


class Rule:
    """One rule: its stable id, default severity, what it checks, the policy line it
    enforces (docs/policy.md) and how to fix what it finds."""

    __slots__ = ("group", "hint", "id", "impact", "policy", "severity", "summary", "tags")

    def __init__(self, rule_id: str, group: str, severity: Severity, *, summary: str,
                 policy: str, hint: str, impact: str = "high",
                 tags: tuple[str, ...] = ()) -> None:
        self.id = rule_id
        self.group = group  # certificates | keys | repository | trust | secrets | appliances
        self.severity = severity
        self.summary = summary
        self.policy = policy
        self.hint = hint  # "{path}" is replaced by the file's path
        self.impact = impact  # critical | high | medium | low: SARIF security-severity
        self.tags = tags

    def __repr__(self) -> str:
        return f"Rule({self.id!r})"

    def __reduce__(self) -> tuple[object, tuple[str]]:
        # Forked workers send findings back pickled: a rule travels as its id.
        return (_rule_by_id, (self.id,))

    def hint_for(self, path: str) -> str:
        return self.hint.replace("{path}", path)

    @property
    def security_severity(self) -> str:
        return SECURITY_SEVERITY[self.impact]

    def issue(self, message: str, *, severity: Severity | None = None,
              fingerprint: str | None = None) -> Issue:
        """This rule's verdict on one object, before it is tied to a file."""
        return Issue(self, message, severity, fingerprint)


def _rule_by_id(rule_id: str) -> Rule:
    from certwarden.registry import get_rule

    return get_rule(rule_id)


class Issue:
    """A rule's verdict on one object (a certificate, a key), before it has a file."""

    __slots__ = ("fingerprint", "message", "rule", "severity")

    def __init__(self, rule: Rule, message: str, severity: Severity | None = None,
                 fingerprint: str | None = None) -> None:
        self.rule = rule
        self.message = message
        self.severity = severity  # None: the rule's own severity
        self.fingerprint = fingerprint  # None: the object's own fingerprint

    def __repr__(self) -> str:
        return f"Issue({self.rule.id!r}, {self.message!r})"

    def at(self, path: str, line: int | None, fingerprint: str) -> Finding:
        """Tie the issue to its file, with the rule's default severity and fix hint."""
        return Finding(path=path, line=line, rule=self.rule,
                       severity=self.severity or self.rule.severity, message=self.message,
                       hint=self.rule.hint_for(path), fingerprint=self.fingerprint or fingerprint)


class Finding:
    """One problem in one file. Never holds key material or a passphrase."""

    __slots__ = ("fingerprint", "hint", "line", "message", "path", "rule", "severity")

    def __init__(self, *, path: str, line: int | None, rule: Rule, severity: Severity,
                 message: str, hint: str, fingerprint: str) -> None:
        self.path = path
        self.line = line
        self.rule = rule
        self.severity = severity
        self.message = message
        self.hint = hint
        self.fingerprint = fingerprint

    def __repr__(self) -> str:
        return f"Finding({self.path!r}, {self.line!r}, {self.rule.id!r}, {self.severity.value!r})"

    def with_severity(self, severity: Severity) -> Finding:
        return Finding(path=self.path, line=self.line, rule=self.rule, severity=severity,
                       message=self.message, hint=self.hint, fingerprint=self.fingerprint)

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.path, self.line or 0, self.rule.id, self.message)

    def blocks(self, *, strict: bool) -> bool:
        if self.severity is Severity.ERROR:
            return True
        return strict and self.severity is Severity.WARNING

    def as_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "rule": self.rule.id,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
            "fingerprint": self.fingerprint,
        }


class Report:
    """What one run found: the findings after policy, and how many files were judged."""

    __slots__ = ("baselined", "files_checked", "findings", "notes")

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.files_checked = 0
        self.baselined: set[tuple[str, str]] = set()  # baseline entries seen this run
        self.notes: list[str] = []  # run-level remarks for people (stderr), never findings

    def blocking(self, *, strict: bool) -> list[Finding]:
        return [f for f in self.findings if f.blocks(strict=strict)]

    def merge(self, other: Report) -> None:
        self.findings.extend(other.findings)
        self.files_checked += other.files_checked
        self.notes.extend(n for n in other.notes if n not in self.notes)
