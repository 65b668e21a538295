"""`scan --range/--since/--pushed` and the check-push hook through the real pre-commit
client's pre-push hook: every blob the commits introduce, named COMMIT:PATH."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from certwarden.cli import main
from tests import gitserver, hookrepo, pki
from tests.gitserver import commit

MATERIAL = gitserver.Material(slot=50, passphrase=b"range-Test-pass1")
plain_key, encrypted_key = MATERIAL.plain_key, MATERIAL.encrypted_key


def scan(repo: Path, *args: str, capsys: pytest.CaptureFixture[str],
         monkeypatch: pytest.MonkeyPatch) -> tuple[int, Any]:
    monkeypatch.chdir(repo)
    capsys.readouterr()
    code = main(["scan", "--now", pki.NOW_ISO, *args])
    out = capsys.readouterr().out
    return code, json.loads(out) if "--format" in args else out


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    hookrepo.git(path, "init", "-q", "-b", "main")
    commit(path, {"README.md": b"start\n"}, "start")
    return path


def test_range_reports_a_key_added_and_deleted_as_commit_path(
        repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    base = gitserver.head(repo)
    added = commit(repo, {"ops/deploy.yaml": b"key: |\n" + plain_key()}, "add")
    commit(repo, {}, "delete", remove=("ops/deploy.yaml",))
    code, document = scan(repo, "--range", f"{base}..HEAD", "--format", "json",
                          capsys=capsys, monkeypatch=monkeypatch)
    assert code == 1
    assert {(f["path"], f["rule"]) for f in document["findings"]} == {
        (f"{added}:ops/deploy.yaml", "key-unencrypted")}
    assert document["files_checked"] == 1

    code, document = scan(repo, "--since", base, "--format", "sarif", capsys=capsys,
                          monkeypatch=monkeypatch)
    assert code == 1
    result = document["runs"][0]["results"][0]
    assert result["properties"]["commit"] == added
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "ops/deploy.yaml"

    code, _ = scan(repo, "--range", "HEAD~1..HEAD", "--format", "json", capsys=capsys,
                   monkeypatch=monkeypatch)
    assert code == 0  # the deleting commit introduces nothing


def test_range_judges_neighbours_as_each_commit_had_them(
        repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    base = gitserver.head(repo)
    commit(repo, {"pki/sensor1.key": encrypted_key()}, "key")
    beside = commit(repo, {"pki/sensor1.pass": b"range-Test-pass1\n"}, "passphrase beside it")
    commit(repo, {}, "drop both", remove=("pki/sensor1.key", "pki/sensor1.pass"))
    alone = commit(repo, {"docs/sensor1.pass": b"not beside a key\n"}, "no key here")
    code, document = scan(repo, "--range", f"{base}..HEAD", "--format", "json",
                          capsys=capsys, monkeypatch=monkeypatch)
    found = {(f["path"], f["rule"]) for f in document["findings"]}
    assert (f"{beside}:pki/sensor1.pass", "passphrase-committed") in found
    assert not any(path.startswith(alone) for path, _ in found)
    assert code == 1


def test_range_errors_are_usage_errors(repo: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    assert main(["scan", "--range", "HEAD"]) == 2
    assert "expected A..B" in capsys.readouterr().err
    assert main(["scan", "--range=--output=x..HEAD"]) == 2
    assert "not a revision" in capsys.readouterr().err
    assert main(["scan", "--range", "nosuch..HEAD"]) == 2
    assert main(["scan", "--since", "HEAD", "stray"]) == 2


def test_range_in_a_sha256_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "sha256"
    repo.mkdir()
    if hookrepo.git(repo, "init", "-q", "--object-format=sha256", check=False).returncode:
        pytest.skip("this git cannot make SHA-256 repositories")
    commit(repo, {"README.md": b"x\n"}, "start")
    added = commit(repo, {"leak.key": plain_key()}, "leak")
    assert len(added) == 64
    code, document = scan(repo, "--since", "HEAD~1", "--format", "sarif", capsys=capsys,
                          monkeypatch=monkeypatch)
    assert code == 1
    result = document["runs"][0]["results"][0]
    assert result["properties"]["commit"] == added
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "leak.key"


# -- the check-push hook, through pre-commit's own pre-push hook ------------------------------

PRE_COMMIT_BIN = Path(sys.executable).parent
if not (PRE_COMMIT_BIN / "pre-commit").exists():
    PRE_COMMIT_BIN = Path(shutil.which("pre-commit") or "pre-commit").parent


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, str]]:
    base = tmp_path_factory.mktemp("push-hook-repo")
    rev = hookrepo.make_snapshot(base / "certwarden")
    env = hookrepo.git_env(PRE_COMMIT_HOME=str(base / "pre-commit-home"))
    env["PATH"] = str(PRE_COMMIT_BIN) + os.pathsep + env["PATH"]
    return base / "certwarden", rev, env


@pytest.mark.needs_index  # pre-commit pip-installs the hook repository
def test_check_push_catches_no_verify_commits_before_they_leave(
        tmp_path: Path, snapshot: tuple[Path, str, dict[str, str]]) -> None:
    hook_repo, rev, env = snapshot
    remote = tmp_path / "remote.git"
    hookrepo.git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    repo = tmp_path / "user"
    repo.mkdir()
    hookrepo.git(repo, "init", "-q", "-b", "main")
    hookrepo.git(repo, "remote", "add", "origin", str(remote))
    (repo / ".pre-commit-config.yaml").write_text(
        "default_install_hook_types: [pre-commit, pre-push]\n"
        f"repos:\n  - repo: {hook_repo}\n    rev: {rev}\n    hooks:\n"
        "      - id: check-push\n      - id: check-private-keys\n")
    subprocess.run(["pre-commit", "install"], cwd=repo, env=env, check=True,
                   capture_output=True)

    def git_push(*args: str) -> subprocess.CompletedProcess[str]:
        return hookrepo.git(repo, "push", "origin", *args, check=False, env=env)

    # A new branch with its own root commit: pre-commit sets no FROM/TO refs.
    leak = commit(repo, {".pre-commit-config.yaml": (repo / ".pre-commit-config.yaml")
                         .read_bytes(), "id_rsa": plain_key()}, "first")
    pushed = git_push("main")
    assert pushed.returncode != 0
    assert re.search(rf"^{leak}:id_rsa(:\d+)?: key-unencrypted", pushed.stdout, re.M)
    assert gitserver.ref_of(remote, "main") is None

    hookrepo.git(repo, "rm", "-q", "--cached", "id_rsa")
    hookrepo.git(repo, "commit", "-q", "--amend", "--no-verify", "-m", "first, no key")
    (repo / "id_rsa").unlink()
    pushed = git_push("main")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr

    # An existing branch: a key committed with --no-verify and deleted again.
    added = commit(repo, {"deploy/values.yaml": b"tls:\n" + plain_key()}, "add")
    commit(repo, {}, "remove", remove=("deploy/values.yaml",))
    pushed = git_push("main")
    assert pushed.returncode != 0
    assert re.search(rf"{added}:deploy/values.yaml(:\d+)?: key-unencrypted", pushed.stdout)
    assert gitserver.ref_of(remote, "main") != gitserver.head(repo)

    # A new branch that shares history with the remote.
    hookrepo.git(repo, "checkout", "-q", "-b", "feature", "origin/main")
    side = commit(repo, {"keys/db.pem": plain_key(51)}, "side")
    pushed = git_push("feature")
    assert pushed.returncode != 0
    assert f"{side}:keys/db.pem" in pushed.stdout
    assert "key-unencrypted" in pushed.stdout

    hookrepo.git(repo, "reset", "-q", "--hard", "origin/main")
    commit(repo, {"keys/db.pem": encrypted_key(51)}, "encrypted")
    pushed = git_push("feature")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr


def test_many_blobs_are_shared_between_workers_with_the_same_verdict(
        repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from certwarden.parallel import MIN_FILES_PER_WORKER, worker_count

    base = gitserver.head(repo)
    files = {f"src/file{index}.txt": f"line {index}\n".encode()
             for index in range(2 * MIN_FILES_PER_WORKER)}
    files["pki/sensor1.pass"] = b"range-Test-pass1\n"
    files["pki/sensor1.key"] = encrypted_key()
    commit(repo, files, "many")
    last = commit(repo, {"deploy/leak.yaml": b"key: |\n" + plain_key(),
                         "src/file7.txt": b"changed\n"}, "leak")
    monkeypatch.delenv("PRE_COMMIT", raising=False)
    if worker_count(len(files) + 2) < 2:
        pytest.skip("one core: no worker to share with")
    code, shared = scan(repo, "--range", f"{base}..HEAD", "--format", "json", capsys=capsys,
                        monkeypatch=monkeypatch)
    monkeypatch.setenv("PRE_COMMIT", "1")  # as under pre-commit: one process
    code_alone, alone = scan(repo, "--range", f"{base}..HEAD", "--format", "json",
                             capsys=capsys, monkeypatch=monkeypatch)
    assert code == code_alone == 1
    assert shared == alone
    assert shared["files_checked"] == len(files) + 2
    found = {(f["path"], f["rule"]) for f in shared["findings"]}
    assert (f"{last}:deploy/leak.yaml", "key-unencrypted") in found
    assert any(path.endswith(":pki/sensor1.pass") and rule == "passphrase-committed"
               for path, rule in found)


def test_merges_count_what_differs_from_every_parent(
        repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    base = gitserver.head(repo)
    hookrepo.git(repo, "checkout", "-q", "-b", "side")
    side = commit(repo, {"side/id_ecdsa": plain_key(52)}, "side key")
    hookrepo.git(repo, "checkout", "-q", "main")
    commit(repo, {"docs/main.md": b"main\n"}, "main work")
    hookrepo.git(repo, "merge", "-q", "--no-ff", "--no-commit", "side")
    gitserver.write(repo, {"merge/evil.key": plain_key(53)})  # only in the merge itself
    hookrepo.git(repo, "add", "merge/evil.key")
    hookrepo.git(repo, "commit", "-q", "--no-verify", "-m", "merge")
    merge = gitserver.head(repo)
    code, document = scan(repo, "--range", f"{base}..HEAD", "--format", "json",
                          capsys=capsys, monkeypatch=monkeypatch)
    assert code == 1
    assert {(f["path"], f["rule"]) for f in document["findings"]} == {
        (f"{side}:side/id_ecdsa", "key-unencrypted"),
        (f"{merge}:merge/evil.key", "key-unencrypted")}
    assert document["files_checked"] == 3  # the side key once, not again at the merge
