"""Generic secrets: what detect-secrets finds (its type goes in the message)."""

from __future__ import annotations

from certwarden.findings import Rule, Severity

SECRET = Rule(
    "secret", "secrets", Severity.ERROR,
    summary="A generic secret found by detect-secrets.",
    policy="No secret ever lands in a commit.",
    hint="Remove the secret, rotate it, or mark a false positive with "
         "`# pragma: allowlist secret`, or record it in .secrets.baseline "
         "(`detect-secrets scan > .secrets.baseline`).", impact="critical", tags=("credential",))
