"""The key rules (docs/policy.md): each judges one private key found in a file.

KeyFacts carries what the group learned around the key (a configured passphrase, the
certificates that belong with it), so rules never read files themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from certwarden.context import RuleContext
from certwarden.findings import Issue, Rule, Severity
from certwarden.passphrases import count_disallowed
from certwarden.recognition.found_key import FoundKey

E, W = Severity.ERROR, Severity.WARNING
ENCRYPT_KEY = "openssl pkcs8 -topk8 -v2 aes-256-cbc -in plain.key -out encrypted.key"
NEW_RSA_KEY = "openssl genrsa -aes256 -out new.key 2048"

KEY_MISMATCH = Rule(
    "cert-key-mismatch", "keys", E,
    summary="A key and the certificate that belongs with it hold different public keys.",
    policy="The key must match the certificate (same public key).",
    hint="Compare `openssl x509 -noout -pubkey -in cert.crt` with "
         "`openssl pkey -pubout -in key.key`; pair each certificate with its own key.",
    impact="medium")
UNENCRYPTED = Rule(
    "key-unencrypted", "keys", E,
    summary="A private key that is not encrypted.",
    policy="A key may be protected by a passphrase; an unencrypted key in git is leaked.",
    hint=f"Encrypt it: `{ENCRYPT_KEY}`. A key that was ever committed unencrypted must be "
         "rotated.", impact="critical", tags=("credential",))
WEAK_ENCRYPTION = Rule(
    "key-weak-encryption", "keys", E,
    summary="A private key encrypted with a scheme that does not protect it.",
    policy="A key may be protected by a passphrase.",
    hint=f"Re-encrypt with AES-256 and PBKDF2: `{ENCRYPT_KEY}`.", tags=("credential",))
KEY_TYPE = Rule(
    "key-type", "keys", E,
    summary="A private key of a type the policy does not allow (default: RSA).",
    policy="Key files: RSA, 2048 or 4096 bits.",
    hint=f"Generate an RSA key: `{NEW_RSA_KEY}`.", impact="medium")
KEY_SIZE = Rule(
    "key-size", "keys", E,
    summary="A private key of a size the policy does not allow (default: 2048 or 4096 bits).",
    policy="Key files: RSA, 2048 or 4096 bits.",
    hint="Generate a 2048- or 4096-bit RSA key.", impact="medium")
UNREADABLE = Rule(
    "key-unreadable", "keys", W,
    summary="Something that looks like a private key could not be read.",
    policy="Key files: RSA, 2048 or 4096 bits.",
    hint="Check it with `openssl pkey -in {path} -noout`.", tags=("credential",))
PASSPHRASE_CHARSET = Rule(
    "passphrase-charset", "keys", E,
    summary="A passphrase uses a character the appliance does not accept.",
    policy="A passphrase may contain only a-z A-Z 0-9 and ! # % ( ) + , - . / : = ? @ "
           "[ \\ ] ^ _ { } ~.",
    hint="Choose a passphrase from the allowed characters; `certwarden check-passphrase` "
         "checks one.", impact="medium")
PASSPHRASE_WRONG = Rule(
    "passphrase-wrong", "keys", E,
    summary="The configured passphrase does not open the key.",
    policy="Appliance: 'Passphrase does not match to the key'.",
    hint="Set the environment variable to the key's passphrase; "
         "check it with `openssl pkey -in {path} -noout`.", impact="medium")
PASSPHRASE_COMMITTED = Rule(
    "passphrase-committed", "keys", E,
    summary="A passphrase is committed (a passphrase file, or a configured passphrase value).",
    policy="A key may be protected by a passphrase; the passphrase must stay out of git.",
    hint="Remove the file from the commit and change the passphrase.",
    impact="critical", tags=("credential",))


@dataclass(frozen=True)
class PairedCertificate:
    path: str
    spki: bytes
    key_type: str
    key_size: int | None


@dataclass
class KeyFacts:
    key: FoundKey
    passphrase_variable: str | None = None
    passphrase: bytes | None = None  # set when the configured variable is set
    opened: bool | None = None  # None: not tried; False: the passphrase did not open it
    opened_type: str | None = None
    opened_size: int | None = None
    opened_spki: bytes | None = None
    certificates: list[PairedCertificate] = field(default_factory=list)

    @property
    def spki(self) -> bytes | None:
        return self.key.public_key_der or self.opened_spki


KeyCheck = Callable[[KeyFacts, RuleContext], Iterator[Issue]]
CHECKS: list[tuple[Rule, KeyCheck]] = []


def key_check(rule: Rule) -> Callable[[KeyCheck], KeyCheck]:
    def register(function: KeyCheck) -> KeyCheck:
        CHECKS.append((rule, function))
        return function
    return register


def evaluate(facts: KeyFacts, context: RuleContext) -> Iterator[Issue]:
    for _, check in CHECKS:
        for issue in check(facts, context):
            yield Issue(issue.rule, issue.message, issue.severity,
                        issue.fingerprint or facts.key.fingerprint)


@key_check(UNENCRYPTED)
def unencrypted(facts: KeyFacts, context: RuleContext) -> Iterator[Issue]:
    if not facts.key.encrypted:
        yield UNENCRYPTED.issue(f"unencrypted {facts.key.describe()}: anyone who can "
                    "read the repository has this key")


@key_check(WEAK_ENCRYPTION)
def weak_encryption(facts: KeyFacts, context: RuleContext) -> Iterator[Issue]:
    if facts.key.encrypted and facts.key.weakness:
        yield WEAK_ENCRYPTION.issue(f"{facts.key.describe()} is encrypted with "
                    f"{facts.key.encryption}: {facts.key.weakness}",
                    severity=facts.key.weakness_severity)


def _type_and_size(facts: KeyFacts) -> tuple[str | None, int | None, str]:
    """The key's type and size, and where we learned them."""
    if facts.key.key_type and facts.key.key_size:
        return facts.key.key_type, facts.key.key_size, ""
    if facts.opened_type:
        return facts.opened_type, facts.opened_size, " (opened with the configured passphrase)"
    if facts.certificates:
        paired = facts.certificates[0]
        return (facts.key.key_type or paired.key_type, paired.key_size,
                f" (per its certificate {paired.path})")
    return facts.key.key_type, facts.key.key_size, ""


