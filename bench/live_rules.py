"""Budget rows for the conversation's rules (used by ``bench_live``).

* reactor rule evaluation per event (p50 <= 0.2 ms): a reactor with
  :data:`RULES` rules over every event type (predicates, detectors, policies),
  fed a realistic mix of events; measured as ``Reactor.evaluate`` (matching,
  predicates, detectors, policies, telemetry) and as a full ``emit`` (with the
  effects that fired, SetState and steering, run by the executor);
* rendering the instructions from state (template, modifiers, narrative), as
  done when state changes.
"""

from __future__ import annotations

import statistics
import time

import trio

from agentcore.live.control_events import (
    Interruption,
    Silence,
    StateChanged,
    ToolFailure,
    ToolSuccess,
    TurnCompleted,
    UserTurn,
)
from agentcore.live.instructions import ContextBuilder, InstructionModifier, compose
from agentcore.live.phases import ConsecutiveFailures, RateDetector
from agentcore.live.reactions import Policy, Rule, SetState, Steer
from agentcore.live.reactor import Reactor
from agentcore.live.steering import Steering
from agentcore.live.store import StateStore
from agentcore.live.telemetry import SessionMetrics

RULES = 24  # a busy conversation design
EVENTS = 5_000


def _rules() -> list[Rule]:
    rules: list[Rule] = []
    for n in range(RULES // 6):
        rules += [
            Rule(f"turn{n}", UserTurn, [SetState(f"turns{n}", compute=lambda e, s: e.turn)], when=lambda e, s: "order" in e.text, policy=Policy(priority=n)),
            Rule(f"fail{n}", (ToolSuccess, ToolFailure), [Steer("Apologise for {session.last_tool_failure|the tool}.")], detector=ConsecutiveFailures(3), observe=lambda e: isinstance(e, ToolSuccess)),
            Rule(f"barge{n}", Interruption, [SetState(f"barged{n}", True)], detector=RateDetector(30, 3), policy=Policy(cooldown_s=10)),
            Rule(f"quiet{n}", Silence, [Steer("Still there?", respond=True)], when=lambda e, s: e.seconds >= 8, policy=Policy(once=True)),
            Rule(f"state{n}", StateChanged, [SetState(f"name_seen{n}", True)], when=lambda e, s: e.key == "name"),
            Rule(f"done{n}", TurnCompleted, [], when=lambda e, s: e.status == "cancelled", policy=Policy(max_per_session=5)),
        ]
    return rules


def _events() -> list[object]:
    mix = [
        UserTurn("where is my order", 3),
        ToolFailure("lookup", "c1", "timeout"),
        ToolSuccess("lookup", "c2"),
        Silence(0.4),
        StateChanged("session.silence_s", 0.3, 0.4),
        StateChanged("name", None, "Ada"),
        TurnCompleted(1, "r1", "completed", None),
        Interruption(),
    ]
    return [mix[i % len(mix)] for i in range(EVENTS)]


async def _measure() -> tuple[list[float], list[float], list[float]]:
    async def apply(_text: str) -> None:
        return None

    async def inject(_text: str, _kind: object, _respond: bool) -> None:
        return None

    store = StateStore({"name": None})
    clock = [0.0]
    steering = Steering(apply_instructions=apply, inject=inject, idle=lambda: True)
    reactor = Reactor(_rules(), store=store, steering=steering, actions=None, metrics=SessionMetrics(), clock=lambda: clock[0])
    evaluate_ms: list[float] = []
    emit_ms: list[float] = []
    for event in _events():
        clock[0] += 0.1
        start = time.perf_counter()
        reactor.evaluate(event)
        evaluate_ms.append((time.perf_counter() - start) * 1000)
    for event in _events():
        clock[0] += 0.1
        start = time.perf_counter()
        await reactor.emit(event)
        emit_ms.append((time.perf_counter() - start) * 1000)
    state = {"name": "Ada", "order": 42, "session.interruptions": 2, "session.turn_count": 4}
    modifiers = [InstructionModifier("Be brief with {name}.", when=lambda s: s.get("session.interruptions", 0) >= 2)] * 4
    context = ContextBuilder([("name", "the caller's name"), ("order", "the order number"), ("email", "the email")], missing="Still missing: {missing}.")
    render_ms: list[float] = []
    for _ in range(1_000):
        start = time.perf_counter()
        compose("Take the order for {name|the caller} (turn {session.turn_count}).", modifiers, context, state)
        render_ms.append((time.perf_counter() - start) * 1000)
    return evaluate_ms, emit_ms, render_ms


def rows(area: str) -> list[tuple[str, str, str, str]]:
    evaluate_ms, emit_ms, render_ms = trio.run(_measure)
    return [
        (area, f"reactor rule evaluation per event, {RULES} rules (p50)", f"{statistics.median(evaluate_ms) * 1000:.1f} us", "<= 200 us"),
        (area, "reactor event -> effects done (p50 / p99)", f"{statistics.median(emit_ms) * 1000:.1f} / {sorted(emit_ms)[int(len(emit_ms) * 0.99)] * 1000:.1f} us", "-"),
        (area, "instructions rendered from state (p50)", f"{statistics.median(render_ms) * 1000:.1f} us", "-"),
    ]
