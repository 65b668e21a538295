"""External programs some tests run (openssl, ssh-keygen, gpg). A test that needs one that
is missing is skipped, and says which: never a silent pass on fewer samples. CI installs
every one of them (.ci/run checks), so CI skips nothing."""

from __future__ import annotations

import shutil

import pytest


def installed(tool: str) -> bool:
    return shutil.which(tool) is not None


def needs(*tools: str) -> pytest.MarkDecorator:
    """Skip the test, with a reason naming them, when any of these tools is missing."""
    missing = [tool for tool in tools if not installed(tool)]
    return pytest.mark.skipif(bool(missing), reason=f"needs {', '.join(missing)}, which is "
                                                    "not installed")


def require(tool: str) -> None:
    """Inside a test or a builder it calls: skip, naming the tool, when it is missing."""
    if not installed(tool):
        pytest.skip(f"needs {tool}, which is not installed")
