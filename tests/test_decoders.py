"""One golden test per decoder (certwarden.decoders): a key under that layer is found as
unencrypted and names the layer, its encrypted counterpart is found as encrypted, and
hostile inputs hit a cap that the finding names, quickly and without a traceback.

Keys are generated at test time; archives are made with the real tools where installed.
"""

from __future__ import annotations

import base64
import bz2
import gzip
import io
import json
import lzma
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from certwarden.decoders import transports
from certwarden.decoders.base64_runs import TRIGGERS, computed_triggers
from certwarden.decoders.escapes import unescapings
from certwarden.recognition import key_sniff
from certwarden.recognition.found_key import FoundKey
from certwarden.recognition.keys import find_keys
from tests import pki

E, F = serialization.Encoding, serialization.PrivateFormat
PASS = b"decoder-Pass-5"
HARD_TIMEOUT = 20.0


def _plain() -> bytes:
    return pki.rsa_key(2048, 22).private_bytes(E.PEM, F.PKCS8, serialization.NoEncryption())


def _encrypted() -> bytes:
    return pki.rsa_key(2048, 22).private_bytes(E.PEM, F.PKCS8,
                                               serialization.BestAvailableEncryption(PASS))


def _der(pem: bytes) -> bytes:
    return base64.b64decode(b"".join(pem.splitlines()[1:-1]))


def _one(data: bytes) -> FoundKey:
    scan = find_keys(data)
    assert scan.unreadable == [], [u.reason for u in scan.unreadable]
    assert len(scan.keys) == 1, [k.describe() for k in scan.keys]
    return scan.keys[0]


def _tar(member: bytes) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        info = tarfile.TarInfo("keys/server.key")
        info.size = len(member)
        archive.addfile(info, io.BytesIO(member))
    return out.getvalue()


