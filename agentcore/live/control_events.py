"""The control plane's events: one typed vocabulary for the reactor and the callbacks.

Every event the conversation raises is one of these frozen values, and each
goes to both places: the reactor's rules (:mod:`agentcore.live.reactions`,
matched by type) and the typed callback registry
(:mod:`agentcore.live.callbacks`, keyed by type). The
:data:`~agentcore.live.flow.LiveUpdate` values (transcript, state, notice)
keep going to the plain listeners unchanged and to the registry too; these
events go only to the registry and the reactor, so a listener written for
the three updates never sees a kind it does not know.

Invariant: each event is a frozen value that holds no secret and no live
object (no session, no backend), so a queued callback may keep it.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import attrs

from agentcore.live.phases import PhaseTransition
from agentcore.live.transcript import TranscriptTurn


@attrs.frozen
class UserTurn:
    """The user finished speaking (a final transcript) or typed a turn."""

    text: str
    turn: int  # 1 for the first user turn of the session


@attrs.frozen
class Interruption:
    """The user spoke over the assistant (barge-in)."""


@attrs.frozen
class ToolCall:
    name: str
    call_id: str


@attrs.frozen
class ToolSuccess:
    name: str
    call_id: str


@attrs.frozen
class ToolFailure:
    name: str
    call_id: str
    error: str


@attrs.frozen
class Silence:
    """Raised every controller tick while the conversation is idle."""

    seconds: float


@attrs.frozen
class PhaseChanged:
    """The phase changed: from, to, why (``trigger``: ``guard``, ``request``,
    ``handle``, ``rule:<name>``) and when (trio clock seconds)."""

    source: str
    target: str
    trigger: str = "request"
    at: float = 0.0

    @classmethod
    def of(cls, transition: PhaseTransition) -> PhaseChanged:
        return cls(transition.source, transition.target, transition.trigger, transition.at)

    @property
    def transition(self) -> PhaseTransition:
        return PhaseTransition(self.source, self.target, self.trigger, self.at)


@attrs.frozen
class StateChanged:
    key: str
    old: Any
    new: Any


@attrs.frozen
class TurnCompleted:
    """An answer finished with no tool calls left to run: one turn of the conversation."""

    index: int  # 1-based count of completed turns in this controller
    response_id: str
    status: str  # "completed" | "cancelled" | "incomplete" | "failed"
    phase: str | None
    turn: TranscriptTurn = attrs.field(factory=TranscriptTurn)


@attrs.frozen
class ExtractionCompleted:
    """An extraction ran; ``values`` are the fields it changed in state."""

    extractor: str
    turn_index: int
    values: dict[str, Any] = attrs.field(factory=dict)
    promoted: tuple[str, ...] = ()  # metadata keys set
    duration_ms: float = 0.0
    rejected: tuple[str, ...] = ()  # fields whose value had the wrong type (or was refused as metadata)


@attrs.frozen
class ExtractionFailed:
    """An extraction produced nothing usable: bad JSON, a provider error, a timeout."""

    extractor: str
    turn_index: int
    reason: str  # "timeout" | "provider" | "invalid" | "metadata"
    message: str = ""
    duration_ms: float = 0.0


@attrs.frozen
class AgentFinished:
    """A background agent started by a ``DispatchAgent`` effect answered (``result``)
    or failed (``result`` is None, ``error`` says why)."""

    task: str
    result: str | None
    error: str = ""


ControlEvent: TypeAlias = (
    UserTurn
    | Interruption
    | ToolCall
    | ToolSuccess
    | ToolFailure
    | Silence
    | PhaseChanged
    | StateChanged
    | TurnCompleted
    | ExtractionCompleted
    | ExtractionFailed
    | AgentFinished
)
EVENT_TYPES: tuple[type, ...] = (
    UserTurn,
    Interruption,
    ToolCall,
    ToolSuccess,
    ToolFailure,
    Silence,
    PhaseChanged,
    StateChanged,
    TurnCompleted,
    ExtractionCompleted,
    ExtractionFailed,
    AgentFinished,
)
