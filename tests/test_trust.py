"""Trust: the configured CA chain and CRL revocation, with CRLs served by a real HTTP
server on 127.0.0.1 started by the tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from tests import pki
from tests.conftest import RunJson, rules_of
from tests.rule_cases import CrlServer


@pytest.fixture
def crl_server() -> Iterator[CrlServer]:
    server = CrlServer()
    yield server
    server.close()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port the OS gave us, bound but never listening: connections to it are refused,
    and no other process can take it while the test runs."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


class Pki:
    """Root CA -> issuing CA -> appliance certificates; another CA beside it."""

    def __init__(self) -> None:
        self.root_key, self.issuing_key = pki.rsa_key(2048, 20), pki.rsa_key(2048, 21)
        self.root = pki.certificate(pki.Spec(cn="Plant Root CA", ca=True, crl_urls=None,
                                             key_slot=20))
        self.issuing = pki.certificate(pki.Spec(cn="Plant Issuing CA", ca=True, crl_urls=None,
                                                key_slot=21), issuer=(self.root, self.root_key))
        self.other_root = pki.certificate(pki.Spec(cn="Other CA", ca=True, crl_urls=None,
                                                   key_slot=24))

    def leaf(self, cn: str, crl_url: str, *, other_ca: bool = False) -> x509.Certificate:
        spec = pki.Spec(cn=cn, crl_urls=[crl_url], key_slot=25 + len(cn))
        if other_ca:
            return pki.certificate(spec, issuer=(self.other_root, pki.rsa_key(2048, 24)))
        return pki.certificate(spec, issuer=(self.issuing, self.issuing_key))

    def chain(self) -> bytes:
        return pki.pem(self.issuing) + pki.pem(self.root)


@pytest.fixture(scope="module")
def plant() -> Pki:
    return Pki()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pki").mkdir()
    return tmp_path


def test_chain_and_crl_fetch(run_json: RunJson, repo: Path, plant: Pki,
                             crl_server: CrlServer, closed_port: int) -> None:
    url = f"{crl_server.url}/issuing.crl"
    good = plant.leaf("good.plant.example.com", url)
    revoked = plant.leaf("revoked.plant.example.com", url)
    other = plant.leaf("other.plant.example.com", url, other_ca=True)
    unreachable = plant.leaf("gone.plant.example.com",
                             f"http://127.0.0.1:{closed_port}/issuing.crl")
    crl_server.files["/issuing.crl"] = pki.crl(plant.issuing, plant.issuing_key,
                                               [revoked.serial_number])
    (repo / "pki" / "chain.pem").write_bytes(plant.chain())
    (repo / ".certwarden.toml").write_text('chain = "pki/chain.pem"\ncrl-fetch = true\n')
    for name, cert in (("good", good), ("revoked", revoked), ("other", other),
                       ("gone", unreachable)):
        (repo / "pki" / f"{name}.crt").write_bytes(pki.pem(cert))
    code, document = run_json("--group", "certificates", "pki/good.crt", "pki/revoked.crt",
                              "pki/other.crt", "pki/gone.crt", "pki/chain.pem")
    assert code == 1
    assert rules_of(document, "pki/good.crt") == set()
    assert rules_of(document, "pki/chain.pem") == set()
    assert rules_of(document, "pki/revoked.crt") == {"cert-revoked"}
    assert rules_of(document, "pki/other.crt") == {"cert-chain"}
    assert rules_of(document, "pki/gone.crt") == {"cert-crl-unreachable"}
    by_rule = {f["rule"]: f for f in document["findings"]}
    assert "revoked by the CRL" in by_rule["cert-revoked"]["message"]
    assert "key_compromise" in by_rule["cert-revoked"]["message"]
    assert "Cannot validate chain of trust" in by_rule["cert-chain"]["message"]
    assert "/issuing.crl" in by_rule["cert-crl-unreachable"]["message"]
    assert by_rule["cert-crl-unreachable"]["severity"] == "warning"


def test_stale_and_wrongly_signed_crls(run_json: RunJson, repo: Path, plant: Pki,
                                       crl_server: CrlServer) -> None:
    stale = plant.leaf("stale.plant.example.com", f"{crl_server.url}/stale.crl")
    forged = plant.leaf("forged.plant.example.com", f"{crl_server.url}/forged.crl")
    crl_server.files["/stale.crl"] = pki.crl(plant.issuing, plant.issuing_key, [],
                                             next_update=pki.NOW.replace(year=2025))
    crl_server.files["/forged.crl"] = pki.crl(plant.issuing, pki.rsa_key(2048, 24),
                                              [forged.serial_number])
    (repo / "pki" / "chain.pem").write_bytes(plant.chain())
    (repo / ".certwarden.toml").write_text('chain = "pki/chain.pem"\ncrl-fetch = true\n')
    (repo / "pki" / "stale.crt").write_bytes(pki.pem(stale))
    (repo / "pki" / "forged.crt").write_bytes(pki.pem(forged))
    _, document = run_json("--group", "certificates", "pki/stale.crt", "pki/forged.crt")
    assert rules_of(document, "pki/stale.crt") == {"cert-crl-unreachable"}
    assert rules_of(document, "pki/forged.crt") == {"cert-crl-unreachable"}
    messages = " ".join(f["message"] for f in document["findings"])
    assert "stale" in messages and "not signed by the certificate's issuing CA" in messages


ISSUING = "C = US, O = Example Corp, OU = Plant Engineering, CN = Plant Issuing CA"
CHAIN_CASES = [  # (case, chain file, problem of the chain file, what the leaf is told)
    ("missing-intermediate", lambda p: pki.pem(p.root), None,
     f"the certificate's issuer ({ISSUING}) is not in pki/chain.pem"),
    ("another-ca", lambda p: pki.pem(p.other_root), None,
     f"the certificate's issuer ({ISSUING}) is not in pki/chain.pem"),
    ("no-root", lambda p: pki.pem(p.issuing), "does not reach a self-signed root", "broken"),
    ("same-name-other-key", lambda p: pki.pem(pki.certificate(
        pki.Spec(cn="Plant Issuing CA", ca=True, crl_urls=None, key_slot=24),
        issuer=(p.root, p.root_key))) + pki.pem(p.root), None,
     f"the CA {ISSUING} in pki/chain.pem did not sign the certificate"),
]


@pytest.mark.parametrize(("case", "chain", "chain_problem", "leaf_message"), CHAIN_CASES,
                         ids=[c[0] for c in CHAIN_CASES])
def test_broken_chains(run_json: RunJson, repo: Path, plant: Pki, case: str,
                       chain: object, chain_problem: str | None, leaf_message: str) -> None:
    (repo / "pki" / "chain.pem").write_bytes(chain(plant))  # type: ignore[operator]
    (repo / ".certwarden.toml").write_text('chain = "pki/chain.pem"\n')
    (repo / "pki" / "s.crt").write_bytes(pki.pem(plant.leaf("s.plant.example.com",
                                                            pki.CRL_URL)))
    code, document = run_json("--group", "certificates", "pki/s.crt", "pki/chain.pem")
    assert code == 1
    assert rules_of(document, "pki/s.crt") == {"cert-chain"}
    [leaf] = [f["message"] for f in document["findings"] if f["path"] == "pki/s.crt"]
    assert leaf_message in leaf
    assert "candidates exhausted" not in leaf
    if chain_problem:
        assert rules_of(document, "pki/chain.pem") == {"cert-chain"}
        assert chain_problem in " ".join(f["message"] for f in document["findings"])
    else:
        assert rules_of(document, "pki/chain.pem") == set()


def _bag_attributes(name: str) -> bytes:
    return (f"Bag Attributes\n    friendlyName: {name}\n    localKeyID: 01 00 00 00 \n"
            f"subject=/CN={name}\n\nissuer=/CN=Plant Root CA\n").encode()


CHAIN_ORDERS = {  # (chain file, a note on the order is owed)
    "issuer-first": (lambda p, leaf: pki.pem(p.issuing) + pki.pem(p.root), False),
    "root-first": (lambda p, leaf: pki.pem(p.root) + pki.pem(p.issuing), True),
    # `openssl pkcs12 -in keyStore.pfx -nokeys`, as Microsoft's documents convert a PFX.
    "pkcs12-nokeys-leaf-first": (lambda p, leaf: _bag_attributes("sensor") + pki.pem(leaf)
                                 + _bag_attributes("issuing") + pki.pem(p.issuing)
                                 + _bag_attributes("root") + pki.pem(p.root), False),
    "leaf-root-issuing": (lambda p, leaf: _bag_attributes("sensor") + pki.pem(leaf)
                          + pki.pem(p.root) + pki.pem(p.issuing), True),
    "leaf-last": (lambda p, leaf: pki.pem(p.issuing) + pki.pem(p.root) + pki.pem(leaf), True),
}


@pytest.mark.parametrize("order", list(CHAIN_ORDERS))
def test_chain_file_in_any_order_with_the_leaf_is_accepted(
        run_json: RunJson, repo: Path, plant: Pki, order: str) -> None:
    leaf = plant.leaf("s.plant.example.com", pki.CRL_URL)
    chain, noted = CHAIN_ORDERS[order]
    (repo / "pki" / "chain.pem").write_bytes(chain(plant, leaf))
    (repo / ".certwarden.toml").write_text('chain = "pki/chain.pem"\n')
    (repo / "pki" / "s.crt").write_bytes(pki.pem(leaf))
    code, document = run_json("--group", "certificates", "pki/s.crt", "pki/chain.pem")
    assert code == 0, document["findings"]
    assert rules_of(document, "pki/s.crt") == set()
    notes = [f for f in document["findings"] if f["path"] == "pki/chain.pem"]
    if noted:
        assert [(f["rule"], f["severity"]) for f in notes] == [("cert-chain", "info")]
        assert "not in issuer-first order" in notes[0]["message"]
    else:
        assert notes == []


def test_chain_file_with_two_appliance_certificates_is_broken(
        run_json: RunJson, repo: Path, plant: Pki) -> None:
    first = plant.leaf("s.plant.example.com", pki.CRL_URL)
    second = plant.leaf("t.plant.example.com", pki.CRL_URL)
    (repo / "pki" / "chain.pem").write_bytes(pki.pem(first) + pki.pem(second) + plant.chain())
    (repo / ".certwarden.toml").write_text('chain = "pki/chain.pem"\n')
    code, document = run_json("--group", "certificates", "pki/chain.pem")
    assert code == 1
    messages = [f["message"] for f in document["findings"] if f["rule"] == "cert-chain"]
    assert any("2 certificates that are not CAs" in m for m in messages), messages


def test_chain_messages_name_attributes_as_openssl_prints_them(
        run_json: RunJson, repo: Path, plant: Pki) -> None:
    from cryptography.x509.oid import NameOID

    spec = pki.Spec(cn="Mail Issuing CA", ca=True, crl_urls=None, key_slot=22,
                    extra_subject=[(NameOID.EMAIL_ADDRESS, "pki@plant.example.com")])
    issuing = pki.certificate(spec)  # self-signed, not in the chain file
    leaf = pki.certificate(pki.Spec(cn="m.plant.example.com", key_slot=23),
                           issuer=(issuing, pki.rsa_key(2048, 22)))
    (repo / "pki" / "chain.pem").write_bytes(plant.chain())
    (repo / ".certwarden.toml").write_text('chain = "pki/chain.pem"\n')
    (repo / "pki" / "m.crt").write_bytes(pki.pem(leaf))
    _, document = run_json("--group", "certificates", "pki/m.crt")
    [message] = [f["message"] for f in document["findings"]]
    assert "emailAddress = pki@plant.example.com" in message
    assert "1.2.840.113549.1.9.1" not in message


def test_crl_files_work_offline(run_json: RunJson, repo: Path, plant: Pki,
                                closed_port: int) -> None:
    revoked = plant.leaf("revoked.plant.example.com",
                         f"http://127.0.0.1:{closed_port}/never-fetched.crl")
    (repo / "pki" / "issuing.crl").write_bytes(pki.crl(plant.issuing, plant.issuing_key,
                                                       [revoked.serial_number]))
    (repo / "pki" / "chain.pem").write_bytes(plant.chain())
    (repo / ".certwarden.toml").write_text(
        'chain = "pki/chain.pem"\ncrl-files = ["pki/issuing.crl"]\n')
    (repo / "pki" / "revoked.crt").write_bytes(pki.pem(revoked))
    code, document = run_json("--group", "certificates", "pki/revoked.crt")
    assert code == 1
    assert rules_of(document) == {"cert-revoked"}  # nothing fetched: no unreachable finding


def test_nothing_is_fetched_unless_asked(run_json: RunJson, repo: Path, plant: Pki,
                                         crl_server: CrlServer) -> None:
    url = f"{crl_server.url}/issuing.crl"
    revoked = plant.leaf("revoked.plant.example.com", url)
    crl_server.files["/issuing.crl"] = pki.crl(plant.issuing, plant.issuing_key,
                                               [revoked.serial_number])
    (repo / "pki" / "revoked.crt").write_bytes(pki.pem(revoked))
    code, _ = run_json("--group", "certificates", "pki/revoked.crt")
    assert code == 0
    code, document = run_json("--group", "certificates", "--fetch-crl", "pki/revoked.crt")
    assert code == 1 and rules_of(document) == {"cert-revoked"}


def test_chain_file_names_a_certificate_cryptography_refuses(run_json: RunJson, repo: Path,
                                                              plant: Pki) -> None:
    from tests import odd_certificates as odd

    tbs = odd.Tbs.of(plant.root)
    tbs.parts[0] = odd.ctx(0, odd.integer(3))  # version 4: cryptography will not load it
    refused = odd.der_to_pem(odd.sign(tbs, plant.root_key))
    (repo / "pki" / "chain.pem").write_bytes(refused)
    (repo / ".certwarden.toml").write_text('chain = "pki/chain.pem"\n')
    code, document = run_json("--group", "certificates", "pki/chain.pem")
    assert code == 1
    chain = [f["message"] for f in document["findings"] if f["rule"] == "cert-chain"]
    assert chain == ["chain file: certificate 1 (CN = Plant Root CA) cannot be validated: "
                     "version could not be parsed: 3 is not a valid X509 version (X.509 "
                     "knows v1, v2 and v3)"]
