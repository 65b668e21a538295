"""Repository-wide rules: one certificate, one CN and one key pair per appliance.

They judge every certificate in the index together, so no single file's check can
see them. A certificate repeated inside a chain file (issuer first, up to the root)
is the chain doing its job, not a second appliance certificate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from certwarden.findings import Issue, Rule, Severity
from certwarden.index_certificates import CertificateRecord
from certwarden.rules.certificate_rules import WILDCARD

DUPLICATE_CN = Rule(
    "cert-duplicate-cn", "repository", Severity.ERROR,
    summary="Two certificates share a subject CN (case, surrounding spaces and a trailing "
            "dot aside): in different files, or two unrelated leaves in one bundle.",
    policy="Every appliance needs its own certificate with its own CN.",
    hint="Give each appliance its own CN; remove the old certificate when you renew.")
DUPLICATE = Rule(
    "cert-duplicate", "repository", Severity.ERROR,
    summary="The same certificate is committed in two places.",
    policy="Every appliance needs its own certificate.",
    hint="Keep one copy (a chain file may repeat the issuing CAs).", impact="medium")
KEY_REUSED = Rule(
    "key-reused", "repository", Severity.ERROR,
    summary="One key pair under two certificates.",
    policy="One key pair under two certificates breaks one certificate per appliance.",
    hint="Generate a new key for each appliance: `openssl genrsa -aes256 -out new.key 2048`.")


def _others(paths: set[str], own: str) -> str:
    return ", ".join(sorted(paths - {own}))


def same_cn(name: str) -> str:
    """The CN as DNS compares it: no surrounding whitespace, no trailing dot, any case."""
    return name.strip().rstrip(".").strip().lower()


def _cns(record: CertificateRecord) -> set[str]:
    if len(record.common_names) == 1:  # the common case, on every certificate of the index
        name = same_cn(record.common_names[0])
        return {name} if name else set()
    return {cn for cn in map(same_cn, record.common_names) if cn}


def _issued(child: CertificateRecord, parent: CertificateRecord) -> bool:
    """`parent` signed `child` (recognition verified the signature within the file)."""
    return child.issued_by == parent.fingerprint


def _appliance_certificates(records: list[CertificateRecord]) -> list[CertificateRecord]:
    return [r for r in records if not r.is_ca and not r.in_chain_file]


def duplicates(records: list[CertificateRecord]) -> Iterator[tuple[CertificateRecord, Issue]]:
    """The same certificate in two files."""
    by_fingerprint: dict[str, list[CertificateRecord]] = defaultdict(list)
    for record in _appliance_certificates(records):
        by_fingerprint[record.fingerprint].append(record)
    for group in by_fingerprint.values():
        paths = {r.path for r in group}
        if len(paths) > 1:
            for record in group:
                yield record, DUPLICATE.issue(f"the same certificate is also in "
                                    f"{_others(paths, record.path)}")


def duplicate_common_names(records: list[CertificateRecord]
                           ) -> Iterator[tuple[CertificateRecord, Issue]]:
    """Different certificates, in different files, with one CN."""
    by_name: dict[str, list[CertificateRecord]] = defaultdict(list)
    for record in _appliance_certificates(records):
        for name in _cns(record):
            by_name[name].append(record)
    for name, group in by_name.items():
        if len({r.fingerprint for r in group}) < 2 or len({r.path for r in group}) < 2:
            continue
        for record in group:
            others = {r.path for r in group if r.fingerprint != record.fingerprint}
            if others - {record.path}:
                yield record, DUPLICATE_CN.issue(f"CN {name!r} is also used by the "
                                    f"certificate in {_others(others, record.path)}; every "
                                    "appliance needs its own CN")


def _where(record: CertificateRecord) -> str:
    return f"line {record.line}" if record.line else f"certificate {record.index + 1}"


def duplicate_common_names_in_one_file(records: list[CertificateRecord]
                                       ) -> Iterator[tuple[CertificateRecord, Issue]]:
    """Two leaves with one CN in one bundle file: different keys, and neither issued the
    other (a chain repeats no CN of its leaf; a renewal kept beside the old one does)."""
    by_file: dict[str, list[CertificateRecord]] = defaultdict(list)
    for record in records:
        if not record.is_ca:
            by_file[record.path].append(record)
    by_file_and_name: dict[tuple[str, str], list[CertificateRecord]] = defaultdict(list)
    for path, leaves in by_file.items():
        if len(leaves) > 1:  # most files hold one certificate
            for record in leaves:
                for name in _cns(record):
                    by_file_and_name[path, name].append(record)
    for (_, name), group in by_file_and_name.items():
        for record in group:
            others = [other for other in group
                      if other.fingerprint != record.fingerprint
                      and other.spki_fingerprint != record.spki_fingerprint
                      and not _issued(record, other) and not _issued(other, record)]
            if others:
                where = ", ".join(_where(other) for other in others)
                yield record, DUPLICATE_CN.issue(
                    f"CN {name!r} is also the CN of another certificate in this file "
                    f"({where}); every appliance needs its own certificate and CN")


def reused_keys(records: list[CertificateRecord]) -> Iterator[tuple[CertificateRecord, Issue]]:
    """One public key under two different certificates."""
    by_key: dict[str, list[CertificateRecord]] = defaultdict(list)
    for record in _appliance_certificates(records):
        by_key[record.spki_fingerprint].append(record)
    for group in by_key.values():
        if len({r.fingerprint for r in group}) < 2:
            continue
        for record in group:
            others = {r.path for r in group if r.fingerprint != record.fingerprint}
            where = _others(others, record.path) or "the same file"
            yield record, KEY_REUSED.issue("this certificate's key pair is also used by "
                                f"the certificate in {where}",
                                fingerprint=record.spki_fingerprint)


def wildcards(records: list[CertificateRecord]) -> Iterator[tuple[CertificateRecord, Issue]]:
    for record in records:
        if record.wildcard_names and not record.is_ca:
            yield record, WILDCARD.issue(f"wildcard name {record.wildcard_names[0]!r}; "
                                "every appliance needs its own certificate")


def evaluate(records: list[CertificateRecord]) -> Iterator[tuple[CertificateRecord, Issue]]:
    for rule in (duplicates, duplicate_common_names, duplicate_common_names_in_one_file,
                 reused_keys, wildcards):
        yield from rule(records)
