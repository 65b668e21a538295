"""The trust source: the configured CA chain and the CRLs, loaded (and fetched) once a run.

Rules judge; they do not read files or fetch URLs. The certificates group hands each
certificate to this source, which returns TrustFacts: whether it chains to the
configured chain, and what each CRL says of it. trust_rules turns the facts into findings.

The chain file may list its certificates in any order and may hold the appliance's own
certificate too (what `openssl pkcs12 -in keyStore.pfx -nokeys` writes, bag attributes
and all): what matters is a valid path up to a self-signed root (docs/policy.md).
Messages name certificates as openssl prints them and say what is missing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime

from cryptography import x509

from certwarden.config import Config
from certwarden.recognition.certificates import CertificateObject, issued_by, load_certificates

TYPE_CHECKING = False
if TYPE_CHECKING:  # imported where used: every certificate run asks whether trust is set
    from certwarden.recognition.crls import CrlUnavailable


class Chain:
    """The configured chain file: its CAs in path order (issuing CA first, root last)."""

    def __init__(self, path: str, path_objects: list[CertificateObject],
                 problems: list[str], notes: list[str] | None = None) -> None:
        self.path = path
        self.objects = path_objects
        self.certificates = [obj.certificate for obj in path_objects
                             if obj.certificate is not None]
        self.problems = problems  # why the chain file itself is broken
        self.notes = notes or []  # remarks that do not break it (the order)


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


def describe(obj: CertificateObject) -> str:
    """A certificate as users recognise it: its CN, else its subject as openssl prints it."""
    names = obj.common_names
    return f"CN = {names[0]}" if len(names) == 1 else obj.subject_text


def _issuer_in(obj: CertificateObject, candidates: list[CertificateObject]
               ) -> CertificateObject | None:
    return next((candidate for candidate in candidates
                 if candidate is not obj and issued_by(obj, candidate)), None)


def order_chain(objects: list[CertificateObject], now: datetime
                ) -> tuple[list[CertificateObject], list[str], list[str]]:
    """(the CAs in path order, problems, notes) of a chain file's certificates."""
    problems = [f"certificate {position} ({describe(obj)}) cannot be validated: "
                f"{obj.load_problem.message if obj.load_problem else 'it is malformed'}"
                for position, obj in enumerate(objects, 1)
                if obj.kind == "certificate" and obj.certificate is None]
    certificates = [obj for obj in objects if obj.certificate is not None]
    if not certificates:
        return [], problems or ["the chain file holds no certificate"], []
    cas = [obj for obj in certificates if obj.asserts_ca]
    leaves = [obj for obj in certificates if not obj.asserts_ca]
    if len(leaves) > 1:
        names = "; ".join(describe(obj) for obj in leaves)
        problems.append(f"it holds {len(leaves)} certificates that are not CAs "
                        f"(basicConstraints CA:FALSE or absent: {names}); besides its CAs, a "
                        "chain file may hold only the appliance's own certificate")
    # The bottom of the path: the appliance's certificate, else the CA no other one names
    # as its issuer.
    issuers = {id(found) for obj in certificates
               if (found := _issuer_in(obj, cas)) is not None}
    bottoms = leaves[:1] or [obj for obj in cas if id(obj) not in issuers] or cas[:1]
    path = [bottoms[0]]
    while not (path[-1].self_issued and issued_by(path[-1], path[-1])):
        on_path = {id(obj) for obj in path}
        issuer = _issuer_in(path[-1], [obj for obj in cas if id(obj) not in on_path])
        if issuer is None:
            problems.append(f"the chain does not reach a self-signed root: no certificate in "
                            f"it issued {describe(path[-1])} (its issuer is "
                            f"{path[-1].issuer.text()}); add that CA, and each CA above it, "
                            "up to the root")
            break
        path.append(issuer)
    on_path = {id(obj) for obj in path}
    for position, obj in enumerate(certificates, 1):
        if id(obj) in on_path or not obj.asserts_ca:
            continue
        problems.append(f"certificate {position} ({describe(obj)}) is not "
                        f"on the path from {describe(path[0])} to the root: remove it, or "
                        "keep one chain per file")
    for obj in path:
        if obj.asserts_ca and obj.certificate is not None and not (
                obj.certificate.not_valid_before_utc <= now
                <= obj.certificate.not_valid_after_utc):
            problems.append(f"CA {describe(obj)} is not valid now (valid "
                            f"{obj.certificate.not_valid_before_utc:%Y-%m-%d} to "
                            f"{obj.certificate.not_valid_after_utc:%Y-%m-%d})")
    notes = []
    in_file = [obj for obj in certificates if id(obj) in on_path]
    if not problems and [id(obj) for obj in in_file] != [id(obj) for obj in path]:
        listed = " > ".join(describe(obj) for obj in in_file)
        notes.append(f"the certificates are not in issuer-first order (the file lists: "
                     f"{listed}); the appliance accepts it, since a valid path to the "
                     "self-signed root exists")
    return [obj for obj in path if obj.asserts_ca], problems, notes


def _reason(revoked: x509.RevokedCertificate) -> str:
    try:
        return revoked.extensions.get_extension_for_class(x509.CRLReason).value.reason.name
    except (x509.ExtensionNotFound, ValueError):
        return "reason unspecified"


