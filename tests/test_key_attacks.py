"""Attacks on check-private-keys after key guard v2 (issue 11): each test is a way an
unencrypted key got past `certwarden check --group keys` (or a real `git commit`), made
the key guard hang, or wrongly blocked a file that holds no secret. Every attack keeps
its encrypted, public or placeholder counterpart beside it, which must stay allowed.

Keys are generated at test time (tests/pki.py, ssh-keygen, puttygen); nothing secret is
committed. Inputs that could hang run in a separate process under a hard timeout, so a
regression fails its test instead of stalling the suite.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519

from certwarden.recognition.keys import find_keys
from tests import hookrepo, pki, tools
from tests.conftest import RunJson, rules_of
from tests.test_adversarial_git import (  # the hook environment, installed once a module
    KEY_HOOKS,
    Repo,
    _repo,
    assert_blocked,
    assert_landed,
    hook_snapshot,  # noqa: F401 (a fixture)
)

E, F = serialization.Encoding, serialization.PrivateFormat
NO = serialization.NoEncryption()
PASS = b"attack-Pass-3"
HARD_TIMEOUT = 20.0  # seconds: a hang fails the test instead of the suite
BLOCKING = {"key-unencrypted", "key-unreadable", "key-weak-encryption"}
SLOT = 31  # pki.rsa_key slot of this module


def _rsa_pkcs1() -> bytes:
    return pki.rsa_key(2048, SLOT).private_bytes(E.PEM, F.TraditionalOpenSSL, NO)


def _rsa_pkcs8() -> bytes:
    return pki.rsa_key(2048, SLOT).private_bytes(E.PEM, F.PKCS8, NO)


def _rsa_pkcs8_encrypted() -> bytes:
    return pki.rsa_key(2048, SLOT).private_bytes(
        E.PEM, F.PKCS8, serialization.BestAvailableEncryption(PASS))


def _ec_sec1() -> bytes:
    return pki.ec_key(SLOT).private_bytes(E.PEM, F.TraditionalOpenSSL, NO)


def _ed25519_pkcs8() -> bytes:
    return ed25519.Ed25519PrivateKey.generate().private_bytes(E.PEM, F.PKCS8, NO)


def _lines(pem: bytes) -> list[bytes]:
    return pem.strip().splitlines()


def _der(pem: bytes) -> bytes:
    return base64.b64decode(b"".join(_lines(pem)[1:-1]))


def _blocking(document: dict[str, Any]) -> set[str]:
    return {f["rule"] for f in document["findings"]
            if f["severity"] == "error" and f["rule"] in BLOCKING}


def _check(run_json: RunJson, tmp_path: Path, name: str, data: bytes) -> tuple[int, dict[str, Any]]:
    target = tmp_path / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return run_json("--group", "keys", "--", name)


def assert_blocks(run_json: RunJson, tmp_path: Path, name: str, data: bytes) -> dict[str, Any]:
    code, document = _check(run_json, tmp_path, name, data)
    assert code == 1 and _blocking(document), document["findings"]
    return document


def assert_allows(run_json: RunJson, tmp_path: Path, name: str, data: bytes) -> None:
    code, document = _check(run_json, tmp_path, name, data)
    assert code == 0 and not _blocking(document), document["findings"]


def _process(folder: Path, name: str, data: bytes) -> subprocess.CompletedProcess[str]:
    (folder / name).write_bytes(data)
    return subprocess.run([sys.executable, "-m", "certwarden", "check", "--group", "keys",
                           "--format", "json", "--now", pki.NOW_ISO, "--", name], cwd=folder,
                          capture_output=True, text=True, timeout=HARD_TIMEOUT)


# -- a hang: text escapes undone again inside what unescaping produced ------------------------

def _escape_bomb(levels: int, blocks: int = 1) -> bytes:
    """An unreadable key block whose body every unescaper changes, at every level: each
    unescaping found another unreadable block and unescaped it again (30 ways a level)."""
    backslashes = b"\\" * (2 ** levels)
    junk = (backslashes + b"n %" + b"25" * levels + b"41 &" + b"amp;" * levels + b"lt; '"
            + backslashes + b"x' \"y\" =3D")
    body = b"".join(_lines(_rsa_pkcs1())[1:4])
    block = (b"-----BEGIN RSA PRIVATE KEY-----\n" + junk + b"\n" + body + b"\n" + junk
             + b"\n-----END RSA PRIVATE KEY-----\n")
    return block * blocks


def test_zips_of_zips_are_bounded_by_members_a_file(tmp_path: Path) -> None:
    """2,000 members an archive was the only bound: 66 zips of 2,000 members each in 1 MB
    took 1.4 s (200 of them, 3 MB: 4 s); a file now looks at 10,000 members in all."""
    import io
    import zipfile

    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_STORED) as archive:
        for index in range(2000):
            archive.writestr(str(index), b"")
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for index in range(60):
            archive.writestr(f"{index}.zip", inner.getvalue())
    result = _process(tmp_path, "zips.zip", outer.getvalue())
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    findings = json.loads(result.stdout)["findings"]
    assert any("10,000 archive members" in f["message"] and f["severity"] == "warning"
               for f in findings), findings


@pytest.mark.parametrize(("levels", "blocks"), [(2, 1), (4, 1), (8, 1), (2, 400)])
def test_nested_escapes_in_an_unreadable_block_are_bounded(tmp_path: Path, levels: int,
                                                           blocks: int) -> None:
    try:
        result = _process(tmp_path, "bomb.pem", _escape_bomb(levels, blocks))
    except subprocess.TimeoutExpired:
        pytest.fail(f"check-private-keys still running after {HARD_TIMEOUT:.0f} s")
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 1  # a labelled key no parser reads still blocks
    assert "key-unreadable" in _blocking(json.loads(result.stdout))


@pytest.mark.parametrize("character", [b",", b")", b"\\", b" "])
def test_long_line_of_wrapper_characters_in_a_block_is_linear(tmp_path: Path,
                                                              character: bytes) -> None:
    """Trailing-wrapper patterns searched at every position were quadratic: 40 KB of ','
    in a block body took 4 s, 1 MB would take most of an hour."""
    line = character * (1 << 20) + b"!"
    data = b'  "-----BEGIN RSA PRIVATE KEY----- " +\n' + line + b"\n-----END RSA PRIVATE KEY-----\n"
    try:
        result = _process(tmp_path, "long.pem", data)
    except subprocess.TimeoutExpired:
        pytest.fail(f"check-private-keys still running after {HARD_TIMEOUT:.0f} s")
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode in (0, 1)


def test_unescaping_still_composes_two_layers(run_json: RunJson, tmp_path: Path) -> None:
    """The bound keeps JSON in a JSON string (two layers) working."""
    doubly = json.dumps(json.dumps({"key": _rsa_pkcs8().decode()})).encode()
    document = assert_blocks(run_json, tmp_path, "doubly.json", doubly)
    assert "key-unencrypted" in rules_of(document)


# -- a key as a symbolic link's target: git stores the link text, which is the key ------------

def _symlink(folder: Path, name: str, target: bytes) -> None:
    (folder / name).symlink_to(os.fsdecode(target))


def test_key_as_symlink_target_blocks(run_json: RunJson, tmp_path: Path) -> None:
    _symlink(tmp_path, "sensor1.pem", _rsa_pkcs1())
    code, document = run_json("--group", "keys", "--", "sensor1.pem")
    assert code == 1 and "key-unencrypted" in rules_of(document), document["findings"]


def test_encrypted_key_and_ordinary_links_pass(run_json: RunJson, tmp_path: Path) -> None:
    _symlink(tmp_path, "encrypted.pem", _rsa_pkcs8_encrypted())
    _symlink(tmp_path, "current.key", b"../keys/sensor1.key")
    code, document = run_json("--group", "keys", "--", "encrypted.pem", "current.key")
    assert code == 0 and not _blocking(document), document["findings"]


def test_key_as_symlink_target_in_the_index(run_json: RunJson, tmp_path: Path) -> None:
    hookrepo.git(tmp_path, "init", "-q", "-b", "main")
    _symlink(tmp_path, "sensor1.pem", _rsa_pkcs1())
    hookrepo.git(tmp_path, "add", "sensor1.pem")
    code, document = run_json("--group", "keys")
    assert code == 1 and "key-unencrypted" in rules_of(document), document["findings"]


def test_manifest_hands_symlinks_to_the_key_hook() -> None:
    """pre-commit's identify tags a symlink `symlink`, never `file`: `types: [file]` kept
    every link away from check-private-keys."""
    import yaml

    manifest = yaml.safe_load((hookrepo.PROJECT / ".pre-commit-hooks.yaml").read_text())
    entry = next(hook for hook in manifest if hook["id"] == "check-private-keys")
    assert "symlink" in entry.get("types_or", []) and entry.get("types") == []


# -- keys cut short that still hold their secret -----------------------------------------------

def test_ec_key_first_line_holds_the_whole_secret(run_json: RunJson, tmp_path: Path) -> None:
    """SEC1 puts the private scalar right after the version: the first base64 line of an EC
    key (64 characters, under the placeholder threshold) holds all 32 bytes of it."""
    lines = _lines(_ec_sec1())
    assert_blocks(run_json, tmp_path, "doc.md", b"\n".join([lines[0], lines[1], b"...",
                                                            lines[-1]]) + b"\n")
    assert_blocks(run_json, tmp_path, "cut.pem", lines[0] + b"\n" + lines[1] + b"\n")


def test_ed25519_key_missing_its_last_characters(run_json: RunJson, tmp_path: Path) -> None:
    lines = _lines(_ed25519_pkcs8())
    assert_blocks(run_json, tmp_path, "a.md", b"\n".join([lines[0], lines[1][:-4] + b"...",
                                                          lines[-1]]) + b"\n")
    assert_blocks(run_json, tmp_path, "b.txt", lines[0] + b"\n" + lines[1][:-8] + b"\n")


def test_rsa_key_missing_its_crt_parameters(run_json: RunJson, tmp_path: Path) -> None:
    """A PKCS#1 key cut before dP, dQ and qInv still holds n, e, d and p."""
    der = _der(_rsa_pkcs1())
    cut = der[:len(der) - 400]
    assert_blocks(run_json, tmp_path, "key.der", cut)
    assert_blocks(run_json, tmp_path, "key.txt", b"key: " + base64.b64encode(cut) + b"\n")
    assert_blocks(run_json, tmp_path, "firmware.bin", b"\x7fELF" + bytes(100) + cut + bytes(64))


