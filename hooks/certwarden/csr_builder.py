"""`certwarden new-csr`: an encrypted key and a CSR (or a lab certificate) that meet the
policy, so the good certificate is the easy one to make."""

from __future__ import annotations

import datetime
import os

from certwarden.config import Config

TYPE_CHECKING = False
if TYPE_CHECKING:
    from cryptography import x509


class RequestError(Exception):
    """The request cannot be made as asked (exit 2); never names a passphrase."""


class Request:
    """What `new-csr` was asked for."""

    __slots__ = ("cn", "country", "crl_url", "days", "key_size", "org", "org_unit",
                 "self_signed")

    def __init__(self, *, cn: str, country: str, org: str, org_unit: str, key_size: int,
                 self_signed: bool = False, crl_url: str | None = None, days: int = 365
                 ) -> None:
        self.cn = cn
        self.country = country
        self.org = org
        self.org_unit = org_unit
        self.key_size = key_size
        self.self_signed = self_signed
        self.crl_url = crl_url
        self.days = days


def validate(request: Request, config: Config) -> None:
    """Refuse a request whose result would break the configured policy."""
    validate_subject(request, config)
    used_by = cn_in_repository(request.cn, config)
    if used_by:
        raise RequestError(f"CN {request.cn!r} is already used by {used_by}; every appliance "
                           "needs its own CN")
    if request.self_signed and config.crl_mode == "require" and not request.crl_url:
        raise RequestError("crl-mode is require: give the lab certificate its CRL URL with "
                           "--crl-url http://...")
    if request.crl_url and not request.crl_url.lower().startswith("http://"):
        raise RequestError("--crl-url must be an http:// URL")


def validate_passphrase(passphrase: str) -> None:
    from certwarden.passphrases import allowed_set_description, count_disallowed

    if not passphrase or count_disallowed(passphrase):
        raise RequestError("the passphrase has characters the appliance does not accept; "
                           f"allowed: {allowed_set_description()}")


def validate_subject(request: Request, config: Config) -> None:
    from certwarden.rules.certificate_rules import dns_name_problem
    from certwarden.rules.iso3166 import COUNTRY_CODES

    cn, country, org, org_unit = request.cn, request.country, request.org, request.org_unit
    if "*" in cn:
        raise RequestError(f"--cn {cn!r} is a wildcard; every appliance needs its own "
                           "certificate named after it")
    problem = dns_name_problem(cn)
    if problem:
        raise RequestError(f"--cn {cn!r} {problem}")
    if country not in COUNTRY_CODES:
        raise RequestError(f"--country {country!r} is not an ISO 3166 two-letter code "
                           "such as US")
    if not org.strip() or not org_unit.strip():
        raise RequestError("--org and --org-unit must not be empty")
    if request.key_size not in config.key_sizes:
        raise RequestError(f"--key-size {request.key_size}: allowed "
                           f"{' or '.join(str(s) for s in config.key_sizes)}")
    for field_name, value in (("common-name", cn), ("country", country),
                              ("organization", org), ("organizational-unit", org_unit)):
        spec = config.subject[field_name]
        if spec.value is not None and value != spec.value:
            raise RequestError(f"{field_name} must be {spec.value!r} by configuration")
        if spec.pattern is not None and not spec.pattern.search(value):
            raise RequestError(f"{field_name} {value!r} does not match the configured "
                               f"pattern {spec.pattern.pattern!r}")


def cn_in_repository(cn: str, config: Config) -> str | None:
    """The path of a certificate in the git index that already uses this CN."""
    from certwarden.index_certificates import load_index_certificates
    from certwarden.sources import GitError

    if not os.path.exists(os.path.join(config.root, ".git")):
        return None
    try:
        records = load_index_certificates(config.root, max_bytes=config.max_file_bytes)
    except GitError:
        return None
    wanted = cn.lower().rstrip(".")
    for record in records:
        if any(name.lower().rstrip(".") == wanted for name in record.common_names):
            return record.path
    return None


def _name(cn: str, country: str, org: str, org_unit: str) -> x509.Name:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, country),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, org_unit),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def create(request: Request, *, config: Config, passphrase: bytes, out_dir: str,
           now: datetime.datetime | None = None) -> list[str]:
    """Write KEY, CSR (and CRT when self-signed); return the paths written."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    cn, key_size, self_signed, days = (request.cn, request.key_size, request.self_signed,
                                       request.days)
    # crl-mode forbid: the appliance certificate must not carry the extension at all.
    crl_url = request.crl_url if config.crl_mode != "forbid" else None
    country, org, org_unit = request.country, request.org, request.org_unit

    os.makedirs(out_dir, exist_ok=True)
    stem = os.path.join(out_dir, cn.rstrip("."))
    targets = [f"{stem}.key", f"{stem}.csr"] + ([f"{stem}.crt"] if self_signed else [])
    existing = [t for t in targets if os.path.exists(t)]
    if existing:
        raise RequestError(f"{existing[0]} exists; not overwriting it")
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    name = _name(cn, country, org, org_unit)
    san = x509.SubjectAlternativeName([x509.DNSName(cn.rstrip("."))])
    csr = (x509.CertificateSigningRequestBuilder().subject_name(name)
           .add_extension(san, critical=False).sign(key, hashes.SHA256()))
    # PKCS#8, PBES2 (PBKDF2-HMAC-SHA256) with AES-256-CBC: what `openssl pkcs8 -topk8 -v2
    # aes-256-cbc` writes, and what the appliance accepts.
    encrypted = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(passphrase))
    _write_private(targets[0], encrypted)
    with open(targets[1], "wb") as stream:
        stream.write(csr.public_bytes(serialization.Encoding.PEM))
    if self_signed:
        now = now or datetime.datetime.now(datetime.timezone.utc)
        builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=days))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                                  critical=True)
                   .add_extension(san, critical=False))
        if crl_url:
            builder = builder.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                [x509.UniformResourceIdentifier(crl_url)], None, None, None)]), critical=False)
        with open(targets[2], "wb") as stream:
            stream.write(builder.sign(key, hashes.SHA256()).public_bytes(
                serialization.Encoding.PEM))
    return targets


def _write_private(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as stream:
        stream.write(data)
