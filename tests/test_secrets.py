"""The secret rule gives detect-secrets' own findings, honours its baseline and pragma."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from certwarden.cli import main
from tests import secretcorpus

DETECT_SECRETS = Path(sys.executable).parent / "detect-secrets"


def _reference(folder: Path, *arguments: str) -> str:
    """`detect-secrets scan` as the reference, always offline: without --no-verify it
    would send each (fake) token it finds to its service's API. Our hook never verifies."""
    command = str(DETECT_SECRETS) if DETECT_SECRETS.exists() else shutil.which("detect-secrets")
    assert command, "detect-secrets is a dependency"
    return subprocess.run([command, "scan", "--no-verify", *arguments], cwd=folder,
                          capture_output=True, text=True, check=True).stdout


def _detect_secrets_scan(folder: Path, names: list[str]) -> set[tuple[str, int, str]]:
    output = _reference(folder, *names)
    results = json.loads(output)["results"]
    return {(name, r["line_number"], r["type"]) for name, found in results.items()
            for r in found if r["type"] != "Private Key"}


def _ours(capsys: pytest.CaptureFixture[str], names: list[str]) -> set[tuple[str, int, str]]:
    capsys.readouterr()
    main(["check", "--group", "secrets", "--format", "json", *names])
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert {f["rule"] for f in findings} <= {"secret"}
    return {(f["path"], f["line"], f["message"].split(" (detect-secrets)")[0])
            for f in findings}


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_identical_to_detect_secrets_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str],
                                          seed: int) -> None:
    names = secretcorpus.build(tmp_path, seed=seed)
    monkeypatch.chdir(tmp_path)
    theirs = _detect_secrets_scan(tmp_path, names)
    ours = _ours(capsys, names)
    assert ours == theirs
    types = {t for _, _, t in theirs}
    assert {"AWS Access Key", "GitHub Token", "Slack Token", "Stripe Access Key",
            "JSON Web Token", "Basic Auth Credentials", "Secret Keyword",
            "Base64 High Entropy String", "Hex High Entropy String"} <= types


def test_baseline_and_pragma_are_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / "old.py").write_text(f'token = "{secretcorpus.GITHUB}"\n')
    (tmp_path / "ok.py").write_text(
        f'token = "{secretcorpus.GITHUB}"  # pragma: allowlist secret\n')
    assert main(["check", "--group", "secrets", "old.py", "ok.py"]) == 1
    output = capsys.readouterr().out
    assert "old.py:1: secret: GitHub Token" in output and "ok.py" not in output.split("\n")[0]
    baseline = _reference(tmp_path, "old.py")
    (tmp_path / ".secrets.baseline").write_text(baseline)
    assert main(["check", "--group", "secrets", "old.py", "ok.py"]) == 0
    # Committing the baselines themselves: their hashes are not secrets.
    (tmp_path / ".certwarden-baseline.json").write_text(json.dumps({"version": 1, "entries": [
        {"rule": "cert-wildcard", "fingerprint": "9f2c" * 16, "path": "a.crt"}]}, indent=2))
    assert main(["check", "--group", "secrets", ".secrets.baseline",
                 ".certwarden-baseline.json"]) == 0
    (tmp_path / "new.py").write_text(f'aws = "{secretcorpus.AWS}"\n')
    assert main(["check", "--group", "secrets", "old.py", "new.py"]) == 1


def test_secret_values_never_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    names = secretcorpus.build(tmp_path)
    monkeypatch.chdir(tmp_path)
    for output_format in ("text", "json", "sarif"):
        main(["check", "--group", "secrets", "--format", output_format, *names])
        captured = capsys.readouterr()
        for value in (secretcorpus.AWS, secretcorpus.GITHUB, secretcorpus.SLACK,
                      secretcorpus.STRIPE, secretcorpus.HIGH_ENTROPY, secretcorpus.JWT):
            assert value not in captured.out + captured.err


