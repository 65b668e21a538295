"""The keys group: find private keys in any file, pair them with their certificates,
and apply the key rules. Also flags committed passphrases."""

from __future__ import annotations

import fnmatch
import hashlib
import os
from typing import TYPE_CHECKING

from certwarden.findings import Finding
from certwarden.neighbours import split
from certwarden.passphrases import configured_passphrases, passphrase_for, passphrase_variable
from certwarden.recognition import key_sniff, sniff
from certwarden.rules.base import Issue, RuleContext, to_finding
from certwarden.sources import SourceFile

if TYPE_CHECKING:  # imported lazily at run time: they load cryptography
    from certwarden.rules.key_rules import KeyFacts, PairedCertificate

KEY_EXTENSIONS = (".key", ".pem")
PAIRED_CERTIFICATE_EXTENSIONS = (".crt", ".cer", ".der", ".pem")
PASSPHRASE_FILE_PATTERNS = ("*.pass", "*passphrase*", "*.pwd")
KEY_FILE_PATTERNS = ("*.key", "*.pem", "*.p12", "*.pfx", "*.ppk", "id_rsa", "id_dsa",
                     "id_ecdsa", "id_ed25519", "*private*key*")


def _is_passphrase_file(path: str) -> bool:
    name = os.path.basename(path).lower()
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in PASSPHRASE_FILE_PATTERNS)


def _sibling(path: str, context: RuleContext, extensions: tuple[str, ...]) -> list[str]:
    folder, stem, _ = split(path)
    own = os.path.basename(path)
    return [os.path.join(folder, name) for name in context.neighbour_files().names_in(folder)
            if name != own and split(name)[1] == stem and split(name)[2] in extensions]


def wants(source: SourceFile, context: RuleContext) -> bool:
    if source.is_symlink:
        return False
    if source.error is not None or key_sniff.may_hold_private_key(source.data):
        return True
    if _is_passphrase_file(source.path):
        return True
    if any(value in source.data for _, value in configured_passphrases(context.config)):
        return True
    return sniff.is_certificate_name(source.path) and bool(
        _sibling(source.path, context, KEY_EXTENSIONS))


def check(source: SourceFile, context: RuleContext) -> list[Finding]:
    path_digest = hashlib.sha256(source.path.encode("utf-8", "surrogateescape")).hexdigest()
    if source.error is not None:
        return [to_finding(source.path, None, Issue("key-unreadable", source.error),
                           path_digest)]
    findings = _committed_passphrases(source, context, path_digest)
    if key_sniff.may_hold_private_key(source.data):
        findings.extend(_key_findings(source, context))
    elif sniff.is_certificate_name(source.path):
        findings.extend(_certificate_side_pairing(source, context))
    return findings


def _committed_passphrases(source: SourceFile, context: RuleContext,
                           path_digest: str) -> list[Finding]:
    findings = []
    if _is_passphrase_file(source.path) and source.data.strip():
        folder = os.path.dirname(source.path)
        names = context.neighbour_files().names_in(folder)
        if any(fnmatch.fnmatchcase(name.lower(), pattern) for name in names
               for pattern in KEY_FILE_PATTERNS):
            findings.append(to_finding(source.path, None, Issue(
                "passphrase-committed", "a passphrase file beside a key: the passphrase "
                "would be in git with the key it protects"), path_digest))
    for variable, value in configured_passphrases(context.config):
        offset = source.data.find(value)
        if offset != -1:
            line = source.data.count(b"\n", 0, offset) + 1
            fingerprint = hashlib.sha256(f"{source.path}\0{variable}".encode(
                "utf-8", "surrogateescape")).hexdigest()
            findings.append(to_finding(source.path, line, Issue(
                "passphrase-committed", f"the file contains the passphrase configured in "
                f"${variable}"), fingerprint))
    return findings


