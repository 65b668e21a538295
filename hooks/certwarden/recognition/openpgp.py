"""OpenPGP secret key blocks: is the secret material protected (RFC 4880 / RFC 9580)?

Read from the packet structure: each secret key packet has an S2K usage octet after
its public part; 0 means the secret material follows in the clear.
"""

from __future__ import annotations

from collections.abc import Iterator

from certwarden.config import Config
from certwarden.recognition.found_key import FoundKey, digest

SECRET_KEY_TAGS = (5, 7)  # secret key, secret subkey
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


def _protection(body: bytes, offset: int) -> tuple[str, str | None, bool]:
    """(description, weakness, holds secret material) from the S2K usage octet onward."""
    usage = body[offset]
    if usage == 0:
        return "none", None, True
    if usage in (253, 254, 255):
        version = body[0]
        if version == 6:
            offset += 1  # count of the following fields
        cipher = body[offset + 1]
        if usage == 253:
            return f"AEAD (cipher {cipher})", None, True
        s2k_type = body[offset + 2]
        if s2k_type == 101:  # GNU extension: a stub without secret material
            return "GNU dummy S2K (no secret material)", None, False
        description = f"S2K type {s2k_type}, cipher {cipher}"
        if s2k_type in (0, 1):
            return description, "S2K without iterations: the passphrase is hashed once", True
        if cipher in (1, 2):
            return description, "IDEA/3DES cipher", True
        return description, None, True
    return (f"legacy cipher {usage}",
            "legacy protection: the passphrase is hashed once with MD5", True)


def parse_secret_key_block(data: bytes, *, line: int, config: Config) -> FoundKey | None:
    """One finding per armored block: unencrypted if any secret packet is in the clear."""
    keys: list[tuple[bool, str, str | None, str | None, int | None, bytes]] = []
    try:
        for tag, body in packets(data):
            if tag not in SECRET_KEY_TAGS:
                continue
            algorithm, offset, size = _public_part_end(body)
            description, weakness, has_secret = _protection(body, offset)
            if has_secret:
                keys.append((description == "none", description, weakness,
                             ALGORITHMS.get(algorithm, f"algorithm {algorithm}"), size,
                             body[:offset]))
    except (PacketError, IndexError):
        return None
    if not keys:
        return None
    unencrypted = [k for k in keys if k[0]]
    chosen = unencrypted[0] if unencrypted else keys[0]
    _, description, weakness, key_type, size, public = chosen
    return FoundKey(form="OpenPGP secret key", line=line, encrypted=not unencrypted,
                    material_digest=digest(data), key_type=key_type, key_size=size,
                    public_blob=public, encryption=None if unencrypted else description,
                    weakness=None if unencrypted else weakness)