def test_detect_secrets_settings_are_restored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from detect_secrets.settings import get_settings

    before = get_settings().json()
    (tmp_path / "a.py").write_text('x = "1"\n')
    monkeypatch.chdir(tmp_path)
    main(["check", "--group", "secrets", "a.py"])
    assert get_settings().json() == before


def test_baseline_option_as_detect_secrets_hook_takes_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / "old.py").write_text(f'token = "{secretcorpus.GITHUB}"\n')
    baseline = _reference(tmp_path, "old.py")
    (tmp_path / "known.baseline").write_text(baseline)
    assert main(["check", "--group", "secrets", "old.py"]) == 1
    assert main(["check", "--group", "secrets", "--baseline", "known.baseline", "old.py",
                 "known.baseline"]) == 0


@pytest.mark.parametrize(("option", "pattern"), [
    ("--exclude-files", r"^generated/"), ("--exclude-lines", "EXAMPLE-ONLY"),
    ("--exclude-secrets", "^AKIA"),
])
def test_exclude_options_as_detect_secrets_hook_takes_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: str, pattern: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "generated").mkdir()
    (tmp_path / "generated" / "a.py").write_text(
        f'aws = "{secretcorpus.AWS}"  # EXAMPLE-ONLY\n')
    assert main(["check", "--group", "secrets", "generated/a.py"]) == 1
    assert main(["check", "--group", "secrets", option, pattern, "generated/a.py"]) == 0
    (tmp_path / ".certwarden.toml").write_text(
        f"[secrets-exclude]\n{option.split('-')[-1]} = ['{pattern}']\n")
    assert main(["check", "--group", "secrets", "generated/a.py"]) == 0


# -- the adapter: a public path as good as the fast one ---------------------------------------

def _count_public_scans(monkeypatch: pytest.MonkeyPatch, module: object) -> list[str]:
    from detect_secrets.core import scan as ds_scan

    calls: list[str] = []
    public = ds_scan.scan_file

    def scan_file(filename: str) -> Iterator[object]:
        calls.append(filename)
        return public(filename)

    monkeypatch.setattr(module, "scan_file", scan_file, raising=False)
    return calls


@pytest.mark.parametrize("how", ["missing", "signature", "release"])
def test_public_path_without_the_private_functions_gives_the_same_findings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        how: str) -> None:
    """A detect-secrets release that renamed, removed or changed what the fast path calls
    makes the hook slower, never wrong."""
    import types

    from detect_secrets import __version__ as ds_version
    from detect_secrets.core import scan as ds_scan

    from certwarden.recognition import secrets_scan

    if how == "missing":  # the adapter sees a detect_secrets.core.scan without them
        visible = types.ModuleType("detect_secrets.core.scan")
        calls = _count_public_scans(monkeypatch, visible)
        monkeypatch.setattr(secrets_scan, "ds_scan", visible)
    else:
        calls = _count_public_scans(monkeypatch, ds_scan)
    if how == "signature":
        original = ds_scan._scan_line

        def _scan_line(plugin: object, filename: str, line: str, line_number: int,
                       context: object, enable_eager_search: bool = False,
                       **kwargs: object) -> Iterator[object]:
            return original(plugin=plugin, filename=filename, line=line,  # type: ignore[arg-type]
                            line_number=line_number, context=context,  # type: ignore[arg-type]
                            enable_eager_search=enable_eager_search, **kwargs)

        monkeypatch.setattr(ds_scan, "_scan_line", _scan_line)
    if how == "release":
        monkeypatch.setattr(ds_version, "VERSION", "1.99.0")
    assert secrets_scan.fast_path_problem() is not None
    names = secretcorpus.build(tmp_path, seed=7)
    monkeypatch.chdir(tmp_path)
    assert _ours(capsys, names) == _detect_secrets_scan(tmp_path, names)
    assert sorted(calls) == sorted(names)  # every file went through detect-secrets' scan_file


