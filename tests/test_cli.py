"""The command line: rules, explain, README consistency, text output, the git index."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from certwarden.cli import main
from certwarden.registry import all_rules, markdown_table
from tests import hookrepo, pki

PROJECT = Path(__file__).resolve().parent.parent
# The rule ids of the contract are written once, in docs/contract.md (tests/test_contract.py).


def test_readme_rule_table_is_generated_from_registry() -> None:
    readme = (PROJECT / "README.md").read_text()
    table = readme.split("<!-- rules:begin -->\n", 1)[1].split("<!-- rules:end -->", 1)[0]
    assert table == markdown_table(), "run: certwarden rules --format markdown"


def test_every_hook_id_is_documented_in_readme() -> None:
    readme = (PROJECT / "README.md").read_text()
    hooks = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text())
    for hook in hooks:
        assert f"`{hook['id']}`" in readme, hook["id"]
        assert hook["entry"].startswith("certwarden ")


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (PROJECT / "README.md").read_text()
    commands = re.findall(r"^(python3 -m venv .*)$", readme, re.M)
    assert len(commands) == 2
    assert commands[1] in (PROJECT / ".ci" / "run").read_text()


def test_rules_and_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    listed = capsys.readouterr().out
    assert all(rule.id in listed for rule in all_rules())
    assert main(["explain", "cert-wildcard"]) == 0
    explained = capsys.readouterr().out
    assert "Wildcard certificates" in explained and "Fix:" in explained
    assert main(["explain", "no-such-rule"]) == 2


def test_text_output_lines_and_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    (tmp_path / "w.crt").write_bytes(pki.pem(pki.certificate(pki.Spec(cn="*.example.com"))))
    assert main(["check", "--now", pki.NOW_ISO, "w.crt"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("w.crt:1: cert-wildcard: ")
    assert "    hint: " in out
    assert "\033[" not in out  # not a terminal: no colour
    assert out.splitlines()[-1].startswith("certwarden: blocked: 1 error")


def test_colour_only_on_tty_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    from certwarden.reporters import text

    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert text.use_colour(Tty())  # type: ignore[arg-type]
    monkeypatch.setenv("NO_COLOR", "1")
    assert not text.use_colour(Tty())  # type: ignore[arg-type]


def test_usage_errors_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--now", "yesterday", "a.crt"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--format", "xml"])
    assert exit_info.value.code == 2


def test_check_without_paths_reads_staged_blobs_not_the_working_tree(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    hookrepo.git(repo, "init", "-q", "-b", "main")
    bad = pki.pem(pki.certificate(pki.Spec(cn="*.plant.example.com")))
    good = pki.pem(pki.certificate())
    (repo / "a.crt").write_bytes(bad)
    hookrepo.git(repo, "add", "a.crt")
    (repo / "a.crt").write_bytes(good)  # unstaged fix: the commit would still hold `bad`
    (repo / "untracked.crt").write_bytes(b"junk")
    monkeypatch.chdir(repo)
    assert main(["check", "--now", pki.NOW_ISO, "--group", "certificates"]) == 1
    out = capsys.readouterr().out
    assert "a.crt:1: cert-wildcard" in out and "untracked.crt" not in out
    hookrepo.git(repo, "add", "a.crt")
    assert main(["check", "--now", pki.NOW_ISO, "--group", "certificates"]) == 0


def test_check_outside_a_repository_without_paths_exits_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert main(["check"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_console_script_runs_as_a_process(tmp_path: Path) -> None:
    (tmp_path / "a.crt").write_bytes(pki.pem(pki.certificate()))
    result = subprocess.run([sys.executable, "-m", "certwarden", "check", "--now", pki.NOW_ISO,
                             "a.crt"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout


def test_readme_demo_command_blocks_the_bad_files(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", str(tmp_path / "example")]) == 0
    out = capsys.readouterr().out
    for rule in ("key-unencrypted", "cert-expired", "cert-wildcard", "cert-subject-org-unit"):
        assert rule in out
    assert "BEGIN" not in out  # the example's key material is never printed
