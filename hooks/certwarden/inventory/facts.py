"""Facts of one blob for the inventory: its certificates' fields, and whether its keys are
encrypted. Plain JSON-ready dictionaries, so they can be cached by blob id.

Certificates come from recognition.certificates.load_certificates (bundles, P7B, PFX,
including a PFX opened with its configured passphrase), through `certificates_in`, so
recognition changes reach the inventory. Each field is read on its own: a field that
cannot be parsed is None, and the rest of the row is still shown (the certificate rules
say what is wrong with it). Keys come from recognition.keys.find_keys; only whether each
is encrypted and the SHA-256 of its public key are kept, never key material.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

from certwarden.config import SIGNATURE_ALGORITHM_NAMES, Config

TYPE_CHECKING = False
if TYPE_CHECKING:
    from certwarden.recognition.certificates import CertificateFile, CertificateObject

Facts = dict[str, object]


def certificates_in(data: bytes, path: str, *, passphrase: bytes | None,
                    chain_file: bool) -> CertificateFile:
    """Everything certificate-like in one file, as the certificates group reads it."""
    from certwarden.recognition.certificates import load_certificates

    return load_certificates(data, path, passphrase=passphrase, chain_file=chain_file)


def _field(read: Callable[[], object]) -> object:
    try:
        return read()
    except Exception:  # a malformed field: None here, a finding from the rules
        return None


def _sans(obj: CertificateObject) -> list[str]:
    """SAN DNS names (also where cryptography refuses the extension), then IP addresses."""
    names = list(obj.dns_names)
    if obj.certificate is not None:
        from cryptography import x509

        try:
            extension = obj.certificate.extensions.get_extension_for_class(
                x509.SubjectAlternativeName)
            names += [str(n) for n in extension.value.get_values_for_type(x509.IPAddress)]
        except Exception:  # absent or malformed: cert-malformed names a broken one
            pass
    return names


def _serial(obj: CertificateObject) -> str | None:
    if obj.certificate is None:
        return None
    text = format(obj.certificate.serial_number, "X")
    return text.zfill(len(text) + len(text) % 2)


def _timestamp(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _signature(obj: CertificateObject) -> str:
    oid = obj.signature_oid
    return SIGNATURE_ALGORITHM_NAMES.get(oid, oid)


def certificate_facts(obj: CertificateObject) -> Facts:
    return {
        "index": obj.index, "line": obj.line, "fingerprint": obj.fingerprint,
        "common_names": _field(lambda: obj.common_names) or [],
        "sans": _field(lambda: _sans(obj)) or [],
        "issuer": _field(lambda: obj.issuer.text()),
        "serial": _field(lambda: _serial(obj)),
        "spki": _field(lambda: hashlib.sha256(obj.spki).hexdigest()),
        "not_before": _field(lambda: _timestamp(obj.not_before)),
        "not_after": _field(lambda: _timestamp(obj.not_after)),
        "key_type": _field(lambda: obj.public_key_type),
        "key_size": _field(lambda: obj.public_key_size),
        "signature_algorithm": _field(lambda: _signature(obj)),
        "crl_urls": _field(lambda: obj.crl_urls) or [],
        "is_ca": bool(_field(lambda: obj.is_ca)),
    }


def file_facts(data: bytes, path: str, *, passphrase: bytes | None, chain_file: bool) -> Facts:
    """The certificates of one file (CSRs are not certificates: no row), and whether the
    file also holds a private key (a PFX, or a PEM with key and certificate)."""
    loaded = certificates_in(data, path, passphrase=passphrase, chain_file=chain_file)
    certificates = [obj for obj in loaded.objects if obj.kind == "certificate"]
    return {"holds_key": loaded.holds_key or loaded.encrypted_bundle,
            "certificates": [certificate_facts(obj) for obj in certificates]}


def key_facts(data: bytes, *, config: Config, passphrase: bytes | None) -> list[Facts]:
    """Each private key in the bytes: encrypted or not, and its public key's SHA-256 when
    visible (or learned by opening it with its configured passphrase)."""
    from certwarden.recognition.keys import find_keys

    scan = find_keys(data, config=config)
    found: list[Facts] = []
    for key in scan.keys:
        public = key.public_key_der
        if public is None and key.encrypted and passphrase is not None and key.opener:
            public = _opened_public_key(key.opener, passphrase)
        found.append({"encrypted": key.encrypted, "form": key.form, "line": key.line,
                      "spki": hashlib.sha256(public).hexdigest() if public else None})
    return found


def _opened_public_key(opener: Callable[[bytes], object], passphrase: bytes) -> bytes | None:
    from certwarden.recognition.der_keys import describe_private_key

    try:
        private_key = opener(passphrase)
    except Exception:  # wrong passphrase or unsupported scheme: passphrase-wrong says so
        return None
    public = describe_private_key(private_key)[2]
    del private_key
    return public