def _zip(member: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("keys/server.key", member)
    return out.getvalue()


Encode = Callable[[bytes], bytes]
LAYERS: list[tuple[str, Encode, str]] = [
    ("UTF-16LE", lambda pem: b"\xff\xfe" + pem.decode().encode("utf-16-le"), "UTF-16LE"),
    ("UTF-32BE", lambda pem: pem.decode().encode("utf-32-be"), "UTF-32BE"),
    ("gzip", gzip.compress, "gzip"),
    ("bzip2", bz2.compress, "bzip2"),
    ("xz", lzma.compress, "xz"),
    ("zip", _zip, "zip"),
    ("tar", _tar, "tar"),
    ("tar.gz", lambda pem: gzip.compress(_tar(pem)), "gzip > tar"),
    ("base64 of PEM, offset 1", lambda pem: base64.b64encode(b"x" + pem), "base64"),
    ("base64url of PEM", lambda pem: base64.urlsafe_b64encode(pem).rstrip(b"="), "base64"),
    ("base64 wrapped", lambda pem: base64.encodebytes(pem), "base64"),
    ("base64 twice", lambda pem: base64.b64encode(base64.b64encode(pem)), "base64 > base64"),
    ("base64 of DER in JSON", lambda pem: json.dumps({"k": base64.b64encode(_der(pem))
                                                      .decode()}).encode(), "base64"),
    ("hex of DER", lambda pem: _der(pem).hex().encode(), "hex"),
    ("xxd-style hex of PEM", lambda pem: b"\n".join(pem.hex()[i:i + 60].encode()
                                                    for i in range(0, len(pem) * 2, 60)), "hex"),
    ("colon hex of DER", lambda pem: b":".join(b"%02x" % b for b in _der(pem)), "hex"),
    ("C array of DER", lambda pem: b"unsigned char k[] = {" + b", ".join(
        b"0x%02x" % b for b in _der(pem)) + b"};", "hex"),
    ("decimal bytes", lambda pem: json.dumps(list(_der(pem))).encode(), "decimal bytes"),
    ("Python bytes literal", lambda pem: b"KEY = " + repr(_der(pem)).encode(), "bytes literal"),
    ("JSON \\u escapes", lambda pem: json.dumps({"k": pem.decode()}).replace("+", "\\u002B")
     .encode(), None),
    ("URL-encoded", lambda pem: b"key=" + __import__("urllib.parse").parse.quote(
        pem.decode(), safe="").encode(), "URL-encoding"),
    ("XML references", lambda pem: b'<a v="' + pem.replace(b"\n", b"&#10;") + b'"/>',
     "XML/HTML references"),
    ("string literal per line", lambda pem: b"".join(b'    b"' + line + b'\\n"\n'
                                                     for line in pem.splitlines()), None),
    ("Java signed byte array", lambda pem: b"byte[] k = {" + b", ".join(
        str(b - 256 if b > 127 else b).encode() for b in _der(pem)) + b"};", "decimal bytes"),
    ("upper-case 0X hex", lambda pem: b"{" + b", ".join(b"0X%02X" % b for b in _der(pem))
     + b"}", "hex"),
    ("quoted-printable e-mail", lambda pem: b"Content-Transfer-Encoding: quoted-printable\n\n"
     + __import__("quopri").encodestring(pem), "quoted-printable"),
    ("word processor XML", lambda pem: b"<w:body>" + b"".join(
        b"<w:p><w:r><w:t>" + line + b"</w:t></w:r></w:p>" for line in pem.splitlines())
     + b"</w:body>", "XML/HTML references"),
    ("base64 of DER, no armor, wrapped", lambda pem: b"key:\n" + b"\n".join(
        b"  " + line for line in base64.encodebytes(_der(pem)).splitlines()), "base64"),
]


@pytest.mark.parametrize(("name", "encode", "how"), LAYERS, ids=[layer[0] for layer in LAYERS])
def test_decoder_finds_the_key_and_names_the_layer(name: str, encode: Encode,
                                                   how: str | None) -> None:
    pem = _plain()
    encoded = encode(pem)
    plain = _one(encoded)
    assert not plain.encrypted and plain.key_type == "rsa"
    if how is not None and pem.strip() in encoded:
        # Quoted-printable leaves a PEM without `=` padding as it is (it depends on the
        # key's length): then it is found as PEM, with no layer to name.
        assert plain.via == () or " > ".join(plain.via).startswith(how), plain.via
    elif how is not None:
        assert " > ".join(plain.via).startswith(how), plain.via
        assert how.split(" > ")[0] in plain.describe()
    # The encrypted counterpart stays allowed: found as encrypted, or (an encrypted DER
    # under a layer has no plaintext version field to trigger on) not found at all.
    scan = find_keys(encode(_encrypted()))
    assert scan.unreadable == []
    assert all(k.encrypted and k.opens_with_empty_passphrase is False for k in scan.keys)
    if how is None or ("base64" in how and "DER" not in name) or how.startswith("UTF"):
        assert len(scan.keys) == 1  # armor under the layer: still recognised


def test_archive_member_paths_are_named() -> None:
    key = _one(gzip.compress(_tar(_zip(_plain()))))
    assert key.via == ("gzip", "tar", "zip") and key.member == "keys/server.key:keys/server.key"
    assert "in keys/server.key:keys/server.key" in key.describe()


def test_real_zip_and_tar_tools(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "server.key").write_bytes(_plain())
    for command, name in ((["zip", "-q", "-r", "bundle.zip", "keys"], "bundle.zip"),
                          (["tar", "-cJf", "bundle.tar.xz", "keys"], "bundle.tar.xz")):
        try:
            subprocess.run(command, cwd=tmp_path, check=True, capture_output=True)
        except FileNotFoundError:
            pytest.skip(f"{command[0]} is not installed")
        key = _one((tmp_path / name).read_bytes())
        assert key.member is not None and key.member.endswith("keys/server.key")


def test_every_decoder_has_triggers_or_a_probe_and_the_literals_are_few() -> None:
    for decoder in transports():
        assert decoder.triggers or type(decoder).probe is not type(decoder).__mro__[1].probe
    table = key_sniff._Table()
    # The automaton keeps its SIMD fast path up to 64 literals: stay under it.
    assert len(table.literals) <= 64
    assert computed_triggers() == TRIGGERS


def test_only_the_text_probes_can_fire_on_data_opening_with_printable_ascii() -> None:
    """key_sniff skips the other probes for such data: none of them may ever fire on it."""
    table = key_sniff._Table()
    others = [(probe, names) for probe, names in table.probes
              if (probe, names) not in table.text_probes]
    assert others and table.text_probes
    tails = [bytes(range(256)), bytes(range(255, -1, -1)), b"\x30\x82\x01\x00\x02\x01\x00",
             b"\x02\x01\x00" * 30, b"\xf1\xb5\xb0" + bytes(64),
             # what the text probes look for: they must stay among the text probes
             b"penssh-key-v1\x00" + bytes(64), b"K\x03\x04" + bytes(64), b"Zh9" + bytes(64),
             b"\x9c" + bytes(64), b"\x00a\x00b\x00c\x00d" * 8, b"A" * 80]
    for first in range(0x20, 0x7F):
        if first == 0x30:  # "0": a DER SEQUENCE
            continue
        for tail in tails:
            data = bytes([first]) + tail
            assert not any(probe(data) for probe, _ in others), (first, tail[:8])


def test_unescapings_compose() -> None:
    pem = _plain().decode()
    doubly = json.dumps(json.dumps({"key": pem}))  # JSON in a JSON string
    layers = [layers for layers, text in unescapings(doubly.encode())
              if b"-----BEGIN PRIVATE KEY-----\nMII" in text]
    assert ("JSON string", "JSON string") in layers


def test_keyless_lookalikes_stay_quiet() -> None:
    import os

    for data in (base64.b64encode(os.urandom(3000)), os.urandom(3000).hex().encode(),
                 json.dumps(list(os.urandom(500))).encode(), gzip.compress(b"hello" * 1000),
                 pki.pem(pki.certificate()), base64.b64encode(pki.der(pki.certificate())),
                 pki.der(pki.certificate()).hex().encode()):
        scan = find_keys(data)
        assert scan.keys == [] and scan.unreadable == [], data[:40]


# -- hostile inputs: caps, named in the finding, quickly, no traceback -------------------------

def _check(folder: Path, name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "certwarden", "check", "--group", "keys",
                           "--format", "json", "--", name], cwd=folder, capture_output=True,
                          text=True, timeout=HARD_TIMEOUT)


