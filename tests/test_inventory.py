"""`certwarden inventory`: the done-when plant of issue 15, every format (round trips,
escaping, secrecy), named paths, the blob cache and `--appliance`."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from certwarden.cli import main
from tests import hookrepo, pki, plant

NOW = pki.NOW_ISO


@pytest.fixture(scope="module")
def plant_repo(tmp_path_factory: pytest.TempPathFactory) -> plant.Plant:
    return plant.build(tmp_path_factory.mktemp("plant") / "repo")


def run(root: Path, *arguments: str, now: str = NOW,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "certwarden", "inventory", "--now", now,
                           *arguments], cwd=root, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1", **(env or {})})


def inventory_json(root: Path, *arguments: str, now: str = NOW) -> dict[str, Any]:
    result = run(root, "--format", "json", *arguments, now=now)
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def by_cn(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["cn"]: row for row in document["certificates"]}


# -- the done-when plant -------------------------------------------------------------------

def test_the_plant_inventory(plant_repo: plant.Plant) -> None:
    document = inventory_json(plant_repo.root)
    rows = by_cn(document)
    assert len(document["certificates"]) == 45  # 39 sensors, 2 consoles, 1 HA, orphan, 2 CAs
    assert document["summary"] == {"certificates": 45, "expired": 1, "not-yet-valid": 0,
                                   "blocked": 1, "expiring": 1, "ok": 42}
    expired = rows["sensor07.plant.example.com"]
    assert (expired["status"], expired["days_left"], expired["appliance"]) == (
        "expired", -3, "sensor-07")
    assert {"cert-expired", "appliance-certificate-noncompliant"} <= set(expired["verdict"])
    assert expired["chain"] == "fails"
    soon = rows["sensor12.plant.example.com"]
    assert (soon["status"], soon["days_left"], soon["verdict"]) == ("expiring", 10, [])
    assert soon["notes"] == ["cert-expiring-soon"]
    wildcard = rows["*.plant.example.com"]
    assert (wildcard["status"], wildcard["appliance"], wildcard["role"]) == (
        "blocked", "console-2", "console")
    assert "cert-wildcard" in wildcard["verdict"]
    orphan = rows["historian.plant.example.com"]
    assert (orphan["status"], orphan["appliance"], orphan["notes"]) == (
        "ok", None, ["cert-orphan"])
    good = rows["sensor01.plant.example.com"]
    assert good == {**good, "status": "ok", "verdict": [], "notes": [], "chain": "ok",
                    "key_path": "pki/sensors/sensor01.key", "key_encrypted": True,
                    "key_matches": None, "appliance": "sensor-01", "role": "sensor",
                    "path": "pki/sensors/sensor01.crt", "position": 1, "count": 1,
                    "key_type": "rsa", "key_size": 2048,
                    "signature_algorithm": "sha256WithRSAEncryption",
                    "crl_urls": [pki.CRL_URL], "sans": ["sensor01.plant.example.com"],
                    "issuer": ("C = US, O = Example Corp, OU = Plant Engineering, "
                               "CN = Plant Issuing CA"),
                    "not_after": "2027-03-28T00:00:00Z", "days_left": 300, "is_ca": False}
    assert len(good["fingerprint"]) == 64 and good["serial"]
    cas = [row for row in document["certificates"] if row["is_ca"]]
    assert [(r["path"], r["position"], r["count"]) for r in cas] == [
        ("pki/chain.pem", 1, 2), ("pki/chain.pem", 2, 2)]
    findings = {(a["name"], f["rule"]) for a in document["appliances"] for f in a["findings"]}
    assert findings == {("sensor-07", "appliance-certificate-noncompliant"),
                        ("console-2", "appliance-certificate-noncompliant"),
                        ("sensor-40", "appliance-no-certificate")}
    assert document["problems"] == []


def test_the_plant_manifest_findings_through_scan(plant_repo: plant.Plant) -> None:
    result = subprocess.run([sys.executable, "-m", "certwarden", "scan", "--format", "json",
                             "--now", NOW], cwd=plant_repo.root, capture_output=True, text=True)
    assert result.returncode == 1
    found = {(f["path"], f["rule"]) for f in json.loads(result.stdout)["findings"]
             if f["rule"].startswith("appliance-") or f["rule"] == "cert-orphan"}
    assert found == {(".certwarden.toml", "appliance-certificate-noncompliant"),
                     (".certwarden.toml", "appliance-no-certificate"),
                     ("pki/old/historian.crt", "cert-orphan")}


def test_the_plant_html_report(plant_repo: plant.Plant, tmp_path: Path) -> None:
    report = tmp_path / "inventory.html"
    result = run(plant_repo.root, "--format", "html", "--output", str(report))
    assert result.returncode == 0 and result.stdout == ""
    page = report.read_text()
    assert page.count("<tr data-status=") == 45
    assert page.count('<rect class="f-') == 45  # one bar per certificate
    assert page.count('<rect class="f-expired"') == 1
    assert page.count('<rect class="f-expiring"') == 1
    assert "today 2026-06-01" in page and "warning window 30 d" in page
    assert "no certificate in the repository" in page  # sensor-40
    for external in ("http://", "https://", "src=", "@import", "url("):
        if external == "http://":  # the CRL URLs are data, shown as text
            assert page.count(external) == page.count(pki.CRL_URL)
            continue
        assert external not in page, external


def _renew(plant_repo: plant.Plant, root: Path, stem: str, cn: str, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> None:
    """`certwarden new-csr`, then the test CA signs the CSR; key and certificate replace
    the old ones."""
    monkeypatch.setenv("RENEW_PASS", "Renew-Pass.2026")
    out = tmp_path / cn
    assert main(["new-csr", "--cn", cn, "--country", "US", "--org", "Example Corp",
                 "--org-unit", "Plant Engineering", "--out-dir", str(out),
                 "--passphrase-env", "RENEW_PASS"]) == 0
    request = x509.load_pem_x509_csr((out / f"{cn}.csr").read_bytes())
    certificate = plant_repo.ca.sign_csr(request, now=pki.NOW)
    (root / f"pki/sensors/{stem}.crt").write_bytes(pki.pem(certificate))
    shutil.copy(out / f"{cn}.key", root / f"pki/sensors/{stem}.key")
    hookrepo.git(root, "add", "-A")


def test_expiring_within_fails_then_passes_once_renewed(
        plant_repo: plant.Plant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "repo"
    shutil.copytree(plant_repo.root, root)
    failed = run(root, "--expiring-within", "30")
    assert failed.returncode == 1
    assert "2 certificates expire within 30 days" in failed.stderr
    assert "sensor07.crt" in failed.stderr and "sensor12.crt" in failed.stderr
    assert run(root, "--expiring-within", "5").returncode == 1  # expired counts
    assert run(root, "--expiring-within", "5", now="2026-05-01T00:00:00Z").returncode == 0

    _renew(plant_repo, root, "sensor07", "sensor07.plant.example.com", tmp_path, monkeypatch)
    assert run(root, "--expiring-within", "30").returncode == 1  # sensor-12 still expires
    _renew(plant_repo, root, "sensor12", "sensor12.plant.example.com", tmp_path, monkeypatch)
    passed = run(root, "--expiring-within", "30")
    assert passed.returncode == 0, passed.stderr
    rows = by_cn(inventory_json(root))
    for cn in ("sensor07.plant.example.com", "sensor12.plant.example.com"):
        assert (rows[cn]["status"], rows[cn]["days_left"], rows[cn]["chain"]) == (
            "ok", 365, "ok")
        assert rows[cn]["key_encrypted"] is True


# -- formats -------------------------------------------------------------------------------

def _typed(column: str, text: str, example: object) -> object:
    """A CSV cell back to its JSON value, by the JSON value's type."""
    if text == "":
        return [] if isinstance(example, list) else None
    if isinstance(example, bool):
        return text == "true"
    if isinstance(example, int):
        return int(text)
    if isinstance(example, list):
        return text.split(" ")
    return text


