"""Private keys inside PKCS#12 / PFX bundles, and whether anything but the MAC protects them.

The bag structure is read without a password (asn1crypto). A plain key bag is
unencrypted whatever the MAC says; a shrouded key bag is an EncryptedPrivateKeyInfo, read
and tried with the empty passphrase like any PKCS#8 key (pbe.py); encrypted content is
tried the same way, and its bags read in turn. Every iteration count (bags, content, MAC)
is checked against the caps before any work: the MAC only guards integrity, so a MAC over
its cap is skipped (the bundle is read without it), while a key whose own encryption is
over its cap cannot be shown to need a passphrase and is reported so (fail closed).

`bounded_for_loading` is the shared guard for anyone who hands a PKCS#12 to cryptography's
loader (recognition/certificates.py too): it refuses or strips what would hang it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from certwarden.recognition import der_reader, pbe
from certwarden.recognition.found_key import FoundKey, Protection, digest
from certwarden.recognition.work_caps import MAX_PKCS12_MAC_ITERATIONS, WorkBudget, over_cap

if TYPE_CHECKING:
    from certwarden.recognition.keys import KeyScan, View

MAX_BAGS = 1000


def _pfx(data: bytes) -> Any | None:
    from asn1crypto import pkcs12 as asn1_pkcs12

    try:
        pfx = asn1_pkcs12.Pfx.load(data, strict=False)
        if pfx["version"].native not in ("v3", 3):
            return None
        pfx["auth_safe"]["content_type"].native  # noqa: B018 (parses it)
        return pfx
    except Exception:  # asn1crypto raises many types on non-PKCS#12 input
        return None


def mac_iterations(pfx: Any) -> int:
    try:
        mac = pfx["mac_data"]
        return 0 if mac.native is None else int(mac["iterations"].native or 1)
    except Exception:  # no MacData, or an odd one: nothing to compute
        return 0


def without_mac(pfx: Any) -> bytes:
    """The bundle without its MacData: readers then skip the MAC, not the content."""
    from asn1crypto import pkcs12 as asn1_pkcs12

    stripped: bytes = asn1_pkcs12.Pfx({"version": pfx["version"],
                                       "auth_safe": pfx["auth_safe"]}).dump(force=True)
    return stripped


def bounded_for_loading(data: bytes) -> tuple[bytes | None, str | None]:
    """(bytes safe to give cryptography's PKCS#12 loader, or None; why, when changed).

    A MAC over its cap is removed (it guards integrity only); a bundle whose content asks
    for key derivation over the caps is refused whole."""
    pfx = _pfx(data)
    if pfx is None:
        return data, None
    for algorithm in _content_algorithms(pfx):
        refused = over_cap(algorithm.protection.kdf or "", algorithm.protection.parameters)
        if refused:
            return None, refused
    iterations = mac_iterations(pfx)
    if iterations > MAX_PKCS12_MAC_ITERATIONS:
        return without_mac(pfx), over_cap("mac", {"iterations": iterations})
    return data, None


def _algorithm(algorithm: Any, ciphertext: bytes) -> pbe.Encryption:
    """An AlgorithmIdentifier and its ciphertext, read as pbe.py reads PKCS#8."""
    wrapped = _encrypted_info(algorithm.dump(), ciphertext)
    return pbe.read_pkcs8(wrapped)


def _encrypted_info(algorithm: bytes, ciphertext: bytes) -> bytes:
    def tlv(tag: int, content: bytes) -> bytes:
        length = len(content)
        if length < 0x80:
            return bytes([tag, length]) + content
        raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
        return bytes([tag, 0x80 | len(raw)]) + raw + content

    return tlv(0x30, algorithm + tlv(0x04, ciphertext))


def _content_algorithms(pfx: Any) -> list[pbe.Encryption]:
    """Every encryption in the bundle that protects keys or certificates."""
    found = []
    try:
        for content_info in pfx.authenticated_safe:
            kind = content_info["content_type"].native
            if kind == "encrypted_data":
                info = content_info["content"]["encrypted_content_info"]
                found.append(_algorithm(info["content_encryption_algorithm"],
                                        info["encrypted_content"].native or b""))
            elif kind == "data":
                for bag_type, value in _bags_of(content_info["content"].native):
                    if bag_type == "pkcs8_shrouded_key_bag":
                        found.append(pbe.read_pkcs8(_der_of(value)))
    except Exception:  # a structure asn1crypto or our reader rejects: nothing to bound
        return found
    return found


def _bags_of(content: bytes) -> list[tuple[str, Any]]:
    from asn1crypto import pkcs12 as asn1_pkcs12

    bags: list[tuple[str, Any]] = []
    for bag in asn1_pkcs12.SafeContents.load(content):
        if len(bags) >= MAX_BAGS:
            break
        bags.append((bag["bag_id"].native, bag["bag_value"]))
    return bags


def _der_of(value: Any) -> bytes:
    """A bag's value without the explicit [0] tag SafeBag wraps it in."""
    der: bytes = value.untag().dump() if value.explicit else value.dump()
    return der


def _certificate_spki(value: Any) -> list[bytes]:
    from cryptography import x509

    from certwarden.recognition.der_keys import spki_der

    try:
        if value["cert_id"].native != "x509":
            return []
        return [spki_der(x509.load_der_x509_certificate(value["cert_value"].native)
                         .public_key())]
    except Exception:  # an unreadable certificate is the certificate rules' business
        return []


def _plain_key(der: bytes, line: int | None, form: str) -> FoundKey:
    from cryptography.hazmat.primitives import serialization

    from certwarden.recognition.der_keys import describe_private_key

    key = FoundKey(form=form, line=line, encrypted=False, material_digest=digest(der),
                   family="x509", encoding="pkcs12")
    try:
        key.key_type, key.key_size, key.public_key_der = describe_private_key(
            serialization.load_der_private_key(der, None, unsafe_skip_rsa_key_validation=True))
    except Exception:  # an algorithm cryptography cannot load: unencrypted all the same
        key.key_type = None
    return key


def _read_bags(bags: list[tuple[str, Any]], line: int | None, budget: WorkBudget,
               keys: list[FoundKey], spkis: list[bytes], where: str) -> None:
    from certwarden.recognition.der_keys import encrypted_pkcs8

    for bag_type, value in bags:
        if bag_type == "key_bag":  # a plain PKCS#8 key: the password only guards the MAC
            keys.append(_plain_key(_der_of(value), line,
                                   f"PKCS#12 bundle with an unencrypted key bag{where}"))
        elif bag_type == "pkcs8_shrouded_key_bag":
            found = encrypted_pkcs8(_der_of(value), form="key bag", line=line, budget=budget)
            if found is not None:
                found.form = f"PKCS#12 bundle{where}"
                found.encoding = "pkcs12"
                if found.opens_with_empty_passphrase:
                    found.form = f"PKCS#12 bundle whose key opens with an empty password{where}"
                keys.append(found)
        elif bag_type == "cert_bag":
            spkis.extend(_certificate_spki(value))


def classify_pkcs12(data: bytes, *, line: int | None, budget: WorkBudget | None = None
                    ) -> tuple[list[FoundKey], list[bytes]] | None:
    """(keys, certificate SPKIs) of a PKCS#12 bundle; None when the bytes are not one."""
    pfx = _pfx(data)
    if pfx is None:
        return None
    budget = budget or WorkBudget()
    keys: list[FoundKey] = []
    spkis: list[bytes] = []
    closed: list[pbe.Encryption] = []  # encrypted content the empty password does not open
    try:
        contents = list(pfx.authenticated_safe)
    except Exception:  # the outer structure parsed, its content does not
        return None
    for content_info in contents[:MAX_BAGS]:
        try:
            kind = content_info["content_type"].native
            if kind == "data":
                _read_bags(_bags_of(content_info["content"].native), line, budget, keys,
                           spkis, "")
            elif kind == "encrypted_data":
                info = content_info["content"]["encrypted_content_info"]
                encryption = _algorithm(info["content_encryption_algorithm"],
                                        info["encrypted_content"].native or b"")
                opened = _open_content(encryption, budget)
                if isinstance(opened, bytes):
                    _read_bags(_bags_of(opened), line, budget, keys, spkis,
                               " (in content that opens with an empty password)")
                else:
                    closed.append(encryption)
                    if opened:
                        encryption.extra["not_tried"] = opened.encode()
        except Exception:  # one unreadable content must not hide the others
            continue
    if closed and not keys:
        keys.extend(_closed_content(data, pfx, closed, line, spkis))
    return keys, spkis


def _open_content(encryption: pbe.Encryption, budget: WorkBudget) -> bytes | str:
    """The SafeContents under the empty password; "" when it does not open; or why it
    was not tried."""
    try:
        plain = pbe.decrypt_pkcs8(encryption, b"", budget)
    except pbe.Unsupported as exc:
        return str(exc)
    return plain if plain is not None else ""


def _closed_content(data: bytes, pfx: Any, closed: list[pbe.Encryption], line: int | None,
                    spkis: list[bytes]) -> list[FoundKey]:
    """Encrypted content we could not open ourselves: OpenSSL tries (within the caps),
    else it stands for the keys it may hold."""
    refused = [e.extra["not_tried"].decode() for e in closed if "not_tried" in e.extra]
    capped = [reason for reason in refused if "cap" in reason or "budget" in reason]
    if refused and not capped:
        opened = _openssl_opens(data, pfx)
        if opened is not None:
            found, certificate_spkis = opened
            spkis.extend(certificate_spkis)
            return found
    protection = closed[0].protection
    key = FoundKey(form="PKCS#12 bundle (encrypted content)", line=line, encrypted=True,
                   material_digest=digest(data), protection=protection, encoding="pkcs12")
    if capped:
        key.not_tried = capped[0]
    elif not refused:
        key.opens_with_empty_passphrase = False
    key.opener = _opener(data)
    return [key]


def _openssl_opens(data: bytes, pfx: Any) -> tuple[list[FoundKey], list[bytes]] | None:
    """What cryptography's loader reads with no or an empty password, MAC within its cap."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    from certwarden.recognition.der_keys import describe_private_key, spki_der

    safe = data if mac_iterations(pfx) <= MAX_PKCS12_MAC_ITERATIONS else without_mac(pfx)
    for password in (None, b""):
        try:
            key, certificate, extra = pkcs12.load_key_and_certificates(safe, password)
        except (ValueError, TypeError):
            continue
        certificates = ([certificate] if certificate is not None else []) + list(extra)
        spkis = [spki_der(c.public_key()) for c in certificates]
        if key is None:
            return [], spkis
        key_type, size, public_der = describe_private_key(key)
        return [FoundKey(form="PKCS#12 bundle that opens with an empty password", line=None,
                         encrypted=False, material_digest=digest(data), key_type=key_type,
                         key_size=size, public_key_der=public_der, encoding="pkcs12")], spkis
    return None


def _opener(data: bytes) -> Any:
    def open_with(passphrase: bytes) -> object:
        from cryptography.hazmat.primitives.serialization import pkcs12

        safe, refused = bounded_for_loading(data)
        if safe is None:
            raise ValueError(f"not opened: {refused}")
        key = pkcs12.load_key_and_certificates(safe, passphrase)[0]
        if key is None:
            raise ValueError("no key in the bundle")
        return key
    return open_with


def pkcs12_version_at(data: bytes, offset: int) -> bool:
    return data[offset:offset + 3] == b"\x02\x01\x03"


def find(view: View, positions: list[int], scan: KeyScan, name: str) -> None:
    """PKCS#12 bundles: the whole view, or a SEQUENCE that opens with version 3."""
    from certwarden.recognition.der_keys import sequences_around
    from certwarden.recognition.key_sniff import der_key_start

    data = view.data
    starts = [0] if der_key_start(data) and any(
        pkcs12_version_at(data, offset) for offset in (2, 3, 4)) else []
    for position in positions:
        if not view.is_claimed(position):
            starts.extend(sequences_around(data, position))
    for start in list(dict.fromkeys(starts))[:MAX_BAGS]:
        length = der_reader.element_length(data, start)
        if not length or view.is_claimed(start):
            continue
        bundle = classify_pkcs12(data[start:start + length],
                                 line=None if view.depth == 0 else view.anchor,
                                 budget=scan.budget)
        if bundle is None:
            continue
        view.claim(start, start + length)
        found, spkis = bundle
        if view.depth == 0:
            scan.bundle_certificates.extend(spkis)
        for key in found:
            scan.add_key(view, key)


__all__ = ["Protection", "bounded_for_loading", "classify_pkcs12", "find"]
