"""The appliance manifest: strict configuration, and each appliance rule with a passing and
a failing case through `certwarden scan` (real commits: tests/test_end_to_end.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from certwarden.cli import main
from tests import hookrepo, pki, plant

APPLIANCE_RULES = {"appliance-no-certificate", "appliance-certificate-noncompliant",
                   "appliance-cn-mismatch", "appliance-shared-cn",
                   "appliance-shared-certificate", "appliance-shared-key",
                   "appliance-key-mismatch", "cert-orphan"}
PASS_VARIABLE = "PLANT_KEY_PASS"


class Site:
    """Three appliances, each with its own compliant certificate and encrypted key, and a
    manifest; each case below changes one thing."""

    def __init__(self, *, far: bool = False) -> None:
        # far: valid from 2020 to 2099, for hooks that judge at the real time
        self.dates = ({"not_before": pki.NOW.replace(year=2020),
                       "not_after": pki.NOW.replace(year=2099)} if far else {})
        self.appliances: list[dict[str, str]] = [
            {"name": "sensor-1", "role": "sensor", "cn": "sensor1.plant.example.com",
             "certificate": "pki/sensor1.crt", "key": "pki/sensor1.key"},
            {"name": "console-1", "role": "console", "cn": "console1.plant.example.com",
             "certificate": "pki/console1.crt"},
            {"name": "ha-1", "role": "ha", "cn": "ha1.plant.example.com",
             "certificate": "pki/ha1.crt"},
        ]
        self.files: dict[str, bytes] = {}
        self.extra_config = f'[passphrases]\n"pki/*.key" = "{PASS_VARIABLE}"\n'
        for slot, (stem, cn) in enumerate([("sensor1", "sensor1.plant.example.com"),
                                           ("console1", "console1.plant.example.com"),
                                           ("ha1", "ha1.plant.example.com")], 40):
            self.certificate(f"pki/{stem}.crt", cn, slot)
        self.files["pki/sensor1.key"] = plant.encrypted_key(pki.rsa_key(2048, 40))

    def certificate(self, path: str, cn: str, slot: int, **changes: Any) -> None:
        spec = pki.Spec(cn=cn, key_slot=slot, san_dns=[cn], **{**self.dates, **changes})
        self.files[path] = pki.pem(pki.certificate(spec))

    def appliance(self, name: str) -> dict[str, str]:
        return next(a for a in self.appliances if a["name"] == name)

    def manifest(self) -> str:
        lines = []
        for entry in self.appliances:
            lines.append("[[appliances]]")
            lines += [f'{key} = "{value}"' for key, value in entry.items()]
            lines.append("")
        return "\n".join(lines) + "\n" + self.extra_config

    def all_files(self) -> dict[str, bytes]:
        return {**self.files, ".certwarden.toml": self.manifest().encode()}

    def write(self, root: Path) -> None:
        hookrepo.git(root, "init", "-q", "-b", "main")
        for name, data in self.all_files().items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
        hookrepo.git(root, "add", "-A")


def _no_certificate_named(site: Site) -> None:
    del site.appliance("ha-1")["certificate"]


def _certificate_missing(site: Site) -> None:
    site.appliance("ha-1")["certificate"] = "pki/ha1-2026.crt"


def _noncompliant(site: Site) -> None:
    site.certificate("pki/console1.crt", "console1.plant.example.com", 41,
                     not_after=pki.NOW - plant.DAY)


def _cn_mismatch(site: Site) -> None:
    site.appliance("console-1")["cn"] = "console9.plant.example.com"


def _shared_cn(site: Site) -> None:
    site.certificate("pki/ha1.crt", "console1.plant.example.com", 42)


def _shared_certificate(site: Site) -> None:
    site.appliance("ha-1")["certificate"] = "pki/console1.crt"


def _shared_key(site: Site) -> None:
    site.certificate("pki/ha1.crt", "ha1.plant.example.com", 41)  # console-1's key pair


def _key_mismatch(site: Site) -> None:
    site.files["pki/sensor1.key"] = plant.encrypted_key(pki.rsa_key(2048, 43))


def _key_missing(site: Site) -> None:
    site.appliance("sensor-1")["key"] = "pki/sensor1-new.key"


def _orphan(site: Site) -> None:
    site.certificate("pki/old/historian.crt", "historian.plant.example.com", 44)


# (rule, change that makes it fire, where the finding points)
CASES: list[tuple[str, Callable[[Site], None], str]] = [
    ("appliance-no-certificate", _no_certificate_named, ".certwarden.toml"),
    ("appliance-no-certificate", _certificate_missing, ".certwarden.toml"),
    ("appliance-certificate-noncompliant", _noncompliant, ".certwarden.toml"),
    ("appliance-cn-mismatch", _cn_mismatch, ".certwarden.toml"),
    ("appliance-shared-cn", _shared_cn, ".certwarden.toml"),
    ("appliance-shared-certificate", _shared_certificate, ".certwarden.toml"),
    ("appliance-shared-key", _shared_key, ".certwarden.toml"),
    ("appliance-key-mismatch", _key_mismatch, ".certwarden.toml"),
    ("appliance-key-mismatch", _key_missing, ".certwarden.toml"),
    ("cert-orphan", _orphan, "pki/old/historian.crt"),
]


def _scan(root: Path, capsys: pytest.CaptureFixture[str],
          monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[dict[str, Any]]]:
    monkeypatch.chdir(root)
    monkeypatch.setenv(PASS_VARIABLE, plant.KEY_PASSPHRASE.decode())
    capsys.readouterr()
    code = main(["scan", "--format", "json", "--now", pki.NOW_ISO])
    findings: list[dict[str, Any]] = json.loads(capsys.readouterr().out)["findings"]
    return code, findings


def test_a_compliant_site_passes_every_appliance_rule(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    Site().write(tmp_path)
    code, findings = _scan(tmp_path, capsys, monkeypatch)
    assert findings == [] and code == 0


@pytest.mark.parametrize(("rule", "change", "where"), CASES,
                         ids=[f"{rule}-{change.__name__.strip('_')}" for rule, change, _ in CASES])
def test_each_appliance_rule_fails_on_its_case(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        rule: str, change: Callable[[Site], None], where: str) -> None:
    site = Site()
    change(site)
    site.write(tmp_path)
    code, findings = _scan(tmp_path, capsys, monkeypatch)
    fired = {f["rule"] for f in findings} & APPLIANCE_RULES
    assert rule in fired, findings
    assert code == 1 or rule == "cert-orphan"
    finding = next(f for f in findings if f["rule"] == rule)
    assert finding["path"] == where
    if where == ".certwarden.toml":  # the appliance's entry in the manifest
        line = (tmp_path / where).read_text().splitlines()[finding["line"] - 1]
        assert line.startswith("name = ")


def test_findings_are_stable_for_baselines(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    site = Site()
    _cn_mismatch(site)
    site.write(tmp_path)
    first = _scan(tmp_path, capsys, monkeypatch)[1]
    second = _scan(tmp_path, capsys, monkeypatch)[1]
    assert [f["fingerprint"] for f in first] == [f["fingerprint"] for f in second]


def test_without_a_manifest_nothing_changes(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    site = Site()
    _orphan(site)
    site.appliances = []
    site.write(tmp_path)
    code, findings = _scan(tmp_path, capsys, monkeypatch)
    assert (code, findings) == (0, [])
    program = ("import sys; from certwarden.cli import main; "
               f"main(['scan', '--now', '{pki.NOW_ISO}']); "
               "print('certwarden.inventory.build' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, capture_output=True,
                            text=True, check=True)
    assert result.stdout.split()[-1] == "False"


def test_the_unique_hook_runs_the_appliance_rules(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    hooks = yaml.safe_load((hookrepo.PROJECT / ".pre-commit-hooks.yaml").read_text())
    entry = next(h["entry"] for h in hooks if h["id"] == "check-unique-certificates")
    site = Site()
    _cn_mismatch(site)
    site.write(tmp_path)
    monkeypatch.chdir(tmp_path)
    arguments = entry.split()[1:-1]  # certwarden ... --
    capsys.readouterr()
    assert main([*arguments, "--format", "json", "--now", pki.NOW_ISO, "--"]) == 1
    rules = {f["rule"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert rules == {"appliance-cn-mismatch"}


BAD_MANIFESTS = [
    ('[[appliances]]\nname = "s1"\nrole = "sensor"\ncn = "s1.example.com"\nport = 443\n',
     "appliances[0].port"),
    ('[[appliances]]\nname = "s1"\nrole = "historian"\ncn = "s1.example.com"\n',
     "appliances[0].role"),
    ('[[appliances]]\nname = "s1"\nrole = "sensor"\ncn = "a.example.com"\n'
     '[[appliances]]\nname = "s1"\nrole = "console"\ncn = "b.example.com"\n',
     "duplicate appliance name 's1'"),
    ('[[appliances]]\nname = "s1"\nrole = "sensor"\n', "missing 'cn'"),
    ('[[appliances]]\nname = "s1"\nrole = "sensor"\ncn = "s1.example.com"\n'
     'certificate = "../outside.crt"\n', "appliances[0].certificate"),
    ('appliances = {name = "s1"}\n', "appliances"),
]


@pytest.mark.parametrize(("text", "named"), BAD_MANIFESTS, ids=[n for _, n in BAD_MANIFESTS])
def test_a_bad_manifest_exits_2_naming_the_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        text: str, named: str) -> None:
    hookrepo.git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / ".certwarden.toml").write_text(text)
    monkeypatch.chdir(tmp_path)
    for command in (["scan"], ["inventory"]):
        assert main(command) == 2
        error = capsys.readouterr().err
        assert named in error and "Traceback" not in error


def test_the_manifest_in_pyproject(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    site = Site()
    _cn_mismatch(site)
    site.write(tmp_path)
    manifest = (tmp_path / ".certwarden.toml").read_text()
    (tmp_path / ".certwarden.toml").unlink()
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname = 'plant'\n\n" + manifest.replace("[[appliances]]",
                                                           "[[tool.certwarden.appliances]]")
        .replace("[passphrases]", "[tool.certwarden.passphrases]"))
    hookrepo.git(tmp_path, "add", "-A")
    code, findings = _scan(tmp_path, capsys, monkeypatch)
    assert code == 1
    assert [(f["rule"], f["path"]) for f in findings] == [("appliance-cn-mismatch",
                                                            "pyproject.toml")]


def test_a_defect_in_the_appliance_rules_blocks_instead_of_passing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import certwarden.inventory.build

    def broken(context: object) -> None:
        raise RuntimeError("defect")

    Site().write(tmp_path)
    monkeypatch.setattr(certwarden.inventory.build, "appliance_findings", broken)
    code, findings = _scan(tmp_path, capsys, monkeypatch)
    assert code == 1
    assert [(f["path"], f["rule"]) for f in findings] == [(".certwarden.toml",
                                                           "appliance-no-certificate")]
    assert "internal error" in findings[0]["message"]
