"""Commits and the blobs they introduce: what a push, a commit range or a pre-push adds to
history, found with one `git log` walk (docs/architecture.md).

A blob is introduced by a commit when the commit's tree holds it at a path where no parent
held it: every added or changed file, including one a later commit of the same push
deletes again (the blob is published all the same). Merges count only what differs from
every parent (an "evil merge"); what a merge brings from its other side was introduced by
the commits of that side.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence

from certwarden.sources import GitError, IndexEntry, git, widen_pipe

TYPE_CHECKING = False  # typing costs start-up time; mypy reads this block all the same
if TYPE_CHECKING:
    from typing import IO

GITLINK, DELETED = "160000", "000000"


ZERO_IDS = frozenset({"0" * 40, "0" * 64})


@contextlib.contextmanager
def published_objects(git_dir: str | None = None) -> Iterator[None]:
    """Every git process started inside sees the objects as they are stored and sent:
    refs/replace/* (pushed to a server, or fetched in CI) would otherwise show git an
    innocent commit or blob wherever the real one is asked for. git_dir: the repository
    for every git process, whatever its working folder (a hook gets a relative GIT_DIR)."""
    wanted = {"GIT_NO_REPLACE_OBJECTS": "1"}
    if git_dir is not None:
        wanted["GIT_DIR"] = os.path.abspath(git_dir)
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def is_zero(object_id: str) -> bool:
    """git's "no object" id (40 or 64 zeros): a ref created or deleted."""
    return object_id in ZERO_IDS


def is_object_id(text: str) -> bool:
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text)


class IntroducedBlob:
    """One blob at one path, with the (oldest) commit of the walk that introduced it."""

    __slots__ = ("blob", "commit", "mode", "path", "source")

    def __init__(self, commit: str, path: str, mode: str, blob: str, source: str) -> None:
        self.commit = commit
        self.path = path
        self.mode = mode
        self.blob = blob
        self.source = source  # the revision given to git log that reached the commit

    def entry(self) -> IndexEntry:
        return IndexEntry(self.path, self.mode, self.blob)


def check_revision(name: str) -> str:
    """A revision a user named (--range, --since, a pre-commit ref): never an option."""
    if not name or name.startswith("-") or any(c in name for c in "\0\n"):
        raise GitError(f"not a revision: {name!r}")
    return name


def introduced_blobs(root: str, revisions: Sequence[str]) -> tuple[list[IntroducedBlob],
                                                                    list[str]]:
    """(every blob introduced by the commits `git log REVISIONS` walks, once per blob and
    path, oldest first; every commit walked, oldest first). See Walk."""
    walk = Walk(root, revisions)
    return list(walk), walk.commits


class Walk:
    """The blobs introduced by the commits `git log REVISIONS` walks, once per blob and
    path, oldest first, yielded as git finds them: the caller can start on the first ones
    (or prepare for them) while git is still walking. `commits` lists every commit walked,
    oldest first, once the iteration has ended.

    REVISIONS are git log's: ["A..B"], or [new1, new2, "--not", "--all"] for a push. The
    revisions before the first option are given on stdin: a push of tens of thousands of
    refs does not fit on a command line.
    """

    def __init__(self, root: str, revisions: Sequence[str]) -> None:
        self.root = root
        self.revisions = revisions
        self.commits: list[str] = []

    def __iter__(self) -> Iterator[IntroducedBlob]:
        import subprocess
        import tempfile

        count = next((i for i, name in enumerate(self.revisions) if name.startswith("-")),
                     len(self.revisions))
        with tempfile.TemporaryFile() as errors:  # a file: git never waits for us to read it
            try:
                process = subprocess.Popen(
                    ["git", "log", "--reverse", "--raw", "-z", "--no-abbrev", "--no-renames",
                     "--no-ext-diff", "--no-color", "--no-notes", "--no-show-signature",
                     "--no-textconv", "-c", "--root", "--source", "--format=%x01%H %S",
                     "--stdin", *self.revisions[count:], "--"],
                    cwd=self.root, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=errors)
            except FileNotFoundError:
                raise GitError("git is not installed") from None
            assert process.stdin is not None and process.stdout is not None
            widen_pipe(process.stdout.fileno())
            # git reads every revision before it writes anything: no deadlock. A broken
            # pipe means git stopped early, and its error says why.
            with contextlib.suppress(BrokenPipeError):
                process.stdin.write("".join(f"{name}\n" for name in self.revisions[:count])
                                    .encode())
            with contextlib.suppress(BrokenPipeError):
                process.stdin.close()
            try:
                yield from parse_log(_fields(process.stdout), self.commits)
            finally:
                process.stdout.close()
                status = process.wait()
            if status != 0:
                errors.seek(0)
                message = errors.read().decode("utf-8", "replace").strip().splitlines()
                raise GitError(message[-1] if message else "git log failed")


def _fields(stream: IO[bytes]) -> Iterator[bytes]:
    """The NUL-separated fields of a stream, each as soon as it is whole."""
    rest = b""
    while chunk := stream.read1(1 << 16):  # type: ignore[attr-defined]
        *fields, rest = (rest + chunk).split(b"\0")
        yield from fields
    if rest:
        yield rest


def parse_log(fields: Iterable[bytes], commits: list[str]) -> Iterator[IntroducedBlob]:
    """Read the fields of `git log --raw -z -c --format=%x01%H %S` output (see Walk):
    yield each blob and path not seen before, append each commit to commits."""
    seen: set[tuple[str, str]] = set()
    commit = source = ""
    changed: bytes | None = None  # a ":<modes> <ids> <status>" field, its path to come
    for field in fields:
        if changed is not None:
            found = _introduced(changed, field, commit, source)
            changed = None
            if found is not None and (found.blob, found.path) not in seen:
                seen.add((found.blob, found.path))
                yield found
            continue
        field = field.lstrip(b"\n")
        if field.startswith(b"\x01"):  # a commit header: "\x01<id> <source>"
            commit, _, source = field[1:].decode("utf-8", "replace").strip().partition(" ")
            commits.append(commit)
        elif field.startswith(b":"):
            changed = field


def _introduced(field: bytes, raw_path: bytes, commit: str, source: str
                ) -> IntroducedBlob | None:
    # ":" once per parent, then one mode per parent and the result's, the same for
    # object ids, then the status letters; the result comes last in each list.
    parents = len(field) - len(field.lstrip(b":"))
    parts = field[parents:].decode("ascii", "replace").split()
    if len(parts) < 2 * parents + 2:
        return None
    mode, blob = parts[parents], parts[2 * parents + 1]
    if mode in (GITLINK, DELETED) or is_zero(blob):
        return None
    return IntroducedBlob(commit, os.fsdecode(raw_path), mode, blob, source)


def object_types(root: str, names: Sequence[str], *, peel: bool = True) -> dict[str, str]:
    """name -> object type ("commit", "tag", "tree", "blob"), after peeling tags unless
    peel is False, for each name git knows; one `git cat-file --batch-check` for all."""
    if not names:
        return {}
    suffix = "^{}" if peel else ""
    output = git(root, "cat-file", "--batch-check=%(objecttype)",
                 stdin=b"".join(f"{name}{suffix}\n".encode() for name in names))
    types = {}
    for name, line in zip(names, output.decode("ascii", "replace").splitlines(), strict=False):
        if not line.endswith(" missing") and " " not in line:
            types[name] = line
    return types


def tree_entries(root: str, treeish: str) -> list[IndexEntry]:
    """Every file of a commit's (or tree's) tree, as `git ls-tree -r` lists it."""
    output = git(root, "ls-tree", "-r", "-z", "--full-tree", check_revision(treeish))
    entries = []
    for record in output.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        parts = meta.decode("ascii", "replace").split()
        if len(parts) == 3 and parts[1] == "blob":
            entries.append(IndexEntry(os.fsdecode(raw_path), parts[0], parts[2]))
    return entries


def resolve_commits(root: str, names: Sequence[str]) -> list[str]:
    """The commit id each name (a ref, an id, HEAD) points to, in order."""
    if not names:
        return []
    output = git(root, "rev-parse", *(f"{check_revision(name)}^{{commit}}" for name in names))
    return output.decode("ascii", "replace").split()


def range_walk(text: str) -> tuple[list[str], list[str]]:
    """(git log revisions, tip) for `--range A..B` (or A...B): the commits of B not in A."""
    check_revision(text)
    if ".." not in text:
        raise GitError(f"--range {text!r}: expected A..B (the commits of B that A lacks)")
    base, _, tip = text.partition("..")
    if not base:
        # git reads an empty side as HEAD: `--range "$BASE..$HEAD"` with BASE unset in CI
        # would be HEAD..HEAD, judge nothing and pass.
        raise GitError(f"--range {text!r}: the base (before ..) is empty: name a commit "
                       "(is a CI variable unset?)")
    return [text], [tip.lstrip(".") or "HEAD"]


def pushed_walk(environ: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(git log revisions, tip) for a pre-push run under pre-commit: the commits being pushed
    that the remote does not have yet.

    pre-commit sets PRE_COMMIT_FROM_REF/TO_REF for a branch the remote has (FROM is the
    remote's commit) and for a new branch that shares history with the remote; for a new
    branch with its own root commit it sets neither, and the local branch names the tip.
    Commits on the remote's tracking refs are left out either way. Without pre-commit
    (a manual run), everything on HEAD that no remote has.
    """
    to_ref = environ.get("PRE_COMMIT_TO_REF") or environ.get("PRE_COMMIT_LOCAL_BRANCH") or "HEAD"
    excluded = []
    from_ref = environ.get("PRE_COMMIT_FROM_REF")
    if from_ref and not is_zero(from_ref):
        excluded.append(check_revision(from_ref))
    remote = environ.get("PRE_COMMIT_REMOTE_NAME")
    if remote is None:  # not under pre-commit: whatever any remote has is not new
        excluded.append("--remotes")
    elif not remote.startswith("-") and all(c.isalnum() or c in "._-" for c in remote):
        excluded.append(f"--remotes={remote}")
    # else a push to a URL: no tracking refs say what that server has
    return [check_revision(to_ref), "--not", *excluded], [to_ref]
