"""When to snapshot: around every tool call that may change files.

Invariant: before a call that is not read-only runs, the files it may touch are
in the private store as they are *now*; after it ran, they are stored again and
the difference is appended to the checkpoint log under the call's turn and
prompt. A built-in file tool (``write_file``, ``edit_file``: an edit or delete
kind with a path subject inside the workspace) costs one path; anything the
checkpointer cannot see into (the shell, MCP tools, a move) costs a workspace
scan, which the private index makes a stat per unchanged file. Paths a deny
rule covers are never stored. A checkpoint that fails (no git, a full disk) is
logged and the call runs anyway: checkpoints never block work.

With a ``mirror`` (the PostgreSQL store's copy), each record and the bytes of
its *after* states are also saved there, in a worker thread, after the local
log: only changes to paths ``refuse`` allows, so a denied path's name or bytes
never leave the machine. A mirror that fails is the same logged ``problem``.

The first scan of a store hashes every file (~200 ms for 5,000 files); later
scans cost a stat per file. So the session's first prompt starts that scan at
once, in a worker thread from a task in the session's nursery, while the model
thinks: a call that changes files waits for it (the same lock), and finds the
store warm. Closing the session kills a scan still running and waits until
nothing touches the store.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

import attrs
import trio

from agentcore.checkpoints.gitstore import (
    CheckpointError,
    PrivateGitStore,
    Snapshot,
    TooManyFiles,
    safe_relative,
)
from agentcore.checkpoints.records import CallRecord, CheckpointLog, first_line, now
from agentcore.events import AgentEvent, PromptCommitted
from agentcore.permissions import PermissionCheck
from agentcore.tools.base import ToolKind

log = logging.getLogger(__name__)

_ONE_PATH_KINDS = frozenset({ToolKind.EDIT, ToolKind.DELETE})  # the subject is the only file touched
# The warm-up hashes at most this many files new to the store (a project, not a home
# directory): a chat that never changes a file must not read a whole disk in the background.
WARM_MAX_NEW_FILES = 20_000


class CheckpointMirror(Protocol):
    """Where a copy of each record goes (synchronous: called in a worker thread)."""

    def save(self, record: CallRecord, contents: Mapping[str, bytes]) -> None: ...


class TurnCheckpointer:
    """A session's :class:`~agentcore.turn.tool_calls.ToolCallWatcher` (wired by the core).

    ``refuse(path)`` says why a path must not be stored (a deny rule); None when it may."""

    def __init__(
        self,
        directory: Path,
        cwd: Path,
        *,
        refuse: Callable[[Path], str | None] | None = None,
        start_soon: Callable[..., object] | None = None,
        mirror: CheckpointMirror | None = None,
        warm_max_new: int = WARM_MAX_NEW_FILES,
    ) -> None:
        self.cwd = Path(cwd).resolve()
        self._start_soon = start_soon  # the session's nursery: the warm-up lives no longer than the session
        self._warm_max_new = warm_max_new
        self.store = PrivateGitStore(directory, self.cwd)
        self.log = CheckpointLog(directory)
        self._refuse = refuse
        self._mirror = mirror
        # (prompt id, first line) of the latest prompt: a sub-agent's calls count for its parent's turn.
        self._prompt: tuple[str | None, str] = (None, "")
        self._before: dict[str, tuple[Snapshot, list[str] | None]] = {}  # call id -> before, paths
        self._lock = trio.Lock()
        self.problem: str | None = None  # why checkpoints stopped working, if they did
        self._scans = True  # off once a scan found the folder too big: every call would pay for the walk
        self._warming: trio.Event | None = None  # set once the first prompt's warm-up scan is over

    def observe(self, event: AgentEvent) -> None:
        """Event observer: remembers each turn's prompt (checkpoints are listed by it)
        and, at the session's first prompt, starts warming the store."""
        if isinstance(event, PromptCommitted):
            self._prompt = (event.message.id, first_line(event.message.text))
            if self._warming is None:
                self._warming = trio.Event()
                if self._start_soon is None:  # nowhere to run it: the first call scans cold
                    self._warming.set()
                else:
                    self._start_soon(self._warm)

    async def _warm(self) -> None:
        """Scan the workspace once so the first call that changes files pays a warm scan.
        Never raises (it runs in the session's nursery): a failure is the same
        logged ``problem`` any scan reports."""
        assert self._warming is not None
        try:
            async with self._lock:
                if self._scans:
                    scan = functools.partial(self.store.snapshot_workspace, self._refused, max_new=self._warm_max_new)
                    await trio.to_thread.run_sync(scan)
        except TooManyFiles:
            pass  # a big folder is not hashed in the background; the first call that changes files scans it
        except (CheckpointError, OSError) as exc:
            self._failed(exc)
        except Exception as exc:  # a bug here must not end the run (Cancelled passes: the run is ending)
            log.exception("checkpoint warm-up failed")
            self._failed(exc)
        finally:
            self._warming.set()

    async def warmed(self) -> None:
        """Return once the first prompt's warm-up scan is over (at once if none started)."""
        if self._warming is not None:
            await self._warming.wait()

    async def aclose(self) -> None:
        """At session close: stop a scan still running (its git is killed, so closing
        never waits for a big first scan) and return once nothing touches the store
        any more — the session's directory may be deleted right after."""
        self.store.close()
        await self.warmed()
        async with self._lock:  # a before/after snapshot of a call that was cut off
            pass

    async def before_change(self, turn_id: str, check: PermissionCheck) -> None:
        paths = self._paths(check)
        async with self._lock:
            snap = await self._snapshot(paths)
            if snap is not None:
                self._before[check.call_id] = (snap, paths)

    async def after_change(self, turn_id: str, check: PermissionCheck) -> None:
        async with self._lock:
            before = self._before.pop(check.call_id, None)
            if before is None:
                return
            snap, paths = before
            after = await self._snapshot(paths)
            if after is None:
                return
            try:
                changes = await trio.to_thread.run_sync(self.store.changes, snap.tree, after.tree)
            except CheckpointError as exc:
                self._failed(exc)
                return
            if not changes:
                return
            prompt_id, prompt = self._prompt
            record = CallRecord(
                turn_id, prompt_id, prompt, check.tool_name, now(), tuple(changes),
                tuple(sorted(set(snap.skipped) | set(after.skipped))),
            )
            try:
                self.log.append(record)
            except OSError as exc:
                self._failed(exc)
            if self._mirror is not None:
                await self._save_copy(record)

    async def _save_copy(self, record: CallRecord) -> None:
        """The record and its after states' bytes to the mirror; refused paths left out."""
        changes = tuple(c for c in record.changes if safe_relative(c.path) and not self._refused(c.path))
        if not changes:
            return
        copy = attrs.evolve(record, changes=changes, skipped=tuple(p for p in record.skipped if not self._refused(p)))
        mirror = self._mirror
        assert mirror is not None

        def save() -> None:
            mirror.save(copy, self.store.read_blobs(c.after.sha for c in changes if c.after.sha is not None))

        try:
            await trio.to_thread.run_sync(save)
        except Exception as exc:  # noqa: BLE001 - a database error of any kind: logged, the call goes on
            self._failed(exc)

    def _paths(self, check: PermissionCheck) -> list[str] | None:
        """The workspace-relative paths the call may touch; None: it may touch anything."""
        if check.shell or check.description.kind not in _ONE_PATH_KINDS or not check.subject:
            return None
        subject = Path(check.subject)
        path = subject if subject.is_absolute() else check.workspace.cwd / subject
        try:
            rel = path.resolve().relative_to(self.cwd)
        except ValueError:
            return []  # outside the workspace's main folder: not checkpointed
        return [rel.as_posix()]

    async def _snapshot(self, paths: list[str] | None) -> Snapshot | None:
        if paths is not None:
            paths = [p for p in paths if not self._refused(p)]
            if not paths:
                return None
        if paths is None and not self._scans:
            return None
        try:
            if paths is None:
                return await trio.to_thread.run_sync(self.store.snapshot_workspace, self._refused)
            return await trio.to_thread.run_sync(self.store.snapshot_paths, paths)
        except TooManyFiles as exc:
            self._scans = False
            self._failed(exc)
            return None
        except (CheckpointError, OSError) as exc:
            self._failed(exc)
            return None

    def _refused(self, rel: str) -> bool:
        return self._refuse is not None and self._refuse(self.cwd / rel) is not None

    def _failed(self, exc: Exception) -> None:
        if self.store.closed:
            return  # the session is closing: a scan it cut short is not a problem to report
        if self.problem is None:
            log.warning("checkpoints are not working in %s: %s", self.cwd, exc)
        self.problem = str(exc)
