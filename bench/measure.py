"""Run whole processes and measure them the way a user feels them: wall time, CPU time
and peak memory per run (os.wait4), median over several runs."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
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


def run_once(command: Sequence[str], cwd: Path) -> tuple[float, float, float, int]:
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=ENVIRONMENT)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, process.returncode


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
