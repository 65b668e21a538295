"""The certificate policy of POLICY.md, one small check per rule id.

Each check takes one certificate or CSR and yields Issues. Which objects a check
applies to is declared beside it: CSRs have no validity or CRL, and CA certificates
of a chain are not held to the appliance's subject and CRL rules.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

from certwarden.config import SIGNATURE_ALGORITHM_NAMES, SubjectField
from certwarden.context import RuleContext
from certwarden.recognition.certificates import CertificateObject
from certwarden.rules.base import Issue
from certwarden.rules.iso3166 import COUNTRY_CODES

Check = Callable[[CertificateObject, RuleContext], Iterator[Issue]]

# Who a check applies to.
LEAF, CA, CSR = "leaf", "ca", "csr"


@dataclass(frozen=True)
class CertificateCheck:
    rule: str
    applies_to: frozenset[str]
    check: Check


CHECKS: list[CertificateCheck] = []


def certificate_check(rule: str, *applies_to: str) -> Callable[[Check], Check]:
    def register(function: Check) -> Check:
        CHECKS.append(CertificateCheck(rule, frozenset(applies_to), function))
        return function
    return register


def role_of(obj: CertificateObject) -> str:
    if obj.kind == "csr":
        return CSR
    return CA if obj.is_ca else LEAF


def evaluate(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    """Every applicable check; a check that raises becomes cert-unreadable, not a crash."""
    role = role_of(obj)
    for entry in CHECKS:
        if role not in entry.applies_to:
            continue
        try:
            yield from entry.check(obj, context)
        except Exception as exc:  # malformed fields surface lazily in cryptography
            yield Issue("cert-unreadable",
                        f"{obj.label} could not be checked for {entry.rule}: "
                        f"{type(exc).__name__}")


# -- helpers ---------------------------------------------------------------------------------

def key_type_name(key: object) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return "rsa"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ec"
    if isinstance(key, dsa.DSAPublicKey):
        return "dsa"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "ed448"
    return "unknown"


def _public_key(obj: CertificateObject) -> object:
    if obj.certificate is not None:
        return obj.certificate.public_key()
    assert obj.csr is not None
    return obj.csr.public_key()


def _attribute_values(obj: CertificateObject, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(a.value) for a in obj.subject.get_attributes_for_oid(oid)]


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


def _subject_field(obj: CertificateObject, context: RuleContext, *, rule: str, config_name: str,
                   oid: x509.ObjectIdentifier, short: str) -> Iterator[Issue]:
    spec = context.config.subject[config_name]
    values = _attribute_values(obj, oid)
    if not values:
        if spec.required:
            yield Issue(rule, f"{obj.label} subject has no {short}")
        return
    if len(values) > 1:
        yield Issue(rule, f"{obj.label} subject has {len(values)} {short} attributes; expected one")
    for value in values:
        if not value.strip():
            yield Issue(rule, f"{obj.label} subject {short} is empty")
        for message in _configured(value, spec, short):
            yield Issue(rule, message)


# -- signature and key -----------------------------------------------------------------------

@certificate_check("cert-signature-algorithm", LEAF, CA, CSR)
def signature_algorithm(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    signed = obj.certificate if obj.certificate is not None else obj.csr
    assert signed is not None
    oid = signed.signature_algorithm_oid.dotted_string
    if oid not in context.config.signature_algorithms:
        name = SIGNATURE_ALGORITHM_NAMES.get(oid, oid)
        allowed = ", ".join(SIGNATURE_ALGORITHM_NAMES.get(o, o)
                            for o in context.config.signature_algorithms)
        yield Issue("cert-signature-algorithm",
                    f"{obj.label} is signed with {name}; allowed: {allowed}")


@certificate_check("cert-key-type", LEAF, CA, CSR)
def key_type(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    name = key_type_name(_public_key(obj))
    if name not in context.config.key_types:
        yield Issue("cert-key-type", f"{obj.label} public key is {name.upper()}; allowed: "
                    f"{', '.join(t.upper() for t in context.config.key_types)}")


@certificate_check("cert-key-size", LEAF, CA, CSR)
def key_size(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    key = _public_key(obj)
    size = getattr(key, "key_size", None)
    if key_type_name(key) not in context.config.key_types or size is None:
        return  # cert-key-type speaks for keys of another type
    if size not in context.config.key_sizes:
        yield Issue("cert-key-size", f"{obj.label} key is {size} bits; allowed: "
                    f"{' or '.join(str(s) for s in context.config.key_sizes)}")


@certificate_check("cert-key-size-slow", LEAF, CA, CSR)
def key_size_slow(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    size = getattr(_public_key(obj), "key_size", None)
    if size in context.config.slow_key_sizes and size in context.config.key_sizes:
        yield Issue("cert-key-size-slow", f"{obj.label} key is {size} bits: allowed, but every "
                    "TLS handshake costs more CPU than with 2048 bits")


# -- validity --------------------------------------------------------------------------------

@certificate_check("cert-not-yet-valid", LEAF, CA)
def not_yet_valid(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    assert obj.certificate is not None
    start = obj.certificate.not_valid_before_utc
    if start > context.now:
        yield Issue("cert-not-yet-valid", f"certificate is not valid before {start:%Y-%m-%d %H:%M} "
                    "UTC")


@certificate_check("cert-expired", LEAF, CA)
def expired(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    assert obj.certificate is not None
    end = obj.certificate.not_valid_after_utc
    if end < context.now:
        yield Issue("cert-expired", f"certificate expired on {end:%Y-%m-%d %H:%M} UTC: this SSL "
                    "certificate has expired and isn't considered valid")


@certificate_check("cert-expiring-soon", LEAF, CA)
def expiring_soon(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    assert obj.certificate is not None
    end = obj.certificate.not_valid_after_utc
    window = timedelta(days=context.config.expiry_warning_days)
    if context.now <= end < context.now + window:
        days = (end - context.now).days
        yield Issue("cert-expiring-soon", f"certificate expires in {days} days, on "
                    f"{end:%Y-%m-%d} (warning window: {context.config.expiry_warning_days} days)")


# -- CRL distribution point ------------------------------------------------------------------

@certificate_check("cert-crl-distribution-point", LEAF)
def crl_distribution_point(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    mode = context.config.crl_mode
    if mode == "ignore":
        return
    try:
        points = obj.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        if mode == "require":
            yield Issue("cert-crl-distribution-point",
                        "certificate has no CRL distribution point; the policy requires an "
                        "http:// CRL URL (crl-mode = require)")
        return
    if mode == "forbid":
        yield Issue("cert-crl-distribution-point",
                    "certificate has a CRL distribution point, but crl-mode = forbid: an "
                    "organization that does not validate against a CRL must leave it out")
        return
    urls = [name.value for point in points for name in (point.full_name or [])
            if isinstance(name, x509.UniformResourceIdentifier)]
    for url in urls:
        if not url.lower().startswith("http://"):
            scheme = url.split(":", 1)[0] if ":" in url else url
            yield Issue("cert-crl-distribution-point",
                        f"CRL URL {url!r} uses {scheme}; the appliance fetches CRLs over plain "
                        "http:// only")
    if not any(url.lower().startswith("http://") for url in urls):
        yield Issue("cert-crl-distribution-point",
                    "CRL distribution point has no http:// URL")


# -- subject ---------------------------------------------------------------------------------

@certificate_check("cert-subject-cn", LEAF, CSR)
def subject_cn(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    values = obj.common_names
    spec = context.config.subject["common-name"]
    if not values:
        if spec.required:
            yield Issue("cert-subject-cn", f"{obj.label} subject has no CN; it must be the "
                        "appliance's domain name, e.g. sensor1.plant.example.com")
        return
    if len(values) > 1:
        yield Issue("cert-subject-cn", f"{obj.label} subject has {len(values)} CNs; expected one")
    for value in values:
        if "*" not in value:  # wildcards are cert-wildcard's finding
            problem = dns_name_problem(value)
            if problem:
                yield Issue("cert-subject-cn", f"subject CN {value!r} {problem}")
        for message in _configured(value, spec, "CN"):
            yield Issue("cert-subject-cn", message)


@certificate_check("cert-subject-country", LEAF, CSR)
def subject_country(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    values = _attribute_values(obj, NameOID.COUNTRY_NAME)
    for value in values:
        if value not in COUNTRY_CODES:
            yield Issue("cert-subject-country",
                        f"subject C {value!r} is not an ISO 3166 two-letter country code "
                        "such as US")
    yield from _subject_field(obj, context, rule="cert-subject-country", config_name="country",
                              oid=NameOID.COUNTRY_NAME, short="C")


@certificate_check("cert-subject-org-unit", LEAF, CSR)
def subject_org_unit(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    yield from _subject_field(obj, context, rule="cert-subject-org-unit",
                              config_name="organizational-unit",
                              oid=NameOID.ORGANIZATIONAL_UNIT_NAME, short="OU")


@certificate_check("cert-subject-org", LEAF, CSR)
def subject_org(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    yield from _subject_field(obj, context, rule="cert-subject-org", config_name="organization",
                              oid=NameOID.ORGANIZATION_NAME, short="O")


@certificate_check("cert-wildcard", LEAF, CSR)
def wildcard(obj: CertificateObject, context: RuleContext) -> Iterator[Issue]:
    for value in obj.common_names:
        if "*" in value:
            yield Issue("cert-wildcard", f"subject CN {value!r} is a wildcard; every appliance "
                        "needs its own certificate")
    for name in obj.dns_names:
        if "*" in name:
            yield Issue("cert-wildcard", f"SAN DNS name {name!r} is a wildcard")
