"""A labelled corpus of private keys and look-alikes, generated at test time.

Labels come from construction (we chose the encryption) or from the openssl and
ssh-keygen command lines, never from the code under test. Nothing here is committed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import shutil
import struct
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dh, dsa, ec, ed25519, rsa, x25519
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import pkcs12

from tests import pki
from tests.tools import require

UNENCRYPTED, ENCRYPTED, KEYLESS = "unencrypted", "encrypted", "keyless"
# Made by a tool only when it is installed: sample form -> tool (openssl is required).
TOOL_FORMS = {"ssh-keygen": "ssh-keygen", "gpg": "gpg"}
PASS = b"corpus-Pass-1"
E = serialization.Encoding
F = serialization.PrivateFormat
NO = serialization.NoEncryption()
AES = serialization.BestAvailableEncryption(PASS)


@dataclass(frozen=True)
class Sample:
    name: str
    data: bytes
    label: str
    form: str


def _rsa(bits: int = 2048) -> rsa.RSAPrivateKey:
    return pki.rsa_key(bits, 7)


def _ec() -> ec.EllipticCurvePrivateKey:
    return pki.ec_key(7)


def _openssl(*args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(["openssl", *args], input=data, capture_output=True,
                          check=True).stdout


def _pem_pkcs1() -> bytes:
    return _rsa().private_bytes(E.PEM, F.TraditionalOpenSSL, NO)


# -- SSH wire helpers for hand-built PuTTY and SSH2 keys ---------------------------------------

def _string(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


def _mpint(value: int) -> bytes:
    raw = value.to_bytes((value.bit_length() + 8) // 8, "big") if value else b""
    return _string(raw)


def _wrap(data: bytes, width: int = 64) -> list[str]:
    text = base64.b64encode(data).decode()
    return [text[i:i + width] for i in range(0, len(text), width)]


def _putty(version: int, encrypted: bool) -> bytes:
    key = _rsa()
    numbers = key.private_numbers()
    public = _string(b"ssh-rsa") + _mpint(numbers.public_numbers.e) + _mpint(
        numbers.public_numbers.n)
    private = _mpint(numbers.d) + _mpint(numbers.p) + _mpint(numbers.q) + _mpint(numbers.iqmp)
    encryption = b"aes256-cbc" if encrypted else b"none"
    comment = b"corpus"
    header_extra: list[str] = []
    if encrypted:
        private += hashlib.sha1(private).digest()[: (-len(private)) % 16]
        if version == 2:
            cipher_key = (hashlib.sha1(b"\0\0\0\0" + PASS).digest()
                          + hashlib.sha1(b"\0\0\0\1" + PASS).digest())[:32]
            iv = bytes(16)
            mac_key = hashlib.sha1(b"putty-private-key-file-mac-key" + PASS).digest()
        else:
            from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

            salt = os.urandom(16)
            derived = Argon2id(salt=salt, length=80, iterations=3, lanes=1,
                               memory_cost=8192).derive(PASS)
            cipher_key, iv, mac_key = derived[:32], derived[32:48], derived[48:]
            header_extra = ["Key-Derivation: Argon2id", "Argon2-Memory: 8192",
                            "Argon2-Passes: 3", "Argon2-Parallelism: 1",
                            f"Argon2-Salt: {salt.hex()}"]
        encryptor = Cipher(algorithms.AES(cipher_key), modes.CBC(iv)).encryptor()
        stored = encryptor.update(private) + encryptor.finalize()
    else:
        stored = private
        mac_key = (hashlib.sha1(b"putty-private-key-file-mac-key").digest() if version == 2
                   else b"")
    mac_data = b"".join(_string(v) for v in (b"ssh-rsa", encryption, comment, public, private))
    digest = hashlib.sha1 if version == 2 else hashlib.sha256
    mac = hmac.new(mac_key, mac_data, digest).hexdigest()
    public_lines, private_lines = _wrap(public), _wrap(stored)
    lines = [f"PuTTY-User-Key-File-{version}: ssh-rsa", f"Encryption: {encryption.decode()}",
             f"Comment: {comment.decode()}", f"Public-Lines: {len(public_lines)}",
             *public_lines, *header_extra, f"Private-Lines: {len(private_lines)}",
             *private_lines, f"Private-MAC: {mac}"]
    return ("\r\n".join(lines) + "\r\n").encode()


def _ssh2(encrypted: bool) -> bytes:
    numbers = _rsa().private_numbers()

    def bignum(value: int) -> bytes:
        return struct.pack(">I", value.bit_length()) + value.to_bytes(
            (value.bit_length() + 7) // 8, "big")

    fields = b"".join(bignum(v) for v in (numbers.public_numbers.e, numbers.d,
                                          numbers.public_numbers.n, numbers.iqmp, numbers.p,
                                          numbers.q))
    payload = struct.pack(">I", len(fields)) + fields
    cipher = b"none"
    if encrypted:  # 3DES-CBC ciphertext stand-in: the cipher field is what marks it encrypted
        cipher = b"3des-cbc"
        payload = os.urandom(len(payload) + (-len(payload)) % 8)
    body = (_string(b"if-modn{sign{rsa-pkcs1-sha1},encrypt{rsa-pkcs1v2-oaep}}")
            + _string(cipher) + _string(payload))
    blob = struct.pack(">II", 0x3F6FF9EB, 8 + len(body)) + body
    lines = ["---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----", 'Comment: "corpus key"',
             *_wrap(blob, 70), "---- END SSH2 ENCRYPTED PRIVATE KEY ----"]
    return ("\n".join(lines) + "\n").encode()


# -- OpenPGP, built packet by packet -----------------------------------------------------------

def _crc24(data: bytes) -> int:
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def _pgp_mpi(value: int) -> bytes:
    return struct.pack(">H", value.bit_length()) + value.to_bytes(
        (value.bit_length() + 7) // 8, "big")


def _pgp_armor(packets: bytes, label: str = "PGP PRIVATE KEY BLOCK") -> bytes:
    crc = base64.b64encode(_crc24(packets).to_bytes(3, "big")).decode()
    return (f"-----BEGIN {label}-----\nVersion: corpus\n\n" + "\n".join(_wrap(packets))
            + f"\n={crc}\n-----END {label}-----\n").encode()


def _pgp_packet(tag: int, body: bytes) -> bytes:
    length = len(body)
    if length < 192:
        encoded = bytes([length])
    elif length < 8384:
        length -= 192
        encoded = bytes([(length >> 8) + 192, length & 0xFF])
    else:
        encoded = b"\xff" + struct.pack(">I", length)
    return bytes([0xC0 | tag]) + encoded + body


def _pgp_secret_key(encrypted: bool) -> bytes:
    numbers = _rsa().private_numbers()
    public = (b"\x04" + struct.pack(">I", 1_700_000_000) + b"\x01"
              + _pgp_mpi(numbers.public_numbers.n) + _pgp_mpi(numbers.public_numbers.e))
    secret = (_pgp_mpi(numbers.d) + _pgp_mpi(numbers.p) + _pgp_mpi(numbers.q)
              + _pgp_mpi(numbers.iqmp))
    if encrypted:  # usage 254, AES-256, iterated+salted SHA-256 S2K, then ciphertext
        protection = b"\xfe\x09\x03\x08" + os.urandom(8) + b"\xff" + os.urandom(16)
        body = public + protection + os.urandom(len(secret) + 20)
    else:
        checksum = struct.pack(">H", sum(secret) & 0xFFFF)
        body = public + b"\x00" + secret + checksum
    user_id = _pgp_packet(13, b"Corpus <corpus@example.invalid>")
    return _pgp_armor(_pgp_packet(5, body) + user_id)


def _gpg_secret_key(folder: Path, passphrase: str) -> bytes | None:
    """None when gpg is not installed (test_key_corpus says so, skipped); an error when it
    is installed and fails, never a silently smaller corpus."""
    if shutil.which("gpg") is None:
        return None
    home = folder / f"gnupg-{len(passphrase)}"
    home.mkdir(mode=0o700)
    base = ["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback",
            "--passphrase", passphrase]
    try:
        subprocess.run([*base, "--quick-gen-key", "Corpus <c@example.invalid>", "ed25519",
                        "sign", "never"], check=True, capture_output=True, timeout=60)
        return subprocess.run([*base, "--armor", "--export-secret-keys"], check=True,
                              capture_output=True, timeout=60).stdout
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"],
                       capture_output=True, check=False)


def _unknown_oid_pkcs8() -> bytes:
    """PKCS#8 PrivateKeyInfo for an algorithm no loader knows (OID 1.3.6.1.4.1.99999.1)."""
    oid = bytes([0x06, 0x09, 0x2B, 0x06, 0x01, 0x04, 0x01, 0x86, 0x8D, 0x1F, 0x01])
    algorithm = b"\x30" + bytes([len(oid)]) + oid
    secret = b"\x04\x20" + os.urandom(32)
    inner = b"\x02\x01\x00" + algorithm + secret
    return b"\x30" + bytes([len(inner)]) + inner


