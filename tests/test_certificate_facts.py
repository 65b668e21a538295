"""Issue 12 beyond the odd-certificate set: golden verdicts (input -> set of rule ids) for
the parts recognition reads raw, cert-malformed's passing and failing case, bundles
reported certificate by certificate, PKCS#12 passphrases and work limits, uniqueness
inside one file, and a fuzz of the field readers themselves."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certwarden.cli import main
from certwarden.index_certificates import CACHE_VERSION, cached_records
from certwarden.recognition import certificate_der as der
from certwarden.recognition import sniff
from certwarden.recognition.certificates import load_certificates
from certwarden.recognition.pkcs12_limits import MAX_ITERATIONS, pkcs12_work
from certwarden.registry import all_rules, markdown_table
from tests import hookrepo, pki
from tests import odd_certificates as odd
from tests.conftest import RunJson, rules_of
from tests.tools import require

PROJECT = Path(__file__).resolve().parent.parent
DAY = odd.DAY
NOW = pki.NOW_ISO
CERTIFICATES = ("--group", "certificates")

Edit = Callable[[odd.Tbs], None]


def edited(edit: Edit, spec: pki.Spec | None = None, *, hash_name: str = "sha256") -> bytes:
    """PEM of a policy-compliant (or `spec`) certificate with one DER edit, signed again."""
    spec = spec or pki.Spec()
    tbs = odd.Tbs.of(pki.certificate(spec))
    edit(tbs)
    key = spec.private_key()
    return odd.der_to_pem(odd.sign(tbs, key, hash_name=hash_name))  # type: ignore[arg-type]


def _explicit_critical_false(tbs: odd.Tbs) -> None:
    """basicConstraints with `critical FALSE` spelled out: a DEFAULT value DER forbids, so
    cryptography refuses the whole certificate; many real ones are so encoded."""
    tbs.replace_extension(odd.BASIC_CONSTRAINTS, odd.seq(
        odd.oid(odd.BASIC_CONSTRAINTS), odd.boolean(False), odd.octets(odd.seq())))


def _version_4(tbs: odd.Tbs) -> None:
    tbs.parts[0] = odd.ctx(0, odd.integer(3))


def _validity(not_before: bytes, not_after: bytes) -> Edit:
    def edit(tbs: odd.Tbs) -> None:
        tbs.parts[odd.Tbs.VALIDITY] = odd.seq(not_before, not_after)
    return edit


def _utc(text: str) -> bytes:
    return odd.tlv(0x17, text.encode())


def _san_x400_and_wildcard(tbs: odd.Tbs) -> None:
    wildcard = odd.tlv(2, b"*.plant.example.com", cls=odd.CONTEXT)
    tbs.replace_extension(odd.SAN, odd.extension(odd.SAN, odd.seq(
        odd.DNS, wildcard, odd.ctx(3, odd.seq()))))


def _bad_crl_distribution_point(tbs: odd.Tbs) -> None:
    tbs.replace_extension("2.5.29.31", odd.extension("2.5.29.31", odd.seq(odd.integer(5))))


def _negative_rsa_modulus(tbs: odd.Tbs) -> None:
    """An RSA key whose modulus INTEGER lost its leading zero byte (negative)."""
    spki = odd.children(tbs.parts[odd.Tbs.SPKI])
    modulus, exponent = odd.children(tbs.rsa_public_key)
    content = odd.parser.parse(modulus, strict=True)[4].lstrip(b"\x00")
    key = odd.seq(odd.tlv(2, content), exponent)
    tbs.parts[odd.Tbs.SPKI] = odd.seq(spki[0], odd.bits(key))


# (case, certificate PEM, rule ids owed, words the cert-malformed message holds)
GOLDEN: list[tuple[str, Callable[[], bytes], set[str], tuple[str, ...]]] = [
    ("compliant", lambda: pki.pem(pki.certificate()), set(), ()),
    ("san-x400-and-wildcard-dns", lambda: edited(_san_x400_and_wildcard),
     {"cert-malformed", "cert-wildcard"}, ("subjectAltName", "x400Address")),
    ("malformed-crl-distribution-point", lambda: edited(_bad_crl_distribution_point),
     {"cert-malformed"}, ("crlDistributionPoints",)),
    ("explicit-critical-false", lambda: edited(_explicit_critical_false),
     {"cert-malformed"}, ("basicConstraints", "DEFAULT")),
    ("explicit-critical-false+wildcard+expired", lambda: edited(
        _explicit_critical_false, pki.Spec(cn="*.plant.example.com", not_before=pki.NOW
                                           - 90 * DAY, not_after=pki.NOW - DAY)),
     {"cert-malformed", "cert-wildcard", "cert-expired"}, ("DEFAULT",)),
    ("explicit-critical-false+sha1", lambda: edited(_explicit_critical_false, hash_name="sha1"),
     {"cert-malformed", "cert-signature-algorithm"}, ("DEFAULT",)),
    ("version-4+no-ou", lambda: edited(_version_4, pki.Spec(org_unit=None)),
     {"cert-malformed", "cert-subject-org-unit"}, ("version",)),
    ("utc-time-without-seconds+expired", lambda: edited(
        _validity(_utc("2501010000Z"), _utc("2601010000Z"))),
     {"cert-malformed", "cert-expired"}, ("validity",)),
    ("unreadable-validity", lambda: edited(_validity(_utc("garbage"), _utc("garbage"))),
     {"cert-malformed"}, ("validity",)),
    ("negative-rsa-modulus", lambda: edited(_negative_rsa_modulus),
     {"cert-malformed"}, ("public key", "RSA")),
    ("rsassa-pss-key", lambda: odd.rsa_pss_cases()[1].data, {"cert-key-type"}, ()),
    ("rsa-pss-signature", lambda: odd.rsa_pss_cases()[0].data,
     {"cert-signature-algorithm"}, ()),
]


def _malformed_messages(document: dict[str, Any]) -> list[str]:
    return [f["message"] for f in document["findings"] if f["rule"] == "cert-malformed"]


@pytest.mark.parametrize("encoding", ["pem", "der"])
@pytest.mark.parametrize(("case", "make", "expected", "words"), GOLDEN,
                         ids=[case[0] for case in GOLDEN])
def test_golden(run_json: RunJson, tmp_path: Path, case: str, make: Callable[[], bytes],
                expected: set[str], words: tuple[str, ...], encoding: str) -> None:
    data = make()
    name = f"{case}.{'crt' if encoding == 'pem' else 'der'}"
    (tmp_path / name).write_bytes(data if encoding == "pem" else odd.pem_to_der(data))
    code, document = run_json(*CERTIFICATES, name)
    assert rules_of(document) == expected, document["findings"]
    assert code == (1 if expected else 0)
    messages = " ".join(_malformed_messages(document))
    for word in words:
        assert word.lower() in messages.lower(), messages
    assert "internal error" not in json.dumps(document)


def test_cert_malformed_passes_a_well_formed_certificate(run_json: RunJson,
                                                         tmp_path: Path) -> None:
    (tmp_path / "good.crt").write_bytes(pki.pem(pki.certificate()))
    code, document = run_json(*CERTIFICATES, "good.crt")
    assert (code, rules_of(document)) == (0, set())


def test_cert_malformed_fails_a_malformed_part(run_json: RunJson, tmp_path: Path) -> None:
    (tmp_path / "odd.crt").write_bytes(odd.odd_certificate("san-x400address").data)
    code, document = run_json(*CERTIFICATES, "odd.crt")
    assert code == 1
    [finding] = document["findings"]
    assert (finding["rule"], finding["severity"], finding["line"]) == (
        "cert-malformed", "error", 1)
    assert finding["message"] == ("subjectAltName could not be parsed: unsupported general "
                                  "name x400Address")
    assert "openssl x509 -in odd.crt -text -noout" in finding["hint"]


def test_explain_cert_malformed_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "cert-malformed"]) == 0
    out = capsys.readouterr().out
    assert "cert-malformed (error, certificates)" in out
    assert "openssl x509 -in FILE -text -noout" in out
    assert "re-issue" in out


def test_readme_lists_cert_malformed() -> None:
    readme = (PROJECT / "README.md").read_text()
    assert "| `cert-malformed` | error |" in markdown_table()
    table = readme.split("<!-- rules:begin -->\n", 1)[1].split("<!-- rules:end -->", 1)[0]
    assert "| `cert-malformed` | error |" in table
    refusals = readme.split("## When the appliance refuses a certificate", 1)[1].split("##")[0]
    assert "`cert-malformed`" in refusals


def test_inspect_shows_the_malformed_part_and_openssl_names(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from cryptography.x509.oid import NameOID

    monkeypatch.chdir(tmp_path)
    spec = pki.Spec(extra_subject=[(NameOID.EMAIL_ADDRESS, "ops@plant.example.com")])
    (tmp_path / "odd.crt").write_bytes(edited(_san_x400_and_wildcard, spec))
    assert main(["inspect", "--now", NOW, "odd.crt"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"well-formed\s+subjectAltName malformed.*error", out), out
    assert "emailAddress = ops@plant.example.com" in out
    assert "1.2.840.113549.1.9.1" not in out
    assert "*.plant.example.com" in out  # the SAN DNS names, read from the raw extension


# -- key types and sizes ---------------------------------------------------------------------

def test_rsa_pss_key_is_allowed_only_when_configured(run_json: RunJson, tmp_path: Path) -> None:
    (tmp_path / "pss.crt").write_bytes(odd.rsa_pss_cases()[1].data)
    _, document = run_json(*CERTIFICATES, "pss.crt")
    [message] = [f["message"] for f in document["findings"]]
    assert "public key is RSA-PSS" in message and "allowed: RSA" in message
    (tmp_path / ".git").mkdir()
    (tmp_path / ".certwarden.toml").write_text('key-types = ["rsa", "rsa-pss"]\n')
    code, document = run_json(*CERTIFICATES, "pss.crt")
    assert (code, rules_of(document)) == (0, set())


def test_slow_key_note_is_for_appliance_certificates_not_cas(run_json: RunJson,
                                                             tmp_path: Path) -> None:
    root = pki.certificate(pki.Spec(cn="Plant Root CA", ca=True, key_bits=4096, crl_urls=None))
    leaf = pki.certificate(pki.Spec(key_bits=4096, key_slot=1),
                           issuer=(root, pki.rsa_key(4096)))
    (tmp_path / "chain.pem").write_bytes(pki.pem(root))
    (tmp_path / "sensor.crt").write_bytes(pki.pem(leaf))
    (tmp_path / "sensor.csr").write_bytes(pki.pem(pki.csr(pki.Spec(key_bits=4096))))
    _, document = run_json(*CERTIFICATES, "chain.pem", "sensor.crt", "sensor.csr")
    assert {(f["path"], f["rule"]) for f in document["findings"]} == {
        ("sensor.crt", "cert-key-size-slow"), ("sensor.csr", "cert-key-size-slow")}


def test_hints_speak_of_any_http_url_and_port() -> None:
    for rule in all_rules():
        assert "port 80)" not in rule.hint, rule.id
    unreachable = next(rule for rule in all_rules() if rule.id == "cert-crl-unreachable")
    assert "http://" in unreachable.hint and "port" in unreachable.hint


# -- CSRs ------------------------------------------------------------------------------------

def test_csr_with_a_malformed_extension_keeps_its_other_findings(run_json: RunJson,
                                                                 tmp_path: Path) -> None:
    """A CSR asking for a SAN with an x400Address: cryptography refuses its extensions."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    spec = pki.Spec(cn="*.plant.example.com")
    request = (x509.CertificateSigningRequestBuilder().subject_name(spec.name())
               .add_extension(x509.UnrecognizedExtension(
                   x509.ObjectIdentifier(odd.SAN), odd.seq(odd.DNS, odd.ctx(3, odd.seq()))),
                   critical=False)
               .sign(spec.private_key(), hashes.SHA256()))  # type: ignore[arg-type]
    (tmp_path / "odd.csr").write_bytes(pki.pem(request))
    code, document = run_json(*CERTIFICATES, "odd.csr")
    assert rules_of(document) == {"cert-malformed", "cert-wildcard"}
    assert "x400Address" in " ".join(_malformed_messages(document))
    assert code == 1