def _key_findings(source: SourceFile, context: RuleContext) -> list[Finding]:
    # Imported here: only files that passed the sniff pay for cryptography.
    from certwarden.recognition.keys import find_keys
    from certwarden.rules.key_rules import KeyFacts, evaluate

    scan = find_keys(source.data, config=context.config)
    findings = [to_finding(source.path, problem.line, Issue("key-unreadable", problem.reason),
                           problem.material_digest) for problem in scan.unreadable]
    if not scan.keys:
        return findings
    variable = passphrase_variable(source.path, context.config)
    passphrase = passphrase_for(source.path, context.config)
    certificates = _paired_certificates(source, context, scan.bundle_certificates)
    for key in scan.keys:
        facts = KeyFacts(key, passphrase_variable=variable, passphrase=passphrase,
                         certificates=certificates)
        if passphrase is not None and key.encrypted and key.opener is not None:
            _open(facts, passphrase)
        findings.extend(to_finding(source.path, key.line, issue, key.fingerprint)
                        for issue in evaluate(facts, context))
    return findings


def _open(facts: KeyFacts, passphrase: bytes) -> None:
    from certwarden.recognition.der_keys import describe_private_key

    assert facts.key.opener is not None
    try:
        private_key = facts.key.opener(passphrase)
    except Exception:  # wrong passphrase, or the loader cannot decrypt this scheme
        facts.opened = False
        return
    facts.opened = True
    facts.opened_type, facts.opened_size, facts.opened_spki = describe_private_key(private_key)
    del private_key


def _paired_certificates(source: SourceFile, context: RuleContext,
                         bundle_spkis: list[bytes]) -> list[PairedCertificate]:
    """Certificates that belong with keys in this file: same bundle, else same stem."""
    paired: list[PairedCertificate] = []
    if bundle_spkis:
        for spki in bundle_spkis:
            paired.append(_describe_spki(source.path, spki))
        return paired
    for sibling in _sibling(source.path, context, PAIRED_CERTIFICATE_EXTENSIONS):
        data = context.neighbour_files().read(sibling)
        if data is None:
            continue
        for spki in _leaf_spkis(sibling, data):
            paired.append(_describe_spki(sibling, spki))
    return paired


def _describe_spki(path: str, spki: bytes) -> PairedCertificate:
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    from certwarden.rules.certificate_rules import key_type_name
    from certwarden.rules.key_rules import PairedCertificate

    public_key = load_der_public_key(spki)
    return PairedCertificate(path, spki, key_type_name(public_key),
                             getattr(public_key, "key_size", None))


def _leaf_spkis(path: str, data: bytes) -> list[bytes]:
    from cryptography.hazmat.primitives import serialization

    from certwarden.recognition.certificates import load_certificates

    loaded = load_certificates(data, path, passphrase=None)
    leaves = [obj for obj in loaded.objects if obj.certificate is not None and not obj.is_ca]
    return [obj.certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        for obj in leaves if obj.certificate is not None]


def _certificate_side_pairing(source: SourceFile, context: RuleContext) -> list[Finding]:
    """A staged certificate whose key file (same stem) holds another public key."""
    from certwarden.recognition.keys import find_keys

    spkis = _leaf_spkis(source.path, source.data)
    if not spkis:
        return []
    findings = []
    for key_path in _sibling(source.path, context, KEY_EXTENSIONS):
        data = context.neighbour_files().read(key_path)
        if data is None:
            continue
        passphrase = passphrase_for(key_path, context.config)
        for key in find_keys(data, config=context.config).keys:
            spki = key.public_key_der
            if spki is None and passphrase is not None and key.opener is not None:
                from certwarden.rules.key_rules import KeyFacts

                facts = KeyFacts(key)
                _open(facts, passphrase)
                spki = facts.opened_spki
            if spki is not None and spki not in spkis:
                findings.append(to_finding(source.path, None, Issue(
                    "cert-key-mismatch", f"the certificate's public key does not match the "
                    f"{key.describe()} in {key_path}"), key.fingerprint))
    return findings
