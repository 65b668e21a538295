"""Benchmark: the detect-secrets hook entry against detect-secrets-hook on 600 files of the
benchmark repository (every 8th tracked file), whole process, median of interleaved runs.

    python -m bench.secrets [--runs 3] [--files 600]

Target: at most 0.15x of detect-secrets-hook's wall time (issue 5 asked for 0.2x). The peer
runs with --no-verify, as our hook always does: nothing found is sent to any service.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.generate_repo import generate
from bench.measure import measure_pair, table
from bench.private_keys import tool, tracked_files

HERE = Path(__file__).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--files", type=int, default=600)
    parser.add_argument("--repo", type=Path, default=HERE / "out" / "repo")
    args = parser.parse_args()
    if not (args.repo / ".git").exists():
        generate(args.repo)
    everything = tracked_files(args.repo)
    step = max(1, len(everything) // args.files)
    files = everything[::step][:args.files]
    ours, peer = measure_pair(
        (f"certwarden check --group secrets ({len(files)} files)",
         [tool("certwarden"), "check", "--group", "secrets", *files]),
        (f"detect-secrets-hook --no-verify ({len(files)} files)",
         [tool("detect-secrets-hook"), "--no-verify", *files]),
        args.repo, runs=args.runs)
    print(table([(ours, peer), (peer, None)]))


if __name__ == "__main__":
    main()
