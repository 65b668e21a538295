"""The human and CI faces: inspect, SARIF, new-csr."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
from cryptography.hazmat.primitives import serialization

from certwarden.cli import main
from tests import hookrepo, pki
from tests.tools import needs

SCHEMA = Path(__file__).parent / "data" / "sarif-2.1.0-rtm.5.json"
GOOD_PASS = "Lab-pass_2026"


def test_inspect_good_certificate_shows_every_field(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    (tmp_path / "good.crt").write_bytes(pki.pem(pki.certificate()))
    assert main(["inspect", "--now", pki.NOW_ISO, "good.crt"]) == 0
    out = capsys.readouterr().out
    for field, value in (("signature algorithm", "sha256WithRSAEncryption"),
                         ("public key", "RSA 2048"), ("CRL distribution point", pki.CRL_URL),
                         ("subject CN", "sensor1.plant.example.com"), ("subject C", "US"),
                         ("subject O", "Example Corp"), ("subject OU", "Plant Engineering")):
        line = next(line for line in out.splitlines() if line.strip().startswith(field + "  "))
        assert value in line and "pass" in line, line
    assert "\033[" not in out and "meets the policy" in out


def test_inspect_bad_certificate_names_the_rule(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.der").write_bytes(pki.der(pki.certificate(pki.Spec(hash_name="sha384"))))
    assert main(["inspect", "--now", pki.NOW_ISO, "bad.der"]) == 1
    out = capsys.readouterr().out
    assert "blocked by: cert-signature-algorithm" in out
    signature = next(line for line in out.splitlines() if "signature algorithm" in line)
    assert "sha384WithRSAEncryption" in signature and "error" in signature


def test_inspect_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.key").write_bytes(pki.rsa_key().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()))
    assert main(["inspect", "a.key"]) == 1
    out = capsys.readouterr().out
    assert "encrypted" in out and "NO" in out and "blocked by: key-unencrypted" in out


def test_sarif_validates_with_relative_locations(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    (repo / "pki").mkdir(parents=True)
    hookrepo.git(repo, "init", "-q")
    (repo / "pki" / "bad cert.crt").write_bytes(pki.pem(pki.certificate(pki.Spec(
        cn="*.example.com"))))
    (repo / "pki" / "sub").mkdir()
    (repo / "pki" / "sub" / "x.der").write_bytes(b"junk")
    monkeypatch.chdir(repo / "pki")
    assert main(["check", "--format", "sarif", "--now", pki.NOW_ISO, "bad cert.crt",
                 "sub/x.der"]) == 1
    document = json.loads(capsys.readouterr().out)
    jsonschema.validate(document, json.loads(SCHEMA.read_text()))
    run = document["runs"][0]
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} >= {"cert-wildcard", "secret"}
    locations = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
                 for r in run["results"]}
    assert locations == {("cert-wildcard", "pki/bad%20cert.crt"),
                         ("cert-unreadable", "pki/sub/x.der")}
    wildcard = next(r for r in run["results"] if r["ruleId"] == "cert-wildcard")
    assert wildcard["locations"][0]["physicalLocation"]["region"]["startLine"] == 1
    assert wildcard["level"] == "error"


@needs("openssl")
def test_new_csr_meets_the_policy_and_verifies_with_openssl(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LAB_PASS", GOOD_PASS)
    assert main(["new-csr", "--cn", "sensor7.plant.example.com", "--country", "US", "--org",
                 "Example Corp", "--org-unit", "Plant Engineering", "--self-signed",
                 "--crl-url", pki.CRL_URL, "--passphrase-env", "LAB_PASS",
                 "--out-dir", "out"]) == 0
    output = capsys.readouterr()
    assert GOOD_PASS not in output.out + output.err
    stem = tmp_path / "out" / "sensor7.plant.example.com"
    subprocess.run(["openssl", "req", "-verify", "-noout", "-in", f"{stem}.csr"], check=True,
                   capture_output=True)
    opened = subprocess.run(["openssl", "pkey", "-in", f"{stem}.key", "-passin", "env:LAB_PASS",
                             "-noout"], capture_output=True)
    assert opened.returncode == 0
    wrong = subprocess.run(["openssl", "pkey", "-in", f"{stem}.key", "-passin", "pass:nope",
                            "-noout"], capture_output=True)
    assert wrong.returncode != 0
    assert (Path(f"{stem}.key").stat().st_mode & 0o777) == 0o600
    assert main(["check", "--format", "json", str(stem) + ".key", str(stem) + ".csr",
                 str(stem) + ".crt"]) == 0
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [f["severity"] for f in findings if f["severity"] != "info"] == []


@pytest.mark.parametrize(("arguments", "passphrase"), [
    (["--cn", "*.plant.example.com"], GOOD_PASS),
    (["--cn", "sensor7.plant.example.com", "--country", "USA"], GOOD_PASS),
    (["--cn", "sensor7.plant.example.com"], "bad pass$word"),
    (["--cn", "sensor7.plant.example.com", "--self-signed"], GOOD_PASS),
])
def test_new_csr_refusals_exit_2_without_echoing(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str],
                                                 arguments: list[str], passphrase: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LAB_PASS", passphrase)
    base = {"--country": "US", "--org": "Example Corp", "--org-unit": "Plant"}
    for flag, value in base.items():
        if flag not in arguments:
            arguments = [*arguments, flag, value]
    assert main(["new-csr", *arguments, "--passphrase-env", "LAB_PASS", "--out-dir", "o"]) == 2
    captured = capsys.readouterr()
    assert passphrase not in captured.out + captured.err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_new_csr_refuses_a_cn_already_in_the_repository(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hookrepo.git(tmp_path, "init", "-q")
    (tmp_path / "sensor1.crt").write_bytes(pki.pem(pki.certificate()))
    hookrepo.git(tmp_path, "add", "sensor1.crt")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LAB_PASS", GOOD_PASS)
    assert main(["new-csr", "--cn", "Sensor1.plant.example.com", "--country", "US", "--org",
                 "E", "--org-unit", "P", "--passphrase-env", "LAB_PASS",
                 "--out-dir", "o"]) == 2
