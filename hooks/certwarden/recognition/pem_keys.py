"""Armored private keys: every `-----BEGIN ... PRIVATE KEY-----` block (and the labels other
formats own: OpenSSH, OpenPGP, OpenVPN), read whatever wraps it.

Fail closed: a block labelled as a private key that no parser reads, after the text
escapes around it are undone (decoders/escapes.py), is unreadable (a blocking finding),
unless its body is a documentation placeholder: too little to be a key (`...`,
`<redacted>`, `{{ template }}`, a short prefix) or prose. "PRIVATE" outside any block
(URL- or form-encoded armor, a compact JSON array of lines) gets the same unescaping.
"""

from __future__ import annotations

import importlib
import re
from typing import TYPE_CHECKING

from certwarden.recognition import armor, der_reader, pbe
from certwarden.recognition.found_key import FoundKey, Opener, digest
from certwarden.recognition.key_formats import FORMATS

if TYPE_CHECKING:
    from certwarden.recognition.keys import KeyScan, View

PLACEHOLDER_CHARACTERS = 100  # fewer base64 characters than this cannot be a key's body
_BASE64_CHARACTERS = re.compile(rb"[A-Za-z0-9+/]")
_ORPHAN_WINDOW = 1 << 16
MAX_ORPHAN_WINDOWS = 32
MAX_UNESCAPED_REGIONS = 64  # per file: each region is searched under up to 30 unescapings
MAX_UNESCAPED_BYTES = 8 * 1024 * 1024  # per file: the text those unescapings produce
CERTIFICATE_LABELS = frozenset({"CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"})

# Armor labels owned by another format's module (key_formats.FORMATS).
_OWNERS = {label: key_format.module for key_format in FORMATS for label in key_format.labels
           if label != "*"}


def is_key_label(label: str) -> bool:
    return label.endswith("PRIVATE KEY") or label in _OWNERS


def is_placeholder(body: bytes) -> bool:
    """Documentation, not a key: too few base64 characters, or prose."""
    characters = _BASE64_CHARACTERS.findall(body[:65536])
    if len(characters) < PLACEHOLDER_CHARACTERS:
        return True
    letters = b"".join(characters)
    if len(set(letters)) < 16:
        return True  # "XXXX...", "AAAA...": a filler (base64 of any key uses about 64)
    # Base64 of key material is about 60% upper case, digits, '+' and '/'; prose is not.
    dense = sum(1 for c in letters if not 0x61 <= c <= 0x7A)
    return dense < 0.25 * len(letters)


class CutKey(str):
    """Why a block could not be read, when the bytes it holds are the start of a key that
    reach into its private part (key_prefix.py): blocks even under the placeholder size."""


class Excerpt(str):
    """A block cut short before any private field: documentation showing a key's first
    (public) lines. Allowed, once unescaping has shown no key hides in it."""


def cut_short(label: str, der: bytes) -> str:
    """Why a block whose DER claims more bytes than it holds cannot be read: a CutKey
    when what it holds reaches a private field, an Excerpt when it ends before one."""
    from certwarden.recognition.key_prefix import is_secret_like, private_prefix

    prefix = private_prefix(der)
    if prefix is None:
        return (f"the {label} block holds {len(der)} bytes, not a whole DER structure "
                "(truncated or corrupt)")
    structure, secret = prefix
    if is_secret_like(secret):
        return CutKey(f"the {label} block is cut short ({len(der)} bytes of a {structure} "
                      f"key), yet holds {len(secret)} bytes of its private part")
    return Excerpt(f"the first {len(der)} bytes of a {structure} key, public fields only")


_LEADING_BASE64 = re.compile(rb"[ \t#>;|*\"'`]*([A-Za-z0-9+/]+)")
_LONG_BASE64 = re.compile(rb"[A-Za-z0-9+/]{12,}")


