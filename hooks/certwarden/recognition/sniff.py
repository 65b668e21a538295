"""Cheap byte tests that decide which files are worth parsing. No heavy imports here."""

from __future__ import annotations

import os

# Names the check-certificates hook selects; keep in sync with .pre-commit-hooks.yaml.
# What certificate tooling writes: openssl, Windows certutil/certreq (.cer .crt .p7b .pfx
# .req), Java keytool (.cer, PKCS#12 .p12), cert-manager (tls.crt, ca.crt, keystore.p12),
# Sectigo/Comodo deliveries (.ca-bundle); `.cert` is common in guides and tools.
CERTIFICATE_EXTENSIONS = (".crt", ".cert", ".cer", ".der", ".pem", ".p7b", ".p7c", ".pfx",
                          ".p12", ".csr", ".req", ".ca-bundle")
PKCS12_EXTENSIONS = (".pfx", ".p12")

CERTIFICATE_LABELS = frozenset({"CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"})
CSR_LABELS = frozenset({"CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"})
PKCS7_LABELS = frozenset({"PKCS7", "PKCS #7 SIGNED DATA", "CMS"})
CERTIFICATE_BEARING_LABELS = CERTIFICATE_LABELS | CSR_LABELS | PKCS7_LABELS

_CERTIFICATE_MARKERS = (b"-----BEGIN CERTIFICATE", b"-----BEGIN X509 CERTIFICATE",
                        b"-----BEGIN TRUSTED CERTIFICATE", b"CERTIFICATE REQUEST-----",
                        b"-----BEGIN PKCS7", b"-----BEGIN PKCS #7", b"-----BEGIN CMS")


def extension_of(path: str) -> str:
    return os.path.splitext(path)[1].lower()


def is_certificate_name(path: str) -> bool:
    # The suffix test first: it rules out most names for less than splitext costs.
    return path.lower().endswith(CERTIFICATE_EXTENSIONS) and \
        extension_of(path) in CERTIFICATE_EXTENSIONS


def is_private_key_label(label: str) -> bool:
    return label.endswith("PRIVATE KEY") or label == "PGP PRIVATE KEY BLOCK"


def may_hold_certificate_pem(data: bytes) -> bool:
    if b"-----BEGIN " not in data:
        return False
    return any(marker in data for marker in _CERTIFICATE_MARKERS)


def is_text(data: bytes) -> bool:
    """Heuristic: no NUL byte in the first 8 KiB."""
    return b"\0" not in data[:8192]
