"""Bytes come in: files named on the command line, or the blobs of the git index.

Each file is read once, as bytes. A file that cannot be read becomes a SourceFile with
an error, never an exception, so the other files are still checked. Symlinks are judged
as git stores them (the link text) and never followed out of the repository.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Mapping, Sequence

TYPE_CHECKING = False  # typing costs start-up time; mypy reads this block all the same
if TYPE_CHECKING:
    from typing import IO


class SourceFile:
    __slots__ = ("blob", "data", "error", "is_symlink", "path", "size")

    def __init__(self, path: str, data: bytes, size: int, *, is_symlink: bool = False,
                 error: str | None = None, blob: str | None = None) -> None:
        self.path = path  # as the user or git names it
        self.data = data
        self.size = size  # the full size, which may exceed len(data) when capped
        self.is_symlink = is_symlink
        self.error = error  # why the content could not be read
        self.blob = blob  # the git object id, when the bytes come from the repository

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


def read_paths(paths: Sequence[str], *, max_bytes: int,
               staged: Mapping[str, str] | None = None) -> Iterator[SourceFile]:
    """Each named file (not folders: see expand_paths), read once; the paths in `staged`
    (path -> blob id) from the git index instead of the disk."""
    from_index = [IndexEntry(path, "100644", staged[path]) for path in paths
                  if staged and path in staged]
    for path in paths:
        if not staged or path not in staged:
            yield _read_one(path, max_bytes=max_bytes)
    if from_index:
        yield from read_blobs(".", from_index, max_bytes=max_bytes)


def staged_blobs_that_differ(paths: Sequence[str], root: str) -> dict[str, str]:
    """Named paths whose staged blob can differ from the file on disk, with their blob ids.

    Under pre-commit the working tree holds the staged content, except where git
    converts it: a clean filter (git-crypt, git-lfs, ...) or `working-tree-encoding`.
    Both come from attributes, so nothing runs unless an attributes file exists; then one
    `git check-attr` and one `git ls-files` for all paths (docs/architecture.md)."""
    if not paths or not _attributes_may_apply(paths, root):
        return {}
    try:
        listing = git(".", "check-attr", "-z", "--stdin", "filter", "working-tree-encoding",
                      stdin=b"\0".join(os.fsencode(p) for p in paths) + b"\0")
    except GitError:
        return {}
    fields = listing.split(b"\0")
    converted = []
    for raw_path, _attribute, value in zip(fields[0::3], fields[1::3], fields[2::3],
                                           strict=False):
        if value not in (b"unspecified", b"unset", b""):
            converted.append(os.fsdecode(raw_path))
    if not converted:
        return {}
    try:
        output = git(".", "ls-files", "-s", "-z", "--", *converted)
    except GitError:
        return {}
    blobs = {}
    for record in output.split(b"\0"):
        meta, _, raw_path = record.partition(b"\t")
        parts = meta.split()
        if len(parts) == 3 and parts[0] != b"120000":
            blobs[os.fsdecode(raw_path)] = parts[1].decode()
    return {path: blobs[path] for path in converted if path in blobs}


def _attributes_may_apply(paths: Sequence[str], root: str) -> bool:
    """Is there any attributes file that could set a filter on these paths? (stat calls)"""
    candidates = {os.path.join(root, ".gitattributes"),
                  os.path.join(root, ".git", "info", "attributes"),
                  os.path.join(os.environ.get("XDG_CONFIG_HOME")
                               or os.path.join(os.path.expanduser("~"), ".config"),
                               "git", "attributes")}
    folders = {os.path.dirname(path) for path in paths}
    if len(folders) > 256:  # many folders (--all-files): ask the index once instead
        try:
            if git(".", "ls-files", "-z", "--", ":(glob)**/.gitattributes").strip(b"\0"):
                return True
        except GitError:
            return True
        folders = set()
    seen: set[str] = set()
    for folder in folders:
        folder = os.path.abspath(folder)
        while len(folder) > len(root) and folder not in seen:
            seen.add(folder)
            candidates.add(os.path.join(folder, ".gitattributes"))
            folder = os.path.dirname(folder)
    if any(os.path.isfile(candidate) for candidate in candidates):
        return True
    if not os.path.isdir(os.path.join(root, ".git")):
        return True  # a worktree or submodule: its info/attributes lives elsewhere
    for config in (os.path.join(os.path.expanduser("~"), ".gitconfig"),
                   os.path.join(root, ".git", "config")):
        try:
            with open(config, "rb") as stream:
                if b"attributesfile" in stream.read().lower():
                    return True
        except OSError:
            continue
    return False


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


class BatchAnswer:
    """One answer of `git cat-file --batch` (a plain class: no typing import at start-up)."""

    __slots__ = ("data", "kind", "object_id", "size")

    def __init__(self, object_id: str, kind: str, data: bytes, size: int) -> None:
        self.object_id = object_id
        self.kind = kind  # "blob", "tree", "commit", "tag"
        self.data = data  # at most the max_bytes asked for
        self.size = size  # the whole object's

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BatchAnswer) and (
            self.object_id, self.kind, self.data, self.size) == (
            other.object_id, other.kind, other.data, other.size)

    __hash__ = None  # type: ignore[assignment]  # equal by value, and mutable

    def __repr__(self) -> str:  # never the content: it may be a key
        return f"BatchAnswer({self.object_id}, {self.kind}, {self.size} bytes)"


def read_batch_answer(stream: IO[bytes], max_bytes: int, *, strict: bool = False
                      ) -> BatchAnswer | None:
    """The next answer of `git cat-file --batch` on `stream`, or None for "<name> missing"
    (or ambiguous). strict: EOFError when git ended before answering in full."""
    line = stream.readline()
    if strict and not line.endswith(b"\n"):
        raise EOFError
    header = line.split()
    if len(header) != 3:
        return None
    size = int(header[2])
    data = stream.read(min(size, max_bytes))
    remaining = size - len(data)
    while remaining > 0:  # skip what is over the cap, in bounded chunks
        skipped = stream.read(min(remaining, 1 << 20))
        if not skipped:
            break
        remaining -= len(skipped)
    if stream.read(1) != b"\n" and strict:  # the newline after each object
        raise EOFError
    return BatchAnswer(header[0].decode("ascii"), header[1].decode("ascii"), data, size)


def read_blobs(root: str, entries: Sequence[IndexEntry], *,
               max_bytes: int) -> Iterator[SourceFile]:
    """Blob contents, streamed through one `git cat-file --batch` process: memory holds
    one blob (at most max_bytes of it) at a time, however large the history."""
    import contextlib
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
    widen_pipe(process.stdout.fileno())  # fewer switches between git and us

    # One write, made in a thread, so that neither pipe can fill up and block: the thread
    # waits on git without the interpreter lock, never taking it back from the judging.
    requests = b"".join(entry.blob.encode() + b"\n" for entry in wanted)

    def send_requests() -> None:
        assert process.stdin is not None
        try:
            process.stdin.write(requests)
            process.stdin.close()
        except (OSError, ValueError):
            pass  # git stopped early (the reader closed its end): nothing more to send

    writer = threading.Thread(target=send_requests, daemon=True)
    writer.start()
    stream = process.stdout
    try:
        for entry in wanted:
            answer = read_batch_answer(stream, max_bytes)
            if answer is None:  # "<blob> missing": not in the object store
                yield SourceFile(entry.path, b"", 0, error="blob missing from the repository")
                continue
            yield SourceFile(entry.path, answer.data, answer.size,
                             is_symlink=entry.mode == "120000", blob=entry.blob)
    finally:
        stream.close()
        process.wait()
        writer.join(timeout=1)
        if not writer.is_alive():
            # Unsent requests would otherwise be flushed, and fail, when collected.
            with contextlib.suppress(OSError, ValueError):
                process.stdin.close()


def widen_pipe(descriptor: int) -> None:
    """Let git write up to 1 MiB ahead of us where the platform allows it (Linux), rather
    than 64 KiB: fewer switches between the two processes, and git runs on while we pause
    (an import)."""
    try:
        import fcntl

        fcntl.fcntl(descriptor, fcntl.F_SETPIPE_SZ, 1 << 20)
    except (ImportError, AttributeError, OSError):
        pass


def read_rest(source: SourceFile, *, root: str, window: int, overlap: int
              ) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) windows of what lies past source.data, each overlapping the one
    before by `overlap` bytes, so that a key cut by a window's edge is whole in the next.
    Memory holds one window, however large the file."""
    import subprocess

    start = max(0, len(source.data) - overlap)
    if source.blob is not None:
        try:
            process = subprocess.Popen(["git", "cat-file", "blob", source.blob], cwd=root,
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except FileNotFoundError:
            return
        assert process.stdout is not None
        stream = process.stdout
        try:
            _skip(stream, start)
            yield from _windows(stream, start, window, overlap)
        finally:
            stream.close()
            status = process.wait()
        if status != 0:  # the rest was not searched: never a silent pass
            raise GitError(f"cannot read blob {source.blob} past its first {start} bytes")
        return
    try:
        with open(source.path, "rb") as reader:
            reader.seek(start)
            yield from _windows(reader, start, window, overlap)
    except OSError:
        return


def _skip(stream: IO[bytes], count: int) -> None:
    while count > 0:
        chunk = stream.read(min(count, 1 << 20))
        if not chunk:
            return
        count -= len(chunk)


def _windows(stream: IO[bytes], start: int, window: int, overlap: int
             ) -> Iterator[tuple[int, bytes]]:
    carried = b""
    offset = start
    while True:
        chunk = stream.read(window - len(carried))
        if not chunk:
            return
        data = carried + chunk
        yield offset, data
        carried = data[-overlap:] if len(data) > overlap else b""
        offset += len(data) - len(carried)


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
