"""Odd certificates, built at test time: one malformed part in an otherwise known certificate.

Each builder starts from a certificate `tests.pki` builds (its `Spec()` defaults meet the
policy; every date is relative to `pki.NOW`), breaks exactly one thing, re-signs it, and
says which rule ids `certwarden check` must report for it: `cert-malformed` for the
broken part plus every policy rule that still applies. Where cryptography's builder
cannot write the odd part, the certificate is edited as DER (asn1crypto's parser and
core types) and signed again; where openssl writes it naturally, `openssl req -addext`
does. Nothing here is committed but code: keys live in `pki`'s cache and temporary files.

What real malformed certificates look like (learned from zlint's and pkilint's test
sets and the x509 test generators they cite, nothing copied): general names of types
few parsers support (x400Address, ediPartyName), otherName of a private type, SCT lists
whose TLS lengths lie, name constraints with a non-CIDR mask or a `*` label, policy
qualifiers of the wrong ASN.1 type, CA:FALSE with a pathLenConstraint, the same
extension twice, an EKU with no purpose, empty or repeated RDN attributes, post-quantum
SPKIs, and an outer signatureAlgorithm that disagrees with tbsCertificate.signature.

File selection (issue 12, item 5): the file names certificate tooling writes, and
whether the check-certificates hook should select them by name. Judgement is by content
afterwards, so a selected name whose content holds only a key gets no certificate finding.

Selected (asserted by `test_odd_certificates.py`):
- `.crt .cer .der .pem`: openssl (`x509 -out`, `req -x509 -out`), Windows certutil and the
  MMC export wizard (DER or Base-64 `.cer`, `certutil -store ... x.crt`), keytool
  `-exportcert` (DER `.cer`, or PEM with `-rfc`), cert-manager's `tls.crt` and `ca.crt`
  (mounted Secret keys), certbot's `cert.pem`/`fullchain.pem`.
- `.cert`: the same content under a name many guides and tools use (`server.cert`);
  identify tags it as nothing, so only the `files` regex can select it.
- `.p7b .p7c`: PKCS#7 certificate bundles (certutil / MMC export, `openssl crl2pkcs7`).
- `.pfx .p12`: PKCS#12 (openssl `pkcs12 -export`, certutil `-exportPFX`, keytool's
  default keystore type since Java 9, cert-manager's `keystore.p12`/`truststore.p12`).
- `.csr .req`: certificate requests (`openssl req -new`, keytool `-certreq`; Windows
  `certreq -new` writes `.req`), held to the same subject and key rules.
- Any case: Windows writes `.CER` and `.PFX`.

Not selected here, with reasons (the implementer may decide otherwise; not asserted):
- `.jks .keystore .jceks .bks`: Java/BouncyCastle proprietary keystores with no reader in
  cryptography or asn1crypto; selected by name they would all be `cert-unreadable` (a
  block on every Java repository). A PKCS#12 keystore under such a name is a known gap.
- `.sst`: a Microsoft serialized certificate store (magic 0x54524543, "CERT"), not DER
  PKCS#7; the same unreadable problem without a reader for it.
- `.spc .p7s`: code-signing / S/MIME PKCS#7, not appliance TLS certificates.
- `.crl`: revocation lists, read through the `crl-files` setting, not certificates.
- `.key`, `tls.key`, `key.der`: keys are the key hook's, which runs on every file.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import core, parser
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from tests import pki
from tests.tools import require

DAY = datetime.timedelta(days=1)

# -- DER, one TLV at a time (asn1crypto's parser does the framing) ---------------------------

UNIVERSAL, CONTEXT, APPLICATION = 0, 2, 1

SHA256_RSA = "1.2.840.113549.1.1.11"
SHA1_RSA = "1.2.840.113549.1.1.5"
RSASSA_PSS = "1.2.840.113549.1.1.10"
ML_DSA_65 = "2.16.840.1.101.3.4.3.18"
ML_KEM_768 = "2.16.840.1.101.3.4.4.2"
SLH_DSA_SHA2_128S = "2.16.840.1.101.3.4.3.20"
SCT_LIST = "1.3.6.1.4.1.11129.2.4.2"
SAN = "2.5.29.17"
BASIC_CONSTRAINTS = "2.5.29.19"
NAME_CONSTRAINTS = "2.5.29.30"
CERTIFICATE_POLICIES = "2.5.29.32"
EXT_KEY_USAGE = "2.5.29.37"
ID_QT_CPS = "1.3.6.1.5.5.7.2.1"
PRIVATE_ARC = "1.3.6.1.4.1.55555"  # an unassigned private enterprise arc, for odd types


def tlv(tag: int, content: bytes, *, cls: int = UNIVERSAL, constructed: bool = False) -> bytes:
    return bytes(parser.emit(cls, 1 if constructed else 0, tag, content))


def seq(*items: bytes) -> bytes:
    return tlv(16, b"".join(items), constructed=True)


def set_of(*items: bytes) -> bytes:
    return tlv(17, b"".join(items), constructed=True)


def ctx(tag: int, content: bytes, *, constructed: bool = True) -> bytes:
    return tlv(tag, content, cls=CONTEXT, constructed=constructed)


def oid(dotted: str) -> bytes:
    return bytes(core.ObjectIdentifier(dotted).dump())


def integer(value: int) -> bytes:
    return bytes(core.Integer(value).dump())


def octets(value: bytes) -> bytes:
    return bytes(core.OctetString(value).dump())


def bits(value: bytes) -> bytes:
    return tlv(3, b"\x00" + value)


def utf8(text: str) -> bytes:
    return bytes(core.UTF8String(text).dump())


def printable(text: str) -> bytes:
    return bytes(core.PrintableString(text).dump())


def boolean(value: bool) -> bytes:
    return b"\x01\x01\xff" if value else b"\x01\x01\x00"


def children(der: bytes) -> list[bytes]:
    """The complete encodings of a constructed value's children."""
    contents = parser.parse(der, strict=True)[4]
    found = []
    while contents:
        length = parser.peek(contents)
        found.append(contents[:length])
        contents = contents[length:]
    return found


