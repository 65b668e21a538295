"""Benchmark: the check-private-keys entry against pre-commit-hooks' detect-private-key,
whole process, same files, median of several interleaved runs.

    pip install '.[bench]'
    python -m bench.private_keys [--runs 7] [--regenerate]

Targets (issue 3): within 1.5x of detect-private-key's wall time over the whole
repository, within 2x on a single file.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from bench.generate_repo import generate
from bench.measure import measure_pair, table

HERE = Path(__file__).parent


def tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not installed: pip install '.[bench]'")
    return found


def tracked_files(repo: Path) -> list[str]:
    output = subprocess.run(["git", "ls-files", "-z"], cwd=repo, capture_output=True,
                            check=True).stdout
    return [name for name in output.decode().split("\0") if name]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--repo", type=Path, default=HERE / "out" / "repo")
    args = parser.parse_args()
    if args.regenerate or not (args.repo / ".git").exists():
        generate(args.repo)
    files = tracked_files(args.repo)
    certwarden, detect = tool("certwarden"), tool("detect-private-key")
    single = "src/config/sensor/file0.py" if "src/config/sensor/file0.py" in files else files[0]
    rows = []
    for label, selection in ((f"whole repository ({len(files)} files)", files),
                             ("single file", [single])):
        ours, peer = measure_pair(
            (f"certwarden check --group keys, {label}",
             [certwarden, "check", "--group", "keys", *selection]),
            (f"detect-private-key, {label}", [detect, *selection]), args.repo, runs=args.runs)
        rows += [(ours, peer), (peer, None)]
    print(table(rows))


if __name__ == "__main__":
    main()
