"""Snapshots through SessionPersistence (memory and file), with the recent
turns as values and the phase transition history; the cascade's usage is
counted once."""

from __future__ import annotations

import json

import pytest
import trio

from agentcore.events import LlmCallFinished
from agentcore.live.cascade import CascadeBackend
from agentcore.live.controller import VoiceController
from agentcore.live.openai_realtime import OpenAIRealtimeBackend
from agentcore.live.persistence import FileSnapshotStore, MemorySnapshotStore, SessionPersistence
from agentcore.live.phases import Phase, PhaseMachine, PhaseTransition, StateStore, Transition
from agentcore.live.snapshot import LiveSnapshot, SnapshotError
from agentcore.live.stt import PocketsphinxStt, grammar_for
from agentcore.live.transcript import ToolUse, TranscriptTurn, TranscriptWindow
from agentcore.live.transport import WavFileTransport
from agentcore.messages import AssistantMessage, MessageKind, TextBlock, ToolResultBlock, ToolResultMessage, ToolUseBlock, UserMessage
from fake_realtime import FakeRealtimeServer, Reply
from live_helpers import build_core, speech_pattern, voice_info
from test_live_cascade import FIXTURES, PHRASES, QUICK, needs_cascade

SNAPSHOT = LiveSnapshot(
    "sess_1",
    "openai-realtime",
    phase="help",
    transcript=("user: hi",),
    store={"name": "Ada", "items": ["router"]},
    turns=(TranscriptTurn("hi", "hello", (ToolUse("lookup", {"q": "x"}, "found", False),), ("premium caller",)),),
    transitions=(PhaseTransition("greet", "help", "guard", 1.5), PhaseTransition("help", "wrap", "handle", 9.0)),
)


def _stores(tmp_path) -> list[SessionPersistence]:
    return [MemorySnapshotStore(), FileSnapshotStore(tmp_path / "voice" / "sess_1.json")]


def test_both_stores_round_trip_turns_and_transitions(tmp_path):
    for store in _stores(tmp_path):
        assert isinstance(store, SessionPersistence)
        assert store.load("sess_1") is None
        store.save(SNAPSHOT)
        loaded = store.load("sess_1")
        assert loaded == SNAPSHOT and loaded is not SNAPSHOT
        assert store.load("another") is None
    old = tmp_path / "v1.json"  # a version 1 file (before turns and transitions) still loads
    old.write_text(json.dumps({"version": 1, "session_id": "s", "backend": "cascade", "phase": None, "state": "listening",
                               "transcript": ["user: a"], "resumption_handle": None, "store": {}, "updated": 0.0}))
    assert FileSnapshotStore(old).load() == LiveSnapshot("s", "cascade", transcript=("user: a",))
    old.write_text(json.dumps({"version": 2, "session_id": "s", "backend": "x", "transitions": [{"source": "a"}]}))
    with pytest.raises(SnapshotError, match="not a live snapshot"):
        FileSnapshotStore(old).load()


def test_transcript_turns_group_history():
    messages = [
        UserMessage((TextBlock("where is my order"),)),
        AssistantMessage((TextBlock("Let me look."), ToolUseBlock("c1", "lookup", {"order": 12}))),
        ToolResultMessage((ToolResultBlock("c1", (TextBlock("shipped"),)),)),
        AssistantMessage((TextBlock("It shipped."),)),
        UserMessage((TextBlock("the caller is premium"),), kind=MessageKind.CONTEXT),
        UserMessage((TextBlock("thanks"),)),
        AssistantMessage((TextBlock("Bye."),)),
    ]
    window = TranscriptWindow.from_history(messages, 2)
    first, second = window.turns
    assert first == TranscriptTurn("where is my order", "Let me look. It shipped.", (ToolUse("lookup", {"order": 12}, "shipped"),))
    assert second == TranscriptTurn("thanks", "Bye.", (), ("the caller is premium",))
    assert window.lines() == ("user: where is my order", "assistant: Let me look. It shipped.", "user: thanks", "assistant: Bye.")
    assert 'Tool lookup({"order": 12}): shipped' in window.render()
    assert TranscriptWindow.from_history(messages, 1).last == second


def _phases() -> PhaseMachine:
    return PhaseMachine(
        [Phase("greet", "Greet."), Phase("help", "Help.")],
        [Transition("greet", "help", guard=lambda s: s.get("name") is not None)],
        initial="greet",
        store=StateStore(),
    )


@pytest.mark.parametrize("kind", ["memory", "file"])
async def test_a_session_saves_and_resumes_its_transition_history(tmp_path, autojump_clock, kind):
    persistence = MemorySnapshotStore() if kind == "memory" else FileSnapshotStore(tmp_path / "snap.json")
    server = FakeRealtimeServer(transcripts=["hello", "again"], replies=[Reply("Hi"), Reply("Hi again")])
    pattern = speech_pattern([("silence", 200), ("speech", 600), ("silence", 3000)])
    core = build_core(tmp_path)
    async with trio.open_nursery() as nursery:
        url = await server.start(nursery)
        async with core.open_session(voice_info(tmp_path)) as session:
            controllers = []
            for run in range(2):  # the second run is a restart of the same session
                transport = WavFileTransport(None, None, input_pcm=pattern, paced=True)
                phases = _phases()
                controller = VoiceController(session, transport, lambda: OpenAIRealtimeBackend(api_key="sk-x", url=url), phases=phases, snapshots=persistence)
                if run == 0:
                    controller.handle.set_state("name", "Ada")
                with trio.fail_after(120):
                    await controller.run()
                controllers.append(controller)
        nursery.cancel_scope.cancel()
    saved = persistence.load(session.id)
    assert saved is not None and saved.phase == "help"
    (transition,) = saved.transitions
    assert (transition.source, transition.target, transition.trigger) == ("greet", "help", "guard")
    assert controllers[0].metrics.phase_transitions == [transition]
    assert controllers[1].phases.transitions == [transition]  # restored, not taken again
    assert [(t.user, t.reply) for t in saved.turns] == [("hello", "Hi"), ("again", "Hi again")]


@needs_cascade
async def test_the_cascade_charges_each_answer_once(tmp_path):
    core = build_core(tmp_path)
    async with core.open_session(voice_info(tmp_path)) as session:
        calls: list[LlmCallFinished] = []
        session.events.add_observer(lambda e: calls.append(e) if isinstance(e, LlmCallFinished) else None)
        transport = WavFileTransport(FIXTURES / "hello_there.wav", None, paced=False, trailing_silence_ms=800)
        controller = VoiceController(session, transport, lambda: CascadeBackend(session, stt=PocketsphinxStt(grammar=grammar_for(PHRASES))), config=QUICK)
        with trio.fail_after(60):
            await controller.run()
    assert len(calls) == 1 and calls[0].usage.output_tokens > 0
    assert session.usage == calls[0].usage  # was twice the call's usage: the turn's and again from ResponseDone
    assert controller.metrics.usage == calls[0].usage  # the voice telemetry still shows it
