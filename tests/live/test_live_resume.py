"""Surviving failures: fallback to the offline cascade, resuming from a snapshot."""

from __future__ import annotations

import trio

from agentcore.live.cascade import CascadeBackend
from agentcore.live.controller import VoiceConfig, VoiceController
from agentcore.live.gemini_live import GeminiLiveBackend
from agentcore.live.openai_realtime import OpenAIRealtimeBackend
from agentcore.live.snapshot import SnapshotStore
from agentcore.live.state import VoiceState
from agentcore.live.stt import PocketsphinxStt, grammar_for
from agentcore.live.transport import WavFileTransport
from fake_gemini import FakeGeminiServer, GeminiReply
from fake_realtime import FakeRealtimeServer
from live_helpers import build_core, speech_pattern, transcript, voice_info
from test_live_cascade import FIXTURES, PHRASES, needs_cascade


@needs_cascade
async def test_unreachable_realtime_falls_back_to_the_cascade(tmp_path):
    server = FakeRealtimeServer(transcripts=[], replies=[], refuse=100)
    core = build_core(tmp_path)
    config = VoiceConfig(reconnect_attempts=2, reconnect_backoff_s=0.01, finish_idle_s=0.3)
    async with trio.open_nursery() as nursery:
        url = await server.start(nursery)
        async with core.open_session(voice_info(tmp_path)) as session:
            transport = WavFileTransport(FIXTURES / "hello_there.wav", None, paced=False, trailing_silence_ms=800)
            controller = VoiceController(
                session,
                transport,
                lambda: OpenAIRealtimeBackend(api_key="sk-x", url=url),
                fallback=lambda: CascadeBackend(session, stt=PocketsphinxStt(grammar=grammar_for(PHRASES))),
                config=config,
            )
            with trio.fail_after(60):
                metrics = (await controller.run()).metrics
            rows = transcript(session.history)
        nursery.cancel_scope.cancel()
    assert metrics.fallbacks == 1 and controller.backend_name == "cascade"
    assert VoiceState.FALLBACK in controller.state.visited()
    assert rows == [("user", "hello there"), ("assistant", "hello there")]


async def test_snapshot_resumes_with_the_backend_handle_and_phase(tmp_path, autojump_clock):
    server = FakeGeminiServer(transcripts=["hello", "again"], replies=[GeminiReply("Hi"), GeminiReply("Hi again")])
    store = SnapshotStore(tmp_path / "voice.json")
    core = build_core(tmp_path)
    pattern = speech_pattern([("silence", 200), ("speech", 600), ("silence", 3000)], rate=16_000)
    async with trio.open_nursery() as nursery:
        url = await server.start(nursery)
        async with core.open_session(voice_info(tmp_path)) as session:
            for _ in range(2):  # the second run is a restart of the same session
                transport = WavFileTransport(None, None, input_pcm=pattern)
                controller = VoiceController(session, transport, lambda: GeminiLiveBackend(api_key="g", url=url), snapshots=store)
                with trio.fail_after(60):
                    await controller.run()
            rows = transcript(session.history)
        nursery.cancel_scope.cancel()
    saved = store.load()
    assert saved is not None and saved.session_id == session.id and saved.backend == "gemini-live"
    assert saved.transcript[-1] == "assistant: Hi again"
    first_handle = server.connections[0].setup["sessionResumption"]
    resumed = server.connections[1].setup["sessionResumption"]["handle"]
    assert first_handle == {} and resumed in server.handles
    assert server.connections[1].client_content() == []  # resumed, so history is not re-sent
    assert rows == [("user", "hello"), ("assistant", "Hi"), ("user", "again"), ("assistant", "Hi again")]
