"""Reporters print a Report; they never judge.

Each module in this package is one `--format`, named after it, with one signature:
`write(report: Report, stream: TextIO, options: ReportOptions) -> None`. Adding a format
is adding a module here; the command line finds it.
"""

from __future__ import annotations

import importlib
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol, TextIO

    from certwarden.findings import Report

    class Reporter(Protocol):
        def write(self, report: Report, stream: TextIO, options: ReportOptions) -> None: ...


class ReportOptions:
    __slots__ = ("root", "strict")

    def __init__(self, *, strict: bool = False, root: str = ".") -> None:
        self.strict = strict  # warnings block too
        self.root = root  # the repository root: locations are relative to it


def formats() -> tuple[str, ...]:
    """Every output format: the modules of this package."""
    folder = os.path.dirname(os.path.abspath(__file__))
    return tuple(sorted(name[:-3] for name in os.listdir(folder)
                        if name.endswith(".py") and not name.startswith("_")))


def reporter(name: str) -> Reporter:
    module: Reporter = importlib.import_module(f"certwarden.reporters.{name}")
    return module


def split_commit(path: str, root: str) -> tuple[str, str | None]:
    """(path relative to the root, with / separators; the commit or None) of a finding's
    path: `scan --history` reports blobs as COMMIT:PATH, with an abbreviated commit id."""
    commit = None
    if ":" in path and not os.path.exists(path):
        prefix, _, rest = path.partition(":")
        if 7 <= len(prefix) <= 64 and all(c in "0123456789abcdef" for c in prefix):
            commit, path = prefix, rest
    root = os.path.abspath(root)
    absolute = os.path.abspath(os.path.join(root, path) if commit else path)
    relative = os.path.relpath(absolute, root) if absolute.startswith(root) else path
    return relative.replace(os.sep, "/"), commit
