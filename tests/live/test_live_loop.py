"""The voice loop's semantics (vona): why a session ended, a backend that
finishes is not reconnected, slow tools with a bridge phrase and a hard limit,
the executing-tool state, and the speech style reaching every backend."""

from __future__ import annotations

import shutil

import pytest
import trio
from fake_gemini import FakeGeminiServer, GeminiReply
from fake_realtime import FakeRealtimeServer, Faults, Reply
from live_helpers import build_core, speech_pattern, transcript, voice_info

from agentcore import FunctionTool
from agentcore.live.controller import DetectorRule, Signal, VoiceConfig, VoiceController
from agentcore.live.gemini_live import GeminiLiveBackend
from agentcore.live.openai_realtime import OpenAIRealtimeBackend
from agentcore.live.outcome import CloseReason
from agentcore.live.phases import TurnCounter
from agentcore.live.state import VoiceState
from agentcore.live.style import Formality, SpeechStyle, StyleError, Warmth
from agentcore.live.tools import ToolTimeout
from agentcore.live.transport import WavFileTransport
from agentcore.live.tts import EspeakTts

KEY = "sk-test-loop-key"
RUN_LIMIT_S = 120  # virtual seconds
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
ONE_TURN = [("silence", 200), ("speech", 800), ("silence", 3000)]
STYLE = SpeechStyle(voice="cedar", pace=1.2, warmth=Warmth.WARM, formality=Formality.FORMAL)


async def _talk(tmp_path, server, *, pattern=ONE_TURN, config=None, tools=(), gemini=False, style=None):
    config = config or VoiceConfig()
    core = build_core(tmp_path, tools=tools)
    async with trio.open_nursery() as nursery:
        url = await server.start(nursery)
        async with core.open_session(voice_info(tmp_path)) as session:
            rate = 16_000 if gemini else 24_000
            transport = WavFileTransport(None, None, input_pcm=speech_pattern(pattern, rate=rate))
            kwargs = {"style": style} if style is not None else {}
            if gemini:
                factory = lambda: GeminiLiveBackend(api_key="g-key", url=url, **kwargs)
            else:
                factory = lambda: OpenAIRealtimeBackend(api_key=KEY, url=url, **kwargs)
            controller = VoiceController(session, transport, factory, config=config)
            with trio.fail_after(RUN_LIMIT_S):
                summary = await controller.run()
            rows = transcript(session.history)
            session_id = session.id
        nursery.cancel_scope.cancel()
    return summary, controller, rows, session_id


# ----------------------------------------------------------------- close reasons


async def test_input_ending_closes_with_transport_closed(tmp_path, autojump_clock):
    server = FakeRealtimeServer(transcripts=["hello"], replies=[Reply("Hi there")])
    summary, _c, rows, session_id = await _talk(tmp_path, server)
    assert summary.reason is CloseReason.TRANSPORT_CLOSED and summary.ok
    assert summary.session_id == session_id and summary.backend == "openai-realtime"
    assert len(summary.metrics.turns) == 1 and rows == [("user", "hello"), ("assistant", "Hi there")]


async def test_a_backend_that_finishes_ends_the_session_without_reconnecting(tmp_path, autojump_clock):
    server = FakeRealtimeServer(transcripts=["bye"], replies=[Reply("Goodbye")], faults=Faults(finish_after_responses=1))
    # Speech keeps coming after the server ended the conversation: nobody reconnects for it.
    pattern = [("silence", 200), ("speech", 800), ("silence", 3000), ("speech", 800), ("silence", 3000)]
    summary, _c, rows, _id = await _talk(tmp_path, server, pattern=pattern)
    assert summary.reason is CloseReason.BACKEND_FINISHED
    assert "1000" in summary.message
    assert len(server.connections) == 1 and summary.metrics.reconnects == 0
    assert rows == [("user", "bye"), ("assistant", "Goodbye")]


async def test_a_dropped_connection_is_still_reconnected(tmp_path, autojump_clock):
    server = FakeRealtimeServer(transcripts=["tell me", "again"], replies=[Reply("one two three four five"), Reply("Sure")],
                                faults=Faults(disconnect_after_audio=2))  # fmt: skip
    pattern = [("silence", 200), ("speech", 800), ("silence", 3000), ("speech", 800), ("silence", 3000)]
    summary, _c, _rows, _id = await _talk(tmp_path, server, pattern=pattern)
    assert len(server.connections) == 2 and summary.metrics.reconnects == 1
    assert summary.reason is CloseReason.TRANSPORT_CLOSED


