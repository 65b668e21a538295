"""Decoders: bounded transforms from bytes to the bytes they encode (docs/architecture.md).

A key can hide under layers: UTF-16 text, JSON or XML escapes, URL-encoding, one string
literal per line, base64 or hex, an archive. Each decoder here has a cheap trigger (a few
literals found in the same single pass as the key markers, see recognition/key_sniff.py,
or a look at the first bytes) and a transform whose output is capped. Key recognition
applies them recursively, at most MAX_DEPTH layers deep, and names the layers it went
through in its findings (`base64 > PEM`, `bundle.zip:keys/server.key`), never the bytes.

Modelled on TruffleHog's decoders (a decoder turns a chunk into decoded chunks that every
detector sees again), with triggers instead of always-on decoding, so a commit without
keys stays as fast as a substring search.

Import-light: only the standard library, and only what a triggered decoder needs.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs start-up time; mypy reads this block all the same
if TYPE_CHECKING:
    from collections.abc import Iterator

MAX_DEPTH = 4  # layers of decoding under the file itself
MAX_DECODED_BYTES = 96 * 1024 * 1024  # everything decoded from one file, all layers together
MAX_MEMBER_BYTES = 64 * 1024 * 1024  # one decompressed stream or archive member
MAX_RATIO = 200  # decompressed bytes per compressed byte, against decompression bombs
MAX_MEMBERS = 2000  # archive members looked at in one archive
MAX_FILE_MEMBERS = 10_000  # ... in one file, every archive and layer together (zips of zips)
MIN_ENCODED = 32  # shorter runs of base64 or hex cannot hold a key


class Decoded:
    """Bytes a decoder found, and where they came from. (A plain class: this module is
    imported for every file, dataclasses would cost more than the search.)"""

    __slots__ = ("data", "how", "member", "start")

    def __init__(self, data: bytes, how: str, start: int, member: str | None = None) -> None:
        self.data = data
        self.how = how  # the layer, for people: "base64", "UTF-16LE", "gzip", "zip", ...
        self.start = start  # offset in the parent where the encoded region starts
        self.member = member  # a path inside an archive


class Limits:
    """What one file may still decode, shared by every layer of that file."""

    def __init__(self, total: int = MAX_DECODED_BYTES) -> None:
        self.left = total
        self.refused: list[str] = []  # caps that were hit, for the findings
        self._seen: set[int] = set()  # hashes of encoded runs already decoded
        self.members_left = MAX_FILE_MEMBERS

    def take_member(self, kind: str) -> bool:
        """One more archive member to look at, while the file's cap allows."""
        if self.members_left <= 0:
            self.refuse(f"{kind}: more than {MAX_FILE_MEMBERS:,} archive members in the file "
                        "(archives inside archives)")
            return False
        self.members_left -= 1
        return True

    def first_time(self, encoded: bytes) -> bool:
        """False for an encoded run this file already had decoded: a run repeated (a
        region searched again under text unescapings, or a file of copies) costs once.
        (The built-in hash is keyed per process, so collisions cannot be crafted.)"""
        key = hash(encoded)
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def take(self, size: int, what: str) -> bool:
        if size > self.left:
            self.refuse(f"{what}: more decoded data than the cap of "
                        f"{MAX_DECODED_BYTES // (1024 * 1024)} MiB per file")
            return False
        self.left -= size
        return True

    def refuse(self, reason: str) -> None:
        if reason not in self.refused:
            self.refused.append(reason)


class Transport:
    """A transport decoder: literal triggers and/or an O(1) probe of the first bytes."""

    name = ""
    triggers: tuple[bytes, ...] = ()

    def probe(self, data: bytes) -> bool:
        return False

    def decode(self, data: bytes, positions: list[int], limits: Limits) -> Iterator[Decoded]:
        raise NotImplementedError

    def starts(self, data: bytes, positions: list[int]) -> list[int]:
        """Where decoding starts: the triggers' positions, or the data's first non-blank
        byte when no trigger fired but the probe did (a file that is all one encoding)."""
        if not positions and self.probe(data):
            return [len(data) - len(data.lstrip())]
        return positions


def opens_with_run(data: bytes, alphabet: bytes) -> bool:
    """Whether 48 bytes of `alphabet` open the data, leading white space aside: a file
    that is one encoded run from its start."""
    head = data[:64].lstrip()
    return len(head) >= 48 and not head[:48].translate(None, alphabet)


def transports() -> list[Transport]:
    """Every transport decoder, in the order they are tried."""
    from certwarden.decoders import archives, base64_runs, hex_runs, text_encodings

    return [text_encodings.DECODER, archives.DECODER, base64_runs.DECODER, hex_runs.DECODER]
