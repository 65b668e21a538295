"""The appliances group: the appliance manifest against the certificates in the git index.

Repository-wide, like the unique group, and silent without a manifest (`[[appliances]]`):
then nothing is read and nothing is imported.
"""

from __future__ import annotations

from certwarden.context import RuleContext
from certwarden.findings import Finding, Rule
from certwarden.groups import REPOSITORY, Group


class AppliancesGroup(Group):
    name = "appliances"
    scope = REPOSITORY

    def unreadable_rule(self) -> Rule:
        from certwarden.rules.appliance_rules import NO_CERTIFICATE

        return NO_CERTIFICATE

    def judge_repository(self, context: RuleContext) -> tuple[list[Finding], int]:
        """(findings, certificate files in the index); nothing without a manifest."""
        if not context.config.appliances:
            return [], 0
        from certwarden.inventory.build import appliance_findings
        from certwarden.sources import GitError

        try:
            return appliance_findings(context)
        except GitError:
            raise  # not a repository, or git missing: a usage error (exit 2)
        except Exception as exc:  # a defect of ours must block, not pass silently
            import hashlib

            from certwarden.findings import Severity
            from certwarden.inventory.appliances import manifest_file

            issue = self.unreadable_rule().issue(
                f"internal error while judging the appliance manifest ({type(exc).__name__}); "
                "please report it", severity=Severity.ERROR)
            path = manifest_file(context.config)
            return [issue.at(path, None, hashlib.sha256(path.encode()).hexdigest())], 0


GROUP = AppliancesGroup()
