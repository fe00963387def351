"""Voice through agent serve: a ``/voice`` WebSocket talks to a live ACP
session (espeak-ng speech in, pocketsphinx, the echo model, espeak-ng speech
out), and the ACP clients attached to that session see it all; the socket
takes the same auth as ``/acp``."""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio
from serve_support import INITIALIZE_PARAMS, TESTS, Server, acp_schema, running_server, serve_env, stop_server
from trio_websocket import ConnectionClosed, ConnectionRejected, WebSocketConnection, open_websocket_url

from agentcore.live import BackendUnavailable, StreamedAudioTransport, check_cascade
from agentcore.live.audio import Pcm, ms_to_bytes, read_wav, rms_dbfs, silence, tone
from agentcore.live.style import SpeechStyle, Warmth
from agentcore.live.tts import EspeakTts

SPEECH = TESTS / "live" / "fixtures" / "hello_there.wav"  # espeak-ng saying "hello there", 16 kHz mono
RATE = 16_000
CHUNK_MS = 100  # what the test client sends per binary frame
TRAILING_SILENCE_MS = 900  # lets the server's VAD see the end of the speech
CALL_LIMIT_S = 20.0  # real seconds for one call; the speech is 1.5 s, its answer about as long
VOICE = "_agentcore/voice/"
APPROVE = "_agentcore/session/approve"

needs_cascade = pytest.mark.skipif(
    importlib.util.find_spec("pocketsphinx") is None or shutil.which("espeak-ng") is None,
    reason="voice through the server needs pocketsphinx (pip) and espeak-ng (apt-get install espeak-ng)",
)