def algorithm(dotted: str, *, null: bool = True) -> bytes:
    return seq(oid(dotted), b"\x05\x00") if null else seq(oid(dotted))


def extension(dotted: str, value: bytes, *, critical: bool = False) -> bytes:
    return seq(oid(dotted), *([boolean(True)] if critical else []), octets(value))


def attribute(dotted: str, value: bytes) -> bytes:
    return seq(oid(dotted), value)


# -- certificate surgery ---------------------------------------------------------------------

@dataclass
class Tbs:
    """A TBSCertificate as its child TLVs: version, serial, signature, issuer, validity,
    subject, subjectPublicKeyInfo, [3] extensions."""

    parts: list[bytes]

    SIGNATURE, ISSUER, VALIDITY, SUBJECT, SPKI = 2, 3, 4, 5, 6

    @classmethod
    def of(cls, cert: x509.Certificate) -> Tbs:
        return cls(children(children(pki.der(cert))[0]))

    @property
    def extensions(self) -> list[bytes]:
        return children(children(self.parts[-1])[0])

    @extensions.setter
    def extensions(self, items: Sequence[bytes]) -> None:
        self.parts[-1] = ctx(3, seq(*items))

    def replace_extension(self, dotted: str, new: bytes) -> None:
        """Swap the extension with this OID for `new`; append it when there is none."""
        items = self.extensions
        encoded = oid(dotted)
        for index, item in enumerate(items):
            if children(item)[0] == encoded:
                items[index] = new
                break
        else:
            items.append(new)
        self.extensions = items

    def add_extension(self, new: bytes) -> None:
        self.extensions = [*self.extensions, new]

    @property
    def subject_rdns(self) -> list[bytes]:
        return children(self.parts[self.SUBJECT])

    @subject_rdns.setter
    def subject_rdns(self, rdns: Sequence[bytes]) -> None:
        self.parts[self.SUBJECT] = seq(*rdns)
        self.parts[self.ISSUER] = self.parts[self.SUBJECT]  # still self-issued

    @property
    def rsa_public_key(self) -> bytes:
        """The RSAPublicKey inside the SPKI's BIT STRING."""
        bit_string = children(self.parts[self.SPKI])[1]
        return bytes(parser.parse(bit_string, strict=True)[4][1:])  # after the unused bits


HASHES: dict[str, tuple[str, hashes.HashAlgorithm]] = {
    "sha256": (SHA256_RSA, hashes.SHA256()),
    "sha1": (SHA1_RSA, hashes.SHA1()),  # deliberately weak test certificates
}


