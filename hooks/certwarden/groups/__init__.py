"""Check groups: each decides cheaply which files it wants, then judges them.

Every group has the same interface (`Group`), so the pipeline runs them without knowing
their names. A file group judges the files it is given, one at a time; a repository
group judges the git index as a whole, once per run. A hook runs one group.
"""

from __future__ import annotations

import contextlib
import importlib

from certwarden.context import RuleContext
from certwarden.findings import Finding, Rule
from certwarden.sources import SourceFile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

# Every group, in the order a run applies them; each lives in certwarden.groups.<name>.
NAMES = ("certificates", "keys", "secrets", "unique", "appliances")
FILE, REPOSITORY = "file", "repository"


class Group:
    """The interface of every group; the defaults do nothing."""

    name = ""
    scope = FILE  # FILE: the files it is given; REPOSITORY: the git index as a whole

    def unreadable_rule(self) -> Rule:
        """The rule reported when the group itself fails on a file."""
        raise NotImplementedError

    @contextlib.contextmanager
    def session(self, context: RuleContext) -> Iterator[None]:
        """Set up around a run of check() calls, and always tear down."""
        yield

    def wants(self, source: SourceFile, context: RuleContext) -> bool:
        return False

    def check(self, source: SourceFile, context: RuleContext) -> list[Finding]:
        return []

    def judge_repository(self, context: RuleContext) -> tuple[list[Finding], int]:
        """(findings, files judged) over the whole repository; file groups have none."""
        return [], 0


def load(name: str) -> Group:
    group: Group = importlib.import_module(f"certwarden.groups.{name}").GROUP
    return group


def load_all(names: tuple[str, ...] | list[str]) -> list[Group]:
    return [load(name) for name in names]


def default_names(*, repository: bool) -> list[str]:
    """`check` runs the file groups; `scan` adds the repository groups."""
    return [name for name in NAMES if repository or load(name).scope == FILE]
