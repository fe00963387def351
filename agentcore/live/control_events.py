"""What the control plane reports beside the live updates: typed events for
callbacks (:mod:`agentcore.live.callbacks`).

The :data:`~agentcore.live.flow.LiveUpdate` values (transcript, state,
notice) keep going to the plain listeners unchanged; these events go only to
the typed registry, so a listener written for the three updates never sees a
kind it does not know.

Invariant: each event is a frozen value that holds no secret and no live
object (no session, no backend), so a queued callback may keep it.
"""

from __future__ import annotations

from typing import Any

import attrs

from agentcore.live.phases import PhaseTransition
from agentcore.live.transcript import TranscriptTurn


@attrs.frozen
class TurnCompleted:
    """An answer finished (no tool calls left to run): one turn of the conversation."""

    index: int  # 1-based count of completed turns in this controller
    response_id: str
    status: str  # "completed" | "cancelled" | "incomplete" | "failed"
    phase: str | None
    turn: TranscriptTurn


@attrs.frozen
class PhaseTransitioned:
    """The phase changed; the transition says from, to, why and when."""

    transition: PhaseTransition


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


ControlEvent = TurnCompleted | PhaseTransitioned | ExtractionCompleted | ExtractionFailed
