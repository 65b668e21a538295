"""Issue 12's odd-certificate set: golden verdicts for malformed, bundled and locked
certificates, file selection and uniqueness, and a fuzz of the extension readers.

Every certificate is built at test time by `tests.odd_certificates`. A golden case
compares the set of rule ids reported for its file with the expected set: one malformed
part must never wipe out the policy findings that can still be decided. Commands
(`inspect`, `scan`, `check --group unique`) must never end in a traceback or an
"internal error" finding. For a long fuzz run:

    CERTWARDEN_FUZZ_EXAMPLES=2000 python -m pytest tests/test_odd_certificates.py -k fuzz
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from asn1crypto import core
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certwarden.cli import main
from tests import hookrepo, pki
from tests import odd_certificates as odd
from tests.conftest import RunJson, rules_of

NOW = pki.NOW_ISO
PROJECT = Path(__file__).resolve().parent.parent
CERTIFICATE_HOOKS = ("check-certificates", "check-unique-certificates")
UNIQUE_RULES = frozenset({"cert-wildcard", "cert-duplicate-cn", "cert-duplicate", "key-reused"})

# The verdicts here are the certificate rules'. The secrets group runs detect-secrets'
# plugins on PEM bodies too, and random base64 lines now and then match one (Artifactory's
# `AP[0-9A-F]...` at a line start): that is the secrets group's to settle, not this set's.
CERTIFICATES_ONLY = ("--group", "certificates")

MALFORMED = odd.malformed_cases()
RSA_PSS = odd.rsa_pss_cases()
UNLOADABLE = odd.unloadable_cases()


def _ids(cases: list[odd.OddCertificate]) -> list[str]:
    return [case.case for case in cases]


# -- running the command line in-process -----------------------------------------------------

def run_cli(*args: str) -> tuple[int, str, str]:
    """main(args) with its output captured; an escaping exception (even a BaseException
    such as a Rust panic) comes back as a traceback on stderr, as a real run would show."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
        except BaseException:
            err.write(traceback.format_exc())
            code = -1
    return code, out.getvalue(), err.getvalue()


def assert_clean_exit(code: int, stderr: str, command: str) -> None:
    assert "Traceback" not in stderr, f"{command} crashed:\n{stderr}"
    assert code in (0, 1), f"{command} exited {code}:\n{stderr}"


def assert_no_internal_error(document: dict[str, Any]) -> None:
    internal = [(f["path"], f["rule"], f["message"]) for f in document["findings"]
                if "internal error" in f["message"]]
    assert not internal, f"internal error: {internal}"


def malformed_messages(document: dict[str, Any], path: str) -> list[str]:
    return [f["message"] for f in document["findings"]
            if f["path"] == path and f["rule"] == "cert-malformed"]


def assert_verdict(document: dict[str, Any], case: odd.OddCertificate, path: str) -> None:
    """The golden comparison: expected <= reported <= expected | optional."""
    assert case.expected is not None
    reported = rules_of(document, path)
    missing = case.expected - reported
    extra = reported - case.expected - case.optional
    assert not missing and not extra, (
        f"{case.case}: reported {sorted(reported)}, expected {sorted(case.expected)}"
        f"{f' (optional {sorted(case.optional)})' if case.optional else ''}; "
        f"messages: {[(f['rule'], f['message']) for f in document['findings']]}")
    if "cert-malformed" in reported and case.names:
        messages = malformed_messages(document, path)
        assert any(name.lower() in message.lower() for message in messages
                   for name in case.names), (
            f"no cert-malformed message names the field ({case.names}): {messages}")


def expected_exit(case: odd.OddCertificate) -> int:
    # The rules the cases expect are all errors by default; a case expecting none passes.
    return 1 if case.expected else 0


# -- golden verdicts, one certificate per file -----------------------------------------------