def sign(tbs: Tbs, key: rsa.RSAPrivateKey, *, hash_name: str = "sha256",
         inner: str | None = None) -> bytes:
    """The certificate DER: tbs signed with `hash_name`; the outer signatureAlgorithm names
    that hash, tbsCertificate.signature names `inner` (default: the same algorithm)."""
    outer_oid, hash_algorithm = HASHES[hash_name]
    tbs.parts[Tbs.SIGNATURE] = algorithm(inner or outer_oid)
    body = seq(*tbs.parts)
    signature = key.sign(body, padding.PKCS1v15(), hash_algorithm)
    return seq(body, algorithm(outer_oid), bits(signature))


def der_to_pem(der: bytes) -> bytes:
    text = base64.b64encode(der).decode()
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    return ("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines)
            + "\n-----END CERTIFICATE-----\n").encode()


# -- the cases -------------------------------------------------------------------------------

@dataclass(frozen=True)
class OddCertificate:
    """One odd certificate file and the verdict `certwarden check` owes it.

    `expected` is the exact set of rule ids reported for the file; None means only "it
    blocks through some error finding" (a policy decision the implementer makes).
    `optional` rules may be reported too (documented where used). `names` are the words
    of which the cert-malformed message must hold one (case-insensitive).
    """

    case: str
    filename: str
    data: bytes
    expected: frozenset[str] | None
    names: tuple[str, ...] = ()
    optional: frozenset[str] = frozenset()
    note: str = ""


# Breakages of the policy that a malformed part must not hide.
POLICY_BREAKS: dict[str, tuple[pki.Spec, str, frozenset[str]]] = {
    # name: (spec, signing hash, rules it adds)
    "compliant": (pki.Spec(), "sha256", frozenset()),
    "wildcard": (pki.Spec(cn="*.plant.example.com"), "sha256", frozenset({"cert-wildcard"})),
    "sha1": (pki.Spec(), "sha1", frozenset({"cert-signature-algorithm"})),
    "expired": (pki.Spec(not_before=pki.NOW - 400 * DAY, not_after=pki.NOW - DAY), "sha256",
                frozenset({"cert-expired"})),
    "rsa1024": (pki.Spec(key_bits=1024), "sha256", frozenset({"cert-key-size"})),
    "https-crl": (pki.Spec(crl_urls=["https://crl.plant.example.com/issuing.crl"]), "sha256",
                  frozenset({"cert-crl-distribution-point"})),
}

Edit = Callable[[Tbs], None]


@dataclass(frozen=True)
class Breakage:
    """One malformed part: how to make it, what the message must name, extra rules."""

    edit: Edit
    names: tuple[str, ...]
    adds: frozenset[str] = frozenset({"cert-malformed"})
    optional: frozenset[str] = frozenset()
    inner: str | None = None  # tbsCertificate.signature, when it differs from the outer
    note: str = ""


SAN_NAMES = ("subjectAltName", "subject alternative name", "SubjectAlternativeName",
             "2.5.29.17", "SAN")
DNS = tlv(2, b"sensor1.plant.example.com", cls=CONTEXT)


def _san(*names: bytes) -> Edit:
    def edit(tbs: Tbs) -> None:
        tbs.replace_extension(SAN, extension(SAN, seq(*names)))
    return edit


def _x400_address() -> bytes:
    # [3] IMPLICIT ORAddress: built-in standard attributes with a country (APPLICATION 1,
    # a CHOICE, so explicit) and an organization name ([3] IMPLICIT PrintableString).
    standard = seq(tlv(1, printable("US"), cls=APPLICATION, constructed=True),
                   tlv(3, b"Example Corp", cls=CONTEXT))
    return ctx(3, standard)


def _edi_party_name() -> bytes:
    # [5] IMPLICIT EDIPartyName { nameAssigner [0] OPTIONAL, partyName [1] DirectoryString }
    return ctx(5, ctx(0, utf8("Plant EDI registry")) + ctx(1, utf8("sensor1 gateway")))


def _other_name() -> bytes:
    # [0] IMPLICIT OtherName { type-id, [0] EXPLICIT value }: a private type nobody knows.
    return ctx(0, oid(f"{PRIVATE_ARC}.1.1") + ctx(0, utf8("asset-4711")))


