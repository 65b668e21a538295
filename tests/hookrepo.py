"""End-to-end plumbing: a snapshot of this hook repository and throwaway user repositories.

The snapshot holds the working tree's package as a commit, so pre-commit installs the
hooks the way users get them (pip install of the repository at a rev).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
SNAPSHOT_PARTS = ("pyproject.toml", "README.md", "LICENSE", ".pre-commit-hooks.yaml", "hooks",
                  ".ci", "action.yml")

GIT_ENV = {
    "GIT_AUTHOR_NAME": "certwarden tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "certwarden tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_ENV)
    env.update(offline_pip_env())  # pre-commit's pip, when it installs the hooks
    env.update(extra)
    return env


def offline_pip_env() -> dict[str, str]:
    """With CERTWARDEN_WHEELHOUSE set (a folder of wheels, see README), pip installs from it
    and never reaches a package index: the end-to-end tests then run offline, or under a
    faked clock at which the index's TLS certificate would look expired. Under faketime
    without one, a wheelhouse is built once for the session, at the real clock."""
    wheelhouse = os.environ.get("CERTWARDEN_WHEELHOUSE") or _faketime_wheelhouse()
    if not wheelhouse:
        return {}
    return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": os.path.abspath(wheelhouse)}


_built_wheelhouse: str | None = None


def _faketime_wheelhouse() -> str | None:
    """Under faketime (FAKETIME and its LD_PRELOAD in the environment), the wheels this
    package and its hooks need, built by a pip that runs at the real clock (faketime's
    variables removed), so that `faketime DATE pytest` needs nothing else."""
    global _built_wheelhouse
    if "FAKETIME" not in os.environ:
        return None
    if _built_wheelhouse is None:
        import atexit
        import sys
        import tempfile

        folder = tempfile.mkdtemp(prefix="certwarden-wheelhouse-")
        atexit.register(shutil.rmtree, folder, True)
        real_clock = {k: v for k, v in os.environ.items()
                      if not k.startswith("FAKETIME") and k != "LD_PRELOAD"}
        built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "-w", folder,
                                str(PROJECT), "setuptools>=77"], env=real_clock,
                               capture_output=True, text=True, check=False)
        if built.returncode != 0:
            raise RuntimeError("the end-to-end tests need a wheelhouse under faketime, and "
                               "pip could not build one (set CERTWARDEN_WHEELHOUSE, see "
                               f"README, Development): {built.stderr.strip()[-2000:]}")
        _built_wheelhouse = folder
    return _built_wheelhouse


def git(repo: Path, *args: str, check: bool = True, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True,
                          check=check, env=env or git_env())


def stage(repo: Path, files: dict[str, bytes]) -> None:
    """Write the files (folders made as needed) and `git add` them."""
    for name, data in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes(data)
        git(repo, "add", "--", name)


def make_snapshot(destination: Path) -> str:
    """Copy the package into a fresh git repository; return the commit id."""
    destination.mkdir(parents=True, exist_ok=True)
    for part in SNAPSHOT_PARTS:
        source = PROJECT / part
        if source.is_dir():
            shutil.copytree(source, destination / part,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(source, destination / part)
    git(destination, "init", "-q", "-b", "main")
    git(destination, "add", "-A")
    git(destination, "commit", "-q", "-m", "snapshot")
    return git(destination, "rev-parse", "HEAD").stdout.strip()


def make_user_repo(path: Path, *, hook_repo: Path, rev: str, hook_ids: list[str],
                   env: dict[str, str]) -> Path:
    """A repository whose .pre-commit-config.yaml uses our hooks, installed as a git hook."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    hooks = "\n".join(f"      - id: {hook_id}" for hook_id in hook_ids)
    (path / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hook_repo}\n    rev: {rev}\n    hooks:\n{hooks}\n")
    subprocess.run(["pre-commit", "install"], cwd=path, check=True, capture_output=True,
                   env=env)
    git(path, "add", ".pre-commit-config.yaml")
    git(path, "commit", "-q", "-m", "config", env=env)
    return path


def commit(repo: Path, files: dict[str, bytes], env: dict[str, str]
           ) -> subprocess.CompletedProcess[str]:
    """Write, stage and `git commit` the files; the pre-commit hook runs for real."""
    for name, data in files.items():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        git(repo, "add", "--", name, env=env)
    return git(repo, "commit", "-m", f"add {', '.join(files)}", check=False, env=env)