@pytest.mark.parametrize("encoding", ["pem", "der"])
@pytest.mark.parametrize("case", MALFORMED, ids=_ids(MALFORMED))
def test_malformed_part_keeps_the_other_findings(run_json: RunJson, tmp_path: Path,
                                                 case: odd.OddCertificate,
                                                 encoding: str) -> None:
    name = case.filename if encoding == "pem" else case.filename.replace(".crt", ".der")
    data = case.data if encoding == "pem" else odd.pem_to_der(case.data)
    (tmp_path / name).write_bytes(data)
    code, document = run_json(*CERTIFICATES_ONLY, name)
    assert_no_internal_error(document)
    assert_verdict(document, case, name)
    assert code == expected_exit(case)
    if encoding == "pem" and case.expected:
        assert {f["line"] for f in document["findings"]} == {1}  # the BEGIN line


@pytest.mark.parametrize("case_name", list(odd.OPENSSL_RECIPES))
def test_openssl_addext_certificates(run_json: RunJson, tmp_path: Path,
                                     case_name: str) -> None:
    case = odd.openssl_case(tmp_path, case_name)
    (tmp_path / case.filename).write_bytes(case.data)
    code, document = run_json(*CERTIFICATES_ONLY, case.filename)
    assert_no_internal_error(document)
    assert_verdict(document, case, case.filename)
    assert code == expected_exit(case)


@pytest.mark.parametrize("case", RSA_PSS, ids=_ids(RSA_PSS))
def test_rsa_pss_blocks_by_some_rule(run_json: RunJson, tmp_path: Path,
                                     case: odd.OddCertificate) -> None:
    """Whether a PSS signature or a PSS-only key is "RSA" is the implementer's call; it must
    block (the appliance rejects it) and never through an internal error."""
    (tmp_path / case.filename).write_bytes(case.data)
    code, document = run_json(*CERTIFICATES_ONLY, case.filename)
    assert_no_internal_error(document)
    assert code == 1
    assert rules_of(document, case.filename, severity="error")
    assert "cert-unreadable" not in rules_of(document, case.filename)


@pytest.mark.parametrize("case", UNLOADABLE, ids=_ids(UNLOADABLE))
def test_unloadable_der_is_only_unreadable(run_json: RunJson, tmp_path: Path,
                                           case: odd.OddCertificate) -> None:
    (tmp_path / case.filename).write_bytes(case.data)
    code, document = run_json(*CERTIFICATES_ONLY, case.filename)
    assert_no_internal_error(document)
    assert_verdict(document, case, case.filename)
    assert code == 1


def test_malformed_file_does_not_stop_the_next_file(run_json: RunJson, tmp_path: Path) -> None:
    broken = odd.odd_certificate("san-x400address")
    expired = pki.certificate(pki.Spec(not_before=pki.NOW - 9 * odd.DAY,
                                       not_after=pki.NOW - odd.DAY, key_slot=1))
    (tmp_path / "a.crt").write_bytes(broken.data)
    (tmp_path / "b.crt").write_bytes(pki.pem(expired))
    code, document = run_json(*CERTIFICATES_ONLY, "a.crt", "b.crt")
    assert code == 1
    assert rules_of(document, "b.crt") == {"cert-expired"}
    assert document["files_checked"] == 2


# -- no command ends in a traceback ----------------------------------------------------------

def _git_repo(path: Path, files: dict[str, bytes]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    hookrepo.git(path, "init", "-q", "-b", "main")
    hookrepo.stage(path, files)
    return path


def _commands_on(repo: Path, case: odd.OddCertificate,
                 monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[int, str, str]]:
    monkeypatch.chdir(repo)
    return {
        "inspect": run_cli("inspect", "--now", NOW, case.filename),
        "scan": run_cli("scan", "--format", "json", "--now", NOW),
        "unique": run_cli("check", "--group", "unique", "--format", "json", "--now", NOW),
    }


COMMAND_CASES = [*MALFORMED, *RSA_PSS, *UNLOADABLE]


@pytest.mark.parametrize("case", COMMAND_CASES, ids=_ids(COMMAND_CASES))
def test_inspect_scan_and_unique_never_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             case: odd.OddCertificate) -> None:
    repo = _git_repo(tmp_path / "repo", {case.filename: case.data})
    _judge_commands(_commands_on(repo, case, monkeypatch), case)


@pytest.mark.parametrize("case_name", list(odd.OPENSSL_RECIPES))
def test_inspect_scan_and_unique_never_crash_openssl(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case_name: str) -> None:
    case = odd.openssl_case(tmp_path, case_name)
    repo = _git_repo(tmp_path / "repo", {case.filename: case.data})
    _judge_commands(_commands_on(repo, case, monkeypatch), case)


