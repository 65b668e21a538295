"""Password-based encryption of keys: read the scheme and its parameters (facts for the
rules), and decrypt with a given passphrase, which is how "opens with the empty passphrase"
is established. PKCS#8 (PBES2 with PBKDF2 or scrypt, PBES1, the PKCS#12 PBE schemes) and
legacy PEM (`Proc-Type: 4,ENCRYPTED`, OpenSSL's EVP_BytesToKey).

cryptography reads b"" as "no password", so it cannot answer that question; the few
primitives needed are applied here, each derivation first cleared by the file's
WorkBudget (work_caps.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from certwarden.recognition import der_reader as der
from certwarden.recognition.found_key import Protection
from certwarden.recognition.work_caps import WorkBudget

PBES2 = "1.2.840.113549.1.5.13"
KDFS = {"1.2.840.113549.1.5.12": "pbkdf2", "1.3.6.1.4.1.11591.4.11": "scrypt"}
PRFS = {"1.2.840.113549.2.7": "sha1", "1.2.840.113549.2.8": "sha224",
        "1.2.840.113549.2.9": "sha256", "1.2.840.113549.2.10": "sha384",
        "1.2.840.113549.2.11": "sha512", "1.2.840.113549.2.12": "sha512_224",
        "1.2.840.113549.2.13": "sha512_256"}
# OID -> (cipher name, key length in bytes)
CIPHERS = {
    "2.16.840.1.101.3.4.1.2": ("aes-128-cbc", 16), "2.16.840.1.101.3.4.1.22": ("aes-192-cbc", 24),
    "2.16.840.1.101.3.4.1.42": ("aes-256-cbc", 32), "1.2.840.113549.3.7": ("des-ede3-cbc", 24),
    "1.3.14.3.2.7": ("des-cbc", 8), "1.2.840.113549.3.2": ("rc2-cbc", 16),
    "1.2.392.200011.61.1.1.1.2": ("camellia-128-cbc", 16),
    "1.2.392.200011.61.1.1.1.3": ("camellia-192-cbc", 24),
    "1.2.392.200011.61.1.1.1.4": ("camellia-256-cbc", 32),
    "1.2.156.10197.1.104.2": ("sm4-cbc", 16),
}
# PBES1 (PKCS#5 v1.5): OID -> (hash, cipher)
PBES1 = {"1.2.840.113549.1.5.1": ("md2", "des-cbc"), "1.2.840.113549.1.5.3": ("md5", "des-cbc"),
         "1.2.840.113549.1.5.4": ("md2", "rc2-cbc"), "1.2.840.113549.1.5.6": ("md5", "rc2-cbc"),
         "1.2.840.113549.1.5.10": ("sha1", "des-cbc"),
         "1.2.840.113549.1.5.11": ("sha1", "rc2-cbc")}
# PKCS#12 PBE (RFC 7292 appendix C): OID -> (cipher, key bytes)
PKCS12_PBE = {"1.2.840.113549.1.12.1.1": ("rc4-128", 16), "1.2.840.113549.1.12.1.2": ("rc4-40", 5),
              "1.2.840.113549.1.12.1.3": ("des-ede3-cbc", 24),
              "1.2.840.113549.1.12.1.4": ("des-ede-cbc", 16),
              "1.2.840.113549.1.12.1.5": ("rc2-128-cbc", 16),
              "1.2.840.113549.1.12.1.6": ("rc2-40-cbc", 5)}


class Unsupported(Exception):
    """A scheme or cipher this module cannot apply (the finding says which)."""


@dataclass
class Encryption:
    """An EncryptedPrivateKeyInfo read: what the rules see, and what decryption needs."""

    protection: Protection
    salt: bytes = b""
    iv: bytes = b""
    key_length: int = 0
    ciphertext: bytes = b""
    rc2_bits: int = 0
    extra: dict[str, bytes] = field(default_factory=dict)


def read_pkcs8(data: bytes) -> Encryption:
    """The encryption of a PKCS#8 EncryptedPrivateKeyInfo; DerError if it is not one."""
    outer = der.sequence(data)
    if len(outer) != 2 or outer[0][0] != der.SEQUENCE:
        raise der.DerError("not an EncryptedPrivateKeyInfo")
    algorithm = list(der.children(data, outer[0][1], outer[0][2]))
    if len(algorithm) != 2:
        raise der.DerError("an encryption algorithm has an OID and parameters")
    scheme = der.oid(data, algorithm[0])
    ciphertext = der.octets(data, outer[1])
    if scheme == PBES2:
        return _pbes2(data, algorithm[1], ciphertext)
    if scheme in PBES1 or scheme in PKCS12_PBE:
        params = list(der.children(data, algorithm[1][1], algorithm[1][2]))
        if len(params) != 2:
            raise der.DerError("PBE parameters are a salt and an iteration count")
        salt, iterations = der.octets(data, params[0]), der.integer(data, params[1])
        if scheme in PBES1:
            digest, cipher = PBES1[scheme]
            return Encryption(Protection("PBES1", cipher, f"pbkdf1-{digest}",
                                         {"iterations": iterations}), salt=salt,
                              ciphertext=ciphertext, key_length=8)
        cipher, length = PKCS12_PBE[scheme]
        return Encryption(Protection("PKCS#12 PBE", cipher, "pkcs12-kdf",
                                     {"iterations": iterations}, "sha1"), salt=salt,
                          ciphertext=ciphertext, key_length=length)
    return Encryption(Protection(f"scheme {scheme}"), ciphertext=ciphertext)