def _bad_sct_list(tbs: Tbs) -> None:
    # A TLS-encoded SignedCertificateTimestampList whose list length claims 0x0100 bytes
    # but three follow.
    tbs.add_extension(extension(SCT_LIST, octets(b"\x01\x00\x00\x01\x02")))


def _name_constraints(*permitted: bytes) -> Edit:
    def edit(tbs: Tbs) -> None:
        subtrees = ctx(0, b"".join(seq(name) for name in permitted))
        tbs.add_extension(extension(NAME_CONSTRAINTS, seq(subtrees), critical=True))
    return edit


def _bad_policy_qualifier(tbs: Tbs) -> None:
    # PolicyQualifierInfo id-qt-cps must carry an IA5String URI; this one is an INTEGER.
    qualifier = seq(oid(ID_QT_CPS), integer(7))
    policy = seq(oid(f"{PRIVATE_ARC}.2.1"), seq(qualifier))
    tbs.add_extension(extension(CERTIFICATE_POLICIES, seq(policy)))


def _ca_false_with_path_length(tbs: Tbs) -> None:
    # cA absent (DEFAULT FALSE) but pathLenConstraint 0: RFC 5280 4.2.1.9 forbids it.
    tbs.replace_extension(BASIC_CONSTRAINTS,
                          extension(BASIC_CONSTRAINTS, seq(integer(0)), critical=True))


def _duplicate_san(tbs: Tbs) -> None:
    one = extension(SAN, seq(DNS))
    tbs.extensions = [*tbs.extensions, one, one]


def _empty_eku(tbs: Tbs) -> None:
    tbs.add_extension(extension(EXT_KEY_USAGE, seq()))


def _empty_rdn(tbs: Tbs) -> None:
    rdns = tbs.subject_rdns
    tbs.subject_rdns = [*rdns[:-1], set_of(), rdns[-1]]  # an empty SET before the CN


def _duplicate_attribute(tbs: Tbs) -> None:
    # One RDN holding the same locality twice (L=Plant 4 + L=Plant 4); L is checked by no
    # rule, so only the parse problem is left to report.
    locality = attribute(NameOID.LOCALITY_NAME.dotted_string, utf8("Plant 4"))
    rdns = tbs.subject_rdns
    tbs.subject_rdns = [*rdns[:-1], set_of(locality, locality), rdns[-1]]


def _spki(algorithm_oid: str, key_bytes: int) -> Edit:
    def edit(tbs: Tbs) -> None:
        # Random key bytes: deterministic per algorithm, so fingerprints are stable.
        body = hashlib.shake_256(algorithm_oid.encode()).digest(key_bytes)
        tbs.parts[Tbs.SPKI] = seq(algorithm(algorithm_oid, null=False), bits(body))
    return edit


def _rsassa_pss_spki(tbs: Tbs) -> None:
    # The same RSA key, restricted to RSASSA-PSS (parameters absent: any PSS hash).
    tbs.parts[Tbs.SPKI] = seq(algorithm(RSASSA_PSS, null=False), bits(tbs.rsa_public_key))


def _nothing(tbs: Tbs) -> None:
    pass


SPKI_NAMES = ("public key", "subjectPublicKeyInfo", "SPKI", "ML-DSA", "ML-KEM", "SLH-DSA",
              ML_DSA_65, ML_KEM_768, SLH_DSA_SHA2_128S, "key type", "algorithm")
SUBJECT_NAMES = ("subject", "RDN", "distinguished name")

