"""Bytes come in: files named on the command line, or the blobs of the git index.

Each file is read once, as bytes. A file that cannot be read becomes a SourceFile with
an error, never an exception, so the other files are still checked. Symlinks are judged
as git stores them (the link text) and never followed out of the repository.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence


class SourceFile:
    __slots__ = ("data", "error", "is_symlink", "path", "size")

    def __init__(self, path: str, data: bytes, size: int, *, is_symlink: bool = False,
                 error: str | None = None) -> None:
        self.path = path  # as the user or git names it
        self.data = data
        self.size = size  # the full size, which may exceed len(data) when capped
        self.is_symlink = is_symlink
        self.error = error  # why the content could not be read

    @property
    def truncated(self) -> bool:
        return self.size > len(self.data)


class GitError(Exception):
    """git is missing or the folder is not a repository."""


class IndexEntry:
    __slots__ = ("blob", "mode", "path")

    def __init__(self, path: str, mode: str, blob: str) -> None:
        self.path = path
        self.mode = mode
        self.blob = blob


def _read_one(path: str, *, max_bytes: int) -> SourceFile:
    try:
        info = os.lstat(path)
    except OSError as exc:
        return SourceFile(path, b"", 0, error=f"cannot read: {exc.strerror or exc}")
    if stat.S_ISLNK(info.st_mode):
        target = os.fsencode(os.readlink(path))
        return SourceFile(path, target, len(target), is_symlink=True)
    if not stat.S_ISREG(info.st_mode):
        return SourceFile(path, b"", 0, error="not a regular file")
    try:
        data = read_capped(path, info.st_size, max_bytes)
    except OSError as exc:
        return SourceFile(path, b"", info.st_size, error=f"cannot read: {exc.strerror or exc}")
    return SourceFile(path, data, max(info.st_size, len(data)))


def read_capped(path: str, expected_size: int, max_bytes: int) -> bytes:
    """At most max_bytes of the file, with unbuffered reads sized from stat.

    A buffered read(max_bytes) allocates max_bytes up front for every file, which
    costs more than reading a whole typical repository.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        chunks = []
        remaining = max_bytes
        want = min(expected_size + 1, max_bytes)  # +1: notice a file that grew
        while remaining > 0:
            chunk = os.read(fd, min(max(want, 65536), remaining))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
            want = 65536
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    finally:
        os.close(fd)


def _walk(folder: str) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        for name in sorted(filenames):
            yield os.path.join(dirpath, name)


def expand_paths(paths: Sequence[str]) -> list[str]:
    """The named files; a folder stands for every file under it (except .git)."""
    expanded: list[str] = []
    for path in paths:
        if os.path.isdir(path) and not os.path.islink(path):
            expanded.extend(_walk(path))
        else:
            expanded.append(path)
    return expanded


def read_paths(paths: Sequence[str], *, max_bytes: int) -> Iterator[SourceFile]:
    """Each named file (not folders: see expand_paths), read once."""
    for path in paths:
        yield _read_one(path, max_bytes=max_bytes)


def git(root: str, *args: str, stdin: bytes | None = None) -> bytes:
    import subprocess  # only runs that read the index pay for it

    try:
        result = subprocess.run(
            ["git", *args], cwd=root, input=stdin, capture_output=True, check=False
        )
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(message[-1] if message else f"git {args[0]} failed")
    return result.stdout


def staged_entries(root: str) -> list[IndexEntry]:
    """Files added, copied, modified or retyped in the index, relative to HEAD."""
    # Whole object ids (40 or 64 hex digits): an abbreviated one can become ambiguous.
    output = git(root, "diff", "--cached", "--raw", "-z", "--no-renames", "--no-abbrev",
                 "--diff-filter=ACMT", "--no-ext-diff")
    fields = output.split(b"\0")
    entries = []
    for meta, raw_path in zip(fields[0::2], fields[1::2], strict=False):
        parts = meta.decode().lstrip(":").split()
        if len(parts) < 4:
            continue
        entries.append(IndexEntry(os.fsdecode(raw_path), parts[1], parts[3]))
    return entries


