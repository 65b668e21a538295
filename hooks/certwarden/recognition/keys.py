"""Find every private key in a file's bytes, in any form, and say how it is protected.

Forms: PEM blocks of every private-key label (also indented, quoted, `\\n`-escaped or
CRLF), legacy `Proc-Type: 4,ENCRYPTED` PEM, OpenSSH, SSH2, OpenPGP, PuTTY PPK, PKCS#12,
DER keys, base64-wrapped armor (Kubernetes Secret data) and unarmored base64 DER bodies.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization

from certwarden.config import Config
from certwarden.recognition import armor, key_sniff, sniff
from certwarden.recognition.der_keys import classify_der, legacy_pem_weakness, spki_der
from certwarden.recognition.found_key import FoundKey, UnreadableKey, digest
from certwarden.recognition.openpgp import parse_secret_key_block
from certwarden.recognition.ssh_keys import (
    PUTTY_START,
    SSH2_BLOCK,
    parse_openssh,
    parse_putty,
    parse_ssh2,
)

_WRAPPED_ARMOR = re.compile(rb"LS0tLS1CRUdJTi[A-Za-z0-9+/]*={0,2}")
_BASE64_TOKEN = re.compile(rb"[A-Za-z0-9+/]+={0,2}")
# Between the lines of a wrapped base64 body: a newline (real or `\n`-escaped) with
# indentation, or string concatenation; '+' is base64, so only taken between quotes.
_LINE_GAP = re.compile(
    rb"(?:\\r)?(?:\\n)?[\"'][ \t]*\+?[ \t]*\r?\n[ \t]*\+?[ \t]*[\"']"
    rb"|(?:\\r)?\\n|\r?\n[ \t]*")
_TRUNCATED_BODY = re.compile(rb"(?:(?:\\r)?(?:\\n)?[ \t\"']*\r?\n?[ \t]*[A-Za-z0-9+/=:,-]{16,})+")
_PLACEHOLDER_BYTES = 32  # shorter bodies are documentation placeholders, not keys
MAX_NESTING = 2


@dataclass
class KeyScan:
    keys: list[FoundKey] = field(default_factory=list)
    unreadable: list[UnreadableKey] = field(default_factory=list)
    bundle_certificates: list[bytes] = field(default_factory=list)  # SPKIs beside the keys


def _pem_opener(label: str, headers: dict[str, str], der: bytes) -> object:
    header_text = "".join(f"{name}: {value}\n" for name, value in headers.items())
    pem = (f"-----BEGIN {label}-----\n{header_text}\n".encode() + base64.encodebytes(der)
           + f"-----END {label}-----\n".encode())

    def open_with(passphrase: bytes) -> object:
        return serialization.load_pem_private_key(pem, passphrase,
                                                  unsafe_skip_rsa_key_validation=True)
    return open_with


def _legacy_pem(block: armor.ArmoredBlock, config: Config) -> FoundKey | None:
    """`Proc-Type: 4,ENCRYPTED`: encrypted only if the body is not a plaintext key."""
    assert block.der is not None
    # A header can lie: a plaintext key body under an ENCRYPTED header is unencrypted.
    plain = classify_der(block.der, form="PEM under a Proc-Type: 4,ENCRYPTED header",
                         line=block.line, config=config)
    if plain is not None and not plain.encrypted:
        return plain
    opener = _pem_opener(block.label, block.headers, block.der)
    try:
        opener(b"")  # type: ignore[operator]
    except (TypeError, ValueError):
        pass  # a password is needed, or the empty one is wrong: encrypted
    except Exception:  # a cipher the loader does not support: still ciphertext
        pass
    else:
        return None  # opened with an empty passphrase: not a protection
    description, weakness, severity = legacy_pem_weakness(block.headers.get("DEK-Info", ""),
                                                          config)
    key_type = block.label.split()[0].lower() if block.label != "PRIVATE KEY" else None
    return FoundKey(form="legacy encrypted PEM", line=block.line, encrypted=True,
                    material_digest=digest(block.der),
                    key_type=key_type if key_type in ("rsa", "ec", "dsa") else None,
                    encryption=description, weakness=weakness, weakness_severity=severity,
                    opener=opener)  # type: ignore[arg-type]


def _armored(block: armor.ArmoredBlock, data: bytes, scan: KeyScan, config: Config,
             form_prefix: str) -> None:
    if not block.complete:
        body = _TRUNCATED_BODY.match(data, block.end)
        if body is not None and len(body.group()) > 200:  # base64 lines: a key cut short
            scan.unreadable.append(UnreadableKey(
                block.line, f"BEGIN {block.label} without an END line (truncated key?)",
                digest(body.group())))
        return
    if block.der is None or len(block.der) < _PLACEHOLDER_BYTES:
        raw = data[block.start:block.end]
        if len(re.sub(rb"[^A-Za-z0-9+/]", b"", raw)) > 200:
            scan.unreadable.append(UnreadableKey(
                block.line, f"the {block.label} block is not valid base64", digest(raw)))
        return
    found: FoundKey | None
    if block.label == "OPENSSH PRIVATE KEY":
        found = parse_openssh(block.der, line=block.line)
    elif block.label == "PGP PRIVATE KEY BLOCK":
        found = parse_secret_key_block(block.der, line=block.line, config=config)
    elif "ENCRYPTED" in block.headers.get("Proc-Type", ""):
        found = _legacy_pem(block, config)
    else:
        found = classify_der(block.der, form="PEM", line=block.line, config=config)
        if found is not None and found.opener is None:
            found.opener = _pem_opener(block.label, {}, block.der)  # type: ignore[assignment]
    if found is None:
        scan.unreadable.append(UnreadableKey(
            block.line, f"a {block.label} block that no loader recognises as a key",
            digest(block.der)))
        return
    found.form = form_prefix + found.form
    scan.keys.append(found)


def _base64_body_at(data: bytes, start: int) -> bytes | None:
    """Decode a base64 DER body starting at `start`, following line-wrapped continuations."""
    pieces: list[bytes] = []
    position = start
    needed: int | None = None
    while len(pieces) < 200:
        token = _BASE64_TOKEN.match(data, position)
        if token is None:
            break
        pieces.append(token.group())
        position = token.end()
        joined = b"".join(pieces)
        usable = joined[: len(joined) - len(joined) % 4]
        if needed is None and len(usable) >= 8:
            try:
                needed = armor.der_element_length(base64.b64decode(usable[:8]))
            except (binascii.Error, ValueError):
                return None
        complete = needed is not None and len(usable) * 3 // 4 >= needed
        if complete or token.group().endswith(b"="):
            break
        gap = _LINE_GAP.match(data, position)
        if gap is None:
            break
        position = gap.end()
    joined = b"".join(pieces)
    try:
        decoded = base64.b64decode(joined + b"=" * (-len(joined) % 4))
    except (binascii.Error, ValueError):
        return None
    return decoded[:needed] if needed else decoded


def _inside(spans: list[tuple[int, int]], offset: int) -> bool:
    return any(start <= offset < end for start, end in spans)


def find_keys(data: bytes, *, config: Config, depth: int = 0, line_offset: int = 0,
              form_prefix: str = "") -> KeyScan:
    scan = KeyScan()
    spans: list[tuple[int, int]] = []
    counter = armor.LineCounter(data)

    def line_at(offset: int) -> int:
        # Keys nested in a base64 wrapper are reported at the wrapper's line.
        return line_offset or counter.line_at(offset)

    if b"-----BEGIN " in data:
        for block in armor.find_blocks(data):
            if sniff.is_private_key_label(block.label):
                spans.append((block.start, block.end))
                if line_offset:
                    block = armor.ArmoredBlock(block.label, line_offset, block.start, block.end,
                                               block.headers, block.der, block.complete)
                _armored(block, data, scan, config, form_prefix)
            elif block.label in sniff.CERTIFICATE_LABELS and block.der:
                scan.bundle_certificates.extend(_certificate_spki(block.der))
    if b"---- BEGIN SSH2" in data:
        for match in SSH2_BLOCK.finditer(data):
            spans.append(match.span())
            found = parse_ssh2(match.group(1), line=line_at(match.start()))
            if found is not None:
                scan.keys.append(found)
            elif len(match.group(1)) > 200:
                scan.unreadable.append(UnreadableKey(line_at(match.start()),
                                                     "an SSH2 private key block that could "
                                                     "not be read", digest(match.group())))
    if b"PuTTY-User-Key-File-" in data:
        for match in PUTTY_START.finditer(data):
            found = parse_putty(data, match, line=line_at(match.start()), config=config)
            if found is not None:
                scan.keys.append(found)
            elif b"Private-Lines" in data[match.start():match.start() + 8192]:
                scan.unreadable.append(UnreadableKey(line_at(match.start()),
                                                     "a PuTTY key file that could not be read",
                                                     digest(data[match.start():][:4096])))
    if depth < MAX_NESTING and b"LS0tLS1CRUdJTi" in data:
        for match in _WRAPPED_ARMOR.finditer(data):
            spans.append(match.span())
            try:
                inner = base64.b64decode(match.group() + b"=" * (-len(match.group()) % 4))
            except (binascii.Error, ValueError):
                continue
            nested = find_keys(inner, config=config, depth=depth + 1,
                               line_offset=line_at(match.start()),
                               form_prefix="base64-wrapped ")
            scan.keys.extend(nested.keys)
            scan.unreadable.extend(nested.unreadable)
    if depth == 0 and key_sniff.der_key_start(data):
        _whole_file_der(data, scan, config)
    for start in key_sniff.base64_key_starts(data):
        if _inside(spans, start):
            continue
        der = _base64_body_at(data, start)
        if der is None:
            continue
        found = classify_der(der, form="base64 DER without armor", line=line_at(start),
                             config=config)
        if found is not None:
            scan.keys.append(found)
    return scan


def _whole_file_der(data: bytes, scan: KeyScan, config: Config) -> None:
    length = armor.der_element_length(data) or len(data)
    der = data[:length]
    found = classify_der(der, form="DER", line=None, config=config)
    if found is not None:
        scan.keys.append(found)
        return
    from certwarden.recognition.pkcs12_keys import classify_pkcs12  # loads cryptography.x509

    bundle = classify_pkcs12(der, line=None, config=config)
    if bundle is not None:
        keys, spkis = bundle
        scan.keys.extend(keys)
        scan.bundle_certificates.extend(spkis)


def _certificate_spki(der: bytes) -> list[bytes]:
    from cryptography import x509

    try:
        length = armor.der_element_length(der) or len(der)
        return [spki_der(x509.load_der_x509_certificate(der[:length]).public_key())]
    except Exception:  # an unreadable certificate is the certificate rules' business
        return []