def _judge_commands(results: dict[str, tuple[int, str, str]], case: odd.OddCertificate) -> None:
    for command, (code, _, stderr) in results.items():
        assert_clean_exit(code, stderr, f"{command} on {case.case}")
    code, out, _ = results["inspect"]
    assert "internal error" not in out
    if case.expected is not None:
        assert code == expected_exit(case), out
        for rule in case.expected:
            assert rule in out, f"inspect does not report {rule}:\n{out}"
    scan = json.loads(results["scan"][1])
    assert_no_internal_error(scan)
    if case.expected is not None:
        assert case.expected <= rules_of(scan, case.filename), scan["findings"]
    unique = json.loads(results["unique"][1])
    assert_no_internal_error(unique)
    if case.expected is not None:
        # Alone in the repository, a certificate can only be a wildcard for these rules.
        assert rules_of(unique, case.filename) & UNIQUE_RULES == (
            case.expected & {"cert-wildcard"}), unique["findings"]


def test_name_constraints_star_as_real_processes(tmp_path: Path) -> None:
    """Issue 12's crash, as users meet it: separate processes, a committed certificate with
    a `*` name constraint, then the next certificate commit."""
    star = odd.openssl_case(tmp_path, "openssl-name-constraints-star")
    repo = _git_repo(tmp_path / "repo", {star.filename: star.data})
    hookrepo.git(repo, "commit", "-q", "-m", "star constraint")
    good = pki.certificate(pki.Spec(cn="sensor2.plant.example.com", key_slot=4))
    _git_repo(repo, {"sensor2.crt": pki.pem(good)})
    commands = [  # (command line, exit status owed)
        (["inspect", "--now", NOW, star.filename], 1),  # cert-malformed
        (["scan", "--now", NOW], 1),
        (["check", "--group", "unique", "--now", NOW], 0),
        (["check", "--group", "certificates", "--now", NOW], 0),  # staged: sensor2.crt
    ]
    for command, expected in commands:
        result = subprocess.run([sys.executable, "-m", "certwarden", *command], cwd=repo,
                                capture_output=True, text=True, timeout=60)
        assert_clean_exit(result.returncode, result.stderr, " ".join(command))
        assert "internal error" not in result.stdout
        assert result.returncode == expected, (command, result.stdout)


# -- bundles ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def large_bundle() -> odd.Bundle:
    return odd.large_ca_bundle()


@pytest.fixture(scope="module")
def medium_bundle() -> odd.Bundle:
    return odd.medium_ca_bundle()


def _line_rules(document: dict[str, Any], path: str) -> set[tuple[int, str]]:
    return {(f["line"], f["rule"]) for f in document["findings"] if f["path"] == path}


@pytest.mark.parametrize("which", ["large", "medium"])
def test_ca_bundle_reports_each_certificate_at_its_line(
        run_json: RunJson, tmp_path: Path, which: str, request: pytest.FixtureRequest) -> None:
    bundle: odd.Bundle = request.getfixturevalue(f"{which}_bundle")
    (tmp_path / "ca-bundle.pem").write_bytes(bundle.data)
    code, document = run_json(*CERTIFICATES_ONLY, "ca-bundle.pem")
    assert_no_internal_error(document)
    assert code == 1
    assert _line_rules(document, "ca-bundle.pem") == bundle.expected
    lines = bundle.data.splitlines()
    for line, _ in bundle.expected:
        assert lines[line - 1] == b"-----BEGIN CERTIFICATE-----"
    for line, names in bundle.malformed_lines.items():
        messages = [f["message"] for f in document["findings"]
                    if f["line"] == line and f["rule"] == "cert-malformed"]
        assert any(name.lower() in message.lower() for message in messages
                   for name in names), (line, messages)


def test_ca_bundle_commands_never_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        large_bundle: odd.Bundle) -> None:
    case = odd.OddCertificate("large-bundle", "ca-bundle.pem", large_bundle.data, None)
    repo = _git_repo(tmp_path / "repo", {case.filename: case.data})
    results = _commands_on(repo, case, monkeypatch)
    for command, (code, _, stderr) in results.items():
        assert_clean_exit(code, stderr, command)
    assert "internal error" not in results["inspect"][1]
    assert results["inspect"][1].count("CA certificate #") == large_bundle.count
    for command in ("scan", "unique"):
        assert_no_internal_error(json.loads(results[command][1]))


