"""Turn-windowed extraction: a structured-output call to the session's own
provider (a loopback OpenAI-wire LLM) between turns, merged into state."""

from __future__ import annotations

import json

import pytest
import trio

from agentcore.events import UsageCharged
from agentcore.live.callbacks import CallbackMode
from agentcore.live.control_events import ExtractionCompleted, ExtractionFailed, TurnCompleted
from agentcore.live.controller import VoiceConfig, VoiceController
from agentcore.live.extraction import (
    EveryNTurns,
    EveryTurn,
    ExtractField,
    ExtractionError,
    Merge,
    OnKeyword,
    OnPhase,
    TurnExtractor,
)
from agentcore.live.flow import StateUpdate
from agentcore.live.openai_realtime import OpenAIRealtimeBackend
from agentcore.live.phases import StateStore
from agentcore.live.state import VoiceState
from agentcore.live.transcript import TranscriptTurn
from agentcore.live.transport import WavFileTransport
from agentcore.messages import AssistantMessage, TextBlock, UserMessage
from fake_realtime import FakeRealtimeServer, Reply
from fakes.llm_server import Reply as HttpReply
from live_helpers import speech_pattern, transcript, voice_info
from live_llm import MODEL, error_reply, fields_reply, llm_core, text_reply

SAFE_TIMEOUT_S = 600.0  # virtual seconds under the autojump clock: loopback I/O never reaches it
FIELDS = (
    ExtractField("name", "The caller's full name", merge=Merge.REPLACE, promote="caller"),
    ExtractField("topic", "What the call is about", merge=Merge.KEEP_FIRST),
    ExtractField("items", "Products mentioned", merge=Merge.APPEND),
    ExtractField("order", "The order number", type="integer"),
)


def _say(session, user: str, reply: str) -> None:
    session.history.append(UserMessage((TextBlock(user),)))
    session.history.append(AssistantMessage((TextBlock(reply),), model=MODEL))


def _done(index: int, user: str = "", phase: str | None = None, status: str = "completed") -> TurnCompleted:
    return TurnCompleted(index, f"resp_{index}", status, phase, TranscriptTurn(user=user, reply="ok"))


async def test_each_merge_policy_and_promotion_to_metadata(tmp_path):
    async with llm_core(tmp_path) as (server, core):
        async with core.open_session(voice_info(tmp_path)) as session:
            charged: list[UsageCharged] = []
            session.events.add_observer(lambda e: charged.append(e) if isinstance(e, UsageCharged) else None)
            store = StateStore()
            extractor = TurnExtractor(session, FIELDS, store=store, timeout_s=SAFE_TIMEOUT_S)
            server.enqueue(
                fields_reply({"name": "Ada", "topic": "billing", "items": ["router"], "order": 1234}),
                fields_reply({"name": "Ada Lovelace", "topic": "refund", "items": ["cable", "router"], "order": None}),
            )
            _say(session, "Hi, I'm Ada, it's about my bill for the router, order 1234", "Thanks Ada.")
            first = await extractor.extract(1)
            _say(session, "Actually Ada Lovelace, and I want a refund for the cable", "Noted.")
            second = await extractor.extract(2)
            assert isinstance(first, ExtractionCompleted) and isinstance(second, ExtractionCompleted)
            assert store.as_dict() == {"name": "Ada Lovelace", "topic": "billing", "items": ["router", "cable"], "order": 1234}
            assert second.values == {"name": "Ada Lovelace", "items": ["router", "cable"]}  # topic kept, order not restated
            assert session.metadata["caller"] == "Ada Lovelace" and second.promoted == ("caller",)
            # The structured-output request: a forced record_fields call over the window, schema from the fields.
            body = server.requests[1].json()
            assert body["tool_choice"] == {"type": "function", "function": {"name": "record_fields"}}
            schema = body["tools"][0]["function"]["parameters"]
            assert schema["properties"]["items"]["type"] == ["array", "null"] and schema["properties"]["order"]["type"] == ["integer", "null"]
            prompt = json.dumps(body["messages"])
            assert "Ada Lovelace" in prompt and "Recorded so far" in prompt
            # Charged to the session like compaction: journaled with a source.
            assert [c.source for c in charged] == ["extraction", "extraction"]
            assert session.usage.output_tokens == 60 and session.cost_usd == pytest.approx(charged[0].cost_usd * 2) and charged[0].cost_usd > 0


async def test_failures_are_telemetry_not_errors(tmp_path, autojump_clock):
    async with llm_core(tmp_path) as (server, core):
        async with core.open_session(voice_info(tmp_path)) as session:
            store = StateStore({"name": "Grace"})
            reports: list = []
            extractor = TurnExtractor(session, FIELDS, store=store, timeout_s=5.0, report=reports.append)
            _say(session, "hello", "hi")
            server.enqueue(
                text_reply("I think the name is Grace"),  # prose, not JSON
                fields_reply({"name": 42, "order": "twelve"}),  # wrong types: rejected field by field
                error_reply(),
                HttpReply(parts=(), end="hang"),
            )
            invalid = await extractor.extract(1)
            typed = await extractor.extract(2)
            provider = await extractor.extract(3)
            timeout = await extractor.extract(4)
            assert isinstance(invalid, ExtractionFailed) and invalid.reason == "invalid"
            assert isinstance(typed, ExtractionCompleted) and typed.values == {} and set(typed.rejected) == {"name", "order"}
            assert isinstance(provider, ExtractionFailed) and provider.reason == "provider"
            assert isinstance(timeout, ExtractionFailed) and timeout.reason == "timeout"
            assert store.as_dict() == {"name": "Grace"}
            assert reports == extractor.records == [invalid, typed, provider, timeout]


