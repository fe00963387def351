"""How a voice session ended: the value :meth:`VoiceController.run` returns.

Invariant: every ending has exactly one :class:`CloseReason`, decided by the
first cause (the input ending, the backend finishing, a policy ending the
session, or an error), and the summary carries the session's metrics as they
were when it closed.
"""

from __future__ import annotations

import enum

import attrs

from agentcore.live.telemetry import SessionMetrics


class CloseReason(enum.Enum):
    TRANSPORT_CLOSED = "transport_closed"  # the input ended (file, microphone, socket) or the caller stopped it
    BACKEND_FINISHED = "backend_finished"  # the backend ended the conversation normally (not a drop)
    POLICY_ENDED = "policy_ended"  # a rule or the application ended the session (end_session)
    ERROR = "error"  # the backend could not be reached or failed; ``message`` says why


@attrs.frozen
class VoiceSummary:
    session_id: str
    reason: CloseReason
    message: str  # why, in words (the error for ERROR, the policy's reason, the backend's close reason)
    metrics: SessionMetrics
    backend: str  # the backend connected last ("" when none ever connected)
    error: Exception | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def ok(self) -> bool:
        return self.reason is not CloseReason.ERROR
