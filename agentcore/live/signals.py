"""Session signals written into the state store as ``session.*`` keys.

The control plane observes the conversation (turns, who is speaking, silence,
barge-ins, tool results, phase changes) and :class:`SessionSignals` writes
each observation as a state key, so guards, computed variables, templates,
watchers and reactor rules read them like any other state.

Invariant: the ``session.`` namespace is written only through the writer this
class claims from the store (once per store); ``StateStore.set`` refuses those
keys, so user code can read the signals but never forge them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

RESERVED_PREFIX = "session."
TURN_COUNT = "session.turn_count"  # user turns heard (final transcripts)
USER_SPEAKING = "session.user_speaking"
ASSISTANT_SPEAKING = "session.assistant_speaking"
SILENCE_S = "session.silence_s"  # seconds the conversation has been idle (0 while anyone talks)
INTERRUPTIONS = "session.interruptions"  # barge-ins so far
LAST_TOOL_FAILURE = "session.last_tool_failure"  # name of the last tool that failed, or None
LAST_TOOL_ERROR = "session.last_tool_error"  # its error text (shortened)
TOOL_FAILURE_STREAK = "session.tool_failure_streak"  # failures in a row (0 after a success)
PHASE = "session.phase"  # current phase name (None without phases)
PHASE_S = "session.phase_s"  # seconds in the current phase

SIGNAL_KEYS = frozenset(
    {TURN_COUNT, USER_SPEAKING, ASSISTANT_SPEAKING, SILENCE_S, INTERRUPTIONS, LAST_TOOL_FAILURE, LAST_TOOL_ERROR, TOOL_FAILURE_STREAK, PHASE, PHASE_S}
)
SECONDS_RESOLUTION = 1  # decimal places of the duration signals (the ticker runs every 0.1 s)
ERROR_CHARS = 200  # tool error text kept in state (it may reach instructions)


def is_reserved(key: str) -> bool:
    return key.startswith(RESERVED_PREFIX)


class SignalStore(Protocol):
    """What the signals need of ``agentcore.live.store.StateStore``."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def claim_signals(self) -> Callable[[str, Any], None]: ...


class SessionSignals:
    """Writes the control plane's observations as ``session.*`` state keys."""

    def __init__(self, store: SignalStore, clock: Callable[[], float]) -> None:
        self._write: Callable[[str, Any], None] = store.claim_signals()
        self._store = store
        self._clock = clock
        self._idle_since: float | None = None
        self._phase_since = clock()
        for key, value in ((TURN_COUNT, 0), (INTERRUPTIONS, 0), (TOOL_FAILURE_STREAK, 0), (SILENCE_S, 0.0), (PHASE_S, 0.0)):
            if store.get(key) is None:
                self._write(key, value)
        for key in (USER_SPEAKING, ASSISTANT_SPEAKING):
            self._write(key, False)

    def user_turn(self) -> None:
        self._write(TURN_COUNT, int(self._store.get(TURN_COUNT, 0)) + 1)

    def speaking(self, *, user: bool, assistant: bool) -> None:
        self._write(USER_SPEAKING, user)
        self._write(ASSISTANT_SPEAKING, assistant)

    def interruption(self) -> None:
        self._write(INTERRUPTIONS, int(self._store.get(INTERRUPTIONS, 0)) + 1)

    def tool_result(self, name: str, ok: bool, error: str = "") -> None:
        if ok:
            self._write(TOOL_FAILURE_STREAK, 0)
            return
        self._write(LAST_TOOL_ERROR, error[:ERROR_CHARS])
        self._write(LAST_TOOL_FAILURE, name)
        self._write(TOOL_FAILURE_STREAK, int(self._store.get(TOOL_FAILURE_STREAK, 0)) + 1)

    def phase(self, name: str | None) -> None:
        self._phase_since = self._clock()
        self._write(PHASE_S, 0.0)
        self._write(PHASE, name)

    def tick(self, idle: bool) -> float:
        """Update the durations; returns the current silence in seconds."""
        now = self._clock()
        if not idle:
            self._idle_since = None
        elif self._idle_since is None:
            self._idle_since = now
        silence = round(now - self._idle_since, SECONDS_RESOLUTION) if self._idle_since is not None else 0.0
        self._write(SILENCE_S, silence)
        self._write(PHASE_S, round(now - self._phase_since, SECONDS_RESOLUTION))
        return silence
