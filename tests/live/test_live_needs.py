"""Needs and repair: a phase's unmet need is re-asked, rephrased and escalated
after N user turns or T seconds, through the reactor's executor, recorded in
telemetry; a filled need is left alone."""

from __future__ import annotations

import re

import trio
from fake_realtime import FakeRealtimeServer, Reply
from live_helpers import build_core, speech_pattern, transcript, voice_info
from test_live_openai import KEY

from agentcore.live.control_events import UserTurn
from agentcore.live.controller import VoiceConfig, VoiceController
from agentcore.live.director import LiveRules
from agentcore.live.needs import Need, NeedTracker, RepairAction, all_filled
from agentcore.live.openai_realtime import OpenAIRealtimeBackend
from agentcore.live.phases import Phase, PhaseMachine, StateStore, Transition
from agentcore.live.reactions import GoToPhase, Rule, SetState, Steer
from agentcore.live.transport import WavFileTransport

RUN_LIMIT_S = 120


def test_the_repair_ladder_reasks_rephrases_then_escalates():
    tracker = NeedTracker()
    need = Need("order", "the order number", after_turns=2, escalate="human")
    other = Need("name", "your name", after_turns=2)
    tracker.enter([other, need], now=0.0)
    state = {"name": "Ada"}  # filled: never repaired
    tracker.user_turn()
    assert tracker.due(state, 1.0) is None
    tracker.user_turn()
    first = tracker.due(state, 2.0)
    assert first is not None and (first.need.key, first.action, first.attempt, first.reason) == ("order", RepairAction.REASK, 1, "turns")
    assert isinstance(first.effects[0], Steer) and first.effects[0].respond
    assert "You still need the order number" in first.effects[0].text
    assert tracker.due(state, 2.5) is None  # counting starts over after a repair
    tracker.user_turn()
    tracker.user_turn()
    second = tracker.due(state, 3.0)
    assert second is not None and second.action is RepairAction.REPHRASE and "differently" in second.effects[0].text
    tracker.user_turn()
    tracker.user_turn()
    third = tracker.due(state, 4.0)
    assert third is not None and third.action is RepairAction.ESCALATE and third.effects == (GoToPhase("human"),)
    for _ in range(5):
        tracker.user_turn()
    assert tracker.due(state, 100.0) is None  # escalated: left to the next phase
    assert tracker.unmet(state) == [need]


def test_a_need_repairs_after_seconds_and_a_custom_text_reads_state():
    tracker = NeedTracker()
    need = Need("email", "an email address", after_turns=None, after_s=5.0, reask="{name|Caller}, I still need {ask}.")
    tracker.enter([need], now=10.0)
    assert tracker.due({}, 14.9) is None
    repair = tracker.due({"name": "Ada"}, 15.0)
    assert repair is not None and repair.reason == "time" and repair.effects[0].text == "{name|Caller}, I still need an email address."
    assert tracker.due({}, 19.9) is None and tracker.due({}, 20.0) is not None
    tracker.enter([need], now=30.0)
    assert tracker.due({"email": "ada@example.org"}, 100.0) is None
    assert all_filled("a", "b")(StateStore({"a": 1, "b": "x"})) and not all_filled("a", "b")(StateStore({"a": 1, "b": ""}))


async def _run(tmp_path, server, pattern, phases, rules: LiveRules | None = None):
    core = build_core(tmp_path)
    async with trio.open_nursery() as nursery:
        url = await server.start(nursery)
        async with core.open_session(voice_info(tmp_path)) as session:
            transport = WavFileTransport(None, None, input_pcm=pattern, paced=True)
            controller = VoiceController(session, transport, lambda: OpenAIRealtimeBackend(api_key=KEY, url=url), config=VoiceConfig(rules=rules or LiveRules()), phases=phases)
            with trio.fail_after(RUN_LIMIT_S):
                await controller.run()
            rows = transcript(session.history)
        nursery.cancel_scope.cancel()
    return controller, rows


def _order_number_rule() -> Rule:
    def number(event, _state):
        found = re.search(r"\d+", event.text)
        return [SetState("order_number", int(found.group()))] if found else []

    return Rule("order number", UserTurn, number)


