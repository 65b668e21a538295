"""An adversarial corpus for check-private-keys (issue 11), generated at test time.

Every sample is written the way an everyday tool or language writes a key, or the way an
attacker would hide one, and belongs to one class of issue 11:

 1. armor we cannot parse: a wrapper left on every line (quote, comment, diff), a stray
    line, trailing bytes after the DER (openssl still loads those), half a key
 2. text escapes around armor: JSON `\\/` and `\\u002B`, arrays of lines, XML character
    references, `<br>`, URL-encoding, one string literal per line (Python, JS, shell, C)
 3. text encodings: UTF-16LE/BE with and without BOM, UTF-32
 4. transport encodings: base64 of a PEM file (any column, any offset, twice, base64url),
    base64 of a password-less PFX, hex dumps, C arrays, Python bytes literals
 5. a DER key with other bytes before or after it
 6. formats of other tools: binary OpenPGP, gpg-agent key files, JWK, .NET XML, age,
    WireGuard, OpenVPN static keys, and keys inside gzip/bzip2/xz/zip/tar archives
 7. protection that protects nothing: keys that open with the empty passphrase; weak scrypt
 8. a key past the first 64 MiB of a file
 9, 10. the staged blob and file names as options: see test_adversarial_git.py
11. inputs crafted to make the hook work forever (KDF and MAC parameters, quadratic scans)
12. encrypted keys that are not appliance keys (Ed25519 deploy keys, OpenPGP keys)

Labels come from construction (we chose the encryption, or we wrote no key) or from the
real tool's command line (`openssl ... -passout pass:`, `ssh-keygen -N ''`, `gpg
--passphrase ''`), never from the code under test. Where a label rests on a tool's
behaviour, the sample carries the command that proves it (`opens_with`, `refuses`), and
test_adversarial_keys.py runs it. Hand-built samples (no tool writes them) say so in
`made_by` and are checked by a real tool wherever one reads them.

Labels:
- `unencrypted`: a private key that opens without a passphrase (or is labelled as one and
  not proven encrypted): must block with an error
- `weak`: encrypted, but with parameters the policy calls weak: must block with
  `key-weak-encryption`
- `encrypted`, `public`, `placeholder`, `keyless`: must be allowed
- `crafted`: class 11 inputs whose verdict is the implementer's call; only the bounds on
  work (time, no traceback) are asserted

Nothing here is committed: everything is generated into a temporary folder.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import struct
import subprocess
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tests import pki

UNENCRYPTED, WEAK = "unencrypted", "weak"
ENCRYPTED, PUBLIC, PLACEHOLDER, KEYLESS = "encrypted", "public", "placeholder", "keyless"
CRAFTED = "crafted"
BLOCKED_LABELS = frozenset({UNENCRYPTED, WEAK})
ALLOWED_LABELS = frozenset({ENCRYPTED, PUBLIC, PLACEHOLDER, KEYLESS})
BLOCKING_RULES = frozenset({"key-unencrypted", "key-unreadable", "key-weak-encryption"})

PASS = "adversary-Pass-7"  # the passphrase of every encrypted sample
PASS_VARIABLE = "CW_ADVERSARY_PASSPHRASE"  # configured for CONFIGURED_PASSPHRASE samples
KEY_SLOT = 11  # pki.rsa_key slot: this corpus's own RSA key, shared with its certificate
MIB = 1024 * 1024

CLASSES = {
    1: "unparseable armor",
    2: "text escapes around armor",
    3: "text encodings",
    4: "transport encodings",
    5: "DER inside other bytes",
    6: "formats not read",
    7: "protection that protects nothing",
    8: "past max-file-bytes",
    9: "working tree, not the staged blob",
    10: "file name becomes an option",
    11: "unbounded work",
    12: "key-type policy on non-appliance keys",
}
GIT_ONLY_CLASSES = (9, 10)  # covered by test_adversarial_git.py

E = serialization.Encoding
F = serialization.PrivateFormat
NO = serialization.NoEncryption()


@dataclass(frozen=True)
class Sample:
    name: str
    data: bytes
    label: str
    cls: int
    form: str
    made_by: str
    rules: frozenset[str] = BLOCKING_RULES  # blocking labels: the rules that count as a block
    opens_with: tuple[str, ...] = ()  # a real-tool command ({path}) that must succeed
    refuses: tuple[str, ...] = ()  # a real-tool command ({path}) that must fail


class MissingTool(Exception):
    """A sample needs a tool that is not installed: its test skips with this reason."""


Make = Callable[["Materials"], bytes]


@dataclass(frozen=True)
class Recipe:
    name: str
    cls: int
    label: str
    form: str
    made_by: str
    make: Make
    rules: frozenset[str] = BLOCKING_RULES
    opens_with: tuple[str, ...] = ()
    refuses: tuple[str, ...] = ()


RECIPES: dict[str, Recipe] = {}


def _recipe(name: str, cls: int, label: str, form: str, made_by: str, make: Make, *,
            rules: frozenset[str] = BLOCKING_RULES, opens_with: tuple[str, ...] = (),
            refuses: tuple[str, ...] = ()) -> None:
    assert name not in RECIPES, name
    RECIPES[name] = Recipe(name, cls, label, form, made_by, make, rules, opens_with, refuses)


# Commands that prove a label with the real tool ({path} is the sample file).
OPENSSL_OPENS_EMPTY = ("openssl", "pkey", "-in", "{path}", "-noout", "-passin", "pass:")
OPENSSL_OPENS_PASS = ("openssl", "pkey", "-in", "{path}", "-noout", "-passin", f"pass:{PASS}")
OPENSSL_DER_OPENS_EMPTY = ("openssl", "pkey", "-inform", "DER", "-in", "{path}", "-noout",
                           "-passin", "pass:")
SSH_OPENS_EMPTY = ("ssh-keygen", "-y", "-P", "", "-f", "{path}")
SSH_OPENS_PASS = ("ssh-keygen", "-y", "-P", PASS, "-f", "{path}")
PKCS12_OPENS_EMPTY_NO_MAC = ("openssl", "pkcs12", "-in", "{path}", "-passin", "pass:",
                             "-nomacver", "-nodes", "-nocerts", "-out", "{scratch}")
PKCS12_OPENS_PASS_NO_MAC = ("openssl", "pkcs12", "-in", "{path}", "-passin", f"pass:{PASS}",
                            "-nomacver", "-nodes", "-nocerts", "-out", "{scratch}")
PUTTYGEN_OPENS_EMPTY = ("puttygen", "{path}", "--old-passphrase", "{empty_file}", "-O",
                        "private-openssh", "-o", "{scratch}")
PUTTYGEN_OPENS_PASS = ("puttygen", "{path}", "--old-passphrase", "{pass_file}", "-O",
                       "private-openssh", "-o", "{scratch}")


# -- materials: keys and tool outputs, made once per corpus ------------------------------------

class Materials:
    """Keys, certificates and tool outputs, made once and reused by every recipe."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.work = folder / "work"
        self.work.mkdir(parents=True, exist_ok=True)
        self._cache: dict[str, object] = {}
        self.rsa = pki.rsa_key(2048, KEY_SLOT)
        self.ec = pki.ec_key(KEY_SLOT)
        self.ed = ed25519.Ed25519PrivateKey.generate()
        self.certificate = pki.certificate(pki.Spec(key_slot=KEY_SLOT))

    def _once(self, key: str, make: Callable[[], object]) -> object:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def cached(self, key: str, make: Callable[[], bytes]) -> bytes:
        value = self._once(key, make)
        assert isinstance(value, bytes)
        return value

    # tools
    def tool(self, *command: str, data: bytes | None = None, cwd: Path | None = None) -> bytes:
        if shutil.which(command[0]) is None:
            raise MissingTool(f"{command[0]} is not installed")
        result = subprocess.run(command, input=data, capture_output=True, cwd=cwd or self.work,
                                timeout=120, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.decode()[:400]}")
        return result.stdout

    def file(self, name: str, data: bytes) -> Path:
        path = self.work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o600)
        return path

    # keys in the usual forms
    def pem(self, kind: str) -> bytes:
        return self.cached(f"pem:{kind}", lambda: self._pem(kind))

    def _pem(self, kind: str) -> bytes:
        if kind == "pkcs1":
            return self.rsa.private_bytes(E.PEM, F.TraditionalOpenSSL, NO)
        if kind == "pkcs8":
            return self.rsa.private_bytes(E.PEM, F.PKCS8, NO)
        if kind == "sec1":
            return self.ec.private_bytes(E.PEM, F.TraditionalOpenSSL, NO)
        if kind == "ed25519":
            return self.ed.private_bytes(E.PEM, F.PKCS8, NO)
        if kind == "enc_pkcs8":  # what POLICY.md tells users to run
            return self.tool("openssl", "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in",
                             str(self.file("pkcs1.pem", self.pem("pkcs1"))), "-passout",
                             f"pass:{PASS}")
        if kind == "enc_legacy":
            return self.tool("openssl", "rsa", "-aes256", "-traditional", "-in",
                             str(self.file("pkcs1.pem", self.pem("pkcs1"))), "-passout",
                             f"pass:{PASS}")
        if kind == "enc_sec1":
            return self.tool("openssl", "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in",
                             str(self.file("sec1.pem", self.pem("sec1"))), "-passout",
                             f"pass:{PASS}")
        raise ValueError(kind)

    def der(self, kind: str) -> bytes:
        return pem_body(self.pem(kind))

    @property
    def cert_der(self) -> bytes:
        return pki.der(self.certificate)

    @property
    def cert_pem(self) -> bytes:
        return pki.pem(self.certificate)

    @property
    def public_pem(self) -> bytes:
        return self.rsa.public_key().public_bytes(E.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)

    def secret_texts(self) -> list[bytes]:
        """The base64 bodies of the plain keys: no checker output may quote them."""
        return [b"".join(self.pem(kind).splitlines()[1:-1])
                for kind in ("pkcs1", "pkcs8", "sec1", "ed25519")]


def pem_body(pem: bytes) -> bytes:
    lines = [line for line in pem.splitlines() if line and b":" not in line]
    return base64.b64decode(b"".join(lines[1:-1]))


def armor(label: str, der: bytes, *, width: int = 64) -> bytes:
    text = base64.b64encode(der)
    lines = [text[i:i + width] for i in range(0, len(text), width)]
    return (f"-----BEGIN {label}-----\n".encode() + b"\n".join(lines)
            + f"\n-----END {label}-----\n".encode())


def _body_lines(pem: bytes) -> tuple[bytes, list[bytes], bytes]:
    lines = pem.splitlines()
    return lines[0], lines[1:-1], lines[-1]


# -- class 1: armor we cannot parse ------------------------------------------------------------

def _prefixed(prefix: bytes, head: bytes = b"", tail: bytes = b"") -> Callable[[bytes], bytes]:
    def wrap(pem: bytes) -> bytes:
        return head + b"".join(prefix + line + b"\n" for line in pem.splitlines()) + tail
    return wrap


def _numbered(pem: bytes) -> bytes:
    return b"".join(b"%4d | %s\n" % (number, line)
                    for number, line in enumerate(pem.splitlines(), 1))


def _stray(line: bytes) -> Callable[[bytes], bytes]:
    def insert(pem: bytes) -> bytes:
        lines = pem.splitlines()
        middle = len(lines) // 2
        return b"\n".join([*lines[:middle], line, *lines[middle:]]) + b"\n"
    return insert