BREAKAGES: dict[str, Breakage] = {
    "san-x400address": Breakage(_san(DNS, _x400_address()), (*SAN_NAMES, "x400")),
    "san-edipartyname": Breakage(_san(DNS, _edi_party_name()), (*SAN_NAMES, "ediParty")),
    "san-othername-unknown-type": Breakage(
        _san(DNS, _other_name()), (), adds=frozenset(),
        note="an otherName of any type-id is valid ASN.1 and parses: nothing is malformed"),
    "sct-list-garbage": Breakage(
        _bad_sct_list, ("SCT", "signed certificate timestamp", "SignedCertificateTimestamp",
                        "Precertificate", SCT_LIST)),
    "name-constraints-ip-mask": Breakage(
        _name_constraints(ctx(7, bytes([10, 0, 0, 0, 255, 0, 255, 0]), constructed=False)),
        ("nameConstraints", "name constraints", "NameConstraints", NAME_CONSTRAINTS)),
    "certificate-policies-qualifier": Breakage(
        _bad_policy_qualifier, ("certificatePolicies", "certificate policies",
                                "CertificatePolicies", "policy", CERTIFICATE_POLICIES)),
    "ca-false-path-length": Breakage(
        _ca_false_with_path_length, ("basicConstraints", "basic constraints",
                                     "BasicConstraints", "path length", "pathLen",
                                     BASIC_CONSTRAINTS)),
    "duplicate-san": Breakage(_duplicate_san, (*SAN_NAMES, "duplicate")),
    "empty-eku": Breakage(_empty_eku, ("extKeyUsage", "extended key usage", "ExtendedKeyUsage",
                                       "EKU", EXT_KEY_USAGE)),
    "subject-empty-rdn": Breakage(_empty_rdn, SUBJECT_NAMES),
    "subject-duplicate-attribute": Breakage(_duplicate_attribute, SUBJECT_NAMES),
    "spki-ml-dsa": Breakage(
        _spki(ML_DSA_65, 1952), SPKI_NAMES, adds=frozenset({"cert-key-type"}),
        optional=frozenset({"cert-malformed"}),
        note="any 1952 bytes are an ML-DSA-65 public key, and cryptography 50 reads it: not "
             "malformed there, but a cryptography without ML-DSA cannot read it"),
    "spki-ml-kem": Breakage(
        _spki(ML_KEM_768, 1184), SPKI_NAMES,
        adds=frozenset({"cert-malformed", "cert-key-type"}),
        note="random bytes are no ML-KEM-768 key (coefficients >= q): cryptography refuses it"),
    "spki-slh-dsa": Breakage(
        _spki(SLH_DSA_SHA2_128S, 32), SPKI_NAMES,
        adds=frozenset({"cert-malformed", "cert-key-type"}),
        note="an algorithm cryptography does not know at all (UnsupportedAlgorithm)"),
    "signature-algorithm-mismatch": Breakage(
        _nothing, ("signature",), inner=SHA1_RSA,
        optional=frozenset({"cert-signature-algorithm"}),
        note="outer sha256WithRSAEncryption (the real signature), tbsCertificate.signature "
             "sha1WithRSAEncryption; cert-signature-algorithm may name the inner SHA-1 too"),
    "signature-algorithm-mismatch-outer-sha1": Breakage(
        _nothing, ("signature",), inner=SHA256_RSA,
        adds=frozenset({"cert-malformed", "cert-signature-algorithm"}),
        note="signed with SHA-1 (outer), tbsCertificate.signature says sha256WithRSA"),
}

# Which breakages meet which policy break (beyond every breakage on a compliant base).
COMBINATIONS: list[tuple[str, str]] = [
    ("san-x400address", "wildcard"),
    ("san-edipartyname", "wildcard"),
    ("sct-list-garbage", "sha1"),
    ("sct-list-garbage", "https-crl"),
    ("name-constraints-ip-mask", "expired"),
    ("certificate-policies-qualifier", "rsa1024"),
    ("ca-false-path-length", "rsa1024"),
    ("duplicate-san", "wildcard"),
    ("empty-eku", "expired"),
    ("subject-empty-rdn", "wildcard"),
    ("subject-duplicate-attribute", "sha1"),
    ("spki-ml-dsa", "expired"),
    ("spki-ml-kem", "wildcard"),
    ("spki-slh-dsa", "expired"),
]


def odd_certificate(breakage_name: str, base: str = "compliant") -> OddCertificate:
    """One breakage in a certificate with one (or no) policy break."""
    breakage = BREAKAGES[breakage_name]
    spec, hash_name, adds = POLICY_BREAKS[base]
    if breakage_name == "signature-algorithm-mismatch-outer-sha1":
        hash_name = "sha1"
    tbs = Tbs.of(pki.certificate(spec))
    breakage.edit(tbs)
    key = spec.private_key()
    assert isinstance(key, rsa.RSAPrivateKey)
    der = sign(tbs, key, hash_name=hash_name, inner=breakage.inner)
    case = breakage_name if base == "compliant" else f"{breakage_name}+{base}"
    return OddCertificate(case=case, filename=f"{case.replace('+', '-')}.crt",
                          data=der_to_pem(der), expected=frozenset(breakage.adds | adds),
                          names=breakage.names, optional=breakage.optional,
                          note=breakage.note)


