"""The reactor: typed events -> rules (with policies) -> typed effects, run by
one executor, recorded in telemetry; tool failures reach it from real voice
tool calls."""

from __future__ import annotations

import pytest
import trio
from fake_realtime import FakeRealtimeServer, Reply
from live_helpers import build_core, speech_pattern, transcript, voice_info
from test_live_openai import KEY

from agentcore import FunctionTool
from agentcore.live.control_events import (
    Interruption,
    PhaseChanged,
    StateChanged,
    ToolFailure,
    ToolSuccess,
    TurnCompleted,
    UserTurn,
)
from agentcore.live.controller import DetectorRule, Signal, VoiceConfig, VoiceController
from agentcore.live.director import LiveRules
from agentcore.live.openai_realtime import OpenAIRealtimeBackend
from agentcore.live.phases import (
    ConsecutiveFailures,
    Phase,
    PhaseMachine,
    RateDetector,
    Transition,
)
from agentcore.live.reactions import (
    CancelResponse,
    DispatchAgent,
    EndSession,
    GoToPhase,
    Policy,
    Rule,
    SetState,
    SpeakBridge,
    Steer,
)
from agentcore.live.reactor import MAX_EVENTS_PER_DRAIN, Reactor, ReactorError
from agentcore.live.steering import Delivery, Steering, SteerKind
from agentcore.live.store import StateStore
from agentcore.live.telemetry import SessionMetrics
from agentcore.live.transport import WavFileTransport
from agentcore.messages import MessageKind