def test_fast_path_on_the_installed_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The releases pyproject.toml admits are the tested ones, and there the fast path runs."""
    from detect_secrets.core import scan as ds_scan

    from certwarden.recognition import secrets_scan

    assert secrets_scan.fast_path_problem() is None
    calls = _count_public_scans(monkeypatch, ds_scan)
    names = secretcorpus.build(tmp_path, files=5, seed=8)
    monkeypatch.chdir(tmp_path)
    assert _ours(capsys, names)
    assert calls == []


def test_the_dependency_range_starts_at_the_first_tested_release() -> None:
    """Releases before the tested ones are refused; newer 1.x releases are admitted and
    take the public path (a new release makes the hook slower, never wrong)."""
    from certwarden.recognition.secrets_scan import TESTED_RELEASES

    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    (first_major, first_minor), _ = TESTED_RELEASES
    declared = re.findall(r'"detect-secrets([^";]*)"', pyproject)
    assert declared and set(declared) == {f">={first_major}.{first_minor},<{first_major + 1}"}
    matrix = (Path(__file__).resolve().parent.parent / ".ci" / "detect-secrets-matrix")
    releases = re.search(r"RELEASES=\(([^)]*)\)", matrix.read_text())
    assert releases
    first, last = TESTED_RELEASES
    for release in releases.group(1).split():
        assert first <= tuple(int(p) for p in release.split(".")[:2]) < last, release


def test_every_builtin_plugin_is_probed_or_always_scanned() -> None:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.settings import default_settings, get_plugins

    from certwarden.recognition.secrets_scan import probe_for

    builtin = {cls.__name__ for cls in get_mapping_from_secret_type_to_class().values()}
    with default_settings():
        plugins = list(get_plugins())
    assert {type(plugin).__name__ for plugin in plugins} == builtin
    probed, always_scanned = set(), set()
    for plugin in plugins:
        probe = probe_for(plugin)
        if probe is None:
            always_scanned.add(type(plugin).__name__)
        else:
            # A probe without patterns would skip the plugin on every line.
            assert probe.patterns, type(plugin).__name__
            probed.add(type(plugin).__name__)
    assert probed | always_scanned == builtin
    # On the tested releases every built-in plugin is probed (speed, not correctness):
    # a plugin a new release adds is scanned on every line until someone reads it.
    assert always_scanned == set()


def test_settings_are_restored_when_a_run_fails(tmp_path: Path) -> None:
    from detect_secrets.settings import get_settings

    from certwarden.config import Config
    from certwarden.context import RuleContext
    from certwarden.groups import load
    from certwarden.sources import SourceFile
    from tests.pki import NOW

    before = get_settings().json()
    group = load("secrets")
    context = RuleContext(Config(root=str(tmp_path)), NOW)
    source = SourceFile("a.py", f'aws = "{secretcorpus.AWS}"\n'.encode(), 40)
    with pytest.raises(KeyboardInterrupt), group.session(context):
        assert group.check(source, context)
        assert get_settings().json() != before  # detect-secrets is configured for the run
        raise KeyboardInterrupt
    assert get_settings().json() == before


def test_keyword_lines_with_and_without_length_changing_case_folds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Keyword probing by line (ASCII) and over the whole text ('ß' folds to 'ss')."""
    (tmp_path / "plain.py").write_text(
        'name = "x"\nDB_PASS = "Kx9-wq2-Lm4-zz8"\n'  # pragma: allowlist secret
        'client = 1\napi_key = "a8f-Q2m-77z"\n',  # pragma: allowlist secret
        encoding="utf-8")
    (tmp_path / "folded.py").write_text(
        'straße = "Hauptstraße"\n'
        'Password = "Kx9-wq2-Lm4-zz8"\nkey = 1\n'  # pragma: allowlist secret
        'contraseña = "Zq8-Lm3-Pp0-aa1"\n', encoding="utf-8")  # pragma: allowlist secret
    monkeypatch.chdir(tmp_path)
    names = ["plain.py", "folded.py"]
    theirs = _detect_secrets_scan(tmp_path, names)
    assert {t for _, _, t in theirs} == {"Secret Keyword"}
    assert {name for name, _, _ in theirs} == set(names)
    assert _ours(capsys, names) == theirs