def malformed_cases() -> list[OddCertificate]:
    """Every breakage alone, then the listed ones together with a policy break."""
    cases = [odd_certificate(name) for name in BREAKAGES]
    cases += [odd_certificate(name, base) for name, base in COMBINATIONS]
    return cases


# -- RSA-PSS: "is it RSA?" is the implementer's decision -------------------------------------

def rsa_pss_cases() -> list[OddCertificate]:
    """An RSA-PSS signed certificate, and an rsassaPss-restricted SPKI (sha256WithRSA
    signature). The policy names sha256WithRSAEncryption and "RSA"; whether a PSS-only key is
    RSA is for the implementer to decide and document, so only "blocks, by some error
    rule, never an internal error" is asserted (expected None)."""
    pss_signed = pki.certificate(pki.Spec(pss=True))
    tbs = Tbs.of(pki.certificate())
    _rsassa_pss_spki(tbs)
    restricted = sign(tbs, pki.rsa_key())
    return [
        OddCertificate("rsa-pss-signed", "rsa-pss-signed.crt", pki.pem(pss_signed), None,
                       note="signatureAlgorithm rsassaPss (SHA-256, MGF1-SHA-256)"),
        OddCertificate("rsassa-pss-spki", "rsassa-pss-spki.crt", der_to_pem(restricted), None,
                       note="SPKI algorithm rsassaPss, no parameters"),
    ]


# -- openssl -addext: how such certificates are really made ----------------------------------

SUBJECT = "/C=US/O=Example Corp/OU=Plant Engineering/CN=sensor1.plant.example.com"
WILDCARD_SUBJECT = "/C=US/O=Example Corp/OU=Plant Engineering/CN=*.plant.example.com"
NC_NAMES = ("nameConstraints", "name constraints", "NameConstraints", NAME_CONSTRAINTS)
BC_NAMES = ("basicConstraints", "basic constraints", "BasicConstraints", "path length",
            "pathLen", BASIC_CONSTRAINTS)


@dataclass(frozen=True)
class OpensslRecipe:
    extensions: tuple[str, ...]
    expected: frozenset[str]
    names: tuple[str, ...] = ()
    subject: str = SUBJECT
    note: str = ""


# `openssl req -x509` marks its certificates CA:TRUE without keyCertSign: alone in a file,
# certwarden judges such a certificate as an appliance's, so the leaf rules apply.
OPENSSL_RECIPES: dict[str, OpensslRecipe] = {
    "openssl-name-constraints-star": OpensslRecipe(
        ("nameConstraints=critical,permitted;DNS:*",), frozenset({"cert-malformed"}), NC_NAMES,
        note="RFC 5280 constraints are domain names and cryptography refuses a `*` label; it "
             "is no wildcard certificate name (cert-wildcard judges CN and SAN). Issue 12: "
             "today it crashes inspect, scan and the unique hook"),
    "openssl-name-constraints-star-wildcard-cn": OpensslRecipe(
        ("nameConstraints=permitted;DNS:*",), frozenset({"cert-malformed", "cert-wildcard"}),
        NC_NAMES, subject=WILDCARD_SUBJECT),
    "openssl-name-constraints-ip-mask": OpensslRecipe(
        ("nameConstraints=critical,permitted;IP:10.0.0.0/255.0.255.0",),
        frozenset({"cert-malformed"}), NC_NAMES),
    "openssl-ca-false-pathlen": OpensslRecipe(
        ("basicConstraints=critical,CA:FALSE,pathlen:0",), frozenset({"cert-malformed"}),
        BC_NAMES),
    "openssl-othername-san": OpensslRecipe(
        (f"subjectAltName=DNS:sensor1.plant.example.com,otherName:{PRIVATE_ARC}.1.1;"
         "UTF8:asset-4711",), frozenset(), note="an otherName of a private type parses"),
}


def pem_to_der(pem: bytes) -> bytes:
    body = pem.split(b"-----", 4)[2]
    return base64.b64decode(b"".join(body.split()))


