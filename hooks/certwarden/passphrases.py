"""Passphrases: which environment variable holds a key's passphrase, and is it allowed.

A passphrase value never leaves this process: it is not printed, logged or stored.
"""

from __future__ import annotations

import fnmatch
import os
import string

from certwarden.config import Config

# docs/policy.md: ASCII letters, digits and these specials; nothing else.
ALLOWED_SPECIALS = "!#%()+,-./:=?@[\\]^_{}~"
ALLOWED_CHARACTERS = frozenset(string.ascii_letters + string.digits + ALLOWED_SPECIALS)


def path_matches(path: str, pattern: str) -> bool:
    """Glob match on the repository-relative path; `**/` also matches no folder."""
    normalized = path.replace(os.sep, "/")
    while normalized.startswith("./"):
        normalized = normalized[2:]
    if fnmatch.fnmatchcase(normalized, pattern):
        return True
    if pattern.startswith("**/") and fnmatch.fnmatchcase(normalized, pattern[3:]):
        return True
    if pattern.endswith("/") and normalized.startswith(pattern):
        return True
    return "/" not in pattern and fnmatch.fnmatchcase(os.path.basename(normalized), pattern)


def passphrase_variable(path: str, config: Config) -> str | None:
    for pattern, variable in config.passphrases.items():
        if path_matches(path, pattern):
            return variable
    return None


def passphrase_for(path: str, config: Config) -> bytes | None:
    """The configured passphrase for this file, when its variable is set."""
    variable = passphrase_variable(path, config)
    if variable is None:
        return None
    value = os.environ.get(variable)
    return None if value is None else os.fsencode(value)


def configured_passphrases(config: Config) -> list[tuple[str, bytes]]:
    """(variable name, value) for every configured variable that is set and non-trivial."""
    if not config.passphrases:  # asked about every file
        return []
    found = []
    for variable in sorted(set(config.passphrases.values())):
        value = os.environ.get(variable)
        if value and len(value) >= 4:
            found.append((variable, os.fsencode(value)))
    return found


def count_disallowed(passphrase: str) -> int:
    """How many characters docs/policy.md does not allow (never which: that would leak them)."""
    return sum(1 for c in passphrase if c not in ALLOWED_CHARACTERS)


def allowed_set_description() -> str:
    return "ASCII letters a-z A-Z, digits 0-9 and " + " ".join(ALLOWED_SPECIALS)
