"""`certwarden inspect FILE`: one file, field by field, against the policy.

A table people would rather read than `openssl x509 -text`: each field of docs/policy.md, the
value found, the requirement and the verdict of the rule that checks it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime

from certwarden.config import SIGNATURE_ALGORITHM_NAMES, Config
from certwarden.findings import Finding, Rule
from certwarden.rules import certificate_rules as cert
from certwarden.rules import key_rules

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

    from certwarden.recognition.certificates import CertificateObject
    from certwarden.recognition.found_key import FoundKey

PASS, NOT_APPLICABLE = "pass", "n/a"
MARKS = {"pass": ("✓", "\033[32m"), "error": ("✗", "\033[31m"),
         "warning": ("!", "\033[33m"), "info": ("i", "\033[36m"), "n/a": ("-", "\033[2m")}


class Row:
    __slots__ = ("field", "requirement", "rules", "value")

    def __init__(self, field: str, value: str, requirement: str, rules: Sequence[Rule]) -> None:
        self.field = field
        self.value = value
        self.requirement = requirement
        self.rules = tuple(rules)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "(unreadable)"


def certificate_rows(obj: CertificateObject, config: Config) -> list[Row]:
    """The policy's fields, read from the certificate's facts (which never raise)."""
    oid = obj.signature_oid
    size = obj.public_key_size
    allowed_signatures = ", ".join(SIGNATURE_ALGORITHM_NAMES.get(o, o)
                                   for o in config.signature_algorithms)
    sizes = " or ".join(str(s) for s in config.key_sizes)
    malformed = obj.malformed
    rows = [
        Row("well-formed", "; ".join(m.part for m in malformed) + " malformed" if malformed
            else "every part parses", "every part parses", [cert.MALFORMED]),
        Row("signature algorithm", SIGNATURE_ALGORITHM_NAMES.get(oid, oid), allowed_signatures,
            [cert.SIGNATURE_ALGORITHM]),
        Row("public key", f"{obj.public_key_label} {size or ''}".strip(),
            f"{'/'.join(t.upper() for t in config.key_types)}, {sizes} bits",
            [cert.KEY_TYPE, cert.KEY_SIZE, cert.KEY_SIZE_SLOW]),
    ]
    if obj.kind == "certificate":
        rows += [
            Row("valid from", _when(obj.not_before), "in the past", [cert.NOT_YET_VALID]),
            Row("valid to", _when(obj.not_after),
                f"in the future (warning within {config.expiry_warning_days} days)",
                [cert.EXPIRED, cert.EXPIRING_SOON]),
        ]
        if obj.crl_unreadable:
            urls = "(malformed)"
        elif obj.crl_urls is None:
            urls = "(none)"
        else:
            urls = ", ".join(obj.crl_urls) or "?"
        requirement = {"require": "an http:// URL", "forbid": "absent",
                       "ignore": "not checked"}[config.crl_mode]
        rows.append(Row("CRL distribution point", urls, requirement,
                        [cert.CRL_DISTRIBUTION_POINT]))
    rows.append(Row("subject", obj.subject_text, "C, O, OU and CN (below)", []))
    for label, short, rule, name in (
            ("subject CN", "CN", cert.SUBJECT_CN, "common-name"),
            ("subject C", "C", cert.SUBJECT_COUNTRY, "country"),
            ("subject OU", "OU", cert.SUBJECT_ORG_UNIT, "organizational-unit"),
            ("subject O", "O", cert.SUBJECT_ORG, "organization")):
        values = ", ".join(obj.subject_values(short))
        spec = config.subject[name]
        requirement = "required" if spec.required else "optional"
        if spec.value:
            requirement += f", = {spec.value!r}"
        if spec.pattern:
            requirement += f", matches {spec.pattern.pattern!r}"
        checked_by = [rule]
        if name == "common-name":
            requirement += ", the appliance's domain name"
            if "*" in values:
                checked_by.append(cert.WILDCARD)
        elif name == "country":
            requirement += ", ISO 3166 two-letter code"
        rows.append(Row(label, values or "(none)", requirement, checked_by))
    names = ", ".join(obj.dns_names) or "(none)"
    rows.append(Row("SAN DNS names", names, "no wildcard",
                    [cert.WILDCARD] if "*" in names else []))
    return rows


def key_rows(key: FoundKey) -> list[Row]:
    encrypted = f"yes: {key.encryption}" if key.encrypted else "NO"
    size = f"{(key.key_type or '?').upper()} {key.key_size or '(size unknown)'}"
    return [
        Row("format", key.form, "any", []),
        Row("encrypted", encrypted, "yes, with a strong scheme",
            [key_rules.UNENCRYPTED, key_rules.WEAK_ENCRYPTION]),
        Row("type and size", size, "RSA 2048 or 4096", [key_rules.KEY_TYPE, key_rules.KEY_SIZE]),
    ]


def _verdict(row: Row, findings: Sequence[Finding], applicable: bool) -> str:
    if not row.rules:
        return PASS
    if not applicable:
        return NOT_APPLICABLE
    hits = [f for f in findings if f.rule in row.rules]
    if not hits:
        return PASS
    return min((f.severity for f in hits), key=lambda s: ["error", "warning", "info"].index(
        s.value)).value


def render(title: str, rows: Sequence[Row], findings: Sequence[Finding], stream: TextIO,
           *, colour: bool, not_applicable: frozenset[Rule] = frozenset()) -> None:
    stream.write(f"\n{title}\n")
    table = []
    for row in rows:
        verdict = _verdict(row, findings, not row.rules or not set(row.rules) <= not_applicable)
        table.append((row.field, row.value, row.requirement, verdict))
    widths = [max(len(r[i]) for r in table) for i in range(3)]
    widths = [min(w, 48) for w in widths]
    for field, value, requirement, verdict in table:
        mark, code = MARKS[verdict]
        shown = f"{code}{mark} {verdict}\033[0m" if colour else f"{mark} {verdict}"
        stream.write(f"  {field:<{widths[0]}}  {value:<{widths[1]}}  "
                     f"{requirement:<{widths[2]}}  {shown}\n")


def inspect_file(path: str, *, config: Config, now: datetime, stream: TextIO) -> int:
    from certwarden import pipeline
    from certwarden.context import RuleContext
    from certwarden.groups import default_names, load_all
    from certwarden.passphrases import passphrase_for
    from certwarden.recognition.certificates import load_certificates
    from certwarden.recognition.keys import find_keys
    from certwarden.reporters.text import use_colour
    from certwarden.rules.certificate_rules import CA, CSR, not_applicable_rules, role_of
    from certwarden.sources import read_paths

    colour = use_colour(stream)
    source = next(read_paths([path], max_bytes=config.max_file_bytes))  # read once
    report = pipeline.run([source], groups=load_all(default_names(repository=False)),
                          context=RuleContext(config, now))
    stream.write(f"{path}: {source.size} bytes\n")
    if source.error is None and not source.is_symlink:
        loaded = load_certificates(source.data, path,
                                   passphrase=passphrase_for(path, config))
        for obj in loaded.objects:
            role = role_of(obj)
            skipped = not_applicable_rules(obj)
            where = f" (line {obj.line})" if obj.line else ""
            kind = {CA: "CA certificate", CSR: "certificate signing request"}.get(
                role, "certificate")
            findings = [f for f in report.findings if f.fingerprint == obj.fingerprint
                        or (obj.line is not None and f.line == obj.line)]
            render(f"{kind} #{obj.index + 1}{where}, SHA-256 {obj.fingerprint[:16]}...",
                   certificate_rows(obj, config), findings, stream, colour=colour,
                   not_applicable=skipped)
        for key in find_keys(source.data).keys:
            findings = [f for f in report.findings if f.line == key.line]
            where = f" (line {key.line})" if key.line else ""
            render(f"private key{where}", key_rows(key), findings, stream, colour=colour)
    blocking = [f for f in report.findings if f.blocks(strict=False)]
    stream.write("\n")
    for finding in report.findings:
        stream.write(f"{finding.severity.value}: {finding.rule.id}: {finding.message}\n")
    if blocking:
        rules = ", ".join(sorted({f.rule.id for f in blocking}))
        stream.write(f"\nblocked by: {rules}\n")
        return 1
    notes = len(report.findings)
    suffix = f" ({notes} warning or note{'s' if notes != 1 else ''} above)" if notes else ""
    stream.write(f"\n{os.path.basename(path)}: meets the policy{suffix}\n")
    return 0

