"""Neighbours of history blobs served without a round trip to git (the blobs a commit
introduced, remembered while that commit is judged) are the very bytes git gives for
`COMMIT:PATH`: the shortcut changes where bytes come from, never which bytes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from certwarden.commit_trees import CommitTrees, ObjectReader
from certwarden.history import commit_batches
from certwarden.revisions import IntroducedBlob, Walk
from certwarden.sources import SourceFile, read_blobs
from tests import gitserver, hookrepo
from tests.gitserver import commit

MAX_BYTES = 64  # some blobs below are longer: the cap must cut both ways alike


@pytest.fixture
def history(tmp_path: Path) -> tuple[Path, str]:
    repo = tmp_path / "repo"
    repo.mkdir()
    hookrepo.git(repo, "init", "-q", "-b", "main")
    commit(repo, {"README.md": b"start\n"}, "start")
    base = gitserver.head(repo)
    commit(repo, {"pki/sensor1.crt": b"certificate one\n", "pki/sensor1.key": b"key one\n",
                  "pki/long.pem": b"x" * 200, "pki/sp ace é.key": b"odd\n"},
           "a key beside its certificate")
    commit(repo, {"pki/sensor1.key": b"key two\n"}, "the key changes")
    os.symlink("sensor1.key", repo / "pki" / "link.key")
    hookrepo.git(repo, "add", "--", "pki/link.key")
    hookrepo.git(repo, "commit", "-q", "--no-verify", "-m", "a symbolic link")
    hookrepo.git(repo, "checkout", "-q", "-b", "side", "HEAD~1")
    commit(repo, {"pki/sensor1.crt": b"certificate on the side\n"}, "side")
    hookrepo.git(repo, "checkout", "-q", "main")
    hookrepo.git(repo, "merge", "-q", "--no-edit", "-X", "theirs", "side")
    commit(repo, {"pki/sensor1.crt": b"certificate one\n"}, "back to the first content")
    return repo, base


def batches(repo: Path, base: str) -> list[list[tuple[IntroducedBlob, SourceFile]]]:
    blobs = list(Walk(str(repo), [f"{base}..main"]))
    sources = read_blobs(str(repo), [blob.entry() for blob in blobs], max_bytes=MAX_BYTES)
    return list(commit_batches(zip(blobs, sources, strict=True)))


def test_remembered_neighbours_are_the_bytes_git_gives(history: tuple[Path, str]) -> None:
    repo, base = history
    reader, asked = ObjectReader(str(repo)), ObjectReader(str(repo))
    trees = CommitTrees(reader, MAX_BYTES)
    seen = 0
    try:
        for batch in batches(repo, base):
            commit_id = batch[0][0].commit
            trees.at(commit_id)
            for blob, source in batch:
                trees.remember(blob.path, source.data)
            # every path of the commit's tree, remembered or not, and names that are not
            for path in [*(blob.path for blob, _ in batch), "pki/sensor1.crt", "pki/sensor1.key",
                         "pki/./sensor1.key", "pki/missing.key", "pki"]:
                expected = asked.blob(f"{commit_id}:{os.path.normpath(path)}",
                                      max_bytes=MAX_BYTES)
                assert trees.read(path) == expected, (commit_id, path)
                seen += 1
    finally:
        reader.close()
        asked.close()
    assert seen > 20


def test_a_later_commit_never_sees_what_an_earlier_one_introduced(
        history: tuple[Path, str]) -> None:
    repo, base = history
    found = batches(repo, base)
    first, second = found[0], found[1]
    reader = ObjectReader(str(repo))
    trees = CommitTrees(reader, MAX_BYTES)
    try:
        trees.at(first[0][0].commit)
        for blob, source in first:
            trees.remember(blob.path, source.data)
        assert trees.read("pki/sensor1.key") == b"key one\n"
        trees.at(second[0][0].commit)
        assert trees.read("pki/sensor1.key") == b"key two\n"
    finally:
        reader.close()


def test_paths_git_would_not_be_asked_for_as_they_are_are_not_remembered(
        tmp_path: Path) -> None:
    trees = CommitTrees(ObjectReader(str(tmp_path)), MAX_BYTES)
    trees.at("0" * 40)
    for path in ("a\nb.key", "a\rb.key", "a/./b.key", "a//b.key", "./b.key"):
        trees.remember(path, b"remembered")
    assert trees._remembered == {}


def test_commit_batches_hold_one_commit_and_stay_within_the_budget() -> None:
    def pair(commit_id: str, size: int) -> tuple[IntroducedBlob, SourceFile]:
        return (IntroducedBlob(commit_id, f"f{size}", "100644", "b" * 40, ""),
                SourceFile(f"f{size}", b"x" * size, size))

    pairs = [pair("a", 1), pair("a", 2), pair("b", 3), pair("b", 4), pair("b", 50),
             pair("b", 6), pair("c", 70)]
    found = [[source.size for _, source in batch]
             for batch in commit_batches(pairs, budget=10)]
    assert found == [[1, 2], [3, 4], [50], [6], [70]]