def test_json_and_csv_round_trip(plant_repo: plant.Plant) -> None:
    document = inventory_json(plant_repo.root)
    result = run(plant_repo.root, "--format", "csv")
    assert result.returncode == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == len(document["certificates"]) == 45
    for parsed, original in zip(rows, document["certificates"], strict=True):
        for column, text in parsed.items():
            assert _typed(column, text, original[column]) == original[column], column
    assert json.loads(json.dumps(document)) == document  # plain JSON types only


def _markdown_cells(text: str) -> list[list[str]]:
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    rows: list[list[str]] = []
    in_body = False
    for token in tokens:
        if token.type == "tbody_open":
            in_body = True
        elif token.type == "tbody_close":
            in_body = False
        elif in_body and token.type == "tr_open":
            rows.append([])
        elif in_body and token.type == "inline":
            rows[-1].append("".join(child.content for child in token.children or []
                                    if child.type in ("text", "code_inline", "html_inline")))
    return rows


def test_markdown_renders_as_a_table(plant_repo: plant.Plant) -> None:
    result = run(plant_repo.root, "--format", "markdown")
    assert result.returncode == 0
    tables = result.stdout.split("\n\n### ")
    cells = _markdown_cells(tables[0])
    assert len(cells) == 45 and all(len(row) == 8 for row in cells)
    assert cells[0][0].endswith("expired") and cells[0][3] == "sensor07.plant.example.com"
    assert cells[1][0].endswith("blocked") and cells[1][3] == "*.plant.example.com"
    assert cells[2][0].endswith("expiring") and cells[2][1] == "10"
    assert "### Appliances" in result.stdout


