"""A real git server on disk: a bare repository whose hooks/pre-receive runs
`certwarden pre-receive` with this interpreter, and clones that push to it."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from tests import hookrepo, pki
from tests.pki import NOW_ISO

LATER = pki.NOW.replace(year=2099)  # certificates that outlive every test date


class Material:
    """Keys and certificates for one test module: its own key slots (so that modules never
    share a key by accident) and the passphrase of its encrypted keys."""

    def __init__(self, slot: int, passphrase: bytes) -> None:
        self.slot = slot
        self.passphrase = passphrase

    def plain_key(self, slot: int | None = None) -> bytes:
        return pki.rsa_key(2048, slot or self.slot).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption())

    def encrypted_key(self, slot: int | None = None) -> bytes:
        return pki.rsa_key(2048, slot or self.slot).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self.passphrase))

    def good_certificate(self, slot: int | None = None,
                         cn: str = "sensor1.plant.example.com") -> bytes:
        return pki.pem(pki.certificate(pki.Spec(cn=cn, not_after=LATER,
                                                key_slot=slot or self.slot)))


def key_lines(key: bytes) -> list[str]:
    """A PEM key's body lines: what must never appear in any output."""
    return [line for line in key.decode().splitlines() if "-----" not in line]


def make_server(path: Path, *hook_args: str) -> Path:
    """A bare repository (default branch main) with the pre-receive hook installed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    hookrepo.git(path.parent, "init", "-q", "--bare", "-b", "main", str(path))
    # Every blocking finding described, so that tests can compare them all.
    arguments = " ".join(shlex.quote(a) for a in ("--now", NOW_ISO, "--max-shown", "0",
                                                  *hook_args))
    hook = path / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m certwarden pre-receive "
                    f"{arguments}\n")
    hook.chmod(0o755)
    return path


def clone(server: Path, path: Path) -> Path:
    hookrepo.git(server.parent, "clone", "-q", str(server), str(path))
    if not hookrepo.git(path, "rev-parse", "-q", "--verify", "HEAD", check=False).stdout:
        hookrepo.git(path, "symbolic-ref", "HEAD", "refs/heads/main")  # an empty server
    return path


def clone_with_main(server: Path, path: Path) -> Path:
    """A clone whose main is on the server (one accepted push: a README)."""
    repo = clone(server, path)
    commit(repo, {"README.md": b"# plant certificates\n"}, "start")
    code, output = push(repo, "HEAD:main")
    assert code == 0, output
    return repo


def write(repo: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def commit(repo: Path, files: dict[str, bytes], message: str = "change",
           remove: tuple[str, ...] = ()) -> str:
    """Commit these files (no hooks run: as with --no-verify); return the commit id."""
    write(repo, files)
    if files:
        hookrepo.git(repo, "add", "--", *files)
    if remove:
        hookrepo.git(repo, "rm", "-q", "--", *remove)
    hookrepo.git(repo, "commit", "-q", "--no-verify", "--allow-empty", "-m", message)
    return head(repo)


def head(repo: Path, ref: str = "HEAD") -> str:
    return hookrepo.git(repo, "rev-parse", ref).stdout.strip()


def ref_of(server: Path, ref: str) -> str | None:
    result = hookrepo.git(server, "rev-parse", "--verify", "-q", ref, check=False)
    return result.stdout.strip() or None


def has_object(server: Path, object_id: str) -> bool:
    return hookrepo.git(server, "cat-file", "-e", object_id, check=False).returncode == 0


def push(repo: Path, *args: str) -> tuple[int, str]:
    """`git push origin ARGS`: (exit status, everything git printed)."""
    result = hookrepo.git(repo, "push", "origin", *args, check=False)
    return result.returncode, result.stdout + result.stderr


FINDING_LINE = re.compile(
    r"^remote: certwarden: (?:commit|object) ([0-9a-f]+) \(([^)]*)\): (.+?)\s*$")
RULE_LINE = re.compile(r"^remote: certwarden:   ([a-z0-9-]+) \[(error|warning|info)\]: ")


def rejections(output: str) -> set[tuple[str, str]]:
    """(path, rule) of each finding the hook reported, from git's `remote:` lines."""
    found: set[tuple[str, str]] = set()
    path = ""
    for line in output.splitlines():
        if match := FINDING_LINE.match(line):
            path = match.group(3).rsplit(":", 1)[0] if re.search(r":\d+$", match.group(3)) \
                else match.group(3)
        elif (match := RULE_LINE.match(line)) and path:
            found.add((path, match.group(1)))
    return found