RUN_LIMIT_S = 120


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    """A ReactorActions that records what the controller was asked to do."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.agent_done = None

    async def end_session(self, reason: str) -> None:
        self.calls.append(f"end:{reason}")

    async def cancel_response(self) -> None:
        self.calls.append("cancel")

    async def speak(self, text: str) -> None:
        self.calls.append(f"speak:{text}")

    def dispatch_agent(self, task: str, done, *, profile=None) -> bool:
        self.calls.append(f"agent:{task}")
        self.agent_done = done
        return True


def _reactor(rules, *, store=None, clock=None, phases=None, idle=True):
    sent: list[tuple[str, str]] = []

    async def apply(text: str) -> None:
        sent.append(("instructions", text))

    async def inject(text: str, kind: MessageKind, respond: bool) -> None:
        sent.append((f"{kind.value}{'+respond' if respond else ''}", text))

    store = store or StateStore()
    steering = Steering(apply_instructions=apply, inject=inject, idle=lambda: idle)
    metrics = SessionMetrics()
    actions = Recorder()
    reactor = Reactor(rules, store=store, steering=steering, actions=actions, metrics=metrics, clock=clock or Clock(), phases=phases)
    return reactor, store, sent, metrics, actions


async def test_cooldown_once_and_max_per_session():
    clock = Clock()
    rules = [
        Rule("cool", UserTurn, [SetState("cool", compute=lambda e, s: (s.get("cool") or 0) + 1)], policy=Policy(cooldown_s=10)),
        Rule("once", UserTurn, [SetState("once", compute=lambda e, s: (s.get("once") or 0) + 1)], policy=Policy(once=True)),
        Rule("max2", UserTurn, [SetState("max2", compute=lambda e, s: (s.get("max2") or 0) + 1)], policy=Policy(max_per_session=2)),
        Rule("always", UserTurn, [SetState("always", compute=lambda e, s: (s.get("always") or 0) + 1)]),
    ]
    reactor, store, _sent, metrics, _a = _reactor(rules, clock=clock)
    for t in (0, 1, 5, 10, 12, 20.5):
        clock.now = t
        await reactor.emit(UserTurn("hi", 1))
    # cooldown 10 s: fires at 0, 10, 20.5 (not at 1, 5, 12)
    assert store.as_dict() == {"cool": 3, "once": 1, "max2": 2, "always": 6}
    fired = [(f.rule, f.at) for f in metrics.rules_fired if f.rule == "cool"]
    assert fired == [("cool", 0), ("cool", 10), ("cool", 20.5)]
    assert metrics.rules_fired[0].event == "UserTurn" and metrics.rules_fired[0].effects == ("set:cool",)


async def test_priority_orders_rules_and_stop_shadows_lower_ones():
    order: list[str] = []
    rules = [
        Rule("low", Interruption, lambda e, s: order.append("low") or [], policy=Policy(priority=1)),
        Rule("high", Interruption, lambda e, s: order.append("high") or [], policy=Policy(priority=10)),
        Rule("urgent", Interruption, lambda e, s: order.append("urgent") or [SetState("x", 1)], when=lambda e, s: s.get("angry") is True, policy=Policy(priority=100), stop=True),
    ]
    reactor, store, _sent, metrics, _a = _reactor(rules)
    await reactor.emit(Interruption())
    assert order == ["high", "low"]
    store.set("angry", True)
    await reactor.emit(Interruption())
    assert order == ["high", "low", "urgent"]  # stop: nothing below it reacted
    assert [f.rule for f in metrics.rules_fired] == ["high", "low", "urgent"]
    with pytest.raises(ReactorError, match="repeated: low"):
        _reactor([*rules, Rule("low", UserTurn)])


async def test_every_effect_runs_through_the_one_executor():
    store = StateStore({"name": "Ada"})
    phases = PhaseMachine([Phase("a"), Phase("b")], [Transition("a", "b", automatic=False)], initial="a", store=store)
    rules = [
        Rule(
            "all",
            UserTurn,
            [
                Steer("Be brief with {name}.", kind=SteerKind.INSTRUCTIONS, delivery=Delivery.IMMEDIATE),
                Steer("{name} called before.", delivery=Delivery.IMMEDIATE, respond=True),
                SetState("seen", compute=lambda e, s: e.text),
                GoToPhase("b"),
                SpeakBridge("One moment, {name}."),
                CancelResponse(),
                DispatchAgent("Look up the orders of {name}", result_key="orders"),
                EndSession("caller asked to stop"),
            ],
        )
    ]
    reactor, _store, sent, metrics, actions = _reactor(rules, store=store, phases=phases)
    await reactor.emit(UserTurn("hello", 1))
    assert sent == [("instructions", "Be brief with Ada."), ("context+respond", "Ada called before.")]
    assert store["seen"] == "hello" and phases.current.name == "b"
    assert phases.transitions[-1].trigger == "rule:all"
    assert actions.calls == ["speak:One moment, Ada.", "cancel", "agent:Look up the orders of Ada", "end:caller asked to stop"]
    assert metrics.rules_fired[0].effects == ("steer:instructions", "steer:context", "set:seen", "phase:b", "speak", "cancel", "agent", "end")
    await actions.agent_done("two orders", "")
    assert store["orders"] == "two orders"
    assert sent[-1][0] == "context+respond" and "two orders" in sent[-1][1]
    assert metrics.effect_failures == 0


async def test_a_failing_effect_is_counted_and_the_rest_still_run():
    rules = [Rule("bad", UserTurn, [SetState("session.turn_count", 5), GoToPhase("nowhere"), SetState("ok", True)])]
    reactor, store, _sent, metrics, _a = _reactor(rules)  # no phases: GoToPhase cannot run
    await reactor.emit(UserTurn("x", 1))
    assert store["ok"] is True and metrics.effect_failures == 2


async def test_state_and_phase_events_and_a_loop_is_cut():
    store = StateStore({"n": 0})
    phases = PhaseMachine([Phase("a"), Phase("b")], [Transition("*", "b", automatic=False), Transition("*", "a", automatic=False)], initial="a", store=store)
    rules = [
        Rule("count", StateChanged, [SetState("n", compute=lambda e, s: s["n"] + 1)], when=lambda e, s: e.key == "n"),  # feeds itself
        Rule("entered", PhaseChanged, [SetState("entered", compute=lambda e, s: f"{e.source}->{e.target}")]),
    ]
    reactor, store, _sent, metrics, _a = _reactor(rules, store=store, phases=phases)
    store.watch("*", lambda k, o, n: reactor.post(StateChanged(k, o, n)))
    await reactor.emit(StateChanged("n", None, 0))
    assert store["n"] == MAX_EVENTS_PER_DRAIN and metrics.effect_failures == 1  # cut, not forever
    await reactor.emit(PhaseChanged("a", "b"))
    assert store["entered"] == "a->b"


async def _voice_run(tmp_path, server, pattern, *, config, tools=(), phases=None, agents=None):
    core = build_core(tmp_path, tools=tools)
    async with trio.open_nursery() as nursery:
        url = await server.start(nursery)
        async with core.open_session(voice_info(tmp_path)) as session:
            transport = WavFileTransport(None, None, input_pcm=pattern, paced=True)
            controller = VoiceController(session, transport, lambda: OpenAIRealtimeBackend(api_key=KEY, url=url), config=config, phases=phases)
            controller.agents = agents
            with trio.fail_after(RUN_LIMIT_S):
                await controller.run()
            metrics = controller.metrics
            rows = transcript(session.history)
        nursery.cancel_scope.cancel()
    return controller, metrics, rows


def _failing_tool(calls: list[str]) -> FunctionTool:
    async def lookup(args, ctx):
        calls.append("lookup")
        raise RuntimeError("order service unavailable")

    return FunctionTool("lookup_order", "Look up an order.", {"type": "object", "properties": {}}, fn=lookup)


async def test_tool_failures_from_voice_calls_fire_consecutive_failures(tmp_path, autojump_clock):
    calls: list[str] = []
    legacy: list[str] = []

    async def legacy_action(controller) -> None:
        legacy.append("fired")

    rules = LiveRules(
        rules=[
            Rule(
                "tools keep failing",
                (ToolSuccess, ToolFailure),
                [Steer("The order system is down: apologise and offer to call back.", kind=SteerKind.INSTRUCTIONS, delivery=Delivery.IMMEDIATE), SetState("escalated", True)],
                detector=ConsecutiveFailures(2),
                observe=lambda e: isinstance(e, ToolSuccess),
                policy=Policy(once=True),
            )
        ]
    )
    config = VoiceConfig(rules=rules, detectors=(DetectorRule(Signal.TOOL_RESULT, ConsecutiveFailures(2), legacy_action),))
    server = FakeRealtimeServer(
        transcripts=["where is my order", "try again please"],
        replies=[Reply(tool=("lookup_order", {})), Reply("That failed"), Reply(tool=("lookup_order", {})), Reply("Failed again")],
    )
    pattern = speech_pattern([("silence", 200), ("speech", 600), ("silence", 4000), ("speech", 600), ("silence", 5000)])
    controller, metrics, rows = await _voice_run(tmp_path, server, pattern, config=config, tools=[_failing_tool(calls)])
    assert calls == ["lookup", "lookup"]
    assert [r for r in rows if r[0] == "assistant"] == [("assistant", "That failed"), ("assistant", "Failed again")]
    store = controller.store
    assert store["escalated"] is True and legacy == ["fired"]
    assert store["session.tool_failure_streak"] == 2 and store["session.last_tool_failure"] == "lookup_order"
    assert "order service unavailable" in store["session.last_tool_error"]
    assert [f.rule for f in metrics.rules_fired] == ["tools keep failing"] and metrics.rules_fired[0].event == "ToolFailure"
    updates = [m["session"]["instructions"] for m in server.connections[0].of_type("session.update")]
    assert "The order system is down" in updates[-1] and "The order system is down" not in updates[0]


async def test_turn_events_phase_rules_and_end_session_in_a_running_call(tmp_path, autojump_clock):
    phases = PhaseMachine([Phase("greet", "Greet {caller|the caller}."), Phase("help", "Help.")], [Transition("greet", "help", automatic=False)], initial="greet")
    rules = LiveRules(
        rules=[
            Rule("name", UserTurn, [SetState("caller", compute=lambda e, s: e.text.split()[-1].capitalize())], when=lambda e, s: e.text.startswith("i am")),
            Rule("move on", TurnCompleted, [GoToPhase("help")], when=lambda e, s: s.get("caller") is not None, phases=("greet",)),
            Rule("bye", UserTurn, [EndSession("caller said goodbye")], when=lambda e, s: "goodbye" in e.text),
            Rule("rapid barge-ins", Interruption, [Steer("Slow down.")], detector=RateDetector(10, 3)),
        ]
    )
    server = FakeRealtimeServer(transcripts=["i am ada", "goodbye"], replies=[Reply("Hello Ada"), Reply("Bye now")])
    # The input continues long after "goodbye": only the rule ends the session.
    pattern = speech_pattern([("silence", 200), ("speech", 600), ("silence", 3000), ("speech", 600), ("silence", 60_000)])
    controller, metrics, _rows = await _voice_run(tmp_path, server, pattern, config=VoiceConfig(rules=rules), phases=phases)
    assert controller.store["caller"] == "Ada" and phases.current.name == "help"
    assert controller.store["session.phase"] == "help" and controller.store["session.turn_count"] == 2
    assert [f.rule for f in metrics.rules_fired] == ["name", "move on", "bye"]
    assert trio.current_time() < 30  # ended by the rule, not by the end of the input
    updates = [m["session"]["instructions"] for m in server.connections[0].of_type("session.update")]
    assert "Greet the caller." in updates[0]
    assert any("Greet Ada." in u for u in updates)  # the template re-rendered when the name arrived
    assert "Help." in updates[-1]


async def test_next_turn_context_goes_out_with_the_users_next_turn(tmp_path, autojump_clock):
    rules = LiveRules(rules=[Rule("remember", TurnCompleted, [Steer("The caller sounded hurried.", delivery=Delivery.NEXT_TURN)], policy=Policy(once=True))])
    server = FakeRealtimeServer(transcripts=["hello", "what now"], replies=[Reply("Hi"), Reply("Here is what")])
    pattern = speech_pattern([("silence", 200), ("speech", 600), ("silence", 6000), ("speech", 600), ("silence", 3000)])
    _controller, metrics, rows = await _voice_run(tmp_path, server, pattern, config=VoiceConfig(rules=rules))
    assert rows == [("user", "hello"), ("assistant", "Hi"), ("context", "The caller sounded hurried."), ("user", "what now"), ("assistant", "Here is what")]
    conn = server.connections[0]
    kinds = [m["type"] for m in conn.sent]
    started = [i for i, k in enumerate(kinds) if k == "input_audio_buffer.speech_started"]
    created = [i for i, k in enumerate(kinds) if k == "response.created"]
    added = kinds.index("conversation.item.added")
    assert started[1] < added < created[1]  # sent once the user spoke again, before the answer to them
    assert len(conn.of_type("response.create")) == 0  # it asked for no answer of its own
    # Signals change every tick, but instructions without templates were never re-sent.
    assert len(conn.of_type("session.update")) == 1
    assert [f.rule for f in metrics.rules_fired] == ["remember"]
