"""Configuration: defaults, overrides, and errors that exit 2 naming the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from certwarden.cli import main
from certwarden.config import ConfigError, load_config
from tests import pki
from tests.conftest import RunJson, rules_of

BAD_CONFIGS = [
    ("key-size = [2048]", "key-size"),
    ("key-sizes = 2048", "key-sizes"),
    ("key-sizes = [\"2048\"]", "key-sizes"),
    ("crl-mode = \"sometimes\"", "crl-mode"),
    ("expiry-warning-days = \"30\"", "expiry-warning-days"),
    ("expiry-warning-days = true", "expiry-warning-days"),
    ("signature-algorithms = [\"sha256\"]", "signature-algorithms"),
    ("key-types = [\"rsa\", \"quantum\"]", "key-types"),
    ("[severity]\ncert-expird = \"off\"", "cert-expird"),
    ("[severity]\ncert-expired = \"fatal\"", "severity.cert-expired"),
    ("[subject.common-name]\npatern = \"x\"", "patern"),
    ("[subject.common-name]\npattern = \"(\"", "pattern"),
    ("[subject.serial]\nrequired = true", "subject.serial"),
    ("[passphrases]\n\"*.key\" = \"not a variable\"", "passphrases"),
    ("[[allowlist]]\nrule = \"cert-expired\"", "allowlist"),
    ("this is = not toml", "TOML"),
]


@pytest.mark.parametrize(("text", "named"), BAD_CONFIGS, ids=[c[1] for c in BAD_CONFIGS])
def test_bad_config_exits_2_naming_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str], text: str,
                                           named: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".certwarden.toml").write_text(text + "\n")
    (tmp_path / "a.crt").write_bytes(pki.pem(pki.certificate()))
    assert main(["check", "a.crt"]) == 2
    captured = capsys.readouterr()
    assert named in captured.err
    assert "Traceback" not in captured.err


def test_pyproject_table_is_read_from_repository_root(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        "[tool.certwarden]\ncrl-mode = \"forbid\"\nkey-sizes = [3072]\n"
        "[tool.certwarden.subject.common-name]\npattern = '\\.plant\\.example\\.com$'\n")
    sub = tmp_path / "pki"
    sub.mkdir()
    (sub / "a.crt").write_bytes(pki.pem(pki.certificate(pki.Spec(cn="sensor1.other.example"))))
    monkeypatch.chdir(sub)  # run from a sub-folder: config is found at the root
    code = main(["check", "--format", "json", "--now", pki.NOW_ISO, "a.crt"])
    assert code == 1
    assert rules_of(json.loads(capsys.readouterr().out)) == {
        "cert-crl-distribution-point", "cert-key-size", "cert-subject-cn"}


def test_both_config_files_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.certwarden]\ncrl-mode = \"ignore\"\n")
    (tmp_path / ".certwarden.toml").write_text("crl-mode = \"forbid\"\n")
    assert main(["check", "--group", "certificates"]) == 2


def test_explicit_config_file(run_json: RunJson, tmp_path: Path) -> None:
    (tmp_path / "strict.toml").write_text("expiry-warning-days = 500\n")
    (tmp_path / "a.crt").write_bytes(pki.pem(pki.certificate()))
    code, document = run_json("--config", "strict.toml", "a.crt")
    assert code == 0
    assert rules_of(document, severity="warning") == {"cert-expiring-soon"}


def test_missing_explicit_config_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--config", "missing.toml", "x.crt"]) == 2
    assert "missing.toml" in capsys.readouterr().err


def test_severity_override_and_off(run_json: RunJson, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".certwarden.toml").write_text(
        "[severity]\ncert-key-size-slow = \"error\"\ncert-crl-distribution-point = \"off\"\n")
    (tmp_path / "a.crt").write_bytes(pki.pem(pki.certificate(pki.Spec(key_bits=4096,
                                                                      crl_urls=None))))
    code, document = run_json("a.crt")
    assert code == 1
    assert rules_of(document, severity="error") == {"cert-key-size-slow"}


def test_subject_value_and_optional_field(run_json: RunJson, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".certwarden.toml").write_text(
        "[subject.organization]\nvalue = \"Example Corp\"\n"
        "[subject.organizational-unit]\nrequired = false\n")
    (tmp_path / "a.crt").write_bytes(pki.pem(pki.certificate(pki.Spec(org_unit=None))))
    (tmp_path / "b.crt").write_bytes(pki.pem(pki.certificate(pki.Spec(org="Other Corp"))))
    _, document = run_json("a.crt", "b.crt")
    assert rules_of(document, "a.crt") == set()
    assert rules_of(document, "b.crt") == {"cert-subject-org"}


def test_crl_modes(run_json: RunJson, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "with.crt").write_bytes(pki.pem(pki.certificate()))
    (tmp_path / "without.crt").write_bytes(pki.pem(pki.certificate(pki.Spec(crl_urls=None))))
    expectations = {"require": {"without.crt"}, "forbid": {"with.crt"}, "ignore": set()}
    for mode, flagged in expectations.items():
        (tmp_path / ".certwarden.toml").write_text(f"crl-mode = \"{mode}\"\n")
        _, document = run_json("with.crt", "without.crt")
        assert {f["path"] for f in document["findings"]} == flagged, mode


def test_exclude_globs(run_json: RunJson, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".certwarden.toml").write_text("exclude = [\"fixtures/**\"]\n")
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "bad.crt").write_bytes(b"junk")
    code, document = run_json("fixtures/bad.crt")
    assert code == 0
    assert document["files_checked"] == 0


def test_allowlist_by_fingerprint_and_rule(run_json: RunJson, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "a.crt").write_bytes(pki.pem(pki.certificate(pki.Spec(crl_urls=None))))
    _, document = run_json("a.crt")
    fingerprint = document["findings"][0]["fingerprint"]
    (tmp_path / ".certwarden.toml").write_text(
        f"[[allowlist]]\nfingerprint = \"{fingerprint}\"\n"
        "rule = \"cert-crl-distribution-point\"\nreason = \"lab\"\n")
    code, document = run_json("a.crt")
    assert code == 0
    assert document["findings"] == []


def test_readme_configuration_examples_are_valid() -> None:
    """The documented configuration must load: docs that drift are caught here."""
    import re
    import sys

    from certwarden.config import config_from_mapping

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    blocks = re.findall(r"```toml\n(.*?)```", readme, re.S)
    assert len(blocks) >= 2
    for block in blocks:
        table = tomllib.loads(block)["tool"]["certwarden"]
        config = config_from_mapping(table, root=".", source="README")
        assert config.key_sizes


@pytest.mark.parametrize("text", ["tool = 1\n", "[tool]\ncertwarden = 3\n"])
def test_a_pyproject_whose_tool_is_not_a_table_is_a_configuration_error(
        tmp_path: Path, text: str) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(f"# certwarden\n{text}")
    with pytest.raises(ConfigError, match="must be a table"):
        load_config(start=str(tmp_path))
