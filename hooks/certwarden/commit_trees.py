"""Files of a commit's tree, read from the object store: the neighbours of a blob that a
commit introduced (the key beside a certificate, as that commit had them), and the policy
files of a server's default branch.

One `git cat-file --batch` process answers every request of a run, so a push of a
thousand commits costs no process per file (docs/architecture.md).
"""

from __future__ import annotations

import contextlib
import posixpath
import subprocess
import threading
from collections.abc import Iterable

from certwarden.neighbours import Neighbourhood
from certwarden.sources import BatchAnswer, GitError, read_batch_answer

MAX_TREE_BYTES = 1 << 30


def tree_modes(found: BatchAnswer | None) -> dict[str, str]:
    """name -> mode of each entry of a tree object as git's answer holds it, or {} when it
    is not a tree."""
    if found is None or found.kind != "tree":
        return {}
    hash_size = len(found.object_id) // 2  # 20 bytes for SHA-1, 32 for SHA-256 repositories
    data, modes, offset = found.data, {}, 0
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

    def read(self, name: str, *, max_bytes: int) -> BatchAnswer | None:
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
        return read_batch_answer(process.stdout, max_bytes)

    def blob(self, name: str, *, max_bytes: int) -> bytes | None:
        found = self.read(name, max_bytes=max_bytes)
        return found.data if found is not None and found.kind == "blob" else None

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


class Prefetch:
    """Objects asked of git ahead of need, in the order they will be needed: one pipelined
    `git cat-file --batch` rather than a round trip each (the folder listings of a run).
    Each name comes with its group (its commit). Answers are read as they are taken; of
    those read past on the way, only the taken name's group's are held, until `forget()`
    (the caller moves to another commit): memory holds one commit's answers."""

    def __init__(self, root: str, names: Iterable[tuple[str, str]], *, max_bytes: int
                 ) -> None:
        self.max_bytes = max_bytes
        wanted = {name: group for group, name in names
                  if name and "\n" not in name and "\r" not in name}
        self._order = list(wanted)
        self._group_of = list(wanted.values())
        self._position = {name: index for index, name in enumerate(self._order)}
        self._next = 0  # answers read so far
        self._ready: dict[str, BatchAnswer | None] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._writer: threading.Thread | None = None
        if not self._order:
            return
        try:
            self._process = subprocess.Popen(
                ["git", "cat-file", "--batch"], cwd=root, stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except FileNotFoundError:
            return  # every name is then asked one at a time, and fails as it would
        requests = b"".join(name.encode("utf-8", "surrogateescape") + b"\n"
                            for name in self._order)
        self._writer = threading.Thread(target=self._send, args=(requests,), daemon=True)
        self._writer.start()  # a thread, so neither pipe can fill up and block

    def _send(self, requests: bytes) -> None:
        assert self._process is not None and self._process.stdin is not None
        try:
            self._process.stdin.write(requests)
            self._process.stdin.close()
        except OSError:
            pass

    def take(self, name: str) -> tuple[bool, BatchAnswer | None]:
        """(True, what ObjectReader.read would give) for a name asked ahead and not yet
        forgotten; (False, None) for any other: ask it the ordinary way."""
        if name in self._ready:
            return True, self._ready[name]
        index = self._position.get(name)
        if index is None or index < self._next or self._process is None:
            return False, None
        assert self._process.stdout is not None
        group = self._group_of[index]
        while self._next <= index:
            try:
                answer = read_batch_answer(self._process.stdout, self.max_bytes, strict=True)
            except EOFError:  # git stopped: nothing further is known
                self.close()
                return False, None
            if self._group_of[self._next] == group:  # others are asked again if needed
                self._ready[self._order[self._next]] = answer
            self._next += 1
        return True, self._ready[name]

    def forget(self) -> None:
        self._ready.clear()

    def close(self) -> None:
        self._ready.clear()
        if self._process is not None:
            for stream in (self._process.stdout, self._process.stdin):
                if stream is not None and not stream.closed:
                    with contextlib.suppress(OSError):
                        stream.close()
            self._process.wait()
            self._process = None
        if self._writer is not None:
            self._writer.join(timeout=1)
            self._writer = None


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
        self.prefetch: Prefetch | None = None

    def at(self, commit: str) -> None:
        if commit != self.commit:
            self.commit = commit
            self._by_stem.clear()  # listings belong to one commit's tree
            self._remembered.clear()
            self._remembered_bytes = 0
            if self.prefetch is not None:
                self.prefetch.forget()

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

    @staticmethod
    def tree_name(commit: str, folder: str) -> str:
        """What git is asked for the listing of a folder of a commit."""
        folder = posixpath.normpath(folder) if folder else ""
        if folder in ("", "."):
            return f"{commit}^{{tree}}"
        return f"{commit}:{folder}"

    def names_in(self, folder: str) -> list[str]:
        name = self.tree_name(self.commit, folder)
        if self.prefetch is not None:
            asked, found = self.prefetch.take(name)
            if asked:
                return sorted(tree_modes(found))
        return self.reader.tree_names(name)

    def read(self, path: str) -> bytes | None:
        name = posixpath.normpath(path)
        remembered = self._remembered.get(name)
        if remembered is not None:
            return remembered
        return self.reader.blob(f"{self.commit}:{name}", max_bytes=self.max_bytes)
