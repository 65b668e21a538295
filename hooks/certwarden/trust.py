"""The trust source: the configured CA chain and the CRLs, loaded (and fetched) once a run.

Rules judge; they do not read files or fetch URLs. The certificates group hands each
certificate to this source, which returns TrustFacts: whether it chains to the
configured chain, and what each CRL says of it. trust_rules turns the facts into findings.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime

from cryptography import x509
from cryptography.x509 import verification

from certwarden.config import Config
from certwarden.recognition.certificates import asserts_ca
from certwarden.recognition.crls import CrlUnavailable, fetch_crl, load_crl_file


class Chain:
    """The configured chain file: issuing CA first, then each CA above it, up to the root."""

    def __init__(self, path: str, certificates: list[x509.Certificate],
                 problems: list[str]) -> None:
        self.path = path
        self.certificates = certificates
        self.problems = problems  # why the chain file itself is broken


class CrlVerdict:
    """What one CRL says about one certificate."""

    __slots__ = ("detail", "source", "status")

    # status: revoked | good | unavailable | stale | unsigned | other-issuer
    def __init__(self, source: str, status: str, detail: str = "") -> None:
        self.source = source
        self.status = status
        self.detail = detail


class TrustFacts:
    __slots__ = ("chain", "chain_error", "crls")

    def __init__(self, chain: Chain | None, chain_error: str | None,
                 crls: list[CrlVerdict]) -> None:
        self.chain = chain
        self.chain_error = chain_error  # why the certificate does not chain; None: it does
        self.crls = crls


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


def _reason(revoked: x509.RevokedCertificate) -> str:
    try:
        return revoked.extensions.get_extension_for_class(x509.CRLReason).value.reason.name
    except x509.ExtensionNotFound:
        return "reason unspecified"


class TrustSource:
    """Loads what trust needs, once a run, from the repository root and the network."""

    def __init__(self, config: Config, now: datetime) -> None:
        self.config = config
        self.now = now
        self._chain: Chain | None = None
        self._crls: dict[str, x509.CertificateRevocationList | CrlUnavailable] = {}

    @property
    def configured(self) -> bool:
        return bool(self.config.chain or self.config.crl_files or self.config.crl_fetch)

    def chain(self) -> Chain | None:
        configured = self.config.chain
        if not configured:
            return None
        if self._chain is None:
            path = os.path.join(self.config.root, configured)
            try:
                with open(path, "rb") as stream:
                    data = stream.read(self.config.max_file_bytes)
                certificates = x509.load_pem_x509_certificates(data)
                problems = chain_problems(certificates, self.now)
            except OSError as exc:
                certificates, problems = [], [f"cannot read {configured}: {exc.strerror}"]
            except ValueError:
                certificates, problems = [], [f"{configured} is not a PEM certificate chain"]
            self._chain = Chain(configured, certificates, problems)
        return self._chain

    def facts_for(self, certificate: x509.Certificate) -> TrustFacts:
        chain = self.chain()
        chain_error = None
        if chain is not None and not chain.problems:
            chain_error = self._chain_error(certificate, chain)
        return TrustFacts(chain, chain_error, list(self._crl_verdicts(certificate, chain)))

    def _chain_error(self, certificate: x509.Certificate, chain: Chain) -> str | None:
        # The appliance checks the path, not web PKI extension profiles: only basic
        # constraints are required of CAs (the verifier checks cA is asserted).
        ca_policy = verification.ExtensionPolicy.permit_all().require_present(
            x509.BasicConstraints, verification.Criticality.AGNOSTIC, None)
        verifier = (verification.PolicyBuilder()
                    .store(verification.Store([chain.certificates[-1]]))
                    .time(self.now)
                    .extension_policies(ca_policy=ca_policy,
                                        ee_policy=verification.ExtensionPolicy.permit_all())
                    .build_client_verifier())
        try:
            verifier.verify(certificate, chain.certificates[:-1])
        except verification.VerificationError as exc:
            return str(exc).split(":")[-1].strip()
        return None

    def _crl(self, source: str, *, fetched: bool) -> x509.CertificateRevocationList | \
            CrlUnavailable:
        if source not in self._crls:
            try:
                self._crls[source] = (fetch_crl(source) if fetched else
                                      load_crl_file(os.path.join(self.config.root, source)))
            except CrlUnavailable as exc:
                self._crls[source] = exc
        return self._crls[source]

    def _sources(self, certificate: x509.Certificate) -> list[tuple[str, bool]]:
        sources = [(configured, False) for configured in self.config.crl_files]
        if self.config.crl_fetch:
            try:
                points = certificate.extensions.get_extension_for_class(
                    x509.CRLDistributionPoints).value
            except x509.ExtensionNotFound:
                points = x509.CRLDistributionPoints([])
            sources += [(name.value, True) for point in points for name in point.full_name or []
                        if isinstance(name, x509.UniformResourceIdentifier)]
        return sources

    def _crl_verdicts(self, certificate: x509.Certificate,
                      chain: Chain | None) -> Iterator[CrlVerdict]:
        for source, fetched in self._sources(certificate):
            crl = self._crl(source, fetched=fetched)
            if isinstance(crl, CrlUnavailable):
                yield CrlVerdict(source, "unavailable", str(crl))
                continue
            if crl.issuer != certificate.issuer:
                yield CrlVerdict(source, "other-issuer")
                continue
            issuer = next((c for c in (chain.certificates if chain else [])
                           if c.subject == crl.issuer), None)
            if issuer is not None and not crl.is_signature_valid(
                    issuer.public_key()):  # type: ignore[arg-type]
                yield CrlVerdict(source, "unsigned")
                continue
            next_update = crl.next_update_utc
            if next_update is not None and next_update < self.now:
                yield CrlVerdict(source, "stale", f"{next_update:%Y-%m-%d %H:%M} UTC")
                continue
            revoked = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
            if revoked is not None:
                yield CrlVerdict(source, "revoked", f"revoked on "
                                 f"{revoked.revocation_date_utc:%Y-%m-%d} ({_reason(revoked)})")
                return
            yield CrlVerdict(source, "good")
