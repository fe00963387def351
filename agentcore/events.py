"""Agent events and the emitter that fans them out.

A turn does its work and *emits* events; every frontend (ACP updates, the
terminal, the journal, telemetry) is a subscriber that projects them. Nothing
user-visible happens outside an event.

Two kinds of subscriber:

* **observers** (:meth:`EventEmitter.add_observer`) are synchronous callbacks
  run in emission order on the emitting task. Use them for cheap bookkeeping
  that must never lag (the journal, counters). They must not block.
* **streams** (:meth:`EventEmitter.subscribe`) get a bounded trio channel.
  When a stream's buffer is full, ``emit`` waits (backpressure) rather than
  dropping the event: a slow frontend slows the turn, it never loses output.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, runtime_checkable

import attrs
import trio

from agentcore.messages import Message, StopReason, Usage, freeze_json

if TYPE_CHECKING:
    from agentcore.tools.base import DiffPreview, Location, ToolKind, ToolResult

SUBSCRIBER_BUFFER = 1024  # events; deep enough for bursts of deltas, small enough to bound memory


@attrs.frozen
class PromptCommitted:
    turn_id: str
    message: Message


@attrs.frozen
class TurnStarted:
    turn_id: str


@attrs.frozen
class TurnEnded:
    turn_id: str
    stop_reason: StopReason
    usage: Usage


@attrs.frozen
class TurnAborted:
    """A fatal error ended the turn; history was rolled back to before it."""

    turn_id: str
    error: str
    error_type: str  # the exception class name, e.g. "AuthError"
    retryable: bool = False


@attrs.frozen
class MessageAppended:
    """A message entered history (the journal writes these)."""

    turn_id: str | None
    message: Message


@attrs.frozen
class HistoryRolledBack:
    """History was truncated back to ``length`` messages (turn rollback)."""

    turn_id: str
    length: int


@attrs.frozen
class AssistantTextDelta:
    turn_id: str
    text: str


@attrs.frozen
class ThoughtDelta:
    turn_id: str
    text: str


@attrs.frozen
class ToolCallStarted:
    turn_id: str
    call_id: str
    name: str
    title: str
    kind: ToolKind
    raw_input: Mapping[str, Any] = attrs.field(converter=freeze_json)
    locations: tuple[Location, ...] = ()
    diff: DiffPreview | None = None


@attrs.frozen
class ToolCallProgress:
    """A running (or backgrounded) tool call reports *new* output since its last
    report, or a terminal id; frontends accumulate. ``step`` says what the call
    is doing now (a sub-agent's current step) and replaces the previous one;
    None leaves it as it was."""

    turn_id: str
    call_id: str
    text: str = ""
    terminal_id: str | None = None
    step: str | None = None


@attrs.frozen
class ToolCallFinished:
    turn_id: str
    call_id: str
    name: str
    result: ToolResult
    duration_s: float = 0.0


@attrs.frozen
class PermissionRequested:
    """Frontends answer with ``session.permissions.resolve(request_id, option)``."""

    turn_id: str
    request_id: str
    call_id: str
    tool_name: str
    title: str
    kind: ToolKind
    subject: str | None
    raw_input: Mapping[str, Any] = attrs.field(converter=freeze_json)
    diff: DiffPreview | None = None
    # The rule "allow always" would add, e.g. "bash(git status *)" — shown to the user,
    # with what it admits in words ("git status with any arguments").
    always_rule: str = ""
    always_admits: str = ""


@attrs.frozen
class PermissionResolved:
    turn_id: str
    request_id: str
    call_id: str
    outcome: str  # a PermissionOption value or "cancelled"
    allowed: bool


@attrs.frozen
class LlmCallFinished:
    turn_id: str
    model: str
    usage: Usage
    cost_usd: float
    context_used: int
    context_window: int
    session_cost_usd: float


@attrs.frozen
class UsageCharged:
    """A model call outside the turn's own requests, charged to the session: a
    compaction summary, a sub-agent's whole run. Journaled like a turn's calls,
    so the session's usage and cost are the same after a resume."""

    turn_id: str | None
    source: str  # "compaction" | "sub-agent"
    model: str
    usage: Usage
    cost_usd: float


@attrs.frozen
class RetryScheduled:
    turn_id: str
    attempt: int
    max_attempts: int
    delay_s: float
    reason: str


@attrs.frozen
class ContextCompressed:
    """History was rewritten to save context. ``replaced_ids`` are the ids of the
    messages that ``replacement`` now stands for (the journal keeps the originals);
    for ``micro`` elision each replaced message has one same-position replacement."""

    turn_id: str | None
    tokens_before: int
    tokens_after: int
    messages_summarized: int
    duration_s: float
    summary: str = ""
    strategy: str = "summary"  # "micro", "summary", "drop"
    replaced_ids: tuple[str, ...] = ()
    replacement: tuple[Message, ...] = ()
    still_above_soft: bool = False


@attrs.frozen
class CompactionStarted:
    turn_id: str | None
    reason: str  # "soft", "hard", "manual", "overflow"


@attrs.frozen
class PlanEntry:
    content: str
    status: str = "pending"  # pending | in_progress | completed
    priority: str = "medium"  # high | medium | low


@attrs.frozen
class PlanUpdated:
    entries: tuple[PlanEntry, ...]


@attrs.frozen
class BackgroundTaskFinished:
    task_id: str
    label: str
    status: str
    outcome: str


@attrs.frozen
class ModeChanged:
    mode: str


@attrs.frozen
class ModelChanged:
    provider: str
    model: str


@attrs.frozen
class TitleChanged:
    title: str


@attrs.frozen
class Notice:
    """Something a person should see that is not model output (e.g. the echo banner)."""

    level: str  # "info" | "warning" | "error"
    text: str


@attrs.frozen
class SavingStopped:
    """The session is no longer being saved (a full disk, a read-only state
    directory): the conversation goes on, but what follows is not recorded.
    The journal keeps everything up to its last whole record and still loads."""

    reason: str


@attrs.frozen
class McpServerStatus:
    """An MCP server of the session changed state: ``starting``, ``ready`` (with its
    tool count), ``crashed`` (restarted on the next call) or ``failed`` (with the
    reason and the last lines of its stderr)."""

    server: str
    state: str  # agentcore.mcp.connection.ServerState value
    tool_count: int = 0
    error: str = ""
    stderr_tail: tuple[str, ...] = ()


AgentEvent: TypeAlias = (
    PromptCommitted
    | TurnStarted
    | TurnEnded
    | TurnAborted
    | MessageAppended
    | HistoryRolledBack
    | AssistantTextDelta
    | ThoughtDelta
    | ToolCallStarted
    | ToolCallProgress
    | ToolCallFinished
    | PermissionRequested
    | PermissionResolved
    | LlmCallFinished
    | UsageCharged
    | RetryScheduled
    | CompactionStarted
    | ContextCompressed
    | PlanUpdated
    | BackgroundTaskFinished
    | ModeChanged
    | ModelChanged
    | TitleChanged
    | Notice
    | McpServerStatus
    | SavingStopped
)

Observer = Callable[[AgentEvent], None]


@runtime_checkable
class EventEmitter(Protocol):
    async def emit(self, event: AgentEvent) -> None: ...

    def add_observer(self, observer: Observer) -> Callable[[], None]:
        """Register a synchronous observer; returns a function that removes it."""
        ...

    def subscribe(self, *, buffer: int = SUBSCRIBER_BUFFER, on_overflow: Callable[[], None] | None = None) -> Any:
        """``async with emitter.subscribe() as events: async for ev in events: ...``

        A full buffer makes the emitter wait for the subscriber (backpressure),
        unless ``on_overflow`` is given: then the subscription ends instead
        (its channel closes after what it holds) and ``on_overflow`` is called,
        so a slow subscriber never holds the session back."""
        ...


LOSSY_GRACE_YIELDS = 3  # scheduler turns a full lossy subscriber gets before it is dropped


class FanoutEmitter:
    """Default :class:`EventEmitter`: observers first, then every stream subscriber."""

    def __init__(self) -> None:
        self._observers: list[Observer] = []
        self._streams: list[trio.MemorySendChannel[AgentEvent]] = []
        self._on_overflow: dict[int, Callable[[], None]] = {}  # by id() of a lossy stream

    async def emit(self, event: AgentEvent) -> None:
        # Emitting is a cancellation point even with no stream subscribers, so a
        # cancelled turn stops at its next event instead of running on.
        await trio.lowlevel.checkpoint_if_cancelled()
        for observer in tuple(self._observers):
            observer(event)
        for send in tuple(self._streams):
            try:
                try:
                    send.send_nowait(event)  # the common case: room in the buffer, no task switch
                except trio.WouldBlock:
                    if id(send) in self._on_overflow:
                        await self._offer_lossy(send, event)
                        continue
                    await send.send(event)  # full: wait for the subscriber (backpressure)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                # The subscriber left; it no longer wants events.
                self._discard(send)

    async def _offer_lossy(self, send: trio.MemorySendChannel[AgentEvent], event: AgentEvent) -> None:
        """A lossy subscriber's buffer is full: give it a few turns of the scheduler
        to catch up (it may merely not have run yet), then let it go."""
        for _ in range(LOSSY_GRACE_YIELDS):
            await trio.sleep(0)
            try:
                send.send_nowait(event)
                return
            except trio.WouldBlock:
                continue
        overflow = self._on_overflow.pop(id(send), None)
        self._discard(send)
        send.close()
        if overflow is not None:  # it fell behind for real: it leaves, nobody waits
            overflow()

    def add_observer(self, observer: Observer) -> Callable[[], None]:
        self._observers.append(observer)

        def remove() -> None:
            if observer in self._observers:
                self._observers.remove(observer)

        return remove

    @asynccontextmanager
    async def subscribe(
        self, *, buffer: int = SUBSCRIBER_BUFFER, on_overflow: Callable[[], None] | None = None
    ) -> AsyncIterator[trio.MemoryReceiveChannel[AgentEvent]]:
        send, receive = trio.open_memory_channel[AgentEvent](buffer if buffer > 0 else math.inf)
        self._streams.append(send)
        if on_overflow is not None:
            self._on_overflow[id(send)] = on_overflow
        try:
            async with receive:
                yield receive
        finally:
            self._on_overflow.pop(id(send), None)
            self._discard(send)
            send.close()

    def _discard(self, send: trio.MemorySendChannel[AgentEvent]) -> None:
        if send in self._streams:
            self._streams.remove(send)

    @property
    def subscriber_count(self) -> int:
        return len(self._streams) + len(self._observers)
