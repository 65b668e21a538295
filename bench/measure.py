"""Run whole processes and measure them the way a user feels them: wall time, CPU time
and peak memory per run (os.wait4, in bench.spawn), median over several runs."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Timing:
    label: str
    wall: float  # median seconds
    cpu: float  # median user+sys seconds
    peak_mb: float  # largest max RSS over the runs
    exit_codes: tuple[int, ...]
    runs: int


# As installed by pip (and so by pre-commit), packages run from compiled bytecode; a
# PYTHONDONTWRITEBYTECODE inherited from a development shell would make every run
# recompile our editable sources and measure the compiler instead.
ENVIRONMENT = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
# bench.spawn is found from the project root, wherever the command runs.
SPAWN_ENVIRONMENT = {**ENVIRONMENT, "PYTHONPATH": os.pathsep.join(
    p for p in (str(Path(__file__).resolve().parent.parent),
                ENVIRONMENT.get("PYTHONPATH", "")) if p)}


def run_once(command: Sequence[str], cwd: Path) -> tuple[float, float, float, int]:
    """(wall s, CPU s, peak MB, exit code) of one run, measured by bench.spawn."""
    spawned = subprocess.run([sys.executable, "-m", "bench.spawn", *command], cwd=cwd,
                             capture_output=True, text=True, env=SPAWN_ENVIRONMENT,
                             check=True)
    cost = json.loads(spawned.stdout)
    return cost["wall"], cost["cpu"], cost["peak_mb"], cost["exit"]


def measure(label: str, command: Sequence[str], cwd: Path, *, runs: int = 5,
            warmup: int = 1) -> Timing:
    for _ in range(warmup):
        run_once(command, cwd)
    samples = [run_once(command, cwd) for _ in range(runs)]
    return Timing(label, statistics.median(s[0] for s in samples),
                  statistics.median(s[1] for s in samples), max(s[2] for s in samples),
                  tuple(sorted({s[3] for s in samples})), runs)


def measure_pair(ours: tuple[str, Sequence[str]], peer: tuple[str, Sequence[str]], cwd: Path,
                 *, runs: int = 5) -> tuple[Timing, Timing]:
    """Interleave the two commands so both see the same machine state."""
    run_once(ours[1], cwd)
    run_once(peer[1], cwd)
    our_samples, peer_samples = [], []
    for _ in range(runs):
        our_samples.append(run_once(ours[1], cwd))
        peer_samples.append(run_once(peer[1], cwd))

    def summary(label: str, samples: list[tuple[float, float, float, int]]) -> Timing:
        return Timing(label, statistics.median(s[0] for s in samples),
                      statistics.median(s[1] for s in samples), max(s[2] for s in samples),
                      tuple(sorted({s[3] for s in samples})), runs)

    return summary(ours[0], our_samples), summary(peer[0], peer_samples)


def table(rows: Sequence[tuple[Timing, Timing | None]]) -> str:
    lines = ["| command | median wall (s) | median CPU (s) | peak RSS (MB) | exit | "
             "wall ratio vs peer |", "| --- | ---: | ---: | ---: | --- | ---: |"]
    for timing, peer in rows:
        ratio = f"{timing.wall / peer.wall:.2f}x" if peer else ""
        lines.append(f"| {timing.label} | {timing.wall:.3f} | {timing.cpu:.3f} | "
                     f"{timing.peak_mb:.0f} | {','.join(map(str, timing.exit_codes))} | "
                     f"{ratio} |")
    return "\n".join(lines)
