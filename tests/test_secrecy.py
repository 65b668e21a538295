"""No output, log, error, baseline or report ever contains key material or a passphrase:
every command and output format, over keys and configured passphrases."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from certwarden.reporters import formats
from tests import hookrepo, pki

PASSPHRASE = "Secrecy-Test_pass.9"
WRONG = "Wrong-Passphrase_77"


def _secrets(repo: Path) -> list[str]:
    """Strings that must never appear: passphrases and every body line of every key."""
    values = [PASSPHRASE, WRONG]
    for path in repo.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            for line in path.read_bytes().splitlines():
                text = line.strip().decode("latin-1")
                if len(text) >= 24 and "-----" not in text and ":" not in text \
                        and " " not in text:
                    values.append(text)
    return values


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    hookrepo.git(root, "init", "-q", "-b", "main")
    key = pki.rsa_key(2048, 30)
    E, F = serialization.Encoding, serialization.PrivateFormat
    plain = key.private_bytes(E.PEM, F.TraditionalOpenSSL, serialization.NoEncryption())
    files = {
        "pki/sensor1.key": key.private_bytes(E.PEM, F.PKCS8, serialization.BestAvailableEncryption(
            PASSPHRASE.encode())),
        "pki/sensor1.crt": pki.pem(pki.certificate(pki.Spec(key_slot=30))),
        "pki/other.key": pki.rsa_key(2048, 31).private_bytes(
            E.PEM, F.PKCS8, serialization.BestAvailableEncryption(b"something-else-1")),
        "deploy/values.yaml": b"key: |\n" + b"".join(b"  " + line + b"\n"
                                                     for line in plain.splitlines()),
        "deploy/key.der": key.private_bytes(E.DER, F.PKCS8, serialization.NoEncryption()),
        "run.sh": f"openssl pkey -passin pass:{PASSPHRASE} -in pki/sensor1.key\n".encode(),
        ".certwarden.toml": b'[passphrases]\n"pki/sensor1.key" = "CW_PASS"\n'
                            b'"pki/other.key" = "CW_WRONG"\n',
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    hookrepo.git(root, "add", "-A")
    hookrepo.git(root, "commit", "-q", "-m", "state")
    return root


COMMANDS = [
    *(["check", "--format", name, "pki", "deploy", "run.sh"] for name in formats()),
    ["check"],
    ["scan", "--format", "json"],
    ["scan", "--history", "--format", "sarif"],
    ["scan", "--pushed", "--format", "text"],
    ["scan", "--pushed", "--format", "json"],
    ["inspect", "pki/sensor1.key"],
    ["inspect", "deploy/values.yaml"],
    ["baseline"],
    ["explain", "key-unencrypted"],
    ["rules", "--format", "json"],
]


@pytest.mark.parametrize("arguments", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_command_never_reveals_secrets(repo: Path, arguments: list[str]) -> None:
    env = {**os.environ, "CW_PASS": PASSPHRASE, "CW_WRONG": WRONG, "NO_COLOR": "1"}
    before = {p: p.stat().st_mtime for p in repo.rglob("*") if p.is_file()}
    result = subprocess.run([sys.executable, "-m", "certwarden", *arguments], cwd=repo,
                            capture_output=True, text=True, env=env)
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    written = "".join(p.read_text(errors="replace") for p in repo.rglob("*")
                      if p.is_file() and (p not in before or p.stat().st_mtime != before[p])
                      and ".git" not in p.parts)
    for value in _secrets(repo):
        assert value not in result.stdout + result.stderr + written, arguments
    if arguments[:3] == ["check", "--format", "text"]:  # the secrets were really handled
        for rule in ("key-unencrypted", "passphrase-committed", "passphrase-wrong"):
            assert rule in result.stdout


def test_check_passphrase_and_new_csr_never_echo(repo: Path) -> None:
    for candidate in (PASSPHRASE, "bad pass$word with spaces"):
        result = subprocess.run([sys.executable, "-m", "certwarden", "check-passphrase",
                                 "--stdin"], input=candidate + "\n", capture_output=True,
                                text=True, cwd=repo)
        assert candidate not in result.stdout + result.stderr
    env = {**os.environ, "NEW_PASS": "bad pass$word with spaces"}
    result = subprocess.run([sys.executable, "-m", "certwarden", "new-csr", "--cn",
                             "sensor5.plant.example.com", "--country", "US", "--org", "E",
                             "--org-unit", "P", "--passphrase-env", "NEW_PASS", "--out-dir",
                             "out"], capture_output=True, text=True, cwd=repo, env=env)
    assert result.returncode == 2
    assert "bad pass$word" not in result.stdout + result.stderr


def test_in_process_logging_is_quiet(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from certwarden.cli import main

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        monkeypatch.chdir(repo)
        monkeypatch.setenv("CW_PASS", PASSPHRASE)
        main(["check", "pki", "deploy", "run.sh"])
    finally:
        logging.getLogger().removeHandler(handler)
    captured = capsys.readouterr()
    for value in _secrets(repo):
        assert value not in stream.getvalue() + captured.out + captured.err
