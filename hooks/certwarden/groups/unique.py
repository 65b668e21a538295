"""The unique group: repository-wide rules over every certificate in the git index."""

from __future__ import annotations

from certwarden.context import RuleContext
from certwarden.findings import Finding, Rule
from certwarden.groups import REPOSITORY, Group


class UniqueGroup(Group):
    name = "unique"
    scope = REPOSITORY

    def unreadable_rule(self) -> Rule:
        from certwarden.rules.certificate_rules import UNREADABLE

        return UNREADABLE

    def judge_repository(self, context: RuleContext) -> tuple[list[Finding], int]:
        """(findings, number of certificate files judged) over the whole git index."""
        from certwarden.index_certificates import load_index_certificates
        from certwarden.rules.repository_rules import evaluate

        records = load_index_certificates(context.config.root,
                                          max_bytes=context.config.max_file_bytes,
                                          chain=context.config.chain)
        findings = [issue.at(record.path, record.line, record.fingerprint)
                    for record, issue in evaluate(records)]
        return findings, len({record.path for record in records})


GROUP = UniqueGroup()
