"""Files beside the one being checked (a key's certificate, a certificate's key).

Read from where the checked file came from: the working tree for named paths (under
pre-commit it holds exactly the staged content), the git index for staged blobs. So a
verdict never depends on which other files share the batch.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
from pathlib import Path
from typing import Protocol


class Neighbours(Protocol):
    def names_in(self, folder: str) -> list[str]: ...

    def read(self, path: str) -> bytes | None: ...


class WorkingTree:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    def names_in(self, folder: str) -> list[str]:
        try:
            return sorted(os.listdir(folder or "."))
        except OSError:
            return []

    def read(self, path: str) -> bytes | None:
        if os.path.islink(path) or not os.path.isfile(path):
            return None
        try:
            with open(path, "rb") as stream:
                return stream.read(self.max_bytes)
        except OSError:
            return None


class GitIndex:
    """The index as the next commit will hold it; paths relative to the repository root."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._blobs: dict[str, str] | None = None

    def _entries(self) -> dict[str, str]:
        if self._blobs is None:
            from certwarden.sources import tracked_entries

            self._blobs = {e.path: e.blob for e in tracked_entries(self.root)
                           if e.mode not in ("120000", "160000")}
        return self._blobs

    def names_in(self, folder: str) -> list[str]:
        prefix = f"{folder}/" if folder else ""
        return sorted(path[len(prefix):] for path in self._entries()
                      if path.startswith(prefix) and "/" not in path[len(prefix):])

    def read(self, path: str) -> bytes | None:
        blob = self._entries().get(posixpath.normpath(path))
        if blob is None:
            return None
        result = subprocess.run(["git", "cat-file", "blob", blob], cwd=self.root,
                                capture_output=True, check=False)
        return result.stdout[:self.max_bytes] if result.returncode == 0 else None


def split(path: str) -> tuple[str, str, str]:
    """(folder, stem, extension) of a path as given."""
    folder, name = os.path.split(path)
    stem, extension = os.path.splitext(name)
    return folder, stem, extension.lower()