async def test_gemini_closing_normally_is_backend_finished(tmp_path, autojump_clock):
    server = FakeGeminiServer(transcripts=["bye"], replies=[GeminiReply("Goodbye")], finish_after_turns=1)
    summary, _c, _rows, _id = await _talk(tmp_path, server, gemini=True)
    assert summary.reason is CloseReason.BACKEND_FINISHED and len(server.connections) == 1


async def test_a_policy_ends_the_session_with_its_reason(tmp_path, autojump_clock):
    async def hang_up(controller: VoiceController) -> None:
        await controller.end_session("the caller said goodbye")

    server = FakeRealtimeServer(transcripts=["goodbye", "are you there"], replies=[Reply("Bye"), Reply("Yes")])
    config = VoiceConfig(detectors=(DetectorRule(Signal.USER_TURN, TurnCounter(1), hang_up),))
    pattern = [("silence", 200), ("speech", 800), ("silence", 3000), ("speech", 800), ("silence", 3000)]
    summary, _c, rows, _id = await _talk(tmp_path, server, pattern=pattern, config=config)
    assert summary.reason is CloseReason.POLICY_ENDED and summary.message == "the caller said goodbye"
    assert ("user", "are you there") not in rows  # nothing after the policy ended it


# ------------------------------------------------------------------ slow tools


def _slow_weather(delay_s: float, finished: list[str]) -> FunctionTool:
    async def weather(args, ctx):
        await trio.sleep(delay_s)
        finished.append(args["city"])
        return f"sunny in {args['city']}"

    return FunctionTool("lookup_weather", "Weather for a city.", SCHEMA, fn=weather)


def _say_requests(server: FakeRealtimeServer) -> list[str]:
    return [m["response"]["instructions"] for m in server.connections[0].of_type("response.create") if "response" in m]


async def test_a_slow_tool_gets_a_bridge_phrase_then_its_result(tmp_path, autojump_clock):
    finished: list[str] = []
    server = FakeRealtimeServer(
        transcripts=["weather in paris"],
        replies=[Reply(tool=("lookup_weather", {"city": "Paris"})), Reply("One moment"), Reply("It is sunny in Paris")],
    )
    timeout = ToolTimeout(bridge_after_s=1.0, limit_s=10.0, bridge="One moment.")
    config = VoiceConfig(tool_timeouts={"lookup_weather": timeout})
    pattern = [("silence", 200), ("speech", 800), ("silence", 9000)]
    summary, controller, rows, _id = await _talk(tmp_path, server, pattern=pattern, config=config, tools=[_slow_weather(4.0, finished)])
    said = _say_requests(server)
    assert len(said) == 1 and "One moment." in said[0]
    bridge = next(m for m in server.connections[0].of_type("response.create") if "response" in m)
    assert bridge["response"]["tool_choice"] == "none"  # a bridge phrase never calls tools
    outputs = [m["item"] for m in server.connections[0].of_type("conversation.item.create")]
    assert outputs[-1]["type"] == "function_call_output" and outputs[-1]["output"] == "sunny in Paris"
    assert finished == ["Paris"] and summary.metrics.bridge_phrases == 1 and summary.metrics.tool_timeouts == 0
    # History keeps a result right after its call (what providers require); the bridge phrase follows.
    assert rows == [("user", "weather in paris"), ("tool_use", "lookup_weather"), ("tool_result", "sunny in Paris"),
                    ("assistant", "One moment"), ("assistant", "It is sunny in Paris")]  # fmt: skip
    visited = controller.state.visited()
    executing = visited.index(VoiceState.EXECUTING_TOOL)
    assert visited[executing - 1] is VoiceState.THINKING
    # executing_tool -> the bridge phrase is spoken -> executing_tool again until the result is in
    assert visited[executing:].count(VoiceState.EXECUTING_TOOL) == 2


