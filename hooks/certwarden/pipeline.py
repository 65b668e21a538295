"""The data flow: sources -> groups (recognition + rules) -> policy (severity, allowlist).

On the start-up path of every run: only light imports here.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence

from certwarden.config import Config
from certwarden.context import RuleContext
from certwarden.findings import Finding, Severity
from certwarden.passphrases import path_matches
from certwarden.sources import SourceFile

TYPE_CHECKING = False  # typing costs start-up time; mypy reads this block all the same
if TYPE_CHECKING:
    from typing import Protocol

    class Group(Protocol):
        def wants(self, source: SourceFile, context: RuleContext) -> bool: ...

        def check(self, source: SourceFile, context: RuleContext) -> list[Finding]: ...

# Per-file groups -> the rule reported when the group itself fails on a file.
GROUPS: dict[str, str] = {"certificates": "cert-unreadable", "keys": "key-unreadable",
                          "secrets": "secret"}  # pragma: allowlist secret
# Groups that judge the whole git index at once.
REPOSITORY_GROUPS = ("unique",)
ALL_GROUPS = (*GROUPS, *REPOSITORY_GROUPS)


def load_group(name: str) -> Group:
    module: Group = importlib.import_module(f"certwarden.groups.{name}")
    return module


class Report:
    __slots__ = ("baselined", "files_checked", "findings")

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.files_checked = 0
        self.baselined: set[tuple[str, str]] = set()  # baseline entries seen this run

    def blocking(self, *, strict: bool) -> list[Finding]:
        return [f for f in self.findings if f.blocks(strict=strict)]


def is_excluded(path: str, config: Config) -> bool:
    return any(path_matches(path, pattern) for pattern in config.exclude)


def _check_one(group_name: str, group: Group, source: SourceFile,
               context: RuleContext) -> list[Finding]:
    try:
        return group.check(source, context)
    except Exception as exc:  # a defect of ours must not hide the other files' verdicts
        import hashlib

        from certwarden.rules.base import Issue, to_finding

        issue = Issue(GROUPS[group_name], f"internal error while checking this file "
                      f"({type(exc).__name__}); please report it", severity=Severity.ERROR)
        return [to_finding(source.path, None, issue, hashlib.sha256(source.data).hexdigest())]


def _run_unpoliced(sources: Iterable[SourceFile], groups: Sequence[str],
                   context: RuleContext) -> Report:
    selected = [(name, load_group(name)) for name in groups if name in GROUPS]
    report = Report()
    exclude = context.config.exclude
    for source in sources:
        if exclude and is_excluded(source.path, context.config):
            continue
        report.files_checked += 1
        for name, group in selected:
            if group.wants(source, context):
                report.findings.extend(_check_one(name, group, source, context))
    for _, group in selected:
        finish = getattr(group, "finish", None)
        if finish is not None:
            finish(context)
    return report


def run(sources: Iterable[SourceFile], *, groups: Sequence[str], context: RuleContext,
        use_baseline: bool = True) -> Report:
    return _finish(_run_unpoliced(sources, groups, context), groups, context,
                   use_baseline=use_baseline)


def _finish(report: Report, groups: Sequence[str], context: RuleContext, *,
            use_baseline: bool = True) -> Report:
    """Add the repository-wide findings, then apply the policy to everything."""
    if "unique" in groups:
        from certwarden.groups.unique import check_repository

        findings, certificate_files = check_repository(context)
        report.findings.extend(findings)
        if not report.files_checked:  # the repository-wide hook reads no named files
            report.files_checked = certificate_files
    report.findings = apply_policy(report.findings, context.config,
                                   report if use_baseline else None)
    return report


def run_paths(paths: Sequence[str], *, groups: Sequence[str], context: RuleContext) -> Report:
    """Named files, shared between worker processes when there are many of them."""
    from certwarden.parallel import map_chunks
    from certwarden.sources import expand_paths, read_paths

    def work(chunk: Sequence[str]) -> Report:
        return _run_unpoliced(read_paths(chunk, max_bytes=context.config.max_file_bytes),
                              groups, context)

    report = Report()
    for part in map_chunks(work, expand_paths(paths)):
        report.findings.extend(part.findings)
        report.files_checked += part.files_checked
    return _finish(report, groups, context)


def apply_policy(findings: list[Finding], config: Config,
                 report: Report | None = None) -> list[Finding]:
    """Severity overrides, allowlist and baseline entries; duplicates dropped; stable order."""
    if not findings:
        return findings
    from certwarden import baseline
    from certwarden.registry import get_rule

    allowed = {(entry.fingerprint, entry.rule) for entry in config.allowlist}
    # Without a report to record matches in (writing a baseline), the baseline is ignored.
    known = (baseline.load(baseline.baseline_path(config.root, config.baseline))
             if report is not None else set())
    kept: dict[tuple[str, int | None, str, str], Finding] = {}
    for finding in findings:
        key = (finding.fingerprint, finding.rule)
        if key in allowed:
            continue
        if key in known:
            if report is not None:
                report.baselined.add(key)
            continue
        if finding.rule in config.severity:
            override = config.severity[finding.rule]
            if override is None:
                continue
            # A finding that deliberately speaks softer than its rule (e.g. "unverified")
            # keeps its own level.
            if finding.severity is get_rule(finding.rule).severity:
                finding = finding.with_severity(override)
        kept.setdefault((finding.path, finding.line, finding.rule, finding.message), finding)
    return sorted(kept.values(), key=Finding.sort_key)
