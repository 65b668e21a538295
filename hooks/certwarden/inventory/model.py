"""What an inventory holds: one row per certificate, the appliances, and file-level problems.

Rows carry facts (recognition), the findings of the existing rules on that certificate
(the certificates, unique and appliances groups, after policy) and a status derived from
those findings. The output formats only print these; they never judge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from certwarden.config import Appliance
from certwarden.findings import Finding, Severity

ZERO = timedelta(0)

# Status of a row, most urgent first; the formats colour by it.
EXPIRED, NOT_YET_VALID, BLOCKED, EXPIRING, OK = (
    "expired", "not-yet-valid", "blocked", "expiring", "ok")
STATUSES = (EXPIRED, NOT_YET_VALID, BLOCKED, EXPIRING, OK)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, to the second: what every format prints."""
    if moment is None:
        return None
    if moment.utcoffset() != ZERO:
        moment = moment.astimezone(timezone.utc)
    # isoformat is several times faster than strftime, which counts for 10,000 rows.
    return moment.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


@dataclass
class CertificateRow:
    path: str
    position: int  # 1-based position in its file
    count: int  # certificates in that file (a bundle, P7B or PFX holds several)
    line: int | None
    fingerprint: str  # SHA-256 of the DER
    cn: str | None = None
    common_names: list[str] = field(default_factory=list)
    sans: list[str] = field(default_factory=list)
    issuer: str | None = None
    serial: str | None = None
    spki: str | None = None  # SHA-256 of the SubjectPublicKeyInfo
    not_before: datetime | None = None
    not_after: datetime | None = None
    days_left: int | None = None  # whole days from --now to not-after; negative: expired
    key_type: str | None = None
    key_size: int | None = None
    signature_algorithm: str | None = None
    crl_urls: list[str] = field(default_factory=list)
    is_ca: bool = False
    chain: str | None = None  # ok | fails | None (no chain configured, or a CA)
    chain_detail: str | None = None
    key_path: str | None = None
    key_encrypted: bool | None = None
    key_matches: bool | None = None  # None: the key's public part is unknown (encrypted)
    appliance: str | None = None
    role: str | None = None
    findings: list[Finding] = field(default_factory=list)  # after policy
    rule_ids: set[str] = field(default_factory=set)  # every rule that spoke, before policy
    status: str = OK

    @property
    def location(self) -> str:
        return self.path if self.count == 1 else f"{self.path}#{self.position}"

    def verdict(self, *, strict: bool = False) -> list[str]:
        """The blocking rules, by id."""
        if not self.findings:
            return []
        return sorted({f.rule.id for f in self.findings if f.blocks(strict=strict)})

    def notes(self, *, strict: bool = False) -> list[str]:
        """Rules that spoke without blocking (warnings, notes)."""
        if not self.findings:
            return []
        return sorted({f.rule.id for f in self.findings if not f.blocks(strict=strict)})

    def verdict_text(self, *, strict: bool = False) -> str:
        """For people: the blocking rules, then the others in parentheses."""
        if not self.findings:
            return ""
        notes = " ".join(f"({rule})" for rule in self.notes(strict=strict))
        return " ".join(part for part in (", ".join(self.verdict(strict=strict)), notes) if part)

    def as_json(self, *, strict: bool = False) -> dict[str, object]:
        return {
            "path": self.path, "position": self.position, "count": self.count,
            "line": self.line, "cn": self.cn, "sans": self.sans, "issuer": self.issuer,
            "serial": self.serial, "fingerprint": self.fingerprint,
            "not_before": iso(self.not_before), "not_after": iso(self.not_after),
            "days_left": self.days_left, "key_type": self.key_type,
            "key_size": self.key_size, "signature_algorithm": self.signature_algorithm,
            "crl_urls": self.crl_urls, "is_ca": self.is_ca, "chain": self.chain,
            "chain_detail": self.chain_detail, "key_path": self.key_path,
            "key_encrypted": self.key_encrypted, "key_matches": self.key_matches,
            "appliance": self.appliance, "role": self.role, "status": self.status,
            "verdict": self.verdict(strict=strict), "notes": self.notes(strict=strict),
            "findings": [{"rule": f.rule.id, "severity": f.severity.value,
                          "message": f.message} for f in self.findings],
        }


def status_of(row: CertificateRow, *, strict: bool = False) -> str:
    """From the rules' findings: the validity rules name the time-related states (before
    baseline or allowlist, which only decide whether they block), then any blocking rule."""
    from certwarden.rules import certificate_rules as cert

    if cert.EXPIRED.id in row.rule_ids:
        return EXPIRED
    if cert.NOT_YET_VALID.id in row.rule_ids:
        return NOT_YET_VALID
    if row.verdict(strict=strict):
        return BLOCKED
    if cert.EXPIRING_SOON.id in row.rule_ids:
        return EXPIRING
    return OK


@dataclass
class ApplianceEntry:
    appliance: Appliance
    findings: list[Finding] = field(default_factory=list)  # appliance rules, after policy

    def as_json(self) -> dict[str, object]:
        appliance = self.appliance
        return {"name": appliance.name, "role": appliance.role, "cn": appliance.cn,
                "certificate": appliance.certificate, "key": appliance.key,
                "findings": [finding.as_json() for finding in self.findings]}


@dataclass
class Inventory:
    now: datetime
    warning_days: int
    rows: list[CertificateRow] = field(default_factory=list)
    appliances: list[ApplianceEntry] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)  # files with no readable certificate
    chain: str | None = None  # the configured chain file
    strict: bool = False

    def counts(self) -> dict[str, int]:
        counts = {status: 0 for status in STATUSES}
        for row in self.rows:
            counts[row.status] += 1
        return counts

    def expiring_within(self, days: int) -> list[CertificateRow]:
        """Certificates whose not-after falls before now + days (expired ones included)."""
        limit = self.now + timedelta(days=days)
        return [row for row in self.rows if row.not_after is not None and row.not_after < limit]

    def blocking(self) -> list[Finding]:
        findings = [f for row in self.rows for f in row.findings]
        findings += [f for entry in self.appliances for f in entry.findings]
        findings += self.problems
        return [f for f in findings if f.blocks(strict=self.strict)]

    def as_json(self) -> dict[str, object]:
        return {
            "generated": iso(self.now), "warning_days": self.warning_days,
            "chain": self.chain, "summary": {"certificates": len(self.rows), **self.counts()},
            "certificates": [row.as_json(strict=self.strict) for row in self.rows],
            "appliances": [entry.as_json() for entry in self.appliances],
            "problems": [finding.as_json() for finding in self.problems],
        }


SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
