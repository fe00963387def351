"""Putting files back as they were before a turn.

Invariants:

* Only paths the session's own tool calls changed (from that turn on) are
  considered; every other file is never opened for writing.
* A path is restored only when it is still exactly as the session last left it.
  If someone else changed it since (the user, another program), it is kept and
  reported ("changed since"), unless ``force``: their edit survives a rewind.
  A file already in its old state is left alone.
* Restored files get their old bytes exactly, the executable bit as it was (other
  permission bits of a file still there are kept), symlinks as links; files the
  session created are deleted (directories are never removed).
* Writes never follow a symlink: every parent directory is opened with
  ``O_NOFOLLOW`` from the workspace root, and a file is written to a fresh
  temporary name in its directory and renamed over the old entry (a link there
  is replaced, never written through). Paths with ``..`` or ``.git`` parts, paths
  a deny rule covers and protected paths (``refuse``) are never written.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import attrs

from agentcore.checkpoints.gitstore import (
    CheckpointError,
    ABSENT,
    MODE_EXEC,
    MODE_LINK,
    FileState,
    PrivateGitStore,
    current_state,
    safe_relative,
)
from agentcore.checkpoints.records import CallRecord

NEW_FILE_MODE = 0o644
NEW_EXEC_MODE = 0o755


@attrs.frozen
class PathPlan:
    path: str
    target: FileState  # before the first call that changed it (from the rewind point on)
    last: FileState  # after the last call that changed it: what the session left


@attrs.frozen
class RestoreReport:
    restored: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    kept: tuple[tuple[str, str], ...] = ()  # (path, why it was not restored)

    @property
    def changed(self) -> tuple[str, ...]:
        return self.restored + self.deleted


def plan_paths(records: Iterable[CallRecord]) -> list[PathPlan]:
    """Per path: its state before the first of ``records`` that changed it and after the last."""
    first: dict[str, FileState] = {}
    last: dict[str, FileState] = {}
    for rec in records:
        for change in rec.changes:
            first.setdefault(change.path, change.before)
            last[change.path] = change.after
    return [PathPlan(p, first[p], last[p]) for p in first]


def restore(
    store: PrivateGitStore,
    plans: Sequence[PathPlan],
    *,
    refuse: Callable[[Path], str | None] | None = None,
    force: bool = False,
) -> RestoreReport:
    root = store.workspace
    restored: list[str] = []
    deleted: list[str] = []
    kept: list[tuple[str, str]] = []
    todo: list[PathPlan] = []
    for plan in plans:
        if not safe_relative(plan.path):
            kept.append((plan.path, "not a path inside the workspace"))
            continue
        reason = refuse(root / plan.path) if refuse is not None else None
        if reason is not None:
            kept.append((plan.path, reason))
            continue
        now = current_state(root, plan.path)
        if now == plan.target:
            continue
        if now != plan.last and not force:
            kept.append((plan.path, "changed since the session last wrote it"))
            continue
        todo.append(plan)
    blobs = store.read_blobs(p.target.sha for p in todo if p.target.sha is not None)
    for plan in todo:
        try:
            if plan.target.exists:
                _write(root, plan.path, plan.target, blobs[plan.target.sha or ""])
                restored.append(plan.path)
            else:
                _delete(root, plan.path)
                deleted.append(plan.path)
        except (OSError, _Refused) as exc:
            kept.append((plan.path, str(exc) if isinstance(exc, _Refused) else f"cannot write: {exc.strerror or exc}"))
    return RestoreReport(tuple(restored), tuple(deleted), tuple(kept))


class _Refused(CheckpointError):
    pass


def _open_parent(root: Path, rel: str, *, create: bool) -> tuple[int, str]:
    """A directory fd for ``rel``'s parent, reached without following links, and the name."""
    *dirs, name = rel.split("/")
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in dirs:
            try:
                nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                os.mkdir(part, 0o755, dir_fd=fd)
                nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except (NotADirectoryError, OSError) as exc:
                raise _Refused(f"{part} on the way to it is not a plain directory (a symlink?)") from exc
            os.close(fd)
            fd = nxt
    except BaseException:
        os.close(fd)
        raise
    return fd, name


def _entry(fd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _write(root: Path, rel: str, target: FileState, data: bytes) -> None:
    fd, name = _open_parent(root, rel, create=True)
    try:
        old = _entry(fd, name)
        if old is not None and stat.S_ISDIR(old.st_mode):
            raise _Refused("a directory stands there now")
        tmp = f".{name}.restore-{secrets.token_hex(4)}"
        if target.mode == MODE_LINK:
            os.symlink(os.fsdecode(data), tmp, dir_fd=fd)
        else:
            mode = NEW_EXEC_MODE if target.mode == MODE_EXEC else NEW_FILE_MODE
            if old is not None and stat.S_ISREG(old.st_mode):
                keep = stat.S_IMODE(old.st_mode) & ~0o111
                mode = keep | ((keep & 0o444) >> 2 if target.mode == MODE_EXEC else 0)
            out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=fd)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(out, view):]
                os.fchmod(out, mode)
            finally:
                os.close(out)
        try:
            os.rename(tmp, name, src_dir_fd=fd, dst_dir_fd=fd)
        except BaseException:
            os.unlink(tmp, dir_fd=fd)
            raise
    finally:
        os.close(fd)


def _delete(root: Path, rel: str) -> None:
    try:
        fd, name = _open_parent(root, rel, create=False)
    except FileNotFoundError:
        return
    try:
        old = _entry(fd, name)
        if old is None:
            return
        if stat.S_ISDIR(old.st_mode):
            raise _Refused("a directory stands there now")
        os.unlink(name, dir_fd=fd)
    finally:
        os.close(fd)


def state_matches(root: Path, plan: PathPlan) -> bool:
    """Whether the file is still what the session left (for listings)."""
    return current_state(root, plan.path) == plan.last


__all__ = ["ABSENT", "PathPlan", "RestoreReport", "plan_paths", "restore"]
