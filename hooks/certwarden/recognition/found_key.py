"""What the key loaders report: a private key found in a file, and how it is protected.

Import-light on purpose; never holds private key material beyond what the loaders
need to try a configured passphrase.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from certwarden.findings import Severity

# Opens the key with a passphrase: returns a cryptography private key, raises on failure.
Opener = Callable[[bytes], object]


@dataclass
class FoundKey:
    form: str  # for people: "PKCS#8 PEM", "OpenSSH", "PuTTY v3", ...
    line: int | None
    encrypted: bool
    material_digest: str  # SHA-256 of the key's bytes: the fingerprint when no public key
    key_type: str | None = None  # rsa, ec, dsa, ed25519, ... or None when unknown
    key_size: int | None = None
    public_key_der: bytes | None = None  # SubjectPublicKeyInfo, for pairing with certificates
    public_blob: bytes | None = None  # SSH / OpenPGP public key, when there is no SPKI
    encryption: str | None = None  # how it is encrypted, for people
    weakness: str | None = None  # why that encryption does not protect
    weakness_severity: Severity | None = None  # None: key-weak-encryption's own severity
    opener: Opener | None = None

    @property
    def fingerprint(self) -> str:
        public = self.public_key_der or self.public_blob
        return hashlib.sha256(public).hexdigest() if public else self.material_digest

    def describe(self) -> str:
        kind = (self.key_type or "").upper() or "private"
        size = f" {self.key_size}-bit" if self.key_size else ""
        return f"{kind}{size} key ({self.form})" if self.key_type else f"private key ({self.form})"


@dataclass(frozen=True)
class UnreadableKey:
    line: int | None
    reason: str
    material_digest: str


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