def test_large_bundle_is_checked_well_under_a_second(tmp_path: Path,
                                                     large_bundle: odd.Bundle) -> None:
    """The check-certificates hook's own command on the 348-certificate bundle, as a fresh
    process (start-up included). Issue 12 asks for well under a second; 5 s only guards
    against a hang on a slow CI machine."""
    (tmp_path / "ca-bundle.pem").write_bytes(large_bundle.data)
    command = [sys.executable, "-m", "certwarden", "check", "--group", "certificates",
               "--format", "json", "--now", NOW, "--", "ca-bundle.pem"]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    elapsed = time.perf_counter() - started
    print(f"\n{large_bundle.count}-certificate bundle checked in {elapsed:.3f} s "
          "(process start included)")
    assert "Traceback" not in result.stderr
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert_no_internal_error(document)  # a run that gave up early proves no speed
    assert _line_rules(document, "ca-bundle.pem") == large_bundle.expected
    assert elapsed < 5.0


# -- password-protected PKCS#12 --------------------------------------------------------------

PFX_CASES = [(content, encryption) for content in ("wildcard", "sha1")
             for encryption in odd.PFX_ENCRYPTIONS]
PFX_IDS = [f"{content}-{encryption}" for content, encryption in PFX_CASES]


@pytest.fixture(scope="module")
def pfx_files(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], bytes]:
    folder = tmp_path_factory.mktemp("pfx")
    legacy = odd.openssl_supports_legacy_pkcs12()
    files = {}
    for name, (pem, key, _) in odd.pfx_contents().items():
        for encryption, options in odd.PFX_ENCRYPTIONS.items():
            if encryption == "legacy" and not legacy:
                continue
            files[name, encryption] = odd.pkcs12_file(folder, name, pem, key, *options)
    return files


def _pfx(pfx_files: dict[tuple[str, str], bytes], content: str, encryption: str) -> bytes:
    if (content, encryption) not in pfx_files:
        pytest.skip("this openssl has no `pkcs12 -legacy`")
    return pfx_files[content, encryption]


def _map_passphrase(folder: Path, monkeypatch: pytest.MonkeyPatch, *, set_variable: bool) -> None:
    (folder / ".git").mkdir(exist_ok=True)  # the configuration's root
    (folder / ".certwarden.toml").write_text(
        f'[passphrases]\n"*.pfx" = "{odd.PFX_VARIABLE}"\n"*.p12" = "{odd.PFX_VARIABLE}"\n')
    if set_variable:
        monkeypatch.setenv(odd.PFX_VARIABLE, odd.PFX_PASSPHRASE)
    else:
        monkeypatch.delenv(odd.PFX_VARIABLE, raising=False)


@pytest.mark.parametrize("extension", [".pfx", ".p12"])
@pytest.mark.parametrize(("content", "encryption"), PFX_CASES, ids=PFX_IDS)
def test_locked_pfx_is_judged_with_its_mapped_passphrase(
        run_json: RunJson, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        pfx_files: dict[tuple[str, str], bytes], content: str, encryption: str,
        extension: str) -> None:
    name = f"sensor{extension}"
    (tmp_path / name).write_bytes(_pfx(pfx_files, content, encryption))
    _map_passphrase(tmp_path, monkeypatch, set_variable=True)
    code, document = run_json("--group", "certificates", name)
    expected = odd.pfx_contents()[content][2]
    assert_no_internal_error(document)
    assert rules_of(document, name) == expected, document["findings"]
    assert code == 1
    assert odd.PFX_PASSPHRASE not in json.dumps(document)


