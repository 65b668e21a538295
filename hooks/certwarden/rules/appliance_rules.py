"""Appliance rules: one valid certificate, CN and key pair for each appliance of the manifest.

The policy speaks of appliances, not files: "a unique certificate for each OT sensor,
on-premises management console and high-availability server" (docs/policy.md). These
rules judge the manifest (`[[appliances]]`) against the certificates and keys the
inventory found in the repository; they run only when a manifest exists. The facts come
from certwarden.inventory; this module never reads a file nor imports cryptography.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator, Sequence

from certwarden.config import Appliance
from certwarden.findings import Issue, Rule, Severity

E, W = Severity.ERROR, Severity.WARNING
POLICY = ("A unique certificate for each OT sensor, on-premises management console and "
          "high-availability server; each with its own CN and key pair.")

NO_CERTIFICATE = Rule(
    "appliance-no-certificate", "appliances", E,
    summary="An appliance of the manifest has no certificate in the repository (none named, "
            "the file is missing, or it holds no appliance certificate).",
    policy=POLICY,
    hint="Name the appliance's certificate (`certificate = \"pki/NAME.crt\"`) and commit it; "
         "`certwarden new-csr --cn CN ...` starts one.")
NONCOMPLIANT = Rule(
    "appliance-certificate-noncompliant", "appliances", E,
    summary="An appliance's certificate breaks the certificate policy (the blocking rules "
            "are named).",
    policy="An invalid certificate cannot be uploaded to the appliance.",
    hint="`certwarden inventory --appliance NAME` shows each field; renew with "
         "`certwarden new-csr ...` and have the CA sign it.")
CN_MISMATCH = Rule(
    "appliance-cn-mismatch", "appliances", E,
    summary="An appliance's certificate names neither in its CN nor in a SAN the appliance's "
            "`cn` from the manifest.",
    policy="Subject CN: the appliance's own domain name.",
    hint="Issue the certificate for the appliance's domain name, or correct `cn` in the "
         "manifest.", impact="medium")
SHARED_CN = Rule(
    "appliance-shared-cn", "appliances", E,
    summary="Two appliances share a CN (in the manifest or in their certificates).",
    policy="Every appliance needs its own certificate with its own CN.",
    hint="Give each appliance its own domain name and certificate.")
SHARED_CERTIFICATE = Rule(
    "appliance-shared-certificate", "appliances", E,
    summary="Two appliances use the same certificate (the same file or the same certificate).",
    policy="Every appliance needs its own certificate.",
    hint="Issue one certificate per appliance (`certwarden new-csr --cn CN ...`).")
SHARED_KEY = Rule(
    "appliance-shared-key", "appliances", E,
    summary="Two appliances use the same key pair (the same key file, or certificates for "
            "one public key).",
    policy="One key pair under two certificates breaks one certificate per appliance.",
    hint="Generate a new key for each appliance: `certwarden new-csr --cn CN ...`.")
KEY_MISMATCH = Rule(
    "appliance-key-mismatch", "appliances", E,
    summary="The key named for an appliance is missing from the repository or does not "
            "match its certificate.",
    policy="The key must match the certificate (same public key).",
    hint="Pair the appliance with the key its certificate was issued for; compare "
         "`openssl x509 -noout -pubkey -in CRT` with `openssl pkey -pubout -in KEY`.",
    impact="medium")
ORPHAN = Rule(
    "cert-orphan", "appliances", W,
    summary="A certificate (not a CA) that belongs to no appliance of the manifest.",
    policy=POLICY,
    hint="Add the appliance it serves to the manifest, remove the certificate, or exclude "
         "its path (`exclude = [...]`).", impact="low")


class ApplianceCertificate:
    """A certificate of the repository, as the appliance rules see it."""

    __slots__ = ("common_names", "dns_names", "fingerprint", "is_ca", "path", "spki")

    def __init__(self, path: str, fingerprint: str, *, spki: str | None,
                 common_names: Sequence[str], dns_names: Sequence[str], is_ca: bool) -> None:
        self.path = path
        self.fingerprint = fingerprint  # SHA-256 of the DER
        self.spki = spki  # SHA-256 of the SubjectPublicKeyInfo; None: unreadable
        self.common_names = tuple(common_names)
        self.dns_names = tuple(dns_names)
        self.is_ca = is_ca

    def names(self) -> set[str]:
        return {_name(n) for n in self.common_names + self.dns_names}


class ApplianceKey:
    """The key that belongs with an appliance's certificate (never its material)."""

    __slots__ = ("found", "path", "public_keys")

    def __init__(self, path: str, *, found: bool, public_keys: Sequence[str]) -> None:
        self.path = path
        self.found = found  # in the repository
        self.public_keys = tuple(public_keys)  # SHA-256 of each known SPKI; encrypted: none


class ApplianceFacts:
    """What the repository holds for one appliance of the manifest."""

    __slots__ = ("appliance", "blocking", "certificate_found", "certificates", "key")

    def __init__(self, appliance: Appliance, *, certificate_found: bool,
                 certificates: Sequence[ApplianceCertificate], blocking: Sequence[str],
                 key: ApplianceKey | None) -> None:
        self.appliance = appliance
        self.certificate_found = certificate_found  # the named file is in the repository
        self.certificates = tuple(c for c in certificates if not c.is_ca)  # its leaves
        self.blocking = tuple(blocking)  # rule ids that block those certificates
        self.key = key  # the manifest's key, else a key file of the certificate's stem

    @property
    def label(self) -> str:
        return f"appliance {self.appliance.name!r} ({self.appliance.role})"


