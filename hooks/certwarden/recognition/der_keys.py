"""Private keys in DER: PKCS#1, SEC1, DSA, PKCS#8 and encrypted PKCS#8, decided by parsers.

cryptography decides first (a TypeError means a password is needed); asn1crypto then
recognises by structure what cryptography cannot load (unknown algorithms) and reads
the encryption parameters cryptography does not expose.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519

from certwarden.config import Config
from certwarden.findings import Severity
from certwarden.recognition.found_key import FoundKey, digest

WEAK_CIPHERS = {"des": "DES", "tripledes": "3DES", "rc2": "RC2", "rc4": "RC4"}


def spki_der(public_key: Any) -> bytes:
    """The SubjectPublicKeyInfo DER of a public key: how keys and certificates are paired."""
    der: bytes = public_key.public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    return der


def describe_private_key(key: object) -> tuple[str, int | None, bytes | None]:
    """(type, size, SubjectPublicKeyInfo DER) of a loaded cryptography private key."""
    kinds: list[tuple[type, str]] = [
        (rsa.RSAPrivateKey, "rsa"), (ec.EllipticCurvePrivateKey, "ec"),
        (dsa.DSAPrivateKey, "dsa"), (ed25519.Ed25519PrivateKey, "ed25519"),
        (ed448.Ed448PrivateKey, "ed448"), (x25519.X25519PrivateKey, "x25519"),
        (x448.X448PrivateKey, "x448"),
    ]
    name = next((n for cls, n in kinds if isinstance(key, cls)), "unknown")
    size = getattr(key, "key_size", None)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        size = key.curve.key_size
    public_der = None
    public_key = getattr(key, "public_key", None)
    if public_key is not None:
        try:
            public_der = spki_der(public_key())
        except (ValueError, TypeError, UnsupportedAlgorithm):
            public_der = None
    return name, size if isinstance(size, int) else None, public_der


def pkcs8_encryption(der: bytes, config: Config) -> tuple[str, str | None]:
    """(how an EncryptedPrivateKeyInfo is encrypted, why that is weak or None)."""
    from asn1crypto import keys as asn1_keys

    try:
        algorithm: Any = asn1_keys.EncryptedPrivateKeyInfo.load(der)["encryption_algorithm"]
        scheme = algorithm["algorithm"].native
        if scheme != "pbes2":
            return f"{scheme} (PBES1)", f"{scheme} is a PBES1 scheme (one weak cipher, " \
                                        "weak key derivation)"
        cipher = algorithm.encryption_cipher
        key_length = algorithm.key_length
        kdf = algorithm.kdf
    except Exception:  # unknown OIDs or odd parameters: encrypted, scheme unknown
        return "PKCS#8 encryption with unrecognised parameters", None
    description = f"PBES2 {kdf} {cipher.upper()}-{key_length * 8}"
    if cipher in WEAK_CIPHERS:
        return description, f"{WEAK_CIPHERS[cipher]} is a broken or weak cipher"
    if kdf == "pbkdf2":
        iterations = algorithm.kdf_iterations
        description = f"PBES2 PBKDF2 ({iterations} iterations) {cipher.upper()}-{key_length * 8}"
        if iterations < config.pbkdf2_min_iterations:
            return description, (f"PBKDF2 with {iterations} iterations, under the floor of "
                                 f"{config.pbkdf2_min_iterations}")
    return description, None


def _opener_der(der: bytes) -> object:
    def open_with(passphrase: bytes) -> object:
        return serialization.load_der_private_key(der, passphrase,
                                                  unsafe_skip_rsa_key_validation=True)
    return open_with


@functools.lru_cache(maxsize=1)
def _any_algorithm_private_key_info() -> Any:
    """PKCS#8 PrivateKeyInfo whose algorithm may be any OID (asn1crypto's own spec
    refuses OIDs it does not know)."""
    from asn1crypto import core

    class AnyAlgorithm(core.Sequence):  # type: ignore[misc]
        _fields: ClassVar = [("algorithm", core.ObjectIdentifier),
                   ("parameters", core.Any, {"optional": True})]

    class AnyPrivateKeyInfo(core.Sequence):  # type: ignore[misc]
        _fields: ClassVar = [("version", core.Integer), ("private_key_algorithm", AnyAlgorithm),
                   ("private_key", core.OctetString),
                   ("attributes", core.Any, {"implicit": 0, "optional": True}),
                   ("public_key", core.Any, {"implicit": 1, "optional": True})]

    return AnyPrivateKeyInfo


def _structural(der: bytes, form: str, line: int | None) -> FoundKey | None:
    """A key cryptography could not load, recognised by its ASN.1 structure."""
    from asn1crypto import keys as asn1_keys

    candidates: list[tuple[Any, str]] = [
        (_any_algorithm_private_key_info(), "PKCS#8"), (asn1_keys.RSAPrivateKey, "PKCS#1"),
        (asn1_keys.ECPrivateKey, "SEC1"), (asn1_keys.DSAPrivateKey, "DSA"),
    ]
    for spec, name in candidates:
        try:
            parsed = spec.load(der, strict=True)
            if name == "PKCS#8":
                version = parsed["version"].native
                algorithm = parsed["private_key_algorithm"]["algorithm"].dotted
                body = parsed["private_key"].contents
                if version not in (0, 1) or len(body) < 16:
                    continue
                return FoundKey(form=f"{name} {form}", line=line, encrypted=False,
                                material_digest=digest(der), key_type=f"OID {algorithm}")
            native = parsed.native  # parses every field: proves the whole structure
            if not isinstance(native, dict):
                continue
            key_type = {"PKCS#1": "rsa", "SEC1": "ec", "DSA": "dsa"}[name]
            size = None
            if name == "PKCS#1" and isinstance(native.get("modulus"), int):
                size = native["modulus"].bit_length()
            return FoundKey(form=f"{name} {form}", line=line, encrypted=False,
                            material_digest=digest(der), key_type=key_type, key_size=size)
        except Exception:  # asn1crypto raises many types on non-matching input
            continue
    try:
        encrypted = asn1_keys.EncryptedPrivateKeyInfo.load(der, strict=True)
        if not encrypted["encrypted_data"].native:
            return None
    except Exception:
        return None
    return FoundKey(form=f"encrypted PKCS#8 {form}", line=line, encrypted=True,
                    material_digest=digest(der), encryption="PKCS#8 encryption")


def classify_der(der: bytes, *, form: str, line: int | None, config: Config) -> FoundKey | None:
    """A private key in these DER bytes, encrypted or not; None when there is none."""
    if len(der) < 16 or der[0] != 0x30:
        return None
    try:
        # Only type, size and public key are read from the key, never used to sign or
        # decrypt, so RSA's costly consistency check (milliseconds per key) is skipped.
        key = serialization.load_der_private_key(der, password=None,
                                                 unsafe_skip_rsa_key_validation=True)
    except TypeError:  # a password is needed: encrypted PKCS#8
        description, weakness = pkcs8_encryption(der, config)
        return FoundKey(form=f"encrypted PKCS#8 {form}", line=line, encrypted=True,
                        material_digest=digest(der), encryption=description,
                        weakness=weakness, opener=_opener_der(der))  # type: ignore[arg-type]
    except (ValueError, UnsupportedAlgorithm):
        found = _structural(der, form, line)
        if found is not None and found.encrypted:
            found.encryption, found.weakness = pkcs8_encryption(der, config)
        return found
    key_type, size, public_der = describe_private_key(key)
    return FoundKey(form=f"{_der_format(der)} {form}", line=line, encrypted=False,
                    material_digest=digest(der), key_type=key_type, key_size=size,
                    public_key_der=public_der)


def _der_format(der: bytes) -> str:
    """PKCS#8 keys hold an AlgorithmIdentifier SEQUENCE right after the version."""
    header = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    after_version = header + 3
    if der[after_version:after_version + 1] == b"\x30":
        return "PKCS#8"
    if der[after_version:after_version + 1] == b"\x04":
        return "SEC1"
    return "PKCS#1" if der[after_version:after_version + 2] in (b"\x02\x82", b"\x02\x81") \
        else "traditional"


def legacy_pem_weakness(dek_info: str, config: Config) -> tuple[str, str, Severity | None]:
    """(description, weakness, severity) of a `Proc-Type: 4,ENCRYPTED` key."""
    cipher = dek_info.split(",", 1)[0].strip().upper()
    description = f"legacy PEM encryption {cipher} (one MD5 pass as key derivation)"
    if cipher.startswith(("DES", "RC2", "RC4")):
        return description, f"{cipher} with the legacy PEM key derivation", None
    return (description, "legacy PEM key derivation: a single MD5 pass over the passphrase",
            config.legacy_pem_aes_severity)


__all__ = ["classify_der", "describe_private_key", "legacy_pem_weakness", "pkcs8_encryption"]
