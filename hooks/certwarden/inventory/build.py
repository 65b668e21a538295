"""Build the inventory: collect the rows, run the repository-wide rules (the unique
group's, the appliance rules), apply the policy, and give each row its findings, status,
chain status and appliance.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from certwarden.config import Config
from certwarden.context import RuleContext
from certwarden.findings import Finding, Report
from certwarden.inventory.collect import Collected, IndexSource, PathSource, Source, collect
from certwarden.inventory.model import ApplianceEntry, CertificateRow, Inventory, status_of
from certwarden.pipeline import apply_policy, is_excluded
from certwarden.recognition import sniff


def index_certificate_files(files: dict[str, str | None], config: Config) -> list[str]:
    """Certificate files by name (as the check-certificates hook selects them), and the
    files the manifest names as certificates, minus excluded paths."""
    named = {a.certificate for a in config.appliances if a.certificate}
    extensions = sniff.CERTIFICATE_EXTENSIONS
    selected = [path for path in files if path.lower().endswith(extensions) or path in named]
    if config.exclude:
        selected = [path for path in selected if not is_excluded(path, config)]
    return sorted(selected)


def _policy(findings: list[Finding], config: Config) -> list[Finding]:
    # A throwaway report: baselined findings are dropped, as in every other command.
    return apply_policy(list(findings), config, Report())


def appliance_findings(context: RuleContext) -> tuple[list[Finding], int]:
    """The appliance rules over the git index (for the appliances group): only the
    manifest's certificate files are judged by the certificates group."""
    from certwarden.inventory import appliances

    config = context.config
    source = IndexSource(context)
    paths = index_certificate_files(source.files, config)
    named = {a.certificate for a in config.appliances if a.certificate}
    collected = collect(source, paths, context, judge=named, pair=named,
                        key_paths=_manifest_keys(config))
    findings, _ = appliances.judge(collected, _policy(collected.findings, config), config)
    return findings, len(paths)


def _manifest_keys(config: Config) -> dict[str, str]:
    return {a.certificate: a.key for a in config.appliances if a.certificate and a.key}


def build_inventory(context: RuleContext, *, paths: Sequence[str] = (),
                    strict: bool = False) -> Inventory:
    """Every certificate of the git index (or of the named files and folders)."""
    config = context.config
    source: Source
    if paths:
        from certwarden.sources import expand_paths

        # A file named on the command line is read whatever its name; in a folder, the
        # certificate files by name, as the check-certificates hook selects them.
        named = [p for p in expand_paths(paths) if (p in paths or sniff.is_certificate_name(p))
                 and not is_excluded(p, config)]
        source = PathSource(context, named)
        source.add_neighbours(named, _manifest_keys(config))
        files = named
    else:
        source = IndexSource(context)
        files = index_certificate_files(source.files, config)
    collected = collect(source, files, context, key_paths=_manifest_keys(config))
    inventory = Inventory(now=context.now, warning_days=config.expiry_warning_days,
                          rows=collected.rows, chain=config.chain, strict=strict)
    inventory.appliances = [ApplianceEntry(a) for a in config.appliances]
    _memberships(inventory, source, config)

    certificate_findings = _policy(collected.findings, config)
    repository: list[Finding] = []
    owners: dict[tuple[str, str], str] = {}
    if isinstance(source, IndexSource):  # repository rules judge the index as a whole
        repository = _repository_findings(inventory.rows)
        if config.appliances:
            from certwarden.inventory import appliances

            # As scan judges them (groups know no --strict): the same appliance findings.
            found, owners = appliances.judge(collected, certificate_findings, config)
            repository += found
    raw = collected.findings + repository
    _attach(inventory, raw, certificate_findings + _policy(repository, config), owners)
    for row in inventory.rows:
        row.status = status_of(row, strict=strict)
    _chain_status(inventory, collected, raw, config)
    return inventory


def _repository_findings(rows: list[CertificateRow]) -> list[Finding]:
    """The unique group's rules (repository_rules.evaluate) over the inventory's rows: the
    same records the group builds from the index, without reading it a second time."""
    from certwarden.index_certificates import CertificateRecord
    from certwarden.rules.repository_rules import evaluate

    holds_ca = {row.path for row in rows if row.is_ca}
    records = [CertificateRecord(
        path=row.path, line=row.line, fingerprint=row.fingerprint,
        common_names=tuple(row.common_names), is_ca=row.is_ca, spki_fingerprint=row.spki or "",
        wildcard_names=tuple(n for n in row.common_names + row.sans if "*" in n),
        in_chain_file=row.path in holds_ca) for row in rows if row.spki is not None]
    return [issue.at(record.path, record.line, record.fingerprint)
            for record, issue in evaluate(records)]


def _memberships(inventory: Inventory, source: Source, config: Config) -> None:
    by_certificate = {a.certificate: a for a in config.appliances if a.certificate}
    for row in inventory.rows:
        appliance = by_certificate.get(source.relative(row.path))
        if appliance is not None:
            row.appliance, row.role = appliance.name, appliance.role


def _owners_of(finding: Finding, rows_by_path: dict[str, list[CertificateRow]]
               ) -> list[CertificateRow]:
    return [row for row in rows_by_path.get(finding.path, [])
            if finding.fingerprint in (row.fingerprint, row.spki)]


def _attach(inventory: Inventory, raw: list[Finding], kept: list[Finding],
            owners: dict[tuple[str, str], str]) -> None:
    """Each finding to its certificate's row, its appliance, or the file-level problems."""
    rows_by_path: dict[str, list[CertificateRow]] = {}
    for row in inventory.rows:
        rows_by_path.setdefault(row.path, []).append(row)
    entries = {entry.appliance.name: entry for entry in inventory.appliances}
    for finding in raw:  # before policy: which rules spoke (statuses)
        for row in _owners_of(finding, rows_by_path):
            row.rule_ids.add(finding.rule.id)
        name = owners.get((finding.rule.id, finding.fingerprint))
        if name is not None:
            for row in _appliance_rows(entries[name], rows_by_path):
                row.rule_ids.add(finding.rule.id)
    for finding in kept:
        name = owners.get((finding.rule.id, finding.fingerprint))
        if name is not None:
            entries[name].findings.append(finding)
            for row in _appliance_rows(entries[name], rows_by_path):
                row.findings.append(finding)
            continue
        rows = _owners_of(finding, rows_by_path)
        for row in rows:
            row.findings.append(finding)
        if not rows:
            inventory.problems.append(finding)


def _appliance_rows(entry: ApplianceEntry, rows_by_path: dict[str, list[CertificateRow]]
                    ) -> list[CertificateRow]:
    return [row for row in rows_by_path.get(entry.appliance.certificate or "", [])
            if not row.is_ca]


def _chain_status(inventory: Inventory, collected: Collected, raw: list[Finding],
                  config: Config) -> None:
    """From the trust rules' verdict on each appliance certificate the group judged."""
    if not config.chain:
        return
    from certwarden.rules.trust_rules import CHAIN

    chain_path = os.path.normpath(config.chain)
    failures: dict[tuple[str, str], str] = {}
    for finding in raw:
        if finding.rule is CHAIN:
            failures.setdefault((finding.path, finding.fingerprint), finding.message)
    for row in inventory.rows:
        if row.is_ca or row.path not in collected.judged or \
                os.path.normpath(row.path) == chain_path:
            continue
        detail = failures.get((row.path, row.fingerprint))
        row.chain, row.chain_detail = ("fails", detail) if detail else ("ok", None)
