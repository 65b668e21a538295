"""Every certificate in the git index (the repository as the next commit will hold it),
parsed once per blob: results are cached under the git directory, keyed by blob id."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass

from certwarden.recognition import sniff
from certwarden.sources import IndexEntry, git, read_blobs, tracked_entries

CACHE_VERSION = 2  # bump when what a record holds changes
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


def _records_of(path: str, data: bytes, chain_file: bool) -> list[dict[str, object]]:
    """Parse one blob; the result is cached without its path."""
    from certwarden.recognition.certificates import load_certificates

    loaded = load_certificates(data, path, passphrase=None, chain_file=chain_file)
    certificates = [obj for obj in loaded.objects if obj.certificate is not None]
    holds_ca = any(obj.is_ca for obj in certificates)
    records: list[dict[str, object]] = []
    for obj in certificates:
        try:
            names, dns, spki, is_ca = obj.common_names, obj.dns_names, obj.spki, obj.is_ca
        except Exception:  # malformed fields: the per-file rules report it
            continue
        records.append({
            "line": obj.line, "fingerprint": obj.fingerprint, "common_names": names,
            "is_ca": is_ca, "spki_fingerprint": hashlib.sha256(spki).hexdigest(),
            "wildcard_names": [n for n in names + dns if "*" in n],
            "in_chain_file": holds_ca,
        })
    return records


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


def load_index_certificates(root: str, *, max_bytes: int,
                            chain: str | None = None) -> list[CertificateRecord]:
    """Every certificate in the index; `chain` is the configured CA chain file, whose
    certificates are CAs even one at a time."""
    return load_entry_certificates(root, certificate_entries(root), max_bytes=max_bytes,
                                   chain=chain)


def load_tree_certificates(root: str, treeish: str, *, max_bytes: int,
                           chain: str | None = None) -> tuple[list[CertificateRecord],
                                                              dict[str, str]]:
    """Every certificate in a commit's tree (a branch as a push leaves it), and the blob
    id of each certificate path; parsed results share the index's per-blob cache."""
    from certwarden.revisions import tree_entries

    entries = [e for e in tree_entries(root, treeish)
               if e.mode != "120000" and sniff.is_certificate_name(e.path)]
    records = load_entry_certificates(root, entries, max_bytes=max_bytes, chain=chain,
                                      keep_others=True)
    return records, {e.path: e.blob for e in entries}


def load_entry_certificates(root: str, entries: list[IndexEntry], *, max_bytes: int,
                            chain: str | None = None,
                            keep_others: bool = False) -> list[CertificateRecord]:
    """The certificates of these entries. The cache keeps only these entries' blobs, unless
    keep_others (several trees judged in turn share it) and it is not yet large."""
    chain_path = os.path.normpath(chain) if chain else None

    def cache_key(entry: IndexEntry) -> str:
        return f"{entry.blob}:chain" if entry.path == chain_path else entry.blob

    cache_file = _cache_path(root)
    cache = _load_cache(cache_file)
    missing = [e for e in entries if cache_key(e) not in cache]
    if missing:
        # read_blobs yields in request order (certificate entries have no submodules)
        for entry, source in zip(missing, read_blobs(root, missing, max_bytes=max_bytes),
                                 strict=True):
            cache[cache_key(entry)] = _records_of(source.path, source.data,
                                                  entry.path == chain_path)
        live = {cache_key(e) for e in entries}
        if not (keep_others and len(cache) <= MAX_SHARED_CACHE_ENTRIES):
            cache = {key: value for key, value in cache.items() if key in live}
        _save_cache(cache_file, cache)
    records = []
    for entry in entries:
        for item in cache.get(cache_key(entry), []):
            records.append(CertificateRecord(
                path=entry.path, line=item["line"],  # type: ignore[arg-type]
                fingerprint=str(item["fingerprint"]),
                common_names=tuple(item["common_names"]),  # type: ignore[arg-type]
                is_ca=bool(item["is_ca"]), spki_fingerprint=str(item["spki_fingerprint"]),
                wildcard_names=tuple(item["wildcard_names"]),  # type: ignore[arg-type]
                in_chain_file=bool(item["in_chain_file"])))
    return records

