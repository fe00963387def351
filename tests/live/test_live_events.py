"""One event vocabulary for the reactor and the callbacks, and background agents
dispatched by reactor rules, run as real sub-agents of the voice session."""

from __future__ import annotations

import re

import pytest
import trio
from fake_realtime import FakeRealtimeServer, Reply
from fakes.llm_server import sse_reply
from fakes.vendor_wire import oa_text_stream
from live_agents import agents_core, profile_policy
from live_helpers import build_core, speech_pattern, transcript, voice_info

from agentcore.events import UsageCharged
from agentcore.live.agents import (
    BackgroundAgentError,
    SessionBackgroundAgents,
    session_agents,
)
from agentcore.live.control_events import (
    EVENT_TYPES,
    AgentFinished,
    PhaseChanged,
    StateChanged,
    TurnCompleted,
    UserTurn,
)
from agentcore.live.controller import VoiceConfig, VoiceController
from agentcore.live.director import LiveRules
from agentcore.live.openai_realtime import OpenAIRealtimeBackend
from agentcore.live.phases import Phase, PhaseMachine, Transition
from agentcore.live.reactions import (
    DispatchAgent,
    EndSession,
    GoToPhase,
    Rule,
    SetState,
)
from agentcore.live.transport import WavFileTransport

RUN_LIMIT_S = 60  # real seconds: input is fed as fast as possible, the run ends by a rule


async def _run(tmp_path, core, server, pattern, *, rules, phases=None, wire=None):
    async with trio.open_nursery() as nursery:
        url = await server.start(nursery)
        async with core.open_session(voice_info(tmp_path)) as session:
            transport = WavFileTransport(None, None, input_pcm=pattern, paced=False)
            config = VoiceConfig(rules=rules, stop_when_input_ends=False)  # only a rule ends the call
            controller = VoiceController(session, transport, lambda: OpenAIRealtimeBackend(api_key="sk-x", url=url), config=config, phases=phases)
            if wire is not None:
                wire(controller, session)
            with trio.fail_after(RUN_LIMIT_S):
                summary = await controller.run()
            rows = transcript(session.history)
        nursery.cancel_scope.cancel()
    return controller, summary, rows


async def test_callbacks_and_rules_see_the_same_events(tmp_path):
    seen_by_rules: list = []
    seen_by_callbacks: list = []
    kinds = (UserTurn, TurnCompleted, PhaseChanged, StateChanged)

    def record(event, _state):
        seen_by_rules.append(event)
        return []

    phases = PhaseMachine([Phase("greet", "Greet."), Phase("help", "Help.")], [Transition("greet", "help", automatic=False)], initial="greet")
    rules = LiveRules(
        rules=[
            Rule("watch", kinds, record, when=lambda e, s: not isinstance(e, StateChanged) or e.key == "caller", phases=None),
            Rule("name", UserTurn, [SetState("caller", compute=lambda e, s: e.text.split()[-1].capitalize())], when=lambda e, s: e.text.startswith("i am")),
            Rule("move on", TurnCompleted, [GoToPhase("help")], phases=("greet",)),
            Rule("bye", TurnCompleted, [EndSession("done")], phases=("help",)),
        ]
    )

    def wire(controller, _session):
        for kind in kinds:
            controller.callbacks.on(kind, lambda e: seen_by_callbacks.append(e) if not isinstance(e, StateChanged) or e.key == "caller" else None)

    server = FakeRealtimeServer(transcripts=["i am ada", "thanks"], replies=[Reply("Hello Ada"), Reply("Bye")])
    pattern = speech_pattern([("silence", 200), ("speech", 600), ("silence", 3000), ("speech", 600), ("silence", 3000)])
    controller, summary, _rows = await _run(tmp_path, build_core(tmp_path), server, pattern, rules=rules, phases=phases, wire=wire)
    assert summary.reason.value == "policy_ended" and summary.message == "done"
    # The very same values, in the same order, reached the rules and the callbacks.
    assert len(seen_by_rules) == len(seen_by_callbacks) and all(a is b for a, b in zip(seen_by_rules, seen_by_callbacks, strict=True))
    assert [type(e).__name__ for e in seen_by_rules] == [
        "UserTurn", "StateChanged", "TurnCompleted", "PhaseChanged", "UserTurn", "TurnCompleted",
    ]  # fmt: skip
    turn, changed = seen_by_rules[2], seen_by_rules[3]
    assert turn.index == 1 and turn.turn.user == "i am ada" and turn.turn.reply == "Hello Ada" and turn.phase == "greet"
    assert (changed.source, changed.target, changed.trigger) == ("greet", "help", "rule:move on")
    assert controller.metrics.phase_transitions == [changed.transition]
    assert set(EVENT_TYPES) >= {UserTurn, TurnCompleted, PhaseChanged, StateChanged, AgentFinished}


