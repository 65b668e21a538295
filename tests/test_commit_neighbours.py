"""Neighbours of history blobs served without a round trip to git (the blobs a commit
introduced, remembered while that commit is judged) are the very bytes git gives for
`COMMIT:PATH`: the shortcut changes where bytes come from, never which bytes."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from certwarden.commit_trees import MAX_TREE_BYTES, CommitTrees, ObjectReader, Prefetch
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


def test_listings_asked_ahead_are_what_git_answers_one_at_a_time(
        history: tuple[Path, str]) -> None:
    repo, base = history
    commits = hookrepo.git(repo, "rev-list", "--reverse", f"{base}..main").stdout.split()
    names = [CommitTrees.tree_name(commit_id, folder) for commit_id in commits
             for folder in ("pki", "", "missing", "pki/")]
    reader = ObjectReader(str(repo))
    prefetch = Prefetch(str(repo), [*((name[:40], name) for name in names), ("", "bad\nname")],
                        max_bytes=MAX_TREE_BYTES)
    try:
        # in order, again, out of order within what was read, then past what was forgotten
        first, second = names[:4], names[4:8]
        for name in [*first, *reversed(first)]:
            assert prefetch.take(name) == (True, reader.read(name, max_bytes=MAX_TREE_BYTES))
        assert prefetch.take(names[1])[1] is not None  # a listing, not "missing"
        assert prefetch.take(names[2]) == (True, None)  # no such folder
        prefetch.forget()
        assert prefetch.take(names[0]) == (False, None)  # forgotten: ask git again
        assert prefetch.take(second[3]) == (True, reader.read(second[3],
                                                               max_bytes=MAX_TREE_BYTES))
        assert prefetch.take(second[0]) == (True, reader.read(second[0],
                                                               max_bytes=MAX_TREE_BYTES))
        assert prefetch.take("bad\nname") == (False, None)
        assert prefetch.take(f"{commits[0]}:README.md") == (False, None)  # never asked
    finally:
        prefetch.close()
        reader.close()
    assert prefetch.take(names[-1]) == (False, None)  # closed: nothing is known


def test_answers_of_other_commits_read_past_are_not_held(history: tuple[Path, str]) -> None:
    repo, base = history
    commits = hookrepo.git(repo, "rev-list", "--reverse", f"{base}..main").stdout.split()
    names = [(commit_id, CommitTrees.tree_name(commit_id, folder)) for commit_id in commits
             for folder in ("pki", "")]
    prefetch = Prefetch(str(repo), names, max_bytes=MAX_TREE_BYTES)
    try:
        assert prefetch.take(names[0][1])[0]
        assert prefetch.take(names[5][1])[0]  # past the rest of commit 0, commit 1, 2:"pki"
        assert set(prefetch._ready) == {names[0][1], names[4][1], names[5][1]}
        assert prefetch.take(names[2][1]) == (False, None)  # read past: asked again
        assert prefetch.take(names[4][1])[0]
    finally:
        prefetch.close()


def test_commit_trees_list_the_same_names_with_and_without_asking_ahead(
        history: tuple[Path, str]) -> None:
    repo, base = history
    commits = hookrepo.git(repo, "rev-list", "--reverse", f"{base}..main").stdout.split()
    reader = ObjectReader(str(repo))
    plain, ahead = CommitTrees(reader, MAX_BYTES), CommitTrees(reader, MAX_BYTES)
    folders = ("pki", "", ".", "pki/", "missing", "README.md")
    ahead.prefetch = Prefetch(str(repo), [(commit_id, CommitTrees.tree_name(commit_id, folder))
                                          for commit_id in commits for folder in folders],
                              max_bytes=MAX_TREE_BYTES)
    listed = 0
    try:
        for commit_id in commits:
            plain.at(commit_id)
            ahead.at(commit_id)
            for folder in folders:
                assert ahead.names_in(folder) == plain.names_in(folder), (commit_id, folder)
                listed += len(plain.names_in(folder))
    finally:
        ahead.prefetch.close()
        reader.close()
    assert listed > 10


@pytest.mark.parametrize("answered", [b"", b"0123 tree 40\n", b"0123 tree 40\n40000 pki\0",
                                      b"0123 tree 4\n4000"])
def test_git_ending_early_leaves_every_listing_to_be_asked_again(
        tmp_path: Path, answered: bytes) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    hookrepo.git(repo, "init", "-q", "-b", "main")
    commit_id = commit(repo, {"pki/a.crt": b"a\n"}, "one")
    prefetch = Prefetch(str(repo), [(commit_id, f"{commit_id}:pki")], max_bytes=MAX_TREE_BYTES)
    process = prefetch._process
    assert process is not None and process.stdout is not None
    process.stdout.close()
    process.stdout = io.BytesIO(answered)  # what git wrote before it ended
    assert prefetch.take(f"{commit_id}:pki") == (False, None)
    prefetch.close()
