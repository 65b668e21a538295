"""What every rule implementation shares: its context and what it reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from certwarden.config import Config
from certwarden.findings import Finding, Severity
from certwarden.neighbours import Neighbours, WorkingTree
from certwarden.registry import get_rule


@dataclass(frozen=True)
class RuleContext:
    config: Config
    now: datetime  # timezone-aware, UTC
    neighbours: Neighbours | None = None  # where related files are read; None: working tree

    def neighbour_files(self) -> Neighbours:
        return self.neighbours or WorkingTree(self.config.max_file_bytes)


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
