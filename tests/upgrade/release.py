"""The previous release (``deploy/releases.txt``), taken out of git history into a folder of its own,
and the environment that runs its code with the current virtualenv's libraries."""

import os
import subprocess
import tarfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RELEASES = ROOT / "deploy" / "releases.txt"


def previous_release():
    """The last release listed: ``(commit, label)``."""
    lines = [line.split(None, 1) for line in RELEASES.read_text().splitlines() if line.strip() and line[0] != "#"]
    commit, label = lines[-1] if len(lines[-1]) == 2 else (lines[-1][0], "")
    return commit, label


def resolve(commit):
    """The full hash of ``commit``, None when this checkout's history lacks it (a shallow clone)."""
    found = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}"], cwd=ROOT, capture_output=True, text=True
    )
    return found.stdout.strip() or None


def checkout(commit, into):
    """The release's tree (``git archive``: no worktree left behind) in ``into``; returns ``into``."""
    archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=ROOT, capture_output=True, check=True)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return Path(into)


def release_env(tree, base_env):
    """``base_env`` with the release's packages first on the path: its ``nxshared`` and every service
    of it. The current virtualenv's libraries serve both (the lock file pins them); the installed
    packages' metadata (entry points) names the same modules, found in the release's folders."""
    paths = [tree / "shared"] + sorted(p for p in (tree / "services").iterdir() if (p / "pyproject.toml").exists())
    pythonpath = os.pathsep.join(str(p) for p in paths)
    return {**base_env, "PYTHONPATH": pythonpath}
