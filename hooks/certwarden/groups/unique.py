"""The unique group: repository-wide rules over every certificate in the git index."""

from __future__ import annotations

from certwarden.context import RuleContext
from certwarden.findings import Finding


def check_repository(context: RuleContext) -> tuple[list[Finding], int]:
    """(findings, number of certificate files judged) over the whole git index."""
    from certwarden.index_certificates import load_index_certificates
    from certwarden.rules.base import to_finding
    from certwarden.rules.repository_rules import evaluate

    records = load_index_certificates(context.config.root,
                                      max_bytes=context.config.max_file_bytes,
                                      chain=context.config.chain)
    findings = [to_finding(record.path, record.line, issue, record.fingerprint)
                for record, issue in evaluate(records)]
    return findings, len({record.path for record in records})
