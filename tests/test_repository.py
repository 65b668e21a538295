"""Repository-wide rules over the git index, history scans and the baseline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from certwarden.cli import main
from certwarden.index_certificates import CACHE_VERSION
from tests import hookrepo, pki

NOW = pki.NOW_ISO


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    hookrepo.git(path, "init", "-q", "-b", "main")
    monkeypatch.chdir(path)
    return path


def _unique(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict[str, object]]:
    capsys.readouterr()
    code = main(["check", "--group", "unique", "--format", "json", "--now", NOW, *extra])
    return code, json.loads(capsys.readouterr().out)


def _rules(document: dict[str, object]) -> set[tuple[str, str]]:
    return {(f["path"], f["rule"]) for f in document["findings"]}  # type: ignore[index,union-attr]


def test_duplicate_cn_in_another_folder(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hookrepo.stage(repo, {"site-a/sensor1.crt": pki.pem(pki.certificate(pki.Spec(key_slot=1))),
                  "site-b/sensor1.crt": pki.pem(pki.certificate(pki.Spec(
                      cn="SENSOR1.plant.example.com", key_slot=2)))})
    code, document = _unique(capsys)
    assert code == 1
    assert _rules(document) == {("site-a/sensor1.crt", "cert-duplicate-cn"),
                                ("site-b/sensor1.crt", "cert-duplicate-cn")}
    messages = [f["message"] for f in document["findings"]]  # type: ignore[index,union-attr]
    assert "site-b/sensor1.crt" in messages[0] and "site-a/sensor1.crt" in messages[1]


def test_same_certificate_twice_and_rename(repo: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    cert = pki.pem(pki.certificate())
    hookrepo.stage(repo, {"a.crt": cert})
    hookrepo.git(repo, "commit", "-q", "-m", "a")
    hookrepo.git(repo, "mv", "a.crt", "renamed.crt")
    assert _unique(capsys)[0] == 0
    hookrepo.stage(repo, {"copy.pem": cert})
    code, document = _unique(capsys)
    assert code == 1
    assert _rules(document) == {("renamed.crt", "cert-duplicate"), ("copy.pem", "cert-duplicate")}


def test_key_reused_under_two_certificates(repo: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    hookrepo.stage(repo, {"s1.crt": pki.pem(pki.certificate(pki.Spec(cn="s1.plant.example.com"))),
                  "s2.crt": pki.pem(pki.certificate(pki.Spec(cn="s2.plant.example.com")))})
    code, document = _unique(capsys)
    assert code == 1
    assert _rules(document) == {("s1.crt", "key-reused"), ("s2.crt", "key-reused")}


def test_chain_files_repeat_cas_and_leaf_without_findings(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = pki.certificate(pki.Spec(cn="Root CA", ca=True, key_slot=9, crl_urls=None))
    leaf = pki.certificate(pki.Spec(key_slot=8), issuer=(root, pki.rsa_key(2048, 9)))
    hookrepo.stage(repo, {"sensor1.crt": pki.pem(leaf),
                  "sensor1-fullchain.pem": pki.pem(leaf) + pki.pem(root),
                  "chain.pem": pki.pem(root), "other/chain.pem": pki.pem(root)})
    code, document = _unique(capsys)
    assert code == 0, document


def test_wildcard_anywhere_in_the_index(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hookrepo.stage(repo, {"old/star.crt": pki.pem(pki.certificate(pki.Spec(cn="*.example.com")))})
    hookrepo.git(repo, "commit", "-q", "-m", "old")
    code, document = _unique(capsys)
    assert code == 1
    assert _rules(document) == {("old/star.crt", "cert-wildcard")}


def test_cache_under_git_dir_and_staged_deletion(repo: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    hookrepo.stage(repo, {"a.crt": pki.pem(pki.certificate(pki.Spec(key_slot=1))),
                  "b.crt": pki.pem(pki.certificate(pki.Spec(key_slot=2)))})
    assert _unique(capsys)[0] == 1
    assert (repo / ".git" / "certwarden" / f"index-cache-v{CACHE_VERSION}.json").exists()
    hookrepo.git(repo, "rm", "-q", "--cached", "b.crt")
    assert _unique(capsys)[0] == 0


def test_scan_history_finds_a_deleted_unencrypted_key(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = pki.rsa_key().private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    hookrepo.stage(repo, {"deploy/tls.key": plain})
    hookrepo.git(repo, "commit", "-q", "-m", "oops")
    hookrepo.git(repo, "rm", "-q", "deploy/tls.key")
    hookrepo.git(repo, "commit", "-q", "-m", "remove")
    capsys.readouterr()
    assert main(["scan", "--format", "json"]) == 0
    capsys.readouterr()
    assert main(["scan", "--history", "--format", "json"]) == 1
    output = capsys.readouterr().out
    document = json.loads(output)
    [finding] = document["findings"]
    assert finding["rule"] == "key-unencrypted"
    assert finding["path"].endswith(":deploy/tls.key")
    for line in plain.decode().splitlines()[1:-1]:
        assert line not in output


def test_baseline_round_trip(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    star = pki.pem(pki.certificate(pki.Spec(cn="*.example.com")))
    hookrepo.stage(repo, {"legacy/star.crt": star})
    hookrepo.git(repo, "commit", "-q", "-m", "debt")
    assert main(["baseline", "--now", NOW]) == 0
    first = (repo / ".certwarden-baseline.json").read_text()
    assert main(["baseline", "--now", NOW]) == 0
    assert (repo / ".certwarden-baseline.json").read_text() == first  # stable
    assert '"line"' not in first and "20" not in json.loads(first)["generated_by"]
    capsys.readouterr()
    assert main(["scan", "--now", NOW]) == 0
    hookrepo.stage(repo, {"new.crt": pki.pem(pki.certificate(pki.Spec(org=None, key_slot=3)))})
    assert main(["check", "--now", NOW]) == 1  # a new problem still blocks
    hookrepo.git(repo, "rm", "-q", "--cached", "legacy/star.crt")
    hookrepo.git(repo, "reset", "-q", "new.crt")
    capsys.readouterr()
    main(["scan", "--now", NOW])
    assert "stale baseline entry" in capsys.readouterr().err
