"""The conversation state machine of a voice session.

::

    connecting -> listening <-> user_speaking -> thinking -> speaking -> listening
                                                   thinking <-> executing_tool (a blocking tool runs)
                      ^                                          |
                      +------------- interrupted <---------------+ (barge-in)
    any -> reconnecting -> listening | fallback -> listening;  any -> closed

Transitions outside :data:`ALLOWED` are bugs in the control plane and raise
:class:`IllegalTransition`, so the state shown to the user is always one the
diagram explains.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

import attrs

from agentcore.errors import VoiceError


class VoiceState(enum.Enum):
    CONNECTING = "connecting"
    LISTENING = "listening"
    USER_SPEAKING = "user_speaking"
    THINKING = "thinking"
    EXECUTING_TOOL = "executing_tool"  # a blocking tool call runs; the model waits for its result
    SPEAKING = "speaking"
    INTERRUPTED = "interrupted"
    RECONNECTING = "reconnecting"
    FALLBACK = "fallback"
    CLOSED = "closed"


S = VoiceState
_CONVERSING = {S.LISTENING, S.USER_SPEAKING, S.THINKING, S.EXECUTING_TOOL, S.SPEAKING, S.INTERRUPTED}

ALLOWED: dict[VoiceState, frozenset[VoiceState]] = {
    S.CONNECTING: frozenset({S.LISTENING, S.RECONNECTING, S.FALLBACK}),
    S.LISTENING: frozenset({S.USER_SPEAKING, S.THINKING, S.SPEAKING}),
    S.USER_SPEAKING: frozenset({S.LISTENING, S.THINKING, S.SPEAKING}),
    S.THINKING: frozenset({S.LISTENING, S.USER_SPEAKING, S.SPEAKING, S.EXECUTING_TOOL}),
    S.EXECUTING_TOOL: frozenset({S.THINKING, S.SPEAKING, S.LISTENING, S.USER_SPEAKING}),
    S.SPEAKING: frozenset({S.LISTENING, S.INTERRUPTED, S.THINKING, S.USER_SPEAKING, S.EXECUTING_TOOL}),
    S.INTERRUPTED: frozenset({S.USER_SPEAKING, S.LISTENING, S.THINKING, S.SPEAKING, S.EXECUTING_TOOL}),
    S.RECONNECTING: frozenset({S.LISTENING, S.FALLBACK, S.RECONNECTING}),
    S.FALLBACK: frozenset({S.LISTENING}),
    S.CLOSED: frozenset(),
}
for _state in _CONVERSING:
    # Output can be cut in any conversing state (audio may still be playing when the user
    # already talks, or a tool's bridge phrase plays while thinking).
    ALLOWED[_state] = ALLOWED[_state] | {S.RECONNECTING, S.FALLBACK} | ({S.INTERRUPTED} - {_state})
for _state in list(ALLOWED):
    if _state is not S.CLOSED:
        ALLOWED[_state] = ALLOWED[_state] | {S.CLOSED}


class IllegalTransition(VoiceError, RuntimeError):
    pass


@attrs.frozen
class StateChange:
    old: VoiceState
    new: VoiceState
    at: float  # trio clock seconds


class StateMachine:
    def __init__(self, clock: Callable[[], float], on_change: Callable[[StateChange], None] | None = None) -> None:
        self._state = VoiceState.CONNECTING
        self._clock = clock
        self._on_change = on_change
        self.history: list[StateChange] = []

    @property
    def state(self) -> VoiceState:
        return self._state

    def to(self, new: VoiceState) -> bool:
        """Move to ``new``; False (and nothing happens) if already there."""
        if new is self._state:
            return False
        if new not in ALLOWED[self._state]:
            raise IllegalTransition(f"voice state {self._state.value} -> {new.value} is not allowed")
        change = StateChange(self._state, new, self._clock())
        self._state = new
        self.history.append(change)
        if self._on_change is not None:
            self._on_change(change)
        return True

    def visited(self) -> list[VoiceState]:
        return [VoiceState.CONNECTING] + [c.new for c in self.history]