# -- bundles ---------------------------------------------------------------------------------

def _pkcs7(*certificates: bytes) -> bytes:
    """A degenerate PKCS#7 SignedData holding these certificate DERs (as openssl crl2pkcs7)."""
    signed_data = odd.seq(odd.integer(1), odd.set_of(), odd.seq(odd.oid("1.2.840.113549.1.7.1")),
                          odd.ctx(0, b"".join(certificates)), odd.set_of())
    return odd.seq(odd.oid("1.2.840.113549.1.7.2"), odd.ctx(0, signed_data))


def test_pkcs7_bundle_reports_each_certificate_by_position(run_json: RunJson,
                                                           tmp_path: Path) -> None:
    first = pki.certificate(pki.Spec(org_unit=None, key_slot=1))
    second = pki.certificate(pki.Spec(org_unit=None, key_slot=2))
    (tmp_path / "two.p7b").write_bytes(_pkcs7(pki.der(first), pki.der(second)))
    code, document = run_json(*CERTIFICATES, "two.p7b")
    assert code == 1
    messages = sorted(f["message"] for f in document["findings"])
    assert messages == ["certificate 1 of 2: certificate subject has no OU",
                        "certificate 2 of 2: certificate subject has no OU"]


def test_pkcs7_bundle_with_a_refused_certificate_judges_the_others(run_json: RunJson,
                                                                   tmp_path: Path) -> None:
    wildcard = pki.der(pki.certificate(pki.Spec(cn="*.plant.example.com", key_slot=1)))
    refused = odd.pem_to_der(edited(_version_4, pki.Spec(key_slot=2)))
    (tmp_path / "mixed.p7b").write_bytes(_pkcs7(wildcard, refused))
    code, document = run_json(*CERTIFICATES, "mixed.p7b")
    assert code == 1
    assert {(f["rule"], f["message"].split(":")[0]) for f in document["findings"]} == {
        ("cert-wildcard", "certificate 1 of 2"), ("cert-malformed", "certificate 2 of 2")}


