"""One command for the whole benchmark table:

    pip install '.[bench]'
    python -m bench [--runs 5] [--secrets-runs 1] [--regenerate]

Generates the synthetic repository (bench/out/repo; deterministic layout and sizes, key
material generated at run time and never committed), runs certwarden's hooks and the peers
present on this machine (pre-commit-hooks' detect-private-key, detect-secrets-hook,
gitleaks when on PATH) over it, and prints median wall time, CPU and peak memory with
ratios to the peers, plus a scaling row (1x, 2x, 4x files).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
from pathlib import Path

from bench.generate_repo import generate
from bench.measure import Timing, measure, measure_pair, table
from bench.private_keys import tool, tracked_files

HERE = Path(__file__).parent


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            cpu = next(line.split(":", 1)[1].strip() for line in stream
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--secrets-runs", type=int, default=1,
                        help="runs of the detect-secrets comparison (its peer takes minutes)")
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    repo = HERE / "out" / "repo"
    if args.regenerate or not (repo / ".git").exists():
        generate(repo)
    files = tracked_files(repo)
    certwarden = tool("certwarden")
    rows: list[tuple[Timing, Timing | None]] = []

    def pair(ours: tuple[str, list[str]], peer: tuple[str, list[str]], runs: int) -> None:
        mine, theirs = measure_pair(ours, peer, repo, runs=runs)
        rows.extend([(mine, theirs), (theirs, None)])

    keys = [certwarden, "check", "--group", "keys"]
    pair((f"check-private-keys, {len(files)} files", [*keys, *files]),
         (f"detect-private-key, {len(files)} files", [tool("detect-private-key"), *files]),
         args.runs)
    pair(("check-private-keys, 1 file", [*keys, files[-1]]),
         ("detect-private-key, 1 file", [tool("detect-private-key"), files[-1]]), args.runs)
    sample = files[::max(1, len(files) // 600)][:600]
    pair((f"detect-secrets hook (certwarden), {len(sample)} files",
          [certwarden, "check", "--group", "secrets", *sample]),
         (f"detect-secrets-hook --no-verify, {len(sample)} files",
          [tool("detect-secrets-hook"), "--no-verify", *sample]), args.secrets_runs)
    gitleaks = shutil.which("gitleaks")
    if gitleaks:
        pair(("certwarden scan --history", [certwarden, "scan", "--history"]),
             ("gitleaks git", [gitleaks, "git", "--no-banner", "."]), args.runs)
    for share in (4, 2, 1):  # scaling: a quarter, half and all of the files
        subset = files[::share]
        rows.append((measure(f"scaling: check-private-keys, {len(subset)} files",
                             [*keys, *subset], repo, runs=args.runs), None))
    size = sum((repo / name).stat().st_size for name in files)
    print(f"machine: {machine()}")
    print(f"repository: {len(files)} files, {size / 1e6:.1f} MB; gitleaks: "
          f"{'present' if gitleaks else 'not on PATH'}\n")
    print(table(rows))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE.parent,
                            capture_output=True, text=True).stdout.strip()
    print(f"\ncertwarden at {commit or 'unknown commit'}")


if __name__ == "__main__":
    main()