@pytest.mark.parametrize(("content", "encryption"), PFX_CASES, ids=PFX_IDS)
def test_locked_pfx_without_passphrase_is_an_unverified_warning(
        run_json: RunJson, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        pfx_files: dict[tuple[str, str], bytes], content: str, encryption: str) -> None:
    (tmp_path / "sensor.pfx").write_bytes(_pfx(pfx_files, content, encryption))
    _map_passphrase(tmp_path, monkeypatch, set_variable=False)
    code, document = run_json("--group", "certificates", "sensor.pfx")
    assert_no_internal_error(document)
    warnings = [f for f in document["findings"]
                if f["path"] == "sensor.pfx" and f["severity"] == "warning"]
    assert warnings, f"no warning that the certificates were not verified: {document}"
    assert any("passphrase" in f["message"].lower() for f in warnings)
    assert code == 0
    code, _ = run_json("--group", "certificates", "--strict", "sensor.pfx")
    assert code == 1


def test_locked_pfx_counts_for_uniqueness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          pfx_files: dict[tuple[str, str], bytes]) -> None:
    """Once the passphrase opens them, PFX certificates are in the repository-wide rules: a
    wildcard one is reported, and a SHA-1 one shares its CN with a plain .crt file."""
    same_cn = pki.certificate(pki.Spec(cn="sensor7.plant.example.com", key_slot=7))
    repo = _git_repo(tmp_path / "repo", {
        "star.pfx": _pfx(pfx_files, "wildcard", "aes-256-cbc"),
        "sensor7.p12": _pfx(pfx_files, "sha1", "aes-256-cbc"),
        "sensor7.crt": pki.pem(same_cn)})
    _map_passphrase(repo, monkeypatch, set_variable=True)
    monkeypatch.chdir(repo)
    code, out, err = run_cli("check", "--group", "unique", "--format", "json", "--now", NOW)
    assert_clean_exit(code, err, "check --group unique")
    document = json.loads(out)
    assert_no_internal_error(document)
    assert {(f["path"], f["rule"]) for f in document["findings"]} == {
        ("star.pfx", "cert-wildcard"), ("sensor7.p12", "cert-duplicate-cn"),
        ("sensor7.crt", "cert-duplicate-cn")}
    assert code == 1

    monkeypatch.delenv(odd.PFX_VARIABLE)  # locked again: no crash, nothing claimed
    code, out, err = run_cli("check", "--group", "unique", "--format", "json", "--now", NOW)
    assert_clean_exit(code, err, "check --group unique without the passphrase")
    assert_no_internal_error(json.loads(out))


# -- file selection --------------------------------------------------------------------------

# Names certificate tooling writes (see the odd_certificates docstring for the reasons).
SELECTED_NAMES = [
    "sensor1.crt", "sensor1.cer", "SENSOR1.CER", "sensor1.der", "sensor1.pem",
    "sensor1.cert", "server.Cert", "chain.p7b", "chain.p7c", "sensor1.pfx", "SENSOR1.PFX",
    "keystore.p12", "truststore.p12", "sensor1.csr", "sensor1.req",
    "secrets/tls.crt", "secrets/ca.crt", "live/fullchain.pem", "tls-combined.pem",
]
NOT_SELECTED_NAMES = ["certificates.py", "cert.go", "certs/README.md", "cert_rules.txt",
                      "sensor1.crt.orig.py", "docs/certificate.html"]


def _hook_patterns() -> dict[str, re.Pattern[str]]:
    hooks = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text())
    return {hook["id"]: re.compile(hook["files"]) for hook in hooks
            if hook["id"] in CERTIFICATE_HOOKS}


@pytest.mark.parametrize("name", SELECTED_NAMES)
def test_certificate_hooks_select_certificate_file_names(name: str) -> None:
    patterns = _hook_patterns()
    assert set(patterns) == set(CERTIFICATE_HOOKS)
    for hook, pattern in patterns.items():
        assert pattern.search(name), f"{hook} does not select {name!r} ({pattern.pattern})"


@pytest.mark.parametrize("name", NOT_SELECTED_NAMES)
def test_certificate_hooks_leave_other_files_alone(name: str) -> None:
    for hook, pattern in _hook_patterns().items():
        assert not pattern.search(name), f"{hook} selects {name!r}"


def _wildcard_der() -> bytes:
    return pki.der(pki.certificate(pki.Spec(cn="*.plant.example.com", key_slot=3)))


