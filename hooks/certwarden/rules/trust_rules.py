"""Trust: the configured CA chain, and revocation by CRL.

Messages echo the appliance's own wording, so users recognise them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime

from cryptography import x509
from cryptography.x509 import verification

from certwarden.context import RuleContext
from certwarden.recognition.certificates import CertificateObject, asserts_ca
from certwarden.recognition.crls import CrlUnavailable, fetch_crl, load_crl_file
from certwarden.rules.base import Issue

APPLIANCE_CHAIN_MESSAGE = ("Cannot validate chain of trust. The provided Certificate and "
                           "Root CA don't match")
APPLIANCE_REVOKED_MESSAGE = ("This certificate has been revoked by the CRL and can't be "
                             "trusted for a secure connection")


class Chain:
    """The configured chain file: issuing CA first, then each CA above it, up to the root."""

    def __init__(self, path: str, certificates: list[x509.Certificate],
                 problems: list[str]) -> None:
        self.path = path
        self.certificates = certificates
        self.problems = problems  # why the chain file itself is broken


def chain_problems(certificates: list[x509.Certificate], now: datetime) -> list[str]:
    if not certificates:
        return ["the chain file holds no certificate"]
    problems = []
    for position, certificate in enumerate(certificates, 1):
        name = certificate.subject.rfc4514_string()
        if not asserts_ca(certificate.extensions):
            problems.append(f"certificate {position} ({name}) is not a CA (basicConstraints)")
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            problems.append(f"certificate {position} ({name}) is not valid now")
        if position < len(certificates):
            try:
                certificate.verify_directly_issued_by(certificates[position])
            except Exception:  # wrong issuer name or signature, or an unsupported key
                problems.append(f"certificate {position} ({name}) is not issued by the next "
                                "one: order the file issuer first, up to the root")
    try:
        certificates[-1].verify_directly_issued_by(certificates[-1])
    except Exception:
        problems.append("the last certificate is not a self-signed root: the chain must go "
                        "up to the root")
    return problems


def load_chain(context: RuleContext) -> Chain | None:
    """The configured chain, parsed once per run; None when none is configured."""
    configured = context.config.chain
    if not configured:
        return None
    cached = context.memo.get(("chain", configured))
    if isinstance(cached, Chain):
        return cached
    path = os.path.join(context.config.root, configured)
    try:
        with open(path, "rb") as stream:
            data = stream.read(context.config.max_file_bytes)
        certificates = x509.load_pem_x509_certificates(data)
        problems = chain_problems(certificates, context.now)
    except OSError as exc:
        certificates, problems = [], [f"cannot read {configured}: {exc.strerror}"]
    except ValueError:
        certificates, problems = [], [f"{configured} is not a PEM certificate chain"]
    chain = Chain(configured, certificates, problems)
    context.memo[("chain", configured)] = chain
    return chain


def _verifier_policy(chain: Chain, now: datetime) -> verification.ClientVerifier:
    # The appliance checks the path, not web PKI extension profiles: only basic
    # constraints are required of CAs (the verifier checks cA is asserted).
    ca_policy = verification.ExtensionPolicy.permit_all().require_present(
        x509.BasicConstraints, verification.Criticality.AGNOSTIC, None)
    return (verification.PolicyBuilder()
            .store(verification.Store([chain.certificates[-1]]))
            .time(now)
            .extension_policies(ca_policy=ca_policy,
                                ee_policy=verification.ExtensionPolicy.permit_all())
            .build_client_verifier())


def chain_issues(obj: CertificateObject, chain: Chain, context: RuleContext) -> Iterator[Issue]:
    if obj.certificate is None or obj.is_ca:
        return
    if chain.problems:
        yield Issue("cert-chain", f"{APPLIANCE_CHAIN_MESSAGE}: the chain file {chain.path} is "
                    f"broken ({chain.problems[0]})")
        return
    try:
        _verifier_policy(chain, context.now).verify(obj.certificate, chain.certificates[:-1])
    except verification.VerificationError as exc:
        yield Issue("cert-chain", f"{APPLIANCE_CHAIN_MESSAGE}: the certificate does not chain "
                    f"to {chain.path} ({str(exc).split(':')[-1].strip()})")


def chain_file_issues(chain: Chain) -> Iterator[Issue]:
    """Findings on the chain file itself, when it is among the checked files."""
    for problem in chain.problems:
        yield Issue("cert-chain", f"chain file: {problem}")


def _crls_for(obj: CertificateObject, context: RuleContext
              ) -> Iterator[tuple[str, x509.CertificateRevocationList | CrlUnavailable]]:
    assert obj.certificate is not None
    for configured in context.config.crl_files:
        key = ("crl-file", configured)
        if key not in context.memo:
            try:
                context.memo[key] = load_crl_file(os.path.join(context.config.root, configured))
            except CrlUnavailable as exc:
                context.memo[key] = exc
        yield configured, context.memo[key]  # type: ignore[misc]
    if not context.config.crl_fetch:
        return
    try:
        points = obj.certificate.extensions.get_extension_for_class(
            x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return
    for point in points:
        for name in point.full_name or []:
            if isinstance(name, x509.UniformResourceIdentifier):
                url = name.value
                key = ("crl-url", url)
                if key not in context.memo:
                    try:
                        context.memo[key] = fetch_crl(url)
                    except CrlUnavailable as exc:
                        context.memo[key] = exc
                yield url, context.memo[key]  # type: ignore[misc]


def _issuer_of(crl: x509.CertificateRevocationList, chain: Chain | None
               ) -> x509.Certificate | None:
    for certificate in chain.certificates if chain else []:
        if certificate.subject == crl.issuer:
            return certificate
    return None


def _reason(revoked: x509.RevokedCertificate) -> str:
    try:
        return revoked.extensions.get_extension_for_class(x509.CRLReason).value.reason.name
    except x509.ExtensionNotFound:
        return "reason unspecified"


def revocation_issues(obj: CertificateObject, chain: Chain | None,
                      context: RuleContext) -> Iterator[Issue]:
    certificate = obj.certificate
    if certificate is None or obj.is_ca:
        return
    for source, crl in _crls_for(obj, context):
        if isinstance(crl, CrlUnavailable):
            if source.startswith(("http://", "https://")) or source in context.config.crl_files:
                yield Issue("cert-crl-unreachable", f"The CRL (Certificate Revocation List) "
                            f"location is not reachable: {crl}")
            continue
        if crl.issuer != certificate.issuer:
            continue  # a CRL of another CA
        issuer = _issuer_of(crl, chain)
        if issuer is not None and not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
            yield Issue("cert-crl-unreachable", f"the CRL from {source} is not signed by the "
                        "certificate's issuing CA; revocation status unknown")
            continue
        next_update = crl.next_update_utc
        if next_update is not None and next_update < context.now:
            yield Issue("cert-crl-unreachable", f"the CRL from {source} is stale (next update "
                        f"was due {next_update:%Y-%m-%d %H:%M} UTC); revocation status unknown")
            continue
        revoked = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
        if revoked is not None:
            yield Issue("cert-revoked", f"{APPLIANCE_REVOKED_MESSAGE}: revoked on "
                        f"{revoked.revocation_date_utc:%Y-%m-%d} ({_reason(revoked)}), "
                        f"per {source}")
            return