def _spaced_groups(pem: bytes) -> bytes:
    begin, body, end = _body_lines(pem)
    spaced = [b" ".join(line[i:i + 4] for i in range(0, len(line), 4)) for line in body]
    return b"\n".join([begin, *spaced, end]) + b"\n"


def _half(pem: bytes) -> bytes:
    begin, body, end = _body_lines(pem)
    return b"\n".join([begin, *body[:len(body) // 2], end]) + b"\n"


def _no_end(pem: bytes) -> bytes:
    begin, body, _ = _body_lines(pem)
    return b"\n".join([begin, *body]) + b"\n"


EMAIL_HEAD = (b"From: ops@example.invalid\nSubject: Re: sensor1 key\n\n"
              b"Here it is again, see below.\n\nOn Mon, 1 Jun 2026, Alice wrote:\n")
DIFF_HEAD = (b"diff --git a/pki/sensor1.key b/pki/sensor1.key\nnew file mode 100644\n"
             b"index 0000000..1111111\n--- /dev/null\n+++ b/pki/sensor1.key\n@@ -0,0 +1,28 @@\n")
C_HEAD, C_TAIL = b"/*\n * Test key, do not use in production:\n *\n", b" */\nint unused;\n"

CLASS1_WRAPPERS: list[tuple[str, str, Callable[[bytes], bytes], str]] = [
    ("quoted-reply.eml", "every line quoted with '> ' (an e-mail reply)",
     _prefixed(b"> ", EMAIL_HEAD), "pkcs1"),
    ("commented-out.conf", "every line commented out with '# '", _prefixed(b"# "), "pkcs8"),
    ("c-comment.c", "every line inside a C block comment (' * ')",
     _prefixed(b" * ", C_HEAD, C_TAIL), "pkcs8"),
    ("new-key.patch", "a git diff adding the key ('+' on every line)",
     _prefixed(b"+", DIFF_HEAD), "pkcs1"),
    ("pastebin.txt", "line numbers from a paste site ('  12 | ')", _numbered, "pkcs8"),
    ("blank-line.key", "a blank line in the middle of the body", _stray(b""), "pkcs1"),
    ("stray-text.key", "a stray text line in the middle of the body",
     _stray(b"-- copied from the vault, do not share --"), "pkcs8"),
    ("spaced.key", "the body in groups of four characters", _spaced_groups, "pkcs1"),
]


def _with_trailing(label: str, kind: str, extra: bytes) -> Make:
    return lambda m: armor(label, m.der(kind) + extra)


def _class1() -> None:
    for slug, form, wrap, kind in CLASS1_WRAPPERS:
        _recipe(f"c01-{slug}", 1, UNENCRYPTED, form, f"Python: wrap the {kind} PEM",
                lambda m, w=wrap, k=kind: w(m.pem(k)))
        stem, _, extension = slug.rpartition(".")
        _recipe(f"c01-{stem}-enc.{extension}", 1, ENCRYPTED, f"{form}, encrypted key",
                "Python: wrap `openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:...`",
                lambda m, w=wrap: w(m.pem("enc_pkcs8")))
    _recipe("c01-legacy-quoted-enc.eml", 1, ENCRYPTED, "legacy encrypted PEM quoted with '> '",
            "Python: wrap `openssl rsa -aes256 -traditional -passout pass:...`",
            lambda m: _prefixed(b"> ", EMAIL_HEAD)(m.pem("enc_legacy")))
    for name, label, kind, extra, form in (
            ("c01-trailing-zeros.key", "PRIVATE KEY", "pkcs8", bytes(16), "16 zero bytes"),
            ("c01-trailing-junk.key", "RSA PRIVATE KEY", "pkcs1", b"\x13\x37" * 7,
             "14 junk bytes"),
            ("c01-trailing-text.pem", "PRIVATE KEY", "pkcs8", b"\nsensor1 key\n",
             "a line of text"),
            ("c01-trailing-ec.pem", "EC PRIVATE KEY", "sec1", bytes(8), "8 zero bytes")):
        _recipe(name, 1, UNENCRYPTED, f"DER followed by {form} inside the armor",
                "Python: armor(DER + extra); openssl pkey still loads it",
                _with_trailing(label, kind, extra), opens_with=OPENSSL_OPENS_EMPTY)
    _recipe("c01-trailing-zeros-enc.key", 1, ENCRYPTED,
            "encrypted PKCS#8 DER followed by 16 zero bytes inside the armor",
            "Python: armor(openssl pkcs8 -topk8 DER + zeros)",
            _with_trailing("ENCRYPTED PRIVATE KEY", "enc_pkcs8", bytes(16)),
            opens_with=OPENSSL_OPENS_PASS, refuses=OPENSSL_OPENS_EMPTY)
    _recipe("c01-half.key", 1, UNENCRYPTED, "the first half of a PKCS#8 body, END line kept",
            "Python: truncate the PEM body", lambda m: _half(m.pem("pkcs8")))
    _recipe("c01-half-rsa.key", 1, UNENCRYPTED, "the first half of a PKCS#1 body, END line kept",
            "Python: truncate the PEM body", lambda m: _half(m.pem("pkcs1")))
    _recipe("c01-no-end.key", 1, UNENCRYPTED, "the whole body, no END line",
            "Python: drop the END line", lambda m: _no_end(m.pem("pkcs1")))
    _recipe("c01-mismatched-end.key", 1, UNENCRYPTED, "BEGIN RSA PRIVATE KEY, END PRIVATE KEY",
            "Python: swap the END line",
            lambda m: m.pem("pkcs1").replace(b"END RSA PRIVATE", b"END PRIVATE"))

    _recipe("c01-placeholder-dots.md", 1, PLACEHOLDER, "'...' between the armor lines",
            "literal", lambda m: b"Put the key in `pki/sensor1.key`:\n\n```\n"
            b"-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n```\n")
    _recipe("c01-placeholder-redacted.yaml", 1, PLACEHOLDER, "'<redacted>' between the armor",
            "literal", lambda m: b"tls:\n  key: |\n    -----BEGIN RSA PRIVATE KEY-----\n"
            b"    <redacted>\n    -----END RSA PRIVATE KEY-----\n")
    _recipe("c01-placeholder-short.md", 1, PLACEHOLDER, "a body too short to be a key",
            "literal", lambda m: b"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA...\n"
            b"-----END RSA PRIVATE KEY-----\n")
    _recipe("c01-placeholder-template.j2", 1, PLACEHOLDER, "a template variable as the body",
            "literal", lambda m: b"-----BEGIN PRIVATE KEY-----\n{{ vault_sensor1_tls_key }}\n"
            b"-----END PRIVATE KEY-----\n")
    _recipe("c01-placeholder-your-key.txt", 1, PLACEHOLDER, "'<paste your key here>'",
            "literal", lambda m: b"-----BEGIN EC PRIVATE KEY-----\n<paste your key here>\n"
            b"-----END EC PRIVATE KEY-----\n")
    _recipe("c01-howto.md", 1, KEYLESS, "prose naming the armor lines", "literal",
            lambda m: b"A key file starts with `-----BEGIN PRIVATE KEY-----` and ends with "
            b"`-----END PRIVATE KEY-----`; an encrypted one says `ENCRYPTED PRIVATE KEY`.\n")
    _recipe("c01-public.pem", 1, PUBLIC, "SubjectPublicKeyInfo PEM", "cryptography",
            lambda m: m.public_pem)
    _recipe("c01-certificate.pem", 1, KEYLESS, "certificate PEM", "tests.pki",
            lambda m: m.cert_pem)


# -- class 2: text escapes around armor --------------------------------------------------------

def _php_json(pem: bytes) -> bytes:  # PHP json_encode: '/' -> '\/'
    return json.dumps({"name": "sensor1", "private_key": pem.decode()}).replace(
        "/", "\\/").encode()


def _dotnet_json(plus: str, newline: str) -> Callable[[bytes], bytes]:
    def encode(pem: bytes) -> bytes:  # System.Text.Json: '+' -> \u002B
        text = pem.decode().replace("+", plus).replace("\n", newline)
        return b'{"Name":"sensor1","PrivateKey":"' + text.encode() + b'"}'
    return encode


def _json_lines(pem: bytes) -> bytes:  # json.dumps(lines), no indent
    return json.dumps({"key_lines": pem.decode().splitlines()}).encode() + b"\n"


def _xml(reference: str) -> Callable[[bytes], bytes]:
    def encode(pem: bytes) -> bytes:
        text = pem.decode().replace("\n", reference)
        return (b'<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n  <add key="tls" '
                b'value="' + text.encode() + b'" />\n</configuration>\n')
    return encode


def _html_breaks(tag: str) -> Callable[[bytes], bytes]:
    def encode(pem: bytes) -> bytes:
        return (b"<html><body><p>Key for sensor1:</p><p>"
                + pem.decode().replace("\n", tag).encode() + b"</p></body></html>\n")
    return encode


def _url(quote: Callable[[str], str], lower: bool = False) -> Callable[[bytes], bytes]:
    def encode(pem: bytes) -> bytes:
        text = quote(pem.decode())
        if lower:
            text = re.sub(r"%[0-9A-F]{2}", lambda escape: escape.group().lower(), text)
        return b"POST /api/certificates\n\nname=sensor1&key=" + text.encode() + b"\n"
    return encode


def _quote_all(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def _python_bytes_lines(pem: bytes) -> bytes:
    body = "".join(f'    b"{line}\\n"\n' for line in pem.decode().splitlines())
    return f"SENSOR_KEY = (\n{body})\n".encode()


def _python_raw_lines(pem: bytes) -> bytes:
    body = "".join(f"    r'{line}',\n" for line in pem.decode().splitlines())
    return f'SENSOR_KEY = "\\n".join([\n{body}])\n'.encode()


def _js_concat(pem: bytes) -> bytes:
    lines = pem.decode().splitlines()
    body = " +\n  ".join(f'"{line}\\n"' for line in lines)
    return f"export const sensorKey =\n  {body};\n".encode()


def _js_concat_no_newlines(pem: bytes) -> bytes:
    lines = pem.decode().splitlines()
    body = " +\n  ".join(f"'{line}'" for line in lines)
    return f"const sensorKey =\n  {body};\nmodule.exports = sensorKey;\n".encode()


def _shell_echo(pem: bytes) -> bytes:
    lines = pem.decode().splitlines()
    out = [f'echo "{lines[0]}" > /etc/ssl/private/sensor1.key']
    out += [f'echo "{line}" >> /etc/ssl/private/sensor1.key' for line in lines[1:]]
    return ("#!/bin/sh\nset -e\n" + "\n".join(out) + "\n").encode()


def _shell_printf(pem: bytes) -> bytes:
    lines = pem.decode().splitlines()
    args = "".join(f"  '{line}' \\\n" for line in lines)
    return f"#!/bin/sh\nprintf '%s\\n' \\\n{args}  > sensor1.key\n".encode()


def _java_properties(pem: bytes) -> bytes:
    lines = pem.decode().splitlines()
    body = "\\n\\\n    ".join(lines)
    return f"server.port=8443\ntls.key={body}\\n\n".encode()


def _c_literals(pem: bytes) -> bytes:
    body = "".join(f'    "{line}\\n"\n' for line in pem.decode().splitlines())
    return f"static const char sensor_key[] =\n{body};\n".encode()


def _jq_lines(m: Materials, pem: bytes) -> bytes:  # jq -R -s -c 'split("\n")'
    return m.tool("jq", "-R", "-s", "-c", 'split("\\n")', data=pem)


CLASS2_ESCAPES: list[tuple[str, str, Callable[[bytes], bytes]]] = [
    ("php.json", "PHP json_encode: '\\/' escapes", _php_json),
    ("dotnet.json", ".NET System.Text.Json: '\\u002B' for '+', '\\n'",
     _dotnet_json("\\u002B", "\\n")),
    ("u000a.json", "'\\u000a' newlines, '\\u002B' plus", _dotnet_json("\\u002B", "\\u000a")),
    ("u000A.json", "'\\u000A' newlines, '\\u002b' plus", _dotnet_json("\\u002b", "\\u000A")),
    ("lines.json", "json.dumps(lines) without indent", _json_lines),
    ("entity10.config", "XML attribute with '&#10;' line breaks", _xml("&#10;")),
    ("entityxA.xml", "XML attribute with '&#xA;' line breaks", _xml("&#xA;")),
    ("entity1310.config", "XML attribute with '&#13;&#10;' line breaks", _xml("&#13;&#10;")),
    ("br.html", "HTML '<br>' line breaks", _html_breaks("<br>")),
    ("br-slash.html", "HTML '<br/>' line breaks", _html_breaks("<br/>")),
    ("urlencoded.http", "URL-encoded: %2B %2F %3D %0A %20", _url(_quote_all)),
    ("form.http", "form-encoded: '+' for space, %2B for plus", _url(urllib.parse.quote_plus)),
    ("url-lower.http", "URL-encoded with lower-case hex (%2b %2f %0a)",
     _url(_quote_all, lower=True)),
    ("bytes_lines.py", "Python: one b\"...\\n\" literal per line", _python_bytes_lines),
    ("raw_lines.py", "Python: one r'...' literal per line, joined", _python_raw_lines),
    ("concat.js", "JS: one \"...\\n\" + per line", _js_concat),
    ("concat-nolf.js", "JS: one '...' + per line, no newlines", _js_concat_no_newlines),
    ("provision.sh", "shell: echo \"...\" >> file per line", _shell_echo),
    ("printf.sh", "shell: printf '%s\\n' with one argument per line", _shell_printf),
    ("app.properties", "Java properties: '\\n\\' continuations", _java_properties),
    ("key.h", "C: adjacent string literals", _c_literals),
]


def _class2() -> None:
    for index, (slug, form, encode) in enumerate(CLASS2_ESCAPES):
        kind = ("pkcs1", "pkcs8")[index % 2]
        _recipe(f"c02-{slug}", 2, UNENCRYPTED, form, f"Python: escape the {kind} PEM",
                lambda m, e=encode, k=kind: e(m.pem(k)))
        stem, _, extension = slug.rpartition(".")
        _recipe(f"c02-{stem}-enc.{extension}", 2, ENCRYPTED, f"{form}, encrypted key",
                "Python: escape `openssl pkcs8 -topk8 -v2 aes-256-cbc` output",
                lambda m, e=encode: e(m.pem("enc_pkcs8")))
    _recipe("c02-jq.json", 2, UNENCRYPTED, "jq -c array of lines",
            "jq -R -s -c 'split(\"\\n\")' < pkcs8.pem", lambda m: _jq_lines(m, m.pem("pkcs8")))
    _recipe("c02-jq-enc.json", 2, ENCRYPTED, "jq -c array of lines, encrypted key",
            "jq -R -s -c 'split(\"\\n\")' < encrypted.pem",
            lambda m: _jq_lines(m, m.pem("enc_pkcs8")))
    placeholder = b"-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n"
    _recipe("c02-placeholder-php.json", 2, PLACEHOLDER, "PHP-escaped placeholder", "literal",
            lambda m: _php_json(placeholder))
    _recipe("c02-placeholder-url.http", 2, PLACEHOLDER, "URL-encoded placeholder", "literal",
            lambda m: _url(_quote_all)(placeholder))
    _recipe("c02-public-php.json", 2, PUBLIC, "PHP-escaped public key", "cryptography",
            lambda m: _php_json(m.public_pem))
    _recipe("c02-certificate-entity.xml", 2, KEYLESS, "certificate with '&#10;'", "tests.pki",
            lambda m: _xml("&#10;")(m.cert_pem))


# -- class 3: text encodings -------------------------------------------------------------------

def _crlf(pem: bytes) -> bytes:
    return pem.replace(b"\n", b"\r\n")


CLASS3_ENCODINGS: list[tuple[str, str, Callable[[bytes], bytes]]] = [
    ("ps5.pem", "UTF-16LE with BOM and CRLF (PowerShell 5 `>`)",
     lambda pem: b"\xff\xfe" + _crlf(pem).decode().encode("utf-16-le")),
    ("utf16le.key", "UTF-16LE without BOM", lambda pem: pem.decode().encode("utf-16-le")),
    ("utf16be-bom.key", "UTF-16BE with BOM",
     lambda pem: b"\xfe\xff" + pem.decode().encode("utf-16-be")),
    ("utf16be.key", "UTF-16BE without BOM", lambda pem: pem.decode().encode("utf-16-be")),
    ("utf32le-bom.key", "UTF-32LE with BOM",
     lambda pem: b"\xff\xfe\x00\x00" + pem.decode().encode("utf-32-le")),
    ("utf32be.key", "UTF-32BE without BOM", lambda pem: pem.decode().encode("utf-32-be")),
]


def _yaml_block(pem: bytes) -> bytes:
    body = "".join(f"    {line}\n" for line in pem.decode().splitlines())
    return f"tls:\n  certificate: sensor1.crt\n  key: |\n{body}".encode()


def _class3() -> None:
    for index, (slug, form, encode) in enumerate(CLASS3_ENCODINGS):
        kind = ("pkcs1", "pkcs8")[index % 2]
        _recipe(f"c03-{slug}", 3, UNENCRYPTED, form, f"Python: str.encode of the {kind} PEM",
                lambda m, e=encode, k=kind: e(m.pem(k)))
        if index in (0, 3, 4):
            stem, _, extension = slug.rpartition(".")
            _recipe(f"c03-{stem}-enc.{extension}", 3, ENCRYPTED, f"{form}, encrypted key",
                    "Python: str.encode of `openssl pkcs8 -topk8` output",
                    lambda m, e=encode: e(m.pem("enc_pkcs8")))
    _recipe("c03-values-utf16.yaml", 3, UNENCRYPTED, "YAML block scalar in UTF-16LE with BOM",
            "Python", lambda m: b"\xff\xfe" + _yaml_block(m.pem("sec1")).decode().encode(
                "utf-16-le"))
    _recipe("c03-values-utf16-enc.yaml", 3, ENCRYPTED, "YAML in UTF-16LE, encrypted key",
            "Python", lambda m: b"\xff\xfe" + _yaml_block(m.pem("enc_sec1")).decode().encode(
                "utf-16-le"))
    _recipe("c03-certificate-utf16.pem", 3, KEYLESS, "certificate in UTF-16LE with BOM",
            "tests.pki", lambda m: b"\xff\xfe" + m.cert_pem.decode().encode("utf-16-le"))
    _recipe("c03-public-utf16be.pem", 3, PUBLIC, "public key in UTF-16BE", "cryptography",
            lambda m: m.public_pem.decode().encode("utf-16-be"))


# -- class 4: transport encodings --------------------------------------------------------------

def _base64_tool(m: Materials, data: bytes, *width: str) -> bytes:
    return m.tool("base64", *width, data=data)


def _pfx(m: Materials, *options: str) -> bytes:
    key = m.file("pfx-key.pem", m.pem("pkcs1"))
    certificate = m.file("pfx-cert.pem", m.cert_pem)
    return m.tool("openssl", "pkcs12", "-export", "-inkey", str(key), "-in", str(certificate),
                  *options)


def _pfx_cached(m: Materials, name: str, *options: str) -> bytes:
    return m.cached(f"pfx:{name}", lambda: _pfx(m, *options))


PFX_EMPTY = ("-passout", "pass:")
PFX_NODES = ("-keypbe", "NONE", "-certpbe", "NONE", "-passout", "pass:")
PFX_NOMAC = ("-nomac", "-passout", "pass:")
PFX_PASS = ("-passout", f"pass:{PASS}")


def _azure_pfx(pfx: bytes) -> bytes:
    return json.dumps({"properties": {"certificate": {
        "CertificateBase64": base64.b64encode(pfx).decode(), "CertificatePassword": ""}}},
        indent=2).encode()


def _k8s_pfx(pfx: bytes) -> bytes:
    return (b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: sensor1-pfx\ntype: Opaque\n"
            b"data:\n  tls.pfx: " + base64.b64encode(pfx) + b"\n")


def _hex_colons(der: bytes) -> bytes:
    pairs = [f"{byte:02x}" for byte in der]
    return "".join("    " + ":".join(pairs[i:i + 15]) + ":\n"
                   for i in range(0, len(pairs), 15)).encode()


def _hex_spaced_upper(der: bytes) -> bytes:
    return b"".join(b"%08X  %s\n" % (offset, " ".join(f"{b:02X}" for b in der[offset:offset + 16])
                                     .encode()) for offset in range(0, len(der), 16))


def _node_buffer(der: bytes) -> bytes:  # JSON.stringify(buffer)
    return json.dumps({"type": "Buffer", "data": list(der)}, separators=(",", ":")).encode()


def _class4() -> None:
    for name, label, kind, width, form in (
            ("c04-b64w76.txt", UNENCRYPTED, "pkcs8", "76", "base64 -w 76 of a PEM file"),
            ("c04-b64w64.txt", UNENCRYPTED, "pkcs1", "64", "base64 -w 64 of a PEM file"),
            ("c04-b64w76-enc.txt", ENCRYPTED, "enc_pkcs8", "76",
             "base64 -w 76 of an encrypted PEM file")):
        _recipe(name, 4, label, form, f"base64 -w {width} {kind}.pem",
                lambda m, k=kind, w=width: _base64_tool(m, m.pem(k), "-w", w))
    for name, label, kind, prefix in (
            ("c04-b64-offset1.txt", UNENCRYPTED, "pkcs1", b"# sensor1\n"),
            ("c04-b64-offset2.txt", UNENCRYPTED, "pkcs8", b"# sensor12\n"),
            ("c04-b64-offset1-enc.txt", ENCRYPTED, "enc_pkcs8", b"# sensor1\n")):
        _recipe(name, 4, label, f"base64 of a file whose key starts at offset "
                f"{len(prefix) % 3} mod 3", "base64 -w 0 of (comment line + PEM)",
                lambda m, k=kind, p=prefix: _base64_tool(m, p + m.pem(k), "-w", "0"))
    _recipe("c04-double-b64.txt", 4, UNENCRYPTED, "base64 of base64 of a PEM file",
            "Python base64 twice", lambda m: base64.b64encode(base64.b64encode(m.pem("pkcs1"))))
    _recipe("c04-double-b64-enc.txt", 4, ENCRYPTED, "base64 twice, encrypted key",
            "Python base64 twice",
            lambda m: base64.b64encode(base64.b64encode(m.pem("enc_pkcs8"))))
    _recipe("c04-b64url.txt", 4, UNENCRYPTED, "base64url of a PEM file, no padding",
            "Python urlsafe_b64encode",
            lambda m: base64.urlsafe_b64encode(m.pem("pkcs8")).rstrip(b"="))
    _recipe("c04-b64url-enc.txt", 4, ENCRYPTED, "base64url of an encrypted PEM file",
            "Python urlsafe_b64encode",
            lambda m: base64.urlsafe_b64encode(m.pem("enc_pkcs8")).rstrip(b"="))
    _recipe("c04-b64url-der.json", 4, UNENCRYPTED, "base64url of PKCS#8 DER in JSON",
            "Python urlsafe_b64encode", lambda m: json.dumps(
                {"kid": "sensor1", "pkcs8": base64.urlsafe_b64encode(m.der("pkcs8")).decode()
                 .rstrip("=")}).encode())
    _recipe("c04-azure-pfx.json", 4, UNENCRYPTED, "Azure CertificateBase64 of a PFX, empty "
            "password", "openssl pkcs12 -export -passout pass: | base64",
            lambda m: _azure_pfx(_pfx_cached(m, "empty", *PFX_EMPTY)))
    _recipe("c04-tls-pfx.yaml", 4, UNENCRYPTED, "Kubernetes tls.pfx, key and certificate bags "
            "not encrypted", "openssl pkcs12 -export -keypbe NONE -certpbe NONE -passout pass:",
            lambda m: _k8s_pfx(_pfx_cached(m, "nodes", *PFX_NODES)))
    _recipe("c04-pfx-nomac.b64", 4, UNENCRYPTED, "base64 of a PFX with no MAC, empty password",
            "openssl pkcs12 -export -nomac -passout pass: | base64 -w 76",
            lambda m: _base64_tool(m, _pfx_cached(m, "nomac", *PFX_NOMAC), "-w", "76"))
    _recipe("c04-azure-pfx-enc.json", 4, ENCRYPTED, "Azure CertificateBase64 of a PFX with "
            "a password", "openssl pkcs12 -export -passout pass:...",
            lambda m: _azure_pfx(_pfx_cached(m, "pass", *PFX_PASS)))

    def xxd(*options: str, kind: str, pem: bool = False, name: str = "key.der") -> Make:
        def make(m: Materials) -> bytes:
            data = m.pem(kind) if pem else m.der(kind)
            m.file(name, data)
            return m.tool("xxd", *options, name)
        return make

    _recipe("c04-xxd-p-der.hex", 4, UNENCRYPTED, "xxd -p of PKCS#8 DER", "xxd -p key.der",
            xxd("-p", kind="pkcs8"))
    _recipe("c04-xxd-p-pem.hex", 4, UNENCRYPTED, "xxd -p of a PEM file", "xxd -p key.pem",
            xxd("-p", kind="pkcs1", pem=True, name="key.pem"))
    _recipe("c04-xxd-oneline.hex", 4, UNENCRYPTED, "xxd -p -c 0 (one line) of PKCS#1 DER",
            "xxd -p -c 0 key.der", xxd("-p", "-c", "0", kind="pkcs1"))
    _recipe("c04-xxd-p-enc.hex", 4, ENCRYPTED, "xxd -p of encrypted PKCS#8 DER",
            "xxd -p key.der", xxd("-p", kind="enc_pkcs8"))
    _recipe("c04-xxd-oneline-enc.hex", 4, ENCRYPTED, "xxd -p -c 0 of encrypted DER",
            "xxd -p -c 0 key.der", xxd("-p", "-c", "0", kind="enc_pkcs8"))
    _recipe("c04-hex-colons.txt", 4, UNENCRYPTED, "hex with ':' separators, 15 per line",
            "Python", lambda m: _hex_colons(m.der("pkcs8")))
    _recipe("c04-hex-dump.txt", 4, UNENCRYPTED, "upper-case hex dump with offsets and spaces",
            "Python", lambda m: _hex_spaced_upper(m.der("pkcs1")))
    _recipe("c04-openssl-text.txt", 4, UNENCRYPTED, "openssl pkey -text -noout (the private "
            "numbers in aa:bb: hex)", "openssl pkey -in key.pem -text -noout",
            lambda m: m.tool("openssl", "pkey", "-in", str(m.file("t.pem", m.pem("pkcs1"))),
                             "-text", "-noout"))
    _recipe("c04-key_der.h", 4, UNENCRYPTED, "xxd -i of PKCS#8 DER (C array)", "xxd -i key.der",
            xxd("-i", kind="pkcs8"))
    _recipe("c04-key_pem.h", 4, UNENCRYPTED, "xxd -i of a PEM file (C array)", "xxd -i key.pem",
            xxd("-i", kind="sec1", pem=True, name="key.pem"))
    _recipe("c04-key_der-enc.h", 4, ENCRYPTED, "xxd -i of encrypted DER", "xxd -i key.der",
            xxd("-i", kind="enc_pkcs8"))
    _recipe("c04-der_literal.py", 4, UNENCRYPTED, "Python repr() of PKCS#1 DER bytes",
            "Python repr", lambda m: b"KEY_DER = " + repr(m.der("pkcs1")).encode() + b"\n")
    _recipe("c04-der_literal-enc.py", 4, ENCRYPTED, "Python repr() of encrypted DER",
            "Python repr", lambda m: b"KEY_DER = " + repr(m.der("enc_pkcs8")).encode() + b"\n")
    _recipe("c04-buffer.json", 4, UNENCRYPTED, "Node JSON.stringify(Buffer) of PKCS#8 DER",
            "Python json of the byte list", lambda m: _node_buffer(m.der("pkcs8")))

    _recipe("c04-b64-certificate.txt", 4, KEYLESS, "base64 -w 76 of a certificate PEM",
            "base64 -w 76 cert.pem", lambda m: _base64_tool(m, m.cert_pem, "-w", "76"))
    _recipe("c04-xxd-certificate.h", 4, KEYLESS, "xxd -i of a certificate DER",
            "xxd -i cert.der", lambda m: m.tool("xxd", "-i", str(m.file("cert.der",
                                                                       m.cert_der).name)))
    _recipe("c04-x509-text.txt", 4, PUBLIC, "openssl x509 -text (public modulus in aa:bb:)",
            "openssl x509 -text -noout", lambda m: m.tool(
                "openssl", "x509", "-in", str(m.file("cert.pem", m.cert_pem)), "-text",
                "-noout"))
    _recipe("c04-b64-random.txt", 4, KEYLESS, "base64 -w 76 of random bytes",
            "base64 -w 76", lambda m: _base64_tool(m, os.urandom(1800), "-w", "76"))
    _recipe("c04-digests.hex", 4, KEYLESS, "a list of SHA-256 digests in hex", "hashlib",
            lambda m: b"".join(hashlib.sha256(bytes([i])).hexdigest().encode() + b"  f%d\n" % i
                               for i in range(40)))


# -- class 5: DER inside other bytes -----------------------------------------------------------

def _class5() -> None:
    _recipe("c05-key-then-cert.der", 5, UNENCRYPTED, "PKCS#1 DER then certificate DER",
            "cat key.der cert.der", lambda m: m.der("pkcs1") + m.cert_der)
    _recipe("c05-cert-then-key.der", 5, UNENCRYPTED, "certificate DER then PKCS#8 DER",
            "cat cert.der key.der", lambda m: m.cert_der + m.der("pkcs8"))
    _recipe("c05-header.bin", 5, UNENCRYPTED, "an 8-byte header, a length, PKCS#8 DER",
            "Python", lambda m: b"CWKEY\x00\x01\x00" + struct.pack(">I", len(m.der("pkcs8")))
            + m.der("pkcs8"))
    _recipe("c05-trailing-text.der", 5, UNENCRYPTED, "PKCS#1 DER then a text line",
            "Python", lambda m: m.der("pkcs1") + b"\n# exported by keytool 1.2\n")
    _recipe("c05-firmware.img", 5, UNENCRYPTED, "SEC1 DER between 4 KiB of random bytes",
            "Python", lambda m: m.cached("c05-firmware-noise", lambda: os.urandom(4096))
            + m.der("sec1") + m.cached("c05-firmware-tail", lambda: os.urandom(4096)))
    _recipe("c05-padded.bin", 5, UNENCRYPTED, "PKCS#8 DER zero-padded to a 4 KiB block",
            "Python", lambda m: m.der("pkcs8").ljust(4096, b"\0"))
    _recipe("c05-ed25519-blob.bin", 5, UNENCRYPTED, "Ed25519 PKCS#8 DER (48 bytes) between "
            "other bytes", "Python", lambda m: b"\x00\x17blob" + os.urandom(37)
            + m.der("ed25519") + b"\xff" * 20)
    _recipe("c05-enc-then-cert.der", 5, ENCRYPTED, "encrypted PKCS#8 DER then certificate DER",
            "cat enc.der cert.der", lambda m: m.der("enc_pkcs8") + m.cert_der)
    _recipe("c05-header-enc.bin", 5, ENCRYPTED, "a header then encrypted PKCS#8 DER", "Python",
            lambda m: b"CWKEY\x00\x01\x00" + struct.pack(">I", len(m.der("enc_pkcs8")))
            + m.der("enc_pkcs8"))
    _recipe("c05-cert-trailing.der", 5, KEYLESS, "certificate DER then text", "Python",
            lambda m: m.cert_der + b"\n# sensor1\n")
    _recipe("c05-spki-trailing.der", 5, PUBLIC, "SubjectPublicKeyInfo DER then text",
            "Python", lambda m: m.rsa.public_key().public_bytes(
                E.DER, serialization.PublicFormat.SubjectPublicKeyInfo) + b"\npublic\n")
    _recipe("c05-chain.der", 5, KEYLESS, "two certificates' DER concatenated", "Python",
            lambda m: m.cert_der + pki.der(pki.certificate(pki.Spec(ca=True))))


# -- class 6: formats not read -----------------------------------------------------------------

def _gpg_home(m: Materials, protected: bool) -> Path:
    """A temporary GNUPGHOME with an Ed25519 primary key and a Curve25519 subkey."""
    def make() -> bytes:
        home = m.folder / ("gnupg-protected" if protected else "gnupg-plain")
        home.mkdir(mode=0o700, exist_ok=True)
        base = _gpg_base(home, protected)
        try:
            m.tool(*base, "--quick-gen-key", "Adversary <adversary@example.invalid>",
                   "ed25519", "sign", "never")
            fingerprint = _gpg_colons(m, home, "fpr")[0]
            m.tool(*base, "--quick-add-key", fingerprint, "cv25519", "encr", "never")
        finally:
            subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"],
                           capture_output=True, check=False)
        return str(home).encode()
    return Path(m.cached(f"gpg-home:{protected}", make).decode())


def _gpg_base(home: Path, protected: bool) -> list[str]:
    return ["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback",
            "--passphrase", PASS if protected else ""]


def _gpg_colons(m: Materials, home: Path, record: str) -> list[str]:
    listing = m.tool("gpg", "--homedir", str(home), "--batch", "--with-colons",
                     "--with-keygrip", "--list-secret-keys").decode()
    return [line.split(":")[9] for line in listing.splitlines()
            if line.startswith(record + ":")]


def _gpg_export(m: Materials, protected: bool, *options: str) -> bytes:
    home = _gpg_home(m, protected)
    try:
        return m.tool(*_gpg_base(home, protected), *options)
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"],
                       capture_output=True, check=False)


def _gpg_agent_file(m: Materials, protected: bool, index: int) -> bytes:
    home = _gpg_home(m, protected)
    grip = _gpg_colons(m, home, "grp")[index]  # 0: primary key, 1: subkey
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True,
                   check=False)
    return (home / "private-keys-v1.d" / f"{grip}.key").read_bytes()


def _b64url_int(value: int, length: int | None = None) -> str:
    raw = value.to_bytes(length or max(1, (value.bit_length() + 7) // 8), "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _rsa_jwk(key: rsa.RSAPrivateKey, private: bool = True) -> dict[str, str]:
    numbers = key.private_numbers()
    jwk = {"kty": "RSA", "kid": "sensor1", "n": _b64url_int(numbers.public_numbers.n),
           "e": _b64url_int(numbers.public_numbers.e)}
    if private:
        jwk.update(d=_b64url_int(numbers.d), p=_b64url_int(numbers.p),
                   q=_b64url_int(numbers.q), dp=_b64url_int(numbers.dmp1),
                   dq=_b64url_int(numbers.dmq1), qi=_b64url_int(numbers.iqmp))
    return jwk


def _ec_jwk(key: ec.EllipticCurvePrivateKey, private: bool = True) -> dict[str, str]:
    numbers = key.private_numbers()
    jwk = {"kty": "EC", "crv": "P-256", "x": _b64url_int(numbers.public_numbers.x, 32),
           "y": _b64url_int(numbers.public_numbers.y, 32)}
    if private:
        jwk["d"] = _b64url_int(numbers.private_value, 32)
    return jwk


def _okp_jwk(key: ed25519.Ed25519PrivateKey) -> dict[str, str]:
    raw_public = key.public_key().public_bytes(E.Raw, serialization.PublicFormat.Raw)
    raw_private = key.private_bytes(E.Raw, F.Raw, NO)
    return {"kty": "OKP", "crv": "Ed25519",
            "x": base64.urlsafe_b64encode(raw_public).rstrip(b"=").decode(),
            "d": base64.urlsafe_b64encode(raw_private).rstrip(b"=").decode()}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwe_pbes2(plaintext: bytes, password: bytes) -> bytes:
    """A JWE in flattened JSON, PBES2-HS256+A128KW / A256GCM (as `step crypto jwk create`
    stores a private JWK), built with cryptography by construction."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
    from cryptography.hazmat.primitives.keywrap import aes_key_wrap

    salt_input, iterations = os.urandom(16), 100_000
    header = {"alg": "PBES2-HS256+A128KW", "enc": "A256GCM", "cty": "jwk+json",
              "p2c": iterations, "p2s": _b64url(salt_input)}
    protected = _b64url(json.dumps(header, separators=(",", ":")).encode())
    kek = PBKDF2HMAC(hashes.SHA256(), 16, b"PBES2-HS256+A128KW\0" + salt_input,
                     iterations).derive(password)
    cek, iv = os.urandom(32), os.urandom(12)
    sealed = AESGCM(cek).encrypt(iv, plaintext, protected.encode())
    return json.dumps({"protected": protected, "encrypted_key": _b64url(aes_key_wrap(kek, cek)),
                       "iv": _b64url(iv), "ciphertext": _b64url(sealed[:-16]),
                       "tag": _b64url(sealed[-16:])}, indent=2).encode()


def _rsa_key_value(key: rsa.RSAPrivateKey, private: bool = True) -> bytes:
    """RSA.ToXmlString(includePrivateParameters) as .NET writes it."""
    numbers = key.private_numbers()
    size = (numbers.public_numbers.n.bit_length() + 7) // 8

    def b64(value: int, length: int) -> str:
        return base64.b64encode(value.to_bytes(length, "big")).decode()

    parts = [f"<Modulus>{b64(numbers.public_numbers.n, size)}</Modulus>",
             f"<Exponent>{b64(numbers.public_numbers.e, 3)}</Exponent>"]
    if private:
        half = size // 2
        parts += [f"<P>{b64(numbers.p, half)}</P>", f"<Q>{b64(numbers.q, half)}</Q>",
                  f"<DP>{b64(numbers.dmp1, half)}</DP>", f"<DQ>{b64(numbers.dmq1, half)}</DQ>",
                  f"<InverseQ>{b64(numbers.iqmp, half)}</InverseQ>",
                  f"<D>{b64(numbers.d, size)}</D>"]
    return ("<RSAKeyValue>" + "".join(parts) + "</RSAKeyValue>").encode()


# bech32 (BIP 173), as age writes its keys
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"  # pragma: allowlist secret (the alphabet)


def _bech32_polymod(values: list[int]) -> int:
    generator = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    check = 1
    for value in values:
        top = check >> 25
        check = (check & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            check ^= generator[i] if (top >> i) & 1 else 0
    return check


def bech32_encode(hrp: str, data: bytes) -> str:
    bits, accumulator, five = 0, 0, []
    for byte in data:
        accumulator = (accumulator << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            five.append((accumulator >> bits) & 31)
    if bits:
        five.append((accumulator << (5 - bits)) & 31)
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    polymod = _bech32_polymod([*expanded, *five, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_BECH32[d] for d in five + checksum)


def _age_identity(m: Materials) -> tuple[str, str]:
    raw = m.cached("age-raw", lambda: os.urandom(32))
    public = x25519.X25519PrivateKey.from_private_bytes(raw).public_key().public_bytes(
        E.Raw, serialization.PublicFormat.Raw)
    return bech32_encode("age-secret-key-", raw).upper(), bech32_encode("age", public)


def _age_keygen_file(m: Materials) -> bytes:
    secret, public = _age_identity(m)
    return (f"# created: 2026-06-01T00:00:00Z\n# public key: {public}\n{secret}\n").encode()


def _age_passphrase_encrypt(plaintext: bytes, passphrase: bytes) -> bytes:
    """age -p -a, built with cryptography by construction (scrypt recipient, STREAM)."""
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    def b64(data: bytes) -> str:
        return base64.b64encode(data).rstrip(b"=").decode()

    file_key, salt, log_n = os.urandom(16), os.urandom(16), 15
    wrap_key = Scrypt(b"age-encryption.org/v1/scrypt" + salt, 32, 2 ** log_n, 8, 1).derive(
        passphrase)
    wrapped = ChaCha20Poly1305(wrap_key).encrypt(bytes(12), file_key, None)
    header = f"age-encryption.org/v1\n-> scrypt {b64(salt)} {log_n}\n{b64(wrapped)}\n---"
    mac_key = HKDF(hashes.SHA256(), 32, b"", b"header").derive(file_key)
    mac = hmac.new(mac_key, header.encode(), hashlib.sha256).digest()
    nonce = os.urandom(16)
    payload_key = HKDF(hashes.SHA256(), 32, nonce, b"payload").derive(file_key)
    chunk = ChaCha20Poly1305(payload_key).encrypt(bytes(11) + b"\x01", plaintext, None)
    binary = f"{header} {b64(mac)}\n".encode() + nonce + chunk
    return armor("AGE ENCRYPTED FILE", binary)


def _wireguard(m: Materials) -> tuple[str, str]:
    raw = m.cached("wg-raw", lambda: x25519.X25519PrivateKey.generate().private_bytes(
        E.Raw, F.Raw, NO))
    public = x25519.X25519PrivateKey.from_private_bytes(raw).public_key().public_bytes(
        E.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode(), base64.b64encode(public).decode()


def _openvpn_static(m: Materials) -> bytes:
    key = m.cached("ovpn-raw", lambda: os.urandom(256))
    lines = [key[i:i + 16].hex() for i in range(0, 256, 16)]
    return ("#\n# 2048 bit OpenVPN static key\n#\n-----BEGIN OpenVPN Static key V1-----\n"
            + "\n".join(lines) + "\n-----END OpenVPN Static key V1-----\n").encode()


def _archive(m: Materials, name: str, members: dict[str, bytes], *command: str) -> bytes:
    """Write members into a fresh folder, run the archiver there, return the archive."""
    folder = m.work / f"archive-{name}"
    shutil.rmtree(folder, ignore_errors=True)
    for member, data in members.items():
        target = folder / member
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    m.tool(*command, cwd=folder)
    return (folder / name).read_bytes()


def _compress(tool: str, kind: str) -> Make:
    return lambda m: m.tool(tool, "-c", data=m.pem(kind))


def _class6() -> None:
    _recipe("c06-secret.gpg", 6, UNENCRYPTED, "binary OpenPGP secret keys, no passphrase",
            "gpg --passphrase '' --quick-gen-key; gpg --export-secret-keys > key.gpg",
            lambda m: _gpg_export(m, False, "--export-secret-keys"))
    _recipe("c06-secret-subkeys.gpg", 6, UNENCRYPTED, "binary OpenPGP secret subkeys (primary "
            "stubbed), no passphrase", "gpg --export-secret-subkeys > subkeys.gpg",
            lambda m: _gpg_export(m, False, "--export-secret-subkeys"))
    _recipe("c06-secret-protected.gpg", 6, ENCRYPTED, "binary OpenPGP secret keys with a "
            "passphrase", "gpg --passphrase ... --export-secret-keys > key.gpg",
            lambda m: _gpg_export(m, True, "--export-secret-keys"))
    _recipe("c06-public.gpg", 6, PUBLIC, "binary OpenPGP public keys", "gpg --export > pub.gpg",
            lambda m: _gpg_export(m, False, "--export"))
    _recipe("c06-agent-primary.key", 6, UNENCRYPTED, "gpg-agent private-keys-v1.d file, no "
            "passphrase ('(private-key')", "copied from the temporary GNUPGHOME",
            lambda m: _gpg_agent_file(m, False, 0))
    _recipe("c06-agent-subkey.key", 6, UNENCRYPTED, "gpg-agent key file of the Curve25519 "
            "subkey, no passphrase", "copied from the temporary GNUPGHOME",
            lambda m: _gpg_agent_file(m, False, 1))
    _recipe("c06-agent-protected.key", 6, ENCRYPTED, "gpg-agent key file with a passphrase "
            "('(protected-private-key')", "copied from the temporary GNUPGHOME",
            lambda m: _gpg_agent_file(m, True, 0))

    def jwk_json(document: Callable[[Materials], object]) -> Make:
        return lambda m: json.dumps(document(m), indent=2).encode() + b"\n"

    _recipe("c06-rsa.jwk", 6, UNENCRYPTED, "RSA JWK with d, p, q, dp, dq, qi",
            "cryptography numbers, base64url", jwk_json(lambda m: _rsa_jwk(m.rsa)))
    _recipe("c06-ec.jwk", 6, UNENCRYPTED, "EC P-256 JWK with d", "cryptography numbers",
            jwk_json(lambda m: _ec_jwk(m.ec)))
    _recipe("c06-okp.jwk", 6, UNENCRYPTED, "OKP Ed25519 JWK with d", "cryptography raw bytes",
            jwk_json(lambda m: _okp_jwk(m.ed)))
    _recipe("c06-jwks.json", 6, UNENCRYPTED, "JWKS with a private EC key, compact",
            "cryptography numbers", lambda m: json.dumps(
                {"keys": [_rsa_jwk(m.rsa, private=False), _ec_jwk(m.ec)]},
                separators=(",", ":")).encode())
    _recipe("c06-jwk-public.json", 6, PUBLIC, "RSA JWK without d", "cryptography numbers",
            jwk_json(lambda m: _rsa_jwk(m.rsa, private=False)))
    _recipe("c06-jwks-public.json", 6, PUBLIC, "JWKS of public keys", "cryptography numbers",
            jwk_json(lambda m: {"keys": [_rsa_jwk(m.rsa, private=False),
                                         _ec_jwk(m.ec, private=False)]}))
    _recipe("c06-jwk-encrypted.json", 6, ENCRYPTED, "private RSA JWK inside a PBES2 JWE "
            "(step-cli style)", "cryptography: PBKDF2 + AES key wrap + AES-GCM",
            lambda m: _jwe_pbes2(json.dumps(_rsa_jwk(m.rsa)).encode(), PASS.encode()))
    _recipe("c06-rsakeyvalue.xml", 6, UNENCRYPTED, ".NET RSA.ToXmlString(true)",
            "cryptography numbers, base64", lambda m: _rsa_key_value(m.rsa))
    _recipe("c06-rsakeyvalue-public.xml", 6, PUBLIC, ".NET RSA.ToXmlString(false)",
            "cryptography numbers, base64", lambda m: _rsa_key_value(m.rsa, private=False))
    _recipe("c06-age-key.txt", 6, UNENCRYPTED, "age-keygen output (AGE-SECRET-KEY-1...)",
            "bech32 of 32 random bytes, as age-keygen writes it", _age_keygen_file)
    _recipe("c06-sops.env", 6, UNENCRYPTED, "SOPS_AGE_KEY=AGE-SECRET-KEY-1... in a .env",
            "bech32", lambda m: f"SOPS_AGE_KEY={_age_identity(m)[0]}\n".encode())
    _recipe("c06-age-recipients.txt", 6, PUBLIC, "age recipients (age1...)", "bech32",
            lambda m: f"# sensor team\n{_age_identity(m)[1]}\n".encode())
    _recipe("c06-age-key.txt.age", 6, ENCRYPTED, "age-keygen output encrypted with age -p -a",
            "cryptography: scrypt + ChaCha20-Poly1305 (age v1 format)",
            lambda m: _age_passphrase_encrypt(_age_keygen_file(m), PASS.encode()))
    _recipe("c06-wg0.conf", 6, UNENCRYPTED, "WireGuard [Interface] PrivateKey = ...",
            "X25519 raw bytes, base64", lambda m: (
                f"[Interface]\nAddress = 10.8.0.2/24\nPrivateKey = {_wireguard(m)[0]}\n"
                f"ListenPort = 51820\n\n[Peer]\nPublicKey = {_wireguard(m)[1]}\n"
                "Endpoint = vpn.example.invalid:51820\nAllowedIPs = 10.8.0.0/24\n").encode())
    _recipe("c06-wg.netdev", 6, UNENCRYPTED, "systemd-networkd PrivateKey=...",
            "X25519 raw bytes, base64", lambda m: (
                "[NetDev]\nName=wg0\nKind=wireguard\n\n[WireGuard]\n"
                f"PrivateKey={_wireguard(m)[0]}\nListenPort=51820\n").encode())
    _recipe("c06-wg-peers.conf", 6, PUBLIC, "WireGuard peers: PublicKey = only",
            "X25519 raw bytes, base64", lambda m: (
                f"[Peer]\nPublicKey = {_wireguard(m)[1]}\nAllowedIPs = 10.8.0.0/24\n").encode())
    _recipe("c06-wg-keyfile.netdev", 6, KEYLESS, "systemd-networkd PrivateKeyFile= path",
            "literal", lambda m: b"[WireGuard]\nPrivateKeyFile=/etc/systemd/network/wg0.key\n")
    _recipe("c06-ta.key", 6, UNENCRYPTED, "OpenVPN static key V1 (openvpn --genkey)",
            "16 lines of hex from 256 random bytes", _openvpn_static)
    _recipe("c06-client.ovpn", 6, UNENCRYPTED, "OpenVPN profile with an inline <tls-crypt>",
            "literal + static key", lambda m: b"client\ndev tun\nremote vpn.example.invalid\n"
            b"<tls-crypt>\n" + _openvpn_static(m) + b"</tls-crypt>\n")
    _recipe("c06-client-ref.ovpn", 6, KEYLESS, "OpenVPN profile naming its key file",
            "literal", lambda m: b"client\ndev tun\ntls-crypt ta.key\nca ca.crt\n")
    _recipe("c06-ta-placeholder.md", 6, PLACEHOLDER, "OpenVPN static key placeholder",
            "literal", lambda m: b"```\n-----BEGIN OpenVPN Static key V1-----\n...\n"
            b"-----END OpenVPN Static key V1-----\n```\n")

    _recipe("c06-key.pem.gz", 6, UNENCRYPTED, "gzip of a PEM key", "gzip -c key.pem",
            _compress("gzip", "pkcs1"))
    _recipe("c06-key.pem.bz2", 6, UNENCRYPTED, "bzip2 of a PEM key", "bzip2 -c key.pem",
            _compress("bzip2", "pkcs8"))
    _recipe("c06-key.pem.xz", 6, UNENCRYPTED, "xz of a PEM key", "xz -c key.pem",
            _compress("xz", "sec1"))
    _recipe("c06-key-enc.pem.gz", 6, ENCRYPTED, "gzip of an encrypted PEM key",
            "gzip -c enc.pem", _compress("gzip", "enc_pkcs8"))
    bundle = {"README.md": b"sensor1 bundle\n"}
    _recipe("c06-bundle.zip", 6, UNENCRYPTED, "zip holding keys/server.key", "zip -q -r",
            lambda m: _archive(m, "bundle.zip", {**bundle, "keys/server.key": m.pem("pkcs1")},
                               "zip", "-q", "-X", "-r", "bundle.zip", "README.md", "keys"))
    _recipe("c06-bundle-enc.zip", 6, ENCRYPTED, "zip holding an encrypted keys/server.key and "
            "its certificate", "zip -q -r", lambda m: _archive(
                m, "bundle.zip", {**bundle, "keys/server.key": m.pem("enc_pkcs8"),
                                  "keys/server.crt": m.cert_pem},
                "zip", "-q", "-X", "-r", "bundle.zip", "README.md", "keys"))
    _recipe("c06-bundle.tar", 6, UNENCRYPTED, "tar holding keys/server.key", "tar -cf",
            lambda m: _archive(m, "bundle.tar", {**bundle, "keys/server.key": m.pem("pkcs8")},
                               "tar", "-cf", "bundle.tar", "README.md", "keys"))
    _recipe("c06-bundle.tar.gz", 6, UNENCRYPTED, "tar.gz holding keys/server.key", "tar -czf",
            lambda m: _archive(m, "bundle.tar.gz", {**bundle,
                                                    "keys/server.key": m.pem("pkcs1")},
                               "tar", "-czf", "bundle.tar.gz", "README.md", "keys"))
    _recipe("c06-bundle-enc.tar.gz", 6, ENCRYPTED, "tar.gz holding an encrypted key",
            "tar -czf", lambda m: _archive(
                m, "bundle.tar.gz", {**bundle, "keys/server.key": m.pem("enc_pkcs8")},
                "tar", "-czf", "bundle.tar.gz", "README.md", "keys"))
    _recipe("c06-nested.tar.gz", 6, UNENCRYPTED, "tar.gz holding a zip holding a DER key",
            "zip, then tar -czf", lambda m: _archive(
                m, "nested.tar.gz", {"inner.zip": _archive(
                    m, "inner.zip", {"server.der": m.der("pkcs8")}, "zip", "-q", "-X",
                    "inner.zip", "server.der")}, "tar", "-czf", "nested.tar.gz", "inner.zip"))
    _recipe("c06-certificates.zip", 6, KEYLESS, "zip of a certificate and a README",
            "zip -q -r", lambda m: _archive(m, "certs.zip", {**bundle, "sensor1.crt": m.cert_pem},
                                            "zip", "-q", "-X", "certs.zip", "README.md",
                                            "sensor1.crt"))
    _recipe("c06-docs.tar.gz", 6, KEYLESS, "tar.gz of documentation", "tar -czf",
            lambda m: _archive(m, "docs.tar.gz", {"docs/index.md": b"# Docs\n" * 50},
                               "tar", "-czf", "docs.tar.gz", "docs"))


# -- class 7: protection that protects nothing -------------------------------------------------

def _legacy_pem_empty(der: bytes, cipher: str) -> bytes:
    """Legacy PEM encryption with the empty passphrase. openssl refuses to write it
    (`openssl rsa -aes256 -passout pass:` -> "read key" error) and cryptography wants a
    non-empty password, so it is built here (EVP_BytesToKey with MD5, as OpenSSL does) and
    `openssl rsa -passin pass:` proves that it opens."""
    size = {"AES-256-CBC": 32, "AES-128-CBC": 16}[cipher]
    iv = os.urandom(16)
    derived, block = b"", b""
    while len(derived) < size:
        block = hashlib.md5(block + b"" + iv[:8]).digest()
        derived += block
    padding = 16 - len(der) % 16
    encryptor = Cipher(algorithms.AES(derived[:size]), modes.CBC(iv)).encryptor()
    body = encryptor.update(der + bytes([padding]) * padding) + encryptor.finalize()
    text = base64.encodebytes(body).replace(b"\n", b"")
    lines = b"\n".join(text[i:i + 64] for i in range(0, len(text), 64))
    return (b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: "
            + cipher.encode() + b"," + iv.hex().upper().encode() + b"\n\n" + lines
            + b"\n-----END RSA PRIVATE KEY-----\n")


def _ssh_string(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


def _ssh_fields(blob: bytes, count: int) -> tuple[list[bytes], int]:
    fields, offset = [], 0
    for _ in range(count):
        (length,) = struct.unpack(">I", blob[offset:offset + 4])
        fields.append(blob[offset + 4:offset + 4 + length])
        offset += 4 + length
    return fields, offset


OPENSSH_MAGIC = b"openssh-key-v1\0"


def _openssh_rewrite(pem: bytes, kdf: bytes | None = None,
                     kdf_options: bytes | None = None) -> bytes:
    """Replace the KDF name and/or options of an openssh-key-v1 file, keep the rest."""
    blob = base64.b64decode(b"".join(pem.splitlines()[1:-1]))
    assert blob.startswith(OPENSSH_MAGIC)
    rest = blob[len(OPENSSH_MAGIC):]
    (cipher, old_kdf, old_options), used = _ssh_fields(rest, 3)
    blob = (OPENSSH_MAGIC + _ssh_string(cipher) + _ssh_string(kdf or old_kdf)
            + _ssh_string(old_options if kdf_options is None else kdf_options) + rest[used:])
    text = base64.b64encode(blob)
    lines = b"\n".join(text[i:i + 70] for i in range(0, len(text), 70))
    return (b"-----BEGIN OPENSSH PRIVATE KEY-----\n" + lines
            + b"\n-----END OPENSSH PRIVATE KEY-----\n")


def _openssh_bcrypt_cipher_none(m: Materials) -> bytes:
    """kdf "bcrypt" with cipher "none": looks protected, but the private section is plain.
    ssh-keygen never writes this (an empty passphrase gives kdf "none"), so it is built here;
    ssh-keygen then opens it with any non-empty passphrase."""
    plain = m.rsa.private_bytes(E.PEM, F.OpenSSH, NO)
    return _openssh_rewrite(plain, b"bcrypt", _ssh_string(os.urandom(16)) + struct.pack(">I", 16))


def _ssh_keygen(m: Materials, name: str, kind: str, passphrase: str, *extra: str) -> bytes:
    def make() -> bytes:
        target = m.work / name
        target.unlink(missing_ok=True)
        Path(f"{target}.pub").unlink(missing_ok=True)
        m.tool("ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-C", "deploy@ci", *extra,
               "-f", str(target))
        return target.read_bytes()
    return m.cached(f"ssh-keygen:{name}", make)


def _ppk_string(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


def _ppk_mpint(value: int) -> bytes:
    return _ppk_string(value.to_bytes((value.bit_length() + 8) // 8, "big"))


def _putty_encrypted(key: rsa.RSAPrivateKey, version: int, passphrase: bytes) -> bytes:
    """A PuTTY key encrypted (aes256-cbc) under `passphrase`. puttygen never encrypts with an
    empty passphrase (it writes "Encryption: none"), so this is built from the PPK format
    description; `puttygen --old-passphrase <empty file>` then proves it opens."""
    numbers = key.private_numbers()
    public = (_ppk_string(b"ssh-rsa") + _ppk_mpint(numbers.public_numbers.e)
              + _ppk_mpint(numbers.public_numbers.n))
    private = (_ppk_mpint(numbers.d) + _ppk_mpint(numbers.p) + _ppk_mpint(numbers.q)
               + _ppk_mpint(numbers.iqmp))
    private += hashlib.sha1(private).digest()[:(-len(private)) % 16]
    comment, extra_headers = b"empty-passphrase", []
    if version == 2:
        cipher_key = (hashlib.sha1(b"\0\0\0\0" + passphrase).digest()
                      + hashlib.sha1(b"\0\0\0\1" + passphrase).digest())[:32]
        iv, mac_key = bytes(16), hashlib.sha1(b"putty-private-key-file-mac-key"
                                              + passphrase).digest()
    else:
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

        salt = os.urandom(16)
        derived = Argon2id(salt=salt, length=80, iterations=1, lanes=1,
                           memory_cost=8192).derive(passphrase)
        cipher_key, iv, mac_key = derived[:32], derived[32:48], derived[48:]
        extra_headers = ["Key-Derivation: Argon2id", "Argon2-Memory: 8192", "Argon2-Passes: 1",
                         "Argon2-Parallelism: 1", f"Argon2-Salt: {salt.hex()}"]
    encryptor = Cipher(algorithms.AES(cipher_key), modes.CBC(iv)).encryptor()
    stored = encryptor.update(private) + encryptor.finalize()
    mac_data = b"".join(_ppk_string(v) for v in (b"ssh-rsa", b"aes256-cbc", comment, public,
                                                 private))
    mac = hmac.new(mac_key, mac_data, hashlib.sha1 if version == 2 else hashlib.sha256)

    def wrap(data: bytes) -> list[str]:
        text = base64.b64encode(data).decode()
        return [text[i:i + 64] for i in range(0, len(text), 64)]

    lines = [f"PuTTY-User-Key-File-{version}: ssh-rsa", "Encryption: aes256-cbc",
             f"Comment: {comment.decode()}", f"Public-Lines: {len(wrap(public))}", *wrap(public),
             *extra_headers, f"Private-Lines: {len(wrap(stored))}", *wrap(stored),
             f"Private-MAC: {mac.hexdigest()}"]
    return ("\n".join(lines) + "\n").encode()


def _puttygen(m: Materials, passphrase: str, *options: str, source: str = "pkcs1") -> bytes:
    def make() -> bytes:
        secret = m.file(f"puttygen-pass-{len(passphrase)}", passphrase.encode())
        target = m.work / f"puttygen-{len(passphrase)}-{'-'.join(options)}.ppk"
        if source == "new-ed25519":
            m.tool("puttygen", "-t", "ed25519", "-C", "deploy@ci", "-o", str(target),
                   "--new-passphrase", str(secret), *options)
        else:
            m.tool("puttygen", str(m.file("putty-source.pem", m.pem(source))), "-o", str(target),
                   "--new-passphrase", str(secret), *options)
        return target.read_bytes()
    return m.cached(f"puttygen:{passphrase}:{source}:{options}", make)


def _pkcs8_tool(m: Materials, passout: str, *options: str, kind: str = "pkcs1") -> bytes:
    return m.tool("openssl", "pkcs8", "-topk8", *options, "-in",
                  str(m.file(f"{kind}.pem", m.pem(kind))), "-passout", passout)


def _class7() -> None:
    _recipe("c07-pkcs8-empty.key", 7, UNENCRYPTED, "PBES2 AES-256 PKCS#8, empty passphrase",
            "openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:",
            lambda m: _pkcs8_tool(m, "pass:", "-v2", "aes-256-cbc"),
            opens_with=OPENSSL_OPENS_EMPTY)
    _recipe("c07-pkcs8-empty.der", 7, UNENCRYPTED, "PBES2 PKCS#8 DER, empty passphrase",
            "openssl pkcs8 -topk8 -v2 aes-256-cbc -outform DER -passout pass:",
            lambda m: _pkcs8_tool(m, "pass:", "-v2", "aes-256-cbc", "-outform", "DER"),
            opens_with=OPENSSL_DER_OPENS_EMPTY)
    _recipe("c07-pkcs8-empty-ec.pem", 7, UNENCRYPTED, "PBES2 EC PKCS#8, empty passphrase",
            "openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:",
            lambda m: _pkcs8_tool(m, "pass:", "-v2", "aes-256-cbc", kind="sec1"),
            opens_with=OPENSSL_OPENS_EMPTY)
    _recipe("c07-pkcs8-empty-scrypt.key", 7, UNENCRYPTED, "scrypt PKCS#8, empty passphrase",
            "openssl pkcs8 -topk8 -scrypt -passout pass:",
            lambda m: _pkcs8_tool(m, "pass:", "-scrypt"), opens_with=OPENSSL_OPENS_EMPTY)
    _recipe("c07-legacy-empty.key", 7, UNENCRYPTED, "legacy PEM AES-256-CBC, empty passphrase",
            "hand-built (openssl refuses to write it), opened by openssl rsa -passin pass:",
            lambda m: _legacy_pem_empty(m.der("pkcs1"), "AES-256-CBC"),
            opens_with=("openssl", "rsa", "-in", "{path}", "-noout", "-passin", "pass:"))
    _recipe("c07-legacy-empty-aes128.key", 7, UNENCRYPTED, "legacy PEM AES-128-CBC (as "
            "ssh-keygen -m PEM writes), empty passphrase",
            "hand-built, opened by openssl rsa -passin pass:",
            lambda m: _legacy_pem_empty(m.der("pkcs1"), "AES-128-CBC"),
            opens_with=("openssl", "rsa", "-in", "{path}", "-noout", "-passin", "pass:"))
    _recipe("c07-id_rsa_bcrypt_none", 7, UNENCRYPTED, "OpenSSH key: kdf bcrypt, cipher none",
            "hand-built from an unencrypted OpenSSH key; ssh-keygen -y -P x opens it",
            _openssh_bcrypt_cipher_none,
            opens_with=("ssh-keygen", "-y", "-P", "any-passphrase", "-f", "{path}"))
    _recipe("c07-id_rsa_empty", 7, UNENCRYPTED, "ssh-keygen -N '' (cipher none)",
            "ssh-keygen -t rsa -b 2048 -N ''",
            lambda m: _ssh_keygen(m, "id_rsa_empty", "rsa", "", "-b", "2048"),
            opens_with=SSH_OPENS_EMPTY)
    _recipe("c07-putty3-empty.ppk", 7, UNENCRYPTED, "PuTTY v3 aes256-cbc, empty passphrase",
            "hand-built (puttygen writes 'none' for an empty passphrase); puttygen "
            "--old-passphrase <empty file> opens it",
            lambda m: _putty_encrypted(m.rsa, 3, b""), opens_with=PUTTYGEN_OPENS_EMPTY)
    _recipe("c07-putty2-empty.ppk", 7, UNENCRYPTED, "PuTTY v2 aes256-cbc, empty passphrase",
            "hand-built; puttygen --old-passphrase <empty file> opens it",
            lambda m: _putty_encrypted(m.rsa, 2, b""), opens_with=PUTTYGEN_OPENS_EMPTY)
    _recipe("c07-puttygen-empty.ppk", 7, UNENCRYPTED, "puttygen with an empty passphrase file",
            "puttygen key.pem -o key.ppk --new-passphrase <empty file>",
            lambda m: _puttygen(m, ""), opens_with=PUTTYGEN_OPENS_EMPTY)
    _recipe("c07-scrypt-1024.key", 7, WEAK, "scrypt N=1024 (below 2^14)",
            "openssl pkcs8 -topk8 -scrypt -scrypt_N 1024 -passout pass:...",
            lambda m: _pkcs8_tool(m, f"pass:{PASS}", "-scrypt", "-scrypt_N", "1024"),
            rules=frozenset({"key-weak-encryption"}), opens_with=OPENSSL_OPENS_PASS,
            refuses=OPENSSL_OPENS_EMPTY)
    _recipe("c07-scrypt-8192.key", 7, WEAK, "scrypt N=8192 (below 2^14)",
            "openssl pkcs8 -topk8 -scrypt -scrypt_N 8192 -passout pass:...",
            lambda m: _pkcs8_tool(m, f"pass:{PASS}", "-scrypt", "-scrypt_N", "8192"),
            rules=frozenset({"key-weak-encryption"}), opens_with=OPENSSL_OPENS_PASS,
            refuses=OPENSSL_OPENS_EMPTY)

    _recipe("c07-pkcs8-pass.key", 7, ENCRYPTED, "PBES2 AES-256 PKCS#8 with a passphrase",
            "openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:...",
            lambda m: m.pem("enc_pkcs8"), opens_with=OPENSSL_OPENS_PASS,
            refuses=OPENSSL_OPENS_EMPTY)
    _recipe("c07-scrypt-16384.key", 7, ENCRYPTED, "scrypt N=2^14 (the floor)",
            "openssl pkcs8 -topk8 -scrypt -scrypt_N 16384 -passout pass:...",
            lambda m: _pkcs8_tool(m, f"pass:{PASS}", "-scrypt", "-scrypt_N", "16384"),
            opens_with=OPENSSL_OPENS_PASS, refuses=OPENSSL_OPENS_EMPTY)
    _recipe("c07-legacy-pass.key", 7, ENCRYPTED, "legacy PEM AES-256-CBC with a passphrase",
            "openssl rsa -aes256 -traditional -passout pass:...", lambda m: m.pem("enc_legacy"),
            opens_with=OPENSSL_OPENS_PASS, refuses=OPENSSL_OPENS_EMPTY)
    _recipe("c07-id_rsa_pass", 7, ENCRYPTED, "ssh-keygen RSA 2048 with a passphrase",
            "ssh-keygen -t rsa -b 2048 -N ...",
            lambda m: _ssh_keygen(m, "id_rsa_pass", "rsa", PASS, "-b", "2048"),
            opens_with=SSH_OPENS_PASS, refuses=SSH_OPENS_EMPTY)
    _recipe("c07-puttygen-pass.ppk", 7, ENCRYPTED, "puttygen RSA 2048, PPK v3 with a "
            "passphrase", "puttygen key.pem -o key.ppk --new-passphrase <file>",
            lambda m: _puttygen(m, PASS, "--ppk-param", "passes=2"),
            opens_with=PUTTYGEN_OPENS_PASS, refuses=PUTTYGEN_OPENS_EMPTY)


# -- class 8: past max-file-bytes --------------------------------------------------------------

def _big(m: Materials, size: int, offset: int, kind: str, text: bool) -> bytes:
    if text:
        line = b"2026-06-01T00:00:00Z sensor1 INFO heartbeat ok seq=000000\n"
        filler = (line * (size // len(line) + 1))[:size]
    else:
        block = m.cached("noise-1MiB", lambda: os.urandom(MIB))
        filler = (block * (size // MIB + 1))[:size]
    key = m.pem(kind)
    return filler[:offset] + b"\n" + key + filler[offset + len(key) + 1:]


def _class8() -> None:
    _recipe("c08-firmware-70MiB.img", 8, UNENCRYPTED, "70 MiB of binary, a PEM key at 66 MiB",
            "Python", lambda m: _big(m, 70 * MIB, 66 * MIB, "pkcs1", text=False))
    _recipe("c08-boundary-65MiB.log", 8, UNENCRYPTED, "65 MiB log, a PEM key across the 64 MiB "
            "mark", "Python", lambda m: _big(m, 65 * MIB, 64 * MIB - 700, "pkcs8", text=True))
    _recipe("c08-firmware-enc-70MiB.img", 8, ENCRYPTED, "70 MiB of binary, an encrypted key at "
            "66 MiB", "Python", lambda m: _big(m, 70 * MIB, 66 * MIB, "enc_pkcs8", text=False))


# -- class 11: unbounded work ------------------------------------------------------------------

def _der_header(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at offset."""
    tag, first = data[offset], data[offset + 1]
    start = offset + 2
    length = first
    if first & 0x80:
        count = first & 0x7F
        length = int.from_bytes(data[start:start + count], "big")
        start += count
    return tag, start, start + length


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _der_children(content: bytes) -> list[bytes]:
    children, offset = [], 0
    while offset < len(content):
        _, _, end = _der_header(content, offset)
        children.append(content[offset:end])
        offset = end
    return children


def _der(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(content)) + content


def _holds_der(content: bytes) -> bool:
    if len(content) <= 32 or content[0] != 0x30:
        return False
    try:
        return _der_header(content, 0)[2] == len(content)
    except IndexError:
        return False


def der_patch_integers(data: bytes, old: int, new: int) -> bytes:
    """Every INTEGER equal to old becomes new, in nested DER too (lengths rebuilt)."""
    out = []
    for element in _der_children(data):
        tag, start, end = _der_header(element, 0)
        content = element[start:end]
        if tag & 0x20 or (tag == 0x04 and _holds_der(content)):
            content = der_patch_integers(content, old, new)
        elif tag == 0x02 and int.from_bytes(content, "big", signed=True) == old:
            content = new.to_bytes((new.bit_length() + 8) // 8, "big")
        out.append(_der(tag, content))
    return b"".join(out)


def pfx_with_mac_iterations(pfx: bytes, iterations: int) -> bytes:
    """The PFX with its MacData iteration count replaced (the MAC no longer verifies)."""
    _, start, end = _der_header(pfx, 0)
    version, auth_safe, mac_data = _der_children(pfx[start:end])
    _, mac_start, mac_end = _der_header(mac_data, 0)
    digest, salt, _ = _der_children(mac_data[mac_start:mac_end])
    count = _der(0x02, iterations.to_bytes((iterations.bit_length() + 8) // 8, "big"))
    return _der(0x30, version + auth_safe + _der(0x30, digest + salt + count))


def _ppk_headers(ppk: bytes, **changes: str) -> bytes:
    lines = ppk.decode().splitlines()
    for header, value in changes.items():
        name = header.replace("_", "-")
        lines = [f"{name}: {value}" if line.startswith(f"{name}:") else line for line in lines]
    return ("\r\n".join(lines) + "\r\n").encode()


def _bcrypt_rounds(pem: bytes, rounds: int) -> bytes:
    blob = base64.b64decode(b"".join(pem.splitlines()[1:-1]))
    (_, _, options), _ = _ssh_fields(blob[len(OPENSSH_MAGIC):], 3)
    (salt,), _ = _ssh_fields(options, 1)
    return _openssh_rewrite(pem, kdf_options=_ssh_string(salt) + struct.pack(">I", rounds))


# Class 11 samples whose passphrase is configured ([passphrases] glob = PASS_VARIABLE), so a
# hook that checks it would run the KDF with the parameters from the file.
CONFIGURED_PASSPHRASE = ("c11-id_rsa_rounds", "c11-argon-memory.ppk", "c11-argon-passes.ppk")


def _class11() -> None:
    top = 2 ** 31 - 1
    _recipe("c11-mac-2e31.p12", 11, ENCRYPTED, "PKCS#12 with a passphrase, MAC iterations "
            "2^31-1", "openssl pkcs12 -export -passout pass:..., MacData iterations patched",
            lambda m: pfx_with_mac_iterations(_pfx_cached(m, "pass", *PFX_PASS), top),
            opens_with=PKCS12_OPENS_PASS_NO_MAC, refuses=PKCS12_OPENS_EMPTY_NO_MAC)
    _recipe("c11-mac-2e31-plainbag.p12", 11, UNENCRYPTED, "PKCS#12, key bag not encrypted, "
            "MAC iterations 2^31-1", "openssl pkcs12 -export -keypbe NONE -certpbe NONE "
            "-passout pass:, MacData iterations patched",
            lambda m: pfx_with_mac_iterations(_pfx_cached(m, "nodes", *PFX_NODES), top),
            opens_with=PKCS12_OPENS_EMPTY_NO_MAC)
    _recipe("c11-kdf-2e31-empty.p12", 11, UNENCRYPTED, "PKCS#12, empty password, every "
            "iteration count (PBKDF2 and MAC) 2^31-1: fail closed",
            "openssl pkcs12 -export -iter 2048 -passout pass:, every 2048 patched",
            lambda m: der_patch_integers(_pfx_cached(m, "empty", *PFX_EMPTY), 2048, top))
    _recipe("c11-id_rsa_rounds", 11, CRAFTED, "OpenSSH key, bcrypt rounds 2^31 (passphrase "
            "configured)", "ssh-keygen -t rsa -N ..., rounds patched",
            lambda m: _bcrypt_rounds(_ssh_keygen(m, "id_rsa_pass", "rsa", PASS, "-b", "2048"),
                                     2 ** 31))
    _recipe("c11-argon-memory.ppk", 11, CRAFTED, "PuTTY v3, Argon2-Memory 4 GiB (passphrase "
            "configured)", "puttygen --new-passphrase, header patched",
            lambda m: _ppk_headers(_puttygen(m, PASS, "--ppk-param", "passes=2"),
                                   Argon2_Memory=str(4 * 1024 * 1024)))
    _recipe("c11-argon-passes.ppk", 11, CRAFTED, "PuTTY v3, Argon2-Passes 2^31 (passphrase "
            "configured)", "puttygen --new-passphrase, header patched",
            lambda m: _ppk_headers(_puttygen(m, PASS, "--ppk-param", "passes=2"),
                                   Argon2_Passes=str(2 ** 31)))
    _recipe("c11-spaces.pem", 11, CRAFTED, "a 100 KB line of spaces inside an armor block",
            "literal", lambda m: b"-----BEGIN PRIVATE KEY-----\n" + b" " * 100_000
            + b"\n-----END PRIVATE KEY-----\n")
    _recipe("c11-spaces-in-key.key", 11, UNENCRYPTED, "a 100 KB line of spaces inside a real "
            "key's body", "Python", lambda m: _stray(b" " * 100_000)(m.pem("pkcs8")))
    _recipe("c11-begin-1MiB.txt", 11, CRAFTED, "1 MiB of '-----BEGIN PRIVATE KEY-----' lines",
            "literal", lambda m: b"-----BEGIN PRIVATE KEY-----\n" * (MIB // 28))
    _recipe("c11-begin-1MiB-oneline.txt", 11, CRAFTED, "1 MiB of '-----BEGIN PRIVATE KEY-----' "
            "without newlines", "literal", lambda m: b"-----BEGIN PRIVATE KEY-----" * (MIB // 27))
    _recipe("c11-begin-1MiB-then-key.pem", 11, UNENCRYPTED, "1 MiB of BEGIN lines, then a real "
            "key", "Python", lambda m: b"-----BEGIN PRIVATE KEY-----\n" * (MIB // 28)
            + m.pem("pkcs1"))


# -- class 12: encrypted keys that are not appliance keys ----------------------------------------

def _class12() -> None:
    _recipe("c12-deploy_ed25519", 12, ENCRYPTED, "encrypted Ed25519 OpenSSH deploy key",
            "ssh-keygen -t ed25519 -N ...",
            lambda m: _ssh_keygen(m, "deploy_ed25519", "ed25519", PASS),
            opens_with=SSH_OPENS_PASS, refuses=SSH_OPENS_EMPTY)
    _recipe("c12-deploy_ed25519_plain", 12, UNENCRYPTED, "Ed25519 OpenSSH deploy key without "
            "a passphrase: the type policy may skip it, the encryption check may not",
            "ssh-keygen -t ed25519 -N ''",
            lambda m: _ssh_keygen(m, "deploy_ed25519_plain", "ed25519", ""),
            rules=frozenset({"key-unencrypted"}), opens_with=SSH_OPENS_EMPTY)
    _recipe("c12-deploy_ecdsa", 12, ENCRYPTED, "encrypted ECDSA P-256 OpenSSH key",
            "ssh-keygen -t ecdsa -N ...", lambda m: _ssh_keygen(m, "deploy_ecdsa", "ecdsa", PASS),
            opens_with=SSH_OPENS_PASS, refuses=SSH_OPENS_EMPTY)
    _recipe("c12-signing-key.asc", 12, ENCRYPTED, "armored OpenPGP Ed25519 secret key with a "
            "passphrase", "gpg --passphrase ... --armor --export-secret-keys",
            lambda m: _gpg_export(m, True, "--armor", "--export-secret-keys"))
    _recipe("c12-deploy-ed25519.ppk", 12, ENCRYPTED, "encrypted Ed25519 PuTTY key",
            "puttygen -t ed25519 --new-passphrase <file>",
            lambda m: _puttygen(m, PASS, "--ppk-param", "passes=2", source="new-ed25519"),
            opens_with=PUTTYGEN_OPENS_PASS, refuses=PUTTYGEN_OPENS_EMPTY)


for _register in (_class1, _class2, _class3, _class4, _class5, _class6, _class7, _class8,
                  _class11, _class12):
    _register()


# -- building ----------------------------------------------------------------------------------

class Corpus:
    """Samples built on demand (and once) into folder/files."""

    def __init__(self, folder: Path) -> None:
        self.materials = Materials(folder)
        self.files = folder / "files"
        self.files.mkdir(parents=True, exist_ok=True)
        self._samples: dict[str, Sample] = {}
        self.missing: dict[str, str] = {}  # sample name -> why it could not be built

    def sample(self, name: str) -> Sample:
        """The sample, built and written to self.files; MissingTool if a tool is absent."""
        if name in self.missing:
            raise MissingTool(self.missing[name])
        if name not in self._samples:
            recipe = RECIPES[name]
            try:
                data = recipe.make(self.materials)
            except MissingTool as exc:
                self.missing[name] = str(exc)
                raise
            self._samples[name] = Sample(recipe.name, data, recipe.label, recipe.cls,
                                         recipe.form, recipe.made_by, recipe.rules,
                                         recipe.opens_with, recipe.refuses)
            (self.files / name).write_bytes(data)
        return self._samples[name]

    def path(self, name: str) -> Path:
        self.sample(name)
        return self.files / name


_SHARED: dict[Path, Corpus] = {}


def shared_corpus(base: Path) -> Corpus:
    """One corpus per test session (base: the session's temporary root), so the test
    modules that use it generate keys and run gpg once."""
    if base not in _SHARED:
        _SHARED[base] = Corpus(base / "adversarial-corpus")
    return _SHARED[base]


def build(folder: Path) -> dict[str, Sample]:
    """Every sample whose tools are installed (the others: Corpus.missing)."""
    corpus = Corpus(folder)
    samples = {}
    for name in RECIPES:
        try:
            samples[name] = corpus.sample(name)
        except MissingTool:
            continue
    return samples
