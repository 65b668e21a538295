"""The labelled corpus: every unencrypted key blocked, no encrypted key or key-less file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import keycorpus
from tests.conftest import RunJson
from tests.tools import installed


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, keycorpus.Sample]]:
    base = tmp_path_factory.mktemp("corpus")
    samples = keycorpus.build(base)
    return base / "files", keycorpus.write(base / "files", samples)


def test_corpus_covers_every_label_and_many_forms(
        corpus: tuple[Path, dict[str, keycorpus.Sample]]) -> None:
    _, samples = corpus
    labels = {sample.label for sample in samples.values()}
    assert labels == {keycorpus.UNENCRYPTED, keycorpus.ENCRYPTED, keycorpus.KEYLESS}
    assert len({sample.form for sample in samples.values()}) > 60


@pytest.mark.parametrize(("form", "tool"), keycorpus.TOOL_FORMS.items())
def test_corpus_holds_the_samples_each_tool_makes(
        corpus: tuple[Path, dict[str, keycorpus.Sample]], form: str, tool: str) -> None:
    if not installed(tool):
        pytest.skip(f"needs {tool}, which is not installed: the key corpus lacks its samples")
    _, samples = corpus
    assert {s.label for s in samples.values() if s.form == form} == {
        keycorpus.UNENCRYPTED, keycorpus.ENCRYPTED}


def test_unencrypted_exactly_the_unencrypted_keys(
        run_json: RunJson, corpus: tuple[Path, dict[str, keycorpus.Sample]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    folder, samples = corpus
    monkeypatch.chdir(folder)
    code, document = run_json("--group", "keys", *sorted(samples))
    assert code == 1
    flagged = {f["path"] for f in document["findings"] if f["rule"] == "key-unencrypted"}
    expected = {name for name, s in samples.items() if s.label == keycorpus.UNENCRYPTED}
    assert flagged - expected == set(), "encrypted or key-less files wrongly blocked"
    assert expected - flagged == set(), "unencrypted keys missed"
    assert document["files_checked"] == len(samples)


def test_key_less_files_get_no_blocking_finding(
        run_json: RunJson, corpus: tuple[Path, dict[str, keycorpus.Sample]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    folder, samples = corpus
    monkeypatch.chdir(folder)
    keyless = sorted(name for name, s in samples.items() if s.label == keycorpus.KEYLESS)
    code, document = run_json("--group", "keys", *keyless)
    assert code == 0, document["findings"]
    assert document["findings"] == []


def test_weak_encryption_from_openssl_labels(
        run_json: RunJson, corpus: tuple[Path, dict[str, keycorpus.Sample]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    folder, _ = corpus
    monkeypatch.chdir(folder)
    names = ["pbes1.key", "few-iterations.key", "legacy-des3.key", "legacy-aes.key",
             "openssl-v2.key", "openssl-scrypt.key", "enc-putty2.ppk", "enc-putty3.ppk"]
    _, document = run_json("--group", "keys", *names)
    weak = {f["path"]: f["severity"] for f in document["findings"]
            if f["rule"] == "key-weak-encryption"}
    assert weak == {"pbes1.key": "error", "few-iterations.key": "error",
                    "legacy-des3.key": "error", "legacy-aes.key": "warning",
                    "enc-putty2.ppk": "warning"}


def test_no_key_material_in_any_output(
        run_json: RunJson, corpus: tuple[Path, dict[str, keycorpus.Sample]],
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from certwarden.cli import main

    folder, samples = corpus
    monkeypatch.chdir(folder)
    for output_format in ("text", "json"):
        main(["check", "--format", output_format, *sorted(samples)])
        captured = capsys.readouterr()
        output = captured.out + captured.err
        for sample in samples.values():
            if sample.label == keycorpus.KEYLESS:
                continue
            for line in sample.data.splitlines():
                stripped = line.strip()
                if len(stripped) >= 24 and b"-----" not in stripped and b":" not in stripped:
                    assert stripped.decode("latin-1") not in output, sample.name
        assert keycorpus.PASS.decode() not in output
