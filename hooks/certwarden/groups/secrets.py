"""The secrets group: generic secrets through detect-secrets (see recognition.secrets_scan)."""

from __future__ import annotations

import contextlib

from certwarden.context import RuleContext
from certwarden.findings import Finding, Rule
from certwarden.groups import Group
from certwarden.sources import SourceFile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from certwarden.recognition.secrets_scan import SecretScanner


class SecretsGroup(Group):
    name = "secrets"

    def __init__(self) -> None:
        self._scanner: SecretScanner | None = None
        self._session: contextlib.ExitStack | None = None

    def unreadable_rule(self) -> Rule:
        from certwarden.rules.secret_rules import SECRET

        return SECRET

    @contextlib.contextmanager
    def session(self, context: RuleContext) -> Iterator[None]:
        """detect-secrets' settings are process-global: they are set for this run only
        (when the first file is scanned) and given back however the run ends."""
        with contextlib.ExitStack() as stack:
            self._session = stack
            try:
                yield
            finally:
                self._session = None
                self._scanner = None

    def wants(self, source: SourceFile, context: RuleContext) -> bool:
        import os

        from certwarden.baseline import DEFAULT_NAME

        if os.path.basename(source.path) == os.path.basename(context.config.baseline or
                                                             DEFAULT_NAME):
            return False  # our baseline holds fingerprints (hashes), never secrets
        # detect-secrets reads text only; a NUL in the first 8 KiB means it would fail to
        # decode.
        return not source.is_symlink and source.error is None and \
            b"\0" not in source.data[:8192]

    def _scanner_for(self, context: RuleContext) -> SecretScanner:
        if self._scanner is None:
            if self._session is None:
                raise RuntimeError("the secrets group checks files within session()")
            from certwarden.recognition import secrets_scan

            self._scanner = self._session.enter_context(secrets_scan.session(
                context.config.root, context.config.secrets_baseline,
                context.config.secrets_exclude))
        return self._scanner

    def check(self, source: SourceFile, context: RuleContext) -> list[Finding]:
        import hashlib

        from certwarden.findings import Severity
        from certwarden.rules.secret_rules import SECRET

        limit = context.config.secrets_max_file_bytes
        if source.size > limit:
            # Generated text this large (dumps, bundles, logs) would hold the commit up for
            # seconds per megabyte; say so instead of scanning silently or not at all.
            return [SECRET.issue(
                f"not scanned for generic secrets: {source.size} bytes, more than "
                f"secrets-max-file-bytes ({limit})", severity=Severity.INFO,
            ).at(source.path, None,
                 hashlib.sha256(source.path.encode("utf-8", "surrogateescape")).hexdigest())]
        findings = []
        secrets = self._scanner_for(context).scan(source.path, source.data)
        pinned = _pinned_revision_lines(source) if secrets else set()
        armored = ArmoredMaterial(source.data) if secrets else None
        for secret in secrets:
            if secret.line_number in pinned:
                continue  # a commit id pinned in our own config is not a secret
            if armored is not None and armored.holds_only(secret.secret_value):
                # Public material, or key material the key rules judge from what it holds:
                # ciphertext of an encrypted key matches token patterns by chance.
                continue
            fingerprint = hashlib.sha256(
                f"{secret.type}\0{secret.secret_hash}".encode()).hexdigest()
            findings.append(SECRET.issue(
                f"{secret.type} (detect-secrets) on line {secret.line_number}",
            ).at(source.path, secret.line_number, fingerprint))
        return findings


PRE_COMMIT_CONFIGS = (".pre-commit-config.yaml", ".pre-commit-config.yml")


def _pinned_revision_lines(source: SourceFile) -> set[int]:
    """Lines of a pre-commit configuration that pin a hook repository to a commit
    (`rev: <40 or 64 hex digits>`, as `pre-commit autoupdate --freeze` writes): public ids,
    not secrets, however random they look."""
    import os
    import re

    if os.path.basename(source.path) not in PRE_COMMIT_CONFIGS:
        return set()
    pattern = re.compile(rb"^\s*(?:-\s+)?rev:\s*['\"]?(?:[0-9a-f]{40}|[0-9a-f]{64})['\"]?\s*"
                         rb"(?:#.*)?$")
    return {number for number, line in enumerate(source.data.splitlines(), 1)
            if pattern.match(line)}


