"""The certificate policy (docs/policy.md), one rule and one small check per field.

Each check takes one certificate or CSR (its facts, from recognition) and yields Issues.
Which objects a check applies to is declared beside it: CSRs have no validity or CRL,
and CA certificates of a chain are not held to the appliance's subject and CRL rules.
Import-light: facts come from recognition, so this module never imports cryptography.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from datetime import timedelta

from certwarden.config import SIGNATURE_ALGORITHM_NAMES, SubjectField
from certwarden.context import RuleContext
from certwarden.findings import Issue, Rule, Severity
from certwarden.rules.iso3166 import COUNTRY_CODES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from certwarden.recognition.certificates import CertificateObject

E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO
RENEW = "openssl req -new -sha256 -key KEY -out renew.csr"

UNREADABLE = Rule(
    "cert-unreadable", "certificates", E,
    summary="The file should hold a certificate, CSR or bundle, but none could be read.",
    policy="Files: .crt/.pem/.der/.cer/.pfx/.p12/.csr hold certificates in PEM or DER.",
    hint="Check the file with `openssl x509 -in {path} -text -noout` "
         "(add `-inform der` for DER); re-export it if it is truncated or corrupt.",
    impact="medium")
SIGNATURE_ALGORITHM = Rule(
    "cert-signature-algorithm", "certificates", E,
    summary="The signature algorithm is not an allowed one (default: sha256WithRSAEncryption).",
    policy="Signature algorithm: sha256WithRSAEncryption (SHA256RSA), signature hash SHA-256.",
    hint="Have the CA re-issue the certificate signed with sha256WithRSAEncryption "
         "(`openssl req ... -sha256`).")
NOT_YET_VALID = Rule(
    "cert-not-yet-valid", "certificates", E,
    summary="The certificate's validity starts in the future.",
    policy="Valid from: in the past.",
    hint="Check the issuing host's clock, or wait until the certificate becomes valid.",
    impact="medium")
EXPIRED = Rule(
    "cert-expired", "certificates", E,
    summary="The certificate has expired.",
    policy="Valid to: in the future. (Appliance: 'This SSL certificate has expired and "
           "isn't considered valid.')",
    hint=f"Renew it: `{RENEW}`, then have the CA sign the CSR.")
EXPIRING_SOON = Rule(
    "cert-expiring-soon", "certificates", W,
    summary="The certificate expires within the warning window (default 30 days).",
    policy="Valid to: in the future.",
    hint=f"Plan the renewal now: `{RENEW}`.", impact="medium")
KEY_TYPE = Rule(
    "cert-key-type", "certificates", E,
    summary="The certificate's public key is not of an allowed type (default: RSA; an "
            "RSA-PSS-only key is not RSA).",
    policy="Public key: RSA, 2048 or 4096 bits.",
    hint="Issue a new certificate for an RSA key: `openssl genrsa -aes256 -out new.key 2048`.")
KEY_SIZE = Rule(
    "cert-key-size", "certificates", E,
    summary="The certificate's RSA key size is not allowed (default: 2048 or 4096 bits).",
    policy="Public key: RSA, 2048 or 4096 bits (2048 is the minimum).",
    hint="Issue a new certificate for a 2048- or 4096-bit RSA key.")
KEY_SIZE_SLOW = Rule(
    "cert-key-size-slow", "certificates", N,
    summary="A 4096-bit appliance key is allowed but makes every TLS handshake slower "
            "(not reported for CAs).",
    policy="4096 makes every TLS handshake slower and costs CPU: worth a note, not a block.",
    hint="Nothing to do if 4096 bits is deliberate; 2048 bits meets the policy.", impact="low")
CRL_DISTRIBUTION_POINT = Rule(
    "cert-crl-distribution-point", "certificates", E,
    summary="The CRL distribution point breaks the configured CRL mode "
            "(default: required, http:// only).",
    policy="CRL distribution point: an http:// URL (https:// does not work); leave the "
           "extension out when the organization does not validate against a CRL.",
    hint="Re-issue with `crlDistributionPoints = URI:http://...` in the CA's extensions "
         "(or without the extension when crl-mode is forbid).", impact="medium")
SUBJECT_CN = Rule(
    "cert-subject-cn", "certificates", E,
    summary="The subject CN is missing, not a DNS name, an IP address, or not as configured.",
    policy="Subject CN: the appliance's own domain name, e.g. sensor1.plant.example.com.",
    hint="Re-issue with `-subj \"/CN=sensor1.plant.example.com/...\"`.", impact="medium")
SUBJECT_COUNTRY = Rule(
    "cert-subject-country", "certificates", E,
    summary="The subject C is missing or not an ISO 3166 two-letter country code.",
    policy="Subject C: two-letter country code, e.g. US.",
    hint="Re-issue with `-subj \"/C=US/...\"`.", impact="low")
SUBJECT_ORG_UNIT = Rule(
    "cert-subject-org-unit", "certificates", E,
    summary="The subject OU is missing or not as configured.",
    policy="Subject OU: organizational unit, e.g. Plant Engineering.",
    hint="Re-issue with `-subj \"/OU=Plant Engineering/...\"`.", impact="low")
SUBJECT_ORG = Rule(
    "cert-subject-org", "certificates", E,
    summary="The subject O is missing or not as configured.",
    policy="Subject O: organization, e.g. Example Corp.",
    hint="Re-issue with `-subj \"/O=Example Corp/...\"`.", impact="low")
MALFORMED = Rule(
    "cert-malformed", "certificates", E,
    summary="A part of the certificate (an extension, the subject, the public key, the "
            "signature algorithm fields) cannot be parsed; the other rules still run.",
    policy="Other parameters may work on the appliance but are unsupported: treat them as "
           "errors by default. An invalid certificate cannot be uploaded.",
    hint="See the part the message names with `openssl x509 -in {path} -text -noout`, then "
         "have the CA re-issue the certificate without it, or with it encoded as RFC 5280 "
         "requires (the CA's extension profile or request template made it).",
    impact="medium")
WILDCARD = Rule(
    "cert-wildcard", "certificates", E,
    summary="A wildcard name (e.g. *.example.com) in the CN or a SAN DNS name.",
    policy="Wildcard certificates (*.example.com, in CN or SAN) are insecure and refused.",
    hint="Issue one certificate per appliance, named after that appliance.")

Check = Callable[["CertificateObject", RuleContext], Iterator[Issue]]

# Who a check applies to.
LEAF, CA, CSR = "leaf", "ca", "csr"


class CertificateCheck:
    __slots__ = ("applies_to", "check", "rule")

    def __init__(self, rule: Rule, applies_to: frozenset[str], check: Check) -> None:
        self.rule = rule
        self.applies_to = applies_to
        self.check = check


CHECKS: list[CertificateCheck] = []


def certificate_check(rule: Rule, *applies_to: str) -> Callable[[Check], Check]:
    def register(function: Check) -> Check:
        CHECKS.append(CertificateCheck(rule, frozenset(applies_to), function))
        return function
    return register


def role_of(obj: CertificateObject) -> str:
    if obj.kind == "csr":
        return CSR
    return CA if obj.is_ca else LEAF


def not_applicable_rules(obj: CertificateObject) -> frozenset[Rule]:
    """The rules that do not apply to this object (a CSR has no validity, ...)."""
    role = role_of(obj)
    return frozenset(entry.rule for entry in CHECKS if role not in entry.applies_to)


def evaluate(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    """Every applicable check. Facts never raise (recognition reads each field on its own);
    should a check raise all the same, that one rule becomes cert-malformed, not a crash."""
    role = role_of(obj)
    for entry in CHECKS:
        if role not in entry.applies_to:
            continue
        try:
            yield from list(entry.check(obj, context))
        except Exception as exc:
            yield MALFORMED.issue(f"{obj.label} could not be checked for {entry.rule.id}: a "
                                  f"part of it cannot be read ({type(exc).__name__})")


# -- helpers ---------------------------------------------------------------------------------

_DNS_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def dns_name_problem(name: str) -> str | None:
    """Why `name` is not a fully qualified DNS name, or None when it is one."""
    try:
        ipaddress.ip_address(name)
        return "is an IP address, not a domain name"
    except ValueError:
        pass
    host = name[:-1] if name.endswith(".") else name
    labels = host.split(".")
    if len(host) > 253 or not all(_DNS_LABEL.match(label) for label in labels):
        return "is not a valid DNS name"
    if len(labels) < 2:
        return "is a single label, not the appliance's fully qualified domain name"
    if labels[-1].isdigit():
        return "is not a valid DNS name (numeric top-level label)"
    return None


def _configured(value: str, spec: SubjectField, field_name: str) -> Iterator[str]:
    if spec.value is not None and value != spec.value:
        yield f"subject {field_name} {value!r} is not the configured {spec.value!r}"
    if spec.pattern is not None and not spec.pattern.search(value):
        yield f"subject {field_name} {value!r} does not match the configured pattern " \
              f"{spec.pattern.pattern!r}"


def _subject_field(obj: CertificateObject, context: RuleContext, *, rule: Rule,
                   config_name: str, short: str) -> Iterator[Issue]:
    spec = context.config.subject[config_name]
    values = obj.subject_values(short)
    if not obj.subject_readable:  # cert-malformed names the subject
        return
    if not values:
        if spec.required:
            yield rule.issue(f"{obj.label} subject has no {short}")
        return
    if len(values) > 1:
        yield rule.issue(f"{obj.label} subject has {len(values)} {short} attributes; "
                         "expected one")
    for value in values:
        if not value.strip():
            yield rule.issue(f"{obj.label} subject {short} is empty")
        for message in _configured(value, spec, short):
            yield rule.issue(message)


# -- well-formed -----------------------------------------------------------------------------

@certificate_check(MALFORMED, LEAF, CA, CSR)
def malformed(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    for part in obj.malformed:
        yield MALFORMED.issue(part.message)


# -- signature and key -----------------------------------------------------------------------

@certificate_check(SIGNATURE_ALGORITHM, LEAF, CA, CSR)
def signature_algorithm(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    oid = obj.signature_oid
    if oid not in context.config.signature_algorithms:
        name = SIGNATURE_ALGORITHM_NAMES.get(oid, oid)
        allowed = ", ".join(SIGNATURE_ALGORITHM_NAMES.get(o, o)
                            for o in context.config.signature_algorithms)
        yield SIGNATURE_ALGORITHM.issue(f"{obj.label} is signed with {name}; allowed: {allowed}")


# An rsassaPss SubjectPublicKeyInfo restricts an RSA key to RSASSA-PSS signatures: it is
# not the "RSA" of the policy (docs/policy.md), which the appliance needs for
# sha256WithRSAEncryption; key-types = ["rsa-pss"] allows it where wanted.
_KEY_TYPE_NOTES = {"rsa-pss": " (an RSA key restricted to RSASSA-PSS signatures by its "
                              "rsassaPss algorithm identifier, not an rsaEncryption key)"}


@certificate_check(KEY_TYPE, LEAF, CA, CSR)
def key_type(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    name = obj.public_key_type
    if name not in context.config.key_types:
        label = obj.public_key_label
        label = label if name[:1].isalpha() else f"of algorithm {label}"
        yield KEY_TYPE.issue(f"{obj.label} public key is {label}{_KEY_TYPE_NOTES.get(name, '')}"
                             f"; allowed: "
                             f"{', '.join(t.upper() for t in context.config.key_types)}")


@certificate_check(KEY_SIZE, LEAF, CA, CSR)
def key_size(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    size = obj.public_key_size
    if obj.public_key_type not in context.config.key_types or size is None:
        return  # cert-key-type speaks for keys of another type
    if size not in context.config.key_sizes:
        yield KEY_SIZE.issue(f"{obj.label} key is {size} bits; allowed: "
                             f"{' or '.join(str(s) for s in context.config.key_sizes)}")


# The note is about the appliance's own key (its handshakes), never a CA of the chain.
@certificate_check(KEY_SIZE_SLOW, LEAF, CSR)
def key_size_slow(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    size = obj.public_key_size
    if size in context.config.slow_key_sizes and size in context.config.key_sizes:
        yield KEY_SIZE_SLOW.issue(f"{obj.label} key is {size} bits: allowed, but every TLS "
                                  "handshake costs more CPU than with 2048 bits")


# -- validity --------------------------------------------------------------------------------

@certificate_check(NOT_YET_VALID, LEAF, CA)
def not_yet_valid(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    start = obj.not_before
    if start is not None and start > context.now:  # None: cert-malformed names it
        yield NOT_YET_VALID.issue(f"certificate is not valid before {start:%Y-%m-%d %H:%M} UTC")


@certificate_check(EXPIRED, LEAF, CA)
def expired(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    end = obj.not_after
    if end is not None and end < context.now:
        yield EXPIRED.issue(f"certificate expired on {end:%Y-%m-%d %H:%M} UTC: this SSL "
                            "certificate has expired and isn't considered valid")


@certificate_check(EXPIRING_SOON, LEAF, CA)
def expiring_soon(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    end = obj.not_after
    window = timedelta(days=context.config.expiry_warning_days)
    if end is not None and context.now <= end < context.now + window:
        days = (end - context.now).days
        yield EXPIRING_SOON.issue(f"certificate expires in {days} days, on {end:%Y-%m-%d} "
                                  f"(warning window: {context.config.expiry_warning_days} days)")


# -- CRL distribution point ------------------------------------------------------------------

@certificate_check(CRL_DISTRIBUTION_POINT, LEAF)
def crl_distribution_point(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    mode = context.config.crl_mode
    if mode == "ignore" or obj.crl_unreadable:  # a malformed extension: cert-malformed
        return
    urls = obj.crl_urls
    if urls is None:
        if mode == "require":
            yield CRL_DISTRIBUTION_POINT.issue(
                "certificate has no CRL distribution point; the policy requires an http:// "
                "CRL URL (crl-mode = require)")
        return
    if mode == "forbid":
        yield CRL_DISTRIBUTION_POINT.issue(
            "certificate has a CRL distribution point, but crl-mode = forbid: an "
            "organization that does not validate against a CRL must leave it out")
        return
    for url in urls:
        if not url.lower().startswith("http://"):
            scheme = url.split(":", 1)[0] if ":" in url else url
            yield CRL_DISTRIBUTION_POINT.issue(
                f"CRL URL {url!r} uses {scheme}; the appliance fetches CRLs over plain "
                "http:// only")
    if not any(url.lower().startswith("http://") for url in urls):
        yield CRL_DISTRIBUTION_POINT.issue("CRL distribution point has no http:// URL")


# -- subject ---------------------------------------------------------------------------------

@certificate_check(SUBJECT_CN, LEAF, CSR)
def subject_cn(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    values = obj.common_names
    spec = context.config.subject["common-name"]
    if not obj.subject_readable:  # cert-malformed names the subject
        return
    if not values:
        if spec.required:
            yield SUBJECT_CN.issue(f"{obj.label} subject has no CN; it must be the "
                                   "appliance's domain name, e.g. sensor1.plant.example.com")
        return
    if len(values) > 1:
        yield SUBJECT_CN.issue(f"{obj.label} subject has {len(values)} CNs; expected one")
    for value in values:
        if "*" not in value:  # wildcards are cert-wildcard's finding
            problem = dns_name_problem(value)
            if problem:
                yield SUBJECT_CN.issue(f"subject CN {value!r} {problem}")
        for message in _configured(value, spec, "CN"):
            yield SUBJECT_CN.issue(message)


@certificate_check(SUBJECT_COUNTRY, LEAF, CSR)
def subject_country(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    for value in obj.subject_values("C"):
        if value not in COUNTRY_CODES:
            yield SUBJECT_COUNTRY.issue(f"subject C {value!r} is not an ISO 3166 two-letter "
                                        "country code such as US")
    yield from _subject_field(obj, context, rule=SUBJECT_COUNTRY, config_name="country",
                              short="C")


@certificate_check(SUBJECT_ORG_UNIT, LEAF, CSR)
def subject_org_unit(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    yield from _subject_field(obj, context, rule=SUBJECT_ORG_UNIT,
                              config_name="organizational-unit", short="OU")


@certificate_check(SUBJECT_ORG, LEAF, CSR)
def subject_org(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    yield from _subject_field(obj, context, rule=SUBJECT_ORG, config_name="organization",
                              short="O")


@certificate_check(WILDCARD, LEAF, CSR)
def wildcard(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    for value in obj.common_names:
        if "*" in value:
            yield WILDCARD.issue(f"subject CN {value!r} is a wildcard; every appliance needs "
                                 "its own certificate")
    for name in obj.dns_names:
        if "*" in name:
            yield WILDCARD.issue(f"SAN DNS name {name!r} is a wildcard")
