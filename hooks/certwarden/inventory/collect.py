"""Collect the inventory's rows: every certificate in the git index (or in named files),
its facts, the key beside it, and the certificates group's findings on it.

Bytes come from sources (`git cat-file --batch` for the index, one per worker), facts
from inventory.facts, findings from the certificates group through the pipeline: the
rules are run, never re-implemented. In the git index, facts, key facts and findings are cached
by blob id (inventory.cache), so an unchanged repository is not parsed again.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from certwarden.config import Config
from certwarden.context import RuleContext
from certwarden.findings import Finding, Severity
from certwarden.inventory.facts import Facts
from certwarden.inventory.model import CertificateRow
from certwarden.passphrases import passphrase_for, passphrase_variable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from certwarden.inventory.cache import BlobCache

KEY_EXTENSIONS = (".key", ".pem")  # where a certificate's key lives beside it (same stem)


class Target:
    """One certificate file to inventory."""

    __slots__ = ("blob", "cache_key", "chain_file", "data", "error", "path", "size")

    def __init__(self, path: str, *, blob: str | None, chain_file: bool,
                 cacheable: bool) -> None:
        self.path = path  # repository-relative in the index; as given for named files
        self.blob = blob
        self.chain_file = chain_file
        # The same blob is a chain (CAs even one at a time) at the configured chain path.
        self.cache_key = (f"{blob}:chain" if chain_file else blob) if blob and cacheable \
            else None
        self.data: bytes | None = None
        self.size = 0
        self.error: str | None = None


class Collected:
    """Rows and findings before policy, plus what the appliance rules need."""

    def __init__(self) -> None:
        self.rows: list[CertificateRow] = []
        self.findings: list[Finding] = []  # the certificates group's, on every file judged
        self.files: dict[str, str | None] = {}  # every regular file in the source -> blob
        self.key_facts: dict[str, list[Facts]] = {}  # key file -> its keys
        self.judged: set[str] = set()  # certificate files the certificates group judged


def _serialize(finding: Finding) -> Facts:
    return {"rule": finding.rule.id, "severity": finding.severity.value, "line": finding.line,
            "message": finding.message, "fingerprint": finding.fingerprint}


def _deserialize(path: str, item: Facts) -> Finding:
    from certwarden.registry import get_rule

    rule = get_rule(str(item["rule"]))
    line = item.get("line")
    return Finding(path=path, line=line if isinstance(line, int) else None, rule=rule,
                   severity=Severity(item["severity"]), message=str(item["message"]),
                   hint=rule.hint_for(path), fingerprint=str(item["fingerprint"]))


def _judge(targets: Sequence[Target], context: RuleContext) -> dict[str, list[Finding]]:
    """The certificates group on these files, through the pipeline (before policy)."""
    from certwarden import pipeline
    from certwarden.groups import load
    from certwarden.sources import SourceFile

    sources = [SourceFile(t.path, t.data or b"", t.size, error=t.error) for t in targets]
    findings: dict[str, list[Finding]] = {t.path: [] for t in targets}
    for finding in pipeline.check_files(sources, [load("certificates")], context).findings:
        findings[finding.path].append(finding)
    return findings


# What workers send back: per certificate file (facts, serialized findings), each None when
# it was cached; and the facts of the key files they read.
Examined = tuple[dict[int, tuple["Facts | None", "list[Facts] | None"]], dict[str, list[Facts]]]


class Work:
    """What a run still has to compute: facts and verdicts of some certificate files, and
    the facts of the key files beside them that the cache does not hold."""

    def __init__(self, targets: Sequence[Target], source: Source,
                 key_paths: dict[str, str], pair: set[str] | None) -> None:
        self.targets = targets
        self.source = source
        self.key_paths = key_paths  # the manifest's key for a certificate file
        self.pair = pair  # the certificate files whose keys are wanted; None: all
        self.facts: dict[int, Facts] = {}
        self.verdicts: dict[int, list[Facts]] = {}
        self.want_facts: set[int] = set()
        self.want_verdict: set[int] = set()
        self._key_files: dict[int, list[str]] = {}

    def key_files(self, index: int, facts: Facts) -> list[str]:
        """The key of a certificate file: the manifest's, else a key file of the same stem,
        else the certificate's own file when it holds a key (PFX, PEM with both)."""
        found = self._key_files.get(index)
        if found is None and self.pair is not None and self.targets[index].path not in self.pair:
            found = self._key_files[index] = []
        if found is None:
            target = self.targets[index]
            named = self.key_paths.get(self.source.relative(target.path))
            if named:
                named = self.source.local(named)
            candidates = [named] if named else _key_candidates(target.path, self.source.files)
            if not named and facts.get("holds_key"):
                candidates.append(target.path)
            found = self._key_files[index] = [c for c in candidates if c in self.source.files]
        return found

    def cached_keys(self, path: str, config: Config) -> list[Facts] | None:
        cache = self.source.cache
        blob = self.source.files.get(path)
        if cache is None or not blob or passphrase_variable(path, config) is not None:
            return None
        return cache.keys.get(blob)

    def needs_keys(self, index: int, config: Config) -> bool:
        facts = self.facts.get(index)
        return facts is not None and any(self.cached_keys(path, config) is None
                                         for path in self.key_files(index, facts))


