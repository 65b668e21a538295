"""check-private-keys against the adversarial corpus of issue 11 (tests/adversarial_keys.py).

Each sample is checked as the hook checks it: a separate `certwarden check --group keys
--format json -- FILE` process (so a sample that hangs the checker is stopped by a hard
timeout instead of hanging the suite). The verdict expected comes from the sample's label,
which comes from construction or from a real tool, never from certwarden:

- `unencrypted` / `weak`: exit 1 and an error finding of a key rule (`key-unencrypted`,
  `key-unreadable`, `key-weak-encryption`; `weak` samples: `key-weak-encryption`)
- `encrypted`, `public`, `placeholder`, `keyless`: exit 0 and no error finding
- `crafted` (class 11): only bounded work: no timeout, no traceback, exit 0 or 1

Class 11 inputs also go through every hook's command line (`--group keys`, `--group
certificates`, `--group unique` on the git index, and the default groups), each in a git
repository of its own; their timings are printed as a table. Classes 9 and 10 (the staged
blob, file names as options) are end-to-end only: test_adversarial_git.py.

`test_corpus_covers_every_class` prints how many samples of each class pass today.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests import adversarial_keys as ak

HARD_TIMEOUT = 10.0  # seconds per process: a hang becomes a failure, not a stuck suite
# Processes at a time. Class 11 inputs run one per core, so that their timings (and the
# hard timeout) are not distorted by their neighbours; the quick rest, two per core.
CORES = os.cpu_count() or 2
WORKERS = 2 * CORES
CRAFTED_MODES = ("keys", "certificates", "unique", "default")
CORPUS_NAMES = list(ak.RECIPES)
CRAFTED_NAMES = [name for name, recipe in ak.RECIPES.items() if recipe.cls == 11]
LABEL_EVIDENCE = [name for name, recipe in ak.RECIPES.items()
                  if recipe.opens_with or recipe.refuses]


@dataclass
class Run:
    """One certwarden process."""

    command: list[str]
    code: int | None  # None: killed at the hard timeout
    stdout: str
    stderr: str
    seconds: float
    document: dict[str, Any] | None = None
    not_run: str = ""  # why this run was inferred instead of run

    @property
    def timed_out(self) -> bool:
        return self.code is None

    def findings(self, path: str | None = None) -> list[dict[str, Any]]:
        found = (self.document or {}).get("findings", [])
        return [f for f in found if path is None or _names(f["path"], path)]

    def summary(self) -> str:
        if self.not_run:
            return self.not_run
        if self.timed_out:
            return f"killed after {HARD_TIMEOUT:.0f} s"
        rules = sorted({f"{f['rule']}({f['severity']})" for f in self.findings()})
        traceback = ", TRACEBACK" if "Traceback" in self.stderr else ""
        return f"exit {self.code}, {', '.join(rules) or 'no findings'}{traceback}"


def _names(finding_path: str, name: str) -> bool:
    """A finding about this file, or about a member inside it (`bundle.zip:keys/a.key`)."""
    return finding_path == name or finding_path.startswith((f"{name}:", f"{name}/", f"{name}!"))


def run_certwarden(folder: Path, *args: str, env: dict[str, str] | None = None,
                   timeout: float = HARD_TIMEOUT) -> Run:
    command = [sys.executable, "-m", "certwarden", *args]
    started = time.perf_counter()
    try:
        result = subprocess.run(command, cwd=folder, capture_output=True, timeout=timeout,
                                env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as expired:
        return Run(command, None, _text(expired.stdout), _text(expired.stderr),
                   time.perf_counter() - started)
    run = Run(command, result.returncode, _text(result.stdout), _text(result.stderr),
              time.perf_counter() - started)
    if "--format" in args and args[args.index("--format") + 1] == "json":
        try:
            run.document = json.loads(run.stdout)
        except ValueError:
            run.document = None
    return run


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", "replace")


def _check_args(mode: str, name: str | None) -> list[str]:
    group = [] if mode == "default" else ["--group", mode]
    paths = [] if name is None else ["--", name]
    return ["check", *group, "--format", "json", *paths]


# -- running the corpus once, in parallel, for the tests that are selected ---------------------

@dataclass
class Checker:
    corpus: ak.Corpus
    crafted_root: Path
    env: dict[str, str]
    runs: dict[tuple[str, str], Run] = field(default_factory=dict)
    startup: dict[str, float] = field(default_factory=dict)

    def folder_of(self, name: str) -> Path:
        """Class 11 samples live in a git repository of their own (the unique hook reads
        the index); the others share the corpus folder."""
        if ak.RECIPES[name].cls != 11:
            return self.corpus.files
        folder = self.crafted_root / name
        if not (folder / ".git").exists():
            folder.mkdir(parents=True, exist_ok=True)
            (folder / ".certwarden.toml").write_text(
                "[passphrases]\n" + "".join(f'"{n}" = "{ak.PASS_VARIABLE}"\n'
                                            for n in ak.CONFIGURED_PASSPHRASE))
            (folder / name).write_bytes(self.corpus.sample(name).data)
            _git(folder, "init", "-q")
            _git(folder, "add", "-A")
        return folder

    def _run(self, key: tuple[str, str]) -> Run:
        name, mode = key
        folder = self.folder_of(name)
        paths = None if mode == "unique" else name  # the unique hook reads the index
        return run_certwarden(folder, *_check_args(mode, paths), env=self.env)

    def prefetch(self, keys: Iterable[tuple[str, str]]) -> None:
        todo = []
        for key in dict.fromkeys(keys):
            if key in self.runs:
                continue
            try:
                self.folder_of(key[0])
                self.corpus.sample(key[0])
            except ak.MissingTool:
                continue
            todo.append(key)
        crafted = [key for key in todo if ak.RECIPES[key[0]].cls == 11]
        first = [key for key in crafted if key[1] != "default"]
        self._batch(first, CORES)
        # The default groups include keys and certificates: where either was killed on a
        # file, so would the default run be; say so instead of waiting for it.
        default = []
        for name, mode in crafted:
            if mode != "default":
                continue
            killed = [m for m in ("keys", "certificates")
                      if (name, m) in self.runs and self.runs[(name, m)].timed_out]
            if killed:
                self.runs[(name, mode)] = Run([], None, "", "", HARD_TIMEOUT, not_run=(
                    f"not run: --group {' and '.join(killed)} already killed after "
                    f"{HARD_TIMEOUT:.0f} s, and the default groups include it"))
            else:
                default.append((name, mode))
        self._batch(default, CORES)
        self._batch([key for key in todo if ak.RECIPES[key[0]].cls != 11], WORKERS)

    def _batch(self, keys: list[tuple[str, str]], workers: int) -> None:
        with ThreadPoolExecutor(workers) as pool:
            for key, run in zip(keys, pool.map(self._run, keys), strict=True):
                self.runs[key] = run

    def rerun_alone(self, name: str, mode: str) -> Run:
        self.runs[(name, mode)] = self._run((name, mode))
        return self.runs[(name, mode)]

    def run(self, name: str, mode: str = "keys") -> Run:
        if (name, mode) not in self.runs:
            self.prefetch([(name, mode)])
        return self.runs[(name, mode)]


    def measure_startup(self) -> dict[str, float]:
        """Median wall time of each mode on a key-less file: the cost of starting up."""
        if not self.startup:
            folder = self.crafted_root / "startup"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "notes.txt").write_text("nothing to see\n")
            if not (folder / ".git").exists():
                _git(folder, "init", "-q")
                _git(folder, "add", "-A")
            for mode in CRAFTED_MODES:
                name = None if mode == "unique" else "notes.txt"
                self.startup[mode] = statistics.median(
                    run_certwarden(folder, *_check_args(mode, name), env=self.env).seconds
                    for _ in range(3))
        return self.startup


def _git(folder: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid",
               GIT_CONFIG_NOSYSTEM="1")
    subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True, env=env)


@pytest.fixture(scope="module")
def checker(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Checker:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "CW_"))}
    env[ak.PASS_VARIABLE] = ak.PASS
    found = Checker(ak.shared_corpus(tmp_path_factory.getbasetemp()),
                    tmp_path_factory.mktemp("adversarial-crafted"), env)
    wanted: list[tuple[str, str]] = []
    for item in request.session.items:  # run what this session selected, all at once
        params = getattr(getattr(item, "callspec", None), "params", {})
        if getattr(item, "module", None) is not request.module or "name" not in params:
            continue
        if item.originalname == "test_sample_verdict":
            wanted.append((params["name"], "keys"))
        elif item.originalname == "test_crafted_input_is_bounded":
            wanted.append((params["name"], params["mode"]))
    found.prefetch(wanted)
    return found


def _sample(checker: Checker, name: str) -> ak.Sample:
    try:
        return checker.corpus.sample(name)
    except ak.MissingTool as exc:
        pytest.skip(f"{name}: {exc}")


# -- the verdicts ------------------------------------------------------------------------------

def judge(sample: ak.Sample, run: Run) -> str | None:
    """Why this run is wrong for this sample, or None when it is right."""
    if run.timed_out:
        return f"no verdict within {HARD_TIMEOUT:.0f} s"
    if "Traceback" in run.stderr:
        return "traceback on stderr"
    if run.code not in (0, 1) or run.document is None:
        return f"exit {run.code}, no JSON report: {run.stderr.strip()[-200:]}"
    errors = [f for f in run.findings(sample.name) if f["severity"] == "error"]
    blocked = run.code == 1 and any(f["rule"] in sample.rules for f in errors)
    if sample.label in ak.BLOCKED_LABELS and not blocked:
        return f"{sample.label} key allowed: {run.summary()}"
    if sample.label in ak.ALLOWED_LABELS and (run.code != 0 or errors):
        return f"{sample.label} file blocked: {run.summary()}"
    return None


@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_sample_verdict(checker: Checker, name: str) -> None:
    sample = _sample(checker, name)
    problem = judge(sample, checker.run(name))
    assert problem is None, (f"{name} (class {sample.cls}: {sample.form}; made by "
                             f"{sample.made_by}): {problem}")


@pytest.mark.parametrize("name", LABEL_EVIDENCE)
def test_labels_agree_with_the_real_tools(checker: Checker, name: str, tmp_path: Path) -> None:
    """The label rests on a tool: openssl, ssh-keygen or puttygen opens (or refuses) it."""
    sample = _sample(checker, name)
    path = tmp_path / name
    path.write_bytes(sample.data)
    path.chmod(0o600)  # ssh-keygen refuses key files others can read
    (tmp_path / "empty.pass").write_bytes(b"")
    (tmp_path / "sample.pass").write_bytes(ak.PASS.encode())
    for command, should_open in ((sample.opens_with, True), (sample.refuses, False)):
        if not command:
            continue
        argv = [part.format(path=path, empty_file=tmp_path / "empty.pass",
                            pass_file=tmp_path / "sample.pass", scratch=tmp_path / "out")
                for part in command]
        try:
            result = subprocess.run(argv, capture_output=True, stdin=subprocess.DEVNULL,
                                    timeout=60)
        except FileNotFoundError:
            pytest.skip(f"{argv[0]} is not installed")
        assert (result.returncode == 0) == should_open, (
            f"{' '.join(command)}: exit {result.returncode}, {result.stderr[-300:]!r}")


GPG_SAMPLES = {  # sample -> (what gpg --list-packets must show, what it must not)
    "c06-secret.gpg": ("checksum:", "protected"),
    "c06-secret-subkeys.gpg": ("checksum:", "protected]"),
    "c06-secret-protected.gpg": ("protected]", "checksum:"),
    "c12-signing-key.asc": ("protected]", "checksum:"),
}
AGENT_SAMPLES = {"c06-agent-primary.key": b"(private-key", "c06-agent-subkey.key": b"(private-key",
                 "c06-agent-protected.key": b"(protected-private-key"}


@pytest.mark.parametrize("name", [*GPG_SAMPLES, *AGENT_SAMPLES])
def test_gpg_outputs_are_what_their_labels_say(checker: Checker, name: str,
                                               tmp_path: Path) -> None:
    """gpg's own view of the files it wrote: secret packets in the clear (a checksum) or
    protected by a passphrase; gpg-agent's key files say which in their first S-expression."""
    sample = _sample(checker, name)
    if name in AGENT_SAMPLES:
        assert AGENT_SAMPLES[name] in sample.data[:200]
        return
    path = tmp_path / name
    path.write_bytes(sample.data)
    listing = subprocess.run(["gpg", "--homedir", str(tmp_path), "--batch", "--list-packets",
                              str(path)], capture_output=True, text=True, timeout=60).stdout
    present, absent = GPG_SAMPLES[name]
    assert present in listing and absent not in listing, listing


