"""Attacks on the certificate side: non-compliant certificates that must not get past the
hooks, `scan`, `scan --range`, `pre-receive` or the inventory's verdict, and compliant
ones that must not be blocked.

Each attack is a file (or a few) an attacker or a hurried engineer could commit: a CRL
with a certificate glued after it, a PEM certificate hidden inside a DER one (openssl
reads the file as PEM by default), a certificate that dodges the appliance rules by
claiming to be a CA, leaves inside bundle files that escape the uniqueness rules, and a
bundle that makes the issuer search quadratic. Every certificate is built at test time
with explicit dates (`tests.pki`).
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa

from tests import gitserver, hookrepo, pki
from tests import odd_certificates as odd
from tests.conftest import RunJson, rules_of
from tests.test_odd_certificates import assert_clean_exit, assert_no_internal_error, run_cli

NOW = pki.NOW_ISO
WILDCARD = "*.plant.example.com"


# -- builders --------------------------------------------------------------------------------

def _ca_flag_certificate(spec: pki.Spec, *, issuer: tuple[x509.Certificate, rsa.RSAPrivateKey]
                         | None = None) -> x509.Certificate:
    """basicConstraints CA:TRUE without keyUsage: what `openssl req -x509` writes for every
    self-signed certificate, appliance certificates included (and what old roots carry)."""
    key = spec.private_key()
    builder = (x509.CertificateBuilder()
               .subject_name(spec.name())
               .issuer_name(issuer[0].subject if issuer else spec.name())
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(spec.not_before)
               .not_valid_after(spec.not_after)
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True))
    if spec.crl_urls is not None:
        builder = builder.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            [x509.UniformResourceIdentifier(url) for url in spec.crl_urls], None, None, None)]),
            critical=False)
    if spec.san_dns:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(name) for name in spec.san_dns]), critical=False)
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256())  # type: ignore[arg-type]


def _root() -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    root = pki.certificate(pki.Spec(cn="Plant Root CA", ca=True, key_slot=9, crl_urls=None))
    return root, pki.rsa_key(2048, 9)


def _wildcard(slot: int = 3) -> x509.Certificate:
    return pki.certificate(pki.Spec(cn=WILDCARD, key_slot=slot))


def _crl_then_wildcard() -> bytes:
    """A DER CRL with a DER wildcard certificate glued after it (`cat ca.crl star.der`)."""
    root, root_key = _root()
    return pki.crl(root, root_key, []) + pki.der(_wildcard())


def _pem_inside_der() -> bytes:
    """A compliant DER certificate whose nsComment holds a wildcard certificate as PEM:
    `openssl x509 -in FILE` (PEM, the default) reads the wildcard one."""
    spec = pki.Spec(key_slot=4)
    tbs = odd.Tbs.of(pki.certificate(spec))
    comment = odd.tlv(22, b"\n" + pki.pem(_wildcard()))  # IA5String
    tbs.add_extension(odd.extension("2.16.840.1.113730.1.13", comment))
    return odd.sign(tbs, pki.rsa_key(2048, 4))


def _wildcard_ca() -> bytes:
    """CA:TRUE with keyCertSign, named like a wildcard host: no CA is named so."""
    return pki.pem(pki.certificate(pki.Spec(cn=WILDCARD, ca=True, key_slot=3, org_unit=None,
                                            crl_urls=None)))


def _self_signed_wildcard_beside_a_root() -> bytes:
    """`openssl req -x509` output (CA:TRUE, no keyUsage) for a wildcard without OU or CRL,
    pasted into one PEM file with an unrelated root: the root made it a 'chain'."""
    star = _ca_flag_certificate(pki.Spec(cn=WILDCARD, key_slot=3, org_unit=None, crl_urls=None))
    return pki.pem(star) + pki.pem(_root()[0])


def _git_repo(path: Path, files: dict[str, bytes]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    if not (path / ".git").exists():
        hookrepo.git(path, "init", "-q", "-b", "main")
    hookrepo.stage(path, files)
    return path


def _json(repo: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, dict[str, Any]]:
    monkeypatch.chdir(repo)
    code, out, err = run_cli(*args, "--format", "json", "--now", NOW)
    assert_clean_exit(code, err, " ".join(args))
    document: dict[str, Any] = json.loads(out)
    assert_no_internal_error(document)
    return code, document


def _unique(repo: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, dict[str, Any]]:
    return _json(repo, monkeypatch, "check", "--group", "unique")


def _path_rules(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["path"], f["rule"]) for f in document["findings"]}


# -- files that hide a certificate from the loader -------------------------------------------

HIDDEN = {  # file name: (bytes, the rules check-certificates owes it)
    "crl-then-certificate.der": (_crl_then_wildcard, {"cert-wildcard"}),
    "pem-inside-der.crt": (_pem_inside_der, {"cert-wildcard"}),
    "two-der-certificates.der": (
        lambda: pki.der(pki.certificate(pki.Spec(key_slot=4))) + pki.der(_wildcard()),
        {"cert-wildcard"}),
    # `openssl x509 -inform der` reads the DER wildcard, the default PEM reading the other.
    "der-then-pem.crt": (
        lambda: pki.der(_wildcard()) + b"\n" + pki.pem(pki.certificate(pki.Spec(key_slot=4))),
        {"cert-wildcard"}),
}


@pytest.mark.parametrize("name", list(HIDDEN))
def test_every_certificate_of_a_file_is_judged(run_json: RunJson, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               name: str) -> None:
    build, expected = HIDDEN[name]
    data = build()
    (tmp_path / name).write_bytes(data)
    code, document = run_json("--group", "certificates", name)
    assert rules_of(document, name) == expected, document["findings"]
    assert code == 1
    repo = _git_repo(tmp_path / "repo", {name: data})
    code, document = _unique(repo, monkeypatch)
    assert _path_rules(document) == {(name, "cert-wildcard")}
    assert code == 1


def test_a_der_certificate_with_pem_looking_text_is_still_one_certificate(
        run_json: RunJson, tmp_path: Path) -> None:
    """The other side of pem-inside-der: text that is no certificate adds no finding."""
    spec = pki.Spec(key_slot=4)
    tbs = odd.Tbs.of(pki.certificate(spec))
    text = b"-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n"
    tbs.add_extension(odd.extension("2.16.840.1.113730.1.13", odd.tlv(22, text)))
    (tmp_path / "sensor1.crt").write_bytes(odd.sign(tbs, pki.rsa_key(2048, 4)))
    code, document = run_json("--group", "certificates", "sensor1.crt")
    assert document["findings"] == []
    assert code == 0


# -- a certificate that calls itself a CA ----------------------------------------------------

def test_a_wildcard_is_refused_on_a_ca_certificate_too(run_json: RunJson, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "star.crt").write_bytes(_wildcard_ca())
    code, document = run_json("--group", "certificates", "star.crt")
    assert rules_of(document, "star.crt") == {"cert-wildcard"}
    assert code == 1
    repo = _git_repo(tmp_path / "repo", {"star.crt": _wildcard_ca()})
    code, document = _unique(repo, monkeypatch)
    assert _path_rules(document) == {("star.crt", "cert-wildcard")}
    assert code == 1


def _star_twice() -> bytes:
    star = _ca_flag_certificate(pki.Spec(cn=WILDCARD, key_slot=3, org_unit=None, crl_urls=None))
    return pki.pem(star) * 2


def _star_and_its_renewal() -> bytes:
    """Two self-signed certificates of one name and key: each verifies the other."""
    first, second = (_ca_flag_certificate(pki.Spec(
        cn=WILDCARD, key_slot=3, org_unit=None, crl_urls=None,
        not_before=pki.NOW - datetime.timedelta(days=days))) for days in (30, 2))
    return pki.pem(first) + pki.pem(second)


CA_FLAG_BUNDLES = {"beside-a-root": _self_signed_wildcard_beside_a_root,
                   "twice": _star_twice, "beside-its-renewal": _star_and_its_renewal}


@pytest.mark.parametrize("case", list(CA_FLAG_BUNDLES))
def test_ca_flag_alone_does_not_make_a_ca_of_a_certificate_in_a_bundle(
        run_json: RunJson, tmp_path: Path, case: str) -> None:
    """A certificate in a bundle acts as a CA when it may sign certificates (keyCertSign)
    or signed another certificate of the file; CA:TRUE alone is what `openssl req -x509`
    puts on every self-signed appliance certificate."""
    (tmp_path / "sensor.pem").write_bytes(CA_FLAG_BUNDLES[case]())
    code, document = run_json("--group", "certificates", "sensor.pem")
    assert rules_of(document, "sensor.pem") == {
        "cert-wildcard", "cert-subject-org-unit", "cert-crl-distribution-point"}
    assert code == 1
    # The appliance's rules say why a CA:TRUE certificate is held to them (a real CA
    # without keyUsage belongs in the chain file).
    for finding in document["findings"]:
        if finding["rule"] in ("cert-subject-org-unit", "cert-crl-distribution-point"):
            assert "keyCertSign" in finding["message"], finding
            assert "chain" in finding["message"], finding


def test_a_ca_without_key_usage_that_issued_the_leaf_stays_a_ca(run_json: RunJson,
                                                                tmp_path: Path) -> None:
    root_spec = pki.Spec(cn="Old Plant Root", key_slot=9, org_unit=None, crl_urls=None)
    root = _ca_flag_certificate(root_spec)
    leaf = pki.certificate(pki.Spec(key_slot=1), issuer=(root, pki.rsa_key(2048, 9)))
    (tmp_path / "fullchain.pem").write_bytes(pki.pem(leaf) + pki.pem(root))
    code, document = run_json("--group", "certificates", "fullchain.pem")
    assert document["findings"] == []
    assert code == 0


# -- leaves inside bundle files and the chain file count for uniqueness ----------------------

def _issued(slot: int, cn: str = "sensor1.plant.example.com",
            key_slot: int | None = None) -> x509.Certificate:
    root, root_key = _root()
    return pki.certificate(pki.Spec(cn=cn, key_slot=slot if key_slot is None else key_slot),
                           issuer=(root, root_key))


def _bundle(leaf: x509.Certificate) -> bytes:
    return pki.pem(leaf) + pki.pem(_root()[0])


def _leaf_and_its_fullchain(leaf: x509.Certificate) -> dict[str, bytes]:
    return {"sensor1.crt": pki.pem(leaf), "sensor1-fullchain.pem": _bundle(leaf)}


UNIQUENESS = {  # case: (files, the (path, rule) pairs owed)
    "same-cn-in-two-fullchains": (
        lambda: {"a/fullchain.pem": _bundle(_issued(1)), "b/fullchain.pem": _bundle(_issued(2))},
        {("a/fullchain.pem", "cert-duplicate-cn"), ("b/fullchain.pem", "cert-duplicate-cn")}),
    "same-cn-in-a-crt-and-a-fullchain": (
        lambda: {"a/sensor1.crt": pki.pem(_issued(1)), "b/fullchain.pem": _bundle(_issued(2))},
        {("a/sensor1.crt", "cert-duplicate-cn"), ("b/fullchain.pem", "cert-duplicate-cn")}),
    "key-reused-in-two-fullchains": (
        lambda: {"a/fullchain.pem": _bundle(_issued(1)),
                 "b/fullchain.pem": _bundle(_issued(1, "sensor2.plant.example.com"))},
        {("a/fullchain.pem", "key-reused"), ("b/fullchain.pem", "key-reused")}),
    "stale-leaf-in-the-chain-file": (
        lambda: {".certwarden.toml": b'chain = "pki/chain.pem"\n',
                 "pki/chain.pem": _bundle(_issued(2)), "pki/sensor1.crt": pki.pem(_issued(1))},
        {("pki/chain.pem", "cert-duplicate-cn"), ("pki/sensor1.crt", "cert-duplicate-cn")}),
    "the-leaf-repeated-in-its-fullchain": (  # the chain doing its job: nothing
        lambda: _leaf_and_its_fullchain(_issued(1)), set()),
}


@pytest.mark.parametrize("case", list(UNIQUENESS))
def test_leaves_in_bundles_count_for_uniqueness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                case: str) -> None:
    build, expected = UNIQUENESS[case]
    repo = _git_repo(tmp_path / "repo", build())
    code, document = _unique(repo, monkeypatch)
    assert _path_rules(document) == expected, document["findings"]
    assert code == (1 if expected else 0)


def test_a_ca_flag_certificate_in_a_bundle_counts_for_uniqueness(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`openssl req -x509` certificates of two appliances with one CN, each pasted beside
    the plant's root."""
    first = _ca_flag_certificate(pki.Spec(key_slot=1))
    second = _ca_flag_certificate(pki.Spec(key_slot=2))
    root = pki.pem(_root()[0])
    repo = _git_repo(tmp_path / "repo", {"a/sensor.pem": pki.pem(first) + root,
                                         "b/sensor.pem": pki.pem(second) + root})
    code, document = _unique(repo, monkeypatch)
    assert _path_rules(document) == {("a/sensor.pem", "cert-duplicate-cn"),
                                     ("b/sensor.pem", "cert-duplicate-cn")}
    assert code == 1


