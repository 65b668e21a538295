"""The newcomer's path: what the README says to paste works, and our own config and CI
outputs are what GitHub and GitLab expect."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from cryptography.hazmat.primitives import serialization

from certwarden.cli import main
from tests import hookrepo, pki

PROJECT = Path(__file__).resolve().parent.parent
README = (PROJECT / "README.md").read_text()
SARIF_SCHEMA = PROJECT / "tests" / "data" / "sarif-2.1.0-rtm.5.json"
PRE_COMMIT = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or "pre-commit"


def _version() -> str:
    match = re.search(r'^version = "([^"]+)"', (PROJECT / "pyproject.toml").read_text(), re.M)
    assert match
    return match.group(1)


def _readme_config() -> dict[str, object]:
    block = README.split("## Use it in your repository", 1)[1].split("```yaml\n", 1)[1]
    document = yaml.safe_load(block.split("```", 1)[0])
    assert isinstance(document, dict)
    return document


def test_every_readme_snippet_names_the_current_release() -> None:
    tag = f"v{_version()}"
    assert _readme_config()["repos"][0]["rev"] == tag  # type: ignore[index]
    for pinned in re.findall(r"(?:rev: |@)(v\d+\.\d+\.\d+)", README):
        assert pinned == tag


def test_the_manifest_runs_nowhere_near_a_commit_message() -> None:
    hooks = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text())
    ids = {hook["id"] for hook in hooks}
    assert {"check-certificates", "check-private-keys", "check-unique-certificates",
            "certwarden-detect-secrets", "detect-secrets"} <= ids
    for hook in hooks:
        assert hook["entry"].endswith(" --"), hook["id"]
        assert ("commit-msg" not in hook["stages"] and "pre-commit" in hook["stages"]) or \
            hook["stages"] == ["pre-push"], hook["id"]
        assert tuple(int(p) for p in hook["minimum_pre_commit_version"].split(".")) >= (3, 2)
        assert hook.get("require_serial") is True, hook["id"]


@pytest.fixture(scope="module")
def released_snapshot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """This repository as a user gets it: a commit tagged by the release process."""
    base = tmp_path_factory.mktemp("release")
    snapshot = base / "certwarden"
    hookrepo.make_snapshot(snapshot)
    released = subprocess.run(["bash", ".ci/release"], cwd=snapshot, capture_output=True,
                              text=True, env=hookrepo.git_env())
    assert released.returncode == 0, released.stderr
    env = hookrepo.git_env(PRE_COMMIT_HOME=str(base / "pre-commit-home"))
    env["PATH"] = str(Path(PRE_COMMIT).parent) + os.pathsep + env["PATH"]
    return snapshot, env


def test_release_refuses_when_the_readme_names_another_tag(
        released_snapshot: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    snapshot, _ = released_snapshot
    copy = tmp_path / "copy"
    hookrepo.git(tmp_path, "clone", "-q", str(snapshot), str(copy))
    readme = copy / "README.md"
    readme.write_text(readme.read_text().replace(f"rev: v{_version()}", "rev: v9.9.9", 1))
    hookrepo.git(copy, "commit", "-qam", "stale readme")
    result = subprocess.run(["bash", ".ci/release"], cwd=copy, capture_output=True, text=True,
                            env=hookrepo.git_env())
    assert result.returncode == 1 and "v9.9.9" in result.stderr


@pytest.mark.needs_index
def test_readme_config_pasted_into_a_new_repository_guards_its_commits(
        released_snapshot: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    snapshot, env = released_snapshot
    config = _readme_config()
    config["repos"][0]["repo"] = str(snapshot)  # type: ignore[index]
    repo = tmp_path / "user"
    repo.mkdir()
    hookrepo.git(repo, "init", "-q", "-b", "main")
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    subprocess.run([PRE_COMMIT, "install", "--hook-type", "pre-commit", "--hook-type",
                    "commit-msg"], cwd=repo, env=env, check=True, capture_output=True)
    first = hookrepo.commit(repo, {".pre-commit-config.yaml":
                                   (repo / ".pre-commit-config.yaml").read_bytes()}, env)
    assert first.returncode == 0, first.stdout + first.stderr

    plain = pki.rsa_key().private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.TraditionalOpenSSL,
                                        serialization.NoEncryption())
    blocked = hookrepo.commit(repo, {"pki/sensor1.key": plain}, env)
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0 and "key-unencrypted" in output
    assert output.count("certwarden: blocked") == 1  # one verdict per hook
    hookrepo.git(repo, "reset", "-q", "--hard")

    # A commit message that detect-secrets would flag: no hook runs on commit messages.
    (repo / "notes.md").write_text("sensor notes\n")
    hookrepo.git(repo, "add", "notes.md", env=env)
    message = hookrepo.git(repo, "commit", "-m",
                           "rotate AKIAIOSFODNN7EXAMPLE key",  # pragma: allowlist secret
                           check=False, env=env)
    assert message.returncode == 0, message.stdout + message.stderr
    assert message.stderr.count("block unencrypted private keys") == 1  # pre-commit only

    # Pinned to a commit id (`pre-commit autoupdate --freeze`): the id is not a secret.
    rev = hookrepo.git(snapshot, "rev-parse", "HEAD").stdout.strip()
    frozen = (repo / ".pre-commit-config.yaml").read_text().replace(
        f"rev: v{_version()}", f"rev: {rev}  # frozen: v{_version()}")
    pinned = hookrepo.commit(repo, {".pre-commit-config.yaml": frozen.encode()}, env)
    assert pinned.returncode == 0, pinned.stdout + pinned.stderr


def test_a_pinned_rev_is_not_a_secret_but_the_same_hex_elsewhere_is(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    # 40 hex digits, high entropy:
    digest = "3f" + "0a9c4e7b1d2e8f65" * 2 + "4b7c9e"  # pragma: allowlist secret
    assert len(digest) == 40
    (tmp_path / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: https://example.invalid/hooks\n    rev: {digest}  # frozen: v1\n")
    (tmp_path / "settings.yaml").write_text(f"token: {digest}\n")
    assert main(["check", "--group", "secrets", "--format", "json", "--",
                 ".pre-commit-config.yaml", "settings.yaml"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert {f["path"] for f in findings} == {"settings.yaml"}


def test_sarif_rules_carry_tags_and_security_severity(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "leak.key").write_bytes(pki.rsa_key().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    assert main(["check", "--format", "sarif", "--", "leak.key"]) == 1
    document = json.loads(capsys.readouterr().out)
    jsonschema.validate(document, json.loads(SARIF_SCHEMA.read_text()))
    rules = {rule["id"]: rule for rule in document["runs"][0]["tool"]["driver"]["rules"]}
    for rule in rules.values():
        score = float(rule["properties"]["security-severity"])
        assert 0.0 < score <= 10.0
        assert "security" in rule["properties"]["tags"]
    assert float(rules["key-unencrypted"]["properties"]["security-severity"]) >= 9.0


def test_gitlab_code_quality_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pki").mkdir()
    (tmp_path / "pki" / "wild.crt").write_bytes(pki.pem(pki.certificate(pki.Spec(
        cn="*.plant.example.com"))))
    assert main(["check", "--format", "codequality", "--now", pki.NOW_ISO, "--",
                 "pki/wild.crt"]) == 1
    issues = json.loads(capsys.readouterr().out)
    assert issues and all(set(issue) >= {"description", "check_name", "fingerprint",
                                         "severity", "location"} for issue in issues)
    wildcard = next(issue for issue in issues if issue["check_name"] == "cert-wildcard")
    assert wildcard["severity"] == "critical"
    assert wildcard["location"] == {"path": "pki/wild.crt", "lines": {"begin": 1}}
    assert len({issue["fingerprint"] for issue in issues}) == len(issues)


def test_the_github_action_installs_and_uploads() -> None:
    action = yaml.safe_load((PROJECT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    steps = " ".join(str(step) for step in action["runs"]["steps"])
    assert "github.action_path" in steps and "upload-sarif" in steps
    assert "actions/cache" in steps and "pre-commit run --all-files" in steps
