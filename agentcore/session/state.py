"""Durable session state beside the history: metadata, control state, the
pending (cut-off) turn and transcript revisions.

Invariant: every change to this state is announced as a :data:`StateChange`
value to the session's state observers *synchronously*, before the method that
made it returns, so a store journals it before anything else can happen; a
change that fails validation raises and announces nothing. These are not
:class:`~agentcore.events.AgentEvent`\\ s: nothing here is shown to a person
as it happens (frontends read the values when they need them).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any, Protocol, SupportsIndex, TypeAlias, runtime_checkable

import attrs

from agentcore.errors import SessionError
from agentcore.messages import Message

# ----------------------------------------------------------------- metadata

MetadataValue: TypeAlias = str | int | float | bool | None
METADATA_KEY_MAX_CHARS = 128
METADATA_VALUE_MAX_CHARS = 4096  # a string value; numbers and booleans are small anyway
METADATA_MAX_KEYS = 256
_KEY = re.compile(r"[^\x00-\x1f\x7f]+")  # any printable text; no control characters


class MetadataError(SessionError, ValueError):
    """A metadata key or value that cannot be stored (type, size, count)."""


def check_metadata(key: Any, value: Any) -> None:
    """Raise :class:`MetadataError` unless ``key``/``value`` may be stored."""
    if not isinstance(key, str) or not key or not _KEY.fullmatch(key):
        raise MetadataError(f"metadata key {key!r} must be non-empty text without control characters")
    if len(key) > METADATA_KEY_MAX_CHARS:
        raise MetadataError(f"metadata key {key[:40]!r}… is {len(key)} characters; at most {METADATA_KEY_MAX_CHARS}")
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise MetadataError(f"metadata value for {key!r} must be a finite number, not {value!r}")
        return
    if isinstance(value, str):
        if len(value) > METADATA_VALUE_MAX_CHARS:
            raise MetadataError(
                f"metadata value for {key!r} is {len(value):,} characters; at most {METADATA_VALUE_MAX_CHARS:,}"
            )
        return
    raise MetadataError(
        f"metadata value for {key!r} must be a string, number, boolean or null, not {type(value).__name__}"
    )


def metadata_text(value: MetadataValue) -> str:
    """How a value is written on a command line (``--meta key=value``) and shown."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


# ------------------------------------------------------------ tool visibility

TOOL_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")  # no glob characters: a hidden name matches itself only


class ToolVisibilityError(SessionError, ValueError):
    """A tool name that cannot be hidden (not a plain tool name)."""


def check_tool_name(name: Any) -> str:
    if not isinstance(name, str) or not TOOL_NAME.fullmatch(name):
        raise ToolVisibilityError(f"{name!r} is not a tool name (letters, digits, '_', '-', '.'; at most 128)")
    return name


# ----------------------------------------------------------------- revisions


@attrs.frozen
class Revision:
    """One version of the transcript. A rewrite of history (compaction, a
    rollback, a fork that rewinds or edits) makes a new one whose ``parent`` is
    the revision it rewrote. The root revision of a session has ``parent=None``
    (or, for a fork, the source session's revision it was cut from)."""

    id: str
    parent: str | None
    reason: str  # "created", "compaction", "rollback", "fork", "rewind", "edit", ...
    actor: str  # "user", "agent", "system" or what an embedder names
    ts: float = 0.0
    detail: str = ""  # e.g. "12 messages summarised"


def revision_id(session_id: str, number: int) -> str:
    """Revision ids are ``<session id>.r<n>``: unique, stable across loads, ordered."""
    return f"{session_id}.r{number}"


def revision_number(revision: str) -> int:
    _, _, tail = revision.rpartition(".r")
    return int(tail) if tail.isdigit() else 0


class RevisionConflict(SessionError):
    """A rewrite named the revision it expected to rewrite, but another writer
    rewrote the transcript first (the caller's view of it is stale)."""

    def __init__(self, expected: str, current: str) -> None:
        super().__init__(
            f"the transcript changed since revision {expected}: it is at {current} now; "
            "look at it again and retry"
        )
        self.expected = expected
        self.current = current