# -- work taken from one bundle is bounded ---------------------------------------------------

def _same_name_bundle(count: int) -> bytes:
    """`count` certificates with one subject and issuer name and keys of their own, all
    signed by a key none of them holds: every pair looks like issuer and issued by name,
    and no signature verifies."""
    absent = pki.rsa_key(2048, 2)
    spec = pki.Spec()
    found = []
    for serial in range(1, count + 1):
        key = pki.ec_key(100 + serial)
        found.append(pki.pem(
            x509.CertificateBuilder().subject_name(spec.name()).issuer_name(spec.name())
            .public_key(key.public_key()).serial_number(serial)
            .not_valid_before(spec.not_before).not_valid_after(spec.not_after)
            .sign(absent, hashes.SHA256())))
    return b"".join(found)


def test_issuer_search_in_a_bundle_is_bounded(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from certwarden.recognition import certificates

    count = 40
    calls = []
    real = certificates.issued_by

    def counted(child: Any, parent: Any) -> bool:
        calls.append(1)
        return real(child, parent)

    monkeypatch.setattr(certificates, "issued_by", counted)
    repo = _git_repo(tmp_path / "repo", {"sensors.pem": _same_name_bundle(count)})
    code, document = _unique(repo, monkeypatch)
    assert len(calls) <= certificates.MAX_ISSUER_CANDIDATES * count, len(calls)
    findings = [f for f in document["findings"] if f["rule"] == "cert-duplicate-cn"]
    assert len(findings) == count  # every certificate still named
    assert max(len(f["message"]) for f in findings) < 300
    assert code == 1


def test_copies_in_a_bundle_are_counted_once_named_a_few_times(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = (pki.pem(pki.certificate(pki.Spec(key_slot=slot))) for slot in (1, 2))
    lines = len(first.splitlines())
    repo = _git_repo(tmp_path / "repo", {"sensors.pem": first * 4 + second})
    code, document = _unique(repo, monkeypatch)
    messages = {f["line"]: f["message"] for f in document["findings"]
                if f["rule"] == "cert-duplicate-cn"}
    assert set(messages) == {1 + lines * n for n in range(5)}
    assert f"(line {1 + 4 * lines})" in messages[1]
    assert f"(line 1, line {1 + lines}, line {1 + 2 * lines} and 1 more)" in \
        messages[1 + 4 * lines]
    assert code == 1


# -- caches ----------------------------------------------------------------------------------

def test_index_cache_written_by_other_code_is_not_trusted(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Records cached by another certwarden version (whose rules read certificates another
    way) must not decide today's verdict: an upgrade that closes a hole must see it."""
    from certwarden import index_certificates

    repo = _git_repo(tmp_path / "repo", {"star.crt": pki.pem(_wildcard())})
    assert _unique(repo, monkeypatch)[0] == 1
    [cache_file] = (repo / ".git" / "certwarden").glob("index-cache-*.json")
    document = json.loads(cache_file.read_text())
    records = index_certificates.cached_records(document)
    assert records, document
    for items in records.values():
        for item in items:
            item["wildcard_names"] = []  # what an older reading might have said
    document["stamp"] = "another version"
    cache_file.write_text(json.dumps(document))
    code, found = _unique(repo, monkeypatch)
    assert _path_rules(found) == {("star.crt", "cert-wildcard")}
    assert code == 1


def test_inventory_cached_while_valid_says_expired_later(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    spec = pki.Spec(not_after=pki.NOW + datetime.timedelta(days=100))
    repo = _git_repo(tmp_path / "repo", {"sensor1.crt": pki.pem(pki.certificate(spec))})
    monkeypatch.chdir(repo)
    later = (pki.NOW + datetime.timedelta(days=101)).isoformat()
    verdicts = []
    for now in (NOW, later, NOW, later):
        code, out, err = run_cli("inventory", "--format", "json", "--now", now)
        assert_clean_exit(code, err, "inventory")
        [row] = json.loads(out)["certificates"]
        verdicts.append(row["verdict"])
    assert verdicts == [[], ["cert-expired"], [], ["cert-expired"]]


# -- every surface: scan, scan --range, pre-receive, inventory -------------------------------

SURFACE_ATTACKS = {  # case: files of one commit, and the rule each surface owes
    "crl-then-certificate": ({"pki/star.der": _crl_then_wildcard}, "cert-wildcard"),
    "pem-inside-der": ({"pki/sensor1.crt": _pem_inside_der}, "cert-wildcard"),
    "wildcard-ca": ({"pki/star.crt": _wildcard_ca}, "cert-wildcard"),
    "self-signed-beside-a-root": ({"pki/sensor.pem": _self_signed_wildcard_beside_a_root},
                                  "cert-wildcard"),
    "same-cn-in-two-fullchains": ({"a/fullchain.pem": lambda: _bundle(_issued(1)),
                                   "b/fullchain.pem": lambda: _bundle(_issued(2))},
                                  "cert-duplicate-cn"),
}


@pytest.mark.parametrize("case", list(SURFACE_ATTACKS))
def test_every_surface_stops_the_attack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        case: str) -> None:
    builders, rule = SURFACE_ATTACKS[case]
    files = {name: build() for name, build in builders.items()}
    server = gitserver.make_server(tmp_path / "server.git")
    repo = gitserver.clone(server, tmp_path / "clone")
    base = gitserver.commit(repo, {"README.md": b"plant certificates\n"}, "start")
    assert gitserver.push(repo, "HEAD:main")[0] == 0
    gitserver.commit(repo, files, "attack")

    code, document = _json(repo, monkeypatch, "scan")
    assert rule in rules_of(document), ("scan", document["findings"])
    assert code == 1
    code, document = _json(repo, monkeypatch, "scan", "--range", f"{base}..HEAD")
    assert rule in {f["rule"] for f in document["findings"]}, ("range", document["findings"])
    assert code == 1
    code, out, err = run_cli("inventory", "--format", "json", "--now", NOW)
    assert_clean_exit(code, err, "inventory")
    verdicts = {rule_id for row in json.loads(out)["certificates"] for rule_id in row["verdict"]}
    assert rule in verdicts, ("inventory", out)

    code, output = gitserver.push(repo, "HEAD:main")
    assert code != 0, output
    assert rule in {found for _, found in gitserver.rejections(output)}, output


# -- a real `git commit` through the manifest's hooks ----------------------------------------

VALID_FROM = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
VALID_TO = datetime.datetime(2099, 1, 1, tzinfo=datetime.timezone.utc)


def test_real_commits_through_the_certificate_hooks(tmp_path: Path) -> None:
    """The real pre-commit client and real clock (hence validity to 2099)."""
    from tests.test_end_to_end import PRE_COMMIT_BIN

    snapshot = tmp_path / "hook-repo"
    rev = hookrepo.make_snapshot(snapshot)
    env = hookrepo.git_env(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    env["PATH"] = f"{PRE_COMMIT_BIN}:{env['PATH']}"
    repo = hookrepo.make_user_repo(tmp_path / "user", hook_repo=snapshot, rev=rev,
                                   hook_ids=["check-certificates", "check-unique-certificates"],
                                   env=env)
    dates = {"not_before": VALID_FROM, "not_after": VALID_TO}
    root = pki.certificate(pki.Spec(cn="Plant Root CA", ca=True, key_slot=9, crl_urls=None,
                                    **dates))
    root_key = pki.rsa_key(2048, 9)

    def leaf(slot: int) -> x509.Certificate:
        return pki.certificate(pki.Spec(key_slot=slot, **dates), issuer=(root, root_key))

    star = _ca_flag_certificate(pki.Spec(cn=WILDCARD, key_slot=3, org_unit=None,
                                         crl_urls=None, **dates))
    attacks = {
        "self-signed wildcard beside a root": {"pki/star.pem": pki.pem(star) + pki.pem(root)},
        "CRL then a wildcard": {"pki/star.der": pki.crl(root, root_key, []) + pki.der(
            pki.certificate(pki.Spec(cn=WILDCARD, key_slot=3, **dates)))},
        "one CN in two fullchains": {"a/fullchain.pem": pki.pem(leaf(1)) + pki.pem(root),
                                     "b/fullchain.pem": pki.pem(leaf(2)) + pki.pem(root)},
    }
    for name, files in attacks.items():
        result = hookrepo.commit(repo, files, env)
        assert result.returncode != 0, (name, result.stdout + result.stderr)
        hookrepo.git(repo, "reset", "-q", "--hard", env=env)
        hookrepo.git(repo, "clean", "-qfd", env=env)
    assert hookrepo.git(repo, "log", "--oneline").stdout.count("\n") == 1
    sensor1 = leaf(1)
    good = hookrepo.commit(repo, {"pki/sensor1.crt": pki.pem(sensor1),
                                  "pki/sensor1-fullchain.pem": pki.pem(sensor1) + pki.pem(root)},
                           env)
    assert good.returncode == 0, good.stdout + good.stderr
