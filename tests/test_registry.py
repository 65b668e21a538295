"""Rules as data: each rule declared once, beside its check, and collected by the registry."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from certwarden.config import Config, load_config
from certwarden.findings import Rule, Severity
from certwarden.registry import RULE_MODULES, all_rules, markdown_table

PACKAGE = Path(__file__).resolve().parent.parent / "hooks" / "certwarden"


def test_every_rule_id_string_appears_once_in_the_package() -> None:
    sources = {path: path.read_text() for path in PACKAGE.rglob("*.py")}
    for rule in all_rules():
        quoted = re.compile(rf"[\"']{re.escape(rule.id)}[\"']")
        places = [f"{path.relative_to(PACKAGE)}:{text.count(chr(10), 0, match.start()) + 1}"
                  for path, text in sources.items() for match in quoted.finditer(text)]
        assert len(places) == 1, f"{rule.id} is written in {places}"


def test_rule_ids_are_unique_and_well_formed() -> None:
    ids = [rule.id for rule in all_rules()]
    assert len(ids) == len(set(ids))
    for rule in all_rules():
        assert re.fullmatch(r"[a-z]+(-[a-z0-9]+)+|secret", rule.id), rule.id
        assert rule.summary and rule.policy and rule.hint
        assert isinstance(rule.severity, Severity)
        assert rule.security_severity


def test_collecting_the_rules_never_imports_cryptography() -> None:
    """Rule modules stay import-light: the registry is read on start-up paths."""
    program = ("import sys; from certwarden.registry import all_rules; all_rules(); "
               "print('cryptography' in sys.modules, 'detect_secrets' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split() == ["False", "False"], RULE_MODULES


def test_a_commit_without_keys_or_certificates_never_imports_cryptography(
        tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("nothing to see\n")
    program = ("import sys; from certwarden.cli import main; "
               "code = main(['check', '--group', 'keys', '--group', 'certificates', '--', "
               "'notes.md']); print(code, 'cryptography' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            cwd=tmp_path, check=True)
    assert result.stdout.split()[-2:] == ["0", "False"]


def test_rules_travel_between_processes_as_their_id() -> None:
    import pickle

    for rule in all_rules():
        assert pickle.loads(pickle.dumps(rule)) is rule


def test_markdown_table_lists_every_rule_in_registry_order() -> None:
    table = markdown_table()
    positions = [table.index(f"`{rule.id}`") for rule in all_rules()]
    assert positions == sorted(positions)


def test_configuration_is_read_only_after_loading(tmp_path: Path) -> None:
    config = load_config(start=str(tmp_path), overrides={"crl-fetch": True})
    assert config.crl_fetch is True
    with pytest.raises(AttributeError):
        config.crl_fetch = False  # type: ignore[misc]
    assert isinstance(Config(), Config)


def test_overrides_are_validated_like_the_file(tmp_path: Path) -> None:
    from certwarden.config import ConfigError

    (tmp_path / ".certwarden.toml").write_text(
        "[secrets-exclude]\nfiles = ['^docs/']\n")
    config = load_config(start=str(tmp_path),
                         overrides={"secrets-exclude": {"files": ["^tests/"]}})
    assert config.secrets_exclude == {"files": ["^docs/", "^tests/"]}
    with pytest.raises(ConfigError):
        load_config(start=str(tmp_path), overrides={"crl-fetch": "yes"})


def test_a_rule_is_its_own_issue_factory() -> None:
    rule = Rule("demo-rule", "certificates", Severity.WARNING, summary="s", policy="p",
                hint="fix {path}")
    finding = rule.issue("message").at("a.crt", 3, "f" * 64)
    assert finding.rule is rule and finding.severity is Severity.WARNING
    assert finding.hint == "fix a.crt" and finding.as_json()["rule"] == "demo-rule"