# cryptography's verifier, in our words.
_VERIFIER_WORDS = (
    ("candidates exhausted", "no path leads from the certificate to the root"),
    ("not valid at validation time", "a certificate of the path is not valid now"),
    ("expired", "a certificate of the path has expired"),
    ("basicConstraints", "a CA of the path is not marked CA:TRUE (basicConstraints)"),
    ("path length", "the path is longer than a CA's path length constraint allows"),
    ("signature", "a signature on the path does not verify"),
    ("key usage", "a CA of the path may not sign certificates (keyUsage)"),
)


def _in_our_words(message: str) -> str:
    lowered = message.lower()
    return next((words for phrase, words in _VERIFIER_WORDS if phrase.lower() in lowered),
                "the path to the root is not valid")


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
            except OSError as exc:
                self._chain = Chain(configured, [], [f"cannot read {configured}: "
                                                     f"{exc.strerror}"])
                return self._chain
            loaded = load_certificates(data, configured, passphrase=None, chain_file=True)
            ordered, problems, notes = order_chain(loaded.objects, self.now)
            problems = [f"line {bad.line}: {bad.reason}" if bad.line else bad.reason
                        for bad in loaded.unreadable] + problems
            self._chain = Chain(configured, ordered, problems, notes)
        return self._chain

    def facts_for(self, obj: CertificateObject) -> TrustFacts:
        chain = self.chain()
        chain_error = None
        if chain is not None and not chain.problems:
            chain_error = self._chain_error(obj, chain)
        return TrustFacts(chain, chain_error, list(self._crl_verdicts(obj, chain)))

    def _chain_error(self, obj: CertificateObject, chain: Chain) -> str | None:
        """Why the certificate does not chain to the configured chain, or None."""
        if any(obj.fingerprint == ca.fingerprint for ca in chain.objects):
            return None
        named = [ca for ca in chain.objects if ca.subject.rdns == obj.issuer.rdns]
        if not named:
            return (f"the certificate's issuer ({obj.issuer.text()}) is not in "
                    f"{chain.path}: add the CA that issued it, up to the root, or use a "
                    "certificate that chain's CA issued")
        if not any(issued_by(obj, ca) for ca in named):
            return (f"the CA {named[0].subject_text} in {chain.path} did not sign the "
                    "certificate (same name, another key): use the chain of the CA that "
                    "issued it")
        if obj.certificate is None or not chain.certificates:
            return None
        from cryptography.x509 import verification

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
            verifier.verify(obj.certificate, chain.certificates[:-1])
        except verification.VerificationError as exc:
            return f"{_in_our_words(str(exc))} (root: {describe(chain.objects[-1])})"
        except Exception:  # a part cryptography refuses: cert-malformed names it
            return "the path could not be validated because a part of the certificate is " \
                   "malformed (see cert-malformed)"
        return None

    def _crl(self, source: str, *, fetched: bool) -> x509.CertificateRevocationList | \
            CrlUnavailable:
        from certwarden.recognition.crls import CrlUnavailable, fetch_crl, load_crl_file

        if source not in self._crls:
            try:
                self._crls[source] = (fetch_crl(source) if fetched else
                                      load_crl_file(os.path.join(self.config.root, source)))
            except CrlUnavailable as exc:
                self._crls[source] = exc
        return self._crls[source]

    def _sources(self, obj: CertificateObject) -> list[tuple[str, bool]]:
        sources = [(configured, False) for configured in self.config.crl_files]
        if self.config.crl_fetch:
            sources += [(url, True) for url in obj.crl_urls or []]
        return sources

    def _crl_verdicts(self, obj: CertificateObject, chain: Chain | None) -> Iterator[CrlVerdict]:
        certificate = obj.certificate
        if certificate is None:
            return
        for source, fetched in self._sources(obj):
            crl = self._crl(source, fetched=fetched)
            if not isinstance(crl, x509.CertificateRevocationList):  # CrlUnavailable
                yield CrlVerdict(source, "unavailable", str(crl))
                continue
            try:
                verdict = self._crl_verdict(source, crl, certificate, chain)
            except Exception:  # a malformed CRL entry or name: the CRL says nothing usable
                verdict = CrlVerdict(source, "unavailable",
                                     f"the CRL from {source} could not be read")
            yield verdict
            if verdict.status == "revoked":
                return

    def _crl_verdict(self, source: str, crl: x509.CertificateRevocationList,
                     certificate: x509.Certificate, chain: Chain | None) -> CrlVerdict:
        if crl.issuer != certificate.issuer:
            return CrlVerdict(source, "other-issuer")
        issuer = next((c for c in (chain.certificates if chain else [])
                       if c.subject == crl.issuer), None)
        if issuer is not None and not crl.is_signature_valid(
                issuer.public_key()):  # type: ignore[arg-type]
            return CrlVerdict(source, "unsigned")
        next_update = crl.next_update_utc
        if next_update is not None and next_update < self.now:
            return CrlVerdict(source, "stale", f"{next_update:%Y-%m-%d %H:%M} UTC")
        revoked = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
        if revoked is not None:
            return CrlVerdict(source, "revoked", f"revoked on "
                              f"{revoked.revocation_date_utc:%Y-%m-%d} ({_reason(revoked)})")
        return CrlVerdict(source, "good")
