"""The secrets group: generic secrets through detect-secrets (see recognition.secrets_scan)."""

from __future__ import annotations

from certwarden.context import RuleContext
from certwarden.findings import Finding
from certwarden.sources import SourceFile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from certwarden.recognition.secrets_scan import SecretScanner


def wants(source: SourceFile, context: RuleContext) -> bool:
    import os

    from certwarden.baseline import DEFAULT_NAME

    if os.path.basename(source.path) == os.path.basename(context.config.baseline or
                                                         DEFAULT_NAME):
        return False  # our baseline holds fingerprints (hashes), never secrets
    # detect-secrets reads text only; a NUL in the first 8 KiB means it would fail to decode.
    return not source.is_symlink and source.error is None and b"\0" not in source.data[:8192]


def _scanner(context: RuleContext) -> SecretScanner:
    from certwarden.recognition.secrets_scan import SecretScanner

    scanner = context.memo.get(("secrets", "scanner"))
    if not isinstance(scanner, SecretScanner):
        scanner = SecretScanner(context.config.root, context.config.secrets_baseline,
                                context.config.secrets_exclude)
        context.memo[("secrets", "scanner")] = scanner
    return scanner


def check(source: SourceFile, context: RuleContext) -> list[Finding]:
    import hashlib

    from certwarden.findings import Severity
    from certwarden.rules.base import Issue, to_finding

    limit = context.config.secrets_max_file_bytes
    if source.size > limit:
        # Generated text this large (dumps, bundles, logs) would hold the commit up for
        # seconds per megabyte; say so instead of scanning silently or not at all.
        return [to_finding(source.path, None, Issue(
            "secret", f"not scanned for generic secrets: {source.size} bytes, more than "
            f"secrets-max-file-bytes ({limit})", severity=Severity.INFO),
            hashlib.sha256(source.path.encode("utf-8", "surrogateescape")).hexdigest())]
    findings = []
    for secret in _scanner(context).scan(source.path, source.data):
        fingerprint = hashlib.sha256(f"{secret.type}\0{secret.secret_hash}".encode()).hexdigest()
        findings.append(to_finding(source.path, secret.line_number, Issue(
            "secret", f"{secret.type} (detect-secrets) on line {secret.line_number}"),
            fingerprint))
    return findings


def finish(context: RuleContext) -> None:
    """Give detect-secrets its process-global settings back."""
    scanner = context.memo.pop(("secrets", "scanner"), None)
    if scanner is not None:
        scanner.close()  # type: ignore[attr-defined]