async def test_a_rule_dispatches_a_sub_agent_whose_answer_comes_back(tmp_path):
    policies = {"voice": profile_policy("voice", spawn=("researcher",)), "researcher": profile_policy("researcher")}
    finished: list[AgentFinished] = []

    def order(event, _state):
        found = re.search(r"\d+", event.text)
        return [SetState("order", found.group()), DispatchAgent("Find the repair status of order {order}.", result_key="repair_status")] if found else []

    rules = LiveRules(
        rules=[
            Rule("look it up", UserTurn, order),
            Rule("hang up", TurnCompleted, [EndSession("status given")], when=lambda e, s: s.get("repair_status") is not None and e.index == 2),
        ]
    )
    server = FakeRealtimeServer(transcripts=["what is the status of order 42"], replies=[Reply("Let me check"), Reply("Your laptop is ready")])
    pattern = speech_pattern([("silence", 200), ("speech", 600), ("silence", 3000)])
    charges: list[UsageCharged] = []

    def wire(controller, session):
        controller.callbacks.on(AgentFinished, finished.append)
        session.events.add_observer(lambda e: charges.append(e) if isinstance(e, UsageCharged) else None)

    async with agents_core(tmp_path, policies) as (llm, core):
        llm.routes["researcher"] = lambda body: _text("Order 42 is repaired and ready for pickup.")
        controller, summary, rows = await _run(tmp_path, core, server, pattern, rules=rules, wire=wire)
    assert summary.reason.value == "policy_ended" and summary.message == "status given"
    # The child: a fresh session of the researcher profile, given the rendered task only.
    (child,) = llm.calls_of("researcher")
    assert [m["role"] for m in child["messages"]] == ["system", "user"]
    assert child["messages"][1]["content"] in ("Find the repair status of order 42.", [{"type": "text", "text": "Find the repair status of order 42."}])
    # Its answer: in state, on the callbacks, and steered into the conversation, which answered it.
    assert controller.store["repair_status"] == "Order 42 is repaired and ready for pickup."
    assert finished == [AgentFinished("Find the repair status of order 42.", "Order 42 is repaired and ready for pickup.", "")]
    context = [text for role, text in rows if role == "context"]
    assert len(context) == 1 and "Order 42 is repaired and ready for pickup." in context[0]
    assistant = [text for role, text in rows if role == "assistant"]
    assert assistant == ["Let me check", "Your laptop is ready"]
    items = [m["item"] for m in server.connections[0].of_type("conversation.item.create")]
    assert any("ready for pickup" in str(item) for item in items)
    # The child's usage is charged to the voice session, journaled as a sub-agent's.
    assert [c.source for c in charges] == ["sub-agent"] and charges[0].cost_usd > 0
    assert [f.effects for f in controller.metrics.rules_fired if f.rule == "look it up"] == [("set:order", "agent")]


async def test_background_agents_keep_to_the_profiles_the_session_may_spawn(tmp_path):
    policies = {"voice": profile_policy("voice", spawn=("researcher",)), "researcher": profile_policy("researcher"), "solo": profile_policy("solo")}
    async with agents_core(tmp_path, policies) as (_llm, core):
        async with core.open_session(voice_info(tmp_path)) as session:
            agents = session_agents(session)
            assert isinstance(agents, SessionBackgroundAgents) and agents.profile_for(None) == "researcher"
            with pytest.raises(BackgroundAgentError, match="may not be started from this session"):
                await agents.run("anything", profile="solo")
        info = voice_info(tmp_path)
        async with core.open_session(type(info)(cwd=info.cwd, frontend=info.frontend, interactive=False, profile="solo")) as session:
            with pytest.raises(BackgroundAgentError, match="lists none under agents.spawn"):
                await session_agents(session).run("anything")


async def test_a_failed_dispatch_is_reported_not_raised(tmp_path):
    """No background agent available (a session without sub-agents): AgentFinished
    says why, the effect failure is counted, the call goes on."""
    finished: list[AgentFinished] = []
    rules = LiveRules(
        rules=[
            Rule("look it up", UserTurn, [DispatchAgent("Find order {order|unknown}.")]),
            Rule("hang up", AgentFinished, [EndSession("gave up")]),
        ]
    )

    class Broken:
        async def run(self, task: str, *, profile: str | None = None) -> str:
            raise BackgroundAgentError("the order system is down")

    def wire(controller, _session):
        controller.agents = Broken()
        controller.callbacks.on(AgentFinished, finished.append)

    server = FakeRealtimeServer(transcripts=["where is my order"], replies=[Reply("One moment")])
    pattern = speech_pattern([("silence", 200), ("speech", 600), ("silence", 3000)])
    controller, summary, _rows = await _run(tmp_path, build_core(tmp_path), server, pattern, rules=rules, wire=wire)
    assert finished == [AgentFinished("Find order unknown.", None, "the order system is down")]
    assert summary.message == "gave up" and controller.metrics.effect_failures == 1


def _text(answer: str):
    return sse_reply(*oa_text_stream(answer, prompt=500, completion=40))
