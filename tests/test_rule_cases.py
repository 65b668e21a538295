"""Every rule in the registry has a failing and a passing case (tests/rule_cases.py)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from certwarden.cli import main
from certwarden.findings import Rule
from certwarden.registry import all_rules
from tests.conftest import rules_of
from tests.pki import NOW_ISO
from tests.rule_cases import CASES, Case, RuleCase, Workspace

RULES = all_rules()


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    monkeypatch.chdir(tmp_path)
    with contextlib.ExitStack() as cleanup:
        yield Workspace(tmp_path, monkeypatch, cleanup)


def _judge(case: Case, workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> set[str]:
    arguments = case(workspace)
    capsys.readouterr()
    code = main(["check", "--format", "json", "--now", NOW_ISO, *arguments])
    assert code in (0, 1)
    return rules_of(json.loads(capsys.readouterr().out))


def _cases_of(rule: Rule) -> RuleCase:
    if rule.id not in CASES:
        pytest.fail(f"rule {rule.id} has no cases: add a failing and a passing case for it to "
                    "CASES in tests/rule_cases.py")
    return CASES[rule.id]


@pytest.mark.parametrize("rule", RULES, ids=[rule.id for rule in RULES])
def test_failing_case_reports_the_rule(rule: Rule, workspace: Workspace,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert rule.id in _judge(_cases_of(rule).failing, workspace, capsys)


@pytest.mark.parametrize("rule", RULES, ids=[rule.id for rule in RULES])
def test_passing_case_does_not_report_the_rule(rule: Rule, workspace: Workspace,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert rule.id not in _judge(_cases_of(rule).passing, workspace, capsys)


def test_every_case_belongs_to_a_rule() -> None:
    assert set(CASES) - {rule.id for rule in RULES} == set(), "cases of a rule that is gone"