def test_documentation_excerpts_of_public_bytes_pass(run_json: RunJson, tmp_path: Path) -> None:
    """The first lines of an RSA key hold its header and the start of the modulus (public):
    documentation showing them with an ellipsis leaks nothing."""
    for index, pem in enumerate((_rsa_pkcs1(), _rsa_pkcs8())):
        lines = _lines(pem)
        for shown in (2, 3):
            excerpt = b"\n".join([b"```", lines[0], *lines[1:1 + shown], b"...", lines[-1],
                                  b"```"]) + b"\n"
            assert_allows(run_json, tmp_path, f"docs/{index}-{shown}.md", excerpt)


def test_excerpt_with_a_gap_then_more_key_still_blocks(run_json: RunJson, tmp_path: Path) -> None:
    lines = _lines(_rsa_pkcs1())
    gap = b"\n".join([lines[0], *lines[1:4], b"...", *lines[8:-1], lines[-1]]) + b"\n"
    assert_blocks(run_json, tmp_path, "gap.pem", gap)


def test_first_lines_clean_then_lines_no_reader_strips_still_block(run_json: RunJson,
                                                                   tmp_path: Path) -> None:
    """Only an elision may follow an excerpt: key lines the reader cannot strip (a table
    border after each) are not an excerpt's ellipsis."""
    lines = _lines(_rsa_pkcs1())
    table = b"\n".join([lines[0], *lines[1:4], *(line + b"  |" for line in lines[4:-1]),
                        lines[-1]]) + b"\n"
    assert_blocks(run_json, tmp_path, "table.md", table)


