"""Rewind, diff and edit as the frontends ask for them: on a live session (chat,
ACP) or a stored one (``agent rewind``).

Invariant: a restore writes no path a deny rule covers (the session's own gate,
or for a stored session a gate built from the same configuration) and no
protected path (the agent's and git's configuration, shell start-up files);
those are reported as kept. The conversation is only ever forked, through the
journal store's fork functions.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trio

from agentcore.checkpoints.records import TurnRow
from agentcore.checkpoints.rewind import (
    Checkpoints,
    EditedFork,
    FileDiff,
    RewindError,
    RewindResult,
    RewindScope,
    checkpoints_dir,
    edit_fork,
    rewind_fork,
)
from agentcore.messages import Message, UserMessage
from agentcore.permissions import DefaultPermissionGate, PermissionGate
from agentcore.protected_paths import ProtectedPaths
from agentcore.tools.workspace import Workspace

Refuse = Callable[[Path], str | None]


def refuse_for(gate: PermissionGate, protected: ProtectedPaths, workspace: Workspace) -> Refuse:
    def refuse(path: Path) -> str | None:
        denied = gate.path_denied(path, workspace=workspace)
        if denied is not None:
            return denied
        reason = protected.reason(path, workspace)
        return f"protected: {reason}" if reason is not None else None

    return refuse


class LiveRewind:
    """Checkpoint operations on an open session (``core`` is the session's ``AgentCore``)."""

    def __init__(self, core: Any, session: Any) -> None:
        self.core = core
        self.session = session
        self.checkpoints = Checkpoints(checkpoints_dir(core.loader, core.state_dir, session.id), session.cwd)
        self.refuse = refuse_for(session.permissions, core.protected, session.workspace)

    def _messages(self) -> list[Message]:
        return list(self.session.history)

    def turns(self) -> list[TurnRow]:
        return self.checkpoints.turns(self._messages())

    async def rewind(self, number: int, scope: RewindScope, *, force: bool = False) -> RewindResult:
        """Fork (on the event loop: the store is not shared with threads), then restore
        files in a worker thread (git and file writes must not stall other sessions)."""
        if self.session.turn_running:
            raise RewindError("a turn is running; cancel it or wait before rewinding")
        messages = self._messages()
        row = self.checkpoints.turn(messages, number)
        new_id = None
        if scope.conversation:
            new_id = rewind_fork(_forks(self.core), live=self.session, session_id=self.session.id, row=row)
        report = None
        if scope.code:
            restore = functools.partial(self.checkpoints.restore_code, messages, number, refuse=self.refuse, force=force)
            report = await trio.to_thread.run_sync(restore)
        return RewindResult(row, report, new_id)

    def edit(self, number: int, prompt: UserMessage | str) -> EditedFork:
        if self.session.turn_running:
            raise RewindError("a turn is running; cancel it or wait before editing")
        row = self.checkpoints.turn(self._messages(), number)
        return edit_fork(_forks(self.core), live=self.session, session_id=self.session.id, row=row, prompt=prompt)

    async def diff(self) -> list[FileDiff]:
        return await trio.to_thread.run_sync(functools.partial(self.checkpoints.diff, refuse=self.refuse))


class StoredRewind:
    """Checkpoint operations on a saved session that is not open (``agent rewind``)."""

    def __init__(self, core: Any, store: Any, session_id: str) -> None:
        self.core = core
        self.store = store
        self.session_id = session_id
        stored = store.open_read_only(session_id)
        self.snapshot = stored.snapshot
        self.messages = list(stored.snapshot.messages)
        cwd = Path(stored.snapshot.cwd)
        self.checkpoints = Checkpoints(checkpoints_dir(store, core.state_dir, session_id), cwd)
        policy = core.policy_resolver(stored.snapshot.profile, cwd)
        gate = DefaultPermissionGate(rules=policy.rules, protected=core.protected)
        self.refuse = refuse_for(gate, core.protected, Workspace(cwd))

    def turns(self) -> list[TurnRow]:
        return self.checkpoints.turns(self.messages)

    def rewind(self, number: int, scope: RewindScope, *, force: bool = False) -> RewindResult:
        row = self.checkpoints.turn(self.messages, number)
        new_id = rewind_fork(self.store, live=None, session_id=self.session_id, row=row) if scope.conversation else None
        report = self.checkpoints.restore_code(self.messages, number, refuse=self.refuse, force=force) if scope.code else None
        return RewindResult(row, report, new_id)

    def edit(self, number: int, prompt: UserMessage | str) -> EditedFork:
        row = self.checkpoints.turn(self.messages, number)
        return edit_fork(self.store, live=None, session_id=self.session_id, row=row, prompt=prompt)

    def diff(self) -> list[FileDiff]:
        return self.checkpoints.diff(refuse=self.refuse)


def _forks(core: Any) -> Any:
    loader = getattr(core, "loader", None)
    if loader is None or not hasattr(loader, "fork_live"):
        raise RewindError("no session store: the conversation cannot be forked")
    return loader


def result_to_json(result: RewindResult) -> dict[str, Any]:
    """The wire shape of a rewind (``agent rewind --json``, the ACP extension)."""
    report = result.report
    return {
        "turn": turn_to_json(result.turn),
        "sessionId": result.session_id,
        "restored": list(report.restored) if report else [],
        "deleted": list(report.deleted) if report else [],
        "kept": [{"path": p, "reason": r} for p, r in report.kept] if report else [],
    }


def turn_to_json(row: TurnRow) -> dict[str, Any]:
    return {"turn": row.number, "prompt": row.prompt, "files": list(row.files), "messageIndex": row.message_index}