@key_check(KEY_TYPE)
def key_type(facts: KeyFacts, context: RuleContext) -> Iterator[Issue]:
    name, _, source = _type_and_size(facts)
    if name is not None and name not in context.config.key_types:
        yield KEY_TYPE.issue(f"{facts.key.form} private key is {name.upper()}{source}; "
                    f"allowed: {', '.join(t.upper() for t in context.config.key_types)}")


@key_check(KEY_SIZE)
def key_size(facts: KeyFacts, context: RuleContext) -> Iterator[Issue]:
    name, size, source = _type_and_size(facts)
    if name is not None and name not in context.config.key_types:
        return  # key-type speaks for it
    if size is None:
        if facts.key.encrypted:
            yield KEY_SIZE.issue(f"size of the encrypted {facts.key.describe()} is "
                        "unverified: map it to a passphrase variable in "
                        "[tool.certwarden.passphrases], or commit its certificate beside it "
                        "(same name)", severity=Severity.INFO)
        return
    if size not in context.config.key_sizes:
        yield KEY_SIZE.issue(f"{(name or 'private').upper()} key is {size} bits{source}; "
                    f"allowed: {' or '.join(str(s) for s in context.config.key_sizes)}")


@key_check(PASSPHRASE_WRONG)
def passphrase_wrong(facts: KeyFacts, context: RuleContext) -> Iterator[Issue]:
    if facts.opened is False:
        yield PASSPHRASE_WRONG.issue(f"passphrase does not match to the key: "
                    f"${facts.passphrase_variable} does not open this {facts.key.describe()}")


@key_check(PASSPHRASE_CHARSET)
def passphrase_charset(facts: KeyFacts, context: RuleContext) -> Iterator[Issue]:
    if facts.passphrase is None:
        return
    try:
        text = facts.passphrase.decode("utf-8")
    except UnicodeDecodeError:
        text = facts.passphrase.decode("latin-1") + "\udcff"  # counts as outside the set
    bad = count_disallowed(text)
    if bad:
        yield PASSPHRASE_CHARSET.issue(f"the passphrase in ${facts.passphrase_variable} "
                    f"has {bad} character(s) the appliance does not accept")


@key_check(KEY_MISMATCH)
def key_mismatch(facts: KeyFacts, context: RuleContext) -> Iterator[Issue]:
    spki = facts.spki
    if spki is None or not facts.certificates:
        return
    if any(paired.spki == spki for paired in facts.certificates):
        return
    names = ", ".join(sorted({paired.path for paired in facts.certificates}))
    yield KEY_MISMATCH.issue(f"the {facts.key.describe()} does not match the public "
                f"key of its certificate ({names})")
