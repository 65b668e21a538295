"""Fuzzing: loaders and `certwarden check` on arbitrary and mutated input.

The only outcomes are findings or a clean message, never an uncaught exception, within a
bounded time per input. CI runs a short budget; for a long run:

    CERTWARDEN_FUZZ_EXAMPLES=5000 python -m pytest tests/test_fuzz.py
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certwarden.cli import main
from certwarden.config import Config
from certwarden.recognition import armor, key_sniff
from certwarden.recognition.certificates import load_certificates
from certwarden.recognition.keys import find_keys
from tests import pki

EXAMPLES = int(os.environ.get("CERTWARDEN_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=timedelta(seconds=2),
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
CONFIG = Config()


def _valid_inputs() -> list[bytes]:
    key = pki.rsa_key()
    cert = pki.certificate()
    E, F = serialization.Encoding, serialization.PrivateFormat
    encrypted = serialization.BestAvailableEncryption(b"fuzz-pass")
    return [
        pki.pem(cert), pki.der(cert), pki.pem(pki.csr()),
        key.private_bytes(E.PEM, F.TraditionalOpenSSL, serialization.NoEncryption()),
        key.private_bytes(E.DER, F.PKCS8, serialization.NoEncryption()),
        key.private_bytes(E.PEM, F.PKCS8, encrypted),
        key.private_bytes(E.DER, F.PKCS8, encrypted),
        key.private_bytes(E.PEM, F.OpenSSH, serialization.NoEncryption()),
    ]


VALID = _valid_inputs()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid certificate or key with bit flips, truncation or a corrupted length field."""
    data = bytearray(draw(st.sampled_from(VALID)))
    kind = draw(st.sampled_from(["flip", "truncate", "length", "splice"]))
    if kind == "flip":
        for _ in range(draw(st.integers(1, 8))):
            position = draw(st.integers(0, len(data) - 1))
            data[position] ^= 1 << draw(st.integers(0, 7))
    elif kind == "truncate":
        data = data[:draw(st.integers(0, len(data)))]
    elif kind == "length":
        # DER length bytes sit early; PEM gets its base64 body corrupted the same way.
        position = draw(st.integers(1, min(12, len(data) - 1)))
        data[position] = draw(st.sampled_from([0x00, 0x7F, 0x80, 0x84, 0xFF]))
    else:
        position = draw(st.integers(0, len(data)))
        data[position:position] = draw(st.binary(max_size=64))
    return bytes(data)


ANY_INPUT = st.one_of(st.binary(max_size=4096), mutated())


@FUZZ
@given(ANY_INPUT)
def test_key_loaders_never_raise(data: bytes) -> None:
    key_sniff.may_hold_private_key(data)
    scan = find_keys(data)
    for key in scan.keys:
        assert key.fingerprint and key.form


@FUZZ
@given(ANY_INPUT, st.sampled_from(["a.crt", "a.der", "a.p12", "a.pem", "a.csr"]))
def test_certificate_loaders_never_raise(data: bytes, name: str) -> None:
    loaded = load_certificates(data, name, passphrase=None)
    assert loaded.objects or loaded.unreadable or loaded.holds_key or loaded.holds_crl or \
        loaded.encrypted_bundle or loaded.bundle_refused
    for obj in loaded.objects:  # every fact reads, whatever the bytes
        assert obj.malformed is not None and obj.common_names is not None and obj.spki


@FUZZ
@given(st.binary(max_size=2048))
def test_armor_parsing_never_raises(body: bytes) -> None:
    wrapped = b"-----BEGIN PRIVATE KEY-----\n" + body + b"\n-----END PRIVATE KEY-----\n"
    first = armor.find_blocks(wrapped)[0]
    assert (first.label, first.line, first.start) == ("PRIVATE KEY", 1, 0)
    headers, der = armor.decode_body(body)
    assert isinstance(headers, dict) and (der is None or isinstance(der, bytes))


@FUZZ
@given(st.binary(max_size=2048))
def test_armor_body_round_trip(data: bytes) -> None:
    import base64

    assert armor.decode_body(base64.encodebytes(data)) == ({}, data)


@FUZZ
@given(ANY_INPUT, st.sampled_from(["x.crt", "x.key", "x.yaml", "x.p12", "x"]))
def test_check_gives_findings_or_clean_exit(tmp_path_factory: pytest.TempPathFactory,
                                            data: bytes, name: str) -> None:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    (folder / name).write_bytes(data)
    code = main(["check", "--format", "json", "--group", "certificates", "--group", "keys",
                 str(folder / name)])
    assert code in (0, 1)
