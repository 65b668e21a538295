"""Private keys in DER: PKCS#1, SEC1, DSA, PKCS#8 and encrypted PKCS#8, decided by parsers,
whether the DER is a whole file or sits inside other bytes (a header before it, a
certificate after it, firmware around it).

cryptography decides first (a TypeError means a password is needed); asn1crypto then
recognises by structure what cryptography cannot load (unknown algorithms). The
encryption's parameters are read by pbe.py, which also tries the empty passphrase.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519

from certwarden.recognition import der_reader, pbe
from certwarden.recognition.found_key import FoundKey, Opener, digest
from certwarden.recognition.work_caps import WorkBudget, over_cap

if TYPE_CHECKING:
    from certwarden.recognition.keys import KeyScan, View


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


def capped_opener(open_with: Opener, kdf: str | None, parameters: dict[str, int]) -> Opener:
    """An opener that refuses, before any work, a derivation over the caps."""
    def guarded(passphrase: bytes) -> object:
        refused = over_cap(kdf, parameters) if kdf else None
        if refused:
            raise ValueError(f"not opened: {refused}")
        return open_with(passphrase)
    return guarded


def _opener_der(der: bytes) -> Opener:
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
        _fields: ClassVar = [("version", core.Integer),
                             ("private_key_algorithm", AnyAlgorithm),
                             ("private_key", core.OctetString),
                             ("attributes", core.Any, {"implicit": 0, "optional": True}),
                             ("public_key", core.Any, {"implicit": 1, "optional": True})]

    return AnyPrivateKeyInfo


def _structural(der: bytes, form: str, line: int | None) -> FoundKey | None:
    """An unencrypted key cryptography could not load, recognised by its ASN.1 structure."""
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
    return None


def encrypted_pkcs8(der: bytes, *, form: str, line: int | None, budget: WorkBudget
                    ) -> FoundKey | None:
    """An EncryptedPrivateKeyInfo: its protection, and whether "" opens it."""
    try:
        encryption = pbe.read_pkcs8(der)
    except (der_reader.DerError, IndexError, KeyError):
        return None
    if len(encryption.ciphertext) < 16:
        return None
    ciphertext = encryption.ciphertext
    if ciphertext[:1] == b"\x30" and der_reader.element_length(ciphertext) == len(ciphertext):
        # Ciphertext that is one whole DER structure (by chance: never) may be a plaintext
        # key put under an encryption header: its structure, not the header, decides.
        inner = classify_der(ciphertext, form=f"{form} (marked encrypted, holds it in "
                             "plaintext)", line=line, budget=budget)
        if inner is not None and not inner.encrypted:
            inner.material_digest = digest(der)
            return inner
    key = FoundKey(form=f"encrypted PKCS#8 {form}", line=line, encrypted=True,
                   material_digest=digest(der), protection=encryption.protection)
    try_empty_passphrase(key, lambda: pbe.decrypt_pkcs8(encryption, b"", budget))
    protection = encryption.protection
    key.opener = capped_opener(_opener_der(der), protection.kdf, protection.parameters)
    return key


def try_empty_passphrase(key: FoundKey, decrypt: Callable[[], bytes | None]) -> None:
    """Whether the empty passphrase opens an encrypted PKCS#8 or legacy PEM key (decrypt()
    gives the plaintext DER, or None), and then what the key is; or why it was not tried."""
    try:
        plain = decrypt()
    except pbe.Unsupported as exc:
        key.not_tried = str(exc)
    else:
        key.opens_with_empty_passphrase = plain is not None
        if plain is not None:
            _learn(key, plain)


def _learn(key: FoundKey, plain: bytes) -> None:
    """Type, size and public key of a key decrypted with the empty passphrase."""
    try:
        loaded = serialization.load_der_private_key(plain, None,
                                                    unsafe_skip_rsa_key_validation=True)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return
    key.key_type, key.key_size, key.public_key_der = describe_private_key(loaded)


def classify_der(der: bytes, *, form: str, line: int | None,
                 budget: WorkBudget | None = None) -> FoundKey | None:
    """A private key in these DER bytes (trailing bytes ignored), encrypted or not; None
    when there is none."""
    if len(der) < 16 or der[0] != 0x30:
        return None
    length = der_reader.element_length(der)
    if length is None:
        return None
    der = der[:length]
    try:
        # Only type, size and public key are read from the key, never used to sign or
        # decrypt, so RSA's costly consistency check (milliseconds per key) is skipped.
        key = serialization.load_der_private_key(der, password=None,
                                                 unsafe_skip_rsa_key_validation=True)
    except TypeError:  # a password is needed: encrypted PKCS#8
        return encrypted_pkcs8(der, form=form, line=line, budget=budget or WorkBudget())
    except (ValueError, UnsupportedAlgorithm):
        found = _structural(der, form, line)
        if found is None:
            found = encrypted_pkcs8(der, form=form, line=line, budget=budget or WorkBudget())
        return found
    key_type, size, public_der = describe_private_key(key)
    return FoundKey(form=f"{_der_format(der)} {form}", line=line, encrypted=False,
                    material_digest=digest(der), key_type=key_type, key_size=size,
                    public_key_der=public_der, opener=_opener_der(der))


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


MAX_CANDIDATES = 2048  # SEQUENCEs shaped like a key parsed in one view


def sequences_around(data: bytes, position: int) -> list[int]:
    """Offsets of SEQUENCE headers whose content starts exactly at position."""
    starts = []
    for header_size in (2, 3, 4, 5):
        start = position - header_size
        if start < 0 or data[start] != 0x30:
            continue
        first = data[start + 1]
        expected = 2 if first < 0x80 else 2 + (first & 0x7F)
        if expected == header_size and der_reader.element_length(data, start):
            starts.append(start)
    return starts


def find(view: View, positions: list[int], scan: KeyScan, name: str) -> None:
    """DER keys: the whole view, and every SEQUENCE that opens with a key's version."""
    data = view.data
    whole = view.depth == 0 and not view.line_base and der_key_at_start(data)
    if whole or (view.depth and der_key_at_start(data)):
        found = classify_der(data, form="DER", line=None, budget=scan.budget)
        if found is not None:
            found.encoding = "der" if whole else "der-embedded"
            length = der_reader.element_length(data) or len(data)
            view.claim(0, length)
            scan.add_key(view, found)
    tried = 0
    for position in positions:
        if view.is_claimed(position):
            continue
        starts = sequences_around(data, position)
        if not starts:
            _cut_short(view, position, scan)
            continue
        for start in starts:
            tried += 1
            if tried > MAX_CANDIDATES:
                scan.limits.refuse(f"more than {MAX_CANDIDATES} DER structures shaped like "
                                   "keys: the rest were not parsed")
                return
            length = der_reader.element_length(data, start) or 0
            found = classify_der(data[start:start + length], form="DER inside other bytes",
                                 line=None, budget=scan.budget)
            if found is not None and _patterned_seed(found, data[start:start + length]):
                continue
            if found is not None:
                found.encoding = "der-embedded"
                view.claim(start, start + length)
                scan.add_key(view, found)
                break


