"""The keys group: find private keys in any file, pair them with their certificates,
and apply the key rules. Also flags committed passphrases."""

from __future__ import annotations

import contextlib
import fnmatch
import os

from certwarden.context import RuleContext
from certwarden.findings import Finding, Rule
from certwarden.groups import Group
from certwarden.passphrases import configured_passphrases, passphrase_for, passphrase_variable
from certwarden.recognition import key_sniff, sniff
from certwarden.sources import SourceFile

TYPE_CHECKING = False  # typing costs start-up time; mypy reads this block all the same
if TYPE_CHECKING:  # imported lazily at run time: they load dataclasses and cryptography
    from collections.abc import Iterator

    from certwarden.recognition.found_key import FoundKey
    from certwarden.recognition.keys import KeyScan
    from certwarden.rules.key_rules import KeyFacts, PairedCertificate

KEY_EXTENSIONS = (".key", ".pem")
PAIRED_CERTIFICATE_EXTENSIONS = (".crt", ".cer", ".der", ".pem")
KEY_FILE_PATTERNS = ("*.key", "*.pem", "*.p12", "*.pfx", "*.ppk", "id_rsa", "id_dsa",
                     "id_ecdsa", "id_ed25519", "*private*key*")


class ClosedKeysMemo:
    """Encrypted keys the empty passphrase was shown not to open, by a digest of their
    encrypted bytes and parameters, kept under the git directory between runs: an
    unchanged key costs no key derivation the next time (recognition/work_caps.py).
    Read only when a file holds a key; appended to (one digest a line) at the end."""

    MAX_BYTES = 1 << 20

    def __init__(self, root: str | None = None) -> None:
        self.root = root
        self.closed: set[str] | None = None
        self.saved: set[str] = set()

    def _path(self) -> str | None:
        if self.root is None:
            return None
        dot_git = os.path.join(self.root, ".git")
        if os.path.isfile(dot_git):  # a worktree: "gitdir: <path>"
            try:
                with open(dot_git, encoding="utf-8") as stream:
                    text = stream.read(4096).strip()
            except OSError:
                return None
            if not text.startswith("gitdir:"):
                return None
            dot_git = os.path.join(self.root, text[len("gitdir:"):].strip())
        if not os.path.isdir(dot_git):
            return None
        return os.path.join(dot_git, "certwarden", "empty-passphrase-v1.txt")

    def load(self) -> set[str]:
        if self.closed is None:
            self.closed = set()
            path = self._path()
            try:
                if path is not None and os.path.getsize(path) <= self.MAX_BYTES:
                    with open(path, encoding="ascii") as stream:
                        self.closed = {line.strip() for line in stream if len(line) == 65}
            except (OSError, ValueError):
                self.closed = set()
            self.saved = set(self.closed)
        return self.closed

    def save(self) -> None:
        if self.closed is None:
            return
        new = self.closed - self.saved
        path = self._path()
        if not new or path is None:
            return
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            full = os.path.exists(path) and os.path.getsize(path) > self.MAX_BYTES
            with open(path, "w" if full else "a", encoding="ascii") as stream:
                # appends from parallel workers interleave whole lines; a full memo starts over
                stream.write("".join(f"{digest}\n" for digest in sorted(new)))
            self.saved |= new
        except OSError:
            pass  # a memo we cannot write only costs time


# Source code and documentation named after passphrases or keys (passphrase.py,
# private_key.go, docs/passphrase-policy.md, a man page) hold neither.
_CODE_OR_DOCS = frozenset((
    "py", "pyc", "pyi", "ipynb", "js", "mjs", "cjs", "ts", "tsx", "jsx", "vue", "go", "rs",
    "java", "kt", "kts", "scala", "groovy", "c", "h", "cc", "cpp", "hpp", "cs", "fs", "vb",
    "rb", "php", "pl", "pm", "swift", "m", "mm", "sh", "bash", "zsh", "fish", "ps1",
    "psm1", "bat", "cmd", "lua", "r", "jl", "ex", "exs", "erl", "hs", "clj", "dart", "sql",
    "html", "htm", "css", "scss", "less", "md", "markdown", "rst", "adoc", "tex", "rtf",
    "pdf", "class", "jar", "so", "dll"))


def _is_code_or_docs(name: str) -> bool:
    stem, _, extension = name.removesuffix(".gz").rpartition(".")
    if not stem:
        return False
    # man pages: openssl-passphrase-options.1ssl(.gz), gpg-preset-passphrase.1
    return extension in _CODE_OR_DOCS or extension[:1].isdigit()


def _is_passphrase_file(path: str) -> bool:
    """*.pass, *passphrase*, *.pwd (plain string tests: this runs on every file), unless
    source code or documentation."""
    lowered = path.lower()  # the whole path first: it rules out most files cheaply
    if not lowered.endswith((".pass", ".pwd")) and "passphrase" not in lowered:
        return False
    name = os.path.basename(lowered)
    return (name.endswith((".pass", ".pwd")) or "passphrase" in name) \
        and not _is_code_or_docs(name)