def _leading_base64(body: bytes) -> tuple[bytes, bool]:
    """(what the base64 at the start of the body's lines decodes to, up to the first line
    that does not open with base64 or does not end with it; whether only an elision
    follows: '...', '[snip]', a short note, never more base64)."""
    import base64
    import binascii

    chunks: list[bytes] = []
    lines = body[:8192].replace(b"\r", b"\n").split(b"\n")
    stop = len(lines)
    for index, text_line in enumerate(lines):
        match = _LEADING_BASE64.match(text_line)
        if match is None:
            if chunks:
                stop = index
                break
            continue
        chunks.append(match.group(1))
        if match.end() < len(text_line.rstrip()):
            stop = index + 1  # "MIIEow...": base64, then an ellipsis on the same line
            break
    rest = [line.strip() for line in lines[stop:] if line.strip()]
    elided = len(body) <= 8192 and all(len(line) <= 32 and not _LONG_BASE64.search(line)
                                       for line in rest)
    joined = b"".join(chunks)
    try:
        return base64.b64decode(joined[:len(joined) - len(joined) % 4], validate=True), elided
    except (binascii.Error, ValueError):
        return b"", False


def _cut_or_corrupt(label: str, body: bytes, der: bytes | None) -> str:
    """A block that is not a whole key: a CutKey when any reading of it reaches a private
    field, an Excerpt when it is a key's first (public) bytes and only an elision
    follows them, else why it is corrupt."""
    leading, elided = _leading_base64(body)
    verdicts = [cut_short(label, candidate) for candidate in (der, leading) if candidate]
    for verdict in verdicts:
        if isinstance(verdict, CutKey):
            return verdict
    if leading and elided and isinstance(verdicts[-1], Excerpt):
        return verdicts[-1]
    if der is None:
        return f"the {label} block is not valid base64"
    return next((v for v in verdicts if not isinstance(v, Excerpt)),
                f"the {label} block holds {len(der)} bytes, not a whole DER structure "
                "(truncated or corrupt)")


def _pem_opener(label: str, headers: dict[str, str], der: bytes) -> Opener:
    import base64

    from cryptography.hazmat.primitives import serialization

    header_text = "".join(f"{name}: {value}\n" for name, value in headers.items())
    pem = (f"-----BEGIN {label}-----\n{header_text}\n".encode() + base64.encodebytes(der)
           + f"-----END {label}-----\n".encode())

    def open_with(passphrase: bytes) -> object:
        return serialization.load_pem_private_key(pem, passphrase,
                                                  unsafe_skip_rsa_key_validation=True)
    return open_with


def _legacy(block: armor.ArmoredBlock, der: bytes, line: int | None) -> FoundKey | str:
    """`Proc-Type: 4,ENCRYPTED`: encrypted only if the body is not a plaintext key and the
    empty passphrase does not open it."""
    from certwarden.recognition.der_keys import classify_der, try_empty_passphrase

    plain = classify_der(der, form="PEM under a Proc-Type: 4,ENCRYPTED header", line=line)
    if plain is not None and not plain.encrypted:
        return plain  # a header can lie: a plaintext body is unencrypted
    dek_info = block.headers.get("DEK-Info", "")
    protection, _ = pbe.legacy_protection(dek_info)
    if len(der) < 16:
        return f"the {block.label} block is too short to hold a key"
    key_type = block.label.split()[0].lower() if block.label != "PRIVATE KEY" else None
    key = FoundKey(form="legacy encrypted PEM", line=line, encrypted=True,
                   material_digest=digest(der),
                   key_type=key_type if key_type in ("rsa", "ec", "dsa") else None,
                   protection=protection, opener=_pem_opener(block.label, block.headers, der))
    try_empty_passphrase(key, lambda: pbe.decrypt_legacy(dek_info, der, b""))
    return key


