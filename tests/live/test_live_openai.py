"""Voice sessions against a loopback OpenAI Realtime server."""

from __future__ import annotations

from pathlib import Path

import trio

from agentcore.events import MessageAppended
from agentcore.live.controller import VoiceConfig, VoiceController
from agentcore.live.openai_realtime import OpenAIRealtimeBackend
from agentcore.live.state import VoiceState
from agentcore.live.transport import WavFileTransport
from fake_realtime import Faults, FakeRealtimeServer, Reply
from live_helpers import build_core, speech_pattern, transcript, voice_info

RUN_LIMIT_S = 120
KEY = "sk-test-secret-key"


async def _run(tmp_path: Path, server: FakeRealtimeServer, pattern, *, config: VoiceConfig = VoiceConfig(), tools=(), out: Path | None = None, listener=None, observe=None):
    core = build_core(tmp_path, tools=tools)
    async with trio.open_nursery() as nursery:
        url = await server.start(nursery)
        async with core.open_session(voice_info(tmp_path)) as session:
            appended: list = []
            session.events.add_observer(lambda ev: appended.append(ev) if isinstance(ev, MessageAppended) else None)
            if observe is not None:
                session.events.add_observer(observe)
            transport = WavFileTransport(None, out, input_pcm=pattern, paced=True)
            controller = VoiceController(session, transport, lambda: OpenAIRealtimeBackend(api_key=KEY, url=url), config=config)
            if listener is not None:
                controller.add_listener(lambda update: listener(str(update)))
            with trio.fail_after(RUN_LIMIT_S):  # virtual seconds: a stuck session fails, never hangs
                metrics = (await controller.run()).metrics
            result = (session, controller, metrics, appended, transcript(session.history))
        nursery.cancel_scope.cancel()
    return result


async def test_one_turn_reaches_history_and_telemetry(tmp_path, autojump_clock):
    server = FakeRealtimeServer(transcripts=["what time is it"], replies=[Reply("It is nine o'clock")])
    pattern = speech_pattern([("silence", 200), ("speech", 800), ("silence", 3000)])
    session, controller, metrics, appended, rows = await _run(tmp_path, server, pattern)
    assert rows == [("user", "what time is it"), ("assistant", "It is nine o'clock")]
    assert [type(e.message).__name__ for e in appended] == ["UserMessage", "AssistantMessage"]
    assert len(metrics.turns) == 1 and metrics.turns[0].status == "completed"
    assert metrics.heard_ratio == 1.0
    assert metrics.interruptions == 0
    ttfa = metrics.time_to_first_audio_ms[0]
    assert 0 <= ttfa < 50  # the fake answers at once; playback starts on the next tick
    assert metrics.usage.output_tokens == 50 and metrics.usage.cache_read_tokens == 20
    visited = controller.state.visited()
    assert visited[:5] == [VoiceState.CONNECTING, VoiceState.LISTENING, VoiceState.USER_SPEAKING, VoiceState.THINKING, VoiceState.SPEAKING]
    assert visited[-2:] == [VoiceState.LISTENING, VoiceState.CLOSED]
    conn = server.connections[0]
    assert conn.headers["authorization"] == f"Bearer {KEY}"
    update = conn.of_type("session.update")[0]["session"]
    assert update["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert "live voice conversation" in update["instructions"]


TEN_WORDS = "one two three four five six seven eight nine ten"


async def test_barge_in_truncates_to_heard_prefix(tmp_path, autojump_clock):
    server = FakeRealtimeServer(transcripts=["tell me a story", "stop please"], replies=[Reply(TEN_WORDS), Reply("Okay")])
    # The answer (3 s of audio) starts at ~1.5 s; the user talks over it at 2.2 s.
    pattern = speech_pattern([("silence", 200), ("speech", 800), ("silence", 1200), ("speech", 600), ("silence", 3000)])
    session, controller, metrics, appended, rows = await _run(tmp_path, server, pattern)
    assert len(server.truncations) == 1
    heard_ms = server.truncations[0]["audio_end_ms"]
    assert 650 <= heard_ms <= 800
    heard = rows[1][1]
    assert rows[0] == ("user", "tell me a story")
    assert rows[1][0] == "assistant" and TEN_WORDS.startswith(heard) and 0 < len(heard) < len(TEN_WORDS)
    assert heard in ("one", "one two", "one two three")
    assert rows[2:] == [("user", "stop please"), ("assistant", "Okay")]
    assert metrics.interruptions == 1
    assert metrics.barge_in_ms and max(metrics.barge_in_ms) <= 50
    first = metrics.turns[0]
    assert first.interrupted and first.heard_ms == heard_ms
    assert 0.15 < first.heard_ratio < 0.35
    assert VoiceState.INTERRUPTED in controller.state.visited()
    # The journal saw the full answer, then its rollback and the heard version.
    assistant_appends = [e.message.text for e in appended if type(e.message).__name__ == "AssistantMessage"]
    assert assistant_appends[0] == TEN_WORDS and assistant_appends[1] == heard


async def test_duplicated_and_replayed_deltas_are_ignored(tmp_path, autojump_clock):
    faults = Faults(duplicate_deltas=True, replay_deltas=4)
    server = FakeRealtimeServer(transcripts=["hello"], replies=[Reply("fine thanks and you")], faults=faults)
    pattern = speech_pattern([("silence", 200), ("speech", 600), ("silence", 3000)])
    _session, _controller, metrics, _appended, rows = await _run(tmp_path, server, pattern)
    assert rows == [("user", "hello"), ("assistant", "fine thanks and you")]
    turn = metrics.turns[0]
    assert turn.audio_ms == 4 * 300  # every audio chunk played once
    assert turn.heard_ms == turn.audio_ms


async def test_dropped_deltas_are_repaired_by_the_final_transcript(tmp_path, autojump_clock):
    faults = Faults(drop_transcript_deltas=(1, 2))
    server = FakeRealtimeServer(transcripts=["hello"], replies=[Reply("the quick brown fox")], faults=faults)
    pattern = speech_pattern([("silence", 200), ("speech", 600), ("silence", 3000)])
    _session, _controller, _metrics, _appended, rows = await _run(tmp_path, server, pattern)
    assert rows == [("user", "hello"), ("assistant", "the quick brown fox")]


async def test_disconnect_mid_response_reconnects_seeded_from_history(tmp_path, autojump_clock):
    faults = Faults(disconnect_after_audio=3, pace_s=0.1)
    server = FakeRealtimeServer(transcripts=["tell me a story", "thanks"], replies=[Reply(TEN_WORDS), Reply("You are welcome")], faults=faults)
    pattern = speech_pattern([("silence", 200), ("speech", 800), ("silence", 2500), ("speech", 600), ("silence", 3000)])
    session, controller, metrics, _appended, rows = await _run(tmp_path, server, pattern)
    assert len(server.connections) == 2
    assert metrics.reconnects == 1
    assert VoiceState.RECONNECTING in controller.state.visited()
    heard = rows[1][1]
    assert rows[0] == ("user", "tell me a story") and rows[1][0] == "assistant"
    assert TEN_WORDS.startswith(heard) and heard in ("one", "one two")
    assert rows[2:] == [("user", "thanks"), ("assistant", "You are welcome")]
    seeded = [m["item"] for m in server.connections[1].of_type("conversation.item.create")]
    assert seeded[:2] == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "tell me a story"}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": heard}]},
    ]
