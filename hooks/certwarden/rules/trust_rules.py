"""Trust rules: the configured CA chain, and revocation by CRL.

They judge the TrustFacts that the trust source (certwarden.trust) gathered; they never
read a file or fetch a URL. Messages echo the appliance's own wording.
"""

from __future__ import annotations

from collections.abc import Iterator

from certwarden.findings import Issue, Rule, Severity

TYPE_CHECKING = False
if TYPE_CHECKING:
    from certwarden.trust import Chain, TrustFacts

APPLIANCE_CHAIN_MESSAGE = ("Cannot validate chain of trust. The provided Certificate and "
                           "Root CA don't match")
APPLIANCE_REVOKED_MESSAGE = ("This certificate has been revoked by the CRL and can't be "
                             "trusted for a secure connection")

CHAIN = Rule(
    "cert-chain", "trust", Severity.ERROR,
    summary="The certificate does not chain to the configured CA chain, or the chain is broken.",
    policy="Chain file: the issuing CA first, then each CA above it, up to the root. "
           "(Appliance: 'Cannot validate chain of trust.')",
    hint="Put the CA that issued the certificate and each CA above it, up to the "
         "self-signed root, in the chain file; issuer first is the documented order, and "
         "any order (the appliance's certificate included) is accepted when the path is "
         "complete.")
REVOKED = Rule(
    "cert-revoked", "trust", Severity.ERROR,
    summary="The certificate is revoked by a CRL.",
    policy="Appliance: 'This certificate has been revoked by the CRL and can't be trusted "
           "for a secure connection'.",
    hint="Issue a new certificate (`certwarden new-csr ...`) and remove the revoked one.",
    impact="critical")
CRL_UNREACHABLE = Rule(
    "cert-crl-unreachable", "trust", Severity.WARNING,
    summary="The certificate's CRL could not be fetched.",
    policy="Appliance: 'The CRL (Certificate Revocation List) location is not reachable.'",
    hint="Make the certificate's http:// CRL URL reachable from the appliance (plain HTTP, "
         "on the URL's port: 80 unless the URL names another), publish a fresh CRL signed "
         "by the issuing CA, or list a local copy in crl-files.", impact="medium")


def chain_file_issues(chain: Chain) -> Iterator[Issue]:
    """Findings on the chain file itself, when it is among the checked files."""
    for problem in chain.problems:
        yield CHAIN.issue(f"chain file: {problem}")
    for note in chain.notes:
        yield CHAIN.issue(f"chain file: {note}", severity=Severity.INFO)


def chain_issues(facts: TrustFacts) -> Iterator[Issue]:
    chain = facts.chain
    if chain is None:
        return
    if chain.problems:
        yield CHAIN.issue(f"{APPLIANCE_CHAIN_MESSAGE}: the chain file {chain.path} is "
                          f"broken: {chain.problems[0]}")
    elif facts.chain_error is not None:
        yield CHAIN.issue(f"{APPLIANCE_CHAIN_MESSAGE}: {facts.chain_error}")


def revocation_issues(facts: TrustFacts) -> Iterator[Issue]:
    for verdict in facts.crls:
        if verdict.status == "unavailable":
            yield CRL_UNREACHABLE.issue("The CRL (Certificate Revocation List) location is not "
                                        f"reachable: {verdict.detail}")
        elif verdict.status == "unsigned":
            yield CRL_UNREACHABLE.issue(f"the CRL from {verdict.source} is not signed by the "
                                        "certificate's issuing CA; revocation status unknown")
        elif verdict.status == "stale":
            yield CRL_UNREACHABLE.issue(f"the CRL from {verdict.source} is stale (next update "
                                        f"was due {verdict.detail}); revocation status unknown")
        elif verdict.status == "revoked":
            yield REVOKED.issue(f"{APPLIANCE_REVOKED_MESSAGE}: {verdict.detail}, "
                                f"per {verdict.source}")
            return


def evaluate(facts: TrustFacts) -> Iterator[Issue]:
    yield from chain_issues(facts)
    yield from revocation_issues(facts)
