"""The JSON form of what a voice session shows: live updates and telemetry,
for frontends that send them elsewhere (``agent serve`` forwards them to ACP
clients and to the ``/voice`` WebSocket).

Pure functions of the values; keys are camelCase, as on ACP's wire, and
durations are milliseconds rounded to whole numbers.
"""

from __future__ import annotations

from typing import Any, assert_never

from agentcore.live.flow import LiveUpdate, NoticeUpdate, StateUpdate, TranscriptUpdate
from agentcore.live.telemetry import SessionMetrics, TurnMetrics


def update_kind(update: LiveUpdate) -> str:
    """``transcript``, ``state`` or ``notice``: what the update is, as a message name."""
    match update:
        case TranscriptUpdate():
            return "transcript"
        case StateUpdate():
            return "state"
        case NoticeUpdate():
            return "notice"
        case _:
            assert_never(update)


def update_json(update: LiveUpdate) -> dict[str, Any]:
    match update:
        case TranscriptUpdate(role=role, item_id=item_id, text=text, final=final):
            return {"role": role, "itemId": item_id, "text": text, "final": final}
        case StateUpdate(state=state):
            return {"state": state.value}
        case NoticeUpdate(level=level, text=text):
            return {"level": level, "text": text}
        case _:
            assert_never(update)


def _ms(value: float | None) -> int | None:
    return None if value is None else round(value)


def turn_json(turn: TurnMetrics) -> dict[str, Any]:
    return {
        "responseId": turn.response_id,
        "status": turn.status,
        "timeToFirstAudioMs": _ms(turn.time_to_first_audio_ms),
        "audioMs": _ms(turn.audio_ms),
        "heardMs": _ms(turn.heard_ms),
        "interrupted": turn.interrupted,
        "toolCalls": turn.tool_calls,
        "inputTokens": turn.usage.input_tokens,
        "outputTokens": turn.usage.output_tokens,
    }


def metrics_json(metrics: SessionMetrics) -> dict[str, Any]:
    """The session's counters and its latest turn (``heardMs`` is final once the session closed)."""
    return {
        "turns": len(metrics.turns),
        "lastTurn": turn_json(metrics.turns[-1]) if metrics.turns else None,
        "interruptions": metrics.interruptions,
        "bargeInMs": [_ms(ms) for ms in metrics.barge_in_ms],
        "toolCalls": metrics.tool_calls,
        "toolFailures": metrics.tool_failures,
        "staleResultsDropped": metrics.stale_results_dropped,
        "softTurns": metrics.soft_turns,
        "reconnects": metrics.reconnects,
        "fallbacks": metrics.fallbacks,
        "audioInMs": _ms(metrics.audio_in_ms),
        "audioOutMs": _ms(metrics.audio_out_ms),
        "inputTokens": metrics.usage.input_tokens,
        "outputTokens": metrics.usage.output_tokens,
    }