def tracked_entries(root: str) -> list[IndexEntry]:
    """Every file in the index: what the next commit will hold."""
    output = git(root, "ls-files", "-s", "-z")
    entries = []
    for record in output.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, blob, _stage = meta.decode().split()
        entries.append(IndexEntry(os.fsdecode(raw_path), mode, blob))
    return entries


def read_blobs(root: str, entries: Sequence[IndexEntry], *,
               max_bytes: int) -> Iterator[SourceFile]:
    """Blob contents, streamed through one `git cat-file --batch` process: memory holds
    one blob (at most max_bytes of it) at a time, however large the history."""
    import subprocess
    import threading

    wanted = [e for e in entries if e.mode != "160000"]  # submodules have no blob here
    if not wanted:
        return
    try:
        process = subprocess.Popen(["git", "cat-file", "--batch"], cwd=root,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL)
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    assert process.stdin is not None and process.stdout is not None

    def send_requests() -> None:  # a thread, so neither pipe can fill up and block
        assert process.stdin is not None
        try:
            for entry in wanted:
                process.stdin.write(entry.blob.encode() + b"\n")
            process.stdin.close()
        except OSError:
            pass

    writer = threading.Thread(target=send_requests, daemon=True)
    writer.start()
    stream = process.stdout
    try:
        for entry in wanted:
            header = stream.readline().split()
            if len(header) != 3:  # "<blob> missing": not in the object store
                yield SourceFile(entry.path, b"", 0, error="blob missing from the repository")
                continue
            size = int(header[2])
            body = stream.read(min(size, max_bytes))
            remaining = size - len(body)
            while remaining > 0:  # skip what is over the cap, in bounded chunks
                skipped = stream.read(min(remaining, 1 << 20))
                if not skipped:
                    break
                remaining -= len(skipped)
            stream.read(1)  # the newline after each object
            yield SourceFile(entry.path, body, size, is_symlink=entry.mode == "120000")
    finally:
        stream.close()
        process.wait()
        writer.join(timeout=1)


def read_staged(root: str, *, max_bytes: int) -> Iterator[SourceFile]:
    yield from read_blobs(root, staged_entries(root), max_bytes=max_bytes)


def read_tracked(root: str, *, max_bytes: int) -> Iterator[SourceFile]:
    yield from read_blobs(root, tracked_entries(root), max_bytes=max_bytes)


def history_entries(root: str) -> list[IndexEntry]:
    """Every blob ever committed (any ref), once, with the first commit and path it had."""
    output = git(root, "log", "--all", "--reverse", "--no-renames", "--raw", "--no-abbrev",
                 "-z", "--format=%x00%H", "--diff-filter=ACMT", "-m")
    seen: dict[str, IndexEntry] = {}
    commit = ""
    fields = output.split(b"\0")
    index = 0
    while index < len(fields):
        field = fields[index]
        index += 1
        if not field or field == b"\n":
            continue
        text = field.strip(b"\n")
        # A commit id: 40 hex digits (SHA-1) or 64 (SHA-256 repositories).
        if len(text) in (40, 64) and not text.startswith(b":") and _is_hex(text):
            commit = text.decode()
            continue
        if text.startswith(b":") and index < len(fields):
            parts = text.decode().lstrip(":").split()
            path = os.fsdecode(fields[index])
            index += 1
            if len(parts) >= 4 and parts[1] not in ("160000", "000000"):
                seen.setdefault(parts[3], IndexEntry(f"{commit[:12]}:{path}", parts[1],
                                                     parts[3]))
    return list(seen.values())


def _is_hex(text: bytes) -> bool:
    return all(c in b"0123456789abcdef" for c in text)


def read_history(root: str, *, max_bytes: int) -> Iterator[SourceFile]:
    yield from read_blobs(root, history_entries(root), max_bytes=max_bytes)