def _pbes2(data: bytes, parameters: tuple[int, int, int], ciphertext: bytes) -> Encryption:
    fields = list(der.children(data, parameters[1], parameters[2]))
    if len(fields) != 2:
        raise der.DerError("PBES2 parameters have two fields")
    kdf_alg = list(der.children(data, fields[0][1], fields[0][2]))
    cipher_alg = list(der.children(data, fields[1][1], fields[1][2]))
    kdf_oid, cipher_oid = der.oid(data, kdf_alg[0]), der.oid(data, cipher_alg[0])
    kdf = KDFS.get(kdf_oid, f"KDF {kdf_oid}")
    cipher, key_length = CIPHERS.get(cipher_oid, (f"cipher {cipher_oid}", 0))
    iv = b""
    rc2_bits = 0
    if len(cipher_alg) > 1:
        tag, start, end = cipher_alg[1]
        if tag == der.OCTET_STRING:
            iv = data[start:end]
        elif tag == der.SEQUENCE and cipher == "rc2-cbc":  # RC2-CBC-Parameter
            rc2 = list(der.children(data, start, end))
            version = der.integer(data, rc2[0]) if len(rc2) == 2 else 32
            rc2_bits = {160: 40, 120: 64, 58: 128}.get(version, version)
            iv = der.octets(data, rc2[-1])
    parameters_read: dict[str, int] = {}
    salt = b""
    prf = None
    if len(kdf_alg) > 1 and kdf_alg[1][0] == der.SEQUENCE:
        items = list(der.children(data, kdf_alg[1][1], kdf_alg[1][2]))
        if items and items[0][0] == der.OCTET_STRING:
            salt = der.octets(data, items[0])
        rest = items[1:]
        if kdf == "pbkdf2":
            parameters_read["iterations"] = der.integer(data, rest[0])
            prf = "sha1"
            for item in rest[1:]:
                if item[0] == der.INTEGER:
                    key_length = der.integer(data, item) or key_length
                elif item[0] == der.SEQUENCE:
                    prf_alg = list(der.children(data, item[1], item[2]))
                    prf_oid = der.oid(data, prf_alg[0])
                    prf = PRFS.get(prf_oid, f"PRF {prf_oid}")
        elif kdf == "scrypt":
            values = [der.integer(data, item) for item in rest[:4]]
            parameters_read = dict(zip(("n", "r", "p"), values[:3], strict=False))
            if len(values) > 3:
                key_length = values[3] or key_length
    protection = Protection("PBES2", cipher, kdf, parameters_read,
                            f"hmacWith{prf.upper()}" if prf and prf.startswith("sha") else prf)
    return Encryption(protection, salt=salt, iv=iv, key_length=key_length,
                      ciphertext=ciphertext, rc2_bits=rc2_bits)


# -- key derivation ---------------------------------------------------------------------------

def _pbkdf1(digest: str, passphrase: bytes, salt: bytes, iterations: int) -> bytes:
    value = passphrase + salt
    for _ in range(max(1, iterations)):
        value = hashlib.new(digest, value).digest()
    return value