# ------------------------------------------------------------- pending turn


@attrs.frozen
class InterruptedCall:
    """A tool call of a cut-off turn: started (``tool_started``) and never finished,
    or finished but its result was lost with the process."""

    call_id: str
    name: str
    command: str
    finished: bool = False


@attrs.frozen
class PendingTurn:
    """A turn the process died in: its complete messages (not in history until
    it is continued) and the tool calls that were cut off."""

    turn_id: str
    messages: tuple[Message, ...]
    interrupted_tools: tuple[InterruptedCall, ...] = ()


# ------------------------------------------------------------ state changes


@attrs.frozen
class MetadataChanged:
    key: str
    value: MetadataValue = None
    removed: bool = False


@attrs.frozen
class ContextSectionChanged:
    """A durable context section (joins the system prompt) was set, or removed (``text`` None)."""

    name: str
    text: str | None


@attrs.frozen
class OutcomesChanged:
    """The queue of background outcomes waiting for the next turn is now ``pending``."""

    pending: tuple[str, ...]


@attrs.frozen
class ToolVisibilityChanged:
    """The tools hidden at run time are now ``hidden``."""

    hidden: tuple[str, ...]


@attrs.frozen
class PendingTurnResolved:
    """The pending turn is continued (``run_pending``) or discarded."""

    turn_id: str
    continued: bool
    message_ids: tuple[str, ...] = ()
    interrupted_tools: tuple[InterruptedCall, ...] = ()


@attrs.frozen
class RevisionMade:
    """A rewrite announced before it happens (the rewrite event that follows carries it)."""

    revision: Revision


StateChange: TypeAlias = (
    MetadataChanged | ContextSectionChanged | OutcomesChanged | ToolVisibilityChanged | PendingTurnResolved | RevisionMade
)
StateListener = Callable[[StateChange], None]


@runtime_checkable
class StateObserver(Protocol):
    """A session observer that also records durable state changes (the journal)."""

    def on_state_change(self, session: Any, change: StateChange) -> None: ...


# ----------------------------------------------------------- outcome queue


class OutcomeQueue(list[str]):
    """``session.pending_outcomes``: a list that reports every change (satellites
    append to it, take it, and put outcomes back as they always did)."""

    def __init__(self, items: Iterable[str] = (), *, on_change: Callable[[tuple[str, ...]], None] | None = None) -> None:
        super().__init__(items)
        self.on_change = on_change

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(tuple(self))

    def append(self, item: str) -> None:
        super().append(item)
        self._changed()

    def extend(self, items: Iterable[str]) -> None:
        super().extend(items)
        self._changed()

    def insert(self, index: SupportsIndex, item: str) -> None:
        super().insert(index, item)
        self._changed()

    def pop(self, index: SupportsIndex = -1) -> str:
        item = super().pop(index)
        self._changed()
        return item

    def remove(self, item: str) -> None:
        super().remove(item)
        self._changed()

    def clear(self) -> None:
        super().clear()
        self._changed()

    def __setitem__(self, index: Any, value: Any) -> None:
        super().__setitem__(index, value)
        self._changed()

    def __delitem__(self, index: Any) -> None:
        super().__delitem__(index)
        self._changed()

    def __iadd__(self, items: Iterable[str]) -> OutcomeQueue:  # type: ignore[override]
        super().__iadd__(items)
        self._changed()
        return self


def interrupted_result_text(call: InterruptedCall | None, name: str) -> str:
    """What the model is told about a tool call whose result never arrived."""
    if call is None:
        return f"interrupted: {name} did not run (the agent process ended before it started)"
    if call.finished:
        return f"interrupted: {call.command} (it finished, but its result was lost when the agent process ended)"
    return (
        f"interrupted: {call.command} (the agent process ended while it ran; it may have done part of its "
        "work: check before running it again)"
    )
