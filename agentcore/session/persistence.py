"""What persists a session and brings it back: the loader and observer traits,
the snapshot a loader returns, and an in-memory store for embedders and tests.

The journal on disk (:mod:`agentcore.store`) implements both traits.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

import attrs
import trio

from agentcore.errors import SessionError
from agentcore.events import AgentEvent, PlanEntry, TurnAborted, TurnEnded
from agentcore.history import History
from agentcore.messages import Message, Usage
from agentcore.permissions import PermissionMode
from agentcore.session.base import SessionCreateInfo, SessionPolicy
from agentcore.session.state import MetadataValue, PendingTurn, Revision


@attrs.frozen
class SessionSnapshot:
    """What a :class:`SessionLoader` restores."""

    id: str
    cwd: Path
    messages: tuple[Message, ...]
    mode: PermissionMode | None = None
    provider: str | None = None
    model: str | None = None
    title: str | None = None
    plan: tuple[PlanEntry, ...] = ()
    usage: Usage = Usage()
    cost_usd: float = 0.0
    profile: str | None = None
    updated: float = 0.0
    # Token counts per message when the store recorded them (None: count again).
    token_counts: tuple[int | None, ...] | None = attrs.field(default=None, eq=False, repr=False)
    # A ready history to share copy-on-write (a fork of a live session): when
    # set, the core opens the session on ``history.fork()`` (O(1), no token
    # recount) instead of copying ``messages``, which must hold the same list.
    history: History | None = attrs.field(default=None, eq=False, repr=False)
    # Durable state beside the history (agentcore.session.state):
    metadata: Mapping[str, MetadataValue] = attrs.field(factory=dict)
    context_sections: Mapping[str, str] = attrs.field(factory=dict)  # durable ones only, by name
    pending_outcomes: tuple[str, ...] = ()  # background outcomes the next turn receives
    hidden_tools: tuple[str, ...] = ()  # tools hidden at run time
    pending_turn: PendingTurn | None = None  # a turn the process died in: continue or discard it
    revisions: tuple[Revision, ...] = ()  # the transcript's revisions, oldest first (empty: not tracked)


@attrs.frozen
class SessionSummary:
    id: str
    cwd: Path
    title: str | None
    updated: float
    message_count: int
    cost_usd: float = 0.0
    metadata: Mapping[str, MetadataValue] = attrs.field(factory=dict)


class SessionNotFound(SessionError, LookupError):
    pass


@runtime_checkable
class SessionLoader(Protocol):
    def load(self, session_id: str) -> SessionSnapshot: ...

    def list_sessions(self, *, cwd: Path | None = None) -> list[SessionSummary]: ...

    def delete(self, session_id: str) -> None: ...


class ObservedSession(Protocol):
    """What an observer (a store) reads from the session it records."""

    info: SessionCreateInfo  # its MCP servers are recorded by name
    policy: SessionPolicy  # the profile is recorded
    provider_name: str
    plan: tuple[PlanEntry, ...]
    usage: Usage
    cost_usd: float

    @property
    def id(self) -> str: ...

    @property
    def metadata(self) -> Mapping[str, MetadataValue]: ...

    @property
    def revision(self) -> Revision: ...

    @property
    def durable_context_sections(self) -> Mapping[str, str]: ...

    @property
    def hidden_tools(self) -> tuple[str, ...]: ...

    @property
    def pending_outcomes(self) -> list[str]: ...

    @property
    def cwd(self) -> Path: ...

    @property
    def history(self) -> History: ...

    @property
    def mode(self) -> PermissionMode: ...

    @property
    def model(self) -> str: ...

    @property
    def title(self) -> str | None: ...

    def report_not_saving(self, reason: str, *, opening: bool) -> None:
        """A store could not record the session: tell its frontends (a start-up
        notice when ``opening``, else a :class:`SavingStopped` event)."""
        ...

    def report_on_open(self, level: str, text: str) -> None:
        """Something the store found while opening the session that its user
        should see (a start-up notice), e.g. a tool the last run left half-done."""
        ...


@runtime_checkable
class SessionObserver(Protocol):
    """Sees every session the core opens: ``session_opened`` is called before
    the first event; ``on_event`` synchronously for every event; ``session_closed`` last."""

    def session_opened(self, session: ObservedSession) -> None: ...

    def on_event(self, session: ObservedSession, event: AgentEvent) -> None: ...

    def session_closed(self, session: ObservedSession) -> None: ...


class MemorySessionStore:
    """Keeps sessions in memory (observer + loader) for embedders and tests that
    need ``load`` without a disk; the journal store replaces it in the CLI."""

    def __init__(self) -> None:
        self._snapshots: dict[str, SessionSnapshot] = {}

    def session_opened(self, session: ObservedSession) -> None:
        self._save(session)

    def on_event(self, session: ObservedSession, event: AgentEvent) -> None:
        if isinstance(event, TurnEnded | TurnAborted):
            self._save(session)

    def on_state_change(self, session: ObservedSession, change: object) -> None:
        self._save(session)  # metadata and control state are durable here too

    def session_closed(self, session: ObservedSession) -> None:
        self._save(session)

    def _save(self, session: ObservedSession) -> None:
        self._snapshots[session.id] = SessionSnapshot(
            id=session.id,
            cwd=session.cwd,
            messages=session.history.snapshot(),
            mode=session.mode,
            provider=session.provider_name,
            model=session.model,
            title=session.title,
            plan=session.plan,
            usage=session.usage,
            cost_usd=session.cost_usd,
            profile=session.policy.profile,
            updated=trio.current_time() if _in_trio() else 0.0,
            metadata=dict(session.metadata),
            context_sections=dict(session.durable_context_sections),
            pending_outcomes=tuple(session.pending_outcomes),
            hidden_tools=session.hidden_tools,
            revisions=(session.revision,),
        )

    def load(self, session_id: str) -> SessionSnapshot:
        try:
            return self._snapshots[session_id]
        except KeyError:
            raise SessionNotFound(f"no session with id {session_id!r}") from None

    def list_sessions(self, *, cwd: Path | None = None) -> list[SessionSummary]:
        rows = [
            SessionSummary(s.id, s.cwd, s.title, s.updated, len(s.messages), s.cost_usd, s.metadata)
            for s in self._snapshots.values()
            if cwd is None or s.cwd == cwd.resolve()
        ]
        return sorted(rows, key=lambda r: r.updated, reverse=True)

    def delete(self, session_id: str) -> None:
        if self._snapshots.pop(session_id, None) is None:
            raise SessionNotFound(f"no session with id {session_id!r}")


def _in_trio() -> bool:
    try:
        trio.lowlevel.current_task()
    except RuntimeError:
        return False
    return True