def pkcs12_kdf(passphrase: bytes, salt: bytes, iterations: int, purpose: int,
               length: int) -> bytes:
    """RFC 7292 appendix B.2 with SHA-1; passphrase already in BMPString form."""
    u, v = 20, 64
    diversifier = bytes([purpose]) * v

    def stretch(value: bytes) -> bytes:
        if not value:
            return b""
        size = v * ((len(value) + v - 1) // v)
        return (value * (size // len(value) + 1))[:size]

    block = stretch(salt) + stretch(passphrase)
    out = b""
    while len(out) < length:
        a = hashlib.sha1(diversifier + block).digest()
        for _ in range(max(1, iterations) - 1):
            a = hashlib.sha1(a).digest()
        out += a
        b = int.from_bytes((a * (v // u + 1))[:v], "big")
        block = b"".join(
            ((int.from_bytes(block[i:i + v], "big") + b + 1) % (1 << (8 * v))).to_bytes(v, "big")
            for i in range(0, len(block), v))
    return out[:length]


def _cipher(name: str, key: bytes, iv: bytes, rc2_bits: int = 0) -> object:
    import warnings

    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from cryptography.hazmat.decrepit.ciphers import algorithms as old

        if name.startswith("aes"):
            return Cipher(algorithms.AES(key), modes.CBC(iv))
        if name.startswith("camellia"):
            return Cipher(algorithms.Camellia(key), modes.CBC(iv))
        if name == "sm4-cbc":
            return Cipher(algorithms.SM4(key), modes.CBC(iv))
        if name in ("des-ede3-cbc", "des-ede-cbc", "des-cbc"):
            if name == "des-ede-cbc":
                key = key + key[:8]
            return Cipher(old.TripleDES(key), modes.CBC(iv))
        if name.startswith("rc2"):
            return Cipher(old.RC2(key), modes.CBC(iv))
        if name.startswith("rc4"):
            return Cipher(old.ARC4(key), None)
        if name == "bf-cbc":
            return Cipher(old.Blowfish(key), modes.CBC(iv))
        if name == "seed-cbc":
            return Cipher(old.SEED(key), modes.CBC(iv))
        if name == "idea-cbc":
            return Cipher(old.IDEA(key), modes.CBC(iv))
    raise Unsupported(name)


def _unpad_block(plain: bytes, block: int) -> bytes | None:
    if not plain or len(plain) % block:
        return None
    pad = plain[-1]
    if not 1 <= pad <= block or plain[-pad:] != bytes([pad]) * pad:
        return None
    return plain[:-pad]


def plausible_key(plain: bytes | None) -> bool:
    """Decrypted bytes that are one DER SEQUENCE, exactly: a right passphrase."""
    return bool(plain) and plain is not None and plain[0] == 0x30 and \
        der.element_length(plain) == len(plain)


def _run(cipher_name: str, key: bytes, iv: bytes, ciphertext: bytes, rc2_bits: int = 0
         ) -> bytes | None:
    try:
        cipher = _cipher(cipher_name, key, iv, rc2_bits)
        decryptor = cipher.decryptor()  # type: ignore[attr-defined]
        plain: bytes = decryptor.update(ciphertext) + decryptor.finalize()
    except ValueError as exc:  # a key or IV size the cipher does not take
        raise Unsupported(f"{cipher_name}: {exc}") from None
    if cipher_name.startswith("rc4"):
        return plain
    block = 16 if cipher_name.startswith(("aes", "camellia", "sm4")) else 8
    return _unpad_block(plain, block)


def decrypt_pkcs8(encryption: Encryption, passphrase: bytes, budget: WorkBudget) -> bytes | None:
    """The PrivateKeyInfo under this passphrase, or None when it does not open.
    Raises Unsupported when the scheme cannot be applied or the work is refused."""
    memo = ""
    if not passphrase:  # remembered: the empty passphrase does not open these bytes
        protection = encryption.protection
        # Every input of the derivation and the cipher: the same bytes under other
        # parameters are another question.
        context = repr((protection.scheme, protection.cipher, protection.kdf, protection.prf,
                        sorted(protection.parameters.items()), encryption.key_length,
                        encryption.rc2_bits)).encode()
        memo = hashlib.sha256(b"pkcs8\0" + context + b"\0" + encryption.salt + b"\0"
                              + encryption.iv + b"\0" + encryption.ciphertext).hexdigest()
        if budget.known_closed(memo):
            return None
    plain = _decrypt_pkcs8(encryption, passphrase, budget)
    if memo and plain is None:
        budget.learn_closed(memo)
    return plain


def _decrypt_pkcs8(encryption: Encryption, passphrase: bytes, budget: WorkBudget
                   ) -> bytes | None:
    protection = encryption.protection
    kdf, parameters = protection.kdf or "", protection.parameters
    if protection.scheme == "PBES2":
        if kdf not in ("pbkdf2", "scrypt") or not encryption.key_length:
            raise Unsupported(f"{kdf or 'no KDF'} with {protection.cipher}")
        refused = budget.allow(kdf, parameters)
        if refused:
            raise Unsupported(refused)
        if kdf == "pbkdf2":
            digest = (protection.prf or "hmacWithSHA1").removeprefix("hmacWith").lower()
            if digest not in hashlib.algorithms_available:
                raise Unsupported(f"PBKDF2 with {protection.prf}")
            key = hashlib.pbkdf2_hmac(digest, passphrase, encryption.salt,
                                      parameters["iterations"], encryption.key_length)
        else:
            n, r, p = parameters["n"], parameters["r"], parameters["p"]
            key = hashlib.scrypt(passphrase, salt=encryption.salt, n=n, r=r, p=p,
                                 maxmem=128 * n * r * p + (64 << 20), dklen=encryption.key_length)
        return _checked(_run(protection.cipher or "", key, encryption.iv,
                             encryption.ciphertext, encryption.rc2_bits))
    if protection.scheme == "PBES1":
        refused = budget.allow("pbkdf2", parameters)
        if refused:
            raise Unsupported(refused)
        digest = kdf.removeprefix("pbkdf1-")
        if digest not in hashlib.algorithms_available:
            raise Unsupported(f"PBES1 with {digest}")
        derived = _pbkdf1(digest, passphrase, encryption.salt, parameters["iterations"])
        return _checked(_run(protection.cipher or "", derived[:8], derived[8:16],
                             encryption.ciphertext, 64))
    if protection.scheme == "PKCS#12 PBE":
        refused = budget.allow("pkcs12-kdf", {"iterations": 2 * parameters["iterations"]})
        if refused:
            raise Unsupported(refused)
        bmp = passphrase.decode("utf-8", "replace").encode("utf-16-be") + b"\0\0"
        for password in ((bmp,) if passphrase else (b"\0\0", b"")):
            iterations = parameters["iterations"]
            key = pkcs12_kdf(password, encryption.salt, iterations, 1, encryption.key_length)
            iv = pkcs12_kdf(password, encryption.salt, iterations, 2, 8)
            plain = _checked(_run(protection.cipher or "", key, iv, encryption.ciphertext))
            if plain is not None:
                return plain
        return None
    raise Unsupported(protection.scheme)


def _checked(plain: bytes | None) -> bytes | None:
    return plain if plausible_key(plain) else None


# -- legacy PEM -------------------------------------------------------------------------------

LEGACY_CIPHERS = {"AES-128-CBC": ("aes-128-cbc", 16), "AES-192-CBC": ("aes-192-cbc", 24),
                  "AES-256-CBC": ("aes-256-cbc", 32), "DES-EDE3-CBC": ("des-ede3-cbc", 24),
                  "DES-EDE-CBC": ("des-ede-cbc", 16), "DES-CBC": ("des-cbc", 8),
                  "RC2-CBC": ("rc2-cbc", 16), "RC2-64-CBC": ("rc2-cbc", 8),
                  "RC2-40-CBC": ("rc2-cbc", 5), "BF-CBC": ("bf-cbc", 16),
                  "CAMELLIA-128-CBC": ("camellia-128-cbc", 16),
                  "CAMELLIA-192-CBC": ("camellia-192-cbc", 24),
                  "CAMELLIA-256-CBC": ("camellia-256-cbc", 32), "SEED-CBC": ("seed-cbc", 16),
                  "IDEA-CBC": ("idea-cbc", 16)}


def legacy_protection(dek_info: str) -> tuple[Protection, bytes]:
    """(protection, IV) of a `Proc-Type: 4,ENCRYPTED` key from its DEK-Info header."""
    name, _, iv_hex = dek_info.partition(",")
    name = name.strip().upper()
    cipher = LEGACY_CIPHERS.get(name, (name.lower() or "unknown", 0))[0]
    try:
        iv = bytes.fromhex(iv_hex.strip())
    except ValueError:
        iv = b""
    return Protection("legacy PEM", cipher, "md5", {"iterations": 1}), iv


def decrypt_legacy(dek_info: str, ciphertext: bytes, passphrase: bytes) -> bytes | None:
    """The DER under this passphrase (EVP_BytesToKey with MD5, one pass), or None."""
    name = dek_info.partition(",")[0].strip().upper()
    if name not in LEGACY_CIPHERS:
        raise Unsupported(f"legacy PEM cipher {name}")
    cipher, length = LEGACY_CIPHERS[name]
    _, iv = legacy_protection(dek_info)
    if len(iv) < 8:
        raise Unsupported("legacy PEM without a valid IV")
    derived, block = b"", b""
    while len(derived) < length:
        block = hashlib.md5(block + passphrase + iv[:8]).digest()
        derived += block
    return _checked(_run(cipher, derived[:length], iv, ciphertext))