# Armored blocks of public material: certificates, CSRs, CRLs, public keys, PKCS#7.
PUBLIC_ARMOR_LABELS = frozenset({
    "CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE", "CERTIFICATE REQUEST",
    "NEW CERTIFICATE REQUEST", "X509 CRL", "PUBLIC KEY", "RSA PUBLIC KEY", "PKCS7",
    "PKCS #7 SIGNED DATA", "CMS"})
# Armored private keys: the key rules judge them from what they hold (an unencrypted one
# blocks there), so the random-looking base64 of their bodies is not a generic secret.
# Legacy PEM encryption puts Proc-Type/DEK-Info headers before the body.
PRIVATE_ARMOR_LABELS = frozenset({
    "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY",
    "DSA PRIVATE KEY", "OPENSSH PRIVATE KEY"})
OPENSSH_KEY_MAGIC = b"openssh-key-v1\0"


class ArmoredMaterial:
    """The bodies of a file's complete public and private-key armored blocks, each made of
    lines holding nothing but base64, maybe indented or quoted as in YAML, JSON or source
    strings (`"MIIB...\\n",`). A block with anything else on a body line (other text,
    headers on a public block), an END of another label, or a body that is not one DER
    SEQUENCE (or an OpenSSH key, or legacy PEM ciphertext) is not counted."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.bodies: list[tuple[int, int]] = []  # (start, end) offsets in data
        if b"-----BEGIN " not in data:
            return
        import re

        from certwarden.recognition.armor import der_element_length, find_blocks

        body_line = re.compile(rb'[ \t]*(["\']?)[A-Za-z0-9+/]+={0,2}(?:\\r)?(?:\\n)?\1'
                               rb'[ \t]*[,+]?[ \t]*\r?')
        labels = PUBLIC_ARMOR_LABELS | PRIVATE_ARMOR_LABELS
        for block in find_blocks(data, labels=labels, keep_empty=False):
            der = block.der
            private = block.label in PRIVATE_ARMOR_LABELS
            if not block.complete or block.end_label != block.label or block.stray_lines \
                    or not der or (block.headers and not private):
                continue
            # Legacy PEM encryption's body is bare ciphertext, not DER.
            opaque = private and (bool(block.headers) or der.startswith(OPENSSH_KEY_MAGIC))
            if not opaque and (der[0] != 0x30 or der_element_length(der) != len(der)):
                continue
            begin_end = data.find(b"\n", block.start, block.end)
            end_start = data.rfind(b"\n", block.start, block.end)
            if begin_end == -1 or end_start <= begin_end:
                continue  # markers on one line (a JSON string): no body lines of its own
            lines = data[begin_end + 1:end_start].split(b"\n")
            start = begin_end + 1
            while block.headers and lines and (not lines[0].strip() or b":" in lines[0]):
                start += len(lines.pop(0)) + 1  # Proc-Type, DEK-Info and the blank line
            if all(not line.strip() or body_line.fullmatch(line) for line in lines):
                self.bodies.append((start, end_start))

    def holds_only(self, value: str | None) -> bool:
        """Whether `value` (a reported secret, its quotes and spaces aside) occurs in the
        file, and only inside these bodies: then it is public or key material, wherever
        detect-secrets reports it (its YAML transformer reports a block scalar on its
        key's line). The same string anywhere else keeps it reported."""
        if not self.bodies or not value:
            return False
        needle = value.strip().strip("\"'").encode("utf-8", "surrogateescape")
        if len(needle) < 8:
            return False
        found = False
        at = self.data.find(needle)
        while at != -1:
            if not any(start <= at and at + len(needle) <= end for start, end in self.bodies):
                return False
            found = True
            at = self.data.find(needle, at + 1)
        return found


GROUP = SecretsGroup()