def _examine(work: Work, todo: list[int], context: RuleContext) -> Examined:
    """Facts, findings and key facts for the certificate files in `todo`, shared between
    worker processes when there are many: each worker reads its own blobs, and each result
    depends on its own files only."""
    from certwarden.inventory.facts import file_facts, key_facts
    from certwarden.parallel import map_chunks

    config = context.config
    targets = work.targets

    def examine(chunk: Sequence[str]) -> Examined:
        indexes = [int(text) for text in chunk]
        work.source.read([targets[i] for i in indexes
                          if i in work.want_facts or i in work.want_verdict])
        verdicts = _judge([targets[i] for i in indexes if i in work.want_verdict], context)
        results: dict[int, tuple[Facts | None, list[Facts] | None]] = {}
        keys: dict[str, Target] = {}
        for index in indexes:
            target = targets[index]
            facts = None
            if index in work.want_facts:
                if target.data is None or target.error or target.size > len(target.data):
                    facts = {"holds_key": False, "certificates": []}
                else:
                    facts = file_facts(target.data, target.path,
                                       passphrase=passphrase_for(target.path, config),
                                       chain_file=target.chain_file)
            verdict = verdicts.get(target.path)
            results[index] = (facts, None if verdict is None else
                              [_serialize(f) for f in verdict])
            for path in work.key_files(index, facts or work.facts[index]):
                if path not in keys and work.cached_keys(path, config) is None:
                    keys[path] = Target(path, blob=work.source.files.get(path),
                                        chain_file=False, cacheable=True)
        work.source.read(list(keys.values()))
        found = {path: key_facts(key.data or b"", config=config,
                                 passphrase=passphrase_for(path, config))
                 for path, key in keys.items()}
        return results, found

    merged: dict[int, tuple[Facts | None, list[Facts] | None]] = {}
    found_keys: dict[str, list[Facts]] = {}
    for results, found in map_chunks(examine, [str(i) for i in todo]):
        merged.update(results)
        found_keys.update(found)
    return merged, found_keys


def _validity(facts: Facts) -> list[tuple[float, float]]:
    spans = []
    certificates: list[Facts] = facts.get("certificates", [])  # type: ignore[assignment]
    for item in certificates:
        start, end = item.get("not_before"), item.get("not_after")
        if isinstance(start, (int, float)) and isinstance(end, (int, float)):
            spans.append((float(start), float(end)))
    return spans


def _moment(value: object) -> datetime | None:
    if value is None:
        return None
    return datetime.fromtimestamp(value, tz=timezone.utc)  # type: ignore[arg-type]


def _rows(target: Target, facts: Facts, now: datetime) -> list[CertificateRow]:
    """Rows from facts this module wrote (fresh or cached), so their types are known."""
    certificates: list[dict[str, Any]] = facts.get("certificates", [])  # type: ignore[assignment]
    rows = []
    count = len(certificates)
    for position, item in enumerate(certificates, 1):
        names = item["common_names"]
        not_after = _moment(item["not_after"])
        rows.append(CertificateRow(
            path=target.path, position=position, count=count, line=item["line"],
            fingerprint=item["fingerprint"], cn=names[0] if names else None,
            common_names=names, sans=item["sans"], issuer=item["issuer"],
            serial=item["serial"], spki=item["spki"], not_before=_moment(item["not_before"]),
            not_after=not_after,
            days_left=(not_after - now).days if not_after is not None else None,
            key_type=item["key_type"], key_size=item["key_size"],
            signature_algorithm=item["signature_algorithm"], crl_urls=item["crl_urls"],
            is_ca=item["is_ca"]))
    return rows


