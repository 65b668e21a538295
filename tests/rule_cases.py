"""A failing and a passing case for every rule, keyed by rule id.

tests/test_rule_cases.py runs both cases of every rule in the registry: the failing case
must report the rule, the passing case must not, and a rule without cases fails the suite.
A case is a function that builds its input in a Workspace (files, configuration,
environment, a git index, a CRL server) and returns the `certwarden check` arguments that
judge it (run with `--format json --now` pki.NOW_ISO). Adding a rule's cases is an entry
in CASES:

    "cert-wildcard": RuleCase(
        failing=lambda w: [w.certificate(pki.Spec(cn="*.plant.example.com"))],
        passing=lambda w: [w.certificate()]),
"""

from __future__ import annotations

import contextlib
import datetime
import http.server
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests import hookrepo, pki, secretcorpus

PASSPHRASE = "Sensor-1.pass_word"
DAY = datetime.timedelta(days=1)


class CrlServer:
    """Plain HTTP on 127.0.0.1, on a port the operating system picks and we keep."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        files = self.files

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Workspace:
    """A folder (the repository root and working directory) that a case fills."""

    def __init__(self, folder: Path, monkeypatch: pytest.MonkeyPatch,
                 cleanup: contextlib.ExitStack) -> None:
        self.folder = folder
        self.monkeypatch = monkeypatch
        self.cleanup = cleanup
        self.is_git = False
        (folder / ".git").mkdir()  # the repository root, for configuration and paths

    def write(self, name: str, data: bytes | str) -> str:
        target = self.folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data.encode() if isinstance(data, str) else data)
        if self.is_git:
            hookrepo.git(self.folder, "add", "--", name)
        return name

    def configure(self, text: str) -> None:
        self.write(".certwarden.toml", text)

    def env(self, name: str, value: str) -> None:
        self.monkeypatch.setenv(name, value)

    def git(self) -> None:
        """Make the folder a real git repository: files written from now on are staged."""
        (self.folder / ".git").rmdir()
        hookrepo.git(self.folder, "init", "-q", "-b", "main")
        self.is_git = True

    def crl_server(self) -> CrlServer:
        server = CrlServer()
        self.cleanup.callback(server.close)
        return server

    def certificate(self, spec: pki.Spec | None = None, name: str = "a.crt", *,
                    issuer: tuple[x509.Certificate, rsa.RSAPrivateKey] | None = None) -> str:
        return self.write(name, pki.pem(pki.certificate(spec, issuer=issuer)))


Case = Callable[[Workspace], list[str]]


@dataclass(frozen=True)
class RuleCase:
    failing: Case  # its input breaks the rule: the rule must be reported
    passing: Case  # the closest input that meets it: the rule must not be reported


# -- building blocks ---------------------------------------------------------------------------

def _plain_key(bits: int = 2048, slot: int = 0) -> bytes:
    return pki.rsa_key(bits, slot).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption())


def _encrypted_key(passphrase: str = PASSPHRASE, *, legacy_pem: bool = False) -> bytes:
    key_format = (serialization.PrivateFormat.TraditionalOpenSSL if legacy_pem
                  else serialization.PrivateFormat.PKCS8)
    return pki.rsa_key().private_bytes(
        serialization.Encoding.PEM, key_format,
        serialization.BestAvailableEncryption(passphrase.encode()))


def _key_with_passphrase(w: Workspace, *, passphrase: str, configured: str) -> list[str]:
    """An encrypted key mapped to a passphrase variable holding `configured`."""
    w.configure('[passphrases]\n"*.key" = "A_PASS"\n')
    w.env("A_PASS", configured)
    return [w.write("a.key", _encrypted_key(passphrase))]


def _key_with_unset_passphrase(w: Workspace) -> list[str]:
    """An encrypted key mapped to a passphrase variable that is not set."""
    w.configure('[passphrases]\n"*.key" = "CERTWARDEN_UNSET_PASS"\n')
    w.monkeypatch.delenv("CERTWARDEN_UNSET_PASS", raising=False)
    return [w.write("a.key", _encrypted_key())]


class _Plant:
    """Root CA -> issuing CA, and an unrelated CA, for the trust rules."""

    def __init__(self) -> None:
        self.root_key, self.issuing_key = pki.rsa_key(2048, 20), pki.rsa_key(2048, 21)
        self.root = pki.certificate(pki.Spec(cn="Plant Root CA", ca=True, crl_urls=None,
                                             key_slot=20))
        self.issuing = pki.certificate(pki.Spec(cn="Plant Issuing CA", ca=True, crl_urls=None,
                                                key_slot=21), issuer=(self.root, self.root_key))
        self.other_key = pki.rsa_key(2048, 24)
        self.other = pki.certificate(pki.Spec(cn="Other CA", ca=True, crl_urls=None,
                                              key_slot=24))

    def chain(self) -> bytes:
        return pki.pem(self.issuing) + pki.pem(self.root)


_plant: _Plant | None = None


def plant() -> _Plant:
    global _plant
    if _plant is None:
        _plant = _Plant()
    return _plant


def _chained(w: Workspace, *, other_ca: bool) -> list[str]:
    ca = plant()
    w.write("pki/chain.pem", ca.chain())
    w.configure('chain = "pki/chain.pem"\n')
    issuer = (ca.other, ca.other_key) if other_ca else (ca.issuing, ca.issuing_key)
    return [w.certificate(pki.Spec(key_slot=25), "pki/a.crt", issuer=issuer)]


def _revocation(w: Workspace, *, revoked: bool) -> list[str]:
    ca = plant()
    leaf = pki.certificate(pki.Spec(key_slot=25), issuer=(ca.issuing, ca.issuing_key))
    w.write("pki/chain.pem", ca.chain())
    w.write("pki/issuing.crl", pki.crl(ca.issuing, ca.issuing_key,
                                       [leaf.serial_number] if revoked else []))
    w.configure('chain = "pki/chain.pem"\ncrl-files = ["pki/issuing.crl"]\n')
    return [w.write("pki/a.crt", pki.pem(leaf))]


def _fetched_crl(w: Workspace, *, served: bool) -> list[str]:
    ca = plant()
    server = w.crl_server()
    leaf = pki.certificate(pki.Spec(key_slot=25, crl_urls=[f"{server.url}/issuing.crl"]),
                           issuer=(ca.issuing, ca.issuing_key))
    if served:
        server.files["/issuing.crl"] = pki.crl(ca.issuing, ca.issuing_key, [])
    w.write("pki/chain.pem", ca.chain())
    w.configure('chain = "pki/chain.pem"\ncrl-fetch = true\n')
    return [w.write("pki/a.crt", pki.pem(leaf))]


def _unique(w: Workspace, files: dict[str, bytes]) -> list[str]:
    """The repository-wide rules judge the git index: stage the files, name none."""
    w.git()
    for name, data in files.items():
        w.write(name, data)
    return ["--group", "unique"]


def _cert(spec: pki.Spec | None = None) -> bytes:
    return pki.pem(pki.certificate(spec))


def _malformed(*, malformed: bool) -> bytes:
    """A compliant certificate whose CRL distribution point extension holds garbage."""
    if not malformed:
        return _cert()
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtensionOID

    spec = pki.Spec(crl_urls=None)
    key = spec.private_key()
    builder = (x509.CertificateBuilder().subject_name(spec.name()).issuer_name(spec.name())
               .public_key(key.public_key()).serial_number(1)
               .not_valid_before(spec.not_before).not_valid_after(spec.not_after)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.UnrecognizedExtension(
                   ExtensionOID.CRL_DISTRIBUTION_POINTS, b"\x30\x03\x02\x01\x05"),
                   critical=False))
    return pki.pem(builder.sign(key, hashes.SHA256()))


def _site(w: Workspace, change: str | None = None) -> list[str]:
    """An appliance manifest of a sensor (with its key) and a console, each with its own
    certificate, in a git index; `change` breaks one thing. The appliances group judges it."""
    def cert(cn: str, slot: int, **fields: object) -> bytes:
        return _cert(pki.Spec(cn=cn, key_slot=slot, san_dns=[cn], **fields))  # type: ignore[arg-type]

    sensor, console = "sensor1.plant.example.com", "console1.plant.example.com"
    files = {"pki/sensor1.crt": cert(sensor, 40), "pki/sensor1.key": _plain_key(slot=40),
             "pki/console1.crt": cert(console, 41)}
    appliances = [{"name": "sensor-1", "role": "sensor", "cn": sensor,
                   "certificate": "pki/sensor1.crt", "key": "pki/sensor1.key"},
                  {"name": "console-1", "role": "console", "cn": console,
                   "certificate": "pki/console1.crt"}]
    if change == "no-certificate":
        appliances[1]["certificate"] = "pki/console9.crt"
    elif change == "noncompliant":
        files["pki/console1.crt"] = cert(console, 41, not_after=pki.NOW - DAY)
    elif change == "cn-mismatch":
        appliances[1]["cn"] = "console9.plant.example.com"
    elif change == "shared-cn":
        appliances[1]["cn"] = sensor
        files["pki/console1.crt"] = cert(sensor, 41)
    elif change == "shared-certificate":
        appliances[1]["certificate"] = "pki/sensor1.crt"
    elif change == "shared-key":
        files["pki/console1.crt"] = cert(console, 40)
    elif change == "key-mismatch":
        files["pki/sensor1.key"] = _plain_key(slot=43)
    elif change == "orphan":
        files["pki/old/historian.crt"] = cert("historian.plant.example.com", 44)
    w.git()
    w.configure("".join("[[appliances]]\n" + "".join(f'{k} = "{v}"\n' for k, v in a.items())
                        for a in appliances))
    for name, data in files.items():
        w.write(name, data)
    return ["--group", "appliances"]


# -- the cases ---------------------------------------------------------------------------------

CASES: dict[str, RuleCase] = {
    # certificates
    "cert-unreadable": RuleCase(
        failing=lambda w: [w.write("a.crt", b"-----BEGIN CERTIFICATE-----\nQUJD\n"
                                            b"-----END CERTIFICATE-----\n")],
        passing=lambda w: [w.certificate()]),
    "cert-signature-algorithm": RuleCase(
        failing=lambda w: [w.certificate(pki.Spec(hash_name="sha384"))],
        passing=lambda w: [w.certificate()]),
    "cert-not-yet-valid": RuleCase(
        failing=lambda w: [w.certificate(pki.Spec(not_before=pki.NOW + DAY))],
        passing=lambda w: [w.certificate(pki.Spec(not_before=pki.NOW - DAY))]),
    "cert-expired": RuleCase(
        failing=lambda w: [w.certificate(pki.Spec(not_before=pki.NOW - 400 * DAY,
                                                  not_after=pki.NOW - DAY))],
        passing=lambda w: [w.certificate()]),
    "cert-expiring-soon": RuleCase(
        failing=lambda w: [w.certificate(pki.Spec(not_after=pki.NOW + 10 * DAY))],
        passing=lambda w: [w.certificate(pki.Spec(not_after=pki.NOW + 60 * DAY))]),
    "cert-key-type": RuleCase(
        failing=lambda w: [w.certificate(pki.Spec(key_kind="ec"))],
        passing=lambda w: [w.certificate()]),
    "cert-key-size": RuleCase(
        failing=lambda w: [w.certificate(pki.Spec(key_bits=3072))],
        passing=lambda w: [w.certificate()]),
    "cert-key-size-slow": RuleCase(
        failing=lambda w: [w.certificate(pki.Spec(key_bits=4096))],
        passing=lambda w: [w.certificate()]),
    "cert-crl-distribution-point": RuleCase(
        failing=lambda w: [w.certificate(pki.Spec(crl_urls=["https://crl.example.com/a.crl"]))],
        passing=lambda w: [w.certificate()]),
    "cert-subject-cn": RuleCase(
        failing=lambda w: [w.certificate(pki.Spec(cn="192.0.2.10"))],
        passing=lambda w: [w.certificate()]),
    "cert-subject-country": RuleCase(
        failing=lambda w: [w.certificate(pki.Spec(country="XX"))],
        passing=lambda w: [w.certificate()]),
    "cert-subject-org-unit": RuleCase(
        failing=lambda w: [w.certificate(pki.Spec(org_unit=None))],
        passing=lambda w: [w.certificate()]),
    "cert-subject-org": RuleCase(
        failing=lambda w: [w.certificate(pki.Spec(org=None))],
        passing=lambda w: [w.certificate()]),
    "cert-wildcard": RuleCase(
        failing=lambda w: [w.certificate(pki.Spec(cn="*.plant.example.com"))],
        passing=lambda w: [w.certificate()]),
    "cert-malformed": RuleCase(
        failing=lambda w: [w.write("a.crt", _malformed(malformed=True))],
        passing=lambda w: [w.write("a.crt", _malformed(malformed=False))]),
    # repository: one certificate, CN and key pair per appliance, over the git index
    "cert-duplicate-cn": RuleCase(
        failing=lambda w: _unique(w, {"a/s.crt": _cert(pki.Spec(key_slot=1)),
                                      "b/s.crt": _cert(pki.Spec(key_slot=2))}),
        passing=lambda w: _unique(w, {"a/s.crt": _cert(pki.Spec(key_slot=1)),
                                      "b/s.crt": _cert(pki.Spec(cn="sensor2.plant.example.com",
                                                                key_slot=2))})),
    "cert-duplicate": RuleCase(
        failing=lambda w: _unique(w, dict.fromkeys(("a/s.crt", "b/s.crt"), _cert())),
        passing=lambda w: _unique(w, {"a/s.crt": _cert()})),
    "key-reused": RuleCase(
        failing=lambda w: _unique(w, {"a/s.crt": _cert(pki.Spec(key_slot=1)),
                                      "b/t.crt": _cert(pki.Spec(cn="sensor2.plant.example.com",
                                                                key_slot=1))}),
        passing=lambda w: _unique(w, {"a/s.crt": _cert(pki.Spec(key_slot=1)),
                                      "b/t.crt": _cert(pki.Spec(cn="sensor2.plant.example.com",
                                                                key_slot=2))})),
    # trust: a chain file, a local CRL file, a CRL served over HTTP on 127.0.0.1
    "cert-chain": RuleCase(
        failing=lambda w: _chained(w, other_ca=True),
        passing=lambda w: _chained(w, other_ca=False)),
    "cert-revoked": RuleCase(
        failing=lambda w: _revocation(w, revoked=True),
        passing=lambda w: _revocation(w, revoked=False)),
    "cert-crl-unreachable": RuleCase(
        failing=lambda w: _fetched_crl(w, served=False),
        passing=lambda w: _fetched_crl(w, served=True)),
    # keys
    "cert-key-mismatch": RuleCase(
        failing=lambda w: [w.write("s.key", _plain_key(slot=5)),
                           w.certificate(pki.Spec(key_slot=6), "s.crt")],
        passing=lambda w: [w.write("s.key", _plain_key(slot=5)),
                           w.certificate(pki.Spec(key_slot=5), "s.crt")]),
    "key-unencrypted": RuleCase(
        failing=lambda w: [w.write("a.key", _plain_key())],
        passing=lambda w: [w.write("a.key", _encrypted_key())]),
    "key-weak-encryption": RuleCase(  # legacy PEM encryption: one MD5 round derives the key
        failing=lambda w: [w.write("a.key", _encrypted_key(legacy_pem=True))],
        passing=lambda w: [w.write("a.key", _encrypted_key())]),
    "key-type": RuleCase(
        failing=lambda w: [w.write("a.key", pki.ec_key().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))],
        passing=lambda w: [w.write("a.key", _plain_key())]),
    "key-size": RuleCase(
        failing=lambda w: [w.write("a.key", _plain_key(1024))],
        passing=lambda w: [w.write("a.key", _plain_key(2048))]),
    "key-unreadable": RuleCase(
        failing=lambda w: [w.write("a.key", _plain_key()[:700])],
        passing=lambda w: [w.write("a.key", _encrypted_key())]),
    "key-not-pem": RuleCase(  # the appliance takes its key as PEM
        failing=lambda w: [w.write("a.key", pki.rsa_key().private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PASSPHRASE.encode())))],
        passing=lambda w: [w.write("a.key", _encrypted_key())]),
    "passphrase-charset": RuleCase(
        failing=lambda w: _key_with_passphrase(w, passphrase="bad pass$word",
                                               configured="bad pass$word"),
        passing=lambda w: _key_with_passphrase(w, passphrase=PASSPHRASE, configured=PASSPHRASE)),
    "passphrase-wrong": RuleCase(
        failing=lambda w: _key_with_passphrase(w, passphrase=PASSPHRASE,
                                               configured="Not-the-passphrase-1"),
        passing=lambda w: _key_with_passphrase(w, passphrase=PASSPHRASE, configured=PASSPHRASE)),
    "passphrase-unset": RuleCase(  # mapped, but the variable is not set (CI without it)
        failing=lambda w: _key_with_unset_passphrase(w),
        passing=lambda w: _key_with_passphrase(w, passphrase=PASSPHRASE, configured=PASSPHRASE)),
    "passphrase-committed": RuleCase(
        failing=lambda w: [*_key_with_passphrase(w, passphrase=PASSPHRASE, configured=PASSPHRASE),
                           w.write("deploy.sh", f"openssl rsa -passin pass:{PASSPHRASE}\n")],
        passing=lambda w: [*_key_with_passphrase(w, passphrase=PASSPHRASE, configured=PASSPHRASE),
                           w.write("deploy.sh", "openssl rsa -passin env:A_PASS\n")]),
    # appliances: the manifest against the repository
    "appliance-no-certificate": RuleCase(
        failing=lambda w: _site(w, "no-certificate"), passing=_site),
    "appliance-certificate-noncompliant": RuleCase(
        failing=lambda w: _site(w, "noncompliant"), passing=_site),
    "appliance-cn-mismatch": RuleCase(
        failing=lambda w: _site(w, "cn-mismatch"), passing=_site),
    "appliance-shared-cn": RuleCase(
        failing=lambda w: _site(w, "shared-cn"), passing=_site),
    "appliance-shared-certificate": RuleCase(
        failing=lambda w: _site(w, "shared-certificate"), passing=_site),
    "appliance-shared-key": RuleCase(
        failing=lambda w: _site(w, "shared-key"), passing=_site),
    "appliance-key-mismatch": RuleCase(
        failing=lambda w: _site(w, "key-mismatch"), passing=_site),
    "cert-orphan": RuleCase(
        failing=lambda w: _site(w, "orphan"), passing=_site),
    # secrets
    "secret": RuleCase(
        failing=lambda w: [w.write("a.py", f'aws = "{secretcorpus.AWS}"\n')],
        passing=lambda w: [w.write("a.py", f'aws = "{secretcorpus.AWS}"  '
                                           "# pragma: allowlist secret\n")]),
}
