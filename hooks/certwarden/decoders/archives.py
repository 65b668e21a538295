"""gzip, zlib, bzip2 and xz streams, zip and tar archives: their contents, capped.

Trigger: the format's magic bytes at the start of the data (an O(1) look). Every stream is
decompressed incrementally with a cap on the output (MAX_MEMBER_BYTES) and on the ratio
of output to input (MAX_RATIO), so a decompression bomb costs a few milliseconds and a
note, never memory or minutes.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from certwarden.decoders import MAX_MEMBER_BYTES, MAX_MEMBERS, MAX_RATIO, Decoded, Limits, Transport

_CHUNK = 1 << 20


def _kind(data: bytes) -> str | None:
    if data.startswith(b"\x1f\x8b"):
        return "gzip"
    if data[:1] == b"\x78" and len(data) > 8 and not data[1] & 0x20 \
            and int.from_bytes(data[:2], "big") % 31 == 0:
        return "zlib"  # git loose objects (a fixture repository), .zlib, raw streams
    if data.startswith(b"BZh") and data[3:4].isdigit():
        return "bzip2"
    if data.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")) or data[-22:-18] == b"PK\x05\x06":
        return "zip"  # at the start, or its end record last (a zip after other bytes:
        # self-extracting archives, a zip appended to an image)
    if data[257:262] == b"ustar" or (len(data) >= 1024 and len(data) % 512 == 0
                                     and _plain_tar_header(data)):
        return "tar"
    return None


def _plain_tar_header(data: bytes) -> bool:
    """A pre-POSIX tar header: a valid checksum in the first block."""
    try:
        stored = int(data[148:156].split(b"\0", 1)[0].strip() or b"-1", 8)
    except ValueError:
        return False
    header = data[:148] + b" " * 8 + data[156:512]
    return stored == sum(header)


def _stream(data: bytes, kind: str, limits: Limits) -> bytes | None:
    """Decompress a gzip/bzip2/xz stream (concatenated members too), within the caps."""
    cap = min(MAX_MEMBER_BYTES, max(_CHUNK, len(data) * MAX_RATIO))
    out: list[bytes] = []
    produced = 0
    rest = data
    while rest:
        try:
            pieces, rest = _one_member(rest, kind, cap - produced)
        except _OverCap:
            limits.refuse(f"{kind}: decompresses to more than {cap:,} bytes (ratio or size cap)")
            return b"".join(out) or None
        for piece in pieces:
            produced += len(piece)
            out.append(piece)
        if rest and _kind(rest) != kind:
            break
    return b"".join(out) or None


class _OverCap(Exception):
    pass


def _one_member(data: bytes, kind: str, room: int) -> tuple[list[bytes], bytes]:
    """(decompressed pieces, bytes after this member); stops quietly at corrupt data."""
    import bz2
    import lzma
    import zlib

    pieces: list[bytes] = []
    if kind in ("gzip", "zlib"):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS if kind == "gzip" else zlib.MAX_WBITS)
        pending = data
        try:
            while True:
                chunk = inflater.decompress(pending, _CHUNK)
                room -= len(chunk)
                if room < 0:
                    raise _OverCap
                pieces.append(chunk)
                pending = inflater.unconsumed_tail
                if inflater.eof:
                    return pieces, inflater.unused_data
                if not chunk and not pending:
                    return pieces, b""  # truncated: what there is
        except zlib.error:
            return pieces, b""
    decompressor = bz2.BZ2Decompressor() if kind == "bzip2" else lzma.LZMADecompressor()
    pending = data
    try:
        while True:
            chunk = decompressor.decompress(pending, _CHUNK)
            pending = b""
            room -= len(chunk)
            if room < 0:
                raise _OverCap
            pieces.append(chunk)
            if decompressor.eof:
                return pieces, decompressor.unused_data
            if decompressor.needs_input:
                return pieces, b""  # truncated: what there is
    except (OSError, EOFError, ValueError, lzma.LZMAError):
        return pieces, b""


def _zip_members(data: bytes, limits: Limits) -> Iterator[Decoded]:
    import zipfile

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError):
        return
    for index, info in enumerate(infos):
        if index >= MAX_MEMBERS:
            limits.refuse(f"zip: more than {MAX_MEMBERS} members")
            return
        if info.is_dir():
            continue
        if not limits.take_member("zip"):
            return
        cap = min(MAX_MEMBER_BYTES, max(_CHUNK, info.compress_size * MAX_RATIO))
        if info.file_size > cap:
            limits.refuse(f"zip: member {info.filename} would decompress to "
                          f"{info.file_size:,} bytes (ratio or size cap)")
            continue
        if info.flag_bits & 0x1:
            continue  # encrypted member: its bytes are ciphertext
        try:
            with archive.open(info) as member:
                content = member.read(cap + 1)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError,
                RuntimeError):
            continue
        if len(content) > cap or not limits.take(len(content), "zip"):
            limits.refuse(f"zip: member {info.filename} over the size cap")
            continue
        yield Decoded(content, "zip", 0, info.filename)


def _tar_members(data: bytes, limits: Limits) -> Iterator[Decoded]:
    import tarfile

    try:
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:")  # noqa: SIM115 (closed below)
    except (tarfile.TarError, OSError, ValueError, EOFError):
        return
    count = 0
    try:
        for info in archive:
            count += 1
            if count > MAX_MEMBERS:
                limits.refuse(f"tar: more than {MAX_MEMBERS} members")
                return
            if not info.isfile():
                continue
            if not limits.take_member("tar"):
                return
            stream = archive.extractfile(info)
            if stream is None:
                continue
            content = stream.read(MAX_MEMBER_BYTES + 1)
            if len(content) > MAX_MEMBER_BYTES or not limits.take(len(content), "tar"):
                limits.refuse(f"tar: member {info.name} over the size cap")
                continue
            yield Decoded(content, "tar", 0, info.name)
    except (tarfile.TarError, OSError, ValueError, EOFError):
        return
    finally:
        archive.close()


class Archives(Transport):
    name = "archive"

    def probe(self, data: bytes) -> bool:
        return _kind(data) is not None

    def decode(self, data: bytes, positions: list[int], limits: Limits) -> Iterator[Decoded]:
        kind = _kind(data)
        if kind in ("gzip", "zlib", "bzip2", "xz"):
            assert kind is not None
            content = _stream(data, kind, limits)
            if content and limits.take(len(content), kind):
                yield Decoded(content, kind, 0)
        elif kind == "zip":
            yield from _zip_members(data, limits)
        elif kind == "tar":
            yield from _tar_members(data, limits)


DECODER = Archives()