class KeysGroup(Group):
    name = "keys"

    def __init__(self) -> None:
        self.memo = ClosedKeysMemo()

    @contextlib.contextmanager
    def session(self, context: RuleContext) -> Iterator[None]:
        self.memo = ClosedKeysMemo(context.config.root)
        try:
            yield
        finally:
            self.memo.save()

    def unreadable_rule(self) -> Rule:
        from certwarden.rules.key_rules import UNREADABLE

        return UNREADABLE

    def wants(self, source: SourceFile, context: RuleContext) -> bool:
        return _wants(source, context)

    def check(self, source: SourceFile, context: RuleContext) -> list[Finding]:
        return _check(source, context)


def _wants(source: SourceFile, context: RuleContext) -> bool:
    # A symbolic link is judged on its target text, never followed: git stores that text
    # as the blob, and a key pasted as a link target is committed like any file.
    if source.error is not None or source.truncated:
        return True  # past max-file-bytes: the rest is searched in windows (_scan_rest)
    if key_sniff.may_hold_private_key(source.data):
        return True
    if _is_passphrase_file(source.path) and not source.is_symlink:
        return True
    if any(value in source.data for _, value in configured_passphrases(context.config)):
        return True
    return sniff.is_certificate_name(source.path) and bool(
        context.neighbours.siblings(source.path, KEY_EXTENSIONS))


def _check(source: SourceFile, context: RuleContext) -> list[Finding]:
    import hashlib

    from certwarden.rules.key_rules import UNREADABLE

    path_digest = hashlib.sha256(source.path.encode("utf-8", "surrogateescape")).hexdigest()
    if source.error is not None:
        return [UNREADABLE.issue(source.error).at(source.path, None, path_digest)]
    findings = _committed_passphrases(source, context, path_digest)
    holds_keys = False
    if source.truncated or key_sniff.may_hold_private_key(source.data):
        findings.extend(_key_findings(source, context))
        holds_keys = bool(_keys_in(source.path, source.data, context).keys)
    if not holds_keys and not source.is_symlink and sniff.is_certificate_name(source.path):
        findings.extend(_certificate_side_pairing(source, context))
    return findings


def _committed_passphrases(source: SourceFile, context: RuleContext,
                           path_digest: str) -> list[Finding]:
    from certwarden.rules.key_rules import PASSPHRASE_COMMITTED

    findings = []
    if _is_passphrase_file(source.path) and not source.is_symlink and source.data.strip():
        folder = os.path.dirname(source.path)
        names = context.neighbours.names_in(folder)
        if any(fnmatch.fnmatchcase(name.lower(), pattern) and not _is_code_or_docs(name.lower())
               for name in names for pattern in KEY_FILE_PATTERNS):
            findings.append(PASSPHRASE_COMMITTED.issue(
                "a passphrase file beside a key: the passphrase would be in git with the key "
                "it protects").at(source.path, None, path_digest))
    for variable, value in configured_passphrases(context.config):
        offset = source.data.find(value)
        if offset != -1:
            import hashlib

            line = source.data.count(b"\n", 0, offset) + 1
            fingerprint = hashlib.sha256(f"{source.path}\0{variable}".encode(
                "utf-8", "surrogateescape")).hexdigest()
            findings.append(PASSPHRASE_COMMITTED.issue(
                f"the file contains the passphrase configured in ${variable}"
            ).at(source.path, line, fingerprint))
    return findings


WINDOW = 16 * 1024 * 1024  # past max-file-bytes, a file is searched in windows this size
OVERLAP = 1024 * 1024  # ... each overlapping the one before, so no key is cut in two


def _key_findings(source: SourceFile, context: RuleContext) -> list[Finding]:
    from certwarden.findings import Severity
    from certwarden.rules.key_rules import UNREADABLE, KeyFacts, evaluate

    scan = _keys_in(source.path, source.data, context)
    if source.truncated:
        _scan_rest(source, context, scan)
    scan.finish()
    findings = [UNREADABLE.issue(
        problem.describe(),
        severity=Severity.WARNING if problem.kind == "not-decoded" else None).at(
            source.path, problem.line, problem.material_digest)
        for problem in scan.unreadable]
    if not scan.keys:
        return findings
    variable = passphrase_variable(source.path, context.config)
    passphrase = passphrase_for(source.path, context.config)
    certificates = _paired_certificates(source, context, scan.bundle_certificates)
    for key in scan.keys:
        facts = KeyFacts(key, path=source.path, passphrase_variable=variable,
                         passphrase=passphrase, certificates=certificates)
        if passphrase is not None and key.encrypted and key.opener is not None:
            _open(facts, passphrase)
        findings.extend(issue.at(source.path, key.line, key.fingerprint)
                        for issue in evaluate(facts, context))
    return findings


