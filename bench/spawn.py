"""Run one command and print what it cost as JSON: wall and CPU seconds, peak memory,
exit status. A separate small process, because Linux counts the memory of the process a
command was forked from into the command's peak (ru_maxrss): forked straight from a
benchmark holding a generated repository, every command would report that benchmark's
size. Usage: python -m bench.spawn COMMAND [ARG ...] (the command's output is discarded).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main() -> None:
    start = time.perf_counter()
    process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    json.dump({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
               "peak_mb": usage.ru_maxrss / 1024,
               "exit": os.waitstatus_to_exitcode(status)}, sys.stdout)


if __name__ == "__main__":
    main()
