"""PuTTY private key files (PPK v2 and v3): header fields, then base64 sections.

`Encryption: none` is unencrypted (the private blob must parse as plaintext);
`aes256-cbc` is encrypted unless the empty passphrase passes the file's MAC, which is
tried (Argon2 parameters checked against the caps first, work_caps.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from typing import TYPE_CHECKING, Any

from certwarden.recognition.der_keys import capped_opener
from certwarden.recognition.found_key import FoundKey, Protection, digest
from certwarden.recognition.ssh_keys import spki_from_ssh_blob
from certwarden.recognition.ssh_wire import WireError, WireReader, public_key_type_and_size
from certwarden.recognition.work_caps import WorkBudget

if TYPE_CHECKING:
    from certwarden.recognition.keys import KeyScan, View

PUTTY_START = re.compile(rb"PuTTY-User-Key-File-(\d+): *([A-Za-z0-9@._-]+)")
_ESCAPED_NEWLINE = re.compile(rb"\\r\\n|\\n|\\r")
MAX_FIELDS_BYTES = 1 << 16


def _fields(text: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    """Header fields and the base64 sections (Public-Lines, Private-Lines)."""
    normalized = _ESCAPED_NEWLINE.sub(b"\n", text).replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    lines = [stripped for raw in normalized.decode("ascii", "replace").split("\n")
             if (stripped := raw.strip().strip("\"'").strip())]
    fields: dict[str, str] = {}
    sections: dict[str, bytes] = {}
    index = 0
    while index < len(lines):
        name, sep, value = lines[index].partition(":")
        index += 1
        if not sep:
            if fields:
                break
            continue
        name, value = name.strip(), value.strip()
        if name in fields or (fields and name.startswith("PuTTY-User-Key-File")):
            break  # the next key in the same file
        fields[name] = value
        if name in ("Public-Lines", "Private-Lines") and value.isdigit():
            count = min(int(value), 4096)
            sections[name] = "".join(lines[index:index + count]).encode()
            index += count
        if name.startswith(("Private-MAC", "Private-Hash")):
            break
    return fields, sections


_PRIVATE_FIELDS = {"rsa": 4, "dsa": 1, "ec": 1, "ed25519": 1, "ed448": 1}


def _private_parses(key_type: str, private: bytes) -> bool:
    """An unencrypted PPK private blob is SSH wire data of the key's private fields."""
    try:
        reader = WireReader(private)
        for _ in range(_PRIVATE_FIELDS.get(key_type, 1)):
            reader.string()
    except WireError:
        return False
    return True


def _plaintext(key_type: str, private: bytes) -> bool:
    """A blob marked encrypted that is the key's private fields in the clear, filling it
    to within a cipher block (ciphertext does that by chance about once in 2^100)."""
    try:
        reader = WireReader(private)
        for _ in range(_PRIVATE_FIELDS.get(key_type, 1)):
            if not reader.string():
                return False
    except WireError:
        return False
    return reader.remaining < 16


def _private_key(public_blob: bytes, private: bytes) -> object:
    """A cryptography private key from PuTTY's plaintext public and private blobs."""
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa

    public, secret = WireReader(public_blob), WireReader(private)
    name = public.string().decode("ascii", "replace")
    if name == "ssh-rsa":
        e, n = public.mpint(), public.mpint()
        d, p, q, iqmp = secret.mpint(), secret.mpint(), secret.mpint(), secret.mpint()
        return rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), iqmp,
                                     rsa.RSAPublicNumbers(e, n)).private_key(
            unsafe_skip_rsa_key_validation=True)
    if name == "ssh-ed25519":
        return ed25519.Ed25519PrivateKey.from_private_bytes(secret.string()[:32])
    if name.startswith("ecdsa-sha2-nistp"):
        curves = {"256": ec.SECP256R1(), "384": ec.SECP384R1(), "521": ec.SECP521R1()}
        return ec.derive_private_key(secret.mpint(), curves[name.rsplit("nistp", 1)[1]])
    if name == "ssh-dss":
        p, q, g, y = public.mpint(), public.mpint(), public.mpint(), public.mpint()
        return dsa.DSAPrivateNumbers(secret.mpint(), dsa.DSAPublicNumbers(
            y, dsa.DSAParameterNumbers(p, q, g))).private_key()
    raise ValueError(f"{name} keys are not supported")


def _argon2_parameters(fields: dict[str, str]) -> dict[str, int]:
    def number(name: str) -> int:
        value = fields.get(name, "")
        return int(value) if value.isdigit() and len(value) < 12 else -1

    return {"memory": number("Argon2-Memory"), "passes": number("Argon2-Passes"),
            "parallelism": number("Argon2-Parallelism")}


