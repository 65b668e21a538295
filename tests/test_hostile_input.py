"""Bad input gets a finding or a clear message and an exit code, never a traceback, and
never stops the other files from being checked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from certwarden.cli import main
from tests import pki
from tests.conftest import RunJson, rules_of


def _plain_key() -> bytes:
    return pki.rsa_key().private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption())


def test_symlinks_are_judged_as_links_and_never_followed(run_json: RunJson,
                                                         tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside.key"
    outside.write_bytes(_plain_key())
    (tmp_path / "link.key").symlink_to(outside)
    (tmp_path / "link.crt").symlink_to("/nonexistent/target.crt")
    code, document = run_json("link.key", "link.crt")
    assert code == 0
    assert document["findings"] == [] and document["files_checked"] == 2


def test_large_binary_is_checked_quickly_without_findings(run_json: RunJson,
                                                          tmp_path: Path) -> None:
    (tmp_path / "firmware.bin").write_bytes(os.urandom(50 * 1024 * 1024))
    (tmp_path / "leak.key").write_bytes(_plain_key())
    code, document = run_json("firmware.bin", "leak.key")
    assert code == 1
    assert rules_of(document, "firmware.bin") == set()
    assert rules_of(document, "leak.key") == {"key-unencrypted"}


def test_file_larger_than_the_cap_is_a_certificate_finding(run_json: RunJson,
                                                           tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".certwarden.toml").write_text("max-file-bytes = 4096\n")
    (tmp_path / "huge.pem").write_bytes(pki.pem(pki.certificate()) * 10)
    code, document = run_json("--group", "certificates", "huge.pem")
    assert code == 1
    assert rules_of(document) == {"cert-unreadable"}


ODD_NAMES = ["with space.key", "new\nline.key", "-leading-dash.key", "ünïcode.key"]


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_file_names(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(_plain_key())
    result = subprocess.run([sys.executable, "-m", "certwarden", "check", "--", name],
                            cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "key-unencrypted" in result.stdout
    assert len([line for line in result.stdout.splitlines() if "key-unencrypted" in line]) == 1


def test_non_utf8_file_name(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/bad-\xff-name.key"
    with open(raw, "wb") as stream:
        stream.write(_plain_key())
    result = subprocess.run([sys.executable, "-m", "certwarden", "check", b"bad-\xff-name.key"],
                            cwd=tmp_path, capture_output=True)
    assert result.returncode == 1
    assert b"Traceback" not in result.stderr
    assert b"key-unencrypted" in result.stdout


def test_fifo_vanished_and_folder(run_json: RunJson, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.crt")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "inner.key").write_bytes(_plain_key())
    code, document = run_json("pipe.crt", "folder")
    assert code == 1
    assert rules_of(document, "pipe.crt") == {"cert-unreadable", "key-unreadable"}
    assert rules_of(document, os.path.join("folder", "inner.key")) == {"key-unencrypted"}


def test_empty_files_of_every_kind(run_json: RunJson, tmp_path: Path) -> None:
    names = ["empty.crt", "empty.key", "empty.p12", "empty.txt"]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    code, document = run_json(*names)
    assert code == 1
    assert {f["path"] for f in document["findings"]} == {"empty.crt", "empty.p12"}
    assert rules_of(document) == {"cert-unreadable"}


def test_unknown_option_that_is_not_a_file_is_a_usage_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--no-such-option"])
    assert exit_info.value.code == 2