def test_corpus_covers_every_class(checker: Checker, capsys: pytest.CaptureFixture[str]) -> None:
    """Every class of issue 11 has samples that must block and samples that must pass;
    prints how many of each pass against today's code."""
    checker.prefetch((name, "keys") for name in CORPUS_NAMES)
    table: dict[tuple[int, str], list[int]] = {}
    failing: list[str] = []
    for name in ak.RECIPES:
        if name in checker.corpus.missing:
            continue
        sample = checker.corpus.sample(name)
        problem = judge(sample, checker.run(name))
        counts = table.setdefault((sample.cls, sample.label), [0, 0])
        counts[0] += 1
        counts[1] += problem is None
        if problem:
            failing.append(f"  c{sample.cls:<2} {name}: {problem}")
    lines = ["", "adversarial corpus: samples passing today, by class and label",
             f"  {'class':<48} {'label':<12} {'pass':>9}"]
    for (cls, label), (total, passed) in sorted(table.items()):
        lines.append(f"  {cls:>2} {ak.CLASSES[cls]:<45} {label:<12} {passed:>4}/{total:<4}")
    passed = sum(p for _, p in table.values())
    total = sum(t for t, _ in table.values())
    lines.append(f"  all: {passed}/{total}; missing tools: {checker.corpus.missing or 'none'}")
    with capsys.disabled():
        print("\n".join([*lines, "  failing:", *failing]) + "\n")

    missing = set(checker.corpus.missing)
    assert not missing, f"samples not built (tools missing): {checker.corpus.missing}"
    for cls in ak.CLASSES:
        if cls in ak.GIT_ONLY_CLASSES:
            continue
        labels = {label for (c, label) in table if c == cls}
        assert labels & ak.BLOCKED_LABELS, f"class {cls} has no sample that must block"
        assert ak.ENCRYPTED in labels, f"class {cls} has no encrypted counterpart"
    assert total >= 150


