"""The data flow: sources -> groups (recognition + rules) -> policy (severity, allowlist)."""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Protocol

from certwarden.config import Config
from certwarden.findings import Finding, Severity
from certwarden.passphrases import path_matches
from certwarden.rules.base import Issue, RuleContext, to_finding
from certwarden.sources import SourceFile

# Group name -> the rule reported when the group itself fails on a file.
GROUPS: dict[str, str] = {"certificates": "cert-unreadable", "keys": "key-unreadable"}


class Group(Protocol):
    def wants(self, source: SourceFile, context: RuleContext) -> bool: ...

    def check(self, source: SourceFile, context: RuleContext) -> list[Finding]: ...


def load_group(name: str) -> Group:
    module: Group = importlib.import_module(f"certwarden.groups.{name}")
    return module


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    files_checked: int = 0

    def blocking(self, *, strict: bool) -> list[Finding]:
        return [f for f in self.findings if f.blocks(strict=strict)]


def is_excluded(path: str, config: Config) -> bool:
    return any(path_matches(path, pattern) for pattern in config.exclude)


def _check_one(group_name: str, group: Group, source: SourceFile,
               context: RuleContext) -> list[Finding]:
    try:
        return group.check(source, context)
    except Exception as exc:  # a defect of ours must not hide the other files' verdicts
        issue = Issue(GROUPS[group_name], f"internal error while checking this file "
                      f"({type(exc).__name__}); please report it", severity=Severity.ERROR)
        return [to_finding(source.path, None, issue, hashlib.sha256(source.data).hexdigest())]


def run(sources: Iterable[SourceFile], *, groups: Iterable[str], context: RuleContext) -> Report:
    selected = [(name, load_group(name)) for name in groups]
    report = Report()
    for source in sources:
        if is_excluded(source.path, context.config):
            continue
        report.files_checked += 1
        for name, group in selected:
            if group.wants(source, context):
                report.findings.extend(_check_one(name, group, source, context))
    report.findings = apply_policy(report.findings, context.config)
    return report


def apply_policy(findings: Iterable[Finding], config: Config) -> list[Finding]:
    """Severity overrides and allowlist entries; duplicates dropped; stable order."""
    from certwarden.registry import get_rule

    allowed = {(entry.fingerprint, entry.rule) for entry in config.allowlist}
    kept: dict[tuple[str, int | None, str, str], Finding] = {}
    for finding in findings:
        if (finding.fingerprint, finding.rule) in allowed:
            continue
        if finding.rule in config.severity:
            override = config.severity[finding.rule]
            if override is None:
                continue
            # A finding that deliberately speaks softer than its rule (e.g. "unverified")
            # keeps its own level.
            if finding.severity is get_rule(finding.rule).severity:
                finding = replace(finding, severity=override)
        kept.setdefault((finding.path, finding.line, finding.rule, finding.message), finding)
    return sorted(kept.values(), key=Finding.sort_key)
