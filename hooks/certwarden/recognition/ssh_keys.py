"""SSH private key formats: OpenSSH (`openssh-key-v1`) and SSH2 (SECSH, ssh.com).

Each format records its protection in its own structure (a cipher name field); for
unencrypted keys we also check that the private part parses as plaintext. OpenSSH keys
encrypted with bcrypt are not tried with the empty passphrase: ssh-keygen, OpenSSH and
the common libraries refuse an empty passphrase for them, so no standard tool opens one
without a passphrase (a cipher of "none" is what an empty passphrase produces).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization

from certwarden.recognition import armor
from certwarden.recognition.der_keys import capped_opener, spki_der
from certwarden.recognition.found_key import FoundKey, Protection, digest
from certwarden.recognition.ssh_wire import WireError, WireReader, public_key_type_and_size

if TYPE_CHECKING:
    from certwarden.recognition.keys import KeyScan, View

OPENSSH_MAGIC = b"openssh-key-v1\0"
SSH2_MAGIC = 0x3F6FF9EB


def spki_from_ssh_blob(blob: bytes) -> bytes | None:
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


def parse_openssh(der: bytes, *, line: int | None) -> FoundKey | str:
    """The key, or why an `openssh-key-v1` structure cannot be read."""
    if not der.startswith(OPENSSH_MAGIC):
        return "an OPENSSH PRIVATE KEY block without the openssh-key-v1 magic"
    try:
        reader = WireReader(der[len(OPENSSH_MAGIC):])
        cipher = reader.string().decode("ascii", "replace")
        kdf = reader.string().decode("ascii", "replace")
        options = reader.string()
        count = reader.u32()
        if not 1 <= count <= 64:
            return f"an OpenSSH key file claiming {count} keys"
        public_blob = reader.string()
        for _ in range(count - 1):
            reader.string()
        private = reader.string()
        key_type, size, _ = public_key_type_and_size(public_blob)
    except (WireError, UnicodeDecodeError, ValueError):
        return "an OpenSSH key whose structure is truncated or corrupt"
    parameters: dict[str, int] = {}
    if kdf == "bcrypt":
        try:
            options_reader = WireReader(options)
            options_reader.string()  # salt
            parameters["rounds"] = options_reader.u32()
        except WireError:
            return "an OpenSSH key whose bcrypt parameters are corrupt"
    encrypted = cipher != "none"
    form = "OpenSSH"
    if encrypted and _plaintext_private(private, public_blob):
        # A header edited to name a cipher proves nothing: the private section still
        # opens with its two check integers and the key's type, in the clear.
        encrypted, form = False, f"OpenSSH (names {cipher}, its private section in plaintext)"
    if encrypted and kdf == "none":
        return f"an OpenSSH key with cipher {cipher} but no key derivation (OpenSSH refuses it)"
    # A plaintext private section starts with two equal check integers.
    if not encrypted and (len(private) < 8 or private[:4] != private[4:8]):
        return "an OpenSSH key marked unencrypted whose private section is not plaintext"
    protection = Protection("OpenSSH", cipher, kdf, parameters) if encrypted else None
    opener = capped_opener(_openssh_opener(der), kdf if encrypted else None, parameters)
    return FoundKey(form=form, line=line, encrypted=encrypted,
                    material_digest=digest(der), key_type=key_type, key_size=size,
                    public_key_der=spki_from_ssh_blob(public_blob), public_blob=public_blob,
                    protection=protection, family="ssh", opener=opener)


def _plaintext_private(private: bytes, public_blob: bytes) -> bool:
    """The private section in the clear: two equal check integers, then the public key's
    type name (ciphertext does that by chance once in 2^64)."""
    if len(private) < 12 or private[:4] != private[4:8]:
        return False
    try:
        return WireReader(private[8:]).string() == WireReader(public_blob).string()
    except WireError:
        return False


def read_armored(block: armor.ArmoredBlock, line: int | None, scan: KeyScan) -> FoundKey | str:
    if block.der is None:
        return "the OPENSSH PRIVATE KEY block is not valid base64"
    return parse_openssh(block.der, line=line)


# -- SSH2 / SECSH (ssh.com) ------------------------------------------------------------------

SSH2_BEGIN = b"---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----"
SSH2_END = b"---- END SSH2 ENCRYPTED PRIVATE KEY ----"
_ESCAPED_NEWLINE = re.compile(rb"\\r\\n|\\n|\\r")


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


def parse_ssh2(body: bytes, *, line: int | None) -> FoundKey | str:
    """The label always says ENCRYPTED; the cipher field says whether it is."""
    blob = _ssh2_body(body)
    if not blob:
        return "an SSH2 private key block that is not valid base64"
    try:
        reader = WireReader(blob)
        if reader.u32() != SSH2_MAGIC:
            return "an SSH2 private key block without the SSH2 magic number"
        reader.u32()  # total length
        key_kind = reader.string().decode("ascii", "replace")
        cipher = reader.string().decode("ascii", "replace")
        payload = reader.string()
    except (WireError, UnicodeDecodeError):
        return "an SSH2 private key whose structure is truncated or corrupt"
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
            return "an SSH2 key marked unencrypted whose key data is corrupt"
    protection = Protection("SSH2", cipher, "md5", {"iterations": 1}) if encrypted else None
    return FoundKey(form="SSH2 (ssh.com)", line=line, encrypted=encrypted,
                    material_digest=digest(blob), key_type=key_type, key_size=size,
                    protection=protection, family="ssh")


def find(view: View, positions: list[int], scan: KeyScan, name: str) -> None:
    if name == "openssh":  # the bare structure (armor is read by pem_keys)
        found = parse_openssh(view.data, line=None)
        if isinstance(found, FoundKey):
            view.claim(0, len(view.data))
            scan.add_key(view, found)
        return
    _ssh2(view, scan)


def _ssh2(view: View, scan: KeyScan) -> None:
    """SSH2 blocks: every BEGIN line with the END line after it (one linear pass)."""
    data = view.data
    begin = data.find(SSH2_BEGIN) if b"---- BEGIN SSH2" in data else -1
    nowhere = len(data) + 1
    end = -1  # the next END line at or after begin (nowhere: there is none)
    while begin != -1:
        if end != nowhere and end < begin:  # one search per END line: linear
            found_end = data.find(SSH2_END, begin)
            end = found_end if found_end != -1 else nowhere
        following = data.find(SSH2_BEGIN, begin + len(SSH2_BEGIN))
        stop = end if end != nowhere and (following == -1 or end < following) else -1
        line = view.line_at(begin)
        body_end = stop if stop != -1 else (following if following != -1 else len(data))
        body = data[begin + len(SSH2_BEGIN):min(body_end, begin + armor.MAX_BODY)]
        view.claim(begin, body_end + (len(SSH2_END) if stop != -1 else 0))
        if stop == -1:  # no END line: a key cut short, or the BEGIN line only mentioned
            from certwarden.recognition.pem_keys import lines_after_begin

            text = lines_after_begin(body)
            if text is not None:
                found = parse_ssh2(text, line=line)
                if isinstance(found, FoundKey):
                    scan.add_key(view, found)
                else:
                    scan.add_unreadable(view, line, "BEGIN SSH2 ENCRYPTED PRIVATE KEY without "
                                        "an END line (a truncated key?)", text)
        else:
            found = parse_ssh2(body, line=line)
            if isinstance(found, FoundKey):
                scan.add_key(view, found)
            else:
                from certwarden.recognition.pem_keys import is_placeholder

                if not is_placeholder(body):
                    scan.add_unreadable(view, line, found, body)
        begin = following
