"""The certificates group: recognise what a file holds and apply the certificate rules."""

from __future__ import annotations

from certwarden.context import RuleContext
from certwarden.findings import Finding, Severity
from certwarden.passphrases import passphrase_for
from certwarden.recognition import sniff
from certwarden.sources import SourceFile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from certwarden.recognition.certificates import CertificateObject


def wants(source: SourceFile, context: RuleContext) -> bool:
    """Certificate-named files, and any other file with a PEM certificate in it."""
    if source.is_symlink:
        return False
    return sniff.is_certificate_name(source.path) or (
        source.error is None and sniff.may_hold_certificate_pem(source.data))


def check(source: SourceFile, context: RuleContext) -> list[Finding]:
    import hashlib

    from certwarden.rules.base import Issue, to_finding

    file_fingerprint = hashlib.sha256(source.data).hexdigest()
    if source.error is not None:
        return [to_finding(source.path, None, Issue("cert-unreadable", source.error),
                           file_fingerprint)]
    if source.truncated:
        return [to_finding(source.path, None, Issue(
            "cert-unreadable", f"file is {source.size} bytes, more than max-file-bytes "
            f"({context.config.max_file_bytes}): too large to be a certificate"),
            file_fingerprint)]

    # Imported here: a commit without certificates never loads cryptography.
    from certwarden.recognition.certificates import load_certificates
    from certwarden.rules.certificate_rules import evaluate

    chain_file = _is_chain_file(source.path, context)
    loaded = load_certificates(source.data, source.path,
                               passphrase=passphrase_for(source.path, context.config),
                               chain_file=chain_file)
    # In a file not named as a certificate (source code, docs), broken fragments are not
    # certificates; only the certificates that load are judged.
    named = sniff.is_certificate_name(source.path)
    findings = [to_finding(source.path, problem.line, Issue("cert-unreadable", problem.reason),
                           file_fingerprint)
                for problem in loaded.unreadable if named]
    if loaded.encrypted_bundle and not loaded.objects:
        findings.append(to_finding(source.path, None, Issue(
            "cert-unreadable", "PKCS#12 bundle is protected by a passphrase, so its "
            "certificates were not checked; map this file to a passphrase variable in "
            "[tool.certwarden.passphrases]", severity=Severity.INFO), file_fingerprint))
    for obj in loaded.objects:
        findings.extend(to_finding(source.path, obj.line, issue, obj.fingerprint)
                        for issue in evaluate(obj, context))
    config = context.config
    if loaded.objects and (config.chain or config.crl_files or config.crl_fetch):
        findings.extend(_trust_findings(source, loaded.objects, context, chain_file))
    return findings


def _is_chain_file(path: str, context: RuleContext) -> bool:
    import os

    chain = context.config.chain
    if not chain:
        return False
    root = context.config.root
    return os.path.normpath(path) == os.path.normpath(chain) or os.path.abspath(path) == \
        os.path.abspath(os.path.join(root, chain))


def _trust_findings(source: SourceFile, objects: list[CertificateObject],
                    context: RuleContext, chain_file: bool) -> list[Finding]:
    """The configured chain and CRLs (imported only when trust is configured)."""
    from certwarden.rules.base import to_finding
    from certwarden.rules.trust_rules import (
        chain_file_issues,
        chain_issues,
        load_chain,
        revocation_issues,
    )

    chain = load_chain(context)
    findings: list[Finding] = []
    if chain is not None and chain_file:
        findings.extend(to_finding(source.path, None, issue, objects[0].fingerprint)
                        for issue in chain_file_issues(chain))
    for obj in objects:
        issues = list(chain_issues(obj, chain, context)) if chain is not None else []
        issues += revocation_issues(obj, chain, context)
        findings.extend(to_finding(source.path, obj.line, issue, obj.fingerprint)
                        for issue in issues)
    return findings
