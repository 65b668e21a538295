"""The HTML inventory in a real browser: headless Chromium loads the report of a generated
plant; its DOM holds one row per certificate with the right status, its own script ran
under the report's Content-Security-Policy, and a screenshot is kept as a CI artifact
(ci-artifacts/inventory.png, git-ignored; looked at, not compared pixel by pixel)."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests import hookrepo, pki, plant

ARTIFACTS = hookrepo.PROJECT / "ci-artifacts"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def chromium() -> str:
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if found is None:
        reason = "Chromium is not installed (Debian: apt-get install chromium); .ci/run installs it"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser test: {reason}")
        pytest.skip(reason)
    return found


def browse(binary: str, page: Path, profile: Path, *flags: str) -> str:
    result = subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *flags,
                             page.as_uri()], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


class Rows(HTMLParser):
    """The inventory table's rows (fingerprint -> status) and the body's attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, str] = {}
        self.body: dict[str, str | None] = {}
        self.bars = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "tr" and "data-fp" in values:
            self.rows[str(values["data-fp"])] = str(values["data-status"])
        elif tag == "body":
            self.body = values
        elif tag == "rect" and (values.get("class") or "").startswith("f-"):
            self.bars += 1


def test_the_report_in_headless_chromium(tmp_path: Path) -> None:
    binary = chromium()
    repo = plant.build(tmp_path / "plant").root
    report = tmp_path / "inventory.html"
    made = subprocess.run([sys.executable, "-m", "certwarden", "inventory", "--now",
                           pki.NOW_ISO, "--format", "html", "--output", str(report)],
                          cwd=repo, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    listed = subprocess.run([sys.executable, "-m", "certwarden", "inventory", "--now",
                             pki.NOW_ISO, "--format", "json"], cwd=repo, capture_output=True,
                            text=True, check=True)
    expected = {row["fingerprint"]: row["status"]
                for row in json.loads(listed.stdout)["certificates"]}

    dom = Rows()
    dom.feed(browse(binary, report, tmp_path / "profile-dom", "--dump-dom"))
    assert dom.rows == expected and len(dom.rows) == 45
    assert sorted(dom.rows.values()).count("expired") == 1
    assert dom.bars == 45
    assert dom.body.get("data-ready") == "1"  # the report's script ran (CSP hash matches)

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "inventory.png"
    shot.unlink(missing_ok=True)
    browse(binary, report, tmp_path / "profile-shot", f"--screenshot={shot}",
           "--window-size=1400,1000")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1400, 1000)