def _decrypt(version: int, algorithm: bytes, fields: dict[str, str], public_blob: bytes,
             stored: bytes, passphrase: bytes) -> bytes | None:
    """The private blob when the passphrase passes the MAC, else None."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    if version >= 3:
        from cryptography.hazmat.primitives.kdf import argon2

        variant = fields.get("Key-Derivation", "Argon2id")
        kdf_class: Any = {"Argon2id": argon2.Argon2id, "Argon2i": argon2.Argon2i,
                          "Argon2d": argon2.Argon2d}.get(variant)
        if kdf_class is None:
            raise ValueError(f"unknown PuTTY key derivation {variant}")
        parameters = _argon2_parameters(fields)
        derived = kdf_class(salt=bytes.fromhex(fields.get("Argon2-Salt", "")), length=80,
                            iterations=parameters["passes"], lanes=parameters["parallelism"],
                            memory_cost=parameters["memory"]).derive(passphrase)
        key, iv, mac_key, mac_hash = derived[:32], derived[32:48], derived[48:], hashlib.sha256
    else:
        key = (hashlib.sha1(b"\0\0\0\0" + passphrase).digest()
               + hashlib.sha1(b"\0\0\0\1" + passphrase).digest())[:32]
        iv, mac_hash = bytes(16), hashlib.sha1
        mac_key = hashlib.sha1(b"putty-private-key-file-mac-key" + passphrase).digest()
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    private = decryptor.update(stored) + decryptor.finalize()
    signed = b"".join(len(v).to_bytes(4, "big") + v for v in (
        algorithm, fields.get("Encryption", "").encode(),
        fields.get("Comment", "").encode(), public_blob, private))
    expected = fields.get("Private-MAC", "")
    if not hmac.compare_digest(hmac.new(mac_key, signed, mac_hash).hexdigest(), expected):
        return None
    return private


def _opener(version: int, algorithm: bytes, fields: dict[str, str], public_blob: bytes,
            stored: bytes) -> Any:
    def open_with(passphrase: bytes) -> object:
        private = _decrypt(version, algorithm, fields, public_blob, stored, passphrase)
        if private is None:
            raise ValueError("passphrase does not match the key (MAC check failed)")
        return _private_key(public_blob, private)
    return open_with


def parse_putty(data: bytes, match: re.Match[bytes], *, line: int | None,
                budget: WorkBudget, stop: int | None = None) -> FoundKey | str | None:
    version = int(match.group(1)[:3])
    end = min(match.start() + MAX_FIELDS_BYTES, stop if stop is not None else len(data))
    fields, sections = _fields(data[match.start():end])
    if "Private-Lines" not in fields:
        return None  # a mention of the header, not a key file
    encryption = fields.get("Encryption", "").lower()
    try:
        public_blob = base64.b64decode(sections.get("Public-Lines", b""), validate=True)
        private = base64.b64decode(sections.get("Private-Lines", b""), validate=True)
        key_type, size, _ = public_key_type_and_size(public_blob)
    except (binascii.Error, ValueError, WireError):
        return "a PuTTY key file whose base64 sections are corrupt"
    if not encryption or not private:
        return "a PuTTY key file without an Encryption field or private lines"
    encrypted = encryption != "none"
    if not encrypted and not _private_parses(key_type, private):
        return "a PuTTY key marked unencrypted whose private blob is not plaintext"
    form = f"PuTTY v{version}"
    if encrypted and _plaintext(key_type, private):
        # `Encryption: none` edited to name a cipher: the private lines are still the
        # key's fields in the clear.
        encrypted, form = False, f"{form} (names {encryption}, its private lines in plaintext)"
    key = FoundKey(form=form, line=line, encrypted=encrypted,
                   material_digest=digest(private), key_type=key_type, key_size=size,
                   public_key_der=spki_from_ssh_blob(public_blob), public_blob=public_blob,
                   family="putty")
    if not encrypted:
        return key
    if version >= 3:
        kdf = fields.get("Key-Derivation", "Argon2id").lower()
        parameters = _argon2_parameters(fields)
    else:
        kdf, parameters = "sha1", {}
    key.protection = Protection(f"PuTTY v{version}", encryption, kdf, parameters)
    if encryption != "aes256-cbc" or len(private) % 16:
        key.not_tried = f"PuTTY encryption {encryption} is not one PuTTY writes"
        return key
    # Every field the MAC and the key derivation read, and the MAC itself.
    memo = hashlib.sha256(b"ppk\0" + repr(sorted(fields.items())).encode() + b"\0"
                          + public_blob + b"\0" + private).hexdigest()
    refused = budget.allow(kdf, parameters) if version >= 3 and not budget.known_closed(memo) \
        else None
    if refused:
        key.not_tried = refused
    elif budget.known_closed(memo):
        key.opens_with_empty_passphrase = False
    else:
        try:
            opened = _decrypt(version, match.group(2), fields, public_blob, private, b"")
        except ValueError as exc:
            key.not_tried = str(exc)
        else:
            key.opens_with_empty_passphrase = opened is not None
            if opened is None:
                budget.learn_closed(memo)
    key.opener = capped_opener(_opener(version, match.group(2), fields, public_blob, private),
                               kdf if version >= 3 else None, parameters)
    return key


def find(view: View, positions: list[int], scan: KeyScan, name: str) -> None:
    data = view.data
    matches = list(PUTTY_START.finditer(data))
    for index, match in enumerate(matches):
        if view.is_claimed(match.start()):
            continue
        line = view.line_at(match.start())
        stop = matches[index + 1].start() if index + 1 < len(matches) else None
        found = parse_putty(data, match, line=line, budget=scan.budget, stop=stop)
        if found is None:
            continue
        view.claim(match.start(), match.end())
        if isinstance(found, FoundKey):
            scan.add_key(view, found)
        else:
            scan.add_unreadable(view, line, found, data[match.start():match.start() + 4096])
