"""The registry of private key formats: each declares how it is spotted and who reads it.

A format names its markers (literals searched in one pass over every file, see
key_sniff.py), or the armor labels it owns, or an O(1) probe of the first bytes, and the
module whose `find(view, positions, scan)` turns the bytes into facts (found_key.py). The
cheap sniff and the dispatch are derived from this table: a new format is one entry, one
module and one golden sample. Import-light: the modules are imported only when a file
holds one of their markers.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs start-up time; mypy reads this block all the same
if TYPE_CHECKING:
    from collections.abc import Callable


class KeyFormat:
    """One format. (A plain class: read on every run, dataclasses cost start-up time.)"""

    __slots__ = ("labels", "markers", "module", "name", "probe", "summary")

    def __init__(self, name: str, summary: str, module: str, *, markers: tuple[bytes, ...] = (),
                 labels: tuple[str, ...] = (), probe: Callable[[bytes], bool] | None = None
                 ) -> None:
        self.name = name
        self.summary = summary  # for people (README, `certwarden inspect`)
        self.module = module  # certwarden.recognition.<module>.find(view, positions, scan, name)
        self.markers = markers
        self.labels = labels  # armor labels it owns ("*": any label ending PRIVATE KEY)
        self.probe = probe  # O(1) look at the first bytes


def _der_probe(data: bytes) -> bool:
    from certwarden.recognition.key_sniff import der_key_start

    return der_key_start(data)


def _openpgp_probe(data: bytes) -> bool:
    """A binary OpenPGP secret key packet (tag 5) opens the data."""
    if len(data) < 8:
        return False
    first = data[0]
    if first & 0xC0 == 0xC0:  # new packet format
        return first & 0x3F == 5
    return first & 0xC0 == 0x80 and (first >> 2) & 0x0F == 5 and first & 3 != 3


def _pvk_probe(data: bytes) -> bool:
    return data[:4] == b"\x1e\xf1\xb5\xb0"


FORMATS: tuple[KeyFormat, ...] = (
    KeyFormat("pem", "PEM blocks of every private-key label: PKCS#1 (RSA), SEC1 (EC), DSA, "
              "PKCS#8, encrypted PKCS#8, legacy `Proc-Type: 4,ENCRYPTED`",
              "pem_keys", markers=(b"PRIVATE",), labels=("*",)),
    KeyFormat("openssh", "OpenSSH `openssh-key-v1` keys (armored, or the bare structure)",
              "ssh_keys", labels=("OPENSSH PRIVATE KEY",),
              probe=lambda data: data.startswith(b"openssh-key-v1\0")),
    KeyFormat("openpgp", "OpenPGP secret keys, armored and binary (`gpg --export-secret-keys`)",
              "openpgp", labels=("PGP PRIVATE KEY BLOCK",), probe=_openpgp_probe),
    KeyFormat("ssh2", "SSH2 (ssh.com, SECSH) private keys", "ssh_keys",
              markers=(b"PRIVATE",)),
    KeyFormat("openvpn", "OpenVPN static keys (`openvpn --genkey`, inline `<tls-crypt>`)",
              "secret_keys", markers=(b"OpenVPN Static key",),
              labels=("OpenVPN Static key V1",)),
    KeyFormat("putty", "PuTTY PPK v2 and v3", "putty_keys", markers=(b"PuTTY-User-Key-File-",)),
    KeyFormat("pkcs12", "PKCS#12 / PFX bundles", "pkcs12_keys", markers=(b"\x02\x01\x03",),
              probe=_der_probe),
    KeyFormat("der", "DER keys (PKCS#1, SEC1, DSA, PKCS#8), whole files or inside other bytes",
              "der_keys", markers=(b"\x02\x01\x00", b"\x02\x01\x01"), probe=_der_probe),
    KeyFormat("gpg-agent", "gpg-agent key files (`private-keys-v1.d/*.key`)", "gpg_agent_keys",
              markers=(b"private-key",)),
    KeyFormat("jwk", "JSON Web Keys with a private member `d` (RSA, EC, OKP)", "jwk_keys",
              markers=(b"kty",)),  # `kty"`, JSON-escaped `kty\"`: one literal
    KeyFormat("xml", ".NET `<RSAKeyValue>`/`<DSAKeyValue>` XML with `<D>`, `<P>` or `<X>`",
              "xml_keys", markers=(b"KeyValue",)),
    KeyFormat("mscapi", "Windows CryptoAPI PRIVATEKEYBLOB and PVK files", "mscapi_keys",
              markers=(b"RSA2", b"DSS2"), probe=_pvk_probe),
    KeyFormat("openssl-text", "`openssl pkey -text` dumps of private keys", "openssl_text",
              markers=(b"Private-Key:",)),
    KeyFormat("age", "age identities (`AGE-SECRET-KEY-1...`)", "secret_keys",
              markers=(b"AGE-SECRET-KEY-1",)),
    KeyFormat("wireguard", "WireGuard `PrivateKey = ...` (wg-quick, systemd-networkd)",
              "secret_keys", markers=(b"PrivateKey",)),
)