def _key_candidates(path: str, files: dict[str, str | None]) -> list[str]:
    """Files beside a certificate with its stem: `sensor1.key`, then `sensor1.pem`."""
    dot = path.rfind(".")
    stem = path[:dot] if dot > path.rfind("/") else path  # plain string work: 10,000s of calls
    return [candidate for candidate in (stem + ".key", stem + ".pem")
            if candidate != path and candidate in files]


class Source:
    """Where certificate and key files are read from: the git index or the working tree."""

    cache: BlobCache | None = None

    def __init__(self, context: RuleContext) -> None:
        self.context = context
        self.files: dict[str, str | None] = {}

    def read(self, targets: Sequence[Target]) -> None:
        raise NotImplementedError

    def relative(self, path: str) -> str:
        """A path of this source as the repository names it (the manifest's paths)."""
        return path

    def local(self, path: str) -> str:
        """A repository path as this source names it."""
        return path


class IndexSource(Source):
    def __init__(self, context: RuleContext) -> None:
        from certwarden.inventory.cache import BlobCache, cache_path, policy_digest
        from certwarden.sources import tracked_entries

        super().__init__(context)
        root = context.config.root
        self.files = {e.path: e.blob for e in tracked_entries(root)
                      if e.mode not in ("120000", "160000")}
        self.cache = BlobCache(cache_path(root), policy_digest(context.config))

    def read(self, targets: Sequence[Target]) -> None:
        from certwarden.sources import IndexEntry, read_blobs

        wanted = [t for t in targets if t.blob is not None]
        entries = [IndexEntry(t.path, "100644", str(t.blob)) for t in wanted]
        max_bytes = self.context.config.max_file_bytes
        for target, source in zip(wanted, read_blobs(self.context.config.root, entries,
                                                     max_bytes=max_bytes), strict=True):
            target.data, target.size, target.error = source.data, source.size, source.error


class PathSource(Source):
    def __init__(self, context: RuleContext, paths: Sequence[str]) -> None:
        super().__init__(context)
        self.files = {path: None for path in paths}
        self.root = context.config.root

    def read(self, targets: Sequence[Target]) -> None:
        from certwarden.sources import read_paths

        max_bytes = self.context.config.max_file_bytes
        for target, source in zip(targets, read_paths([t.path for t in targets],
                                                      max_bytes=max_bytes), strict=True):
            target.data, target.size, target.error = source.data, source.size, source.error

    def relative(self, path: str) -> str:
        relative = os.path.relpath(os.path.abspath(path), self.root)
        return relative.replace(os.sep, "/")

    def local(self, path: str) -> str:
        return os.path.relpath(os.path.join(self.root, path))

    def add_neighbours(self, paths: Sequence[str], key_paths: dict[str, str]) -> None:
        """Key files beside the named certificates (or named for them in the manifest),
        read from the working tree."""
        for path in paths:
            named = key_paths.get(self.relative(path))
            if named and os.path.isfile(self.local(named)):
                self.files.setdefault(self.local(named), None)
            folder, name = os.path.split(path)
            stem = os.path.splitext(name)[0]
            for extension in KEY_EXTENSIONS:
                candidate = os.path.join(folder, stem + extension)
                if os.path.isfile(candidate) and not os.path.islink(candidate):
                    self.files.setdefault(candidate, None)


