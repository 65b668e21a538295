"""The baseline: known findings of a repository adopting certwarden, keyed by rule and
fingerprint (no line numbers, no timestamps), so it stays stable as files change.

Findings in the baseline do not block; new ones do; entries whose problem is gone are
reported as stale by `certwarden scan`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

from certwarden.config import Config, ConfigError
from certwarden.findings import Finding, Report

FORMAT_VERSION = 1
DEFAULT_NAME = ".certwarden-baseline.json"


def baseline_path(root: str, configured: str | None) -> str:
    return os.path.join(root, configured or DEFAULT_NAME)


def load(path: str) -> set[tuple[str, str]]:
    """(fingerprint, rule) pairs; an absent file is an empty baseline."""
    if not os.path.exists(path):
        return set()
    try:
        with open(path, encoding="utf-8") as stream:
            document = json.load(stream)
        entries = document["entries"]
        return {(str(e["fingerprint"]), str(e["rule"])) for e in entries}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: not a certwarden baseline ({type(exc).__name__}); "
                          "regenerate it with `certwarden baseline`") from None


def write(path: str, findings: Iterable[Finding]) -> int:
    """Write the baseline for these findings; return the number of entries."""
    entries = sorted({(f.rule.id, f.fingerprint, f.path) for f in findings})
    unique: dict[tuple[str, str], str] = {}
    for rule, fingerprint, file_path in entries:
        unique.setdefault((rule, fingerprint), file_path)
    document = {
        "version": FORMAT_VERSION,
        "generated_by": "certwarden baseline",
        "entries": [{"rule": rule, "fingerprint": fingerprint, "path": file_path}
                    for (rule, fingerprint), file_path in sorted(unique.items())],
    }
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as stream:
        json.dump(document, stream, indent=2, sort_keys=True)
        stream.write("\n")
    os.replace(temporary, path)
    return len(unique)


def stale_notes(config: Config, report: Report) -> list[str]:
    """Baseline entries whose problem is gone: the repository no longer needs them."""
    known = load(baseline_path(config.root, config.baseline))
    return [f"stale baseline entry {rule} {fingerprint[:16]}: its problem is gone; "
            "regenerate with `certwarden baseline`"
            for fingerprint, rule in sorted(known - report.baselined)]
