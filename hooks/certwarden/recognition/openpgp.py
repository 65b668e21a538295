"""OpenPGP secret key blocks: is the secret material protected (RFC 4880 / RFC 9580)?

Read from the packet structure: each secret key packet has an S2K usage octet after
its public part; 0 means the secret material follows in the clear.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from certwarden.recognition import armor
from certwarden.recognition.found_key import FoundKey, Protection, digest

if TYPE_CHECKING:
    from certwarden.recognition.keys import KeyScan, View

SECRET_KEY_TAGS = (5, 7)  # secret key, secret subkey
CIPHERS = {1: "idea", 2: "3des", 3: "cast5", 4: "blowfish", 7: "aes-128", 8: "aes-192",
           9: "aes-256", 10: "twofish", 11: "camellia-128", 12: "camellia-192",
           13: "camellia-256"}
S2K_TYPES = {0: "simple", 1: "salted", 3: "iterated and salted", 4: "argon2"}
ALGORITHMS = {1: "rsa", 2: "rsa", 3: "rsa", 16: "elgamal", 17: "dsa", 18: "ecdh", 19: "ecdsa",
              20: "elgamal", 22: "eddsa", 25: "x25519", 26: "x448", 27: "ed25519", 28: "ed448"}
_MPI_COUNTS = {1: 2, 2: 2, 3: 2, 16: 3, 20: 3, 17: 4}
_FIXED_SIZES = {25: 32, 26: 56, 27: 32, 28: 57}


class PacketError(ValueError):
    pass


def packets(data: bytes) -> Iterator[tuple[int, bytes]]:
    offset = 0
    while offset < len(data):
        tag_byte = data[offset]
        offset += 1
        if not tag_byte & 0x80:
            raise PacketError("not an OpenPGP packet")
        if tag_byte & 0x40:  # new format
            tag = tag_byte & 0x3F
            first = data[offset]
            if first < 192:
                length, offset = first, offset + 1
            elif first < 224:
                length = ((first - 192) << 8) + data[offset + 1] + 192
                offset += 2
            elif first == 255:
                length = int.from_bytes(data[offset + 1:offset + 5], "big")
                offset += 5
            else:
                raise PacketError("partial body lengths are not used by key packets")
        else:
            tag = (tag_byte >> 2) & 0x0F
            length_type = tag_byte & 0x03
            if length_type == 3:
                length = len(data) - offset
            else:
                size = (1, 2, 4)[length_type]
                length = int.from_bytes(data[offset:offset + size], "big")
                offset += size
        if offset + length > len(data):
            raise PacketError("truncated packet")
        yield tag, data[offset:offset + length]
        offset += length


def _mpi(body: bytes, offset: int) -> tuple[int, int]:
    """(bit count, offset after) of the MPI at offset."""
    bits = int.from_bytes(body[offset:offset + 2], "big")
    end = offset + 2 + (bits + 7) // 8
    if end > len(body):
        raise PacketError("truncated MPI")
    return bits, end


def _public_part_end(body: bytes) -> tuple[int, int, int | None]:
    """(algorithm, offset where the secret part starts, key size in bits)."""
    version = body[0]
    algorithm = body[5]
    if version in (5, 6):
        length = int.from_bytes(body[6:10], "big")
        return algorithm, 10 + length, None
    if version not in (2, 3, 4):
        raise PacketError(f"unknown key packet version {version}")
    offset = 6 if version == 4 else 8  # v2/v3 carry a 2-byte validity period
    size = None
    if algorithm in _MPI_COUNTS:
        for index in range(_MPI_COUNTS[algorithm]):
            bits, offset = _mpi(body, offset)
            if index == 0:
                size = bits
    elif algorithm in (18, 19, 22):  # curve OID, public point (and KDF parameters)
        oid_length = body[offset]
        offset += 1 + oid_length
        _, offset = _mpi(body, offset)
        if algorithm == 18:
            offset += 1 + body[offset]
    elif algorithm in _FIXED_SIZES:
        offset += _FIXED_SIZES[algorithm]
    else:
        raise PacketError(f"unknown public key algorithm {algorithm}")
    if offset > len(body):
        raise PacketError("truncated public key")
    return algorithm, offset, size


def _protection(body: bytes, offset: int) -> tuple[Protection | None, bool]:
    """(protection or None when in the clear, holds secret material) from the S2K usage
    octet onward."""
    usage = body[offset]
    if usage == 0:
        return None, True
    if usage in (253, 254, 255):
        version = body[0]
        if version == 6:
            offset += 1  # count of the following fields
        cipher = CIPHERS.get(body[offset + 1], f"cipher {body[offset + 1]}")
        if usage == 253:
            return Protection("OpenPGP AEAD", cipher, "s2k"), True
        s2k_type = body[offset + 2]
        if s2k_type == 101:  # GNU extension: a stub without secret material
            return Protection("OpenPGP GNU dummy"), False
        parameters: dict[str, int] = {}
        if s2k_type == 3 and len(body) > offset + 12:
            coded = body[offset + 12]
            parameters["count"] = (16 + (coded & 15)) << ((coded >> 4) + 6)
        kdf = f"s2k {S2K_TYPES.get(s2k_type, str(s2k_type))}"
        return Protection("OpenPGP", cipher, kdf, parameters), True
    return Protection("OpenPGP legacy", CIPHERS.get(usage, f"cipher {usage}"),
                      "md5", {"iterations": 1}), True


def parse_secret_key_block(data: bytes, *, line: int | None) -> FoundKey | None:
    """One finding per key block: unencrypted if any secret packet is in the clear."""
    keys: list[tuple[Protection | None, str, int | None, bytes]] = []
    try:
        for tag, body in packets(data):
            if tag not in SECRET_KEY_TAGS:
                continue
            algorithm, offset, size = _public_part_end(body)
            protection, has_secret = _protection(body, offset)
            if has_secret:
                keys.append((protection, ALGORITHMS.get(algorithm, f"algorithm {algorithm}"),
                             size, body[:offset]))
    except (PacketError, IndexError):
        if not keys:  # what was read before the damage still counts
            return None
    if not keys:
        return None
    unencrypted = [k for k in keys if k[0] is None]
    protection, key_type, size, public = unencrypted[0] if unencrypted else keys[0]
    return FoundKey(form="OpenPGP secret key", line=line, encrypted=not unencrypted,
                    material_digest=digest(data), key_type=key_type, key_size=size,
                    public_blob=public, protection=protection, family="openpgp")


def read_armored(block: armor.ArmoredBlock, line: int | None, scan: KeyScan
                 ) -> FoundKey | str | None:
    if block.der is None:
        return "the PGP PRIVATE KEY BLOCK is not valid base64"
    found = parse_secret_key_block(block.der, line=line)
    if found is None:
        return "a PGP PRIVATE KEY BLOCK whose packets could not be read"
    return found


def find(view: View, positions: list[int], scan: KeyScan, name: str) -> None:
    """Binary OpenPGP (`gpg --export-secret-keys > key.gpg`): the view is a packet stream."""
    found = parse_secret_key_block(view.data, line=None)
    if found is not None:
        found.form = "OpenPGP secret key (binary)"
        found.encoding = "binary"
        view.claim(0, len(view.data))
        scan.add_key(view, found)
