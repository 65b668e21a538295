"""Reading the SSH wire encoding (RFC 4251 strings and integers) from untrusted bytes."""

from __future__ import annotations


class WireError(ValueError):
    """The bytes do not follow the expected structure."""


class WireReader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    @property
    def remaining(self) -> int:
        return len(self.data) - self.offset

    def take(self, count: int) -> bytes:
        if count < 0 or self.offset + count > len(self.data):
            raise WireError("truncated")
        chunk = self.data[self.offset:self.offset + count]
        self.offset += count
        return chunk

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def string(self) -> bytes:
        return self.take(self.u32())

    def mpint(self) -> int:
        return int.from_bytes(self.string(), "big", signed=False)


def public_key_type_and_size(blob: bytes) -> tuple[str, int | None, tuple[int, int] | None]:
    """(type, size in bits, RSA (e, n) when RSA) from an SSH public key blob."""
    reader = WireReader(blob)
    name = reader.string().decode("ascii", "replace")
    if name == "ssh-rsa":
        e, n = reader.mpint(), reader.mpint()
        return "rsa", n.bit_length(), (e, n)
    if name == "ssh-dss":
        return "dsa", reader.mpint().bit_length(), None
    if name.startswith("ecdsa-sha2-nistp"):
        return "ec", int(name.rsplit("nistp", 1)[1]), None
    if name == "ssh-ed25519":
        return "ed25519", 256, None
    if name == "ssh-ed448":
        return "ed448", 456, None
    return name, None, None
