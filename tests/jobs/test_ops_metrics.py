"""The metrics observer and the Prometheus text, driven by real session events
and a fake clock (no server: the endpoint is tested in test_serve_ops.py)."""

from __future__ import annotations

import pytest

from agentcore.events import (
    LlmCallFinished,
    ToolCallFinished,
    TurnAborted,
    TurnEnded,
    TurnStarted,
)
from agentcore.messages import StopReason, Usage
from agentcore.metrics import Metrics, MetricsObserver
from agentcore.tools.base import ToolResult


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_turns_latency_tokens_and_cost() -> None:
    metrics, clock = Metrics(), Clock()
    observer = MetricsObserver(metrics, clock=clock)
    session = object()
    observer.session_opened(session)
    observer.on_event(session, TurnStarted("t1"))
    assert metrics.get("turns_running") == 1
    clock.now += 0.3
    observer.on_event(session, LlmCallFinished("t1", "m", Usage(100, 20, cache_read_tokens=50), 0.25, 170, 1000, 0.25))
    clock.now += 5.0  # a tool runs: not the model's time
    observer.on_event(session, ToolCallFinished("t1", "c1", "bash", ToolResult.text("ok")))
    clock.now += 2.0
    observer.on_event(session, LlmCallFinished("t1", "m", Usage(10, 5), 0.5, 200, 1000, 0.75))
    observer.on_event(session, TurnEnded("t1", StopReason.END_TURN, Usage(110, 25)))
    observer.on_event(session, TurnStarted("t2"))
    observer.on_event(session, TurnAborted("t2", "boom", "AuthError"))
    observer.session_closed(session)
    assert metrics.get("turns_running") == 0 and metrics.get("sessions_live") == 0
    assert metrics.get("turns_total", stop="end_turn") == 1 and metrics.get("turns_total", stop="aborted") == 1
    assert metrics.get("llm_calls_total") == 2
    assert metrics.get("llm_input_tokens_total") == 160 and metrics.get("llm_output_tokens_total") == 25
    assert metrics.get("llm_cost_usd_total") == 0.75
    text = metrics.render([("serve_connections", "gauge", "Clients.", 3)])
    assert "# TYPE agentcore_llm_call_seconds histogram" in text
    assert 'agentcore_llm_call_seconds_bucket{le="0.5"} 1' in text  # 0.3 s
    assert 'agentcore_llm_call_seconds_bucket{le="2.5"} 2' in text  # 2.0 s after the tool result, not 7 s
    assert "agentcore_llm_call_seconds_count 2" in text
    (total,) = [float(line.split()[1]) for line in text.splitlines() if line.startswith("agentcore_llm_call_seconds_sum ")]
    assert total == pytest.approx(2.3)
    assert 'agentcore_turns_total{stop="end_turn"} 1' in text and "agentcore_serve_connections 3" in text


def test_a_session_closed_mid_turn_is_not_left_running() -> None:
    metrics = Metrics()
    observer = MetricsObserver(metrics, clock=Clock())
    session = object()
    observer.session_opened(session)
    observer.on_event(session, TurnStarted("t1"))
    observer.session_closed(session)
    assert metrics.get("turns_running") == 0