@pytest.mark.parametrize("filler", [b"A" * 64, b"X" * 64,
                                    b"Lorem ipsum dolor sit amet, consectetur adipiscing elit"])
def test_key_after_filler_in_one_block(run_json: RunJson, tmp_path: Path, filler: bytes) -> None:
    """A block whose first 64 KB are filler or prose is a placeholder, but the key lines
    after them are still decoded; a filler block alone stays allowed."""
    lines = _lines(_rsa_pkcs1())
    fill = (filler + b"\n") * 2000
    assert_blocks(run_json, tmp_path, "hidden.pem",
                  lines[0] + b"\n" + fill + b"\n".join(lines[1:]) + b"\n")
    assert_allows(run_json, tmp_path, "filler.pem", lines[0] + b"\n" + fill[:1300] + lines[-1])


# -- base64 split over string literals (Java, Kotlin, C#, JS, Go, Python, C, PHP) -------------

def _split(text: bytes, width: int = 64) -> list[bytes]:
    return [text[i:i + width] for i in range(0, len(text), width)]


CONCATENATIONS: dict[str, Callable[[list[bytes]], bytes]] = {
    "java": lambda parts: b'String KEY = "' + b'" +\n        "'.join(parts) + b'";\n',
    "java-plus-first": lambda parts: b'String KEY = "' + b'"\n      + "'.join(parts) + b'";\n',
    "javascript": lambda parts: b"const key = '" + b"' +\n  '".join(parts) + b"';\n",
    "python": lambda parts: b'KEY = (\n    "' + b'"\n    "'.join(parts) + b'"\n)\n',
    "c": lambda parts: b'const char *key =\n  "' + b'"\n  "'.join(parts) + b'";\n',
    "php": lambda parts: b"$key = '" + b"' .\n  '".join(parts) + b"';\n",
    "array": lambda parts: b'"key": [\n  "' + b'",\n  "'.join(parts) + b'"\n]\n',
}