def test_text_table_fits_the_terminal(plant_repo: plant.Plant) -> None:
    for width in (60, 100, 220):
        result = run(plant_repo.root, env={"COLUMNS": str(width)})
        assert result.returncode == 0
        table = result.stdout.splitlines()[:46]
        assert table[0].startswith("STATUS")
        assert all(len(line) <= width for line in table), width
    wide = run(plant_repo.root, env={"COLUMNS": "220"}).stdout
    assert "pki/sensors/sensor07.crt" in wide and "enc" in wide
    narrow = run(plant_repo.root, env={"COLUMNS": "60"}).stdout
    assert "KEY" not in narrow.splitlines()[0]


HOSTILE_NAMES = ["<script>alert(1)</script>", "=cmd|' /C calc'!A0", "+1|2*3_[x](y)"]


@pytest.fixture
def hostile_repo(tmp_path: Path) -> Path:
    root = tmp_path / "hostile"
    root.mkdir()
    hookrepo.git(root, "init", "-q", "-b", "main")
    for index, name in enumerate(HOSTILE_NAMES):
        (root / f"c{index}.crt").write_bytes(pki.pem(pki.certificate(pki.Spec(
            cn=name, org="<b>Example</b>", key_slot=50 + index))))
    (root / "<img src=x onerror=alert(1)>.crt").write_bytes(pki.pem(pki.certificate(
        pki.Spec(key_slot=53))))
    hookrepo.git(root, "add", "-A")
    return root


def test_every_format_escapes_certificate_fields(hostile_repo: Path) -> None:
    page = run(hostile_repo, "--format", "html").stdout
    assert "<script>alert" not in page and "<img" not in page and "<b>" not in page
    assert page.count("<script") == 1  # ours, allowed by its hash in the CSP
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Content-Security-Policy" in page and "'unsafe-inline'" not in page

    rows = list(csv.reader(io.StringIO(run(hostile_repo, "--format", "csv").stdout)))
    cns = {row[4] for row in rows[1:]}
    assert "'=cmd|' /C calc'!A0" in cns and "'+1|2*3_[x](y)" in cns
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row)

    from markdown_it import MarkdownIt

    markdown = run(hostile_repo, "--format", "markdown").stdout
    rendered = MarkdownIt("commonmark").enable("table").render(markdown)
    assert "<script>" not in rendered and "<img" not in rendered and "<a " not in rendered
    cells = _markdown_cells(markdown)
    assert len(cells) == 4 and {row[3] for row in cells} >= set(HOSTILE_NAMES)

    text = run(hostile_repo, env={"COLUMNS": "200"}).stdout
    assert "<script>alert(1)</script>" in text  # text is text


PASSPHRASE = "Inventory-Secret_9"


