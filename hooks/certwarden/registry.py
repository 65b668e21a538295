"""Every rule certwarden knows, collected from where each one is declared.

A rule is a module-level `Rule(...)` beside its check, in one of RULE_MODULES. The
registry only collects them: `certwarden rules`, `certwarden explain`, the README rule
table, SARIF rule metadata, configuration checks and the tests all read it. Rule
modules stay import-light (no cryptography at import time), so collecting is cheap.
"""

from __future__ import annotations

import functools
import importlib

from certwarden.findings import Rule

# In the order `certwarden rules` and the README list them.
RULE_MODULES = (
    "certwarden.rules.certificate_rules",
    "certwarden.rules.repository_rules",
    "certwarden.rules.trust_rules",
    "certwarden.rules.key_rules",
    "certwarden.rules.secret_rules",
    "certwarden.rules.appliance_rules",
)


@functools.cache
def all_rules() -> tuple[Rule, ...]:
    found: dict[str, Rule] = {}
    for name in RULE_MODULES:
        for value in vars(importlib.import_module(name)).values():
            if isinstance(value, Rule):
                declared = found.setdefault(value.id, value)
                if declared is not value:
                    raise RuntimeError(f"rule {value.id} is declared twice")
    return tuple(found.values())


@functools.cache
def rules_by_id() -> dict[str, Rule]:
    return {rule.id: rule for rule in all_rules()}


def get_rule(rule_id: str) -> Rule:
    return rules_by_id()[rule_id]


def markdown_table() -> str:
    """The README's rule table, generated so documentation never drifts."""
    lines = [
        "| rule | severity | checks | fix |",
        "| --- | --- | --- | --- |",
    ]
    for rule in all_rules():
        fix = rule.hint.replace("{path}", "FILE").replace("|", "\\|")
        lines.append(f"| `{rule.id}` | {rule.severity.value} | {rule.summary} | {fix} |")
    return "\n".join(lines) + "\n"
