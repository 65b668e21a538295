"""The pre-receive hook on a real git server: a bare repository with hooks/pre-receive,
and real `git push`es from a clone (docs/contract.md, server side)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import gitserver, hookrepo, keycorpus, pki
from tests.gitserver import commit, key_lines, push, ref_of

MATERIAL = gitserver.Material(slot=40, passphrase=b"server-Test-pass1")
plain_key, encrypted_key = MATERIAL.plain_key, MATERIAL.encrypted_key
good_certificate = MATERIAL.good_certificate


def in_yaml(key: bytes) -> bytes:
    return b"tls:\n  key: |\n" + b"".join(b"    " + line + b"\n" for line in key.splitlines())


@pytest.fixture
def server(tmp_path: Path) -> Path:
    return gitserver.make_server(tmp_path / "server.git")


@pytest.fixture
def clone(server: Path, tmp_path: Path) -> Path:
    return gitserver.clone_with_main(server, tmp_path / "clone")


def test_rejected_push_leaves_ref_and_objects_unchanged(server: Path, clone: Path) -> None:
    before = ref_of(server, "main")
    key = plain_key()
    leak = commit(clone, {"deploy/values.yaml": in_yaml(key)}, "add values")
    code, output = push(clone, "HEAD:main")
    assert code != 0
    assert "pre-receive hook declined" in output
    assert ("deploy/values.yaml", "key-unencrypted") in gitserver.rejections(output)
    assert f"commit {leak[:12]} (refs/heads/main)" in output
    assert "fix:" in output and "push rejected" in output
    for line in key_lines(key):
        assert line not in output
    assert ref_of(server, "main") == before
    assert not gitserver.has_object(server, leak)


def test_compliant_push_lands(server: Path, clone: Path) -> None:
    landed = commit(clone, {"pki/sensor1.key": encrypted_key(), "pki/sensor1.crt":
                            good_certificate(), "docs/notes.md": b"nothing secret\n"})
    code, output = push(clone, "HEAD:main")
    assert code == 0, output
    assert "push accepted: 3 new blobs of 1 new commits" in output
    assert ref_of(server, "main") == landed


def test_key_added_then_deleted_within_the_push_is_rejected(server: Path, clone: Path) -> None:
    before = ref_of(server, "main")
    added = commit(clone, {"ops/id_rsa": plain_key()}, "oops")
    commit(clone, {}, "remove it", remove=("ops/id_rsa",))
    commit(clone, {"docs/notes.md": b"later work\n"}, "more")
    code, output = push(clone, "HEAD:main")
    assert code != 0
    assert ("ops/id_rsa", "key-unencrypted") in gitserver.rejections(output)
    assert f"commit {added[:12]}" in output
    assert ref_of(server, "main") == before


def test_pushed_configuration_does_not_weaken_the_check(server: Path, clone: Path) -> None:
    before = ref_of(server, "main")
    commit(clone, {".certwarden.toml": b'exclude = ["deploy/*"]\n[severity]\n'
                                       b'key-unencrypted = "off"\n',
                   "deploy/values.yaml": in_yaml(plain_key())}, "turn it off")
    code, output = push(clone, "HEAD:main")
    assert code != 0
    assert ("deploy/values.yaml", "key-unencrypted") in gitserver.rejections(output)
    assert "the defaults (refs/heads/main at" in output
    assert ref_of(server, "main") == before


def test_policy_on_the_default_branch_applies_once_it_has_landed(
        server: Path, clone: Path) -> None:
    commit(clone, {".certwarden.toml": b'exclude = ["fixtures/*"]\n'}, "policy")
    code, output = push(clone, "HEAD:main")
    assert code == 0, output
    commit(clone, {"fixtures/test.key": plain_key()}, "test fixture")
    code, output = push(clone, "HEAD:feature")
    assert code == 0, output
    assert ".certwarden.toml on refs/heads/main" in output
    commit(clone, {"deploy/values.yaml": in_yaml(plain_key())}, "not a fixture")
    code, output = push(clone, "HEAD:feature")
    assert code != 0
    assert gitserver.rejections(output) == {("deploy/values.yaml", "key-unencrypted")}


def test_a_broken_policy_on_the_default_branch_falls_back_to_the_defaults(
        server: Path, clone: Path) -> None:
    commit(clone, {".certwarden.toml": b'no-such-key = 1\n'}, "typo")
    assert push(clone, "HEAD:main")[0] == 0
    commit(clone, {"a.key": plain_key()}, "key")
    code, output = push(clone, "HEAD:main")
    assert code != 0
    assert "cannot be used" in output and "unknown config key" in output
    assert ("a.key", "key-unencrypted") in gitserver.rejections(output)


def test_the_hook_never_fetches_crls(server: Path, clone: Path) -> None:
    commit(clone, {".certwarden.toml": b"crl-fetch = true\n"}, "fetch CRLs")
    assert push(clone, "HEAD:main")[0] == 0
    commit(clone, {"pki/sensor1.crt": good_certificate()}, "a certificate")
    code, output = push(clone, "HEAD:main")
    assert code == 0, output
    assert "crl-fetch is ignored on the server" in output
    assert "cert-crl-unreachable" not in output


def test_admin_policy_file_wins_over_the_repository(tmp_path: Path, clone: Path,
                                                    server: Path) -> None:
    policy = tmp_path / "admin" / "certwarden.toml"
    policy.parent.mkdir()
    policy.write_text('[severity]\n"cert-expired" = "warning"\n')
    hookrepo.git(server, "config", "certwarden.config", str(policy))
    commit(clone, {".certwarden.toml": b'[severity]\n"cert-expired" = "error"\n'}, "policy")
    assert push(clone, "HEAD:main")[0] == 0
    expired = pki.pem(pki.certificate(pki.Spec(not_before=pki.NOW.replace(year=2020),
                                               not_after=pki.NOW.replace(year=2021))))
    commit(clone, {"pki/old.crt": expired}, "expired")
    code, output = push(clone, "HEAD:main")
    assert code == 0, output
    assert f"{policy} (server)" in output
    assert "warning: commit" in output and "cert-expired [warning]" in output
    policy.write_text("no-such-key = 1\n")
    commit(clone, {"docs/x.md": b"x\n"}, "more")
    code, output = push(clone, "HEAD:main")
    assert code != 0 and "unknown config key" in output


def test_deletions_tags_and_force_pushes(server: Path, clone: Path) -> None:
    commit(clone, {"docs/a.md": b"a\n"}, "a")
    assert push(clone, "HEAD:main", "HEAD:topic")[0] == 0
    code, output = push(clone, ":topic")  # deletion: nothing to judge
    assert code == 0, output
    assert ref_of(server, "refs/heads/topic") is None

    hookrepo.git(clone, "tag", "light")
    hookrepo.git(clone, "tag", "-a", "annotated", "-m", "release")
    code, output = push(clone, "light", "annotated")
    assert code == 0, output
    assert ref_of(server, "refs/tags/annotated") is not None

    # A tag is the only ref to a commit holding a key.
    hookrepo.git(clone, "checkout", "-q", "-b", "side")
    tagged = commit(clone, {"keys/server.pem": plain_key()}, "key on a side line")
    hookrepo.git(clone, "tag", "-a", "v-leak", "-m", "leak")
    hookrepo.git(clone, "tag", "light-leak")
    for tag in ("v-leak", "light-leak"):
        code, output = push(clone, tag)
        assert code != 0, tag
        assert ("keys/server.pem", "key-unencrypted") in gitserver.rejections(output)
        assert f"commit {tagged[:12]} (refs/tags/{tag})" in output
    assert not gitserver.has_object(server, tagged)

    # A force push that rewrites main: only its new commits are judged, and rejected.
    hookrepo.git(clone, "checkout", "-q", "main")
    before = ref_of(server, "main")
    hookrepo.git(clone, "reset", "-q", "--hard", "HEAD~1")
    commit(clone, {"b.key": plain_key()}, "rewritten")
    code, output = push(clone, "--force", "HEAD:main")
    assert code != 0
    assert gitserver.rejections(output) == {("b.key", "key-unencrypted")}
    assert ref_of(server, "main") == before


def test_many_findings_are_counted_beyond_the_ones_described(tmp_path: Path) -> None:
    server = gitserver.make_server(tmp_path / "short.git", "--max-shown", "2")
    repo = gitserver.clone(server, tmp_path / "work")
    commit(repo, {f"keys/k{index}.key": plain_key() for index in range(5)}, "five keys")
    code, output = push(repo, "HEAD:main")
    assert code != 0
    assert "push rejected: 5 blocking findings" in output
    assert len(gitserver.rejections(output)) == 2
    assert "... and 3 more" in output


def test_tags_of_a_blob_or_a_tree_are_judged(server: Path, clone: Path, tmp_path: Path) -> None:
    key = tmp_path / "loose.key"
    key.write_bytes(plain_key(45))
    blob = hookrepo.git(clone, "hash-object", "-w", str(key)).stdout.strip()
    hookrepo.git(clone, "tag", "blob-tag", blob)
    code, output = push(clone, "blob-tag")
    assert code != 0
    assert f"object {blob[:12]} (refs/tags/blob-tag)" in output
    assert ("refs/tags/blob-tag", "key-unencrypted") in gitserver.rejections(output)

    index = {**hookrepo.git_env(), "GIT_INDEX_FILE": str(tmp_path / "index")}
    hookrepo.git(clone, "update-index", "--add", "--cacheinfo", f"100644,{blob},x/leak.pem",
                 env=index)
    tree = hookrepo.git(clone, "write-tree", env=index).stdout.strip()
    hookrepo.git(clone, "tag", "-a", "tree-tag", "-m", "a tree", tree)
    code, output = push(clone, "tree-tag")
    assert code != 0
    assert ("x/leak.pem", "key-unencrypted") in gitserver.rejections(output)
    assert ref_of(server, "refs/tags/tree-tag") is None


def test_many_refs_at_once_are_judged_together(server: Path, clone: Path) -> None:
    hookrepo.git(clone, "checkout", "-q", "-b", "one")
    commit(clone, {"docs/one.md": b"one\n"}, "one")
    hookrepo.git(clone, "checkout", "-q", "-b", "two", "main")
    commit(clone, {"two.key": plain_key()}, "two")
    code, output = push(clone, "one", "two")
    assert code != 0
    assert gitserver.rejections(output) == {("two.key", "key-unencrypted")}
    assert "(refs/heads/two)" in output
    assert ref_of(server, "refs/heads/one") is None  # all or nothing
    assert ref_of(server, "refs/heads/two") is None


def test_uniqueness_over_the_branch_after_the_push(server: Path, clone: Path) -> None:
    commit(clone, {"site-a/sensor1.crt": good_certificate(41)}, "first")
    assert push(clone, "HEAD:main")[0] == 0
    commit(clone, {"site-b/sensor1.crt": good_certificate(42)}, "same CN")
    code, output = push(clone, "HEAD:main")
    assert code != 0
    found = gitserver.rejections(output)
    assert ("site-b/sensor1.crt", "cert-duplicate-cn") in found
    assert ("site-a/sensor1.crt", "cert-duplicate-cn") not in found  # already there


def test_existing_debt_does_not_block_unrelated_pushes(tmp_path: Path) -> None:
    plain = gitserver.make_server(tmp_path / "debt.git")
    hookrepo.git(plain, "config", "core.hooksPath", "/dev/null")  # debt from before the hook
    repo = gitserver.clone(plain, tmp_path / "work")
    commit(repo, {"a/sensor1.crt": good_certificate(43), "b/sensor1.crt": good_certificate(44)})
    assert push(repo, "HEAD:main")[0] == 0
    hookrepo.git(plain, "config", "--unset", "core.hooksPath")
    commit(repo, {"docs/readme.md": b"unrelated\n"})
    code, output = push(repo, "HEAD:main")
    assert code == 0, output


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, keycorpus.Sample]:
    return {f"corpus/{sample.name}": sample
            for sample in keycorpus.build(tmp_path_factory.mktemp("corpus"))}


def test_every_unencrypted_key_of_the_corpus_is_rejected(
        server: Path, clone: Path, corpus: dict[str, keycorpus.Sample]) -> None:
    commit(clone, {name: sample.data for name, sample in corpus.items()}, "corpus")
    code, output = push(clone, "HEAD:main")
    assert code != 0
    flagged = {path for path, rule in gitserver.rejections(output) if rule == "key-unencrypted"}
    expected = {name for name, sample in corpus.items() if sample.label == keycorpus.UNENCRYPTED}
    assert flagged == expected


def test_every_failing_certificate_case_is_rejected(server: Path, clone: Path) -> None:
    from tests.test_certificate_rules import FAILING

    files, expected = {}, set()
    for case, spec, rules in FAILING:
        certificate = pki.certificate(spec)
        for name, data in ((f"pki/{case}.crt", pki.pem(certificate)),
                           (f"pki/der/{case}.der", pki.der(certificate))):
            files[name] = data
            expected |= {(name, rule) for rule in rules}
    commit(clone, files, "bad certificates")
    code, output = push(clone, "HEAD:main")
    assert code != 0
    assert expected <= gitserver.rejections(output)
    pem_in_docs = {"docs/example.md": b"```\n" + pki.pem(pki.certificate(pki.Spec(
        not_before=pki.NOW.replace(year=2020), not_after=pki.NOW.replace(year=2021)))) +
        b"```\n"}
    hookrepo.git(clone, "reset", "-q", "--hard", "HEAD~1")
    commit(clone, pem_in_docs, "an example in the docs")
    code, output = push(clone, "HEAD:main")  # certificates are judged by name, as the hooks do
    assert code == 0, output


def test_bypass_only_when_enabled_and_logged(server: Path, clone: Path, tmp_path: Path) -> None:
    hookrepo.git(server, "config", "receive.advertisePushOptions", "true")
    key = plain_key()
    leak = commit(clone, {"ops/prod.key": key}, "emergency")
    code, output = push(clone, "-o", "certwarden.bypass=incident 42", "HEAD:main")
    assert code != 0
    assert "does not allow bypasses" in output

    log = tmp_path / "audit.log"
    hookrepo.git(server, "config", "certwarden.allowBypass", "true")
    hookrepo.git(server, "config", "certwarden.auditLog", str(log))
    code, output = push(clone, "-o", "certwarden.bypass", "HEAD:main")
    assert code != 0 and "needs a reason" in output
    assert not log.exists()

    code, output = push(clone, "-o", "certwarden.bypass=incident 42", "HEAD:main")
    assert code == 0, output
    assert "BYPASS by" in output and "incident 42" in output
    assert ref_of(server, "main") == leak
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(entries) == 1
    entry = entries[0]
    assert entry["event"] == "bypass" and entry["reason"] == "incident 42"
    assert entry["blocking"][0]["rule"] == "key-unencrypted"
    assert entry["blocking"][0]["path"] == f"{leak[:12]}:ops/prod.key"
    assert entry["refs"][0]["new"] == leak
    for line in key_lines(key):
        assert line not in output + log.read_text()


def test_a_push_too_large_for_the_time_budget_fails_closed(server: Path, clone: Path,
                                                           tmp_path: Path) -> None:
    hookrepo.git(server, "config", "certwarden.timeBudget", "0")
    commit(clone, {"docs/a.md": b"fine\n"})
    before = ref_of(server, "main")
    code, output = push(clone, "HEAD:main")
    assert code != 0
    assert "too large to judge within 0 s" in output and "push rejected" in output
    assert ref_of(server, "main") == before

    log = tmp_path / "audit.log"
    hookrepo.git(server, "config", "certwarden.onTimeout", "accept")
    hookrepo.git(server, "config", "certwarden.auditLog", str(log))
    code, output = push(clone, "HEAD:main")
    assert code == 0, output
    assert "accepted without a full judgement" in output
    assert json.loads(log.read_text())["event"] == "timeout-accepted"


def test_malformed_stdin_is_rejected(server: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "certwarden", "pre-receive"], cwd=server,
                            input=b"not a ref update\n", capture_output=True,
                            env=hookrepo.git_env())
    assert result.returncode == 2
    assert b"is not `<old> <new> <ref>`" in result.stderr
    empty = subprocess.run([sys.executable, "-m", "certwarden", "pre-receive"], cwd=server,
                           input=b"", capture_output=True, env=hookrepo.git_env())
    assert empty.returncode == 0 and empty.stderr == b""


def test_a_sha256_server(tmp_path: Path) -> None:
    server = tmp_path / "sha256.git"
    made = hookrepo.git(tmp_path, "init", "-q", "--bare", "--object-format=sha256", "-b", "main",
                        str(server), check=False)
    if made.returncode:
        pytest.skip("this git cannot make SHA-256 repositories")
    hook = gitserver.make_server(tmp_path / "plain.git") / "hooks" / "pre-receive"
    (server / "hooks" / "pre-receive").write_bytes(hook.read_bytes())
    (server / "hooks" / "pre-receive").chmod(0o755)
    repo = tmp_path / "work"  # a clone of an empty repository would be SHA-1
    repo.mkdir()
    hookrepo.git(repo, "init", "-q", "--object-format=sha256", "-b", "main")
    hookrepo.git(repo, "remote", "add", "origin", str(server))
    start = commit(repo, {"README.md": b"x\n"}, "start")
    assert len(start) == 64
    assert push(repo, "HEAD:main")[0] == 0
    leak = commit(repo, {"leak.key": plain_key()}, "leak")
    code, output = push(repo, "HEAD:main")
    assert code != 0
    assert gitserver.rejections(output) == {("leak.key", "key-unencrypted")}
    assert f"commit {leak[:12]}" in output
    assert ref_of(server, "main") == start