def openssl_certificate(folder: Path, name: str, *extensions: str,
                        subject: str = SUBJECT) -> bytes:
    """`openssl req -x509 -addext ...` with the cached test key (its key file deleted),
    then given a validity relative to pki.NOW and signed again: openssl dates it by the
    real clock, which the tests never depend on."""
    require("openssl")
    key = folder / f"{name}.key"
    key.write_bytes(pki.rsa_key().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"test-only-pass")))
    out = folder / f"{name}.crt"
    command = ["openssl", "req", "-x509", "-new", "-key", str(key), "-passin",
               "pass:test-only-pass", "-sha256", "-days", "365", "-subj", subject,
               "-set_serial", str(int.from_bytes(name.encode()[:8], "big")),
               "-addext", f"crlDistributionPoints=URI:{pki.CRL_URL}"]
    for item in extensions:
        command += ["-addext", item]
    try:
        subprocess.run([*command, "-out", str(out)], check=True, capture_output=True)
        made = out.read_bytes()
    finally:
        key.unlink(missing_ok=True)
        out.unlink(missing_ok=True)
    tbs = Tbs(children(children(pem_to_der(made))[0]))
    tbs.parts[Tbs.VALIDITY] = seq(bytes(core.UTCTime(pki.NOW - 30 * DAY).dump()),
                                  bytes(core.UTCTime(pki.NOW + 365 * DAY).dump()))
    return der_to_pem(sign(tbs, pki.rsa_key()))


def openssl_case(folder: Path, case: str) -> OddCertificate:
    recipe = OPENSSL_RECIPES[case]
    filename = case.removeprefix("openssl-")
    return OddCertificate(case, f"{filename}.crt",
                          openssl_certificate(folder, filename, *recipe.extensions,
                                              subject=recipe.subject),
                          recipe.expected, names=recipe.names, note=recipe.note)


# -- DER that cryptography cannot load at all ------------------------------------------------