def read_block(block: armor.ArmoredBlock, view: View, scan: KeyScan) -> FoundKey | str | None:
    """The key in a complete block, or why it cannot be read, or None for a placeholder."""
    line = view.line_at(block.start)
    owner = _OWNERS.get(block.label)
    if owner is not None:
        module = importlib.import_module(f"certwarden.recognition.{owner}")
        result: FoundKey | str | None = module.read_armored(block, line, scan)
        return result
    der = block.der
    if der is None:
        return _cut_or_corrupt(block.label, block.body, None)
    if "ENCRYPTED" in block.headers.get("Proc-Type", ""):
        return _legacy(block, der, line)
    length = der_reader.element_length(der)
    if length is None or length > len(der):
        return _cut_or_corrupt(block.label, block.body, der)
    from certwarden.recognition.der_keys import classify_der

    found = classify_der(der, form="PEM", line=line, budget=scan.budget)
    if found is None:
        return f"a {block.label} block that no loader recognises as a key"
    if found.opener is None or found.encrypted:
        found.opener = found.opener or _pem_opener(block.label, {}, der[:length])
    if length < len(der.rstrip(b"\0")):
        found.form += " (with bytes after the key)"
    return found


def _region(data: bytes, start: int, end: int) -> bytes:
    """The block with its whole first and last lines (wrappers and escapes included)."""
    line_start = data.rfind(b"\n", max(0, start - 4096), start) + 1
    line_end = data.find(b"\n", end)
    return data[line_start:line_end if line_end != -1 else len(data)]


def _unescaped(view: View, region: bytes, start: int, scan: KeyScan) -> bool:
    """Search the region again under each text unescaping; True when a key is found.

    Bounded: never inside text that unescaping produced (unescapings() composes two layers
    itself), and at most MAX_UNESCAPED_REGIONS regions a file."""
    if view.unescaped:
        return False
    if scan.unescaped_regions >= MAX_UNESCAPED_REGIONS:
        scan.limits.refuse(f"more than {MAX_UNESCAPED_REGIONS} regions to search under text "
                           "unescapings")
        return False
    scan.unescaped_regions += 1
    from certwarden.decoders.escapes import unescapings  # only for blocks that fail

    for layers, text in unescapings(region):
        scan.unescaped_bytes += len(text)
        if scan.unescaped_bytes > MAX_UNESCAPED_BYTES:
            scan.limits.refuse(f"more than {MAX_UNESCAPED_BYTES // (1024 * 1024)} MiB of text "
                               "to search under text unescapings")
            return False
        if scan.attempt(view.child(text, " > ".join(layers), start, None, unescaped=True)):
            return True
    return False


_BODY_START = re.compile(rb"[ \t#>;|*+\"'`]*(?:[A-Za-z0-9+/=]{16,}|[A-Za-z][A-Za-z0-9-]*: )")


def lines_after_begin(body: bytes) -> bytes | None:
    """The lines that follow a BEGIN line with no END line, when they start like a key's
    body (a base64 line or a header); None when the BEGIN line is only mentioned (prose,
    a table, source code), whatever follows it."""
    if len(body) < PLACEHOLDER_CHARACTERS or is_placeholder(body[:4096]):
        return None  # nothing after the BEGIN line that could be a key (1 MiB of BEGIN lines)
    lines = body.replace(b"\r", b"\n").split(b"\n")
    following = [line for line in lines[1:64] if line.strip()]
    if not following or not _BODY_START.match(following[0]):
        return None
    kept: list[bytes] = []
    for text_line in lines[1:]:
        if kept and not text_line.strip():
            break
        kept.append(text_line)
        if sum(len(k) for k in kept) > 1 << 20:
            break
    text = b"\n".join(kept)
    return None if is_placeholder(text) else text


def _first_lines(body: bytes) -> bytes:
    """The lines right after a BEGIN line, up to the first blank one (at most 4 KB)."""
    lines = body[:4096].replace(b"\r", b"\n").split(b"\n")[1:]
    kept: list[bytes] = []
    for text_line in lines:
        if kept and not text_line.strip():
            break
        kept.append(text_line)
    return b"\n".join(kept)


