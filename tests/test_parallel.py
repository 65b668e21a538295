"""Forked workers give exactly the serial verdict, and a failed worker loses no file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from certwarden import parallel
from tests import pki
from tests.conftest import RunJson


def _files(folder: Path) -> list[str]:
    plain = pki.rsa_key().private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.TraditionalOpenSSL,
                                        serialization.NoEncryption())
    names = []
    for index in range(60):
        name = f"f{index}.{'key' if index % 7 == 0 else 'txt'}"
        (folder / name).write_bytes(plain if index % 7 == 0 else b"nothing here\n")
        names.append(name)
    (folder / "wild.crt").write_bytes(pki.pem(pki.certificate(pki.Spec(cn="*.example.com"))))
    return [*names, "wild.crt"]


@pytest.mark.parametrize("workers", [2, 3])
def test_forked_workers_match_serial(run_json: RunJson, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    names = _files(tmp_path)
    monkeypatch.setattr(parallel, "worker_count", lambda items: 1)
    serial = run_json(*names)
    monkeypatch.setattr(parallel, "worker_count", lambda items: workers)
    forked = run_json(*names)
    assert forked == serial
    assert serial[1]["files_checked"] == len(names)
    assert len([f for f in serial[1]["findings"] if f["rule"] == "key-unencrypted"]) == 9


def test_failed_worker_share_is_done_by_the_parent(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    parent = os.getpid()
    monkeypatch.setattr(parallel, "worker_count", lambda items: 2)

    def work(chunk: object) -> list[str]:
        if os.getpid() != parent:
            os._exit(3)  # the child dies without a result
        return list(chunk)  # type: ignore[call-overload]

    results = parallel.map_chunks(work, [str(i) for i in range(10)])
    assert sorted(x for part in results for x in part) == sorted(str(i) for i in range(10))


def test_workers_follow_the_cores_also_under_pre_commit(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    """The hooks are require_serial: pre-commit gives one process every file, so the
    cores are ours to use, with at least MIN_FILES_PER_WORKER files each."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    monkeypatch.setenv("PRE_COMMIT", "1")
    assert parallel.worker_count(100_000) == 4
    assert parallel.worker_count(2 * parallel.MIN_FILES_PER_WORKER) == 2
    assert parallel.worker_count(parallel.MIN_FILES_PER_WORKER - 1) == 1
