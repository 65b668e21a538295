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
        from certwarden.passphrases import passphrase_for
        from certwarden.rules.repository_rules import evaluate

        config = context.config
        records = load_index_certificates(config.root, max_bytes=config.max_file_bytes,
                                          chain=config.chain,
                                          passphrase_for=lambda path: passphrase_for(path,
                                                                                     config))
        findings = [issue.at(record.path, record.line, record.fingerprint)
                    for record, issue in evaluate(records)]
        return findings, len({record.path for record in records})


GROUP = UniqueGroup()
