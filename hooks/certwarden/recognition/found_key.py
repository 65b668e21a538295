"""What the key loaders report: facts about a private key found in a file, never a verdict.

Recognition says what a key is (its form, type, size, public key) and how it is protected
(scheme, cipher, key derivation and its parameters, whether the empty passphrase opens
it); the key rules (rules/key_rules.py) judge those facts against the configuration.
Import-light on purpose; never holds private key material beyond what the loaders need to
try a configured passphrase.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

# Opens the key with a passphrase: returns a cryptography private key, raises on failure.
Opener = Callable[[bytes], object]


@dataclass
class Protection:
    """How a key is encrypted, as its own structure says."""

    scheme: str  # "PBES2", "PBES1", "PKCS#12 PBE", "legacy PEM", "OpenSSH", "PuTTY v3", ...
    cipher: str | None = None  # lower-case: "aes-256-cbc", "des-ede3-cbc", "rc2-cbc", ...
    kdf: str | None = None  # "pbkdf2", "scrypt", "bcrypt", "argon2id", "md5", "sha1", ...
    parameters: dict[str, int] = field(default_factory=dict)  # iterations, n, r, p, rounds...
    prf: str | None = None  # PBKDF2's hash: "hmacWithSHA256", ...

    def describe(self) -> str:
        parts = [self.scheme]
        if self.kdf:
            detail = ", ".join(f"{name} {value}" for name, value in self.parameters.items())
            parts.append(f"{self.kdf} ({detail})" if detail else self.kdf)
        if self.cipher:
            parts.append(self.cipher.upper())
        return " ".join(parts)


@dataclass
class FoundKey:
    form: str  # for people: "PKCS#8 PEM", "OpenSSH", "PuTTY v3", ...
    line: int | None
    encrypted: bool  # its structure holds ciphertext (not yet: protected by a passphrase)
    material_digest: str  # SHA-256 of the key's bytes: the fingerprint when no public key
    key_type: str | None = None  # rsa, ec, dsa, ed25519, ... or None when unknown
    key_size: int | None = None
    public_key_der: bytes | None = None  # SubjectPublicKeyInfo, for pairing with certificates
    public_blob: bytes | None = None  # SSH / OpenPGP public key, when there is no SPKI
    protection: Protection | None = None
    # The empty passphrase: True opens the key, False does not, None was not tried.
    opens_with_empty_passphrase: bool | None = None
    not_tried: str | None = None  # why the empty passphrase was not tried (a work cap)
    family: str = "x509"  # x509 (PKCS#1/SEC1/PKCS#8/PKCS#12), ssh, putty, openpgp, jose, ...
    encoding: str = "pem"  # pem, der, text, binary: how the file stores it
    via: tuple[str, ...] = ()  # decodings applied to reach it, outermost first
    member: str | None = None  # its path inside an archive
    opener: Opener | None = None

    @property
    def fingerprint(self) -> str:
        public = self.public_key_der or self.public_blob
        return hashlib.sha256(public).hexdigest() if public else self.material_digest

    @property
    def encryption(self) -> str | None:
        """How it is encrypted, for people (None when it is not)."""
        return self.protection.describe() if self.encrypted and self.protection else (
            "encrypted" if self.encrypted else None)

    @property
    def where(self) -> str:
        """Where inside the file it was found, for people: archive member and decodings."""
        parts = []
        if self.member:
            parts.append(f"in {self.member}")
        if self.via:
            parts.append("decoded " + " > ".join((*self.via, self.form)))
        return "; ".join(parts)

    def describe(self) -> str:
        kind = (self.key_type or "").upper() or "private"
        size = f" {self.key_size}-bit" if self.key_size else ""
        where = f"; {self.where}" if self.where else ""
        if self.key_type:
            return f"{kind}{size} key ({self.form}{where})"
        return f"private key ({self.form}{where})"


@dataclass(frozen=True)
class UnreadableKey:
    """Something that is, or is labelled as, a private key and could not be read."""

    line: int | None
    reason: str
    material_digest: str
    via: tuple[str, ...] = ()
    member: str | None = None
    # "unreadable": is or is labelled as a key; "capped": a key whose check a work cap
    # stopped; "not-decoded": a decoder's cap left bytes unsearched (no key seen)
    kind: str = "unreadable"

    def describe(self) -> str:
        parts = [self.reason]
        if self.member:
            parts.append(f"in {self.member}")
        if self.via:
            parts.append("decoded " + " > ".join(self.via))
        return "; ".join(parts)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
