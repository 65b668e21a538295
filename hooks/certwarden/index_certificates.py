"""Every certificate in the git index (the repository as the next commit will hold it),
parsed once per blob: results are cached under the git directory, keyed by blob id."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass

from certwarden.recognition import sniff
from certwarden.sources import IndexEntry, git, read_blobs, tracked_entries

CACHE_VERSION = 3  # bump when what a record holds changes
MAX_SHARED_CACHE_ENTRIES = 50_000  # trees judged in turn: beyond this, keep the last one's


@dataclass(frozen=True)
class CertificateRecord:
    """What the repository-wide rules need to know of one certificate in one file."""

    path: str
    line: int | None
    fingerprint: str  # SHA-256 of the certificate DER
    common_names: tuple[str, ...]
    is_ca: bool
    spki_fingerprint: str  # SHA-256 of the SubjectPublicKeyInfo
    wildcard_names: tuple[str, ...]  # CN or SAN DNS names containing "*"
    in_chain_file: bool  # the file also holds a CA certificate
    index: int = 0  # position in its file, 0-based
    issued_by: str | None = None  # fingerprint of the certificate in the file that signed it


def _records_of(path: str, data: bytes, chain_file: bool,
                passphrase: bytes | None) -> tuple[list[dict[str, object]], bool]:
    """Parse one blob: (records, whether the result may be cached without its path).

    A result that depended on a passphrase (opened with it, or locked without it) is not
    final: the next run may have another passphrase, or none."""
    from certwarden.recognition.certificates import issuers_in_file, load_certificates

    loaded = load_certificates(data, path, passphrase=passphrase, chain_file=chain_file)
    certificates = [obj for obj in loaded.objects if obj.kind == "certificate"]
    holds_ca = any(obj.is_ca for obj in certificates)
    issuers = issuers_in_file(certificates) if len(certificates) > 1 else {}
    records: list[dict[str, object]] = []
    for position, obj in enumerate(certificates):
        try:
            names, dns, spki, is_ca = obj.common_names, obj.dns_names, obj.spki, obj.is_ca
        except Exception:  # facts do not raise; should one all the same, skip the record
            continue
        record: dict[str, object] = {
            "line": obj.line, "fingerprint": obj.fingerprint, "common_names": names,
            "is_ca": is_ca, "spki_fingerprint": hashlib.sha256(spki).hexdigest(),
            "wildcard_names": [n for n in names + dns if "*" in n],
            "in_chain_file": holds_ca,
        }
        # Only where they say something: most files hold one certificate, and the cache
        # of a large index is read on every run.
        if obj.index:
            record["index"] = obj.index
        if position in issuers:
            record["issued_by"] = issuers[position].fingerprint
        records.append(record)
    return records, loaded.final


def _cache_path(root: str) -> str | None:
    try:
        git_dir = git(root, "rev-parse", "--git-dir").decode().strip()
    except Exception:
        return None
    return os.path.join(root, git_dir, "certwarden", f"index-cache-v{CACHE_VERSION}.json")


def _load_cache(path: str | None) -> dict[str, list[dict[str, object]]]:
    if path is None:
        return {}
    try:
        with open(path, encoding="utf-8") as stream:
            cache = json.load(stream)
        return cache if isinstance(cache, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_cache(path: str | None, cache: dict[str, list[dict[str, object]]]) -> None:
    if path is None:
        return
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "w", encoding="utf-8") as stream:
            json.dump(cache, stream, separators=(",", ":"))
        os.replace(temporary, path)
    except OSError:
        pass  # a cache we cannot write only costs time


def certificate_entries(root: str) -> list[IndexEntry]:
    return [e for e in tracked_entries(root)
            if e.mode not in ("120000", "160000") and sniff.is_certificate_name(e.path)]


def load_index_certificates(root: str, *, max_bytes: int, chain: str | None = None,
                            passphrase_for: Callable[[str], bytes | None] | None = None
                            ) -> list[CertificateRecord]:
    """Every certificate in the index; `chain` is the configured CA chain file, whose
    certificates are CAs even one at a time; `passphrase_for(path)` opens PKCS#12 bundles."""
    return load_entry_certificates(root, certificate_entries(root), max_bytes=max_bytes,
                                   chain=chain, passphrase_for=passphrase_for)


def load_tree_certificates(root: str, treeish: str, *, max_bytes: int,
                           chain: str | None = None,
                           passphrase_for: Callable[[str], bytes | None] | None = None
                           ) -> tuple[list[CertificateRecord], dict[str, str]]:
    """Every certificate in a commit's tree (a branch as a push leaves it), and the blob
    id of each certificate path; parsed results share the index's per-blob cache."""
    from certwarden.revisions import tree_entries

    entries = [e for e in tree_entries(root, treeish)
               if e.mode != "120000" and sniff.is_certificate_name(e.path)]
    records = load_entry_certificates(root, entries, max_bytes=max_bytes, chain=chain,
                                      passphrase_for=passphrase_for, keep_others=True)
    return records, {e.path: e.blob for e in entries}


def load_entry_certificates(root: str, entries: list[IndexEntry], *, max_bytes: int,
                            chain: str | None = None,
                            passphrase_for: Callable[[str], bytes | None] | None = None,
                            keep_others: bool = False) -> list[CertificateRecord]:
    """The certificates of these entries. The cache keeps only these entries' blobs, unless
    keep_others (several trees judged in turn share it) and it is not yet large."""
    chain_path = os.path.normpath(chain) if chain else None

    def cache_key(entry: IndexEntry) -> str:
        return f"{entry.blob}:chain" if entry.path == chain_path else entry.blob

    cache_file = _cache_path(root)
    cache = _load_cache(cache_file)
    missing = [e for e in entries if cache_key(e) not in cache]
    fresh: dict[str, list[dict[str, object]]] = {}  # this run only: not final
    if missing:
        # read_blobs yields in request order (certificate entries have no submodules)
        for entry, source in zip(missing, read_blobs(root, missing, max_bytes=max_bytes),
                                 strict=True):
            passphrase = passphrase_for(entry.path) if passphrase_for else None
            parsed, final = _records_of(source.path, source.data, entry.path == chain_path,
                                        passphrase)
            (cache if final else fresh)[cache_key(entry)] = parsed
        live = {cache_key(e) for e in entries}
        if not (keep_others and len(cache) <= MAX_SHARED_CACHE_ENTRIES):
            cache = {key: value for key, value in cache.items() if key in live}
        _save_cache(cache_file, cache)
    records = []
    for entry in entries:
        key = cache_key(entry)
        items = fresh.get(key) if fresh else None
        for item in cache.get(key, []) if items is None else items:
            records.append(CertificateRecord(
                path=entry.path, line=item["line"],  # type: ignore[arg-type]
                fingerprint=str(item["fingerprint"]),
                common_names=tuple(item["common_names"]),  # type: ignore[arg-type]
                is_ca=bool(item["is_ca"]), spki_fingerprint=str(item["spki_fingerprint"]),
                wildcard_names=tuple(item["wildcard_names"]),  # type: ignore[arg-type]
                in_chain_file=bool(item["in_chain_file"]),
                index=item.get("index", 0),  # type: ignore[arg-type]
                issued_by=item.get("issued_by")))  # type: ignore[arg-type]
    return records

