"""Real key files from the cryptography-vectors package, labelled by the openssl and
ssh-keygen command lines (never by the code under test): every key they open without a
passphrase is blocked as unencrypted; no key that needs one is."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import RunJson

cryptography_vectors = pytest.importorskip("cryptography_vectors")
VECTORS = Path(cryptography_vectors.__file__).parent / "asymmetric"
OPENSSL_FOLDERS = ("DER_Serialization", "PEM_Serialization", "PKCS8",
                   "Traditional_OpenSSL_Serialization", "Ed25519", "Ed448", "X25519", "X448")
VECTOR_PASSPHRASES = ("foobar", "password")  # what the vectors were made with


def _opens(command: list[str]) -> bool:
    return subprocess.run(command, capture_output=True, stdin=subprocess.DEVNULL,
                          timeout=30).returncode == 0


def _openssl_label(path: Path) -> str | None:
    form = ["-inform", "DER"] if path.suffix == ".der" else []
    base = ["openssl", "pkey", "-in", str(path), *form, "-noout", "-passin"]
    if _opens([*base, "pass:"]):
        return "unencrypted"
    if any(_opens([*base, f"pass:{p}"]) for p in VECTOR_PASSPHRASES):
        return "encrypted"
    return None  # not a private key openssl reads (public keys, parameters, broken files)


def _ssh_label(path: Path) -> str | None:
    base = ["ssh-keygen", "-y", "-f", str(path), "-P"]
    if _opens([*base, ""]):
        return "unencrypted"
    if any(_opens([*base, p]) for p in VECTOR_PASSPHRASES):
        return "encrypted"
    return None


def _labelled(scratch: Path, tool: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for folder in OPENSSL_FOLDERS if tool == "openssl" else ():
        for path in sorted((VECTORS / folder).glob("*")):
            if path.suffix in (".pem", ".der", ".key"):  # not test inputs such as sign.input
                label = _openssl_label(path)
                if label:
                    labels[f"{folder}/{path.name}"] = label
    if tool == "ssh-keygen":
        for path in sorted((VECTORS / "OpenSSH").glob("*.key")):
            copy = scratch / path.name  # ssh-keygen refuses key files others can read
            shutil.copyfile(path, copy)
            os.chmod(copy, 0o600)
            label = _ssh_label(copy)
            if label:
                labels[f"OpenSSH/{path.name}"] = label
    return labels


# (tool, at least this many unencrypted and encrypted keys it labels)
LABELLERS = [("openssl", 30, 10), ("ssh-keygen", 5, 5)]


@pytest.mark.parametrize(("tool", "unencrypted_count", "encrypted_count"), LABELLERS,
                         ids=[labeller[0] for labeller in LABELLERS])
def test_vectors_labelled_by_openssl_and_ssh_keygen(run_json: RunJson, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch, tool: str,
                                                     unencrypted_count: int,
                                                     encrypted_count: int) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"needs {tool}, which is not installed: its vectors are not labelled")
    labels = _labelled(tmp_path, tool)
    assert sum(1 for v in labels.values() if v == "unencrypted") >= unencrypted_count
    assert sum(1 for v in labels.values() if v == "encrypted") >= encrypted_count
    monkeypatch.chdir(VECTORS)
    _, document = run_json("--group", "keys", *labels)
    flagged = {f["path"] for f in document["findings"] if f["rule"] == "key-unencrypted"}
    unencrypted = {name for name, label in labels.items() if label == "unencrypted"}
    encrypted = {name for name, label in labels.items() if label == "encrypted"}
    assert unencrypted - flagged == set(), "unencrypted keys missed"
    assert encrypted & flagged == set(), "encrypted keys wrongly blocked"
