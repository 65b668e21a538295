"""The data flow: sources -> groups (recognition + rules) -> policy (severity, allowlist,
baseline) -> a Report for a reporter (docs/architecture.md).

The pipeline runs any list of groups through one interface (certwarden.groups.Group),
never by name. On the start-up path of every run: only light imports here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence

from certwarden.config import Config
from certwarden.context import RuleContext
from certwarden.findings import Finding, Report, Severity
from certwarden.groups import FILE, Group
from certwarden.passphrases import path_matches
from certwarden.sources import SourceFile


def is_excluded(path: str, config: Config) -> bool:
    return any(path_matches(path, pattern) for pattern in config.exclude)


def check_one(group: Group, source: SourceFile, context: RuleContext) -> list[Finding]:
    try:
        return group.check(source, context)
    except Exception as exc:  # a defect of ours must not hide the other files' verdicts
        import hashlib

        issue = group.unreadable_rule().issue(
            f"internal error while checking this file ({type(exc).__name__}); please report "
            "it", severity=Severity.ERROR)
        return [issue.at(source.path, None, hashlib.sha256(source.data).hexdigest())]


def check_files(sources: Iterable[SourceFile], groups: Sequence[Group],
                context: RuleContext) -> Report:
    """The file groups over these files, before policy."""
    file_groups = [group for group in groups if group.scope == FILE]
    report = Report()
    exclude = context.config.exclude
    with contextlib.ExitStack() as stack:
        for group in file_groups:
            stack.enter_context(group.session(context))
        for source in sources:
            if exclude and is_excluded(source.path, context.config):
                continue
            report.files_checked += 1
            for group in file_groups:
                if group.wants(source, context):
                    report.findings.extend(check_one(group, source, context))
    return report


def finish(report: Report, groups: Sequence[Group], context: RuleContext, *,
           use_baseline: bool = True) -> Report:
    """Add the repository-wide findings, then apply the policy to everything."""
    for group in groups:
        findings, judged = group.judge_repository(context)
        report.findings.extend(findings)
        if not report.files_checked:  # a repository-wide hook reads no named files
            report.files_checked = judged
    report.findings = apply_policy(report.findings, context.config,
                                   report if use_baseline else None)
    return report


def run(sources: Iterable[SourceFile], *, groups: Sequence[Group], context: RuleContext,
        use_baseline: bool = True) -> Report:
    return finish(check_files(sources, groups, context), groups, context,
                  use_baseline=use_baseline)


def run_paths(paths: Sequence[str], *, groups: Sequence[Group], context: RuleContext
              ) -> Report:
    """Named files, shared between worker processes when there are many of them."""
    from certwarden.parallel import map_chunks
    from certwarden.sources import expand_paths, read_paths

    def work(chunk: Sequence[str]) -> Report:
        return check_files(read_paths(chunk, max_bytes=context.config.max_file_bytes),
                           groups, context)

    report = Report()
    for part in map_chunks(work, expand_paths(paths)):
        report.merge(part)
    return finish(report, groups, context)


def apply_policy(findings: list[Finding], config: Config,
                 report: Report | None = None) -> list[Finding]:
    """Severity overrides, allowlist and baseline entries; duplicates dropped; stable order."""
    if not findings:
        return findings
    from certwarden import baseline

    allowed = {(entry.fingerprint, entry.rule) for entry in config.allowlist}
    # Without a report to record matches in (writing a baseline), the baseline is ignored.
    known = (baseline.load(baseline.baseline_path(config.root, config.baseline))
             if report is not None else set())
    kept: dict[tuple[str, int | None, str, str], Finding] = {}
    for finding in findings:
        key = (finding.fingerprint, finding.rule.id)
        if key in allowed:
            continue
        if key in known:
            if report is not None:
                report.baselined.add(key)
            continue
        if finding.rule.id in config.severity:
            override = config.severity[finding.rule.id]
            if override is None:
                continue
            # A finding that deliberately speaks softer than its rule (e.g. "unverified")
            # keeps its own level.
            if finding.severity is finding.rule.severity:
                finding = finding.with_severity(override)
        kept.setdefault((finding.path, finding.line, finding.rule.id, finding.message), finding)
    return sorted(kept.values(), key=Finding.sort_key)
