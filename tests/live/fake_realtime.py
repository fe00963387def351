"""A loopback OpenAI Realtime server (trio-websocket on 127.0.0.1) that follows
the documented GA event protocol closely enough to exercise a real client:

session.created -> session.update/updated; input_audio_buffer.append with a
server VAD (energy based) emitting speech_started/stopped, committed and the
input transcription; response.create/cancel; the full response event sequence
(response.created, output_item.added, content_part.added, output_audio.delta,
output_audio_transcript.delta/done, function_call_arguments.delta/done,
response.done with usage); conversation.item.create/truncate(d); errors.

Scripts say what the user "said" (the transcript of each committed turn) and
what the model answers; faults are injected on request.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Sequence
from typing import Any

import attrs
import trio
from trio_websocket import ConnectionClosed, WebSocketRequest, serve_websocket

from agentcore.live.audio import FRAME_MS, bytes_to_ms, ms_to_bytes, rms_dbfs, tone
from fakes.vendor_sdk import check_realtime_client_event, check_realtime_server_event

RATE = 24_000
VAD_DBFS = -35.0
VAD_SILENCE_MS = 500
MS_PER_WORD = 300  # synthetic speaking rate of the fake model
CHUNK_MS = 100


@attrs.define
class Reply:
    text: str = ""
    tool: tuple[str, dict[str, Any]] | None = None  # (name, arguments): answer with a function call


@attrs.define
class Faults:
    duplicate_deltas: bool = False  # every delta sent twice with the same event_id
    replay_deltas: int = 0  # after a response, resend its first N deltas (same event ids)
    drop_transcript_deltas: tuple[int, ...] = ()  # indexes of transcript deltas never sent
    disconnect_after_audio: int | None = None  # first connection: close after N audio deltas
    pace_s: float = 0.0  # delay between deltas (0: faster than real time, like the real service)
    finish_after_responses: int | None = None  # end the conversation (close 1000) after N completed responses


@attrs.define
class Connection:
    received: list[dict[str, Any]] = attrs.Factory(list)
    sent: list[dict[str, Any]] = attrs.Factory(list)
    headers: dict[str, str] = attrs.Factory(dict)
    path: str = ""

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.received if m.get("type") == kind]


class FakeRealtimeServer:
    def __init__(
        self, *, transcripts: Sequence[str], replies: Sequence[Reply], faults: Faults = Faults(), refuse: int = 0, auto_respond: bool = True
    ) -> None:
        self.auto_respond = auto_respond  # server VAD create_response
        self.transcripts = list(transcripts)
        self.replies = list(replies)
        self.faults = faults
        self.refuse = refuse  # reject this many connection attempts first
        self.connections: list[Connection] = []
        self.port = 0
        self._ids = itertools.count(1)
        self.truncations: list[dict[str, Any]] = []
        self.responses_done = 0

    async def start(self, nursery: trio.Nursery) -> str:
        server = await nursery.start(serve_websocket, self._handle, "127.0.0.1", 0, None)
        self.port = server.port
        return f"ws://127.0.0.1:{self.port}/v1/realtime"

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):04d}"

    async def _handle(self, request: WebSocketRequest) -> None:
        if self.refuse > 0:
            self.refuse -= 1
            await request.reject(503, body=b"overloaded")
            return
        ws = await request.accept()
        conn = Connection(headers={k.decode().lower(): v.decode() for k, v in request.headers}, path=request.path)
        self.connections.append(conn)
        await _Session(self, ws, conn, first=len(self.connections) == 1).run()


class _Session:
    def __init__(self, server: FakeRealtimeServer, ws: Any, conn: Connection, *, first: bool) -> None:
        self.server, self.ws, self.conn, self.first = server, ws, conn, first
        self.lock = trio.Lock()
        self.audio = bytearray()
        self.audio_ms = 0.0
        self.in_speech = False
        self.silence_ms = 0.0
        self.speech_item: str | None = None
        self.last_item: str | None = None
        self.generating: trio.CancelScope | None = None
        self.response_id: str | None = None
        self.items_audio_ms: dict[str, float] = {}
        self.audio_sent = 0
        self.closed = False

    async def send(self, event: dict[str, Any], *, twice: bool = False) -> None:
        event.setdefault("event_id", self.server._id("event"))
        check_realtime_server_event(event)  # the official SDK's types are the reference
        text = json.dumps(event)
        async with self.lock:
            self.conn.sent.append(event)
            await self.ws.send_message(text)
            if twice:
                await self.ws.send_message(text)

    async def run(self) -> None:
        await self.send({"type": "session.created", "session": {"type": "realtime", "model": "gpt-realtime"}})
        async with trio.open_nursery() as nursery:
            self.nursery = nursery
            while True:
                try:
                    message = json.loads(await self.ws.get_message())
                    self.conn.received.append(message)
                    check_realtime_client_event(message)
                    await self.on_message(message)
                except ConnectionClosed:
                    nursery.cancel_scope.cancel()
                    return

    async def on_message(self, m: dict[str, Any]) -> None:
        match m.get("type"):
            case "session.update":
                await self.send({"type": "session.updated", "session": m.get("session", {})})
            case "input_audio_buffer.append":
                await self.vad(base64.b64decode(m["audio"]))
            case "input_audio_buffer.commit":
                await self.commit()
            case "conversation.item.create":
                item = dict(m["item"], id=m["item"].get("id") or self.server._id("item"))
                await self.send({"type": "conversation.item.added", "previous_item_id": self.last_item, "item": item})
                self.last_item = item["id"]
            case "conversation.item.truncate":
                known = self.items_audio_ms.get(m["item_id"])
                if known is None or m["audio_end_ms"] > known + 1:
                    await self.send({"type": "error", "error": {"type": "invalid_request_error", "code": "invalid_value", "message": "audio_end_ms beyond item audio"}})
                    return
                self.server.truncations.append(m)
                await self.send({"type": "conversation.item.truncated", "item_id": m["item_id"], "content_index": m["content_index"], "audio_end_ms": m["audio_end_ms"]})
            case "response.create":
                self.start_response()
            case "response.cancel":
                if self.generating is None:
                    await self.send({"type": "error", "error": {"type": "invalid_request_error", "code": "response_cancel_not_active", "message": "no active response"}})
                else:
                    self.generating.cancel()

    async def vad(self, pcm: bytes) -> None:
        self.audio += pcm
        frame = ms_to_bytes(FRAME_MS, RATE)
        while len(self.audio) >= frame:
            chunk, self.audio = bytes(self.audio[:frame]), self.audio[frame:]
            self.audio_ms += FRAME_MS
            loud = rms_dbfs(chunk) > VAD_DBFS
            if loud and not self.in_speech:
                self.in_speech, self.silence_ms = True, 0.0
                self.speech_item = self.server._id("item")
                if self.generating is not None:  # interrupt_response: the user talks over the model
                    self.generating.cancel()
                await self.send({"type": "input_audio_buffer.speech_started", "audio_start_ms": int(self.audio_ms - FRAME_MS), "item_id": self.speech_item})
            elif self.in_speech:
                self.silence_ms = 0.0 if loud else self.silence_ms + FRAME_MS
                if self.silence_ms >= VAD_SILENCE_MS:
                    self.in_speech = False
                    await self.send({"type": "input_audio_buffer.speech_stopped", "audio_end_ms": int(self.audio_ms - self.silence_ms), "item_id": self.speech_item})
                    await self.commit()
                    if self.server.auto_respond:
                        self.start_response()

    async def commit(self) -> None:
        item = self.speech_item or self.server._id("item")
        self.speech_item = None
        await self.send({"type": "input_audio_buffer.committed", "previous_item_id": self.last_item, "item_id": item})
        self.last_item = item
        transcript = self.server.transcripts.pop(0) if self.server.transcripts else ""
        usage = {"type": "tokens", "input_tokens": 40, "output_tokens": len(transcript.split()), "total_tokens": 40 + len(transcript.split())}
        await self.send({"type": "conversation.item.input_audio_transcription.completed", "item_id": item, "content_index": 0, "transcript": transcript, "usage": usage})

    def start_response(self) -> None:
        if not self.server.replies:
            return
        reply = self.server.replies.pop(0)
        self.nursery.start_soon(self.respond, reply)

    async def respond(self, reply: Reply) -> None:
        try:
            await self._respond(reply)
        except ConnectionClosed:
            return

    async def _respond(self, reply: Reply) -> None:
        rid = self.server._id("resp")
        self.response_id = rid
        status = "completed"
        await self.send({"type": "response.created", "response": {"id": rid, "object": "realtime.response", "status": "in_progress", "output": []}})
        with trio.CancelScope() as scope:
            self.generating = scope
            if reply.tool is not None:
                await self.function_call(rid, *reply.tool)
            else:
                await self.speak(rid, reply.text)
        self.generating = None
        if self.closed:
            return
        if scope.cancelled_caught:
            status = "cancelled"
        usage = {"total_tokens": 150, "input_tokens": 100, "output_tokens": 50, "input_token_details": {"cached_tokens": 20}}
        await self.send({"type": "response.done", "response": {"id": rid, "object": "realtime.response", "status": status, "output": [], "usage": usage}})
        self.server.responses_done += 1
        if self.server.faults.finish_after_responses == self.server.responses_done:
            self.closed = True
            await self.ws.aclose()  # 1000: the server ends the conversation normally

    async def function_call(self, rid: str, name: str, args: dict[str, Any]) -> None:
        item, call_id = self.server._id("item"), self.server._id("call")
        await self.send({"type": "response.output_item.added", "response_id": rid, "output_index": 0, "item": {"id": item, "type": "function_call", "call_id": call_id, "name": name, "arguments": "", "status": "in_progress"}})
        raw = json.dumps(args)
        for part in (raw[: len(raw) // 2], raw[len(raw) // 2 :]):
            await self.send({"type": "response.function_call_arguments.delta", "response_id": rid, "item_id": item, "output_index": 0, "call_id": call_id, "delta": part})
        await self.send({"type": "response.function_call_arguments.done", "response_id": rid, "item_id": item, "output_index": 0, "call_id": call_id, "name": name, "arguments": raw})

    async def speak(self, rid: str, text: str) -> None:
        item = self.server._id("item")
        words = text.split()
        audio = tone(len(words) * MS_PER_WORD, RATE)
        chunk = ms_to_bytes(CHUNK_MS, RATE)
        chunks = [audio[i : i + chunk] for i in range(0, len(audio), chunk)]
        self.items_audio_ms[item] = bytes_to_ms(len(audio), RATE)
        base = {"response_id": rid, "item_id": item, "output_index": 0, "content_index": 0}
        await self.send({"type": "response.output_item.added", "response_id": rid, "output_index": 0, "item": {"id": item, "type": "message", "role": "assistant", "content": [], "status": "in_progress"}})
        await self.send({"type": "response.content_part.added", **base, "part": {"type": "audio", "transcript": ""}})
        faults = self.server.faults
        sent: list[dict[str, Any]] = []
        per_chunk = max(1, -(-len(words) // max(1, len(chunks))))
        word_index = 0
        for index, pcm in enumerate(chunks):
            event = {"type": "response.output_audio.delta", **base, "delta": base64.b64encode(pcm).decode()}
            await self.send(event, twice=faults.duplicate_deltas)
            sent.append(event)
            self.audio_sent += 1
            if self.first and faults.disconnect_after_audio is not None and self.audio_sent >= faults.disconnect_after_audio:
                self.closed = True
                await self.ws.aclose(code=1011, reason="server error")  # a drop, not a normal end
                return
            for _ in range(per_chunk):
                if word_index < len(words):
                    delta = words[word_index] + (" " if word_index < len(words) - 1 else "")
                    event = {"type": "response.output_audio_transcript.delta", **base, "delta": delta}
                    if word_index not in faults.drop_transcript_deltas:
                        await self.send(event, twice=faults.duplicate_deltas)
                        sent.append(event)
                    word_index += 1
            if faults.pace_s:
                await trio.sleep(faults.pace_s)
        for event in sent[: faults.replay_deltas]:
            await self.send(dict(event))  # same event_id: a replay
        await self.send({"type": "response.output_audio.done", **base})
        await self.send({"type": "response.output_audio_transcript.done", **base, "transcript": text})
        await self.send({"type": "response.content_part.done", **base, "part": {"type": "audio", "transcript": text}})
        await self.send({"type": "response.output_item.done", "response_id": rid, "output_index": 0, "item": {"id": item, "type": "message", "role": "assistant", "status": "completed", "content": [{"type": "output_audio", "transcript": text}]}})