async def test_a_tool_past_its_hard_limit_is_cancelled_with_a_spoken_apology(tmp_path, autojump_clock):
    finished: list[str] = []
    server = FakeRealtimeServer(
        transcripts=["weather in paris"],
        replies=[Reply(tool=("lookup_weather", {"city": "Paris"})), Reply("One moment"), Reply("Sorry that took too long")],
    )
    timeout = ToolTimeout(bridge_after_s=1.0, limit_s=5.0, bridge="One moment.", apology="Sorry, that took too long.")
    config = VoiceConfig(default_tool_timeout=timeout)
    pattern = [("silence", 200), ("speech", 800), ("silence", 12000)]
    summary, _c, rows, _id = await _talk(tmp_path, server, pattern=pattern, config=config, tools=[_slow_weather(60.0, finished)])
    assert finished == []  # cancelled at the limit, never finished
    said = _say_requests(server)
    assert len(said) == 2 and "One moment." in said[0] and "Sorry, that took too long." in said[1]
    output = [m["item"] for m in server.connections[0].of_type("conversation.item.create")][-1]
    assert output["type"] == "function_call_output" and "did not finish within 5 seconds" in output["output"]
    assert summary.metrics.tool_timeouts == 1 and summary.metrics.tool_failures == 1
    assert ("assistant", "Sorry that took too long") in rows
    assert summary.reason is CloseReason.TRANSPORT_CLOSED


async def test_a_quick_tool_shows_executing_tool_and_no_bridge(tmp_path, autojump_clock):
    server = FakeRealtimeServer(transcripts=["weather in paris"], replies=[Reply(tool=("lookup_weather", {"city": "Paris"})), Reply("Sunny")])
    config = VoiceConfig(default_tool_timeout=ToolTimeout(bridge_after_s=2.0, limit_s=10.0))
    summary, controller, _rows, _id = await _talk(tmp_path, server, config=config, tools=[_slow_weather(0.5, [])])
    visited = controller.state.visited()
    assert VoiceState.EXECUTING_TOOL in visited
    after = visited[visited.index(VoiceState.EXECUTING_TOOL) + 1]
    assert after is VoiceState.THINKING  # the result went back; the answer is awaited
    assert _say_requests(server) == [] and summary.metrics.bridge_phrases == 0


# ---------------------------------------------------------------- speech style


async def test_style_reaches_the_openai_session(tmp_path, autojump_clock):
    server = FakeRealtimeServer(transcripts=["hello"], replies=[Reply("Good day")])
    config = VoiceConfig(style=STYLE)
    await _talk(tmp_path, server, config=config, style=STYLE)
    session = server.connections[0].of_type("session.update")[0]["session"]
    assert session["audio"]["output"]["voice"] == "cedar" and session["audio"]["output"]["speed"] == 1.2
    assert "warm and friendly" in session["instructions"] and "formal, polite language" in session["instructions"]


async def test_style_reaches_the_gemini_setup(tmp_path, autojump_clock):
    style = SpeechStyle(voice="Kore", pace=0.7, warmth=Warmth.COOL, formality=Formality.CASUAL)
    server = FakeGeminiServer(transcripts=["hello"], replies=[GeminiReply("Hey")])
    await _talk(tmp_path, server, gemini=True, config=VoiceConfig(style=style), style=style)
    setup = server.connections[0].setup
    assert setup["generationConfig"]["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]["voiceName"] == "Kore"
    text = setup["systemInstruction"]["parts"][0]["text"]
    assert "speak slowly" in text and "casual" in text and "matter-of-fact" in text  # Live has no speed: pace in words


def test_neutral_style_adds_nothing_and_pace_is_checked():
    assert SpeechStyle().instructions() is None
    with pytest.raises(StyleError):
        SpeechStyle(pace=3.0)


def test_style_maps_to_espeak_arguments():
    tts = EspeakTts(style=SpeechStyle(espeak_voice="en-gb", pace=0.8, warmth=Warmth.WARM))
    argv = tts.argv()
    assert argv[:3] == ["espeak-ng", "--stdout", "--stdin"]
    assert argv[3:] == ["-v", "en-gb", "-s", "136", "-p", "40"]


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng (apt-get install espeak-ng)")
async def test_a_slower_pace_makes_longer_speech():
    text = "The weather in Paris is sunny today."
    slow = await EspeakTts(style=SpeechStyle(pace=0.6)).synthesize(text)
    fast = await EspeakTts(style=SpeechStyle(pace=1.4)).synthesize(text)
    assert slow.duration_ms > 1.5 * fast.duration_ms