def test_ber_pkcs7_bundle_is_read(run_json: RunJson, tmp_path: Path) -> None:
    vectors = pytest.importorskip("cryptography_vectors")
    data = vectors.open_vector_file(os.path.join("pkcs7", "amazon-roots.p7b"), "rb").read()
    assert data[:2] == b"\x30\x80"  # indefinite lengths: BER, as some tools write
    (tmp_path / "roots.p7b").write_bytes(data)
    _, document = run_json(*CERTIFICATES, "roots.p7b")
    assert "cert-unreadable" not in rules_of(document)
    assert {f["message"].split(":")[0] for f in document["findings"]} == {
        "certificate 1 of 2", "certificate 2 of 2"}


def test_crl_files_are_no_certificate_problem(run_json: RunJson, tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    issuer = pki.certificate(pki.Spec(cn="Plant Issuing CA", ca=True, crl_urls=None))
    crl_der = pki.crl(issuer, pki.rsa_key(), [5])
    (tmp_path / "issuing.crl.der").write_bytes(crl_der)
    (tmp_path / "issuing.crl.pem").write_bytes(
        x509.load_der_x509_crl(crl_der).public_bytes(Encoding.PEM))
    code, document = run_json(*CERTIFICATES, "issuing.crl.der", "issuing.crl.pem")
    assert (code, document["findings"]) == (0, [])


# -- PKCS#12 ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def wildcard_pfx(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("pfx")
    pem, key, _ = odd.pfx_contents()["wildcard"]
    return {"plain": odd.pkcs12_file(folder, "plain", pem, key),
            "costly": odd.pkcs12_file(folder, "costly", pem, key, "-iter", "5000000")}


def _map(folder: Path, variable: str = odd.PFX_VARIABLE) -> None:
    (folder / ".git").mkdir(exist_ok=True)
    (folder / ".certwarden.toml").write_text(f'[passphrases]\n"*.pfx" = "{variable}"\n')


def test_locked_pfx_with_its_variable_unset_says_so(run_json: RunJson, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    wildcard_pfx: dict[str, bytes]) -> None:
    (tmp_path / "sensor.pfx").write_bytes(wildcard_pfx["plain"])
    _map(tmp_path)
    monkeypatch.delenv(odd.PFX_VARIABLE, raising=False)
    code, document = run_json(*CERTIFICATES, "sensor.pfx")
    [finding] = document["findings"]
    assert (code, finding["severity"]) == (0, "warning")
    assert f"passphrase checks skipped: {odd.PFX_VARIABLE} is not set" in finding["message"]
    assert run_json(*CERTIFICATES, "--strict", "sensor.pfx")[0] == 1

    monkeypatch.setenv(odd.PFX_VARIABLE, "not-the-passphrase")
    _, document = run_json(*CERTIFICATES, "sensor.pfx")
    [finding] = document["findings"]
    assert f"the passphrase in {odd.PFX_VARIABLE} does not open it" in finding["message"]
    assert "not-the-passphrase" not in json.dumps(document)


def test_pfx_over_the_iteration_limit_is_never_opened(
        run_json: RunJson, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        wildcard_pfx: dict[str, bytes]) -> None:
    from cryptography.hazmat.primitives.serialization import pkcs12

    work = pkcs12_work(wildcard_pfx["costly"])
    assert work is not None and work.iterations == 5_000_000 > MAX_ITERATIONS

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a bundle over the limits was handed to the loader")

    monkeypatch.setattr(pkcs12, "load_pkcs12", refuse)
    (tmp_path / "costly.pfx").write_bytes(wildcard_pfx["costly"])
    _map(tmp_path)
    monkeypatch.setenv(odd.PFX_VARIABLE, odd.PFX_PASSPHRASE)
    code, document = run_json(*CERTIFICATES, "costly.pfx")
    [finding] = document["findings"]
    assert (code, finding["rule"], finding["severity"]) == (1, "cert-unreadable", "error")
    assert "5,000,000 key-derivation iterations" in finding["message"]


def test_unique_index_never_caches_what_a_passphrase_decided(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        wildcard_pfx: dict[str, bytes], capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    hookrepo.git(repo, "init", "-q", "-b", "main")
    (repo / "star.pfx").write_bytes(wildcard_pfx["plain"])
    (repo / "sensor1.crt").write_bytes(pki.pem(pki.certificate(pki.Spec(key_slot=3))))
    hookrepo.git(repo, "add", "star.pfx", "sensor1.crt")
    _map(repo)
    monkeypatch.chdir(repo)

    def unique() -> set[tuple[str, str]]:
        capsys.readouterr()
        main(["check", "--group", "unique", "--format", "json", "--now", NOW])
        document = json.loads(capsys.readouterr().out)
        return {(f["path"], f["rule"]) for f in document["findings"]}

    monkeypatch.delenv(odd.PFX_VARIABLE, raising=False)
    assert unique() == set()  # locked: nothing claimed, and nothing cached as final
    monkeypatch.setenv(odd.PFX_VARIABLE, odd.PFX_PASSPHRASE)
    assert unique() == {("star.pfx", "cert-wildcard")}
    blob = hookrepo.git(repo, "rev-parse", ":star.pfx").stdout.strip()
    document = json.loads((repo / ".git" / "certwarden" /
                           f"index-cache-v{CACHE_VERSION}.json").read_text())
    cached = cached_records(document)
    assert blob not in cached and len(cached) == 1  # only sensor1.crt's blob
    assert odd.PFX_PASSPHRASE not in json.dumps(document)
    monkeypatch.delenv(odd.PFX_VARIABLE)
    assert unique() == set()


# -- uniqueness in one file ------------------------------------------------------------------

def _unique_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
               capsys: pytest.CaptureFixture[str], files: dict[str, bytes]
               ) -> set[tuple[str, str]]:
    repo = tmp_path / "repo"
    repo.mkdir()
    hookrepo.git(repo, "init", "-q", "-b", "main")
    for name, data in files.items():
        (repo / name).write_bytes(data)
        hookrepo.git(repo, "add", name)
    monkeypatch.chdir(repo)
    capsys.readouterr()
    main(["check", "--group", "unique", "--format", "json", "--now", NOW])
    document = json.loads(capsys.readouterr().out)
    return {(f["path"], f["rule"]) for f in document["findings"]}


def test_leaf_and_the_certificate_that_issued_it_are_not_duplicates(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A self-signed non-CA certificate that signed a leaf of the same CN: a chain, however
    odd, not two appliances."""
    issuer = pki.certificate(pki.Spec(key_slot=1))
    leaf = pki.certificate(pki.Spec(key_slot=2), issuer=(issuer, pki.rsa_key(2048, 1)))
    assert _unique_in(tmp_path, monkeypatch, capsys,
                      {"pair.pem": pki.pem(leaf) + pki.pem(issuer)}) == set()


def test_one_key_twice_in_one_bundle_is_key_reuse_not_a_duplicate_cn(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    old = pki.certificate(pki.Spec(key_slot=1, not_before=pki.NOW - 9 * DAY))
    renewed = pki.certificate(pki.Spec(key_slot=1))
    assert _unique_in(tmp_path, monkeypatch, capsys,
                      {"sensors.pem": pki.pem(old) + pki.pem(renewed)}) == {
        ("sensors.pem", "key-reused")}


# -- file selection --------------------------------------------------------------------------

def test_hook_file_patterns_match_the_recognised_extensions() -> None:
    hooks = {hook["id"]: hook for hook in
             yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text())}
    certificates = hooks["check-certificates"]["files"]
    alternatives = re.fullmatch(r"\(\?i\)\\\.\((.*)\)\$", certificates)
    assert alternatives, certificates
    assert {f".{name}" for name in alternatives.group(1).split("|")} == set(
        sniff.CERTIFICATE_EXTENSIONS)
    assert re.search(certificates, "certs/Sectigo.CA-BUNDLE")
    # The uniqueness hook also runs when a key or the appliance manifest changes.
    unique = hooks["check-unique-certificates"]["files"]
    for extension in sniff.CERTIFICATE_EXTENSIONS:
        assert re.search(unique, f"pki/sensor1{extension.upper()}"), extension
    for other in ("pki/sensor1.key", ".certwarden.toml", "pyproject.toml"):
        assert re.search(unique, other), other


def test_openssl_req_writes_a_selected_and_judged_file(run_json: RunJson,
                                                       tmp_path: Path) -> None:
    """`openssl req -new -out sensor1.req`: the name certreq and openssl users pick."""
    require("openssl")
    key = tmp_path / "k.pem"
    key.write_bytes(pki.rsa_key().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"test-only-pass")))
    subprocess.run(["openssl", "req", "-new", "-key", str(key), "-passin",
                    "pass:test-only-pass", "-subj", "/C=US/O=Example Corp/CN=*.example.com",
                    "-out", str(tmp_path / "sensor1.req")], check=True, capture_output=True)
    key.unlink()
    _, document = run_json(*CERTIFICATES, "sensor1.req")
    assert rules_of(document) == {"cert-wildcard", "cert-subject-org-unit"}


# -- fuzzing the field readers ---------------------------------------------------------------

FUZZ = settings(max_examples=int(os.environ.get("CERTWARDEN_FUZZ_EXAMPLES", "150")),
                deadline=None, suppress_health_check=[HealthCheck.too_slow])
BASE = pki.der(pki.certificate(pki.Spec(san_dns=["sensor1.plant.example.com"])))


def _every_fact(data: bytes) -> None:
    for obj in load_certificates(data, "fuzzed.crt", passphrase=None).objects:
        # Each fact is there, of the type the rules rely on (never an exception).
        assert isinstance(obj.malformed, list) and isinstance(obj.is_ca, bool)
        assert all(isinstance(n, str) for n in [*obj.common_names, *obj.dns_names])
        assert isinstance(obj.spki, bytes) and isinstance(obj.public_key_type, str)
        assert obj.public_key_size is None or isinstance(obj.public_key_size, int)
        assert obj.crl_urls is None or all(isinstance(u, str) for u in obj.crl_urls)
        assert obj.not_after is None or obj.not_after.tzinfo is not None
        assert isinstance(obj.subject_text, str) and isinstance(obj.issuer.text(), str)
        assert isinstance(obj.signature_oid, str)


@FUZZ
@given(st.binary(max_size=600))
def test_der_reader_never_raises(data: bytes) -> None:
    der.split_certificate(data)
    der.split_csr(data)
    assert isinstance(der.is_crl(data), bool)
    parts = der.elements(data)
    for part in parts or []:
        inside = der.children(data, part)
        assert inside is None or isinstance(inside, list)


@FUZZ
@given(st.data())
def test_mutated_certificates_give_facts_never_exceptions(data: st.DataObject) -> None:
    mutated = bytearray(BASE)
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(mutated) - 1))
        mutated[position] = data.draw(st.integers(0, 255))
    _every_fact(bytes(mutated))


@FUZZ
@given(st.sampled_from(sorted({*odd.BREAKAGES} - {"san-othername-unknown-type"})),
       st.binary(min_size=1, max_size=40))
def test_extension_readers_on_random_values_never_raise(breakage: str, value: bytes) -> None:
    """Any bytes as the value of any extension the policy reads, beside an odd part."""
    tbs = odd.Tbs.of(pki.certificate())
    odd.BREAKAGES[breakage].edit(tbs)
    for oid in (odd.SAN, odd.BASIC_CONSTRAINTS, "2.5.29.15", "2.5.29.31", odd.NAME_CONSTRAINTS):
        tbs.replace_extension(oid, odd.extension(oid, value))
    certificate = odd.sign(tbs, pki.rsa_key())
    _every_fact(certificate)
    [obj] = load_certificates(certificate, "fuzzed.der", passphrase=None).objects
    assert obj.malformed  # the values are random: something is malformed, and named


def test_der_certificate_holding_pem_looking_text_is_still_judged(run_json: RunJson,
                                                                  tmp_path: Path) -> None:
    """A `-----BEGIN PRIVATE KEY-----` inside an extension must not hide a DER certificate."""
    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives import hashes

    key = pki.rsa_key()
    policies = cx509.CertificatePolicies([cx509.PolicyInformation(
        cx509.ObjectIdentifier("1.3.6.1.4.1.99999.1"),
        ["http://example.com/-----BEGIN PRIVATE KEY-----"])])
    spec = pki.Spec(cn="*.plant.example.com")
    certificate = (cx509.CertificateBuilder().subject_name(spec.name()).issuer_name(spec.name())
                   .public_key(key.public_key()).serial_number(7)
                   .not_valid_before(spec.not_before).not_valid_after(spec.not_after)
                   .add_extension(policies, critical=False)
                   .add_extension(cx509.CRLDistributionPoints([cx509.DistributionPoint(
                       [cx509.UniformResourceIdentifier(pki.CRL_URL)], None, None, None)]),
                       critical=False)
                   .sign(key, hashes.SHA256()))
    (tmp_path / "hidden.cer").write_bytes(pki.der(certificate))
    code, document = run_json("--group", "certificates", "--", "hidden.cer")
    assert code == 1
    assert rules_of(document, "hidden.cer") == {"cert-wildcard"}
