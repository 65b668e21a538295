"""Repositories with SHA-256 object ids (`git init --object-format=sha256`): 64-digit blob
and commit ids through the git index, history, the index cache, neighbours and SARIF."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from certwarden.cli import main
from certwarden.index_certificates import cached_records
from tests import hookrepo, pki


def _plain_key(slot: int) -> bytes:
    return pki.rsa_key(2048, slot).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption())


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    created = hookrepo.git(path, "init", "-q", "-b", "main", "--object-format=sha256",
                           check=False)
    if created.returncode != 0:
        pytest.skip(f"this git cannot make SHA-256 repositories: {created.stderr.strip()}")
    monkeypatch.chdir(path)
    return path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main([*args, "--now", pki.NOW_ISO])
    return code, json.loads(capsys.readouterr().out)


def _findings(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["path"], f["rule"]) for f in document["findings"]}


def test_check_scan_and_history_with_sha256_object_ids(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wildcard = pki.pem(pki.certificate(pki.Spec(cn="*.plant.example.com", key_slot=1)))
    hookrepo.stage(repo, {"pki/star.crt": wildcard, "pki/sensor1.key": _plain_key(5),
                  "pki/sensor1.crt": pki.pem(pki.certificate(pki.Spec(key_slot=6)))})
    # check: the staged blobs, their neighbours read from the index by blob id
    code, document = _run(capsys, "check", "--format", "json")
    assert code == 1
    assert _findings(document) >= {("pki/star.crt", "cert-wildcard"),
                                   ("pki/sensor1.key", "key-unencrypted"),
                                   ("pki/sensor1.key", "cert-key-mismatch"),
                                   ("pki/sensor1.crt", "cert-key-mismatch")}
    assert document["files_checked"] == 3
    hookrepo.git(repo, "commit", "-q", "-m", "pki")
    commit = hookrepo.git(repo, "rev-parse", "HEAD").stdout.strip()
    assert len(commit) == 64  # the repository really uses SHA-256

    # check --group unique and scan: the whole index, certificates cached by blob id
    hookrepo.stage(repo, {"backup/star.crt": wildcard})
    code, document = _run(capsys, "check", "--group", "unique", "--format", "json")
    assert code == 1
    assert {("pki/star.crt", "cert-duplicate"), ("backup/star.crt", "cert-duplicate")} <= \
        _findings(document)
    cache = cached_records(json.loads(next((repo / ".git" / "certwarden")
                                           .glob("index-cache-*.json")).read_text()))
    assert cache and all(len(key.split(":")[0]) == 64 for key in cache)
    code, document = _run(capsys, "scan", "--format", "json")
    assert code == 1
    assert ("backup/star.crt", "cert-duplicate") in _findings(document)

    # scan --history: a key deleted again is found under the commit that added it
    hookrepo.git(repo, "reset", "-q", "backup/star.crt")
    hookrepo.stage(repo, {"deploy/tls.key": _plain_key(7)})
    hookrepo.git(repo, "commit", "-q", "-m", "oops")
    added = hookrepo.git(repo, "rev-parse", "HEAD").stdout.strip()
    hookrepo.git(repo, "rm", "-q", "deploy/tls.key")
    hookrepo.git(repo, "commit", "-q", "-m", "remove")
    code, document = _run(capsys, "scan", "--history", "--format", "json")
    assert code == 1
    assert (f"{added[:12]}:deploy/tls.key", "key-unencrypted") in _findings(document)
    assert (f"{commit[:12]}:pki/star.crt", "cert-wildcard") in _findings(document)

    # SARIF: the history path becomes a relative location plus the commit
    capsys.readouterr()
    main(["scan", "--history", "--format", "sarif", "--now", pki.NOW_ISO])
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    leaked = next(r for r in results if r["ruleId"] == "key-unencrypted"
                  and "tls.key" in r["locations"][0]["physicalLocation"]["artifactLocation"]
                  ["uri"])
    assert leaked["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        "deploy/tls.key"
    assert leaked["properties"]["commit"] == added[:12]


def test_staged_entries_carry_whole_object_ids(repo: Path) -> None:
    from certwarden.sources import staged_entries

    hookrepo.stage(repo, {"a.crt": pki.pem(pki.certificate())})
    [entry] = staged_entries(str(repo))
    assert entry.blob == hookrepo.git(repo, "rev-parse", ":a.crt").stdout.strip()
    assert len(entry.blob) == 64


def test_commit_ranges_with_sha256_object_ids(repo: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    hookrepo.stage(repo, {"README.md": b"plant\n"})
    hookrepo.git(repo, "commit", "-q", "-m", "start")
    start = hookrepo.git(repo, "rev-parse", "HEAD").stdout.strip()
    hookrepo.stage(repo, {"deploy/tls.key": _plain_key(7)})
    hookrepo.git(repo, "commit", "-q", "-m", "oops")
    added = hookrepo.git(repo, "rev-parse", "HEAD").stdout.strip()
    hookrepo.git(repo, "rm", "-q", "deploy/tls.key")
    hookrepo.git(repo, "commit", "-q", "-m", "remove")
    assert len(added) == 64
    for options in (["--range", f"{start}..HEAD"], ["--since", start]):
        code, document = _run(capsys, "scan", *options, "--format", "json")
        assert code == 1
        assert _findings(document) == {(f"{added}:deploy/tls.key", "key-unencrypted")}
    for output_format in ("sarif", "codequality"):
        capsys.readouterr()
        main(["scan", "--since", start, "--format", output_format, "--now", pki.NOW_ISO])
        text = capsys.readouterr().out
        assert f'"{added}' in text or f"commit {added}" in text, output_format
        assert '"deploy/tls.key"' in text, output_format