def _bomb_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", bytes(200 * 1024 * 1024))
    return out.getvalue()


def _pbkdf2_over_cap() -> bytes:
    from tests.adversarial_keys import der_patch_integers

    der = _der(_encrypted())
    return b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + base64.encodebytes(
        der_patch_integers(der, 2048, 2 ** 31 - 1)) + b"-----END ENCRYPTED PRIVATE KEY-----\n"


def _nested_base64(depth: int) -> bytes:
    data = _plain()
    for _ in range(depth):
        data = base64.b64encode(data)
    return data


HOSTILE: list[tuple[str, Callable[[], bytes], str | None, str]] = [
    ("bomb.zip", _bomb_zip, "cap", "warning"),
    ("bomb.gz", lambda: gzip.compress(bytes(300 * 1024 * 1024)), "cap", "warning"),
    ("pbkdf2.key", _pbkdf2_over_cap, "over the cap", "error"),
    ("deep.b64", lambda: _nested_base64(9), None, ""),
    ("long-line.txt", lambda: b"LS0t" + b"A" * (8 * 1024 * 1024), None, ""),
    ("many-putty.txt", lambda: b"PuTTY-User-Key-File-3: ssh-rsa\n" * 40000, None, ""),
    ("many-xml.txt", lambda: b"<RSAKeyValue>" * 80000, None, ""),
    ("many-ssh2.txt", lambda: b"---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\n" * 30000, None, ""),
    ("many-kty.json", lambda: b'{"kty": "RSA", ' * 60000, None, ""),
]


@pytest.mark.parametrize(("name", "make", "expected", "severity"), HOSTILE,
                         ids=[case[0] for case in HOSTILE])
def test_hostile_input_is_bounded(tmp_path: Path, name: str, make: Callable[[], bytes],
                                  expected: str | None, severity: str) -> None:
    (tmp_path / name).write_bytes(make())
    result = _check(tmp_path, name)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode in (0, 1), result.stderr[-500:]
    findings = json.loads(result.stdout)["findings"]
    if expected is not None:
        assert any(expected in f["message"] and f["severity"] == severity for f in findings), \
            findings