@pytest.mark.parametrize("encoding", ["der", "pem"])
def test_dot_cert_file_is_checked(run_json: RunJson, tmp_path: Path, encoding: str) -> None:
    data = _wildcard_der() if encoding == "der" else odd.der_to_pem(_wildcard_der())
    (tmp_path / "server.cert").write_bytes(data)
    code, document = run_json("--group", "certificates", "server.cert")
    assert rules_of(document, "server.cert") == {"cert-wildcard"}
    assert code == 1


def test_dot_req_csr_is_checked(run_json: RunJson, tmp_path: Path) -> None:
    (tmp_path / "sensor1.req").write_bytes(pki.der(pki.csr(pki.Spec(cn="*.plant.example.com"))))
    code, document = run_json("--group", "certificates", "sensor1.req")
    assert rules_of(document, "sensor1.req") == {"cert-wildcard"}
    assert code == 1


def test_staged_dot_cert_is_checked_and_counted(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _git_repo(tmp_path / "repo", {"pki/server.cert": _wildcard_der()})
    monkeypatch.chdir(repo)
    for group in ("certificates", "unique"):
        code, out, err = run_cli("check", "--group", group, "--format", "json", "--now", NOW)
        assert_clean_exit(code, err, f"check --group {group}")
        assert rules_of(json.loads(out), "pki/server.cert") == {"cert-wildcard"}, group
        assert code == 1


# -- uniqueness ------------------------------------------------------------------------------

def _unique(repo: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, dict[str, Any]]:
    monkeypatch.chdir(repo)
    code, out, err = run_cli("check", "--group", "unique", "--format", "json", "--now", NOW)
    assert_clean_exit(code, err, "check --group unique")
    document: dict[str, Any] = json.loads(out)
    assert_no_internal_error(document)
    return code, document


def _path_rules(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["path"], f["rule"]) for f in document["findings"]}


@pytest.mark.parametrize("variant", [" sensor1.plant.example.com ", "sensor1.plant.example.com.",
                                     "\tSensor1.Plant.Example.com.  "],
                         ids=["whitespace", "trailing-dot", "both"])
def test_cn_spelling_variants_are_the_same_cn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              variant: str) -> None:
    plain = pki.certificate(pki.Spec(key_slot=1))
    odd_cn = pki.certificate(pki.Spec(cn=variant, key_slot=2))
    repo = _git_repo(tmp_path / "repo", {"a/sensor1.crt": pki.pem(plain),
                                         "b/sensor1.crt": pki.pem(odd_cn)})
    code, document = _unique(repo, monkeypatch)
    assert _path_rules(document) == {("a/sensor1.crt", "cert-duplicate-cn"),
                                     ("b/sensor1.crt", "cert-duplicate-cn")}
    assert code == 1


