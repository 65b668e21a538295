"""Files of a commit's tree, read from the object store: the neighbours of a blob that a
commit introduced (the key beside a certificate, as that commit had them), and the policy
files of a server's default branch.

One `git cat-file --batch` process answers every request of a run, so a push of a
thousand commits costs no process per file (docs/architecture.md).
"""

from __future__ import annotations

import posixpath
import subprocess

from certwarden.neighbours import Neighbourhood
from certwarden.sources import GitError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO


MAX_TREE_BYTES = 1 << 30


def read_answer(stream: IO[bytes], max_bytes: int) -> tuple[str, str, bytes] | None:
    """One answer of `git cat-file --batch`: (object id, type, at most max_bytes of the
    content), or None for "<name> missing" (or ambiguous)."""
    header = stream.readline().split()
    if len(header) != 3:  # "<name> missing" / "ambiguous"
        return None
    size = int(header[2])
    body = stream.read(min(size, max_bytes))
    remaining = size - len(body)
    while remaining > 0:  # skip what is over the cap, in bounded chunks
        skipped = stream.read(min(remaining, 1 << 20))
        if not skipped:
            break
        remaining -= len(skipped)
    stream.read(1)  # the newline after each object
    return header[0].decode("ascii"), header[1].decode("ascii"), body


def tree_modes(found: tuple[str, str, bytes] | None) -> dict[str, str]:
    """name -> mode of each entry of a tree object as read_answer gives it, or {} when it
    is not a tree."""
    if found is None or found[1] != "tree":
        return {}
    hash_size = len(found[0]) // 2  # 20 bytes for SHA-1, 32 for SHA-256 repositories
    data, modes, offset = found[2], {}, 0
    while offset < len(data):  # entries: "<mode> <name>\0<binary id>"
        end = data.find(b"\0", offset)
        if end == -1:
            break
        mode, _, raw_name = data[offset:end].partition(b" ")
        modes[raw_name.decode("utf-8", "surrogateescape")] = mode.decode("ascii", "replace")
        offset = end + 1 + hash_size
    return modes


class ObjectReader:
    """`git cat-file --batch`, asked one object at a time: `REV:PATH`, an id, a ref."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._process: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            try:
                self._process = subprocess.Popen(
                    ["git", "cat-file", "--batch"], cwd=self.root, stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            except FileNotFoundError:
                raise GitError("git is not installed") from None
        return self._process

    def read(self, name: str, *, max_bytes: int) -> tuple[str, str, bytes] | None:
        """(object id, type, at most max_bytes of the content), or None when git has no
        such object (or the name cannot be asked for on one line)."""
        if not name or "\n" in name or "\r" in name:
            return None
        process = self._start()
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(name.encode("utf-8", "surrogateescape") + b"\n")
            process.stdin.flush()
        except OSError:
            return None
        return read_answer(process.stdout, max_bytes)

    def blob(self, name: str, *, max_bytes: int) -> bytes | None:
        found = self.read(name, max_bytes=max_bytes)
        return found[2] if found is not None and found[1] == "blob" else None

    def tree_names(self, name: str) -> list[str]:
        """The names in a tree (files and folders), or [] when it is not a tree."""
        return sorted(self.tree_modes(name))

    def tree_modes(self, name: str) -> dict[str, str]:
        """name -> mode ("100644", "120000" for a symlink, "40000" for a folder) of each
        entry of a tree, or {} when it is not a tree."""
        return tree_modes(self.read(name, max_bytes=MAX_TREE_BYTES))

    def forget(self) -> None:
        """In a forked worker: let go of the parent's git process without waiting for it
        (holding its stdin open would keep it alive after the parent closes it)."""
        if self._process is not None:
            for stream in (self._process.stdin, self._process.stdout):
                if stream is not None:
                    stream.close()
            self._process = None

    def close(self) -> None:
        if self._process is not None:
            for stream in (self._process.stdin, self._process.stdout):
                if stream is not None:
                    stream.close()
            self._process.wait()
            self._process = None


MAX_REMEMBERED_BYTES = 16 << 20  # of one commit's introduced blobs, held for neighbour reads


class CommitTrees(Neighbourhood):
    """The files beside a blob, in the tree of the commit that introduced it. `at(commit)`
    moves to another commit; paths are relative to the repository root."""

    def __init__(self, reader: ObjectReader, max_bytes: int) -> None:
        super().__init__(max_bytes)
        self.reader = reader
        self.commit = ""
        self._remembered: dict[str, bytes] = {}
        self._remembered_bytes = 0

    def at(self, commit: str) -> None:
        if commit != self.commit:
            self.commit = commit
            self._by_stem.clear()  # listings belong to one commit's tree
            self._remembered.clear()
            self._remembered_bytes = 0

    def remember(self, path: str, data: bytes) -> None:
        """The content of a blob the current commit introduced at path, as read from the
        object store anyway: `git log --raw` names the blob the commit's tree holds at
        that path, so `COMMIT:PATH` is those very bytes and a neighbour read of the path
        needs no round trip to git. Held for the current commit only, up to a budget."""
        if "\n" in path or "\r" in path or posixpath.normpath(path) != path:
            return  # not a name read() would ask git for as it is
        data = data[:self.max_bytes]
        if self._remembered_bytes + len(data) <= MAX_REMEMBERED_BYTES:
            self._remembered[path] = data
            self._remembered_bytes += len(data)

    def names_in(self, folder: str) -> list[str]:
        folder = posixpath.normpath(folder) if folder else ""
        if folder in ("", "."):
            return self.reader.tree_names(f"{self.commit}^{{tree}}")
        return self.reader.tree_names(f"{self.commit}:{folder}")

    def read(self, path: str) -> bytes | None:
        name = posixpath.normpath(path)
        remembered = self._remembered.get(name)
        if remembered is not None:
            return remembered
        return self.reader.blob(f"{self.commit}:{name}", max_bytes=self.max_bytes)