async def test_triggers_select_turns(tmp_path):
    assert [EveryNTurns(2).fires(_done(i)) for i in (1, 2, 3, 4)] == [False, True, False, True]
    assert OnPhase(("intake",)).fires(_done(1, phase="intake")) and not OnPhase(("intake",)).fires(_done(1, phase="wrap"))
    assert OnKeyword(("order",)).fires(_done(1, "my ORDER number")) and not OnKeyword(("order",)).fires(_done(1, "reorder it"))
    async with llm_core(tmp_path) as (_server, core):
        async with core.open_session(voice_info(tmp_path)) as session:
            extractor = TurnExtractor(session, FIELDS, store=StateStore(), triggers=(OnKeyword(("order",)), OnPhase(("wrap",))))
            assert not extractor.turn_completed(_done(1, "hello"))
            assert extractor.turn_completed(_done(2, "about my order"))
            assert extractor.turn_completed(_done(3, "bye", phase="wrap"))
            assert extractor.coalesced == 1  # two selected turns before the run: one extraction over the window
            assert not extractor.turn_completed(_done(4, "my order", status="failed"))
            assert EveryTurn().fires(_done(9))
    with pytest.raises(ExtractionError):
        ExtractField("not a name")
    with pytest.raises(ExtractionError):
        ExtractField("n", type="date")


async def _voice_run(tmp_path, server, llm, core, pattern, *, extractor_fields=FIELDS, on_controller=None, llm_replies=()):
    async with trio.open_nursery() as nursery:
        url = await server.start(nursery)
        async with core.open_session(voice_info(tmp_path)) as session:
            store = StateStore()
            extractor = TurnExtractor(session, extractor_fields, store=store, timeout_s=SAFE_TIMEOUT_S) if extractor_fields else None
            llm.enqueue(*llm_replies)
            transport = WavFileTransport(None, None, input_pcm=pattern, paced=True)
            controller = VoiceController(
                session, transport, lambda: OpenAIRealtimeBackend(api_key="sk-x", url=url), config=VoiceConfig(), extractors=[extractor] if extractor else []
            )
            if on_controller is not None:
                on_controller(controller, extractor)
            with trio.fail_after(120):
                await controller.run()
            result = (session, controller, controller.metrics, store, transcript(session.history))
        nursery.cancel_scope.cancel()
    return result


async def test_extraction_after_a_spoken_turn_fills_state(tmp_path, autojump_clock):
    server = FakeRealtimeServer(transcripts=["my name is Ada and I bought a router"], replies=[Reply("Thanks Ada")])
    pattern = speech_pattern([("silence", 200), ("speech", 800), ("silence", 3000)])
    seen: list = []

    def wire(controller, _extractor):
        controller.callbacks.on(TurnCompleted, seen.append)
        controller.callbacks.on(ExtractionCompleted, seen.append, mode=CallbackMode.QUEUED)

    async with llm_core(tmp_path) as (llm, core):
        session, controller, metrics, store, rows = await _voice_run(
            tmp_path, server, llm, core, pattern, on_controller=wire, llm_replies=[fields_reply({"name": "Ada", "items": ["router"]})]
        )
        window = json.dumps(llm.requests[0].json()["messages"])
    assert rows == [("user", "my name is Ada and I bought a router"), ("assistant", "Thanks Ada")]
    assert "User: my name is Ada and I bought a router" in window and "Assistant: Thanks Ada" in window
    assert store.as_dict() == {"name": "Ada", "items": ["router"]}
    assert session.metadata["caller"] == "Ada"
    turn, extracted = seen
    assert isinstance(turn, TurnCompleted) and turn.index == 1 and turn.turn.user == "my name is Ada and I bought a router"
    assert isinstance(extracted, ExtractionCompleted) and extracted.values == {"name": "Ada", "items": ["router"]}
    assert metrics.extractions == [extracted] and metrics.extraction_failures == 0


async def test_a_running_extraction_does_not_delay_audio(tmp_path, autojump_clock):
    transcripts = ["first question", "second question"]
    pattern = speech_pattern([("silence", 200), ("speech", 600), ("silence", 2500), ("speech", 600), ("silence", 3000)])
    speaking: list[bool] = []

    def wire(controller, extractor):
        def on_state(update: StateUpdate) -> None:
            if update.state is VoiceState.SPEAKING:
                speaking.append(extractor.busy if extractor else False)

        controller.callbacks.on(StateUpdate, on_state)

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    async with llm_core(tmp_path) as (llm, core):
        baseline = await _voice_run(
            tmp_path / "a", FakeRealtimeServer(transcripts=list(transcripts), replies=[Reply("One answer"), Reply("Two answer")]),
            llm, core, pattern, extractor_fields=(),
        )
        hanging = await _voice_run(
            tmp_path / "b", FakeRealtimeServer(transcripts=list(transcripts), replies=[Reply("One answer"), Reply("Two answer")]),
            llm, core, pattern, on_controller=wire, llm_replies=[HttpReply(parts=(), end="hang")],
        )
    base_metrics, metrics = baseline[2], hanging[2]
    assert speaking == [False, True]  # the second answer played while the first extraction was still waiting
    assert metrics.time_to_first_audio_ms == base_metrics.time_to_first_audio_ms
    assert hanging[4] == baseline[4]
    assert isinstance(metrics.extractions[0], ExtractionFailed)  # the hanging call: telemetry, nothing else
