"""The policy a server judges a push by: the server's, never the pushed commits' own.

In order: the file the administrator names (`pre-receive --config FILE`, or git config
`certwarden.config`); else the configuration on the repository's default branch as it was
before the push (pre-receive runs before any ref moves, so a pushed commit that turns a
rule off only counts once it has landed, and is judged by the policy it wants to change);
else the defaults. The files the policy names (chain, CRLs, baselines) come from the same
place: for the default branch they are copied into a private folder that serves as the
policy's root. The hook never goes on the network: `crl-fetch` is always off there
(docs/contract.md, server side).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping

from certwarden.commit_trees import ObjectReader
from certwarden.config import Config, ConfigError, config_from_mapping
from certwarden.sources import GitError, git

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SERVER_OVERRIDES: dict[str, object] = {"crl-fetch": False}  # no network from the hook
MAX_POLICY_FILE_BYTES = 16 * 1024 * 1024
MAX_SYMLINKS = 8  # links followed to reach one policy file


class ServerPolicy:
    __slots__ = ("config", "notes", "origin")

    def __init__(self, config: Config, origin: str, notes: list[str]) -> None:
        self.config = config
        self.origin = origin  # for people: where the policy came from
        self.notes = notes  # things the administrator should know (shown on every push)


def _parse_toml(text: bytes, where: str) -> dict[str, Any]:
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    try:
        document: dict[str, Any] = tomllib.loads(text.decode("utf-8"))
        return document
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None


def _with_overrides(table: Mapping[str, object], notes: list[str]) -> dict[str, object]:
    merged = dict(table)
    if merged.get("crl-fetch") is True:
        notes.append("crl-fetch is ignored on the server: the hook never goes on the network "
                     "(give the CRLs as crl-files instead)")
    merged.update(SERVER_OVERRIDES)
    return merged


def _tool_table(document: Mapping[str, object], where: str) -> object:
    """[tool.certwarden] of a pyproject.toml document (None when absent)."""
    tool = document.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{where}: [tool] must be a table")
    return tool.get("certwarden")


def from_admin_file(path: str) -> ServerPolicy:
    """The administrator's file; paths in it are relative to its folder. Errors are the
    administrator's to fix: they reject the push (exit 2), never fall back."""
    try:
        with open(path, "rb") as stream:
            document = _parse_toml(stream.read(), path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    table: Mapping[str, object] = document
    if os.path.basename(path) == "pyproject.toml":
        found = _tool_table(document, path)
        if found is not None and not isinstance(found, dict):
            raise ConfigError(f"{path}: [tool.certwarden] must be a table")
        table = found or {}
    notes: list[str] = []
    config = config_from_mapping(_with_overrides(table, notes),
                                 root=os.path.dirname(os.path.abspath(path)), source=path)
    return ServerPolicy(config, f"{path} (server)", notes)


def default_branch(repo: str) -> str:
    """The ref HEAD names in the server's repository: its default branch."""
    try:
        return git(repo, "symbolic-ref", "-q", "HEAD").decode("utf-8", "replace").strip()
    except GitError:
        return "HEAD"  # a detached HEAD: the commit it points to


def _safe_relative(path: str) -> str | None:
    """A path inside the repository, or None (absolute, or climbing out with ..)."""
    normal = posixpath.normpath(path.replace(os.sep, "/"))
    if normal.startswith(("/", "../")) or normal in ("..", "."):
        return None
    return normal


def _resolved(reader: ObjectReader, commit: str, path: str) -> str | None:
    """The path of the file `path` names in the commit's tree, its symlinks followed as a
    checkout would follow them (a `current.pem` link to a dated chain, a linked
    .certwarden.toml), or None: missing, a folder, or a link out of the repository."""
    parts, links = path.split("/"), 0
    resolved: list[str] = []
    while parts:
        part = parts.pop(0)
        folder = "/".join(resolved)
        mode = reader.tree_modes(f"{commit}:{folder}" if folder else
                                 f"{commit}^{{tree}}").get(part)
        if mode is None:
            return None
        if mode != "120000":
            resolved.append(part)
            continue
        links += 1
        target = reader.blob(f"{commit}:{posixpath.join(folder, part)}", max_bytes=4096)
        if links > MAX_SYMLINKS or not target:
            return None
        inside = _safe_relative(posixpath.join(
            folder, target.decode("utf-8", "surrogateescape"), *parts))
        if inside is None:
            return None
        parts, resolved = inside.split("/"), []
    return "/".join(resolved) or None


def _policy_blob(reader: ObjectReader, commit: str, path: str) -> bytes | None:
    relative = _resolved(reader, commit, path)
    return None if relative is None else reader.blob(f"{commit}:{relative}",
                                                      max_bytes=MAX_POLICY_FILE_BYTES)


def _table_from_branch(reader: ObjectReader, commit: str) -> tuple[Mapping[str, object], str]:
    """As config.load_config reads a working tree: .certwarden.toml, or [tool.certwarden] in
    pyproject.toml, never both."""
    dedicated = _policy_blob(reader, commit, ".certwarden.toml")
    if dedicated is None and ".certwarden.toml" in reader.tree_modes(f"{commit}^{{tree}}"):
        raise ConfigError(".certwarden.toml is a folder, or a link to no file of the "
                          "repository")
    pyproject = _policy_blob(reader, commit, "pyproject.toml")
    pyproject_table = None
    if pyproject is not None and b"certwarden" in pyproject:
        pyproject_table = _tool_table(_parse_toml(pyproject, "pyproject.toml"),
                                      "pyproject.toml")
    if dedicated is not None:
        if pyproject_table is not None:
            raise ConfigError("both .certwarden.toml and [tool.certwarden] in pyproject.toml "
                              "configure certwarden; keep one")
        return _parse_toml(dedicated, ".certwarden.toml"), ".certwarden.toml"
    if pyproject_table is not None:
        if not isinstance(pyproject_table, dict):
            raise ConfigError("pyproject.toml: [tool.certwarden] must be a table")
        return pyproject_table, "pyproject.toml [tool.certwarden]"
    return {}, "defaults"


def _policy_files(config: Config) -> list[tuple[str, str]]:
    """(config key, path) of each file the policy names."""
    return [("chain", config.chain or ""),
            *(("crl-files", name) for name in config.crl_files),
            ("baseline", config.baseline or ".certwarden-baseline.json"),
            ("secrets-baseline", config.secrets_baseline or ".secrets.baseline")]


def _inside_repository(config: Config) -> None:
    """The default branch's policy names files of that branch, never of the server: a
    pushed policy could otherwise have the hook read the server's files (another
    repository's secrets, /proc/self/fd/1: a pipe that never ends, and every later push
    would time out)."""
    for key, name in _policy_files(config):
        if name and _safe_relative(name) is None:
            raise ConfigError(f"{key}: {name!r} is outside the repository (on the server, "
                              "the policy's files are read from the default branch)")


def _copy_policy_files(reader: ObjectReader, commit: str, config: Config) -> None:
    """The files the policy names, as the default branch holds them, under its root."""
    for _, name in _policy_files(config):
        relative = _safe_relative(name) if name else None
        if relative is None:
            continue
        data = _policy_blob(reader, commit, relative)
        if data is None:
            continue
        target = os.path.join(config.root, *relative.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as stream:
            stream.write(data)


def from_default_branch(repo: str, reader: ObjectReader, workdir: str) -> ServerPolicy:
    """The policy on the default branch before this push, its files copied to workdir.

    A configuration there that cannot be used falls back to the defaults (the Defender
    for IoT profile) with a note, so that the push that repairs it can land."""
    branch = default_branch(repo)
    found = reader.read(branch, max_bytes=0)
    notes: list[str] = []
    if found is None or found.kind != "commit":
        config = config_from_mapping(_with_overrides({}, notes), root=workdir,
                                     source="defaults")
        return ServerPolicy(config, f"the defaults ({branch} has no commit yet)", notes)
    commit = found.object_id
    where = f"{branch} at {commit[:12]}"
    try:
        table, name = _table_from_branch(reader, commit)
        if isinstance(table, Mapping) and "passphrases" in table:
            # The server's environment is not the repository's to read: a pushed mapping
            # could probe any variable of the hook's process (is it set, which characters).
            notes.append("passphrases are ignored on the server unless the administrator's "
                         "policy file maps them")
            table = {key: value for key, value in table.items() if key != "passphrases"}
        config = config_from_mapping(_with_overrides(table, notes), root=workdir,
                                     source=f"{name} on {where}")
        _inside_repository(config)
        origin = f"{name} on {where}" if name != "defaults" else \
            f"the defaults ({where} has no certwarden configuration)"
    except ConfigError as exc:
        notes.append(f"the configuration on {where} cannot be used ({exc}); this push is "
                     "judged by the defaults")
        config = config_from_mapping(_with_overrides({}, notes), root=workdir,
                                     source="defaults")
        origin = f"the defaults (the configuration on {where} cannot be used)"
    _copy_policy_files(reader, commit, config)
    return ServerPolicy(config, origin, notes)