@pytest.mark.parametrize("syntax", CONCATENATIONS)
def test_base64_key_split_over_string_literals(run_json: RunJson, tmp_path: Path,
                                               syntax: str) -> None:
    parts = _split(b"".join(_lines(_rsa_pkcs8())[1:-1]))
    document = assert_blocks(run_json, tmp_path, f"Key.{syntax}",
                             CONCATENATIONS[syntax](parts))
    assert "key-unencrypted" in rules_of(document)


@pytest.mark.parametrize("line_end", [b" \n", b"\t\r\n", b"\xc2\xa0\n", b"\n\n", b" \n \n"],
                         ids=["space", "tab-crlf", "no-break-space", "blank-line", "spaced-blank"])
def test_base64_lines_with_trailing_spaces_or_blank_lines(run_json: RunJson, tmp_path: Path,
                                                          line_end: bytes) -> None:
    """A key copied from a web page or a terminal: trailing (no-break) spaces, or a blank
    line after each line; its armor mangled by a word processor (en dashes)."""
    lines = _lines(_rsa_pkcs1())
    mangled = b"\n".join([lines[0].replace(b"-----", "\u2013\u2013".encode())]
                         + [line + line_end for line in lines[1:-1]]) + b"\n"
    assert_blocks(run_json, tmp_path, "pasted.txt", mangled)
    assert_blocks(run_json, tmp_path, "values.yaml",
                  b"key: |\n" + b"".join(b"  " + line + line_end for line in lines[1:-1]))


def test_separate_base64_paragraphs_each_decoded(run_json: RunJson, tmp_path: Path) -> None:
    noise = base64.encodebytes(os.urandom(500)).replace(b"=", b"")[:-3]
    key = base64.encodebytes(_der(_rsa_pkcs1()))
    assert_blocks(run_json, tmp_path, "paragraphs.txt", noise + b"\n\n" + key)


def _chunks(data: bytes, size: int = 16) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


def _escaped(chunk: bytes) -> bytes:
    return b"".join(b"\\x%02x" % byte for byte in chunk)


BYTE_ARRAYS: dict[str, Callable[[bytes], bytes]] = {
    "c-escaped-lines": lambda der: b"const char key[] =\n" + b"\n".join(
        b'  "' + _escaped(chunk) + b'"' for chunk in _chunks(der)) + b";\n",
    "go-escaped-concat": lambda der: b'var key = "" +\n' + b" +\n".join(
        b'\t"' + _escaped(chunk) + b'"' for chunk in _chunks(der)) + b"\n",
    "java-casts": lambda der: b"byte[] k = new byte[]{" + b", ".join(
        b"(byte)0x%02x" % byte for byte in der) + b"};\n",
    "java-casts-lines": lambda der: b"byte[] k = {\n" + b",\n".join(b", ".join(
        b"(byte) 0x%02X" % byte for byte in chunk) for chunk in _chunks(der, 8)) + b"};\n",
    "kotlin-toByte": lambda der: b"val k = byteArrayOf(" + b", ".join(
        b"0x%02x" % byte if byte < 0x80 else b"0x%02x.toByte()" % byte for byte in der) + b")\n",
    "python-fromhex": lambda der: b"K = bytes.fromhex(\n" + b"\n".join(
        b'    "' + chunk.hex().encode() + b'"' for chunk in _chunks(der, 32)) + b"\n)\n",
    "hexdump-C": lambda der: b"".join(
        b"%08x  " % offset + b" ".join(b"%02x" % byte for byte in der[offset:offset + 8])
        + b"  " + b" ".join(b"%02x" % byte for byte in der[offset + 8:offset + 16])
        + b"  |" + bytes(byte if 32 <= byte < 127 and byte != 124 else 46
                           for byte in der[offset:offset + 16])
        + b"|\n" for offset in range(0, len(der), 16)),
    "od-x1z": lambda der: b"".join(
        b"%06x " % offset + b" ".join(b"%02x" % byte for byte in der[offset:offset + 16])
        + b"  >" + b"." * len(der[offset:offset + 16]) + b"<\n"
        for offset in range(0, len(der), 16)),
}


