"""Attacks on the server side: pushes built to land an unencrypted key or a non-compliant
certificate past `certwarden pre-receive` (a real bare repository, real `git push`),
`scan --range` or check-push, or to make them fail, hang or leak (docs/contract.md,
server side). Keys are generated at test time; dates are explicit."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from certwarden.cli import main
from tests import gitserver, hookrepo, pki
from tests.gitserver import LATER, commit, key_lines, push, ref_of

MATERIAL = gitserver.Material(slot=60, passphrase=b"attack-Test-pass1")
plain_key, good_certificate = MATERIAL.plain_key, MATERIAL.good_certificate


def git(repo: Path, *args: str, stdin: str | None = None) -> str:
    import subprocess

    return subprocess.run(["git", *args], cwd=repo, input=stdin, capture_output=True,
                          text=True, check=True, env=hookrepo.git_env()).stdout.strip()


@pytest.fixture
def server(tmp_path: Path) -> Path:
    return gitserver.make_server(tmp_path / "server.git")


@pytest.fixture
def clone(server: Path, tmp_path: Path) -> Path:
    return gitserver.clone_with_main(server, tmp_path / "clone")


def assert_rejected(server: Path, output: str, code: int, expected: set[tuple[str, str]],
                    before: str | None) -> None:
    assert code != 0, output
    assert expected <= gitserver.rejections(output), output
    assert ref_of(server, "main") == before


# -- replace objects: git's view of an object can be swapped for another --------------------

def test_a_replace_ref_does_not_hide_a_pushed_commit(server: Path, clone: Path) -> None:
    """refs/replace/<leak> -> an innocent commit, pushed first: git log and cat-file would
    show the innocent commit wherever the leaking one is asked for."""
    hookrepo.git(clone, "checkout", "-q", "-b", "innocent")
    innocent = commit(clone, {"docs/a.md": b"fine\n"}, "innocent")
    hookrepo.git(clone, "checkout", "-q", "main")
    leak = commit(clone, {"leak.key": plain_key()}, "leak")
    replace = f"refs/replace/{leak}"
    hookrepo.git(clone, "update-ref", replace, innocent)
    code, output = push(clone, f"{replace}:{replace}")
    assert code == 0, output  # the replace ref itself holds nothing
    before = ref_of(server, "main")
    code, output = push(clone, "--no-verify", f"{leak}:refs/heads/main")
    assert_rejected(server, output, code, {("leak.key", "key-unencrypted")}, before)
    assert f"commit {leak[:12]}" in output


def test_a_replace_ref_does_not_hide_a_pushed_blob(server: Path, clone: Path,
                                                   tmp_path: Path) -> None:
    key = tmp_path / "k"
    key.write_bytes(plain_key())
    blob = hookrepo.git(clone, "hash-object", "-w", str(key)).stdout.strip()
    innocent = hookrepo.git(clone, "hash-object", "-w", "--stdin", check=False).stdout.strip()
    replace = f"refs/replace/{blob}"
    hookrepo.git(clone, "update-ref", replace, innocent)
    code, output = push(clone, f"{replace}:{replace}")
    assert code == 0, output
    before = ref_of(server, "main")
    commit(clone, {"deploy/prod.key": key.read_bytes()}, "leak")
    code, output = push(clone, "HEAD:main")
    assert_rejected(server, output, code, {("deploy/prod.key", "key-unencrypted")}, before)


def test_scan_range_ignores_replace_refs(clone: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """In CI, a fetched refs/replace/* must not swap a pull request's commits either."""
    base = gitserver.head(clone)
    leak = commit(clone, {"leak.key": plain_key()}, "leak")
    hookrepo.git(clone, "update-ref", f"refs/replace/{leak}", base)
    monkeypatch.chdir(clone)
    capsys.readouterr()
    code = main(["scan", "--now", pki.NOW_ISO, "--range", f"{base}..{leak}", "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    assert {(f["path"], f["rule"]) for f in document["findings"]} == {
        (f"{leak}:leak.key", "key-unencrypted")}


# -- what a blob holds is published, whatever its mode or size ------------------------------

def test_a_symlink_whose_target_text_is_a_key_is_rejected(server: Path, clone: Path) -> None:
    """A symlink's blob is its target text, and `ln -s "$(cat id_rsa)" x` makes that a key:
    every clone receives it."""
    before = ref_of(server, "main")
    key = plain_key()
    os.symlink(key.decode(), clone / "link")
    hookrepo.git(clone, "add", "link")
    commit(clone, {}, "a link")
    code, output = push(clone, "HEAD:main")
    assert_rejected(server, output, code, {("link", "key-unencrypted")}, before)
    for line in key_lines(key):
        assert line not in output


def test_ordinary_symlinks_to_certificates_and_keys_land(server: Path, clone: Path) -> None:
    encrypted = MATERIAL.encrypted_key(61)
    gitserver.write(clone, {"pki/sensor1.crt": good_certificate(61), "pki/sensor1.key": encrypted})
    os.symlink("sensor1.crt", clone / "pki" / "current.crt")
    os.symlink("sensor1.key", clone / "pki" / "current.key")
    os.symlink("/run/secrets/sensor1.pass", clone / "pki" / "sensor1.pass")  # not the secret
    hookrepo.git(clone, "add", "pki")
    landed = commit(clone, {}, "links to the current pair")
    code, output = push(clone, "HEAD:main")
    assert code == 0, output
    assert ref_of(server, "main") == landed


def test_a_key_past_max_file_bytes_is_found_on_the_server(server: Path, clone: Path) -> None:
    """The rest of a large blob is read from the repository, not from the folder the
    policy's files were copied to."""
    commit(clone, {".certwarden.toml": b"max-file-bytes = 1024\n"}, "small files")
    assert push(clone, "HEAD:main")[0] == 0
    before = ref_of(server, "main")
    filler = b"".join(b"line %04d of harmless text\n" % index for index in range(200))
    commit(clone, {"data/big.txt": filler + plain_key()}, "a key after 5 KB")
    code, output = push(clone, "HEAD:main")
    assert_rejected(server, output, code, {("data/big.txt", "key-unencrypted")}, before)


def test_the_rest_of_a_blob_that_cannot_be_read_is_an_error(tmp_path: Path) -> None:
    """Past max-file-bytes, the rest is read with git; when git cannot, the file is not
    passed as searched."""
    from certwarden.sources import GitError, SourceFile, read_rest

    source = SourceFile("big.txt", b"x" * 1024, 4096, blob="0" * 40)
    with pytest.raises(GitError):
        list(read_rest(source, root=str(tmp_path), window=1024, overlap=64))


# -- the policy on the default branch: never a way to close or open the server -------------

def test_a_pyproject_whose_tool_is_not_a_table_falls_back_to_the_defaults(
        server: Path, clone: Path) -> None:
    commit(clone, {"pyproject.toml": b'tool = 1  # certwarden\n'}, "odd pyproject")
    assert push(clone, "HEAD:main")[0] == 0
    commit(clone, {"a.key": plain_key()}, "a key")
    code, output = push(clone, "HEAD:main")
    assert code == 1, output
    assert "cannot be used" in output and "internal error" not in output
    assert ("a.key", "key-unencrypted") in gitserver.rejections(output)
    hookrepo.git(clone, "reset", "-q", "--hard", "HEAD~1")
    commit(clone, {"pyproject.toml": b'[project]\nname = "plant"\n'}, "repair")
    code, output = push(clone, "HEAD:main")
    assert code == 0, output


@pytest.mark.parametrize("setting", [
    'chain = "{outside}"', 'crl-files = ["{outside}"]', 'chain = "../../{name}"',
    'crl-files = ["/proc/self/fd/1"]'])
def test_policy_files_outside_the_repository_are_never_read(
        server: Path, clone: Path, tmp_path: Path, setting: str) -> None:
    """A policy that landed on the default branch names files of the server (a pipe that
    never ends, another repository's secrets): the hook reads none of them."""
    outside = tmp_path / "outside.pem"
    outside.write_bytes(b"not a chain\n")
    policy = setting.format(outside=outside, name=outside.name)
    commit(clone, {".certwarden.toml": policy.encode() + b"\n"}, "policy")
    assert push(clone, "HEAD:main")[0] == 0
    landed = commit(clone, {"pki/sensor1.crt": good_certificate(62)}, "a compliant certificate")
    code, output = push(clone, "HEAD:main")
    assert code == 0, output
    assert "outside the repository" in output and "judged by the defaults" in output
    assert "cert-chain" not in output and "cert-crl-unreachable" not in output
    assert ref_of(server, "main") == landed


def test_an_admin_policy_may_name_files_anywhere(server: Path, clone: Path,
                                                 tmp_path: Path) -> None:
    chain = tmp_path / "admin" / "ca" / "chain.pem"
    chain.parent.mkdir(parents=True)
    chain.write_bytes(b"not a chain\n")
    policy = tmp_path / "admin" / "certwarden.toml"
    policy.write_text(f'chain = "{chain}"\n')
    hookrepo.git(server, "config", "certwarden.config", str(policy))
    commit(clone, {"pki/sensor1.crt": good_certificate(62)}, "a certificate")
    code, output = push(clone, "HEAD:main")
    assert code == 1
    assert ("pki/sensor1.crt", "cert-chain") in gitserver.rejections(output)


def test_policy_files_behind_symlinks_are_followed_inside_the_repository(
        server: Path, clone: Path) -> None:
    """A linked .certwarden.toml and a `current.pem` link to a dated chain work on the
    developer's machine; the server reads them as a checkout would, not as link text
    (which made the policy unusable, and compliant pushes were judged by the defaults)."""
    root_key, issuing_key = pki.rsa_key(2048, 20), pki.rsa_key(2048, 21)
    root = pki.certificate(pki.Spec(cn="Plant Root CA", ca=True, crl_urls=None, key_slot=20))
    issuing = pki.certificate(pki.Spec(cn="Plant Issuing CA", ca=True, crl_urls=None,
                                       key_slot=21), issuer=(root, root_key))
    gitserver.write(clone, {
        "config/certwarden.toml": b'chain = "pki/ca/current.pem"\nexclude = ["fixtures/*"]\n',
        "pki/ca/2026/chain.pem": pki.pem(issuing) + pki.pem(root)})
    os.symlink("config/certwarden.toml", clone / ".certwarden.toml")
    os.symlink("2026", clone / "pki" / "ca" / "current")
    os.symlink("current/chain.pem", clone / "pki" / "ca" / "current.pem")  # two links
    hookrepo.git(clone, "add", "-A")
    commit(clone, {}, "the policy, through links")
    assert push(clone, "HEAD:main")[0] == 0
    leaf = pki.certificate(pki.Spec(key_slot=26, not_after=LATER), issuer=(issuing, issuing_key))
    landed = commit(clone, {"pki/sensor1.crt": pki.pem(leaf), "fixtures/test.key": plain_key()},
                    "a certificate of the chain, and an excluded fixture")
    code, output = push(clone, "HEAD:main")
    assert code == 0, output
    assert ".certwarden.toml on refs/heads/main" in output
    assert ref_of(server, "main") == landed
    commit(clone, {"pki/sensor2.crt": good_certificate(65)}, "self-signed: not of the chain")
    code, output = push(clone, "HEAD:main")
    assert code == 1
    assert ("pki/sensor2.crt", "cert-chain") in gitserver.rejections(output)


def test_a_policy_linked_out_of_the_repository_is_unusable(server: Path, clone: Path) -> None:
    os.symlink("/etc/passwd", clone / ".certwarden.toml")
    hookrepo.git(clone, "add", ".certwarden.toml")
    commit(clone, {}, "a link out")
    assert push(clone, "HEAD:main")[0] == 0
    commit(clone, {"a.key": plain_key()}, "a key")
    code, output = push(clone, "HEAD:main")
    assert code == 1
    assert "a link to no file of the repository" in output and "judged by the defaults" in output


# -- commit and tag objects: their text is published with them ------------------------------

def test_a_key_in_a_commit_message_is_rejected(server: Path, clone: Path) -> None:
    before = ref_of(server, "main")
    key = plain_key()
    hookrepo.git(clone, "commit", "-q", "--allow-empty", "--no-verify", "-m",
                 "deploy the sensor\n\n" + key.decode())
    leak = gitserver.head(clone)
    code, output = push(clone, "HEAD:main")
    assert_rejected(server, output, code, {("(commit message)", "key-unencrypted")}, before)
    assert f"commit {leak[:12]} (refs/heads/main): (commit message)" in output
    for line in key_lines(key):
        assert line not in output


def test_a_key_in_an_annotated_tag_message_is_rejected(server: Path, clone: Path) -> None:
    key = plain_key()
    hookrepo.git(clone, "tag", "-a", "v1", "-m", "release\n\n" + key.decode())
    tag = hookrepo.git(clone, "rev-parse", "v1").stdout.strip()
    code, output = push(clone, "v1")  # the commit is on the server already
    assert code == 1, output
    assert ("(tag message)", "key-unencrypted") in gitserver.rejections(output)
    assert f"object {tag[:12]} (refs/tags/v1): (tag message)" in output
    assert ref_of(server, "refs/tags/v1") is None
    hookrepo.git(clone, "tag", "-a", "v1-outer", "-m", "a tag of that tag", "v1")
    code, output = push(clone, "v1-outer")  # the inner tag comes with it
    assert code == 1, output
    assert ("(tag message)", "key-unencrypted") in gitserver.rejections(output)


def test_ordinary_messages_and_signatures_land(server: Path, clone: Path,
                                               tmp_path: Path) -> None:
    signing = tmp_path / "signing"
    import subprocess

    if subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(signing)],
                      capture_output=True).returncode:
        pytest.skip("ssh-keygen is not available")
    hookrepo.git(clone, "-c", "gpg.format=ssh", "-c", f"user.signingkey={signing}", "commit",
                 "-q", "-S", "--allow-empty", "--no-verify", "-m",
                 "rotate the sensor certificate\n\nThe old private key was revoked; see "
                 "-----BEGIN PRIVATE KEY----- in the runbook.")
    hookrepo.git(clone, "-c", "gpg.format=ssh", "-c", f"user.signingkey={signing}", "tag",
                 "-s", "v2", "-m", "a signed release")
    landed = gitserver.head(clone)
    code, output = push(clone, "HEAD:main", "v2")
    assert code == 0, output
    assert ref_of(server, "main") == landed


def test_scan_range_judges_commit_messages(clone: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    base = gitserver.head(clone)
    hookrepo.git(clone, "commit", "-q", "--allow-empty", "--no-verify", "-m",
                 "oops\n\n" + plain_key().decode())
    leak = gitserver.head(clone)
    monkeypatch.chdir(clone)
    capsys.readouterr()
    code = main(["scan", "--now", pki.NOW_ISO, "--since", base, "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    assert {(f["path"], f["rule"]) for f in document["findings"]} == {
        (f"{leak}:(commit message)", "key-unencrypted")}


# -- size of the push ------------------------------------------------------------------------

def test_revisions_beyond_the_command_line_limit(clone: Path) -> None:
    """A mirror push of tens of thousands of refs: git log reads the revisions on stdin
    rather than failing on the length of its command line (E2BIG)."""
    from certwarden.revisions import introduced_blobs

    leak = commit(clone, {"leak.key": plain_key()}, "leak")
    blobs, commits = introduced_blobs(str(clone), [leak] * 60_000 + ["--not", "HEAD~1"])
    assert commits == [leak]
    assert [(blob.commit, blob.path) for blob in blobs] == [(leak, "leak.key")]


def test_workers_are_stopped_when_time_runs_out() -> None:
    """A forked worker past the deadline keeps the hook's stderr open, and git waits for
    it before it answers the pusher: the workers end with the parent's judgement."""
    import time

    from certwarden import parallel
    from certwarden.history import OutOfTime

    if parallel.worker_count(4 * parallel.MIN_FILES_PER_WORKER) < 2:
        pytest.skip("one core: no worker to stop")
    parent = os.getpid()
    children: list[int] = []
    read_end, write_end = os.pipe()

    def work(chunk: object) -> int:
        if os.getpid() == parent:
            os.close(write_end)
            children.extend(int(pid) for pid in os.read(read_end, 4096).split())
            raise OutOfTime
        os.write(write_end, f"{os.getpid()} ".encode())
        os.close(write_end)
        time.sleep(60)
        return 0

    with pytest.raises(OutOfTime):
        parallel.map_chunks(work, list(range(4 * parallel.MIN_FILES_PER_WORKER)))
    os.close(read_end)
    assert children
    for pid in children:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # already reaped: it was stopped and waited for


def test_scan_range_with_an_empty_side_is_a_usage_error(
        clone: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """`--range "$BASE..$HEAD"` with BASE unset in CI: git would read `..HEAD` as
    HEAD..HEAD, judge nothing and pass."""
    head = gitserver.head(clone)
    commit(clone, {"leak.key": plain_key()}, "leak")  # what the range was meant to judge
    monkeypatch.chdir(clone)
    for text in (f"..{head}", "..", f"...{head}"):
        capsys.readouterr()
        assert main(["scan", "--range", text]) == 2, text
        assert "the base (before ..) is empty" in capsys.readouterr().err
    capsys.readouterr()
    assert main(["scan", "--now", pki.NOW_ISO, "--range", f"{head}.."]) == 1  # A..HEAD


def test_a_newline_in_a_path_stays_in_its_line(server: Path, clone: Path) -> None:
    """Each finding is three lines for the pusher, whatever the file name holds: a name
    with a newline cannot add a line of its own (such as a fake "push accepted")."""
    name = "keys/a\ncertwarden: push accepted.key"
    target = clone / "keys"
    target.mkdir()
    (target / name.split("/")[1]).write_bytes(plain_key())
    hookrepo.git(clone, "add", "keys")
    commit(clone, {}, "odd name")
    code, output = push(clone, "HEAD:main")
    assert code == 1
    assert "remote: certwarden: push accepted" not in output
    assert ("keys/a\\ncertwarden: push accepted.key", "key-unencrypted") in \
        gitserver.rejections(output)


@pytest.mark.parametrize("budget", ["inf", "1e400", "nan"])
def test_a_time_budget_that_is_not_a_number_of_seconds_is_named(
        server: Path, clone: Path, budget: str) -> None:
    hookrepo.git(server, "config", "certwarden.timeBudget", budget)
    commit(clone, {"docs/a.md": b"fine\n"}, "docs")
    code, output = push(clone, "HEAD:main")
    assert code != 0
    assert "internal error" not in output
    assert "time budget: expected seconds" in output or "certwarden.timeBudget" in output


def test_a_push_accepted_unjudged_needs_its_audit_log_entry(server: Path, clone: Path,
                                                            tmp_path: Path) -> None:
    """on-timeout accept lands a push unjudged, "logged": not when the log cannot be
    written (as for a bypass). A clean push asking for a bypass still lands."""
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the log's folder should be\n")
    hookrepo.git(server, "config", "certwarden.auditLog", str(blocked / "audit.log"))
    hookrepo.git(server, "config", "certwarden.onTimeout", "accept")
    hookrepo.git(server, "config", "certwarden.timeBudget", "0")
    before = ref_of(server, "main")
    commit(clone, {"docs/a.md": b"fine\n"}, "docs")
    code, output = push(clone, "HEAD:main")
    assert code != 0, output
    assert "cannot write the audit log" in output and "accepted unjudged only with" in output
    assert ref_of(server, "main") == before

    hookrepo.git(server, "config", "--unset", "certwarden.timeBudget")
    hookrepo.git(server, "config", "certwarden.allowBypass", "true")
    hookrepo.git(server, "config", "receive.advertisePushOptions", "true")
    code, output = push(clone, "-o", "certwarden.bypass=just in case", "HEAD:main")
    assert code == 0, output
    assert "cannot write the audit log" in output
    assert "no bypass without" not in output  # nothing needed bypassing


# -- attacks the hook already withstood: kept so that they stay withstood -------------------

def test_notes_octopus_merges_and_renames_are_judged(server: Path, clone: Path) -> None:
    before = ref_of(server, "main")
    hookrepo.git(clone, "notes", "add", "-m", plain_key().decode(), "HEAD")
    code, output = push(clone, "refs/notes/commits")
    assert code == 1 and "(refs/notes/commits)" in output
    assert any(rule == "key-unencrypted" for _, rule in gitserver.rejections(output))

    for branch in ("a", "b", "c"):
        hookrepo.git(clone, "checkout", "-q", "-b", branch, "main")
        commit(clone, {f"{branch}.md": b"x\n"}, branch)
    hookrepo.git(clone, "checkout", "-q", "main")
    hookrepo.git(clone, "merge", "-q", "--no-ff", "--no-commit", "a", "b", "c")
    gitserver.write(clone, {"merge/evil.pem": plain_key(63)})  # only in the octopus merge
    hookrepo.git(clone, "add", "merge/evil.pem")
    hookrepo.git(clone, "commit", "-q", "--no-verify", "-m", "octopus")
    code, output = push(clone, "HEAD:main")
    assert_rejected(server, output, code, {("merge/evil.pem", "key-unencrypted")}, before)

    hookrepo.git(clone, "reset", "-q", "--hard", before)
    expired = pki.pem(pki.certificate(pki.Spec(not_before=pki.NOW.replace(year=2020),
                                               not_after=pki.NOW.replace(year=2021))))
    commit(clone, {"docs/notes.txt": expired}, "an example in the docs")  # not by name
    assert push(clone, "HEAD:main")[0] == 0
    before = ref_of(server, "main")
    hookrepo.git(clone, "mv", "docs/notes.txt", "docs/sensor1.crt")
    commit(clone, {}, "the same blob, now a certificate file")
    code, output = push(clone, "HEAD:main")
    assert_rejected(server, output, code, {("docs/sensor1.crt", "cert-expired")}, before)


def test_a_shallow_clone_pushing_is_judged_at_its_boundary(server: Path, clone: Path,
                                                           tmp_path: Path) -> None:
    """The boundary commit of a shallow push has no parent on the server: all of its tree
    is new there."""
    hookrepo.git(server, "config", "receive.shallowUpdate", "true")
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    hookrepo.git(upstream, "init", "-q", "-b", "main")
    commit(upstream, {"README.md": b"other project\n"}, "one")
    commit(upstream, {"old.key": plain_key(64)}, "a key")
    commit(upstream, {"docs/x.md": b"x\n"}, "three")
    shallow = tmp_path / "shallow"
    hookrepo.git(tmp_path, "clone", "-q", "--depth", "2", f"file://{upstream}", str(shallow))
    hookrepo.git(shallow, "remote", "add", "server", str(server))
    result = hookrepo.git(shallow, "push", "server", "HEAD:refs/heads/imported", check=False)
    assert result.returncode != 0
    assert ("old.key", "key-unencrypted") in gitserver.rejections(result.stderr)
    assert ref_of(server, "refs/heads/imported") is None


def test_a_pushed_policy_cannot_probe_the_servers_environment(server: Path,
                                                              clone: Path) -> None:
    """A passphrase mapping on the default branch would read the hook process's variables
    (is PATH set, how many characters the appliance refuses): ignored, with a note."""
    commit(clone, {".certwarden.toml": b'[passphrases]\n"*.key" = "PATH"\n'}, "probe")
    assert push(clone, "HEAD:main")[0] == 0
    encrypted = pki.rsa_key(2048, 61).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"Sensor-1.pass_word"))
    commit(clone, {"pki/sensor1.key": encrypted}, "an encrypted key")
    code, output = push(clone, "HEAD:main")
    assert code == 0, output
    assert "passphrases are ignored on the server" in output
    assert "passphrase-" not in output and "PATH" not in output.replace(
        "passphrases are ignored", "")
