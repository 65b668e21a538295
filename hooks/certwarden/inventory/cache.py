"""The inventory's per-blob cache under the git directory (`.git/certwarden/`).

Like the unique group's index cache, entries are keyed by blob id, so a blob is parsed
once however often it is renamed, and an unchanged repository is never parsed again.
Three kinds of entries:
- certificate facts of a blob (policy-independent);
- the facts of the keys in a blob: encrypted or not, and the SHA-256 of the public key
  when it is visible (never key material);
- the certificates group's raw findings on a blob (before policy), under a digest of
  the policy, valid for a span of time: they depend on the time only through each
  certificate's validity dates and the days left in the warning window (the validity
  rules of docs/policy.md), so they are reused while no such date is crossed. With
  CRLs configured or fetched, trust facts depend on more than that: a verdict is then
  reused only at the very same time.

Files mapped to a passphrase are never cached (what opens depends on a secret). The
whole cache is dropped when certwarden's code changes (a stamp of its source files).

Stored with marshal (plain data only; loads three times faster than JSON, which matters
for 10,000 certificates), in a file named for the Python version. It is local state in
the git directory, written only by certwarden: whoever can write there can already
replace the repository's git hooks. A file that does not load is ignored.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import sys

from certwarden.config import Config

VERSION = 1  # bump when what an entry holds changes
Entry = dict[str, object]


def code_stamp() -> str:
    """Changes whenever certwarden's code does: recognition or rules may have changed."""
    from certwarden import __version__

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    digest = hashlib.sha256(__version__.encode())
    for folder, folders, files in os.walk(package):
        folders[:] = sorted(f for f in folders if f != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                info = os.stat(os.path.join(folder, name))
                digest.update(f"{folder[len(package):]}/{name}:{info.st_size}:"
                              f"{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


# Settings applied after the certificates group (policy, selection), or not read by it.
_NOT_READ_BY_THE_GROUP = frozenset({"allowlist", "severity", "baseline", "appliances",
                                    "exclude", "secrets_baseline", "secrets_exclude",
                                    "secrets_max_file_bytes", "source"})


def _describe(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _describe(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_describe(v) for v in value]
    pattern = getattr(value, "pattern", None)
    if isinstance(pattern, str):  # a compiled regular expression
        return pattern
    slots = getattr(type(value), "__slots__", None)
    if slots and not isinstance(value, str):
        return {name: _describe(getattr(value, name)) for name in slots}
    return repr(value)


def policy_digest(config: Config) -> str:
    """What the certificates group's verdicts depend on: the settings it reads and the
    contents of the trust files it loads."""
    settings = {name: _describe(getattr(config, name)) for name in sorted(
        set(dir(config)) - _NOT_READ_BY_THE_GROUP)
        if not name.startswith("_") and not callable(getattr(config, name))}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for path in ([config.chain] if config.chain else []) + list(config.crl_files):
        try:
            with open(os.path.join(config.root, path), "rb") as stream:
                digest.update(hashlib.sha256(stream.read(config.max_file_bytes)).digest())
        except OSError:
            digest.update(b"missing")
    return digest.hexdigest()


class Span:
    """When a verdict computed at `at` still holds (epoch seconds; None: unbounded)."""

    __slots__ = ("at", "end", "exact", "start")

    def __init__(self, at: float, start: float | None, end: float | None, *,
                 exact: bool = False) -> None:
        self.at = at
        self.start = start
        self.end = end
        self.exact = exact

    def holds_at(self, moment: float) -> bool:
        if moment == self.at:
            return True
        if self.exact:
            return False
        return all(self._inside(t) for t in (self.at, moment))

    def _inside(self, moment: float) -> bool:
        return (self.start is None or self.start < moment) and (
            self.end is None or moment < self.end)


def verdict_span(at: float, validity: list[tuple[float, float]], warning_days: int, *,
                 exact: bool) -> Span:
    """The span around `at` in which no validity date is crossed, nor a day boundary of the
    warning window (the days-left count in messages): for each certificate, the moments
    not-before, not-after and not-after minus 1 .. warning_days + 1 days."""
    import math

    day = 86400.0
    start: float | None = None
    end: float | None = None

    def bound(moment: float) -> None:
        nonlocal start, end
        if moment <= at:
            start = moment if start is None else max(start, moment)
        else:
            end = moment if end is None else min(end, moment)

    for not_before, not_after in validity:
        bound(not_before)
        # The day boundaries not_after - k days (k = 0 .. warning_days + 1) nearest to `at`.
        k = max(math.ceil((not_after - at) / day), 0)
        while not_after - k * day > at:  # k: the first boundary at or before `at`
            k += 1
        while k > 0 and not_after - (k - 1) * day <= at:
            k -= 1
        last = warning_days + 1
        if k <= last:
            bound(not_after - k * day)
            if k >= 1:
                bound(not_after - (k - 1) * day)
        else:
            bound(not_after - last * day)
    return Span(at, start, end, exact=exact)


class BlobCache:
    """Load once, look up by blob id, save once (atomically; a failed save costs time only)."""

    def __init__(self, path: str | None, policy: str) -> None:
        self.path = path
        self.policy = policy
        self.stamp = code_stamp()
        self.certificates: dict[str, Entry] = {}
        self.keys: dict[str, list[Entry]] = {}
        self.verdicts: dict[str, Entry] = {}
        self.changed = False
        document = self._read()
        if document.get("stamp") == self.stamp:
            self.certificates = _dict(document.get("certificates"))
            self.keys = _dict(document.get("keys"))  # type: ignore[assignment]
            if document.get("policy") == policy:
                self.verdicts = _dict(document.get("verdicts"))

    def _read(self) -> dict[str, object]:
        if self.path is None:
            return {}
        try:
            with open(self.path, "rb") as stream:
                document = marshal.loads(stream.read())
        except Exception:  # missing, truncated or from another version: start afresh
            return {}
        return document if isinstance(document, dict) else {}

    def verdict(self, key: str, moment: float) -> list[Entry] | None:
        entry = self.verdicts.get(key)
        if entry is None:
            return None
        span = Span(float(entry["at"]), _float(entry.get("start")),  # type: ignore[arg-type]
                    _float(entry.get("end")), exact=bool(entry.get("exact")))
        if not span.holds_at(moment):
            return None
        findings = entry.get("findings")
        return findings if isinstance(findings, list) else None

    def put_verdict(self, key: str, span: Span, findings: list[Entry]) -> None:
        self.verdicts[key] = {"at": span.at, "start": span.start, "end": span.end,
                              "exact": span.exact, "findings": findings}
        self.changed = True

    def put_certificates(self, key: str, facts: Entry) -> None:
        self.certificates[key] = facts
        self.changed = True

    def put_keys(self, blob: str, facts: list[Entry]) -> None:
        self.keys[blob] = facts
        self.changed = True

    def save(self, live_certificates: set[str], live_keys: set[str]) -> None:
        """Write what is still in the index; forget the rest."""
        stale = (set(self.certificates) - live_certificates) | (set(self.keys) - live_keys)
        if self.path is None or not (self.changed or stale):
            return
        document = {
            "stamp": self.stamp, "policy": self.policy,
            "certificates": {k: v for k, v in self.certificates.items()
                             if k in live_certificates},
            "keys": {k: v for k, v in self.keys.items() if k in live_keys},
            "verdicts": {k: v for k, v in self.verdicts.items() if k in live_certificates},
        }
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            temporary = f"{self.path}.{os.getpid()}.tmp"
            with open(temporary, "wb") as stream:
                stream.write(marshal.dumps(document))
            os.replace(temporary, self.path)
        except OSError:
            pass


def _dict(value: object) -> dict[str, Entry]:
    return value if isinstance(value, dict) else {}


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def _git_dir(root: str) -> str | None:
    """The git directory, read the way git finds it (`.git` is a folder, or a file naming
    it in a worktree), without starting git: every run pays for a process."""
    dot_git = os.path.join(root, ".git")
    if os.path.isdir(dot_git):
        return dot_git
    try:
        with open(dot_git, encoding="utf-8") as stream:
            line = stream.readline().strip()
    except OSError:
        return None
    if not line.startswith("gitdir:"):
        return None
    folder = line[len("gitdir:"):].strip()
    return folder if os.path.isabs(folder) else os.path.join(root, folder)


def cache_path(root: str) -> str | None:
    from certwarden.sources import GitError, git

    git_dir = _git_dir(root)
    if git_dir is None:
        try:
            git_dir = os.path.join(root, git(root, "rev-parse", "--git-dir").decode().strip())
        except GitError:
            return None
    name = f"inventory-cache-v{VERSION}.{sys.implementation.cache_tag}.marshal"
    return os.path.join(git_dir, "certwarden", name)