@pytest.mark.parametrize("syntax", BYTE_ARRAYS)
def test_der_key_as_source_byte_array_or_dump(run_json: RunJson, tmp_path: Path,
                                              syntax: str) -> None:
    document = assert_blocks(run_json, tmp_path, f"key-{syntax}.txt",
                             BYTE_ARRAYS[syntax](_der(_rsa_pkcs1())))
    assert "key-unencrypted" in rules_of(document)


def test_encrypted_key_split_over_string_literals_passes(run_json: RunJson,
                                                         tmp_path: Path) -> None:
    parts = _split(b"".join(_lines(_rsa_pkcs8_encrypted())[1:-1]))
    assert_allows(run_json, tmp_path, "Key.java", CONCATENATIONS["java"](parts))


def test_unrelated_base64_literals_stay_quiet() -> None:
    literals = [base64.b64encode(os.urandom(48)) for _ in range(40)]
    scan = find_keys(CONCATENATIONS["java"](literals) + CONCATENATIONS["array"](literals))
    assert scan.keys == [] and scan.unreadable == []


# -- headers that claim encryption over a plaintext key ----------------------------------------

def _ssh_string(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


def _openssh_claiming(cipher: bytes, pem: bytes) -> bytes:
    """The key's own plaintext private section under a header naming a cipher and bcrypt."""
    raw = _der(pem)
    offset = 15
    for _ in range(3):  # cipher, kdf, kdf options
        offset += 4 + struct.unpack(">I", raw[offset:offset + 4])[0]
    rest = raw[offset:]
    options = _ssh_string(os.urandom(16)) + struct.pack(">I", 16)
    lying = (b"openssh-key-v1\0" + _ssh_string(cipher) + _ssh_string(b"bcrypt")
             + _ssh_string(options) + rest)
    return (b"-----BEGIN OPENSSH PRIVATE KEY-----\n" + base64.encodebytes(lying)
            + b"-----END OPENSSH PRIVATE KEY-----\n")


def _ssh_keygen(tmp_path: Path, passphrase: str) -> bytes:
    tools.require("ssh-keygen")
    path = tmp_path / f"id_{len(passphrase)}"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-f", str(path)],
                   check=True, capture_output=True)
    return path.read_bytes()


@pytest.mark.parametrize("cipher", [b"aes256-ctr", b"chacha20-poly1305@openssh.com"])
def test_openssh_header_naming_a_cipher_over_plaintext(run_json: RunJson, tmp_path: Path,
                                                       cipher: bytes) -> None:
    lying = _openssh_claiming(cipher, _ssh_keygen(tmp_path, ""))
    document = assert_blocks(run_json, tmp_path, "id_ed25519", lying)
    assert "key-unencrypted" in rules_of(document)


def test_openssh_encrypted_by_ssh_keygen_passes(run_json: RunJson, tmp_path: Path) -> None:
    assert_allows(run_json, tmp_path, "id_ed25519", _ssh_keygen(tmp_path, PASS.decode()))


def _puttygen(tmp_path: Path, passphrase: bytes, version: int) -> bytes:
    tools.require("puttygen")
    source = tmp_path / "source.pem"
    source.write_bytes(_rsa_pkcs1())
    words = tmp_path / "words"
    words.write_bytes(passphrase + b"\n" if passphrase else b"")
    target = tmp_path / f"key-{version}-{len(passphrase)}.ppk"
    subprocess.run(["puttygen", str(source), "-O", "private", "-o", str(target),
                    "--new-passphrase", str(words), "--ppk-param", f"version={version}"],
                   check=True, capture_output=True)
    source.unlink()
    return target.read_bytes()


