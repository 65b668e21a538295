"""Judge what commits add to history: every blob they introduce, with the policy's file
groups, and the tree each updated branch ends at, with the repository-wide rules.
`scan --range`, `scan --since`, the check-push hook and the pre-receive hook share it.

Files are selected as the hooks select them (.pre-commit-hooks.yaml): the certificate
rules see certificate-named files, the key rules every blob. A blob is judged with the
neighbours its commit had (the certificate beside a key, as that commit held it) and
under its own path, so excludes, passphrase globs and the chain file apply as they do to
staged files; findings are then named `COMMIT:PATH` (docs/architecture.md).
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import time
from collections.abc import Iterable, Iterator, Sequence

from certwarden.commit_trees import (
    MAX_REMEMBERED_BYTES,
    MAX_TREE_BYTES,
    CommitTrees,
    ObjectReader,
    Prefetch,
)
from certwarden.config import Config
from certwarden.context import RuleContext
from certwarden.findings import Finding, Report
from certwarden.groups import FILE, REPOSITORY, Group
from certwarden.pipeline import check_one, is_excluded
from certwarden.recognition import sniff
from certwarden.revisions import IntroducedBlob
from certwarden.sources import SourceFile, read_blobs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime


class OutOfTime(BaseException):
    """The time budget ran out. A BaseException, so that no `except Exception` around a
    file's check mistakes it for that file's failure."""


class Progress:
    """How far a judgement got: readable after it was interrupted."""

    __slots__ = ("blobs_judged", "blobs_total", "commits", "files_checked", "findings")

    def __init__(self) -> None:
        self.findings: list[Finding] = []  # before policy; kept when time runs out
        self.blobs_total = 0
        self.blobs_judged = 0
        self.files_checked = 0  # blobs not excluded by the policy
        self.commits: set[str] = set()

    def merge(self, other: Progress) -> None:
        self.findings.extend(other.findings)
        self.blobs_judged += other.blobs_judged
        self.files_checked += other.files_checked
        self.commits |= other.commits


def label(commit: str, path: str, abbrev: int) -> str:
    """`COMMIT:PATH`, the name of a blob of history in every report format (abbrev 0: the
    full commit id, 40 hex digits, or 64 in SHA-256 repositories)."""
    return f"{commit[:abbrev] if abbrev else commit}:{path}"


def relabel(finding: Finding, name: str) -> Finding:
    return Finding(path=name, line=finding.line, rule=finding.rule, severity=finding.severity,
                   message=finding.message, hint=finding.hint,
                   fingerprint=finding.fingerprint)


def selected(group: Group, source: SourceFile) -> bool:
    """As the manifest selects files: check-certificates is given certificate names."""
    return group.name != "certificates" or sniff.is_certificate_name(source.path)


def published_text(source: SourceFile) -> SourceFile:
    """A symlink's blob as the file it is in history: its target text, which every clone
    receives (`ln -s "$(cat id_rsa)" x` makes that a key). In a working tree the groups
    skip links, whose targets are judged as files of their own; a blob has no such target.
    Only a link whose text may hold a key is judged as content: an ordinary target such
    as `/run/secrets/sensor1.pass` is no passphrase, and the certificate rules keep
    skipping links (they judge certificate files by name)."""
    if not source.is_symlink:
        return source
    from certwarden.recognition.key_sniff import may_hold_private_key

    if not may_hold_private_key(source.data):
        return source
    return SourceFile(source.path, source.data, source.size, error=source.error,
                      blob=source.blob)


def load_certificate_support() -> None:
    """Import what judging a certificate takes (cryptography: ~0.08 s)."""
    import certwarden.recognition.certificates
    import certwarden.recognition.keys  # noqa: F401


def collect(walk: Iterable[IntroducedBlob], groups: Sequence[Group]) -> list[IntroducedBlob]:
    """The blobs of a walk; the certificate support is imported as soon as the walk shows
    a certificate name, while git goes on walking, if a group will judge it."""
    blobs: list[IntroducedBlob] = []
    waiting = any(group.name == "certificates" for group in groups)
    for blob in walk:
        blobs.append(blob)
        if waiting and sniff.is_certificate_name(blob.path):
            load_certificate_support()
            waiting = False
    return blobs


def history_context(config: Config, now: datetime, reader: ObjectReader) -> RuleContext:
    return RuleContext(config, now, CommitTrees(reader, config.max_file_bytes))


def judge_blobs(root: str, blobs: Sequence[IntroducedBlob], *, groups: Sequence[Group],
                context: RuleContext, abbrev: int, progress: Progress,
                deadline: float | None = None) -> list[Finding]:
    """The file groups over each introduced blob, before policy (severity, allowlist),
    added to progress.findings. Raises OutOfTime once time.monotonic() passes the
    deadline. Many blobs are shared with one forked worker per extra core, each with its
    own git processes; each blob's verdict depends only on its commit's tree."""
    from certwarden.parallel import map_chunks, worker_count

    progress.blobs_total = len(blobs)
    if not blobs or not any(group.scope == FILE for group in groups):
        return progress.findings
    parent = os.getpid()
    if worker_count(len(blobs)) > 1 and any(sniff.is_certificate_name(b.path) for b in blobs):
        load_certificate_support()  # once before the fork, not once in each worker

    def work(chunk: Sequence[IntroducedBlob]) -> Progress:
        if os.getpid() == parent:  # straight into progress: kept if time runs out
            _judge_chunk(root, chunk, groups, context, abbrev, progress, deadline)
            return Progress()
        part = Progress()
        inherited = context.neighbours
        if isinstance(inherited, CommitTrees):
            inherited.reader.forget()
        reader = ObjectReader(root)  # a forked worker never shares the parent's pipes
        try:
            _judge_chunk(root, chunk, groups,
                         history_context(context.config, context.now, reader), abbrev, part,
                         deadline)
        finally:
            reader.close()
        return part

    for part in map_chunks(work, blobs, contiguous=True):
        progress.merge(part)
    return progress.findings


def commit_batches(pairs: Iterable[tuple[IntroducedBlob, SourceFile]], *,
                   budget: int = MAX_REMEMBERED_BYTES
                   ) -> Iterator[list[tuple[IntroducedBlob, SourceFile]]]:
    """The (blob, source) pairs in runs of one commit each, a run read ahead before its
    first blob is judged, so that the blobs of a commit can be each other's neighbours
    without a second read. A run holds at most `budget` bytes of content (or one blob):
    memory stays bounded however large the commit."""
    batch: list[tuple[IntroducedBlob, SourceFile]] = []
    held = 0
    for blob, source in pairs:
        if batch and (blob.commit != batch[0][0].commit or held + len(source.data) > budget):
            yield batch
            batch, held = [], 0
        batch.append((blob, source))
        held += len(source.data)
    if batch:
        yield batch


def neighbour_listings(blobs: Iterable[IntroducedBlob]) -> Iterator[tuple[str, str]]:
    """(commit, folder listing) judging these blobs will most likely ask for, in order: the
    folder of each certificate-named file (its key is looked for beside it) and of each
    *.key file (its certificate). Only a guess, made to save round trips: a listing not
    guessed is asked for when needed, and each is the same object either way."""
    for blob in blobs:
        if sniff.is_certificate_name(blob.path) or blob.path.lower().endswith(".key"):
            yield blob.commit, CommitTrees.tree_name(blob.commit, posixpath.dirname(blob.path))


def _judge_chunk(root: str, blobs: Sequence[IntroducedBlob], groups: Sequence[Group],
                 context: RuleContext, abbrev: int, progress: Progress,
                 deadline: float | None) -> None:
    file_groups = [group for group in groups if group.scope == FILE]
    neighbours = context.neighbours
    assert isinstance(neighbours, CommitTrees)
    with contextlib.ExitStack() as stack:
        for group in file_groups:
            stack.enter_context(group.session(context))
        sources = read_blobs(root, [blob.entry() for blob in blobs],
                             max_bytes=context.config.max_file_bytes)
        stack.callback(getattr(sources, "close", lambda: None))  # stops git on timeout
        neighbours.prefetch = stack.enter_context(contextlib.closing(Prefetch(
            root, neighbour_listings(blobs), max_bytes=MAX_TREE_BYTES)))
        stack.callback(setattr, neighbours, "prefetch", None)
        for batch in commit_batches(zip(blobs, sources, strict=True)):
            commit = batch[0][0].commit
            if commit != neighbours.commit:
                # Paths repeat across commits with other content: parse results and
                # listings are only valid within one commit's tree.
                neighbours.at(commit)
                progress.commits.add(commit)
                context.key_scans.clear()
                context.certificate_keys.clear()
            for blob, source in batch:  # a key beside its certificate: read once, not twice
                if source.error is None:
                    neighbours.remember(blob.path, source.data)
            for blob, source in batch:
                if deadline is not None and time.monotonic() > deadline:
                    raise OutOfTime
                _judge_one(blob, source, file_groups, context, abbrev, progress)


def _judge_one(blob: IntroducedBlob, source: SourceFile, file_groups: Sequence[Group],
               context: RuleContext, abbrev: int, progress: Progress) -> None:
    config = context.config
    progress.blobs_judged += 1
    if config.exclude and is_excluded(source.path, config):
        return
    progress.files_checked += 1
    content = published_text(source)
    for group in file_groups:
        judged = source if group.name == "certificates" else content
        if selected(group, judged) and group.wants(judged, context):
            found = check_one(group, judged, context)
            if found:
                name = label(blob.commit, blob.path, abbrev)
                progress.findings.extend(relabel(finding, name) for finding in found)


COMMIT_TEXT, TAG_TEXT = "(commit message)", "(tag message)"
MAX_TAG_CHAIN = 64  # tags of tags followed from one pushed ref


def object_texts(commits: Sequence[str], tags: Sequence[str] = ()) -> list[IntroducedBlob]:
    """Each new commit and tag object as a text to judge: its message, with its headers
    (author, signature). They are published with the history as surely as its blobs."""
    return [*(IntroducedBlob(commit, COMMIT_TEXT, "100644", commit, commit)
              for commit in commits),
            *(IntroducedBlob(tag, TAG_TEXT, "100644", tag, tag) for tag in tags)]


def tag_chain(reader: ObjectReader, name: str) -> list[str]:
    """The tag objects from `name` down to what they tag (a tag of a tag of a commit gives
    both tags); [] when name is not a tag."""
    found: list[str] = []
    while len(found) < MAX_TAG_CHAIN:
        read = reader.read(name, max_bytes=1 << 16)
        if read is None or read.kind != "tag":
            break
        found.append(read.object_id)
        header = read.data.split(b"\n", 1)[0]  # "object <id>"
        if not header.startswith(b"object "):
            break
        name = header[len(b"object "):].decode("ascii", "replace")
    return found


def judge_object_texts(root: str, texts: Sequence[IntroducedBlob], *, groups: Sequence[Group],
                       context: RuleContext, abbrev: int, progress: Progress,
                       deadline: float | None = None) -> None:
    """The key rules over commit and tag objects (object_texts), added to
    progress.findings. Only the key rules: a message is no certificate file, and
    detect-secrets would take a signature for a high-entropy secret."""
    keys = [group for group in groups if group.name == "keys" and group.scope == FILE]
    if not texts or not keys:
        return
    neighbours = context.neighbours
    assert isinstance(neighbours, CommitTrees)
    with contextlib.ExitStack() as stack:
        for group in keys:
            stack.enter_context(group.session(context))
        sources = read_blobs(root, [text.entry() for text in texts],
                             max_bytes=context.config.max_file_bytes)
        stack.callback(getattr(sources, "close", lambda: None))
        for text, source in zip(texts, sources, strict=True):
            if deadline is not None and time.monotonic() > deadline:
                raise OutOfTime
            for group in keys:
                if group.wants(source, context):
                    neighbours.at(text.commit)
                    context.key_scans.clear()
                    context.certificate_keys.clear()
                    name = label(text.commit, text.path, abbrev)
                    progress.findings.extend(relabel(finding, name) for finding in
                                             check_one(group, source, context))


def judge_trees(root: str, tips: Sequence[str], introduced: Sequence[IntroducedBlob], *,
                groups: Sequence[Group], config: Config, abbrev: int) -> list[Finding]:
    """The repository-wide rules over each tip's whole tree, reported only where they
    concern a file the commits introduced: debt already on the branch does not block."""
    if not tips or not any(group.scope == REPOSITORY for group in groups) or not any(
            sniff.is_certificate_name(blob.path) for blob in introduced):
        return []
    from certwarden.index_certificates import load_tree_certificates
    from certwarden.rules.repository_rules import evaluate

    new = {(blob.path, blob.blob) for blob in introduced}
    findings: list[Finding] = []
    for tip in dict.fromkeys(tips):
        records, blob_of = load_tree_certificates(root, tip, max_bytes=config.max_file_bytes,
                                                  chain=config.chain)
        if not any((path, blob) in new for path, blob in blob_of.items()):
            continue
        for record, issue in evaluate(records):
            if (record.path, blob_of.get(record.path)) in new:
                findings.append(issue.at(label(tip, record.path, abbrev), record.line,
                                         record.fingerprint))
    return findings


def secrets_configured(config: Config) -> bool:
    """Generic secrets are judged in history when the repository uses detect-secrets: a
    secrets baseline, or secrets settings in the policy."""
    baseline = config.secrets_baseline or ".secrets.baseline"  # detect-secrets' default
    return bool(config.secrets_baseline or config.secrets_exclude) or os.path.isfile(
        os.path.join(config.root, baseline))


def default_group_names(config: Config) -> list[str]:
    """The groups the hooks run: certificates, keys, uniqueness; secrets when configured."""
    names = ["certificates", "keys", "unique"]
    if secrets_configured(config):
        names.insert(2, "secrets")
    return names


def scan(root: str, walk: Sequence[str], tips: Sequence[str], *, groups: Sequence[Group],
         config: Config, now: datetime, abbrev: int = 0) -> Report:
    """Every blob the commits of `git log WALK` introduce, and the tips' trees; after policy."""
    from certwarden.pipeline import apply_policy
    from certwarden.revisions import Walk, resolve_commits

    reader = ObjectReader(root)
    progress = Progress()
    try:
        log = Walk(root, walk)
        blobs = collect(log, groups)
        commits = log.commits
        context = history_context(config, now, reader)
        findings = judge_blobs(root, blobs, groups=groups, context=context, abbrev=abbrev,
                               progress=progress)
        judge_object_texts(root, object_texts(commits), groups=groups, context=context,
                           abbrev=abbrev, progress=progress)
        findings.extend(judge_trees(root, resolve_commits(root, tips), blobs, groups=groups,
                                config=config, abbrev=abbrev))
    finally:
        reader.close()
    report = Report()
    report.files_checked = progress.files_checked
    report.findings = apply_policy(findings, config, report)
    return report