def collect(source: Source, paths: Sequence[str], context: RuleContext, *,
            judge: set[str] | None = None, pair: set[str] | None = None,
            key_paths: dict[str, str] | None = None) -> Collected:
    """Rows for the certificate files `paths` of the source; the certificates group judges
    those in `judge`, and keys are paired with those in `pair` (None: all). `key_paths`
    names a key file for some certificate files (the manifest's `key`)."""
    from certwarden.groups.certificates import is_chain_file

    config = context.config
    cache = source.cache
    now = context.now
    moment = now.timestamp()
    collected = Collected()
    collected.files = source.files
    chain_name = os.path.basename(config.chain) if config.chain else None
    targets = [Target(path, blob=source.files.get(path),
                      chain_file=os.path.basename(path) == chain_name
                      and is_chain_file(path, context),
                      cacheable=not config.passphrases or passphrase_variable(path, config)
                      is None) for path in paths]
    work = Work(targets, source, key_paths or {}, pair)
    for index, target in enumerate(targets):
        if cache is not None and target.cache_key is not None:
            cached = cache.certificates.get(target.cache_key)
            if cached is not None:
                work.facts[index] = cached
            if judge is None or target.path in judge:
                verdict = cache.verdict(target.cache_key, moment)
                if verdict is not None:
                    work.verdicts[index] = verdict
    work.want_facts = {i for i in range(len(targets)) if i not in work.facts}
    work.want_verdict = {i for i, t in enumerate(targets)
                         if (judge is None or t.path in judge) and i not in work.verdicts}
    todo = sorted(i for i in range(len(targets)) if i in work.want_facts
                  or i in work.want_verdict or work.needs_keys(i, config))
    found_keys: dict[str, list[Facts]] = {}
    if todo:
        examined, found_keys = _examine(work, todo, context)
        for index, (found, verdict) in examined.items():
            if found is not None:
                work.facts[index] = found
            if verdict is not None:
                work.verdicts[index] = verdict
        if cache is not None:
            _remember(cache, work, context, found_keys)
    for index, target in enumerate(targets):
        collected.rows.extend(_rows(target, work.facts[index], now))
        if index in work.verdicts:
            collected.judged.add(target.path)
            collected.findings.extend(_deserialize(target.path, item)
                                      for item in work.verdicts[index])
    _pair_keys(collected, work, config, found_keys)
    if cache is not None:
        # Keep what is still in the index (keys of other certificates too: a run that
        # pairs only some keeps the others' for the next full inventory).
        cache.save({t.cache_key for t in targets if t.cache_key},
                   {blob for blob in source.files.values() if blob})
    return collected


def _remember(cache: BlobCache, work: Work, context: RuleContext,
              found_keys: dict[str, list[Facts]]) -> None:
    """Store what was computed; verdicts with the span of time they hold for."""
    from certwarden.inventory.cache import verdict_span

    config = context.config
    targets, facts = work.targets, work.facts
    want_verdict = set() if config.crl_fetch else work.want_verdict  # CRLs change by themselves
    chain_validity: list[tuple[float, float]] = []
    for index, target in enumerate(targets):
        if target.chain_file and index in facts:
            chain_validity += _validity(facts[index])
    # The chain's own validity bounds the span; a chain file outside the index, or CRLs
    # (their next update), make a verdict hold for its own moment only.
    exact = bool(config.crl_files) or bool(config.chain and not chain_validity)
    moment = context.now.timestamp()
    for index in work.want_facts | want_verdict:
        target = targets[index]
        if target.cache_key is None:
            continue
        if index in work.want_facts:
            cache.put_certificates(target.cache_key, facts[index])
        if index in want_verdict:
            span = verdict_span(moment, _validity(facts[index]) + chain_validity,
                                config.expiry_warning_days, exact=exact)
            cache.put_verdict(target.cache_key, span, work.verdicts[index])
    for path, keys in found_keys.items():
        blob = work.source.files.get(path)
        if blob and passphrase_variable(path, config) is None:
            cache.put_keys(blob, keys)


def _pair_keys(collected: Collected, work: Work, config: Config,
               found_keys: dict[str, list[Facts]]) -> None:
    """Each row's key file, whether it is encrypted and whether it matches."""
    chosen: dict[str, list[str]] = {}
    for index, target in enumerate(work.targets):
        chosen[target.path] = paths = work.key_files(index, work.facts[index])
        for path in paths:
            keys = found_keys.get(path)
            if keys is None:
                keys = work.cached_keys(path, config) or []
            collected.key_facts[path] = keys
    for row in collected.rows:
        for path in chosen.get(row.path, []):
            keys = collected.key_facts.get(path, [])
            if keys:
                _describe_key(row, path, keys)
                break
        else:
            named = work.key_paths.get(work.source.relative(row.path))
            if named:
                row.key_path = named  # named in the manifest, but not found or not a key


def _describe_key(row: CertificateRow, path: str, keys: list[Facts]) -> None:
    row.key_path = path
    matching = [k for k in keys if row.spki and k.get("spki") == row.spki]
    key = matching[0] if matching else keys[0]
    row.key_encrypted = bool(key.get("encrypted"))
    if matching:
        row.key_matches = True
    elif row.spki and all(k.get("spki") for k in keys):
        row.key_matches = False