@pytest.mark.parametrize("version", [2, 3])
def test_putty_header_edited_to_claim_encryption(run_json: RunJson, tmp_path: Path,
                                                 version: int) -> None:
    """A one-word edit: `Encryption: none` -> `aes256-cbc`, the private lines untouched."""
    plain = _puttygen(tmp_path, b"", version)
    lying = plain.replace(b"Encryption: none", b"Encryption: aes256-cbc")
    document = assert_blocks(run_json, tmp_path, "edited.ppk", lying)
    assert "key-unencrypted" in rules_of(document)
    _code, document = _check(run_json, tmp_path, "real.ppk", _puttygen(tmp_path, PASS, version))
    assert "key-unencrypted" not in rules_of(document) and "key-unreadable" not in \
        rules_of(document), document["findings"]


def test_pkcs8_encryption_header_over_a_plaintext_key(run_json: RunJson, tmp_path: Path) -> None:
    from asn1crypto import keys as asn1_keys

    encrypted = asn1_keys.EncryptedPrivateKeyInfo.load(_der(_rsa_pkcs8_encrypted()))
    lying = asn1_keys.EncryptedPrivateKeyInfo({
        "encryption_algorithm": encrypted["encryption_algorithm"],
        "encrypted_data": _der(_rsa_pkcs8())}).dump()
    pem = (b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + base64.encodebytes(lying)
           + b"-----END ENCRYPTED PRIVATE KEY-----\n")
    document = assert_blocks(run_json, tmp_path, "lying.key", pem)
    assert "key-unencrypted" in rules_of(document)
    assert_allows(run_json, tmp_path, "real.key", _rsa_pkcs8_encrypted())


# -- compressed streams: zlib (git loose objects in fixtures), and layers past the depth ------

def test_key_in_a_git_loose_object(run_json: RunJson, tmp_path: Path) -> None:
    """A fixture repository committed as `dot_git/`: its loose objects are zlib streams."""
    pem = _rsa_pkcs1()
    loose = zlib.compress(b"blob %d\0" % len(pem) + pem)
    document = assert_blocks(run_json, tmp_path, "fixture/dot_git/objects/ab/cdef0123", loose)
    assert "key-unencrypted" in rules_of(document)
    encrypted = _rsa_pkcs8_encrypted()
    assert_allows(run_json, tmp_path, "fixture/dot_git/objects/ab/0123cdef",
                  zlib.compress(b"blob %d\0" % len(encrypted) + encrypted))


def test_zip_after_other_bytes(run_json: RunJson, tmp_path: Path) -> None:
    """A self-extracting archive, or a zip appended to an image: its end record is last."""
    import io
    import zipfile

    def zipped(data: bytes) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("keys/sensor1.key", data)
        return out.getvalue()

    png = b"\x89PNG\r\n\x1a\n" + os.urandom(300)
    document = assert_blocks(run_json, tmp_path, "logo.png", png + zipped(_rsa_pkcs1()))
    assert "key-unencrypted" in rules_of(document)
    assert_allows(run_json, tmp_path, "logo2.png", png + zipped(_rsa_pkcs8_encrypted()))


def test_text_opening_like_a_zlib_header_is_quiet(run_json: RunJson, tmp_path: Path) -> None:
    assert_allows(run_json, tmp_path, "notes.txt", b"x^2 + y^2 = r^2\n" * 20)


def test_layers_past_the_depth_cap_are_named(run_json: RunJson, tmp_path: Path) -> None:
    import gzip

    data = _rsa_pkcs1()
    for _ in range(6):
        data = gzip.compress(data)
    _code, document = _check(run_json, tmp_path, "nested.gz", data)
    assert any(f["rule"] == "key-unreadable" and "layers" in f["message"]
               for f in document["findings"]), document["findings"]


# -- JWKs: many in one file ---------------------------------------------------------------------

