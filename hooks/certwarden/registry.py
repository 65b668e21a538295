"""Every rule certwarden knows, declared once.

`certwarden rules`, `certwarden explain`, the README rule table and the SARIF
driver all read this table; rule implementations look their metadata up here.
This module must stay import-light: it is loaded on every run.
"""

from __future__ import annotations

from dataclasses import dataclass

from certwarden.findings import Severity

E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO  # N: a note

ENCRYPT_KEY = "openssl pkcs8 -topk8 -v2 aes-256-cbc -in plain.key -out encrypted.key"


@dataclass(frozen=True)
class Rule:
    id: str
    group: str  # certificates | keys | repository | trust | secrets
    severity: Severity
    summary: str
    policy: str  # the POLICY.md requirement it enforces
    hint: str  # how to fix it; "{path}" is replaced by the file's path
    checked: bool = True  # False: declared by SPEC, not enforced yet

    def hint_for(self, path: str) -> str:
        return self.hint.replace("{path}", path)


RULES: tuple[Rule, ...] = (
    # -- certificates, one file at a time ------------------------------------------------
    Rule("cert-unreadable", "certificates", E,
         "The file should hold a certificate, CSR or bundle, but none could be read.",
         "Files: .crt/.pem/.der/.cer/.pfx/.p12/.csr hold certificates in PEM or DER.",
         "Check the file with `openssl x509 -in {path} -text -noout` "
         "(add `-inform der` for DER); re-export it if it is truncated or corrupt."),
    Rule("cert-signature-algorithm", "certificates", E,
         "The signature algorithm is not an allowed one (default: sha256WithRSAEncryption).",
         "Signature algorithm: sha256WithRSAEncryption (SHA256RSA), signature hash SHA-256.",
         "Have the CA re-issue the certificate signed with sha256WithRSAEncryption "
         "(`openssl req ... -sha256`)."),
    Rule("cert-not-yet-valid", "certificates", E,
         "The certificate's validity starts in the future.",
         "Valid from: in the past.",
         "Check the issuing host's clock, or wait until the certificate becomes valid."),
    Rule("cert-expired", "certificates", E,
         "The certificate has expired.",
         "Valid to: in the future. (Appliance: 'This SSL certificate has expired and "
         "isn't considered valid.')",
         "Renew it: `openssl req -new -sha256 -key KEY -out renew.csr`, then have the CA "
         "sign the CSR."),
    Rule("cert-expiring-soon", "certificates", W,
         "The certificate expires within the warning window (default 30 days).",
         "Valid to: in the future.",
         "Plan the renewal now: `openssl req -new -sha256 -key KEY -out renew.csr`."),
    Rule("cert-key-type", "certificates", E,
         "The certificate's public key is not of an allowed type (default: RSA).",
         "Public key: RSA, 2048 or 4096 bits.",
         "Issue a new certificate for an RSA key: `openssl genrsa -aes256 -out new.key 2048`."),
    Rule("cert-key-size", "certificates", E,
         "The certificate's RSA key size is not allowed (default: 2048 or 4096 bits).",
         "Public key: RSA, 2048 or 4096 bits (2048 is the minimum).",
         "Issue a new certificate for a 2048- or 4096-bit RSA key."),
    Rule("cert-key-size-slow", "certificates", N,
         "A 4096-bit key is allowed but makes every TLS handshake slower.",
         "4096 makes every TLS handshake slower and costs CPU: worth a note, not a block.",
         "Nothing to do if 4096 bits is deliberate; 2048 bits meets the policy."),
    Rule("cert-crl-distribution-point", "certificates", E,
         "The CRL distribution point breaks the configured CRL mode "
         "(default: required, http:// only).",
         "CRL distribution point: an http:// URL (https:// does not work); leave the "
         "extension out when the organization does not validate against a CRL.",
         "Re-issue with `crlDistributionPoints = URI:http://...` in the CA's extensions "
         "(or without the extension when crl-mode is forbid)."),
    Rule("cert-subject-cn", "certificates", E,
         "The subject CN is missing, not a DNS name, an IP address, or not as configured.",
         "Subject CN: the appliance's own domain name, e.g. sensor1.plant.example.com.",
         "Re-issue with `-subj \"/CN=sensor1.plant.example.com/...\"`."),
    Rule("cert-subject-country", "certificates", E,
         "The subject C is missing or not an ISO 3166 two-letter country code.",
         "Subject C: two-letter country code, e.g. US.",
         "Re-issue with `-subj \"/C=US/...\"`."),
    Rule("cert-subject-org-unit", "certificates", E,
         "The subject OU is missing or not as configured.",
         "Subject OU: organizational unit, e.g. Plant Engineering.",
         "Re-issue with `-subj \"/OU=Plant Engineering/...\"`."),
    Rule("cert-subject-org", "certificates", E,
         "The subject O is missing or not as configured.",
         "Subject O: organization, e.g. Example Corp.",
         "Re-issue with `-subj \"/O=Example Corp/...\"`."),
    Rule("cert-wildcard", "certificates", E,
         "A wildcard name (e.g. *.example.com) in the CN or a SAN DNS name.",
         "Wildcard certificates (*.example.com, in CN or SAN) are insecure and refused.",
         "Issue one certificate per appliance, named after that appliance."),
    # -- repository-wide -------------------------------------------------------------------
    Rule("cert-duplicate-cn", "repository", E,
         "Two certificates in different files share a subject CN.",
         "Every appliance needs its own certificate with its own CN.",
         "Give each appliance its own CN; remove the old certificate when you renew."),
    Rule("cert-duplicate", "repository", E,
         "The same certificate is committed in two places.",
         "Every appliance needs its own certificate.",
         "Keep one copy (a chain file may repeat the issuing CAs)."),
    # -- trust -----------------------------------------------------------------------------
    Rule("cert-chain", "trust", E,
         "The certificate does not chain to the configured CA chain, or the chain is broken.",
         "Chain file: the issuing CA first, then each CA above it, up to the root. "
         "(Appliance: 'Cannot validate chain of trust.')",
         "Order the chain file issuer first, up to the root, and use the CA that issued "
         "the certificate."),
    Rule("cert-revoked", "trust", E,
         "The certificate is revoked by a CRL.",
         "Appliance: 'This certificate has been revoked by the CRL and can't be trusted "
         "for a secure connection'.",
         "Issue a new certificate (`certwarden new-csr ...`) and remove the revoked one."),
    Rule("cert-crl-unreachable", "trust", W,
         "The certificate's CRL could not be fetched.",
         "Appliance: 'The CRL (Certificate Revocation List) location is not reachable.'",
         "Make the CRL URL reachable over plain HTTP (port 80), publish a fresh CRL "
         "signed by the issuing CA, or list a local copy in crl-files."),
    # -- keys ------------------------------------------------------------------------------
    Rule("cert-key-mismatch", "keys", E,
         "A key and the certificate that belongs with it hold different public keys.",
         "The key must match the certificate (same public key).",
         "Compare `openssl x509 -noout -pubkey -in cert.crt` with "
         "`openssl pkey -pubout -in key.key`; pair each certificate with its own key."),
    Rule("key-unencrypted", "keys", E,
         "A private key that is not encrypted.",
         "A key may be protected by a passphrase; an unencrypted key in git is leaked.",
         f"Encrypt it: `{ENCRYPT_KEY}`. A key that was ever committed unencrypted must "
         "be rotated."),
    Rule("key-weak-encryption", "keys", E,
         "A private key encrypted with a scheme that does not protect it.",
         "A key may be protected by a passphrase.",
         f"Re-encrypt with AES-256 and PBKDF2: `{ENCRYPT_KEY}`."),
    Rule("key-type", "keys", E,
         "A private key of a type the policy does not allow (default: RSA).",
         "Key files: RSA, 2048 or 4096 bits.",
         "Generate an RSA key: `openssl genrsa -aes256 -out new.key 2048`."),
    Rule("key-size", "keys", E,
         "A private key of a size the policy does not allow (default: 2048 or 4096 bits).",
         "Key files: RSA, 2048 or 4096 bits.",
         "Generate a 2048- or 4096-bit RSA key."),
    Rule("key-reused", "repository", E,
         "One key pair under two certificates.",
         "One key pair under two certificates breaks one certificate per appliance.",
         "Generate a new key for each appliance: `openssl genrsa -aes256 -out new.key 2048`."),
    Rule("key-unreadable", "keys", W,
         "Something that looks like a private key could not be read.",
         "Key files: RSA, 2048 or 4096 bits.",
         "Check it with `openssl pkey -in {path} -noout`."),
    Rule("passphrase-charset", "keys", E,
         "A passphrase uses a character the appliance does not accept.",
         "A passphrase may contain only a-z A-Z 0-9 and ! # % ( ) + , - . / : = ? @ "
         "[ \\ ] ^ _ { } ~.",
         "Choose a passphrase from the allowed characters; "
         "`certwarden check-passphrase` checks one."),
    Rule("passphrase-wrong", "keys", E,
         "The configured passphrase does not open the key.",
         "Appliance: 'Passphrase does not match to the key'.",
         "Set the environment variable to the key's passphrase; "
         "check it with `openssl pkey -in {path} -noout`."),
    Rule("passphrase-committed", "keys", E,
         "A passphrase is committed (a passphrase file, or a configured passphrase value).",
         "A key may be protected by a passphrase; the passphrase must stay out of git.",
         "Remove the file from the commit and change the passphrase."),
    # -- secrets ---------------------------------------------------------------------------
    Rule("secret", "secrets", E,
         "A generic secret found by detect-secrets.",
         "No secret ever lands in a commit.",
         "Remove the secret, rotate it, or mark a false positive with "
         "`# pragma: allowlist secret`, or record it in .secrets.baseline "
         "(`detect-secrets scan > .secrets.baseline`)."),
)

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}


def get_rule(rule_id: str) -> Rule:
    return RULES_BY_ID[rule_id]


def markdown_table() -> str:
    """The README's rule table, generated so documentation never drifts."""
    lines = [
        "| rule | severity | checks | fix |",
        "| --- | --- | --- | --- |",
    ]
    for rule in RULES:
        summary = rule.summary if rule.checked else f"{rule.summary} *(planned)*"
        fix = rule.hint.replace("{path}", "FILE").replace("|", "\\|")
        lines.append(f"| `{rule.id}` | {rule.severity.value} | {summary} | {fix} |")
    return "\n".join(lines) + "\n"