def _scan_rest(source: SourceFile, context: RuleContext, scan: KeyScan) -> None:
    """Keys past max-file-bytes: the rest of the file, window by window."""
    from certwarden.recognition.keys import find_keys
    from certwarden.sources import read_rest

    known_offset, known_lines = len(source.data), source.data.count(b"\n")
    for offset, window in read_rest(source, root=context.config.root, window=WINDOW,
                                    overlap=OVERLAP):
        # Newlines before this window: those before the end of what was read, less the
        # ones in the overlap.
        before = known_lines - window[:max(0, known_offset - offset)].count(b"\n")
        find_keys(window, line_base=before, scan=scan)
        known_offset, known_lines = offset + len(window), before + window.count(b"\n")


def _open(facts: KeyFacts, passphrase: bytes) -> None:
    from certwarden.recognition.der_keys import describe_private_key

    assert facts.key.opener is not None
    try:
        private_key = facts.key.opener(passphrase)
    except Exception:  # wrong passphrase, or the loader cannot decrypt this scheme
        facts.opened = False
        return
    facts.opened = True
    facts.opened_type, facts.opened_size, facts.opened_spki = describe_private_key(private_key)
    del private_key


def _paired_certificates(source: SourceFile, context: RuleContext,
                         bundle_spkis: list[bytes]) -> list[PairedCertificate]:
    """Certificates that belong with keys in this file: same bundle, else same stem."""
    paired: list[PairedCertificate] = []
    if bundle_spkis:
        for spki in bundle_spkis:
            paired.append(_describe_spki(source.path, spki))
        return paired
    for sibling in context.neighbours.siblings(source.path, PAIRED_CERTIFICATE_EXTENSIONS):
        for spki in _certificate_keys_in(sibling, None, context):
            paired.append(_describe_spki(sibling, spki))
    return paired


def _keys_in(path: str, data: bytes | None, context: RuleContext, *,
             judged: bool = True) -> KeyScan:
    """The keys of a file (read from the neighbours when data is None), parsed once a run.

    judged=False: only the facts a certificate beside it needs (public keys), without the
    key derivation that judging encryption takes; such a scan is not kept for judging."""
    # Imported here: only files that passed the sniff pay for cryptography.
    from certwarden.recognition.keys import KeyScan, find_keys
    from certwarden.recognition.work_caps import WorkBudget

    scan = context.key_scans.get(path)
    if scan is None:
        if data is None:
            data = context.neighbours.read(path)
        if data is None:
            return KeyScan()
        if not judged:
            return find_keys(data, scan=KeyScan(budget=WorkBudget(0.0)))
        scan = find_keys(data, scan=KeyScan(budget=WorkBudget(closed=GROUP.memo.load())))
        context.key_scans[path] = scan
    return scan


def _certificate_keys_in(path: str, data: bytes | None, context: RuleContext) -> list[bytes]:
    """SubjectPublicKeyInfo of each leaf certificate in a file, parsed once a run."""
    spkis = context.certificate_keys.get(path)
    if spkis is None:
        if data is None:
            data = context.neighbours.read(path)
        spkis = _leaf_spkis(path, data) if data is not None else []
        context.certificate_keys[path] = spkis
    return spkis


def _describe_spki(path: str, spki: bytes) -> PairedCertificate:
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    from certwarden.recognition.certificates import key_type_name
    from certwarden.rules.key_rules import PairedCertificate

    public_key = load_der_public_key(spki)
    return PairedCertificate(path, spki, key_type_name(public_key),
                             getattr(public_key, "key_size", None))


def _leaf_spkis(path: str, data: bytes) -> list[bytes]:
    from certwarden.recognition.certificates import load_certificates

    loaded = load_certificates(data, path, passphrase=None)
    return [obj.spki for obj in loaded.objects if obj.certificate is not None and not obj.is_ca]


def _certificate_side_pairing(source: SourceFile, context: RuleContext) -> list[Finding]:
    """A staged certificate whose key file (same stem) holds another public key."""
    from certwarden.rules.key_rules import KEY_MISMATCH

    # The keys' public keys first: an encrypted key without a configured passphrase has
    # none to compare, and then the certificate need not be parsed at all.
    keys: list[tuple[str, FoundKey, bytes]] = []
    for key_path in context.neighbours.siblings(source.path, KEY_EXTENSIONS):
        passphrase = passphrase_for(key_path, context.config)
        for key in _keys_in(key_path, None, context, judged=False).keys:
            spki = key.public_key_der
            if spki is None and passphrase is not None and key.opener is not None:
                from certwarden.rules.key_rules import KeyFacts

                facts = KeyFacts(key)
                _open(facts, passphrase)
                spki = facts.opened_spki
            if spki is not None:
                keys.append((key_path, key, spki))
    if not keys:
        return []
    spkis = _certificate_keys_in(source.path, source.data, context)
    if not spkis:
        return []
    return [KEY_MISMATCH.issue(f"the certificate's public key does not match the "
                               f"{key.describe()} in {key_path}").at(source.path, None,
                                                                     key.fingerprint)
            for key_path, key, spki in keys if spki not in spkis]


GROUP = KeysGroup()
