"""A small, strict DER reader for the few structures asn1crypto does not describe (scrypt
parameters, OIDs it does not know) and for bounded scans: every length is checked against
the bytes present, nothing is copied beyond what is asked for."""

from __future__ import annotations

from collections.abc import Iterator

SEQUENCE, INTEGER, OCTET_STRING, OID, NULL = 0x30, 0x02, 0x04, 0x06, 0x05


class DerError(ValueError):
    """The bytes are not the DER structure expected."""


def header(data: bytes, offset: int = 0) -> tuple[int, int, int]:
    """(tag, content start, content end) of the element at offset."""
    if offset + 2 > len(data):
        raise DerError("truncated header")
    tag, first = data[offset], data[offset + 1]
    start = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or start + count > len(data):
            raise DerError("bad length")
        length = int.from_bytes(data[start:start + count], "big")
        if length < 0x80 or (count > 1 and data[start] == 0):
            raise DerError("length not in its shortest form")
        start += count
    end = start + length
    if end > len(data):
        raise DerError("element longer than the data")
    return tag, start, end


def element_length(data: bytes, offset: int = 0) -> int | None:
    """Total length (header included) of a well-formed element at offset, else None."""
    try:
        _, _, end = header(data, offset)
    except DerError:
        return None
    return end - offset


def children(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(tag, content start, content end) of each element between start and end."""
    offset = start
    while offset < end:
        tag, content_start, content_end = header(data, offset)
        if content_end > end:
            raise DerError("child longer than its parent")
        yield tag, content_start, content_end
        offset = content_end


def sequence(data: bytes, offset: int = 0) -> list[tuple[int, int, int]]:
    tag, start, end = header(data, offset)
    if tag != SEQUENCE:
        raise DerError("not a SEQUENCE")
    return list(children(data, start, end))


def integer(data: bytes, element: tuple[int, int, int]) -> int:
    tag, start, end = element
    if tag != INTEGER or end == start or end - start > 16:
        raise DerError("not a small INTEGER")
    return int.from_bytes(data[start:end], "big", signed=True)


def oid(data: bytes, element: tuple[int, int, int]) -> str:
    tag, start, end = element
    if tag != OID or end == start or end - start > 64:
        raise DerError("not an OBJECT IDENTIFIER")
    numbers: list[int] = []
    value = 0
    for byte in data[start:end]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            numbers.append(value)
            value = 0
    first = min(numbers[0] // 40, 2)
    return ".".join(str(n) for n in (first, numbers[0] - 40 * first, *numbers[1:]))


def octets(data: bytes, element: tuple[int, int, int]) -> bytes:
    tag, start, end = element
    if tag != OCTET_STRING:
        raise DerError("not an OCTET STRING")
    return data[start:end]
