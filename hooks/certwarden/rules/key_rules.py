"""The key rules (docs/policy.md): each judges one private key found in a file.

KeyFacts carries what the group learned around the key (a configured passphrase, the
certificates that belong with it), so rules never read files themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from certwarden.context import RuleContext
from certwarden.findings import Issue, Rule, Severity
from certwarden.passphrases import count_disallowed, path_matches
from certwarden.recognition.found_key import FoundKey, Protection

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
    "key-unreadable", "keys", E,
    summary="Something that is, or is labelled as, a private key could not be read or shown "
            "to be encrypted (fail closed).",
    policy="A key may be protected by a passphrase; an unencrypted key in git is leaked.",
    hint="Check it with `openssl pkey -in {path} -noout`; if it is a key, encrypt it "
         f"(`{ENCRYPT_KEY}`); if it is documentation, shorten the body to a placeholder "
         "such as `...`.", impact="high", tags=("credential",))
NOT_PEM = Rule(
    "key-not-pem", "keys", W,
    summary="A .key file holds a DER key; the appliance takes PEM text.",
    policy="Files: .key holds a private key, PEM text.",
    hint="Convert it, keeping it encrypted: `openssl pkcs8 -topk8 -v2 aes-256-cbc -inform DER "
         "-in {path} -out key.pem`.", impact="low")
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
PASSPHRASE_UNSET = Rule(
    "passphrase-unset", "keys", W,
    summary="A key's passphrase is mapped to an environment variable that is not set, so "
            "the passphrase checks were skipped.",
    policy="Appliance: 'Passphrase does not match to the key'; the key must match the "
           "certificate.",
    hint="Set the variable where certwarden runs (a CI secret), or run with `--strict` to "
         "make a missing passphrase block.", impact="low")
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
    path: str = ""
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
    key = facts.key
    if not key.encrypted:
        yield UNENCRYPTED.issue(f"unencrypted {key.describe()}: anyone who can read the "
                                "repository has this key")
    elif key.opens_with_empty_passphrase:
        yield UNENCRYPTED.issue(f"{key.describe()} is encrypted ({key.encryption}) but opens "
                                "with the empty passphrase: a protection that protects nothing")


@key_check(UNREADABLE)
def unproven(facts: KeyFacts, context: RuleContext) -> Iterator[Issue]:
    """Fail closed: a key whose empty-passphrase check a work cap stopped."""
    key = facts.key
    if key.encrypted and key.opens_with_empty_passphrase is None and key.not_tried \
            and _is_cap(key.not_tried):
        yield UNREADABLE.issue(f"cannot show that the {key.describe()} needs a passphrase: "
                               f"{key.not_tried}")


def _is_cap(reason: str) -> bool:
    return "cap" in reason or "budget" in reason or "not valid" in reason


WEAK_SSH_CIPHERS = ("3des-cbc", "des-cbc", "blowfish-cbc", "arcfour", "arcfour128",
                    "arcfour256", "cast128-cbc")
BROKEN_CIPHERS = ("des-cbc", "rc2", "rc4", "des-ede-cbc", "idea", "cast5", "blowfish",
                  "bf-cbc")


def weakness(protection: Protection, context: RuleContext) -> tuple[str, Severity | None] | None:
    """Why this protection does not protect, and how loudly (None: the rule's severity)."""
    config = context.config
    scheme, cipher = protection.scheme, (protection.cipher or "").lower()
    parameters = protection.parameters
    if scheme == "PBES1":
        return f"{cipher.upper()} under PBES1 (one weak cipher, a weak key derivation)", None
    if scheme == "PKCS#12 PBE":
        return f"a PKCS#12 PBE scheme ({cipher.upper()} with a SHA-1 key derivation)", None
    if cipher.startswith(BROKEN_CIPHERS):
        return f"{cipher.upper()} is a broken or weak cipher", None
    if scheme == "PBES2":
        if cipher == "des-ede3-cbc":
            return ("3DES under PBES2 (what `openssl req -keyout` writes in OpenSSL 3.0): "
                    "prefer AES-256", config.pbes2_3des_severity)
        iterations = parameters.get("iterations")
        if protection.kdf == "pbkdf2" and iterations is not None \
                and iterations < config.pbkdf2_min_iterations:
            return (f"PBKDF2 with {iterations} iterations, under the floor of "
                    f"{config.pbkdf2_min_iterations}"), None
        n = parameters.get("n")
        if protection.kdf == "scrypt" and n is not None and n < config.scrypt_min_n:
            return f"scrypt with N={n}, under the floor of {config.scrypt_min_n}", None
        return None
    if scheme == "legacy PEM":
        if cipher.startswith(("des", "rc2")):
            return f"{cipher.upper()} with the legacy PEM key derivation", None
        return ("legacy PEM key derivation: a single MD5 pass over the passphrase",
                config.legacy_pem_aes_severity)
    if scheme == "OpenSSH" and cipher in WEAK_SSH_CIPHERS:
        return f"{cipher} is a weak cipher", None
    if scheme == "PuTTY v2":
        return ("PuTTY v2 key derivation: SHA-1 of the passphrase, no salt or iterations",
                config.legacy_pem_aes_severity)
    if scheme == "SSH2":
        return f"{cipher} with the SSH2 key derivation (MD5 of the passphrase)", None
    if scheme == "OpenPGP legacy":
        return "legacy protection: the passphrase is hashed once with MD5", None
    if scheme == "OpenPGP":
        if protection.kdf in ("s2k simple", "s2k salted"):
            return "S2K without iterations: the passphrase is hashed once", None
        if cipher in ("idea", "3des"):
            return f"{cipher.upper()} cipher", None
    return None


@key_check(WEAK_ENCRYPTION)
def weak_encryption(facts: KeyFacts, context: RuleContext) -> Iterator[Issue]:
    key = facts.key
    if not key.encrypted or key.protection is None or key.opens_with_empty_passphrase:
        return
    found = weakness(key.protection, context)
    if found is not None:
        reason, severity = found
        yield WEAK_ENCRYPTION.issue(f"{key.describe()} is encrypted with {key.encryption}: "
                                    f"{reason}", severity=severity)


@key_check(NOT_PEM)
def not_pem(facts: KeyFacts, context: RuleContext) -> Iterator[Issue]:
    if facts.key.encoding == "der" and facts.path.lower().endswith(".key"):
        yield NOT_PEM.issue(f"the {facts.key.describe()} is DER; the appliance takes a .key "
                            "file as PEM text")


def policy_applies(facts: KeyFacts, context: RuleContext) -> bool:
    """The appliance's key policy (type, size) is for certificate keys (docs/policy.md):
    keys paired with a certificate, keys in the X.509 family's formats (PKCS#1, SEC1,
    PKCS#8, PKCS#12, legacy PEM), and keys in files matching key-policy-paths. An OpenSSH,
    PuTTY, OpenPGP, JWK, age or WireGuard key elsewhere is judged on its encryption only."""
    if facts.certificates or facts.key.family == "x509":
        return True
    return any(path_matches(facts.path, pattern) for pattern in context.config.key_policy_paths)


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
    if not policy_applies(facts, context):
        return
    name, _, source = _type_and_size(facts)
    if name is not None and name not in context.config.key_types:
        yield KEY_TYPE.issue(f"{facts.key.form} private key is {name.upper()}{source}; "
                    f"allowed: {', '.join(t.upper() for t in context.config.key_types)}")


@key_check(KEY_SIZE)
def key_size(facts: KeyFacts, context: RuleContext) -> Iterator[Issue]:
    if not policy_applies(facts, context):
        return
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


@key_check(PASSPHRASE_UNSET)
def passphrase_unset(facts: KeyFacts, context: RuleContext) -> Iterator[Issue]:
    """Said out loud, so CI without the secret does not look like a pass."""
    if facts.passphrase_variable is None or facts.passphrase is not None or \
            not facts.key.encrypted:
        return
    unverified = "whether it opens the key"
    if facts.certificates and facts.spki is None:
        unverified += " and whether the key matches its certificate"
    yield PASSPHRASE_UNSET.issue(f"passphrase checks skipped: {facts.passphrase_variable} is "
                                 f"not set; {unverified} was not verified")


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