# -- no key material and no passphrase in any output -------------------------------------------

_LONG_RUN = re.compile(r"[A-Za-z0-9+/=_-]{40,}|[0-9A-Fa-f:]{40,}")


def leaks(output: str, sample: ak.Sample, secrets: list[bytes]) -> list[str]:
    found = []
    if ak.PASS in output:
        found.append("the passphrase")
    for match in _LONG_RUN.finditer(output):
        chunk = match.group()[:40].encode()
        private = sample.label not in (ak.PUBLIC, ak.KEYLESS, ak.PLACEHOLDER)
        if (private and chunk in sample.data) or any(chunk in secret for secret in secrets):
            found.append(match.group()[:12] + "...")
    return found


def test_no_output_quotes_key_material_or_passphrase(checker: Checker) -> None:
    checker.prefetch((name, "keys") for name in CORPUS_NAMES)
    secrets = checker.corpus.materials.secret_texts()
    problems = []
    for (name, _), run in checker.runs.items():
        found = leaks(run.stdout + run.stderr, checker.corpus.sample(name), secrets)
        if found:
            problems.append(f"{name}: {found}")
    # the text report too, all (small) samples in one process
    names = [n for n, r in ak.RECIPES.items()
             if r.cls not in (8, 11) and n not in checker.corpus.missing]
    text = run_certwarden(checker.corpus.files, "check", "--group", "keys", "--", *names,
                          env=checker.env, timeout=120)
    assert not text.timed_out
    for name in names:
        found = leaks(text.stdout + text.stderr, checker.corpus.sample(name), secrets)
        if found:
            problems.append(f"{name} (text report): {found}")
    assert problems == []