_RAW_SEED_TYPES = frozenset({"ed25519", "x25519", "ed448", "x448"})


def _patterned_seed(found: FoundKey, der: bytes) -> bool:
    """An EdDSA/X25519 key inside other bytes whose seed is not random: a library's
    16-byte PKCS#8 prefix constant followed by its own code (a .pyc, a .so), not a key:
    any bytes make such a key, but random ones have nearly all distinct values."""
    if found.encrypted or found.key_type not in _RAW_SEED_TYPES:
        return False
    try:
        fields = der_reader.sequence(der)
        inner = der_reader.octets(der, fields[2])
        _, seed_start, seed_end = der_reader.header(inner)
    except (der_reader.DerError, IndexError):
        return False
    from certwarden.recognition.key_prefix import is_secret_like

    return not is_secret_like(inner[seed_start:seed_end])


def _cut_short(view: View, position: int, scan: KeyScan) -> None:
    """A key's SEQUENCE that claims more bytes than the data holds (a key cut short, in a
    file or a decoded run): unreadable when what is there reaches its private part."""
    from certwarden.recognition.key_prefix import is_secret_like, private_prefix

    data = view.data
    for header_size in (2, 3, 4):
        start = position - header_size
        if start < 0 or data[start] != 0x30:
            continue
        first = data[start + 1]
        if (2 if first < 0x80 else 2 + (first & 0x7F)) != header_size:
            continue
        claimed = der_reader.element_length(data, start)
        if claimed is not None:
            continue  # whole: not cut short
        prefix = private_prefix(data[start:start + (1 << 16)])
        if prefix is None or not is_secret_like(prefix[1]):
            continue
        structure, secret = prefix
        view.claim(start, len(data))
        scan.add_unreadable(view, None if view.depth else view.line_at(start),
                            f"a {structure} DER key cut short, yet holding {len(secret)} bytes "
                            "of its private part", data[start:start + 4096])
        return


def der_key_at_start(data: bytes) -> bool:
    from certwarden.recognition.key_sniff import der_key_start

    return der_key_start(data) and data[2:5] != b"\x02\x01\x03" and data[3:6] != b"\x02\x01\x03" \
        and data[4:7] != b"\x02\x01\x03"


__all__ = ["classify_der", "describe_private_key", "encrypted_pkcs8", "find", "spki_der"]
