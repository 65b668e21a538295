"""The certificates group: recognise what a file holds and apply the certificate rules."""

from __future__ import annotations

from certwarden.context import RuleContext
from certwarden.findings import Finding, Issue, Rule, Severity
from certwarden.groups import Group
from certwarden.passphrases import passphrase_for, passphrase_variable
from certwarden.recognition import sniff
from certwarden.sources import SourceFile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from certwarden.recognition.certificates import CertificateObject


class CertificatesGroup(Group):
    name = "certificates"

    def unreadable_rule(self) -> Rule:
        from certwarden.rules.certificate_rules import UNREADABLE  # lazily: start-up time

        return UNREADABLE

    def wants(self, source: SourceFile, context: RuleContext) -> bool:
        """Certificate-named files, and any other file with a PEM certificate in it."""
        if source.is_symlink:
            return False
        return sniff.is_certificate_name(source.path) or (
            source.error is None and sniff.may_hold_certificate_pem(source.data))

    def check(self, source: SourceFile, context: RuleContext) -> list[Finding]:
        import hashlib

        unreadable = self.unreadable_rule()
        file_fingerprint = hashlib.sha256(source.data).hexdigest()
        if source.error is not None:
            return [unreadable.issue(source.error).at(source.path, None, file_fingerprint)]
        if source.truncated:
            return [unreadable.issue(
                f"file is {source.size} bytes, more than max-file-bytes "
                f"({context.config.max_file_bytes}): too large to be a certificate"
            ).at(source.path, None, file_fingerprint)]

        # Imported here: a commit without certificates never loads cryptography.
        from certwarden.recognition.certificates import load_certificates
        from certwarden.rules.certificate_rules import evaluate

        chain_file = is_chain_file(source.path, context)
        loaded = load_certificates(source.data, source.path,
                                   passphrase=passphrase_for(source.path, context.config),
                                   chain_file=chain_file)
        # In a file not named as a certificate (source code, docs), broken fragments are not
        # certificates; only the certificates that load are judged.
        named = sniff.is_certificate_name(source.path)
        findings = [unreadable.issue(problem.reason).at(source.path, problem.line,
                                                        file_fingerprint)
                    for problem in loaded.unreadable if named]
        if loaded.bundle_refused:
            findings.append(unreadable.issue(
                f"PKCS#12 bundle not opened: {loaded.bundle_refused}; re-export it with "
                "`openssl pkcs12 -export -iter 2048 -maciter ...`"
            ).at(source.path, None, file_fingerprint))
        elif loaded.encrypted_bundle and not loaded.objects:
            findings.append(unreadable.issue(
                _locked_bundle_message(source.path, context), severity=Severity.WARNING,
            ).at(source.path, None, file_fingerprint))
        several = len(loaded.objects) > 1
        for obj in loaded.objects:
            # Without a line (DER, PKCS#7, PKCS#12), the position tells bundle members apart.
            where = f"{obj.label} {obj.index + 1} of {len(loaded.objects)}: " \
                if several and obj.line is None else ""
            findings.extend(_placed(issue, where).at(source.path, obj.line, obj.fingerprint)
                            for issue in evaluate(obj, context))
        if loaded.objects and context.trust().configured:
            findings.extend(_trust_findings(source, loaded.objects, context, chain_file))
        return findings


def _placed(issue: Issue, where: str) -> Issue:
    if not where:
        return issue
    return Issue(issue.rule, where + issue.message, issue.severity, issue.fingerprint)


def _locked_bundle_message(path: str, context: RuleContext) -> str:
    """A PKCS#12 bundle no passphrase opened: what was not verified, and how to fix that."""
    import os

    unverified = ("PKCS#12 bundle is locked by a passphrase: its certificates were not "
                  "verified against the certificate policy, nor for uniqueness")
    variable = passphrase_variable(path, context.config)
    if variable is None:
        return (f"{unverified}; map it to an environment variable holding its passphrase: "
                f"`\"{path}\" = \"PFX_PASSPHRASE\"` under [tool.certwarden.passphrases] "
                "(or [passphrases] in .certwarden.toml), and set that variable")
    if os.environ.get(variable) is None:
        return f"{unverified} (passphrase checks skipped: {variable} is not set)"
    return f"{unverified}: the passphrase in {variable} does not open it"


def is_chain_file(path: str, context: RuleContext) -> bool:
    import os

    chain = context.config.chain
    if not chain:
        return False
    root = context.config.root
    return os.path.normpath(path) == os.path.normpath(chain) or os.path.abspath(path) == \
        os.path.abspath(os.path.join(root, chain))


def _trust_findings(source: SourceFile, objects: list[CertificateObject],
                    context: RuleContext, chain_file: bool) -> list[Finding]:
    """The configured chain and CRLs: the trust source gathers, the trust rules judge."""
    from certwarden.rules import trust_rules

    trust = context.trust()
    findings: list[Finding] = []
    chain = trust.chain()
    if chain is not None and chain_file:
        findings.extend(issue.at(source.path, None, objects[0].fingerprint)
                        for issue in trust_rules.chain_file_issues(chain))
    for obj in objects:
        if obj.certificate is None or obj.is_ca:
            continue
        facts = trust.facts_for(obj)
        findings.extend(issue.at(source.path, obj.line, obj.fingerprint)
                        for issue in trust_rules.evaluate(facts))
    return findings


GROUP = CertificatesGroup()
