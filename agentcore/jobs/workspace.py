"""A job's workspace on one worker: a fresh clone of the job's repository plus the
session's recorded file changes replayed from its checkpoints.

Invariants:

* git runs hermetically for the clone (no system or global configuration, hooks
  off, no ``ext::`` transport, never a terminal prompt): cloning a repository
  cannot make this worker run a program.
* Replay writes only the paths the session's own tool calls changed, each to
  the state the session last left it in, through the checkpoint restore code
  (no ``..``/``.git`` paths, symlinks never followed), and never a path the
  job's deny rules cover or a protected path (the caller's ``refuse``). A path whose fresh clone
  differs from what the session saw before its first change is kept as cloned
  and reported, never overwritten: the repository moved on.
* The records and their bytes come from the session's local checkpoint log and
  private git store when this machine has them, else from the session
  store's copy (PostgreSQL: ``shared``), which holds the same records with the
  bytes of each changed file's last state.
* Limits (docs/scale.md): only what the checkpointer recorded comes back —
  files changed by tool calls, up to its size cap; untracked build artefacts,
  processes and anything outside the workspace do not.

Everything here is synchronous; callers run it in a worker thread.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from agentcore.checkpoints.gitstore import PrivateGitStore
from agentcore.checkpoints.records import CallRecord, CheckpointLog
from agentcore.checkpoints.restore import PathPlan, RestoreReport, restore
from agentcore.jobs.errors import WorkspaceError

CLONE_TIMEOUT_S = 600.0  # one clone of the job's repository
_JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
Refuse = Callable[[Path], "str | None"]
_HERMETIC_GIT = ("-c", "core.hooksPath=/dev/null", "-c", "protocol.ext.allow=never", "-c", "core.fsmonitor=false")


class SharedCheckpoints(Protocol):
    """A session's checkpoints in the session store (another machine wrote them)."""

    def records(self) -> list[CallRecord]: ...

    def read_blobs(self, shas: Iterable[str]) -> dict[str, bytes]: ...


class _SharedBlobs:
    """What :func:`~agentcore.checkpoints.restore.restore` reads: the workspace and blobs."""

    def __init__(self, shared: SharedCheckpoints, workspace: Path) -> None:
        self.workspace = workspace
        self.read_blobs = shared.read_blobs


def workspace_path(root: Path, job_id: str) -> Path:
    if not _JOB_ID.match(job_id):
        raise WorkspaceError(f"bad job id {job_id!r}: letters, digits, '.', '_' and '-' only")
    return Path(root) / job_id


def _git_env() -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": "/nonexistent",
        "LANG": "C",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "/bin/false",
        "GIT_SSH_COMMAND": "ssh -o BatchMode=yes",
    }


def clone(repo: str, dest: Path) -> None:
    """A fresh clone of ``repo`` (a local path or a git URL) at ``dest`` (replaced if present)."""
    if repo.startswith("-"):
        raise WorkspaceError(f"bad repository {repo!r}")
    source = str(Path(repo).resolve()) if Path(repo).exists() else repo
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    git = shutil.which("git")
    if git is None:
        raise WorkspaceError("git is not installed on this worker")
    try:
        subprocess.run(
            [git, *_HERMETIC_GIT, "clone", "--quiet", "--no-hardlinks", "--", source, str(dest)],
            env=_git_env(), stdin=subprocess.DEVNULL, capture_output=True, timeout=CLONE_TIMEOUT_S, check=True,
        )  # fmt: skip
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.decode(errors="replace").strip().splitlines()
        raise WorkspaceError(f"cannot clone {repo}: {detail[-1] if detail else f'git exited {exc.returncode}'}") from None
    except subprocess.TimeoutExpired:
        raise WorkspaceError(f"cloning {repo} took longer than {CLONE_TIMEOUT_S:g}s") from None


def replay(
    checkpoints: Path, workspace: Path, refuse: Refuse | None = None, shared: SharedCheckpoints | None = None
) -> RestoreReport:
    """Put back every file the session's tool calls changed, as the session left it;
    ``refuse`` (deny rules, protected paths) keeps a path as cloned, reported.
    Without a local checkpoint log, the records and bytes come from ``shared``."""
    records = CheckpointLog(checkpoints).read()
    source: object = None
    if not records and shared is not None:
        records, source = shared.records(), _SharedBlobs(shared, workspace)
    if not records:
        return RestoreReport()
    first: dict[str, object] = {}
    last: dict[str, object] = {}
    for rec in records:
        for change in rec.changes:
            first.setdefault(change.path, change.before)
            last[change.path] = change.after
    # restore() writes ``target`` where the file is still ``last``: here the target is
    # what the session left and "last" is what it found, i.e. what a fresh clone has.
    plans = [PathPlan(path, last[path], first[path]) for path in first]  # type: ignore[arg-type]
    store = source if source is not None else PrivateGitStore(checkpoints, workspace)
    return restore(store, plans, refuse=refuse)  # type: ignore[arg-type]  # the two read the same way
