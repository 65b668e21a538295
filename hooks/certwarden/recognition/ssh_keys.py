"""SSH private key formats: OpenSSH, PuTTY PPK v2/v3 and SSH2 (SECSH, ssh.com).

Each format records its protection in its own structure (a cipher name field);
for unencrypted keys we also check that the private part parses as plaintext.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from cryptography.hazmat.primitives import serialization

from certwarden.config import Config
from certwarden.recognition.der_keys import spki_der
from certwarden.recognition.found_key import FoundKey, digest
from certwarden.recognition.ssh_wire import WireError, WireReader, public_key_type_and_size

OPENSSH_MAGIC = b"openssh-key-v1\0"
SSH2_MAGIC = 0x3F6FF9EB
WEAK_SSH_CIPHERS = ("3des-cbc", "des-cbc", "blowfish-cbc", "arcfour", "arcfour128",
                    "arcfour256", "cast128-cbc")


def _spki_from_ssh_blob(blob: bytes) -> bytes | None:
    try:
        name = WireReader(blob).string()
        return spki_der(serialization.load_ssh_public_key(name + b" " + base64.b64encode(blob)))
    except Exception:  # unsupported key types (security keys, ...) have no SPKI here
        return None


def _openssh_opener(der: bytes) -> Any:
    pem = (b"-----BEGIN OPENSSH PRIVATE KEY-----\n" + base64.encodebytes(der)
           + b"-----END OPENSSH PRIVATE KEY-----\n")

    def open_with(passphrase: bytes) -> object:
        return serialization.load_ssh_private_key(pem, passphrase)
    return open_with


def parse_openssh(der: bytes, *, line: int | None) -> FoundKey | None:
    if not der.startswith(OPENSSH_MAGIC):
        return None
    try:
        reader = WireReader(der[len(OPENSSH_MAGIC):])
        cipher = reader.string().decode("ascii", "replace")
        kdf = reader.string().decode("ascii", "replace")
        reader.string()  # kdf options
        count = reader.u32()
        if not 1 <= count <= 64:
            return None
        public_blob = reader.string()
        for _ in range(count - 1):
            reader.string()
        private = reader.string()
        key_type, size, _ = public_key_type_and_size(public_blob)
    except (WireError, UnicodeDecodeError, ValueError):
        return None
    encrypted = cipher != "none"
    # A plaintext private section starts with two equal check integers.
    if not encrypted and (len(private) < 8 or private[:4] != private[4:8]):
        return None
    weakness = f"{cipher} is a weak cipher" if cipher in WEAK_SSH_CIPHERS else None
    return FoundKey(form="OpenSSH", line=line, encrypted=encrypted,
                    material_digest=digest(der), key_type=key_type, key_size=size,
                    public_key_der=_spki_from_ssh_blob(public_blob), public_blob=public_blob,
                    encryption=f"OpenSSH {cipher} with {kdf}" if encrypted else None,
                    weakness=weakness, opener=_openssh_opener(der))


# -- PuTTY -----------------------------------------------------------------------------------

PUTTY_START = re.compile(rb"PuTTY-User-Key-File-(\d+): *([A-Za-z0-9@._-]+)")
_ESCAPED_NEWLINE = re.compile(rb"\\r\\n|\\n|\\r")


def _putty_fields(text: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
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
            count = int(value)
            sections[name] = "".join(lines[index:index + count]).encode()
            index += count
        if name.startswith("Private-MAC") or name.startswith("Private-Hash"):
            break
    return fields, sections


def _putty_private_parses(key_type: str, private: bytes) -> bool:
    """An unencrypted PPK private blob is SSH wire data of the key's private fields."""
    counts = {"rsa": 4, "dsa": 1, "ec": 1, "ed25519": 1, "ed448": 1}
    try:
        reader = WireReader(private)
        for _ in range(counts.get(key_type, 1)):
            reader.string()
    except WireError:
        return False
    return True


def _putty_private_key(public_blob: bytes, private: bytes) -> object:
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


def _putty_opener(version: int, algorithm: bytes, fields: dict[str, str], public_blob: bytes,
                  stored: bytes) -> Any:
    """Decrypt an aes256-cbc PPK and check its MAC: a wrong passphrase fails the MAC."""
    import hashlib
    import hmac

    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    def open_with(passphrase: bytes) -> object:
        if version >= 3:
            from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

            if fields.get("Key-Derivation") != "Argon2id":
                raise ValueError("only Argon2id PPK files can be opened here")
            derived = Argon2id(salt=bytes.fromhex(fields["Argon2-Salt"]), length=80,
                               iterations=int(fields["Argon2-Passes"]),
                               lanes=int(fields["Argon2-Parallelism"]),
                               memory_cost=int(fields["Argon2-Memory"])).derive(passphrase)
            key, iv, mac_key, digest = derived[:32], derived[32:48], derived[48:], hashlib.sha256
        else:
            key = (hashlib.sha1(b"\0\0\0\0" + passphrase).digest()
                   + hashlib.sha1(b"\0\0\0\1" + passphrase).digest())[:32]
            iv, digest = bytes(16), hashlib.sha1
            mac_key = hashlib.sha1(b"putty-private-key-file-mac-key" + passphrase).digest()
        decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        private = decryptor.update(stored) + decryptor.finalize()
        signed = b"".join(len(v).to_bytes(4, "big") + v for v in (
            algorithm, fields.get("Encryption", "").encode(),
            fields.get("Comment", "").encode(), public_blob, private))
        expected = fields.get("Private-MAC", "")
        if not hmac.compare_digest(hmac.new(mac_key, signed, digest).hexdigest(), expected):
            raise ValueError("passphrase does not match the key (MAC check failed)")
        return _putty_private_key(public_blob, private)
    return open_with


