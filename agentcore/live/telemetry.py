"""Per-turn and per-session voice telemetry.

All times are trio clock seconds (so tests under ``MockClock`` get exact
values); durations are reported in milliseconds.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING

import attrs

from agentcore.messages import Usage

if TYPE_CHECKING:
    from agentcore.live.control_events import ExtractionCompleted, ExtractionFailed
    from agentcore.live.phases import PhaseTransition


@attrs.define
class TurnMetrics:
    response_id: str
    started_at: float
    user_stopped_at: float | None = None  # end of the user's speech this answers
    first_audio_at: float | None = None
    audio_ms: float = 0.0  # received from the backend
    heard_ms: float = 0.0  # actually played
    interrupted: bool = False
    status: str = ""
    tool_calls: int = 0
    usage: Usage = Usage()

    @property
    def time_to_first_audio_ms(self) -> float | None:
        if self.first_audio_at is None:
            return None
        origin = self.user_stopped_at if self.user_stopped_at is not None else self.started_at
        return max(0.0, (self.first_audio_at - origin) * 1000)

    @property
    def heard_ratio(self) -> float:
        return min(1.0, self.heard_ms / self.audio_ms) if self.audio_ms else 0.0


@attrs.frozen
class RuleFiring:
    """A reactor rule fired: which, on what event, when, and what it did."""

    rule: str
    event: str  # the event's type name
    at: float
    effects: tuple[str, ...]  # effect labels, in order ("steer:context", "phase:help")


@attrs.frozen
class RepairRecord:
    """A need stayed unmet and a repair was steered into the conversation."""

    phase: str | None
    need: str  # the state key still missing
    action: str  # "reask" | "rephrase" | "escalate"
    attempt: int
    reason: str  # "turns" | "time"
    at: float


@attrs.define
class SessionMetrics:
    turns: list[TurnMetrics] = attrs.Factory(list)
    interruptions: int = 0
    barge_in_ms: list[float] = attrs.Factory(list)  # speech detected -> output cleared
    tool_calls: int = 0
    tool_latency_ms: list[float] = attrs.Factory(list)
    tool_failures: int = 0
    stale_results_dropped: int = 0
    tool_timeouts: int = 0  # blocking tool calls given up at their hard limit (an apology was spoken)
    bridge_phrases: int = 0  # "one moment" phrases spoken while a slow tool ran
    fallbacks: int = 0
    reconnects: int = 0
    soft_turns: int = 0
    audio_in_ms: float = 0.0
    audio_out_ms: float = 0.0
    usage: Usage = Usage()
    rules_fired: list[RuleFiring] = attrs.Factory(list)
    repairs: list[RepairRecord] = attrs.Factory(list)
    effect_failures: int = 0  # reactor effects that could not run (logged)
    phase_transitions: list[PhaseTransition] = attrs.Factory(list)  # from, to, trigger, time
    extractions: list[ExtractionCompleted | ExtractionFailed] = attrs.Factory(list)
    callbacks_dropped: int = 0  # events a queued callback's full queue dropped

    @property
    def extraction_failures(self) -> int:
        return sum(1 for e in self.extractions if type(e).__name__ == "ExtractionFailed")

    def turn(self, response_id: str) -> TurnMetrics | None:
        for turn in reversed(self.turns):
            if turn.response_id == response_id:
                return turn
        return None

    @property
    def time_to_first_audio_ms(self) -> list[float]:
        return [t.time_to_first_audio_ms for t in self.turns if t.time_to_first_audio_ms is not None]

    @property
    def heard_ratio(self) -> float:
        """Heard share of all assistant audio received."""
        total = sum(t.audio_ms for t in self.turns)
        return min(1.0, sum(t.heard_ms for t in self.turns) / total) if total else 0.0

    def summary(self) -> list[tuple[str, str]]:
        """Rows for the end-of-session table."""

        def ms(values: list[float]) -> str:
            return f"{statistics.median(values):.0f} ms (p50 of {len(values)})" if values else "-"

        return [
            ("turns", str(len(self.turns))),
            ("time to first audio", ms(self.time_to_first_audio_ms)),
            ("interruptions", str(self.interruptions)),
            ("barge-in clear", ms(self.barge_in_ms)),
            ("heard ratio", f"{self.heard_ratio:.0%}"),
            ("tool calls", f"{self.tool_calls} ({self.tool_failures} failed, {self.tool_timeouts} timed out, "
                           f"{self.stale_results_dropped} stale dropped)"),
            ("tool latency", ms(self.tool_latency_ms)),
            ("soft turns", str(self.soft_turns)),
            ("reconnects", str(self.reconnects)),
            ("fallbacks", str(self.fallbacks)),
            ("rules fired / repairs", f"{len(self.rules_fired)} / {len(self.repairs)}"),
            ("audio in / out", f"{self.audio_in_ms / 1000:.1f} s / {self.audio_out_ms / 1000:.1f} s"),
            ("tokens in / out", f"{self.usage.prompt_tokens} / {self.usage.output_tokens}"),
            ("phase changes", " -> ".join([self.phase_transitions[0].source, *(t.target for t in self.phase_transitions)]) if self.phase_transitions else "-"),
            ("extractions", f"{len(self.extractions)} ({self.extraction_failures} failed)"),
        ]