def _json_escaped(pem: bytes) -> bytes:
    return json.dumps({"name": "sensor1", "private_key": pem.decode()}, indent=2).encode()


def _yaml_indented(pem: bytes) -> bytes:
    body = "".join(f"    {line}\n" for line in pem.decode().splitlines())
    return f"tls:\n  cert: sensor1.crt\n  key: |\n{body}".encode()


def _k8s_secret(pem: bytes) -> bytes:
    return (b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: sensor1-tls\n"
            b"type: kubernetes.io/tls\ndata:\n  tls.key: " + base64.b64encode(pem) + b"\n")


def _env(pem: bytes) -> bytes:
    return b'OTHER=1\nTLS_KEY="' + pem.replace(b"\n", b"\\n") + b'"\n'


def _markdown(pem: bytes) -> bytes:
    return b"# Sensor setup\n\nUse this key:\n\n```\n" + pem + b"```\n"


def _source_string(pem: bytes) -> bytes:
    lines = pem.decode().splitlines()
    joined = " +\n    ".join(json.dumps(line + "\n") for line in lines)
    return f"const key = {joined};\nexport default key;\n".encode()


def build(folder: Path) -> list[Sample]:
    """Every sample, written nowhere: the caller decides where files go."""
    require("openssl")  # it makes a dozen of them; ssh-keygen and gpg are optional
    key, eck = _rsa(), _ec()
    pkcs1 = key.private_bytes(E.PEM, F.TraditionalOpenSSL, NO)
    pkcs8 = key.private_bytes(E.PEM, F.PKCS8, NO)
    enc_pkcs8 = key.private_bytes(E.PEM, F.PKCS8, AES)
    samples: list[Sample] = []

    def add(name: str, data: bytes, label: str, form: str) -> None:
        samples.append(Sample(name, data, label, form))

    add("pkcs1.key", pkcs1, UNENCRYPTED, "PKCS#1 PEM")
    add("pkcs8.pem", pkcs8, UNENCRYPTED, "PKCS#8 PEM")
    add("rsa4096.key", _rsa(4096).private_bytes(E.PEM, F.PKCS8, NO), UNENCRYPTED,
        "PKCS#8 PEM 4096")
    add("sec1.pem", eck.private_bytes(E.PEM, F.TraditionalOpenSSL, NO), UNENCRYPTED, "SEC1 PEM")
    add("ec-pkcs8.key", eck.private_bytes(E.PEM, F.PKCS8, NO), UNENCRYPTED, "EC PKCS#8")
    dsa_key = dsa.generate_private_key(2048)
    add("dsa.pem", dsa_key.private_bytes(E.PEM, F.TraditionalOpenSSL, NO), UNENCRYPTED, "DSA PEM")
    ed = ed25519.Ed25519PrivateKey.generate()
    add("ed25519.pem", ed.private_bytes(E.PEM, F.PKCS8, NO), UNENCRYPTED, "Ed25519 PKCS#8")
    add("x25519.pem", x25519.X25519PrivateKey.generate().private_bytes(E.PEM, F.PKCS8, NO),
        UNENCRYPTED, "X25519 PKCS#8")
    add("unknown-oid.pem", b"-----BEGIN PRIVATE KEY-----\n" + base64.encodebytes(
        _unknown_oid_pkcs8()) + b"-----END PRIVATE KEY-----\n", UNENCRYPTED, "unknown OID")
    add("crlf.key", pkcs1.replace(b"\n", b"\r\n"), UNENCRYPTED, "CRLF")
    add("config.json", _json_escaped(pkcs8), UNENCRYPTED, "JSON escaped")
    add("values.yaml", _yaml_indented(pkcs1), UNENCRYPTED, "YAML indented")
    add("secret.yaml", _k8s_secret(pkcs1), UNENCRYPTED, "Kubernetes Secret")
    add("app.env", _env(pkcs8), UNENCRYPTED, ".env escaped")
    add("SETUP.md", _markdown(pkcs1), UNENCRYPTED, "markdown fence")
    add("keys.ts", _source_string(pkcs8), UNENCRYPTED, "source string")
    add("two-keys.pem", enc_pkcs8 + pkcs1, UNENCRYPTED, "several keys")
    add("pkcs1.der", key.private_bytes(E.DER, F.TraditionalOpenSSL, NO), UNENCRYPTED, "DER PKCS#1")
    add("key.bin", key.private_bytes(E.DER, F.PKCS8, NO), UNENCRYPTED, "DER PKCS#8")
    add("ec.dat", eck.private_bytes(E.DER, F.TraditionalOpenSSL, NO), UNENCRYPTED, "DER SEC1")
    body = base64.b64encode(key.private_bytes(E.DER, F.PKCS8, NO))
    add("body.txt", b"\n".join(body[i:i + 64] for i in range(0, len(body), 64)) + b"\n",
        UNENCRYPTED, "base64 body")
    add("inline.yaml", b"key: " + base64.b64encode(eck.private_bytes(E.DER, F.TraditionalOpenSSL,
                                                                       NO)) + b"\n",
        UNENCRYPTED, "base64 body inline")
    add("id_ed25519", ed.private_bytes(E.PEM, F.OpenSSH, NO), UNENCRYPTED, "OpenSSH")
    add("id_rsa", key.private_bytes(E.PEM, F.OpenSSH, NO), UNENCRYPTED, "OpenSSH RSA")
    add("putty2.ppk", _putty(2, False), UNENCRYPTED, "PuTTY v2")
    add("putty3.ppk", _putty(3, False), UNENCRYPTED, "PuTTY v3")
    add("ssh2.key", _ssh2(False), UNENCRYPTED, "SSH2")
    add("pgp-secret.asc", _pgp_secret_key(False), UNENCRYPTED, "OpenPGP")
    add("nopass.p12", pkcs12.serialize_key_and_certificates(
        b"k", key, None, None, NO), UNENCRYPTED, "PKCS#12 no password")

    add("enc-pkcs8.pem", enc_pkcs8, ENCRYPTED, "encrypted PKCS#8")
    add("enc-ec.key", eck.private_bytes(E.PEM, F.PKCS8, AES), ENCRYPTED, "encrypted EC")
    add("enc.der", key.private_bytes(E.DER, F.PKCS8, AES), ENCRYPTED, "encrypted DER")
    add("enc-config.json", _json_escaped(enc_pkcs8), ENCRYPTED, "JSON escaped encrypted")
    add("enc-values.yaml", _yaml_indented(enc_pkcs8), ENCRYPTED, "YAML encrypted")
    add("enc-secret.yaml", _k8s_secret(enc_pkcs8), ENCRYPTED, "Kubernetes encrypted")
    add("enc-crlf.key", enc_pkcs8.replace(b"\n", b"\r\n"), ENCRYPTED, "CRLF encrypted")
    add("enc-SETUP.md", _markdown(enc_pkcs8), ENCRYPTED, "markdown encrypted")
    add("enc-id_ed25519", ed.private_bytes(E.PEM, F.OpenSSH, AES), ENCRYPTED, "OpenSSH enc")
    add("enc-putty2.ppk", _putty(2, True), ENCRYPTED, "PuTTY v2 encrypted")
    add("enc-putty3.ppk", _putty(3, True), ENCRYPTED, "PuTTY v3 encrypted")
    add("enc-ssh2.key", _ssh2(True), ENCRYPTED, "SSH2 encrypted")
    add("enc-pgp.asc", _pgp_secret_key(True), ENCRYPTED, "OpenPGP encrypted")
    add("pass.pfx", pkcs12.serialize_key_and_certificates(b"k", key, None, None, AES),
        ENCRYPTED, "PKCS#12 password")

    # Headers and labels that lie: the structure decides.
    plain_der = key.private_bytes(E.DER, F.TraditionalOpenSSL, NO)
    add("lying-header.key", b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
        b"DEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\n"
        + base64.encodebytes(plain_der) + b"-----END RSA PRIVATE KEY-----\n",
        UNENCRYPTED, "Proc-Type header over a plaintext body")
    add("mislabel-encrypted.pem", b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
        + base64.encodebytes(key.private_bytes(E.DER, F.PKCS8, NO))
        + b"-----END ENCRYPTED PRIVATE KEY-----\n", UNENCRYPTED, "ENCRYPTED label, plain body")
    add("mislabel-plain.pem", b"-----BEGIN PRIVATE KEY-----\n"
        + base64.encodebytes(key.private_bytes(E.DER, F.PKCS8, AES))
        + b"-----END PRIVATE KEY-----\n", ENCRYPTED, "plain label, encrypted body")
    add("double-escaped.json", json.dumps({"inner": json.dumps({"key": pkcs1.decode()})})
        .encode(), UNENCRYPTED, "JSON in JSON")

    plain_file = folder / "plain-for-openssl.key"
    plain_file.write_bytes(pkcs1)
    passout = f"pass:{PASS.decode()}"
    add("openssl-v2.key", _openssl("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in",
                                   str(plain_file), "-passout", passout), ENCRYPTED,
        "openssl PBES2")
    add("openssl-scrypt.key", _openssl("pkcs8", "-topk8", "-scrypt", "-in", str(plain_file),
                                       "-passout", passout), ENCRYPTED, "openssl scrypt")
    add("legacy-aes.key", _openssl("rsa", "-aes256", "-traditional", "-in", str(plain_file),
                                   "-passout", passout), ENCRYPTED, "legacy PEM AES")
    add("legacy-des3.key", _openssl("rsa", "-des3", "-traditional", "-in", str(plain_file),
                                    "-passout", passout), ENCRYPTED, "legacy PEM 3DES")
    add("pbes1.key", _openssl("pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES", "-in",
                              str(plain_file), "-passout", passout), ENCRYPTED, "PBES1")
    add("few-iterations.key", _openssl("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-iter", "10",
                                       "-in", str(plain_file), "-passout", passout),
        ENCRYPTED, "PBKDF2 10 iterations")
    certificate = folder / "for-p12.crt"
    certificate.write_bytes(pki.pem(pki.certificate(pki.Spec(key_slot=7))))
    add("openssl-empty.p12", _openssl("pkcs12", "-export", "-inkey", str(plain_file), "-in",
                                      str(certificate), "-passout", "pass:"), UNENCRYPTED,
        "PKCS#12 empty password")
    add("openssl-plainbag.p12", _openssl("pkcs12", "-export", "-inkey", str(plain_file), "-in",
                                         str(certificate), "-keypbe", "NONE", "-certpbe", "NONE",
                                         "-passout", passout), UNENCRYPTED,
        "PKCS#12 plain key bag")
    add("openssl-pass.p12", _openssl("pkcs12", "-export", "-inkey", str(plain_file), "-in",
                                     str(certificate), "-passout", passout), ENCRYPTED,
        "PKCS#12 openssl")
    add("openssl-legacy.p12", _openssl("pkcs12", "-export", "-legacy", "-inkey",
                                       str(plain_file), "-in", str(certificate), "-passout",
                                       passout), ENCRYPTED, "PKCS#12 legacy 3DES/RC2")
    add("openssl-nomac-empty.pfx", _openssl("pkcs12", "-export", "-nomac", "-inkey",
                                            str(plain_file), "-in", str(certificate),
                                            "-passout", "pass:"), UNENCRYPTED,
        "PKCS#12 empty password, no MAC")
    plain_file.unlink()
    certificate.unlink()
    if shutil.which("ssh-keygen"):
        for passphrase, label in (("", UNENCRYPTED), (PASS.decode(), ENCRYPTED)):
            target = folder / f"sshkeygen-{label}"
            subprocess.run(["ssh-keygen", "-q", "-t", "ecdsa", "-N", passphrase, "-f",
                            str(target)], check=True, capture_output=True)
            add(f"ssh-keygen-{label}", target.read_bytes(), label, "ssh-keygen")
            target.unlink()
            target.with_suffix(".pub").unlink()
    for passphrase, label in (("", UNENCRYPTED), (PASS.decode(), ENCRYPTED)):
        exported = _gpg_secret_key(folder, passphrase)
        if exported is not None:
            add(f"gpg-{label}.asc", exported, label, "gpg")

    # -- look-alikes without a private key --
    cert = pki.certificate()
    add("cert.pem", pki.pem(cert), KEYLESS, "certificate")
    add("cert.der", pki.der(cert), KEYLESS, "certificate DER")
    add("req.csr", pki.pem(pki.csr()), KEYLESS, "CSR")
    add("public.pem", key.public_key().public_bytes(E.PEM, serialization.PublicFormat
                                                     .SubjectPublicKeyInfo), KEYLESS, "SPKI")
    add("rsa-public.pem", key.public_key().public_bytes(E.PEM, serialization.PublicFormat.PKCS1),
        KEYLESS, "RSA PUBLIC KEY")
    add("public.der", key.public_key().public_bytes(E.DER, serialization.PublicFormat
                                                     .SubjectPublicKeyInfo), KEYLESS, "SPKI DER")
    add("id_rsa.pub", key.public_key().public_bytes(E.OpenSSH, serialization.PublicFormat
                                                     .OpenSSH), KEYLESS, "ssh public")
    group14 = int("FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B"
                  "22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E"
                  "7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651EC"
                  "E45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356"
                  "208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E77"
                  "2C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2"
                  "261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF", 16)
    add("dhparam.pem", dh.DHParameterNumbers(group14, 2).parameters().parameter_bytes(
        E.PEM, serialization.ParameterFormat.PKCS3), KEYLESS, "DH parameters")
    add("ecparam.pem", _openssl("ecparam", "-name", "prime256v1"), KEYLESS, "EC parameters")
    add("placeholder.md", b"Paste your key:\n\n```\n-----BEGIN PRIVATE KEY-----\n...\n"
                          b"-----END PRIVATE KEY-----\n```\n", KEYLESS, "placeholder")
    add("placeholder2.md", b"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA...\n"
                           b"-----END RSA PRIVATE KEY-----\n", KEYLESS, "placeholder body")
    add("detector.py", b'BLACKLIST = [\n    b"BEGIN RSA PRIVATE KEY",\n    b"BEGIN DSA PRIVATE '
                       b'KEY",\n    b"BEGIN EC PRIVATE KEY",\n    b"BEGIN OPENSSH PRIVATE KEY",\n'
                       b'    b"BEGIN PRIVATE KEY",\n    b"PuTTY-User-Key-File-2",\n'
                       b'    b"BEGIN SSH2 ENCRYPTED PRIVATE KEY",\n    b"BEGIN PGP PRIVATE KEY '
                       b'BLOCK",\n]\n', KEYLESS, "source with header strings")
    add("parser.go", b'const begin = "-----BEGIN PRIVATE KEY-----"\nconst end = "-----END '
                     b'PRIVATE KEY-----"\n', KEYLESS, "source with both markers")
    add("prose.txt", b"Never commit a PRIVATE KEY. The IBA and AgE and CAQ words are noise.\n"
                     b"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA is a public key prefix.\n",
        KEYLESS, "prose")
    add("random.bin", os.urandom(4096), KEYLESS, "random bytes")
    add("random.b64", base64.encodebytes(os.urandom(6000)), KEYLESS, "random base64")
    add("image.svg", b'<svg><image href="data:image/png;base64,' + base64.b64encode(
        b"\x89PNG\r\n" + os.urandom(3000)) + b'"/></svg>\n', KEYLESS, "data URI")
    add("pgp-public.asc", _pgp_armor(_pgp_packet(6, b"\x04" + struct.pack(">I", 1) + b"\x01"
                                                 + _pgp_mpi(key.public_key().public_numbers().n)
                                                 + _pgp_mpi(65537)),
                                     "PGP PUBLIC KEY BLOCK"), KEYLESS, "OpenPGP public")
    add("chain.pem", pki.pem(cert) + pki.pem(pki.certificate(pki.Spec(ca=True))), KEYLESS,
        "chain")
    add("certs-only.p12", pkcs12.serialize_key_and_certificates(b"c", None, cert, None, NO),
        KEYLESS, "PKCS#12 without a key")
    add("empty.key", b"", KEYLESS, "empty")
    return samples


def write(folder: Path, samples: list[Sample]) -> dict[str, Sample]:
    folder.mkdir(parents=True, exist_ok=True)
    for sample in samples:
        (folder / sample.name).write_bytes(sample.data)
    return {sample.name: sample for sample in samples}


CorpusBuilder = Callable[[Path], list[Sample]]
