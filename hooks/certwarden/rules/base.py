"""What every rule implementation shares: the Issue it reports, and how it becomes a
Finding tied to a file."""

from __future__ import annotations

from dataclasses import dataclass

from certwarden.context import RuleContext
from certwarden.findings import Finding, Severity
from certwarden.registry import get_rule

__all__ = ["Issue", "RuleContext", "to_finding"]


@dataclass(frozen=True)
class Issue:
    """A rule's verdict on one object, before it is tied to a file."""

    rule: str
    message: str
    severity: Severity | None = None  # None: the rule's configured severity
    fingerprint: str | None = None  # None: the object's own fingerprint


def to_finding(path: str, line: int | None, issue: Issue, fingerprint: str) -> Finding:
    """Tie an Issue to its file, with the registry's default severity and fix hint."""
    rule = get_rule(issue.rule)
    return Finding(path=path, line=line, rule=issue.rule,
                   severity=issue.severity or rule.severity, message=issue.message,
                   hint=rule.hint_for(path), fingerprint=issue.fingerprint or fingerprint)