def _incomplete(block: armor.ArmoredBlock, view: View, scan: KeyScan) -> None:
    """A BEGIN line with no END line: the base64 lines that follow it, if any."""
    text = lines_after_begin(block.body)
    line = view.line_at(block.start)
    if text is None:
        # Too short for a whole key, or prose: blocks only when it is the start of a key
        # that reaches its private part (one line of an EC key holds all of its scalar).
        if block.label not in _OWNERS:
            head = _first_lines(block.body)
            _, der, _ = armor.read_body(head)
            reason = _cut_or_corrupt(block.label, head, der)
            if isinstance(reason, CutKey):
                view.claim(block.start, block.start + len(head))
                scan.add_unreadable(view, line, f"BEGIN {block.label} without an END line: "
                                    f"{reason}", head)
        return
    _, der, _ = armor.read_body(text)
    reason = ""
    if der:
        from certwarden.recognition.der_keys import classify_der

        found = classify_der(der, form="PEM without an END line", line=line, budget=scan.budget)
        if found is not None:
            view.claim(block.start, block.start + len(text))
            scan.add_key(view, found)
            return
        if block.label not in _OWNERS:
            cut = _cut_or_corrupt(block.label, text, der)
            if isinstance(cut, Excerpt):
                return  # a key's first (public) lines, shown without their END line
            if isinstance(cut, CutKey):
                reason = f": {cut}"
    view.claim(block.start, block.end)
    scan.add_unreadable(view, line, f"BEGIN {block.label} without an END line (a truncated "
                        f"key?){reason}", text)


def find(view: View, positions: list[int], scan: KeyScan, name: str) -> None:
    data = view.data
    for block in armor.find_blocks(data, keep_empty=False):
        if block.label in CERTIFICATE_LABELS and block.der and view.depth == 0:
            scan.bundle_certificates.extend(_certificate_spki(block.der))
            continue
        if not is_key_label(block.label):
            continue
        if not block.complete:
            _incomplete(block, view, scan)
            continue
        # The marker lines are read; the body is claimed only once it is judged, so that
        # a placeholder's body stays open to the decoders (a key's base64 after 64 KB of
        # filler or prose in one block is still decoded).
        view.claim(block.start, block.start + len(f"-----BEGIN {block.label}-----"))
        view.claim(block.end - len(f"-----END {block.end_label}-----"), block.end)
        result = read_block(block, view, scan)
        if isinstance(result, FoundKey):
            view.claim(block.start, block.end)
            scan.add_key(view, result)
            continue
        cut_key = isinstance(result, CutKey)
        if result is None or (not cut_key and is_placeholder(block.body)):
            continue  # documentation: unescaping only shortens it, never makes a key of it
        region = _region(data, block.start, block.end)
        if _unescaped(view, region, block.start, scan) or isinstance(result, Excerpt):
            continue
        view.claim(block.start, block.end)
        scan.add_unreadable(view, view.line_at(block.start), result, block.body)
    _orphans(view, positions, scan)


def _orphans(view: View, positions: list[int], scan: KeyScan) -> None:
    """"PRIVATE" that starts no block: armor escaped beyond recognition (URL-encoding,
    a JSON array on one line). Unescape the text around it and search again."""
    data = view.data
    done = -1
    windows = 0
    for position in positions:
        if position < done or view.is_claimed(position):
            continue
        if windows >= MAX_ORPHAN_WINDOWS:
            return
        windows += 1
        start = max(0, position - 256)
        done = min(len(data), position + _ORPHAN_WINDOW)
        region = data[start:done]
        if b"BEGIN" not in region and b"BEGIN" not in data[max(0, start - 64):position]:
            continue
        _unescaped(view, region, start, scan)


def _certificate_spki(der: bytes) -> list[bytes]:
    from cryptography import x509

    from certwarden.recognition.der_keys import spki_der

    try:
        length = der_reader.element_length(der) or len(der)
        return [spki_der(x509.load_der_x509_certificate(der[:length]).public_key())]
    except Exception:  # an unreadable certificate is the certificate rules' business
        return []
