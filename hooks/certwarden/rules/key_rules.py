"""The key rules of POLICY.md: each judges one private key found in a file.

KeyFacts carries what the group learned around the key (a configured passphrase, the
certificates that belong with it), so rules never read files themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from certwarden.context import RuleContext
from certwarden.findings import Severity
from certwarden.passphrases import count_disallowed
from certwarden.recognition.found_key import FoundKey
from certwarden.rules.base import Issue


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
CHECKS: list[tuple[str, KeyCheck]] = []


def key_check(rule: str) -> Callable[[KeyCheck], KeyCheck]:
    def register(function: KeyCheck) -> KeyCheck:
        CHECKS.append((rule, function))
        return function
    return register


def evaluate(facts: KeyFacts, context: RuleContext) -> Iterator[Issue]:
    for _, check in CHECKS:
        for issue in check(facts, context):
            yield Issue(issue.rule, issue.message, issue.severity,
                        issue.fingerprint or facts.key.fingerprint)


@key_check("key-unencrypted")
def unencrypted(facts: KeyFacts, context: RuleContext) -> Iterator[Issue]:
    if not facts.key.encrypted:
        yield Issue("key-unencrypted", f"unencrypted {facts.key.describe()}: anyone who can "
                    "read the repository has this key")


@key_check("key-weak-encryption")
def weak_encryption(facts: KeyFacts, context: RuleContext) -> Iterator[Issue]:
    if facts.key.encrypted and facts.key.weakness:
        yield Issue("key-weak-encryption", f"{facts.key.describe()} is encrypted with "
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


@key_check("key-type")
def key_type(facts: KeyFacts, context: RuleContext) -> Iterator[Issue]:
    name, _, source = _type_and_size(facts)
    if name is not None and name not in context.config.key_types:
        yield Issue("key-type", f"{facts.key.form} private key is {name.upper()}{source}; "
                    f"allowed: {', '.join(t.upper() for t in context.config.key_types)}")


@key_check("key-size")
def key_size(facts: KeyFacts, context: RuleContext) -> Iterator[Issue]:
    name, size, source = _type_and_size(facts)
    if name is not None and name not in context.config.key_types:
        return  # key-type speaks for it
    if size is None:
        if facts.key.encrypted:
            yield Issue("key-size", f"size of the encrypted {facts.key.describe()} is "
                        "unverified: map it to a passphrase variable in "
                        "[tool.certwarden.passphrases], or commit its certificate beside it "
                        "(same name)", severity=Severity.INFO)
        return
    if size not in context.config.key_sizes:
        yield Issue("key-size", f"{(name or 'private').upper()} key is {size} bits{source}; "
                    f"allowed: {' or '.join(str(s) for s in context.config.key_sizes)}")


@key_check("passphrase-wrong")
def passphrase_wrong(facts: KeyFacts, context: RuleContext) -> Iterator[Issue]:
    if facts.opened is False:
        yield Issue("passphrase-wrong", f"passphrase does not match to the key: "
                    f"${facts.passphrase_variable} does not open this {facts.key.describe()}")


@key_check("passphrase-charset")
def passphrase_charset(facts: KeyFacts, context: RuleContext) -> Iterator[Issue]:
    if facts.passphrase is None:
        return
    try:
        text = facts.passphrase.decode("utf-8")
    except UnicodeDecodeError:
        text = facts.passphrase.decode("latin-1") + "\udcff"  # counts as outside the set
    bad = count_disallowed(text)
    if bad:
        yield Issue("passphrase-charset", f"the passphrase in ${facts.passphrase_variable} "
                    f"has {bad} character(s) the appliance does not accept")


@key_check("cert-key-mismatch")
def key_mismatch(facts: KeyFacts, context: RuleContext) -> Iterator[Issue]:
    spki = facts.spki
    if spki is None or not facts.certificates:
        return
    if any(paired.spki == spki for paired in facts.certificates):
        return
    names = ", ".join(sorted({paired.path for paired in facts.certificates}))
    yield Issue("cert-key-mismatch", f"the {facts.key.describe()} does not match the public "
                f"key of its certificate ({names})")