def _name(value: str) -> str:
    return value.lower().rstrip(".")


def _fingerprint(*parts: str) -> str:
    """Stable across runs, for baselines and allowlists: the rule and the appliances."""
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def _issue(rule: Rule, facts: ApplianceFacts, message: str, *detail: str) -> Issue:
    return rule.issue(f"{facts.label}: {message}",
                      fingerprint=_fingerprint(rule.id, facts.appliance.name, *detail))


def certificate_issues(facts: ApplianceFacts) -> Iterator[Issue]:
    """No certificate, a certificate that breaks the policy, or one for another name."""
    appliance = facts.appliance
    if appliance.certificate is None:
        yield _issue(NO_CERTIFICATE, facts, "no certificate is named in the manifest")
        return
    if not facts.certificate_found:
        yield _issue(NO_CERTIFICATE, facts, f"its certificate {appliance.certificate} is not "
                                            "in the repository")
        return
    if not facts.certificates:
        yield _issue(NO_CERTIFICATE, facts, f"{appliance.certificate} holds no appliance "
                                            "certificate (only CAs, or nothing readable)")
        return
    if facts.blocking:
        yield _issue(NONCOMPLIANT, facts, f"its certificate {appliance.certificate} breaks the "
                                          f"policy: {', '.join(facts.blocking)}")
    wanted = _name(appliance.cn)
    if not any(wanted in certificate.names() for certificate in facts.certificates):
        found = sorted({n for c in facts.certificates for n in c.common_names}) or ["no CN"]
        yield _issue(CN_MISMATCH, facts, f"its certificate {appliance.certificate} is for "
                                         f"{', '.join(found)}, not for its cn {appliance.cn!r}")


def key_issues(facts: ApplianceFacts) -> Iterator[Issue]:
    """The appliance's key must be in the repository when named, and match its certificate.
    An encrypted key whose public key is unknown (no passphrase configured) is not judged."""
    key = facts.key
    if key is None:
        return
    if not key.found:
        if facts.appliance.key is not None:
            yield _issue(KEY_MISMATCH, facts, f"its key {key.path} is not in the repository")
        return
    spkis = {c.spki for c in facts.certificates if c.spki}
    if key.public_keys and spkis and not spkis & set(key.public_keys):
        yield _issue(KEY_MISMATCH, facts, f"its key {key.path} does not match its certificate "
                                          f"{facts.appliance.certificate}")


def shared_issues(appliances: Sequence[ApplianceFacts]
                  ) -> Iterator[tuple[ApplianceFacts, Issue]]:
    """Two appliances with one CN, one certificate or one key pair."""
    checks: list[tuple[Rule, str, dict[str, list[ApplianceFacts]]]] = [
        (SHARED_CN, "CN", defaultdict(list)),
        (SHARED_CERTIFICATE, "certificate", defaultdict(list)),
        (SHARED_KEY, "key pair", defaultdict(list)),
    ]
    by_cn, by_certificate, by_key = (table for _, _, table in checks)
    for facts in appliances:
        names = {_name(facts.appliance.cn)}
        certificates = {facts.appliance.certificate} - {None}
        keys: set[str | None] = set()
        if facts.key is not None and facts.key.found:
            keys.add(f"file {facts.key.path}")
        for certificate in facts.certificates:
            names.update(_name(n) for n in certificate.common_names)
            certificates.add(certificate.fingerprint)
            keys.add(certificate.spki)
        for name in names:
            by_cn[name].append(facts)
        for value in certificates:
            by_certificate[str(value)].append(facts)
        for value in keys - {None}:
            by_key[str(value)].append(facts)
    for rule, what, table in checks:
        reported: set[tuple[str, str]] = set()
        for group in table.values():
            sharing = sorted({f.appliance.name for f in group})
            if len(sharing) < 2:
                continue
            for facts in group:
                others = [n for n in sharing if n != facts.appliance.name]
                pair = (facts.appliance.name, ",".join(others))
                if pair in reported:
                    continue
                reported.add(pair)
                yield facts, _issue(rule, facts, f"shares its {what} with "
                                    f"{', '.join(repr(n) for n in others)}", *others)


def orphans(certificates: Sequence[ApplianceCertificate], appliances: Sequence[ApplianceFacts]
            ) -> Iterator[tuple[ApplianceCertificate, Issue]]:
    """Certificates (not CAs) in files no appliance names."""
    claimed = {facts.appliance.certificate for facts in appliances}
    for certificate in certificates:
        if certificate.is_ca or certificate.path in claimed:
            continue
        names = ", ".join(certificate.common_names) or "no CN"
        yield certificate, ORPHAN.issue(f"certificate for {names} belongs to no appliance of "
                                        "the manifest")


def evaluate(appliances: Sequence[ApplianceFacts],
             certificates: Sequence[ApplianceCertificate]
             ) -> Iterator[tuple[ApplianceFacts | ApplianceCertificate, Issue]]:
    for facts in appliances:
        for issue in certificate_issues(facts):
            yield facts, issue
        for issue in key_issues(facts):
            yield facts, issue
    yield from shared_issues(appliances)
    yield from orphans(certificates, appliances)