def test_no_key_material_or_passphrase_in_any_format(tmp_path: Path) -> None:
    root = tmp_path / "secrets"
    root.mkdir()
    hookrepo.git(root, "init", "-q", "-b", "main")
    key = pki.rsa_key(2048, 60)
    files = {
        "pki/sensor1.crt": pki.pem(pki.certificate(pki.Spec(key_slot=60))),
        "pki/sensor1.key": key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PASSPHRASE.encode())),
        "lab/lab.crt": pki.pem(pki.certificate(pki.Spec(cn="lab.plant.example.com",
                                                        key_slot=61))),
        "lab/lab.key": pki.rsa_key(2048, 61).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption()),
        ".certwarden.toml": b'[passphrases]\n"pki/*.key" = "INVENTORY_PASS"\n\n'
                            b'[[appliances]]\nname = "sensor-1"\nrole = "sensor"\n'
                            b'cn = "sensor1.plant.example.com"\n'
                            b'certificate = "pki/sensor1.crt"\nkey = "pki/sensor1.key"\n',
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    hookrepo.git(root, "add", "-A")
    secrets = [PASSPHRASE] + [line for name in ("pki/sensor1.key", "lab/lab.key")
                              for line in (root / name).read_text().splitlines()
                              if "-----" not in line]
    env = {"INVENTORY_PASS": PASSPHRASE}
    outputs = []
    for arguments in (["--format", f] for f in ("text", "json", "csv", "markdown", "html")):
        result = run(root, *arguments, env=env)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout + result.stderr)
    view = run(root, "--appliance", "sensor-1", env=env)
    outputs.append(view.stdout + view.stderr)
    cache = b"".join(p.read_bytes() for p in (root / ".git" / "certwarden").iterdir())
    for output in outputs:
        for secret in secrets:
            assert secret not in output
    for secret in secrets:
        assert secret.encode() not in cache
    rows = by_cn(json.loads(run(root, "--format", "json", env=env).stdout))
    # The passphrase opened the key (its public key now matches), and the plain key is shown
    # as such, without its material.
    assert rows["sensor1.plant.example.com"]["key_matches"] is True
    assert rows["lab.plant.example.com"]["key_encrypted"] is False
    assert "matches the certificate: yes" in view.stdout


# -- named paths, the cache, one appliance --------------------------------------------------

