"""A stamp of certwarden's own code, for caches of parsed results under the git directory:
what recognition or the rules read from a blob may change with any release or edit, so a
cache written by other code is never believed."""

from __future__ import annotations

import functools
import hashlib
import os


@functools.cache
def code_stamp() -> str:
    """Changes whenever certwarden's code does (its version, and each source file's size and
    modification time); computed once per process."""
    from certwarden import __version__

    package = os.path.dirname(os.path.abspath(__file__))
    digest = hashlib.sha256(__version__.encode())
    for folder, folders, files in os.walk(package):
        folders[:] = sorted(f for f in folders if f != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                info = os.stat(os.path.join(folder, name))
                digest.update(f"{folder[len(package):]}/{name}:{info.st_size}:"
                              f"{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()
