"""The documentation of record agrees with the package: the contract's rule ids, groups and
default severities, its configuration keys and hook ids, and a policy line for every rule."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from certwarden.config import CONFIG_KEYS
from certwarden.registry import all_rules

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _table(document: str, name: str) -> list[list[str]]:
    """The rows of the markdown table between <!-- NAME:begin --> and <!-- NAME:end -->,
    header and separator left out, cells stripped of their backticks."""
    text = (DOCS / document).read_text()
    body = text.split(f"<!-- {name}:begin -->\n", 1)[1].split(f"<!-- {name}:end -->", 1)[0]
    rows = [line.strip().strip("|").split("|") for line in body.splitlines() if line.strip()]
    return [[cell.strip().strip("`") for cell in row] for row in rows[2:]]


def test_contract_lists_exactly_the_registry_rules() -> None:
    listed = [(rule_id, group, severity)
              for rule_id, group, severity in _table("contract.md", "rule-ids")]
    declared = [(rule.id, rule.group, rule.severity.value) for rule in all_rules()]
    assert sorted(listed) == sorted(declared), (
        "docs/contract.md and the registry disagree: a rule id is a contract, add it there")
    assert len(listed) == len({row[0] for row in listed})


def test_contract_lists_exactly_the_configuration_keys() -> None:
    listed = [row[0] for row in _table("contract.md", "config-keys")]
    assert sorted(listed) == sorted(CONFIG_KEYS)


def test_contract_lists_every_hook_with_its_entry() -> None:
    text = (DOCS / "contract.md").read_text()
    hooks = yaml.safe_load((DOCS.parent / ".pre-commit-hooks.yaml").read_text())
    for hook in hooks:
        assert f"| `{hook['id']}` |" in text and f"`{hook['entry']}`" in text, hook["id"]


def test_policy_explains_every_rule() -> None:
    text = (DOCS / "policy.md").read_text()
    missing = [rule.id for rule in all_rules() if f"`{rule.id}`" not in text]
    assert missing == [], "docs/policy.md says nothing of these rules"


def test_code_cites_the_docs_of_record() -> None:
    """Comments cite docs/policy.md, docs/architecture.md, docs/contract.md, which exist."""
    package = DOCS.parent / "hooks" / "certwarden"
    cited = set()
    for path in package.rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"\b(POLICY|SPEC)\.md", text), path
        cited.update(re.findall(r"docs/([a-z]+\.md)", text))
    assert cited and all((DOCS / name).is_file() for name in cited), cited
