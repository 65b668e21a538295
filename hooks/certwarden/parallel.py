"""Share a long file list between this process and one forked worker per extra core.

Our hooks are require_serial, so pre-commit passes one hook the whole file list in one
call (one verdict, one import of cryptography or detect-secrets); this module spreads
it over the cores (`pre-commit run --all-files`, `certwarden check PATHS...`). Each
file's verdict depends only on that file and its neighbours, so the split never changes
the result.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

MIN_FILES_PER_WORKER = 200  # below this, forking costs more than it saves

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypeVar

    T = TypeVar("T")
    Item = TypeVar("Item")


def worker_count(items: int) -> int:
    # The manifest's hooks are require_serial: pre-commit hands us the whole file list in
    # one call, and the cores are ours to use.
    if not hasattr(os, "fork"):
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
    return max(1, min(cores, items // MIN_FILES_PER_WORKER))


def map_chunks(work: Callable[[Sequence[Item]], T], items: Sequence[Item], *,
               contiguous: bool = False) -> list[T]:
    """work(chunk) for interleaved chunks of items (contiguous ones: for items that share
    work with their neighbours, like the blobs of one history, which git stores as deltas
    of each other), chunks after the first in children."""
    workers = worker_count(len(items))
    if workers == 1:
        return [work(items)]
    import pickle

    if contiguous:
        size = -(-len(items) // workers)
        chunks = [items[index * size:(index + 1) * size] for index in range(workers)]
    else:
        chunks = [items[index::workers] for index in range(workers)]
    children: list[tuple[int, int, Sequence[Item]]] = []
    for chunk in chunks[1:]:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: do the chunk, send the result, leave without cleanup
            os.close(read_end)
            status = 0
            try:
                payload = pickle.dumps(work(chunk), protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write_end, "wb") as stream:
                    stream.write(payload)
            except BaseException:
                status = 1
            os._exit(status)
        os.close(write_end)
        children.append((pid, read_end, chunk))
    results = []
    running = [pid for pid, _, _ in children]  # not waited for yet
    unread = [read_end for _, read_end, _ in children]  # not opened yet
    try:
        results.append(work(chunks[0]))
        for pid, read_end, chunk in children:
            unread.remove(read_end)
            with os.fdopen(read_end, "rb") as stream:
                payload = stream.read()
            _, status = os.waitpid(pid, 0)
            running.remove(pid)
            if status == 0 and payload:
                results.append(pickle.loads(payload))
            else:  # the worker failed: do its share here rather than lose files
                results.append(work(chunk))
    except BaseException:
        # Out of time (or interrupted): the workers stop with us. A worker left running
        # would hold our stderr open, and a git server waits for that before answering.
        _stop(running, unread)
        raise
    return results


def _stop(pids: list[int], descriptors: list[int]) -> None:
    import contextlib
    import signal

    for pid in pids:
        with contextlib.suppress(OSError):  # already gone
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    for descriptor in descriptors:
        with contextlib.suppress(OSError):
            os.close(descriptor)