# -- class 11: bounded work on every hook ------------------------------------------------------

@pytest.mark.parametrize("mode", CRAFTED_MODES)
@pytest.mark.parametrize("name", CRAFTED_NAMES)
def test_crafted_input_is_bounded(checker: Checker, name: str, mode: str) -> None:
    """Every hook's command line finishes on a crafted input, without a traceback."""
    sample = _sample(checker, name)
    run = checker.run(name, mode)
    assert not run.timed_out, f"{name} ({sample.form}), {mode}: {run.summary()}"
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    assert run.code in (0, 1), f"{mode}: exit {run.code}: {run.stderr[-500:]}"
    assert run.document is not None


@pytest.mark.parametrize("name", ak.CONFIGURED_PASSPHRASE)
def test_work_over_a_cap_is_reported(checker: Checker, name: str) -> None:
    """A passphrase is configured, but the KDF parameters in the file are over the cap:
    the passphrase cannot be checked, and a finding must say so (issue 11: "over a cap,
    say so in the finding")."""
    sample = _sample(checker, name)
    run = checker.run(name, "keys")
    assert not run.timed_out, f"{name}: killed after {HARD_TIMEOUT} s"
    assert "key-unencrypted" not in {f["rule"] for f in run.findings()}
    assert run.findings(name), f"{name} ({sample.form}): no finding names the cap"