def test_two_leaves_with_one_cn_in_one_bundle_are_duplicates(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = pki.certificate(pki.Spec(key_slot=1))
    second = pki.certificate(pki.Spec(key_slot=2, not_before=pki.NOW - 2 * odd.DAY))
    repo = _git_repo(tmp_path / "repo", {"sensors.pem": pki.pem(first) + pki.pem(second)})
    code, document = _unique(repo, monkeypatch)
    assert {rule for _, rule in _path_rules(document)} == {"cert-duplicate-cn"}
    lines = {f["line"] for f in document["findings"]}
    assert lines == {1, 1 + len(pki.pem(first).splitlines())}
    assert code == 1


def test_chain_file_is_not_a_duplicate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root_spec = pki.Spec(cn="Plant Root CA", ca=True, key_slot=9, crl_urls=None)
    root = pki.certificate(root_spec)
    issuing = pki.certificate(pki.Spec(cn="Plant Issuing CA", ca=True, key_slot=10),
                              issuer=(root, pki.rsa_key(2048, 9)))
    leaf = pki.certificate(pki.Spec(key_slot=11), issuer=(issuing, pki.rsa_key(2048, 10)))
    repo = _git_repo(tmp_path / "repo", {
        "sensor1-fullchain.pem": pki.pem(leaf) + pki.pem(issuing) + pki.pem(root)})
    code, document = _unique(repo, monkeypatch)
    assert document["findings"] == []
    assert code == 0


# -- fuzzing the extension readers -----------------------------------------------------------

EXAMPLES = int(os.environ.get("CERTWARDEN_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=timedelta(seconds=3),
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
UNIQUE_FUZZ = settings(FUZZ, max_examples=max(10, EXAMPLES // 4))

# Rules a mutated extension may bring on a certificate: its own malformation, or a changed
# reading of the two extensions the policy looks at (CRL distribution point, SAN).
FUZZ_RULES = frozenset({"cert-malformed", "cert-crl-distribution-point", "cert-wildcard"})

KEY_USAGE, CRL_DP, AIA = "2.5.29.15", "2.5.29.31", "1.3.6.1.5.5.7.1.1"
EXTENSION_OIDS = [
    odd.SAN, odd.BASIC_CONSTRAINTS, odd.NAME_CONSTRAINTS, odd.CERTIFICATE_POLICIES,
    odd.EXT_KEY_USAGE, odd.SCT_LIST, KEY_USAGE, CRL_DP, AIA,
    "2.5.29.14",  # subjectKeyIdentifier
    "2.5.29.35",  # authorityKeyIdentifier
    "2.5.29.18",  # issuerAltName
    "2.5.29.36",  # policyConstraints
    "2.5.29.54",  # inhibitAnyPolicy
    "1.3.6.1.5.5.7.1.24",  # TLS feature
]


def _uri(text: str) -> bytes:
    return odd.tlv(6, text.encode(), cls=odd.CONTEXT)


def _sct_list() -> bytes:
    """A well-formed SignedCertificateTimestampList holding one SCT (TLS encoding)."""
    timestamp = int((pki.NOW.timestamp() - 86400) * 1000).to_bytes(8, "big")
    signature = odd.seq(odd.integer(1), odd.integer(1))
    sct = (b"\x00" + bytes(range(32)) + timestamp + b"\x00\x00" + b"\x04\x03"
           + len(signature).to_bytes(2, "big") + signature)
    entries = len(sct).to_bytes(2, "big") + sct
    return odd.octets(len(entries).to_bytes(2, "big") + entries)


def _extension_templates() -> list[tuple[str, bytes]]:
    """Valid (OID, value) pairs of many shapes, to be mutated and sometimes mislabelled."""
    from cryptography import x509

    templates = [(extension.oid.dotted_string, extension.value.public_bytes()) for extension
                 in pki.certificate(pki.Spec(san_dns=["sensor1.plant.example.com"])).extensions]
    templates += [
        (odd.SAN, odd.seq(odd.DNS, odd.tlv(7, bytes([192, 0, 2, 10]), cls=odd.CONTEXT),
                          _uri("http://sensor1.plant.example.com/"))),
        (odd.NAME_CONSTRAINTS, odd.seq(odd.ctx(0, odd.seq(
            odd.tlv(2, b".plant.example.com", cls=odd.CONTEXT))))),
        (odd.CERTIFICATE_POLICIES, odd.seq(odd.seq(odd.oid("2.23.140.1.2.2"), odd.seq(odd.seq(
            odd.oid(odd.ID_QT_CPS), bytes(core.IA5String("http://cps.example.com").dump())))))),
        (odd.EXT_KEY_USAGE, odd.seq(odd.oid("1.3.6.1.5.5.7.3.1"), odd.oid("1.3.6.1.5.5.7.3.2"))),
        (KEY_USAGE, x509.KeyUsage(True, False, True, False, False, False, False, False,
                                  False).public_bytes()),
        (odd.SCT_LIST, _sct_list()),
        (odd.BASIC_CONSTRAINTS, odd.seq(odd.boolean(True), odd.integer(1))),
        (CRL_DP, odd.seq(odd.seq(odd.ctx(0, odd.ctx(0, _uri("https://crl.example.com/a.crl")))))),
        (AIA, odd.seq(odd.seq(odd.oid("1.3.6.1.5.5.7.48.1"), _uri("http://ocsp.example.com")))),
    ]
    return templates


EXTENSION_TEMPLATES = _extension_templates()


@st.composite
def mutated_extension(draw: st.DrawFn) -> tuple[str, bytes, bool]:
    """(OID, value, replace the extension of that OID or add another one)."""
    own_oid, template = draw(st.sampled_from(EXTENSION_TEMPLATES))
    value = bytearray(template)
    kind = draw(st.sampled_from(["flip", "truncate", "length", "splice", "tag", "none"]))
    if kind == "flip" and value:
        for _ in range(draw(st.integers(1, 6))):
            position = draw(st.integers(0, len(value) - 1))
            value[position] ^= 1 << draw(st.integers(0, 7))
    elif kind == "truncate":
        value = value[:draw(st.integers(0, len(value)))]
    elif kind == "length" and len(value) > 1:
        position = draw(st.integers(1, min(8, len(value) - 1)))
        value[position] = draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0x81, 0x84, 0xFF]))
    elif kind == "splice":
        position = draw(st.integers(0, len(value)))
        value[position:position] = draw(st.binary(max_size=24))
    elif kind == "tag" and value:
        position = draw(st.integers(0, len(value) - 1))
        value[position] = draw(st.sampled_from([0x04, 0x05, 0x0C, 0x13, 0x16, 0x30, 0x31, 0x80,
                                                0x82, 0x83, 0x85, 0x87, 0xA0, 0xA3, 0xA5]))
    oid = draw(st.one_of(st.just(own_oid), st.sampled_from(EXTENSION_OIDS)))
    replace = draw(st.sampled_from([True, True, True, False]))  # mostly no duplicate
    return oid, bytes(value), replace


FUZZ_BASES = {"compliant": pki.Spec(),
              "expired": pki.Spec(not_before=pki.NOW - 400 * odd.DAY,
                                  not_after=pki.NOW - odd.DAY)}


def _fuzzed_certificate(oid: str, value: bytes, replace: bool, base: str = "compliant") -> bytes:
    tbs = odd.Tbs.of(pki.certificate(FUZZ_BASES[base]))
    if replace:
        tbs.replace_extension(oid, odd.extension(oid, value))
    else:
        tbs.add_extension(odd.extension(oid, value))
    return odd.der_to_pem(odd.sign(tbs, pki.rsa_key()))


def _judge_fuzzed(document: dict[str, Any], path: str, base: str) -> None:
    """Findings for the certificate, or cert-unreadable alone; an extension's damage never
    hides the expiry of the certificate it sits in."""
    assert_no_internal_error(document)
    reported = rules_of(document, path)
    assert {f["path"] for f in document["findings"]} <= {path}
    if "cert-unreadable" in reported:
        assert reported == {"cert-unreadable"}, document["findings"]
        return
    base_rules = {"cert-expired"} if base == "expired" else set()
    assert base_rules <= reported, document["findings"]
    assert reported - base_rules <= FUZZ_RULES, document["findings"]


@FUZZ
@given(mutated_extension(), st.sampled_from(sorted(FUZZ_BASES)))
def test_fuzz_extension_readers_check_and_inspect(
        tmp_path_factory: pytest.TempPathFactory,
        mutation: tuple[str, bytes, bool], base: str) -> None:
    folder = tmp_path_factory.mktemp("fuzz-ext")
    path = folder / "fuzzed.crt"
    path.write_bytes(_fuzzed_certificate(*mutation, base=base))
    code, out, err = run_cli("check", "--group", "certificates", "--format", "json",
                             "--now", NOW, str(path))
    assert_clean_exit(code, err, "check")
    _judge_fuzzed(json.loads(out), str(path), base)
    code, out, err = run_cli("inspect", "--now", NOW, str(path))
    assert_clean_exit(code, err, "inspect")
    assert "internal error" not in out


@pytest.fixture(scope="module")
def fuzz_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    repo = _git_repo(tmp_path_factory.mktemp("fuzz-unique") / "repo", {})
    previous = os.getcwd()
    yield repo
    os.chdir(previous)


@UNIQUE_FUZZ
@given(mutated_extension())
def test_fuzz_extension_readers_unique(fuzz_repo: Path,
                                       mutation: tuple[str, bytes, bool]) -> None:
    (fuzz_repo / "fuzzed.crt").write_bytes(_fuzzed_certificate(*mutation))
    hookrepo.git(fuzz_repo, "add", "fuzzed.crt")
    os.chdir(fuzz_repo)
    code, out, err = run_cli("check", "--group", "unique", "--format", "json", "--now", NOW)
    assert_clean_exit(code, err, "check --group unique")
    document = json.loads(out)
    assert_no_internal_error(document)
    assert rules_of(document) <= {"cert-wildcard"}