def test_many_private_jwks_report_their_lines() -> None:
    """Each JWK's line was found by re-encoding the whole text before it (quadratic: 5,000
    JWKs in 970 KB took 1.5 s); it is now counted as the search advances."""
    jwks = [json.dumps({"kty": "EC", "crv": "P-256", "pad": "é" * (index % 7),
                        "d": base64.urlsafe_b64encode(os.urandom(32)).decode()})
            for index in range(300)]
    scan = find_keys(("[\n" + ",\n".join(jwks) + "\n]\n").encode())
    assert [key.line for key in scan.keys] == list(range(2, 302))


def _ec_jwk(private: bool) -> dict[str, str]:
    numbers = pki.ec_key(SLOT).private_numbers()

    def b64(value: int) -> str:
        return base64.urlsafe_b64encode(value.to_bytes(32, "big")).decode().rstrip("=")

    jwk = {"kty": "EC", "crv": "P-256", "x": b64(numbers.public_numbers.x),
           "y": b64(numbers.public_numbers.y)}
    return {**jwk, "d": b64(numbers.private_value)} if private else jwk


JWK_SYNTAXES: dict[str, Callable[[dict[str, str]], bytes]] = {
    "python-dict": lambda jwk: f"JWK = {jwk!r}\n".encode(),
    "js-object": lambda jwk: ("const jwk = {" + ", ".join(
        f"{name}: '{value}'" for name, value in jwk.items()) + ",};\n").encode(),
    "yaml-list": lambda jwk: ("keys:\n" + "".join(
        f"{'  - ' if index == 0 else '    '}{name}: {value}\n"
        for index, (name, value) in enumerate(jwk.items()))).encode(),
    "yaml-mapping": lambda jwk: ("signing:\n  jwk:\n" + "".join(
        f"    {name}: \"{value}\"\r\n" for name, value in jwk.items())).encode(),
}


@pytest.mark.parametrize("syntax", JWK_SYNTAXES)
def test_private_jwk_outside_json(run_json: RunJson, tmp_path: Path, syntax: str) -> None:
    document = assert_blocks(run_json, tmp_path, f"jwk-{syntax}.txt",
                             JWK_SYNTAXES[syntax](_ec_jwk(private=True)))
    assert "key-unencrypted" in rules_of(document)
    assert_allows(run_json, tmp_path, f"public-{syntax}.txt",
                  JWK_SYNTAXES[syntax](_ec_jwk(private=False)))


def test_placeholder_secrets_in_raw_key_formats_pass(run_json: RunJson, tmp_path: Path) -> None:
    """Documentation fills a WireGuard key or a JWK's "d" with one repeated character."""
    assert_allows(run_json, tmp_path, "wg0.conf",
                  b"[Interface]\nPrivateKey = " + b"A" * 43 + b"=\n")
    assert_allows(run_json, tmp_path, "jwk.json", json.dumps(
        {**_ec_jwk(private=False), "d": "x" * 43}).encode())
    real = base64.b64encode(x25519.X25519PrivateKey.generate().private_bytes(
        E.Raw, F.Raw, NO))
    assert_blocks(run_json, tmp_path, "wg1.conf", b"[Interface]\nPrivateKey = " + real + b"\n")


def test_code_naming_jwk_members_is_quiet() -> None:
    code = (b"function use(jwk) { if (jwk.kty === 'RSA') { return {kty: jwk.kty, d: jwk.d}; } }\n"
            b"interface Jwk { kty: string; d?: string }\n" * 200)
    scan = find_keys(code)
    assert scan.keys == [] and scan.unreadable == []


# -- false positives ---------------------------------------------------------------------------