def test_crafted_inputs_finish_within_a_second(checker: Checker,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """Each crafted input takes under 1 s of work on every hook, measured as the whole
    process minus the start-up time of the same command on a key-less file."""
    checker.prefetch((name, mode) for name in CRAFTED_NAMES for mode in CRAFTED_MODES)
    startup = checker.measure_startup()
    lines = ["", "class 11: seconds per process (start-up on a key-less file: "
             + ", ".join(f"{mode} {seconds:.2f}" for mode, seconds in startup.items()) + ")",
             f"  {'sample':<30}" + "".join(f"{mode:>14}" for mode in CRAFTED_MODES)]
    slow = []
    for name in CRAFTED_NAMES:
        if name in checker.corpus.missing:
            continue
        cells = []
        for mode in CRAFTED_MODES:
            run = checker.run(name, mode)
            if not run.timed_out and 1.0 <= run.seconds - startup[mode] < 3.0:
                run = checker.rerun_alone(name, mode)  # maybe only slowed by its neighbours
            mark = ("" if run.code in (0, 1) else "-" if run.not_run else "!"
                    if run.timed_out else f" rc{run.code}")
            cells.append(f"{run.seconds:>12.2f}{mark:<2}")
            if run.timed_out or run.seconds - startup[mode] >= 1.0:
                slow.append(f"{name} [{mode}]: {run.seconds:.2f} s ({run.summary()})")
        lines.append(f"  {name:<30}" + "".join(cells))
    with capsys.disabled():
        print("\n".join([*lines, "  (! = killed at the hard timeout; - = not run: a group it "
                                 "includes was killed)"]) + "\n")
    assert slow == []