def unloadable_cases() -> list[OddCertificate]:
    """Broken framing: nothing in it can be judged, so only cert-unreadable."""
    der = pki.der(pki.certificate())
    bad_length = bytearray(der)
    assert bad_length[1] == 0x82
    declared = int.from_bytes(bad_length[2:4], "big")
    bad_length[2:4] = (declared + 40).to_bytes(2, "big")  # claims 40 bytes more than there are
    tbs_length = bytearray(der)
    tbs_length[6:8] = (int.from_bytes(der[6:8], "big") - 7).to_bytes(2, "big")  # tbs too short
    only = frozenset({"cert-unreadable"})
    return [
        OddCertificate("der-truncated", "truncated.der", der[: len(der) // 2], only),
        OddCertificate("der-bad-outer-length", "bad-outer-length.der", bytes(bad_length), only),
        OddCertificate("der-bad-tbs-length", "bad-tbs-length.cer", bytes(tbs_length), only),
        OddCertificate("pem-truncated-body", "truncated-body.pem",
                       der_to_pem(der[: len(der) - 60]), only),
    ]


# -- bundles ---------------------------------------------------------------------------------

@dataclass
class Bundle:
    """A PEM CA bundle in cacert.pem style (a comment line before each certificate)."""

    data: bytes
    count: int
    # (PEM BEGIN line, rule) that must be reported; nothing else may be.
    expected: set[tuple[int, str]] = field(default_factory=set)
    # PEM BEGIN line of each malformed certificate -> words its cert-malformed message names
    malformed_lines: dict[int, tuple[str, ...]] = field(default_factory=dict)


def _root_ca(index: int, *, hash_name: str = "sha256", breakage: str | None = None,
             expired: bool = False) -> bytes:
    """A self-signed root CA (CA:TRUE, keyCertSign) that meets the CA rules."""
    not_after = pki.NOW - DAY if expired else pki.NOW + 3650 * DAY
    spec = pki.Spec(cn=f"Odd Test Root CA {index:03d}", org=f"Test Trust Services {index}",
                    ca=True, crl_urls=None, key_slot=index % 4,
                    not_before=pki.NOW - 4000 * DAY, not_after=not_after)
    cert = pki.certificate(spec)
    if breakage is None and hash_name == "sha256":
        return pki.der(cert)
    tbs = Tbs.of(cert)
    if breakage is not None:
        BREAKAGES[breakage].edit(tbs)
    key = spec.private_key()
    assert isinstance(key, rsa.RSAPrivateKey)
    return sign(tbs, key, hash_name=hash_name)


def ca_bundle(count: int, *, malformed: dict[int, tuple[str, str]],
              expired: Sequence[int] = ()) -> Bundle:
    """`count` root CAs; `malformed` maps index -> (breakage, hash) for the odd ones."""
    bundle = Bundle(b"", count)
    chunks: list[bytes] = []
    line = 1
    for index in range(count):
        breakage, hash_name = malformed.get(index, (None, "sha256"))
        der = _root_ca(index, hash_name=hash_name or "sha256", breakage=breakage,
                       expired=index in expired)
        comment = f"# Odd Test Root CA {index:03d}\n".encode()
        pem = der_to_pem(der)
        begin = line + 1
        chunks += [comment, pem, b"\n"]
        line += 1 + pem.count(b"\n") + 1
        if index in malformed:
            bundle.expected.add((begin, "cert-malformed"))
            bundle.malformed_lines[begin] = BREAKAGES[breakage].names if breakage else ()
            if hash_name == "sha1":
                bundle.expected.add((begin, "cert-signature-algorithm"))
        if index in expired:
            bundle.expected.add((begin, "cert-expired"))
    bundle.data = b"".join(chunks)
    return bundle


def large_ca_bundle() -> Bundle:
    """348 certificates (the size of a real CA bundle), two malformed ones in the middle:
    a CA with a non-CIDR name-constraint mask, and a SHA-1 CA with a bad policy qualifier."""
    return ca_bundle(348, malformed={150: ("name-constraints-ip-mask", "sha256"),
                                     201: ("certificate-policies-qualifier", "sha1")})


def medium_ca_bundle() -> Bundle:
    """150 certificates (an NSS-sized bundle): one duplicate-extension CA, one CA with a bad
    SCT list, and one expired CA."""
    return ca_bundle(150, malformed={40: ("duplicate-san", "sha256"),
                                     97: ("sct-list-garbage", "sha256")},
                     expired=[120])


# -- PKCS#12 with a passphrase ---------------------------------------------------------------

PFX_PASSPHRASE = "Pfx-Test-Pass.42"  # a test-only passphrase
PFX_VARIABLE = "CERTWARDEN_TEST_PFX_PASS"


def pkcs12_file(folder: Path, name: str, certificate_pem: bytes, key: rsa.RSAPrivateKey,
                *options: str) -> bytes:
    """`openssl pkcs12 -export -passout ...` of one certificate and its key."""
    require("openssl")
    cert_file, key_file, out = (folder / f"{name}.crt.tmp", folder / f"{name}.key.tmp",
                                folder / f"{name}.p12.tmp")
    cert_file.write_bytes(certificate_pem)
    key_file.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PFX_PASSPHRASE.encode())))
    env = {**os.environ, "PFX_TEST_PASS": PFX_PASSPHRASE}
    try:
        subprocess.run(["openssl", "pkcs12", "-export", "-in", str(cert_file), "-inkey",
                        str(key_file), "-passin", "env:PFX_TEST_PASS", "-passout",
                        "env:PFX_TEST_PASS", "-name", name, *options, "-out", str(out)],
                       check=True, capture_output=True, env=env)
        return out.read_bytes()
    finally:
        for path in (cert_file, key_file, out):
            path.unlink(missing_ok=True)


def openssl_supports_legacy_pkcs12() -> bool:
    require("openssl")
    result = subprocess.run(["openssl", "pkcs12", "-help"], capture_output=True, text=True)
    return "-legacy" in result.stdout + result.stderr


PFX_ENCRYPTIONS: dict[str, tuple[str, ...]] = {
    "aes-256-cbc": ("-certpbe", "AES-256-CBC", "-keypbe", "AES-256-CBC"),
    "3des": ("-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1"),
    "legacy": ("-legacy",),  # RC2-40 for the certificates, 3DES for the key
}


def pfx_contents() -> dict[str, tuple[bytes, rsa.RSAPrivateKey, frozenset[str]]]:
    """What goes into the password-protected PFX files: certificate PEM, its key, and the
    certificate rules it must get once opened."""
    wildcard = pki.certificate(pki.Spec(cn="*.plant.example.com", key_slot=5))
    sha1_der = sign(Tbs.of(pki.certificate(pki.Spec(cn="sensor7.plant.example.com",
                                                     key_slot=6))),
                    pki.rsa_key(2048, 6), hash_name="sha1")
    return {
        "wildcard": (pki.pem(wildcard), pki.rsa_key(2048, 5), frozenset({"cert-wildcard"})),
        "sha1": (der_to_pem(sha1_der), pki.rsa_key(2048, 6),
                 frozenset({"cert-signature-algorithm"})),
    }