def test_named_paths(plant_repo: plant.Plant) -> None:
    document = inventory_json(plant_repo.root, "pki/consoles", "pki/chain.pem")
    assert sorted(row["path"] for row in document["certificates"]) == [
        "pki/chain.pem", "pki/chain.pem", "pki/consoles/console1.crt",
        "pki/consoles/console2.crt"]
    rows = by_cn(document)
    assert rows["console1.plant.example.com"]["appliance"] == "console-1"
    assert rows["console1.plant.example.com"]["key_path"] == "pki/consoles/console1.key"
    assert all(not a["findings"] for a in document["appliances"])  # repository rules: index
    inside = json.loads(run(plant_repo.root / "pki", "--format", "json",
                            "sensors/sensor01.crt").stdout)["certificates"]
    assert [(r["path"], r["appliance"], r["key_path"]) for r in inside] == [
        ("sensors/sensor01.crt", "sensor-01", "sensors/sensor01.key")]
    missing = run(plant_repo.root, "no/such.crt")
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_the_blob_cache_gives_the_same_inventory(plant_repo: plant.Plant,
                                                 tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(plant_repo.root, root)
    cache = root / ".git" / "certwarden"
    shutil.rmtree(cache, ignore_errors=True)
    later = "2026-07-11T12:00:00Z"  # sensor-12 expired, others closer to expiry
    cold = inventory_json(root)
    assert any(cache.iterdir())
    assert inventory_json(root) == cold
    warm_later = inventory_json(root, now=later)
    shutil.rmtree(cache)
    assert inventory_json(root, now=later) == warm_later
    assert by_cn(warm_later)["sensor12.plant.example.com"]["status"] == "expired"
    (root / "pki/consoles/console1.crt").write_bytes((root / "pki/ha/ha1.crt").read_bytes())
    hookrepo.git(root, "add", "-A")
    changed = {row["path"]: row for row in inventory_json(root)["certificates"]}
    shared = ["appliance-shared-certificate", "appliance-shared-cn", "appliance-shared-key",
              "cert-duplicate"]
    assert changed["pki/ha/ha1.crt"]["verdict"] == shared
    assert changed["pki/consoles/console1.crt"]["verdict"] == sorted(
        [*shared, "appliance-cn-mismatch"])


def test_verdict_span_matches_its_definition() -> None:
    """The cache's analytic span equals the brute-force one: every validity date and every
    day boundary of the warning window (docs/architecture.md)."""
    from certwarden.inventory.cache import verdict_span

    day = 86400.0

    def brute(at: float, validity: list[tuple[float, float]], days: int
              ) -> tuple[float | None, float | None]:
        moments = [m for start, end in validity
                   for m in [start, end] + [end - k * day for k in range(1, days + 2)]]
        below = [m for m in moments if m <= at]
        above = [m for m in moments if m > at]
        return (max(below) if below else None, min(above) if above else None)

    generator = random.Random(15)
    for _ in range(3000):
        days, at = generator.randint(0, 40), generator.uniform(0, 1e8)
        validity = []
        for _ in range(generator.randint(0, 3)):
            start = generator.uniform(0, 1e8)
            end = at + generator.randint(-50, 50) * day if generator.random() < 0.4 else \
                start + generator.uniform(0, 1e7)
            validity.append((start, end))
        span = verdict_span(at, validity, days, exact=False)
        assert (span.start, span.end) == brute(at, validity, days)


def test_one_appliance(plant_repo: plant.Plant) -> None:
    blocked = run(plant_repo.root, "--appliance", "sensor-07")
    assert blocked.returncode == 1
    for expected in ("appliance sensor-07 (sensor)", "valid to", "chain of trust: fails",
                     "private key in pki/sensors/sensor07.key", "encrypted",
                     "blocked by: appliance-certificate-noncompliant, cert-chain, cert-expired"):
        assert expected in blocked.stdout
    good = run(plant_repo.root, "--appliance", "sensor-01")
    assert good.returncode == 0 and "sensor-01: meets the policy" in good.stdout
    without = run(plant_repo.root, "--appliance", "sensor-40")
    assert without.returncode == 1 and "(none named)" in without.stdout
    console = run(plant_repo.root, "--appliance", "console-2", "--format", "json")
    assert console.returncode == 1
    document = json.loads(console.stdout)
    assert [row["cn"] for row in document["certificates"]] == ["*.plant.example.com"]
    assert [a["name"] for a in document["appliances"]] == ["console-2"]
    unknown = run(plant_repo.root, "--appliance", "sensor-99")
    assert unknown.returncode == 2 and "no appliance 'sensor-99'" in unknown.stderr


def test_usage_errors_exit_2(plant_repo: plant.Plant) -> None:
    for arguments in (["--expiring-within", "-1"], ["--expiring-within", "soon"],
                      ["--format", "pdf"], ["--now", "yesterday"]):
        result = run(plant_repo.root, *arguments)
        assert result.returncode == 2 and "Traceback" not in result.stderr, arguments


def test_bundles_p7b_and_pfx(tmp_path: Path) -> None:
    """Each certificate of a bundle is a row with its position; a PFX opens with its mapped
    passphrase (its key is then the bundle's own), and without it is a visible problem."""
    from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

    root = tmp_path / "bundles"
    root.mkdir()
    hookrepo.git(root, "init", "-q", "-b", "main")
    ca = plant.authority()
    leaf_key = pki.rsa_key(2048, 70)
    leaf = ca.sign(plant.subject("gw.plant.example.com"), leaf_key.public_key(),
                   not_before=pki.NOW - plant.DAY, not_after=pki.NOW + 90 * plant.DAY,
                   san=["gw.plant.example.com"])
    (root / "chain.p7b").write_bytes(pkcs7.serialize_certificates(
        [ca.issuing, ca.root], serialization.Encoding.DER))
    (root / "gw.pfx").write_bytes(pkcs12.serialize_key_and_certificates(
        b"gw", leaf_key, leaf, [ca.issuing],
        serialization.BestAvailableEncryption(PASSPHRASE.encode())))
    (root / ".certwarden.toml").write_text('[passphrases]\n"*.pfx" = "GW_PASS"\n')
    hookrepo.git(root, "add", "-A")
    closed = json.loads(run(root, "--format", "json").stdout)
    assert [(r["path"], r["position"], r["count"]) for r in closed["certificates"]] == [
        ("chain.p7b", 1, 2), ("chain.p7b", 2, 2)]
    assert [(p["path"], p["rule"], p["severity"]) for p in closed["problems"]] == [
        ("gw.pfx", "cert-unreadable", "warning")]
    opened = json.loads(run(root, "--format", "json", env={"GW_PASS": PASSPHRASE}).stdout)
    rows = {(r["path"], r["position"]): r for r in opened["certificates"]}
    assert set(rows) == {("chain.p7b", 1), ("chain.p7b", 2), ("gw.pfx", 1), ("gw.pfx", 2)}
    gateway = rows[("gw.pfx", 1)]
    assert (gateway["cn"], gateway["days_left"], gateway["key_path"],
            gateway["key_encrypted"]) == ("gw.plant.example.com", 90, "gw.pfx", True)
    assert rows[("gw.pfx", 2)]["is_ca"] and opened["problems"] == []
