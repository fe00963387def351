"""Provider-neutral voice events: what every :class:`SpeechBackend` reports.

Backends translate their wire protocol (OpenAI Realtime server events, Gemini
Live server messages, the offline cascade's own pipeline) into these values;
the control plane never sees a vendor's JSON. ``event_id`` is the provider's
own event id where it has one, so replayed or duplicated deltas can be told
apart from new ones.
"""

from __future__ import annotations

import enum
from typing import TypeAlias

import attrs

from agentcore.messages import Usage


class ResponseStatus(enum.Enum):
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # barge-in or an explicit cancel
    INCOMPLETE = "incomplete"  # cut short by a limit (max tokens)
    FAILED = "failed"


@attrs.frozen
class SpeechStarted:
    """The backend's voice activity detector heard the user start speaking."""

    item_id: str = ""
    audio_start_ms: int = 0


@attrs.frozen
class SpeechStopped:
    item_id: str = ""
    audio_end_ms: int = 0


@attrs.frozen
class InputCommitted:
    """A user audio turn became a conversation item (its transcript follows)."""

    item_id: str
    previous_item_id: str | None = None


@attrs.frozen
class InputDiscarded:
    """A committed user item produced no transcript (noise, recognition failure)."""

    item_id: str
    reason: str = ""


@attrs.frozen
class UserTranscriptDelta:
    item_id: str
    content_index: int
    text: str
    event_id: str = ""


@attrs.frozen
class UserTranscriptFinal:
    item_id: str
    content_index: int
    text: str
    event_id: str = ""


@attrs.frozen
class ResponseStarted:
    response_id: str


@attrs.frozen
class AudioDelta:
    response_id: str
    item_id: str
    content_index: int
    pcm: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    rate: int = 24_000
    event_id: str = ""


@attrs.frozen
class AssistantTranscriptDelta:
    response_id: str
    item_id: str
    content_index: int
    text: str
    event_id: str = ""


@attrs.frozen
class AssistantTranscriptDone:
    """The full transcript of one assistant content part (repairs dropped deltas)."""

    response_id: str
    item_id: str
    content_index: int
    text: str
    event_id: str = ""


@attrs.frozen
class ToolCallRequested:
    response_id: str
    item_id: str
    call_id: str
    name: str
    arguments: str  # JSON text as the model produced it (may be invalid)
    event_id: str = ""


@attrs.frozen
class ToolCallCancelled:
    """The backend withdrew tool calls (Gemini ``toolCallCancellation``)."""

    call_ids: tuple[str, ...]


@attrs.frozen
class ResponseDone:
    response_id: str
    status: ResponseStatus
    usage: Usage = Usage()
    # History messages the backend itself wrote for this response (the cascade
    # runs a normal session turn); realtime backends leave this empty.
    message_ids: tuple[str, ...] = ()


@attrs.frozen
class Interrupted:
    """The backend detected barge-in itself and stopped generating (Gemini)."""

    response_id: str = ""


@attrs.frozen
class ResumptionUpdate:
    handle: str
    resumable: bool = True


@attrs.frozen
class GoAway:
    """The server will close the connection soon; reconnect before it does."""

    time_left_s: float


@attrs.frozen
class BackendNotice:
    """A non-fatal backend error or warning, e.g. a rejected client event."""

    message: str
    code: str = ""


@attrs.frozen
class Disconnected:
    """The connection ended; the control plane decides whether to reconnect."""

    reason: str
    clean: bool = False


VoiceEvent: TypeAlias = (
    SpeechStarted
    | SpeechStopped
    | InputCommitted
    | InputDiscarded
    | UserTranscriptDelta
    | UserTranscriptFinal
    | ResponseStarted
    | AudioDelta
    | AssistantTranscriptDelta
    | AssistantTranscriptDone
    | ToolCallRequested
    | ToolCallCancelled
    | ResponseDone
    | Interrupted
    | ResumptionUpdate
    | GoAway
    | BackendNotice
    | Disconnected
)
