"""Voice sessions against a loopback Gemini Live server."""

from __future__ import annotations

from pathlib import Path

import trio

from agentcore import FunctionTool
from agentcore.live.controller import VoiceConfig, VoiceController
from agentcore.live.gemini_live import GeminiLiveBackend
from agentcore.live.state import VoiceState
from agentcore.live.transport import WavFileTransport
from fake_gemini import FakeGeminiServer, GeminiReply
from live_helpers import build_core, speech_pattern, transcript, voice_info

RUN_LIMIT_S = 120
KEY = "gemini-test-secret"
TEN_WORDS = "one two three four five six seven eight nine ten"


async def _run(tmp_path: Path, server: FakeGeminiServer, pattern, *, tools=(), config: VoiceConfig = VoiceConfig()):
    core = build_core(tmp_path, tools=tools)
    async with trio.open_nursery() as nursery:
        url = await server.start(nursery)
        async with core.open_session(voice_info(tmp_path)) as session:
            transport = WavFileTransport(None, None, input_pcm=pattern, paced=True)
            controller = VoiceController(session, transport, lambda: GeminiLiveBackend(api_key=KEY, url=url, model="gemini-test"), config=config)
            with trio.fail_after(RUN_LIMIT_S):  # virtual seconds: a stuck session fails, never hangs
                metrics = (await controller.run()).metrics
            result = (controller, metrics, transcript(session.history))
        nursery.cancel_scope.cancel()
    return result


async def test_gemini_turn_and_setup(tmp_path, autojump_clock):
    server = FakeGeminiServer(transcripts=["what time is it"], replies=[GeminiReply("It is nine")])
    pattern = speech_pattern([("silence", 200), ("speech", 800), ("silence", 3000)], rate=16_000)
    controller, metrics, rows = await _run(tmp_path, server, pattern)
    assert rows == [("user", "what time is it"), ("assistant", "It is nine")]
    conn = server.connections[0]
    assert f"key={KEY}" in conn.query
    assert conn.setup["model"] == "models/gemini-test"
    assert conn.setup["generationConfig"]["responseModalities"] == ["AUDIO"]
    assert "live voice conversation" in conn.setup["systemInstruction"]["parts"][0]["text"]
    assert conn.setup["inputAudioTranscription"] == {} and conn.setup["outputAudioTranscription"] == {}
    audio = [m["realtimeInput"]["audio"] for m in conn.received if "realtimeInput" in m]
    assert audio and audio[0]["mimeType"] == "audio/pcm;rate=16000"
    assert metrics.turns[0].status == "completed" and metrics.usage.output_tokens == 40
    assert metrics.turns[0].heard_ratio == 1.0
    assert controller.resumption_handle is not None


async def test_gemini_barge_in_keeps_heard_prefix(tmp_path, autojump_clock):
    server = FakeGeminiServer(transcripts=["tell me a story", "stop"], replies=[GeminiReply(TEN_WORDS), GeminiReply("Okay")])
    pattern = speech_pattern([("silence", 200), ("speech", 800), ("silence", 1200), ("speech", 600), ("silence", 3000)], rate=16_000)
    controller, metrics, rows = await _run(tmp_path, server, pattern)
    assert rows[0] == ("user", "tell me a story")
    heard = rows[1][1]
    assert rows[1][0] == "assistant" and TEN_WORDS.startswith(heard) and 0 < len(heard) < len(TEN_WORDS)
    assert rows[2:] == [("user", "stop"), ("assistant", "Okay")]
    assert metrics.interruptions == 1 and metrics.turns[0].interrupted
    assert max(metrics.barge_in_ms) <= 50
    assert metrics.turns[0].status == "cancelled"
    assert VoiceState.INTERRUPTED in controller.state.visited()


async def test_gemini_go_away_resumes_with_handle(tmp_path, autojump_clock):
    server = FakeGeminiServer(transcripts=["hello", "how are you"], replies=[GeminiReply("Hi there"), GeminiReply("Fine thanks")], go_away_after_turns=1)
    pattern = speech_pattern([("silence", 200), ("speech", 600), ("silence", 3000), ("speech", 600), ("silence", 3000)], rate=16_000)
    controller, metrics, rows = await _run(tmp_path, server, pattern)
    assert len(server.connections) == 2
    assert metrics.reconnects == 1
    first_handle = server.connections[1].setup["sessionResumption"]["handle"]
    assert first_handle in server.handles
    assert server.connections[1].client_content() == []  # resumed: no re-seeding
    assert rows == [("user", "hello"), ("assistant", "Hi there"), ("user", "how are you"), ("assistant", "Fine thanks")]


async def test_gemini_tool_call_round_trip(tmp_path, autojump_clock):
    async def clock(args, ctx):
        return "nine o'clock"

    tool = FunctionTool("current_time", "The time.", {"type": "object", "properties": {}}, fn=clock)
    server = FakeGeminiServer(transcripts=["what time is it"], replies=[GeminiReply(tool=("current_time", {})), GeminiReply("It is nine")])
    pattern = speech_pattern([("silence", 200), ("speech", 800), ("silence", 3000)], rate=16_000)
    _controller, metrics, rows = await _run(tmp_path, server, pattern, tools=[tool])
    assert rows == [("user", "what time is it"), ("tool_use", "current_time"), ("tool_result", "nine o'clock"), ("assistant", "It is nine")]
    responses = [m["toolResponse"]["functionResponses"][0] for m in server.connections[0].received if "toolResponse" in m]
    assert responses[0]["name"] == "current_time" and responses[0]["response"] == {"result": "nine o'clock"}
    assert server.connections[0].setup["tools"][0]["functionDeclarations"][0]["name"] == "current_time"
    assert metrics.tool_calls == 1


async def test_gemini_tool_call_cancellation_cancels_the_tool(tmp_path, autojump_clock):
    started = trio.Event()

    async def slow(args, ctx):
        started.set()
        await trio.sleep(30)
        return "too late"

    tool = FunctionTool("slow_lookup", "Slow.", {"type": "object", "properties": {}}, fn=slow)
    server = FakeGeminiServer(transcripts=["look it up"], replies=[GeminiReply(tool=("slow_lookup", {}))], cancel_tool_calls=True)
    pattern = speech_pattern([("silence", 200), ("speech", 800), ("silence", 3000)], rate=16_000)
    _controller, _metrics, rows = await _run(tmp_path, server, pattern, tools=[tool])
    assert rows[:2] == [("user", "look it up"), ("tool_use", "slow_lookup")]
    assert rows[2][0] == "tool_result" and "Cancelled" in rows[2][1]
    assert not any(m for m in server.connections[0].received if "toolResponse" in m)