def test_source_and_documentation_named_after_passphrases(run_json: RunJson,
                                                          tmp_path: Path) -> None:
    """`passphrase.py` beside `private_key.py` is code, not a passphrase beside a key."""
    (tmp_path / "crypto").mkdir()
    (tmp_path / "crypto" / "private_key.py").write_bytes(b"def load(): ...\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "private-keys.md").write_bytes(b"# Keys\n")
    for name, text in (("crypto/passphrase.py", b"def ask(): ...\n"),
                       ("crypto/test_passphrase_prompt.py", b"def test(): ...\n"),
                       ("docs/passphrase-policy.md", b"# Passphrases\nUse a long one.\n")):
        _code, document = _check(run_json, tmp_path, name, text)
        assert "passphrase-committed" not in rules_of(document), (name, document["findings"])


def test_passphrase_file_beside_a_key_still_blocks(run_json: RunJson, tmp_path: Path) -> None:
    (tmp_path / "pki").mkdir()
    (tmp_path / "pki" / "sensor1.key").write_bytes(_rsa_pkcs8_encrypted())
    for name in ("pki/sensor1.pass", "pki/passphrase.txt", "pki/passphrase"):
        code, document = _check(run_json, tmp_path, name, PASS + b"\n")
        assert code == 1 and "passphrase-committed" in rules_of(document), name


def test_key_prefix_constant_in_a_compiled_file(run_json: RunJson, tmp_path: Path) -> None:
    """Libraries build X25519/Ed25519 keys from a 16-byte PKCS#8 prefix constant; in a
    compiled file (.pyc, .so, .class) the bytes after it are code, not a secret."""
    prefix = b'0.\x02\x01\x000\x05\x06\x03+en\x04"\x04 '
    pyc = (b"\xa7\r\r\n" + bytes(12) + b"\xe3\x00\x00\x00" + bytes(200) + prefix
           + b"\xe90\x00\x00\x00r\x02\x00\x00\x00\xe9\x10\x00\x00\x00)\x0fr\xb8\x00\x00\x00r"
           + b"\xf0\x00\x00\x00\xda\x11_zeroed_bytearray" + bytes(100))
    assert_allows(run_json, tmp_path, "backend.cpython-311.pyc", pyc)


@pytest.mark.parametrize("kind", ["x25519", "ed25519"])
def test_real_raw_key_inside_binary_data_blocks(run_json: RunJson, tmp_path: Path,
                                                kind: str) -> None:
    key = (x25519.X25519PrivateKey.generate() if kind == "x25519"
           else ed25519.Ed25519PrivateKey.generate())
    der = key.private_bytes(E.DER, F.PKCS8, NO)
    assert_blocks(run_json, tmp_path, f"{kind}.bin", os.urandom(300) + der + os.urandom(300))


def test_ec_key_misaligned_in_base64(run_json: RunJson, tmp_path: Path) -> None:
    """Base64 of a SEC1 DER that does not start at a multiple of 3 (two bytes before it)."""
    der = pki.ec_key(SLOT).private_bytes(E.DER, F.TraditionalOpenSSL, NO)
    assert isinstance(pki.ec_key(SLOT), ec.EllipticCurvePrivateKey)
    blob = base64.b64encode(b"\x00\x01" + der + bytes(5))
    assert_blocks(run_json, tmp_path, "blob.json", b'{"blob": "' + blob + b'"}\n')


# -- end to end: real `git commit`s through the real pre-commit client -------------------------

def test_real_commits(tmp_path: Path,
                      hook_snapshot: tuple[Path, str, dict[str, str]]) -> None:  # noqa: F811
    """The attacks above through `git commit` with the manifest's key hook, one fresh
    repository each: what leaks is blocked (and did not land), what is safe lands."""
    plain = _rsa_pkcs1()
    lines = _lines(plain)
    parts = _split(b"".join(_lines(_rsa_pkcs8())[1:-1]))
    blocked: dict[str, Callable[[Repo], None]] = {
        "symlink": lambda repo: (repo.path / "pki").mkdir() or _symlink(
            repo.path / "pki", "sensor1.pem", plain),
        "java": lambda repo: repo.write({"src/Key.java": CONCATENATIONS["java"](parts)}),
        "loose-object": lambda repo: repo.write({"fixture/dot_git/objects/ab/cd": zlib.compress(
            b"blob %d\0" % len(plain) + plain)}),
        "ec-first-line": lambda repo: repo.write({"docs/ec.md": b"\n".join(
            [*_lines(_ec_sec1())[:2], b"...", _lines(_ec_sec1())[-1]]) + b"\n"}),
    }
    landed: dict[str, Callable[[Repo], None]] = {
        "excerpt-and-code": lambda repo: repo.write({
            "docs/keys.md": b"\n".join([lines[0], *lines[1:3], b"...", lines[-1]]) + b"\n",
            "crypto/private_key.py": b"def load(): ...\n",
            "crypto/passphrase.py": b"def ask(): ...\n"}),
    }
    for name, make in {**blocked, **landed}.items():
        folder = tmp_path / name
        folder.mkdir()
        repo = _repo(folder, hook_snapshot, KEY_HOOKS)
        make(repo)
        repo.git("add", "-A")
        result = repo.commit()
        if name in blocked:
            assert_blocked(repo, result)
        else:
            assert_landed(repo, result)
