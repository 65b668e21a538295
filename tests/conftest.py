from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from certwarden.cli import main
from tests.pki import NOW_ISO

RunJson = Callable[..., tuple[int, dict[str, Any]]]


@pytest.fixture
def run_json(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
             tmp_path: Path) -> RunJson:
    """`certwarden check --format json` in-process, from inside tmp_path."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str, now: str = NOW_ISO) -> tuple[int, dict[str, Any]]:
        capsys.readouterr()
        code = main(["check", "--format", "json", "--now", now, *args])
        out = capsys.readouterr().out
        return code, json.loads(out)

    return run


def rules_of(document: dict[str, Any], path: str | None = None,
             *, severity: str | None = None) -> set[str]:
    return {f["rule"] for f in document["findings"]
            if (path is None or f["path"] == path)
            and (severity is None or f["severity"] == severity)}
