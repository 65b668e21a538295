"""Files beside the one being checked (a key's certificate, a certificate's key).

Read from where the checked file came from: the working tree for named paths (under
pre-commit it holds exactly the staged content), the git index for staged blobs. So a
verdict never depends on which other files share the batch.
"""

from __future__ import annotations

import os
import posixpath


def split(path: str) -> tuple[str, str, str]:
    """(folder, stem, extension) of a path as given."""
    folder, name = os.path.split(path)
    stem, extension = os.path.splitext(name)
    return folder, stem, extension.lower()


class Neighbourhood:
    """Listing and reading files by folder, with the listings cached for the run."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._by_stem: dict[str, dict[str, list[str]]] = {}

    def names_in(self, folder: str) -> list[str]:
        raise NotImplementedError

    def read(self, path: str) -> bytes | None:
        raise NotImplementedError

    def siblings(self, path: str, extensions: tuple[str, ...]) -> list[str]:
        """Files in the same folder with the same stem and one of these extensions."""
        folder, stem, _ = split(path)
        if folder not in self._by_stem:
            index: dict[str, list[str]] = {}
            for name in self.names_in(folder):
                index.setdefault(os.path.splitext(name)[0], []).append(name)
            self._by_stem[folder] = index
        own = os.path.basename(path)
        return [os.path.join(folder, name) for name in self._by_stem[folder].get(stem, [])
                if name != own and os.path.splitext(name)[1].lower() in extensions]


class WorkingTree(Neighbourhood):
    def names_in(self, folder: str) -> list[str]:
        try:
            return sorted(os.listdir(folder or "."))
        except OSError:
            return []

    def read(self, path: str) -> bytes | None:
        from certwarden.sources import read_capped

        if os.path.islink(path) or not os.path.isfile(path):
            return None
        try:
            return read_capped(path, os.path.getsize(path), self.max_bytes)
        except OSError:
            return None


class GitIndex(Neighbourhood):
    """The index as the next commit will hold it; paths relative to the repository root."""

    def __init__(self, root: str, max_bytes: int) -> None:
        super().__init__(max_bytes)
        self.root = root
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
        from certwarden.sources import GitError, git

        blob = self._entries().get(posixpath.normpath(path))
        if blob is None:
            return None
        try:
            return git(self.root, "cat-file", "blob", blob)[:self.max_bytes]
        except GitError:
            return None
