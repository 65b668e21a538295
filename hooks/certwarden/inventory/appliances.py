"""The appliance manifest against the repository: facts for the appliance rules, and where
their findings point (the appliance's entry in the manifest file).

Used by the appliances group (`scan`, the check-unique-certificates hook) and by
`certwarden inventory`, so both say the same.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from certwarden.config import Appliance, Config
from certwarden.findings import Finding
from certwarden.inventory.collect import Collected
from certwarden.rules.appliance_rules import (
    ApplianceCertificate,
    ApplianceFacts,
    ApplianceKey,
    evaluate,
)


def manifest_file(config: Config) -> str:
    """The configuration file holding the manifest, relative to the repository root."""
    source = config.source
    if source.startswith("pyproject.toml"):
        return "pyproject.toml"
    if source == ".certwarden.toml":
        return source
    path = os.path.abspath(source)
    relative = os.path.relpath(path, config.root)
    return path if relative.startswith("..") else relative.replace(os.sep, "/")


def manifest_lines(config: Config) -> dict[str, int]:
    """The line of each appliance's `name = "..."` in the manifest file (best effort)."""
    try:
        with open(os.path.join(config.root, manifest_file(config)), encoding="utf-8",
                  errors="replace") as stream:
            text = stream.read(config.max_file_bytes)
    except OSError:
        return {}
    lines: dict[str, int] = {}
    names = {appliance.name for appliance in config.appliances}
    pattern = re.compile(r"""\bname\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)')""")
    for number, line in enumerate(text.splitlines(), 1):
        for match in pattern.finditer(line):
            value = match.group(1) if match.group(1) is not None else match.group(2)
            if value in names:
                lines.setdefault(value, number)
    return lines


def appliance_certificates(collected: Collected, chain: str | None
                           ) -> list[ApplianceCertificate]:
    """Every certificate of the inventory except the configured chain's CAs."""
    chain_path = os.path.normpath(chain) if chain else None  # index paths are normalized
    return [ApplianceCertificate(row.path, row.fingerprint, spki=row.spki,
                                 common_names=row.common_names,
                                 dns_names=row.sans, is_ca=row.is_ca)
            for row in collected.rows if row.path != chain_path]


def appliance_facts(appliance: Appliance, collected: Collected,
                    certificates: dict[str, list[ApplianceCertificate]],
                    key_paths: dict[str, str], blocking: dict[str, list[str]]
                    ) -> ApplianceFacts:
    """`certificates` and `key_paths` (the key the inventory paired) by certificate file."""
    path = appliance.certificate
    key = None
    key_path = appliance.key or key_paths.get(path or "")
    if key_path is not None:
        keys = collected.key_facts.get(key_path, [])
        key = ApplianceKey(key_path, found=key_path in collected.files,
                           public_keys=[str(k["spki"]) for k in keys if k.get("spki")])
    return ApplianceFacts(appliance, certificate_found=path in collected.files,
                          certificates=certificates.get(path or "", []),
                          blocking=blocking.get(path or "", []), key=key)


def judge(collected: Collected, certificate_findings: Sequence[Finding], config: Config
          ) -> tuple[list[Finding], dict[tuple[str, str], str]]:
    """The appliance rules' findings (before policy), and which appliance each concerns,
    keyed by (rule id, fingerprint). `certificate_findings` are the certificates group's,
    after policy: they decide whether an appliance's certificate is compliant."""
    blocking: dict[str, set[str]] = {}
    for finding in certificate_findings:
        if finding.blocks(strict=False):
            blocking.setdefault(finding.path, set()).add(finding.rule.id)
    certificates = appliance_certificates(collected, config.chain)
    by_file: dict[str, list[ApplianceCertificate]] = {}
    for certificate in certificates:
        by_file.setdefault(certificate.path, []).append(certificate)
    key_paths = {row.path: row.key_path for row in collected.rows if row.key_path}
    rules = {path: sorted(ids) for path, ids in blocking.items()}
    appliances = [appliance_facts(appliance, collected, by_file, key_paths, rules)
                  for appliance in config.appliances]
    manifest = manifest_file(config)
    lines = manifest_lines(config)
    findings: list[Finding] = []
    owners: dict[tuple[str, str], str] = {}
    for subject, issue in evaluate(appliances, certificates):
        if isinstance(subject, ApplianceFacts):
            name = subject.appliance.name
            finding = issue.at(manifest, lines.get(name), issue.fingerprint or name)
            owners[(finding.rule.id, finding.fingerprint)] = name
        else:
            finding = issue.at(subject.path, None, subject.fingerprint)
        findings.append(finding)
    return findings, owners