def parse_putty(data: bytes, match: re.Match[bytes], *, line: int, config: Config
                ) -> FoundKey | None:
    version = int(match.group(1))
    fields, sections = _putty_fields(data[match.start():match.start() + 65536])
    encryption = fields.get("Encryption", "").lower()
    try:
        public_blob = base64.b64decode(sections.get("Public-Lines", b""), validate=True)
        private = base64.b64decode(sections.get("Private-Lines", b""), validate=True)
        key_type, size, _ = public_key_type_and_size(public_blob)
    except (binascii.Error, ValueError, WireError):
        return None
    if not encryption or not private:
        return None
    encrypted = encryption != "none"
    if not encrypted and not _putty_private_parses(key_type, private):
        return None
    weakness = None
    severity = None
    description = None
    opener = None
    if encrypted and encryption == "aes256-cbc" and len(private) % 16 == 0:
        opener = _putty_opener(version, match.group(2), fields, public_blob, private)
    if encrypted:
        kdf = fields.get("Key-Derivation", "SHA-1 of the passphrase")
        description = f"PuTTY v{version} {encryption} with {kdf}"
        if version < 3:
            weakness = "PuTTY v2 key derivation: SHA-1 of the passphrase, no salt or iterations"
            severity = config.legacy_pem_aes_severity
    return FoundKey(form=f"PuTTY v{version}", line=line, encrypted=encrypted,
                    material_digest=digest(private), key_type=key_type, key_size=size,
                    public_key_der=_spki_from_ssh_blob(public_blob), public_blob=public_blob,
                    encryption=description, weakness=weakness, weakness_severity=severity,
                    opener=opener)


# -- SSH2 / SECSH (ssh.com) ------------------------------------------------------------------

SSH2_BLOCK = re.compile(rb"---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----(.*?)"
                        rb"---- END SSH2 ENCRYPTED PRIVATE KEY ----", re.S)


def _ssh2_body(text: bytes) -> bytes | None:
    body = _ESCAPED_NEWLINE.sub(b"\n", text).replace(b"\r", b"\n")
    chunks: list[bytes] = []
    continued = False
    for raw in body.split(b"\n"):
        line = raw.strip().strip(b"\"'").strip()
        if not line:
            continue
        if continued or (b":" in line and not chunks):
            continued = line.endswith(b"\\")
            continue
        chunks.append(line)
    try:
        return base64.b64decode(b"".join(chunks), validate=True)
    except (binascii.Error, ValueError):
        return None


def _ssh2_bignum_bits(reader: WireReader) -> int:
    bits = reader.u32()
    reader.take((bits + 7) // 8)
    return bits


def parse_ssh2(body: bytes, *, line: int) -> FoundKey | None:
    """The label always says ENCRYPTED; the cipher field says whether it is."""
    blob = _ssh2_body(body)
    if not blob:
        return None
    try:
        reader = WireReader(blob)
        if reader.u32() != SSH2_MAGIC:
            return None
        reader.u32()  # total length
        key_kind = reader.string().decode("ascii", "replace")
        cipher = reader.string().decode("ascii", "replace")
        payload = reader.string()
    except (WireError, UnicodeDecodeError):
        return None
    key_type = "rsa" if key_kind.startswith("if-modn") else (
        "dsa" if key_kind.startswith("dl-modp") else key_kind)
    size = None
    encrypted = cipher != "none"
    if not encrypted:
        try:
            inner = WireReader(payload)
            inner.u32()
            if key_type == "rsa":
                _ssh2_bignum_bits(inner)  # e
                _ssh2_bignum_bits(inner)  # d
                size = _ssh2_bignum_bits(inner)  # n
        except WireError:
            return None
    weakness = (f"{cipher} with the SSH2 key derivation (MD5 of the passphrase)"
                if encrypted else None)
    return FoundKey(form="SSH2 (ssh.com)", line=line, encrypted=encrypted,
                    material_digest=digest(blob), key_type=key_type, key_size=size,
                    encryption=f"SSH2 {cipher}" if encrypted else None, weakness=weakness)