async def test_an_unmet_need_is_reasked_after_two_turns_and_then_filled(tmp_path, autojump_clock):
    phases = PhaseMachine(
        [Phase("intake", "Take the order.", needs=(Need("order_number", "the order number", after_turns=2),)), Phase("done", "Confirm.")],
        [Transition("intake", "done", guard=all_filled("order_number"))],
        initial="intake",
    )
    server = FakeRealtimeServer(
        transcripts=["hello", "i have a question", "it is 42"],
        replies=[Reply("Hi"), Reply("Sure go ahead"), Reply("What is your order number"), Reply("Thanks")],
    )
    pattern = speech_pattern([("silence", 200), ("speech", 600), ("silence", 3000), ("speech", 600), ("silence", 5000), ("speech", 600), ("silence", 4000)])
    controller, rows = await _run(tmp_path, server, pattern, phases, LiveRules(rules=[_order_number_rule()]))
    metrics = controller.metrics
    assert [(r.need, r.action, r.attempt, r.reason, r.phase) for r in metrics.repairs] == [("order_number", "reask", 1, "turns", "intake")]
    repair_row = next(r for r in rows if r[0] == "context")
    assert "You still need the order number" in repair_row[1]
    assistant = [text for role, text in rows if role == "assistant"]
    assert assistant == ["Hi", "Sure go ahead", "What is your order number", "Thanks"]
    # The repair came after the second answer and made the model ask.
    assert rows.index(repair_row) == rows.index(("assistant", "Sure go ahead")) + 1
    assert controller.store["order_number"] == 42 and phases.current.name == "done"
    items = [m["item"] for m in server.connections[0].of_type("conversation.item.create")]
    assert any("You still need the order number" in item["content"][0]["text"] for item in items)


async def test_an_unmet_need_is_repaired_after_seconds_of_silence(tmp_path, autojump_clock):
    need = Need("order_number", "the order number", after_turns=None, after_s=5.0, max_repairs=2)
    phases = PhaseMachine([Phase("intake", "Take the order.", needs=(need,))], [], initial="intake")
    server = FakeRealtimeServer(transcripts=["hello"], replies=[Reply("Hi"), Reply("What is your order number"), Reply("I need the number to find it")])
    pattern = speech_pattern([("silence", 200), ("speech", 600), ("silence", 16_000)])
    controller, rows = await _run(tmp_path, server, pattern, phases)
    repairs = controller.metrics.repairs
    assert [(r.action, r.reason) for r in repairs] == [("reask", "time"), ("rephrase", "time")]
    # Phase entered at the start (the call was idle then); the clock restarts at each repair.
    assert 5.0 <= repairs[0].at < 5.3 and 5.0 <= repairs[1].at - repairs[0].at < 5.3
    assert [text for role, text in rows if role == "assistant"] == ["Hi", "What is your order number", "I need the number to find it"]


async def test_an_escalation_takes_the_declared_transition(tmp_path, autojump_clock):
    need = Need("order_number", "the order number", after_turns=1, escalate="human", reask="Ask for {ask}.", rephrase="Ask for {ask} again.")
    phases = PhaseMachine(
        [Phase("intake", "Take the order.", needs=(need,)), Phase("human", "Say a person will call back.")],
        [Transition("intake", "human", automatic=False)],
        initial="intake",
    )
    server = FakeRealtimeServer(transcripts=["hello", "no", "dunno"], replies=[Reply("Hi"), Reply("Number please"), Reply("Ok"), Reply("Number again"), Reply("Hmm")])
    pattern = speech_pattern(
        [("silence", 200), ("speech", 600), ("silence", 4000), ("speech", 600), ("silence", 4000), ("speech", 600), ("silence", 4000)]
    )
    controller, _rows = await _run(tmp_path, server, pattern, phases)
    assert [r.action for r in controller.metrics.repairs] == ["reask", "rephrase", "escalate"]
    assert phases.current.name == "human" and phases.transitions[-1].trigger == "rule:need:order_number"
    assert controller.store["session.phase"] == "human"


async def test_a_repair_is_spoken_by_the_offline_cascade(tmp_path):
    import importlib.util
    import shutil
    from pathlib import Path

    import pytest

    from agentcore.live.cascade import CascadeBackend
    from agentcore.live.stt import PocketsphinxStt, grammar_for

    if importlib.util.find_spec("pocketsphinx") is None or shutil.which("espeak-ng") is None:
        pytest.skip("the offline cascade needs pocketsphinx (pip) and espeak-ng (apt-get install espeak-ng)")
    fixture = Path(__file__).parent / "fixtures" / "hello_there.wav"
    need = Need("order_number", "the order number", after_turns=1, reask="Ask for {ask}.", max_repairs=1)
    phases = PhaseMachine([Phase("intake", "Take the order.", needs=(need,))], [], initial="intake")
    core = build_core(tmp_path)
    async with core.open_session(voice_info(tmp_path)) as session:
        transport = WavFileTransport(fixture, tmp_path / "answer.wav", paced=False, trailing_silence_ms=800)
        controller = VoiceController(
            session,
            transport,
            lambda: CascadeBackend(session, stt=PocketsphinxStt(grammar=grammar_for(["hello there"]))),
            config=VoiceConfig(finish_idle_s=0.5, soft_turn_s=10.0),
            phases=phases,
        )
        with trio.fail_after(60):
            await controller.run()
        rows = transcript(session.history)
    assert [(r.action, r.reason) for r in controller.metrics.repairs] == [("reask", "turns")]
    assert rows[:2] == [("user", "hello there"), ("assistant", "hello there")]  # the echo provider answers
    assert ("context", "Ask for the order number.") in rows
    assert len(controller.metrics.turns) == 2  # the repair made the cascade answer again