class AcpSocket:
    """ACP over the server's WebSocket; everything the agent sends is kept (and schema-checked)."""

    def __init__(self, ws: WebSocketConnection) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []
        self.checker = acp_schema.AgentTranscriptChecker()
        self._arrived = trio.Event()
        self._next_id = 0
        self.approve = True  # the answer to the agent's approval requests (this client owns the session)

    async def pump(self) -> None:
        while True:
            try:
                message = json.loads(await self.ws.get_message())
            except ConnectionClosed:
                return
            self.checker.agent_sent(message)
            self.seen.append(message)
            self._arrived.set()
            self._arrived = trio.Event()
            if message.get("method") == APPROVE and "id" in message:
                answer = {"jsonrpc": "2.0", "id": message["id"], "result": {"approved": self.approve}}
                self.checker.client_sent(answer)
                await self.ws.send_message(json.dumps(answer))

    async def wait_for(self, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        looked = 0
        while True:
            arrived = self._arrived
            for message in self.seen[looked:]:
                if wanted(message):
                    return message
            looked = len(self.seen)
            await arrived.wait()

    async def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self._next_id += 1
        request_id = self._next_id
        message = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        self.checker.client_sent(message)
        await self.ws.send_message(json.dumps(message))
        answer = await self.wait_for(lambda m: m.get("id") == request_id and "method" not in m)
        assert "result" in answer, answer
        return answer["result"]

    def notifications(self, method: str) -> list[dict[str, Any]]:
        return [m["params"] for m in self.seen if m.get("method") == method]

    def updates(self, kind: str) -> list[tuple[int, dict[str, Any]]]:
        return [(i, m["params"]["update"]) for i, m in enumerate(self.seen)
                if m.get("method") == "session/update" and m["params"]["update"]["sessionUpdate"] == kind]  # fmt: skip


def _bearer(server: Server) -> list[tuple[bytes, bytes]]:
    return [(b"authorization", f"Bearer {server.token}".encode())]


def _voice_url(server: Server) -> str:
    return f"ws://{server.base.removeprefix('http://')}/voice"


def _speech() -> bytes:
    pcm = read_wav(SPEECH)
    assert pcm.rate == RATE
    return pcm.data + silence(TRAILING_SILENCE_MS, RATE)


async def _send_audio(voice: WebSocketConnection, pcm: bytes) -> None:
    size = ms_to_bytes(CHUNK_MS, RATE)
    for start in range(0, len(pcm), size):
        await voice.send_message(pcm[start : start + size])


@asynccontextmanager
async def _session(server: Server, work: Path) -> AsyncIterator[tuple[AcpSocket, str]]:
    """An ACP client over /acp that opened a session (and stays attached to it)."""
    async with open_websocket_url(server.ws_url, extra_headers=_bearer(server)) as ws, trio.open_nursery() as nursery:
        acp = AcpSocket(ws)
        nursery.start_soon(acp.pump)
        with trio.fail_after(CALL_LIMIT_S):
            await acp.call("initialize", INITIALIZE_PARAMS)
            new = await acp.call("session/new", {"cwd": str(work), "mcpServers": []})
        yield acp, new["sessionId"]
        nursery.cancel_scope.cancel()


class VoiceClient:
    """The /voice side: binary audio and text messages as they arrive."""

    def __init__(self, ws: WebSocketConnection) -> None:
        self.ws = ws
        self.audio = bytearray()
        self.texts: list[dict[str, Any]] = []
        self.closed: Any = None

    async def until(self, wanted: Callable[[VoiceClient], bool]) -> None:
        while not wanted(self):
            try:
                message = await self.ws.get_message()
            except ConnectionClosed as exc:
                self.closed = exc.reason
                return
            if isinstance(message, bytes):
                self.audio += message
            else:
                self.texts.append(json.loads(message))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [t for t in self.texts if t["type"] == kind]


def _turns_reported(count: int) -> Callable[[VoiceClient], bool]:
    return lambda client: any(t["turns"] >= count for t in client.of("telemetry"))


def _in_order(states: list[str], expected: list[str]) -> bool:
    walk = iter(states)
    return all(state in walk for state in expected)


@needs_cascade
async def test_a_voice_call_speaks_with_the_live_session_its_clients_see_it(serve_dirs: dict[str, Path]) -> None:
    env = serve_env(serve_dirs["home"])
    async with running_server(serve_dirs["home"], "--provider", "echo", env=env, cwd=serve_dirs["work"]) as server:
        async with _session(server, serve_dirs["work"]) as (acp, session_id):
            with trio.fail_after(CALL_LIMIT_S):
                async with open_websocket_url(_voice_url(server), extra_headers=_bearer(server),
                                              subprotocols=["agentcore.voice"]) as ws:  # fmt: skip
                    assert ws.subprotocol == "agentcore.voice"
                    voice = VoiceClient(ws)
                    await ws.send_message(json.dumps({"sessionId": session_id, "sampleRate": RATE}))
                    await voice.until(lambda c: bool(c.texts))
                    assert voice.texts[0] == {"type": "ready", "sessionId": session_id, "backend": "cascade",
                                              "inputRate": RATE, "outputRate": RATE}  # fmt: skip
                    await _send_audio(ws, _speech())
                    await voice.until(_turns_reported(1))  # answered, spoken, listening again
                    await ws.send_message(json.dumps({"type": "end"}))
                    await voice.until(lambda c: c.closed is not None)
                final = await acp.wait_for(lambda m: m.get("method") == VOICE + "telemetry" and m["params"].get("final"))

    assert voice.closed.code == 1000, voice.closed
    # The call prompts the session: its owner (the client that opened it) was asked first.
    assert [(p["sessionId"], p["action"]) for p in acp.notifications(APPROVE)] == [(session_id, "talk by voice")]
    heard = [t for t in voice.of("transcript") if t["role"] == "user" and t["final"]]
    assert len(heard) == 1 and heard[0]["text"]  # whatever pocketsphinx made of the speech
    said = heard[0]["text"]
    answer = [t["text"] for t in voice.of("transcript") if t["role"] == "assistant"]
    assert answer and answer[-1].strip() == said  # the echo model says back what it was told
    # The answer came back as speech: at least 300 ms of audible PCM at the asked rate.
    assert len(voice.audio) > ms_to_bytes(300, RATE)
    assert rms_dbfs(bytes(voice.audio)) > -40
    states = [t["state"] for t in voice.of("state")]
    assert _in_order(states, ["listening", "user_speaking", "thinking", "speaking", "listening", "closed"]), states
    telemetry = voice.of("telemetry")[-1]
    assert telemetry["final"] and telemetry["turns"] == 1 and telemetry["lastTurn"]["status"] == "completed"
    assert telemetry["audioInMs"] >= Pcm(_speech(), RATE).duration_ms - CHUNK_MS
    assert telemetry["lastTurn"]["heardMs"] > 300 and telemetry["lastTurn"]["timeToFirstAudioMs"] is not None

    # The ACP client attached to the session saw the same call, as notifications of that session ...
    transcripts = acp.notifications(VOICE + "transcript")
    assert {"sessionId": session_id, "role": "user", "text": said, "final": True}.items() <= transcripts[0].items()
    assert [p["state"] for p in acp.notifications(VOICE + "state")] == states
    assert final["params"]["sessionId"] == session_id and final["params"]["turns"] == 1
    # ... and the spoken prompt and its answer as session/updates, the prompt first.
    prompts = acp.updates("user_message_chunk")
    assert [u["content"]["text"] for _, u in prompts] == [said]
    replies = [u["content"]["text"] for i, u in acp.updates("agent_message_chunk") if i > prompts[0][0]]
    assert "".join(replies).strip() == said  # (the echo model's banner came before, at session/new)
    assert all(m["params"]["sessionId"] == session_id for m in acp.seen if "params" in m and "sessionId" in m["params"])


@needs_cascade
async def test_speaking_over_the_answer_clears_it_and_is_heard_next(serve_dirs: dict[str, Path]) -> None:
    env = serve_env(serve_dirs["home"])
    async with running_server(serve_dirs["home"], "--provider", "echo", env=env, cwd=serve_dirs["work"]) as server:
        async with _session(server, serve_dirs["work"]) as (acp, session_id):
            with trio.fail_after(CALL_LIMIT_S):
                async with open_websocket_url(_voice_url(server), extra_headers=_bearer(server)) as ws:
                    voice = VoiceClient(ws)
                    await ws.send_message(json.dumps({"sessionId": session_id, "sampleRate": RATE}))
                    await _send_audio(ws, _speech())
                    await voice.until(lambda c: len(c.audio) > 0)  # the agent started speaking
                    await _send_audio(ws, _speech())  # the user talks over it
                    await voice.until(_turns_reported(2))
                    await ws.send_message(json.dumps({"type": "end"}))
                    await voice.until(lambda c: c.closed is not None)
                await acp.wait_for(lambda m: m.get("method") == VOICE + "telemetry" and m["params"].get("final"))

    assert voice.closed.code == 1000, voice.closed
    assert voice.of("clear"), "barge-in must tell the client to drop the speech it holds"
    states = [t["state"] for t in voice.of("state")]
    assert _in_order(states, ["speaking", "interrupted", "user_speaking", "thinking", "speaking", "listening"]), states
    telemetry = voice.of("telemetry")[-1]
    assert telemetry["interruptions"] == 1 and telemetry["turns"] == 2 and len(telemetry["bargeInMs"]) == 1
    heard = [t["text"] for t in voice.of("transcript") if t["role"] == "user" and t["final"]]
    assert len(heard) == 2  # the words spoken over the answer became the next prompt
    assert [u["content"]["text"] for _, u in acp.updates("user_message_chunk")] == heard


async def test_voice_takes_the_same_auth_as_acp_and_says_why_it_closes(serve_dirs: dict[str, Path]) -> None:
    env = serve_env(serve_dirs["home"])
    async with running_server(serve_dirs["home"], "--provider", "echo", env=env, cwd=serve_dirs["work"]) as server:
        port = server.base.rpartition(":")[2]
        refused = {
            "no token": ([], 401),
            "a wrong token": ([(b"authorization", b"Bearer " + b"1" * 64)], 401),
            "a foreign origin": ([*_bearer(server), (b"origin", b"http://evil.example")], 403),
            "a rebound origin": ([*_bearer(server), (b"origin", f"http://evil.example:{port}".encode())], 403),
        }
        for case, (headers, status) in refused.items():
            with pytest.raises(ConnectionRejected) as rejected:
                async with open_websocket_url(_voice_url(server), extra_headers=headers):
                    pass
            assert rejected.value.status_code == status, case
        with pytest.raises(ConnectionRejected) as rejected:
            async with open_websocket_url(f"{_voice_url(server)}?token={server.token}", extra_headers=_bearer(server)):
                pass
        assert rejected.value.status_code == 400

        async def closes_with(first: str | bytes, **connect: Any) -> Any:
            with trio.fail_after(CALL_LIMIT_S):
                async with open_websocket_url(_voice_url(server), **connect) as ws:
                    await ws.send_message(first)
                    with pytest.raises(ConnectionClosed) as closed:
                        await ws.get_message()
            return closed.value.reason

        # A browser's token rides as a subprotocol; the server selects only agentcore.voice.
        browser = {"subprotocols": ["agentcore.voice", f"agentcore.bearer.{server.token}"]}
        unknown = await closes_with(json.dumps({"sessionId": "no-such-session"}), **browser)
        assert (unknown.code, unknown.reason) == (4404, "no live session with that id; open or load it over /acp first")
        for first, said in [
            ("hello", "not JSON"),
            (b"\x00\x01", "must be text"),
            (json.dumps({"sampleRate": RATE}), "must name the session"),
            (json.dumps({"sessionId": "x", "sampleRate": 1_000_000}), "sampleRate must be an integer"),
        ]:
            bad = await closes_with(first, extra_headers=_bearer(server))
            assert bad.code == 4400 and said in bad.reason, (first, bad)


@needs_cascade
async def test_the_owner_approves_one_call_at_a_time_which_ends_with_the_session(serve_dirs: dict[str, Path]) -> None:
    env = serve_env(serve_dirs["home"])
    async with running_server(serve_dirs["home"], "--provider", "echo", env=env, cwd=serve_dirs["work"]) as server:
        async with _session(server, serve_dirs["work"]) as (acp, session_id):
            start = json.dumps({"sessionId": session_id, "sampleRate": RATE})
            with trio.fail_after(CALL_LIMIT_S):
                acp.approve = False
                async with open_websocket_url(_voice_url(server), extra_headers=_bearer(server)) as ws:
                    await ws.send_message(start)
                    with pytest.raises(ConnectionClosed) as refused:
                        await ws.get_message()  # nothing but the close: no "ready", no audio
                assert (refused.value.reason.code, refused.value.reason.reason) == (
                    4403, "The session's owner did not approve talk by voice: refused")
                acp.approve = True
                async with open_websocket_url(_voice_url(server), extra_headers=_bearer(server)) as ws:
                    first = VoiceClient(ws)
                    await ws.send_message(start)
                    await first.until(lambda c: any(s["state"] == "listening" for s in c.of("state")))
                    async with open_websocket_url(_voice_url(server), extra_headers=_bearer(server)) as second:
                        await second.send_message(start)
                        with pytest.raises(ConnectionClosed) as busy:
                            await second.get_message()
                    assert busy.value.reason.code == 4409
                    await acp.call("session/close", {"sessionId": session_id})
                    await first.until(lambda c: c.closed is not None)

    assert (first.closed.code, first.closed.reason) == (1001, "the session was closed")
    assert first.of("telemetry")[-1]["final"] and first.of("state")[-1]["state"] == "closed"


@needs_cascade
async def test_a_server_shutting_down_ends_the_call_cleanly(serve_dirs: dict[str, Path]) -> None:
    env = serve_env(serve_dirs["home"])
    async with running_server(serve_dirs["home"], "--provider", "echo", env=env, cwd=serve_dirs["work"]) as server:
        async with _session(server, serve_dirs["work"]) as (_acp, session_id):
            with trio.fail_after(CALL_LIMIT_S):
                async with open_websocket_url(_voice_url(server), extra_headers=_bearer(server)) as ws:
                    voice = VoiceClient(ws)
                    await ws.send_message(json.dumps({"sessionId": session_id, "sampleRate": RATE}))
                    await voice.until(lambda c: any(s["state"] == "listening" for s in c.of("state")))
                    assert await stop_server(server) == 0
                    await voice.until(lambda c: c.closed is not None)
    # (running_server checked that the server logged no traceback)
    assert (voice.closed.code, voice.closed.reason) == (1001, "the session was closed")
    assert voice.of("telemetry")[-1]["final"]


@needs_cascade
async def test_a_call_reads_the_voice_settings_as_agent_voice_does(serve_dirs: dict[str, Path]) -> None:
    """[voice] pace and espeak_voice shape the speech sent back (as in agent voice);
    the answer is as long as espeak-ng speaks it at that pace."""
    home = serve_dirs["home"]
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text('[voice]\npace = 1.5\nespeak_voice = "en-gb"\nwarmth = "warm"\n')
    env = serve_env(home)
    async with running_server(home, "--provider", "echo", env=env, cwd=serve_dirs["work"]) as server:
        async with _session(server, serve_dirs["work"]) as (_acp, session_id):
            with trio.fail_after(CALL_LIMIT_S):
                async with open_websocket_url(_voice_url(server), extra_headers=_bearer(server)) as ws:
                    voice = VoiceClient(ws)
                    await ws.send_message(json.dumps({"sessionId": session_id, "sampleRate": RATE}))
                    await _send_audio(ws, _speech())
                    await voice.until(_turns_reported(1))
                    await ws.send_message(json.dumps({"type": "end"}))
                    await voice.until(lambda c: c.closed is not None)
    assert voice.texts[0]["type"] == "ready" and set(voice.texts[0]) == {"type", "sessionId", "backend", "inputRate", "outputRate"}
    said = " ".join(t["text"] for t in voice.of("transcript") if t["role"] == "assistant")
    assert said.strip()
    styled = await EspeakTts(style=SpeechStyle(espeak_voice="en-gb", pace=1.5, warmth=Warmth.WARM)).synthesize(said)
    plain = await EspeakTts().synthesize(said)
    received_ms = len(voice.audio) / 2 / RATE * 1000
    assert abs(received_ms - styled.duration_ms) < 0.1 * styled.duration_ms, (received_ms, styled.duration_ms)
    assert received_ms < 0.85 * plain.duration_ms  # faster than the default pace


async def test_a_bad_stt_model_in_the_settings_refuses_the_call_saying_why(serve_dirs: dict[str, Path]) -> None:
    home = serve_dirs["home"]
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text('[voice]\nstt_model = "no-such-model"\n')  # relative: from the session's directory
    env = serve_env(home)
    async with running_server(home, "--provider", "echo", env=env, cwd=serve_dirs["work"]) as server:
        async with _session(server, serve_dirs["work"]) as (_acp, session_id):
            with trio.fail_after(CALL_LIMIT_S):
                async with open_websocket_url(_voice_url(server), extra_headers=_bearer(server)) as ws:
                    await ws.send_message(json.dumps({"sessionId": session_id, "sampleRate": RATE}))
                    with pytest.raises(ConnectionClosed) as closed:
                        await ws.get_message()  # nothing but the close
    reason = closed.value.reason
    assert reason.code == 4503 and "stt_model" in reason.reason and "no-such-model" in reason.reason, reason


async def test_the_socket_transport_frames_input_paces_output_and_reports_a_clear(autojump_clock: Any) -> None:
    sent: list[bytes] = []
    clears: list[bool] = []
    transport = StreamedAudioTransport(input_rate=RATE, output_rate=RATE, send_audio=sent.append,
                                       on_clear=lambda: clears.append(True))  # fmt: skip
    frame = ms_to_bytes(20, RATE)
    async with transport.running():
        await transport.feed(b"\x01" * (frame + 1))  # client frames need not be 20 ms long
        await transport.feed(b"\x01" * (frame - 1))
        transport.end_input()
        assert [len(f) async for f in transport.frames()] == [frame, frame]
        transport.play("a", tone(200, 22_050), 22_050)  # espeak-ng's rate, resampled to the client's
        await trio.sleep(0.1)
        assert [len(piece) for piece in sent] == [ms_to_bytes(40, RATE)] * 2  # sent as it plays, 40 ms each
        assert transport.clear_output() == {"a": 100} and clears == [True]
    assert sum(len(piece) for piece in sent) == ms_to_bytes(100, RATE)  # what was sent is what was heard


def test_a_server_without_espeak_ng_refuses_voice_saying_what_to_install() -> None:
    with pytest.raises(BackendUnavailable, match="apt-get install espeak-ng"):
        check_cascade(EspeakTts(program="no-such-espeak-ng"))
