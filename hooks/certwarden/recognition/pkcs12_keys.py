"""Private keys inside PKCS#12 / PFX bundles, and whether they need a password to read."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from certwarden.config import Config
from certwarden.recognition.der_keys import describe_private_key, pkcs8_encryption, spki_der
from certwarden.recognition.found_key import FoundKey, digest


def _open(data: bytes, password: bytes | None) -> tuple[object | None, list[bytes]] | None:
    """(key, certificate SPKIs) when the password opens the bundle, else None."""
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password)
    except (ValueError, TypeError):
        return None
    certificates = ([cert] if cert is not None else []) + list(extra)
    spkis = [spki_der(c.public_key()) for c in certificates]
    return key, spkis


def _opener(data: bytes) -> Any:
    def open_with(passphrase: bytes) -> object:
        key = pkcs12.load_key_and_certificates(data, passphrase)[0]
        if key is None:
            raise ValueError("no key in the bundle")
        return key
    return open_with


def _bags(data: bytes) -> list[tuple[str, Any]] | None:
    """(bag type, bag value) of every bag readable without a password; None if not PKCS#12."""
    from asn1crypto import pkcs12 as asn1_pkcs12

    try:
        pfx = asn1_pkcs12.Pfx.load(data, strict=True)
        if pfx["version"].native not in ("v3", 3):
            return None
        bags: list[tuple[str, Any]] = []
        for content_info in pfx.authenticated_safe:
            if content_info["content_type"].native != "data":
                bags.append(("encrypted_data", None))
                continue
            safe_contents = asn1_pkcs12.SafeContents.load(content_info["content"].native)
            for bag in safe_contents:
                bags.append((bag["bag_id"].native, bag["bag_value"]))
        return bags
    except Exception:  # asn1crypto raises many types on non-PKCS#12 input
        return None


def classify_pkcs12(data: bytes, *, line: int | None, config: Config
                    ) -> tuple[list[FoundKey], list[bytes]] | None:
    """(keys, certificate SPKIs) of a PKCS#12 bundle; None when the bytes are not one."""
    bags = _bags(data)
    if bags is None:
        return None
    for password in (None, b""):
        opened = _open(data, password)
        if opened is not None:
            key, spkis = opened
            if key is None:
                return [], spkis
            key_type, size, public_der = describe_private_key(key)
            how = "no password" if password is None else "an empty password"
            return [FoundKey(form=f"PKCS#12 bundle that opens with {how}", line=line,
                             encrypted=False, material_digest=digest(data), key_type=key_type,
                             key_size=size, public_key_der=public_der)], spkis
    found: list[FoundKey] = []
    for bag_type, value in bags:
        if bag_type == "key_bag":  # a plain PKCS#8 key: the password only guards the MAC
            der = value.dump()
            bag_key = FoundKey(form="PKCS#12 bundle with an unencrypted key bag", line=line,
                               encrypted=False, material_digest=digest(der))
            try:
                bag_key.key_type, bag_key.key_size, bag_key.public_key_der = \
                    describe_private_key(serialization.load_der_private_key(
                        der, None, unsafe_skip_rsa_key_validation=True))
            except Exception:  # an algorithm cryptography cannot load: unencrypted all the same
                bag_key.key_type = None
            found.append(bag_key)
        elif bag_type == "pkcs8_shrouded_key_bag":
            description, weakness = pkcs8_encryption(value.dump(), config)
            found.append(FoundKey(form="PKCS#12 bundle", line=line, encrypted=True,
                                  material_digest=digest(value.dump()), encryption=description,
                                  weakness=weakness, opener=_opener(data)))
    if not found and any(bag_type == "encrypted_data" for bag_type, _ in bags):
        # Keys may sit inside password-encrypted content; they are encrypted either way.
        found.append(FoundKey(form="PKCS#12 bundle (encrypted content)", line=line,
                              encrypted=True, material_digest=digest(data),
                              encryption="PKCS#12 encrypted content", opener=_opener(data)))
    return found, []
