"""A loopback Gemini Live (BidiGenerateContent) server on 127.0.0.1.

Follows the documented message shapes: ``setup`` -> ``setupComplete``;
``realtimeInput.audio`` (16 kHz PCM) with automatic activity detection
(energy based); ``serverContent`` with ``inputTranscription``,
``modelTurn.parts[].inlineData`` (24 kHz PCM), ``outputTranscription``,
``interrupted`` and ``turnComplete``; ``toolCall`` / ``toolResponse``;
``toolCallCancellation``; ``goAway``; ``sessionResumptionUpdate`` and
resumption by handle; ``usageMetadata``.
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

from agentcore.live.audio import FRAME_MS, ms_to_bytes, rms_dbfs, tone
from fakes.vendor_sdk import check_gemini_client_message, check_gemini_server_message

IN_RATE = 16_000
OUT_RATE = 24_000
VAD_DBFS = -35.0
VAD_SILENCE_MS = 500
MS_PER_WORD = 300
CHUNK_MS = 100


@attrs.define
class GeminiReply:
    text: str = ""
    tool: tuple[str, dict[str, Any]] | None = None


@attrs.define
class GeminiConnection:
    setup: dict[str, Any] = attrs.Factory(dict)
    received: list[dict[str, Any]] = attrs.Factory(list)
    query: str = ""

    def client_content(self) -> list[dict[str, Any]]:
        return [m["clientContent"] for m in self.received if "clientContent" in m]


class FakeGeminiServer:
    def __init__(
        self,
        *,
        transcripts: Sequence[str],
        replies: Sequence[GeminiReply],
        go_away_after_turns: int | None = None,
        pace_s: float = 0.05,
        cancel_tool_calls: bool = False,
        finish_after_turns: int | None = None,
    ) -> None:
        self.transcripts = list(transcripts)
        self.replies = list(replies)
        self.go_away_after_turns = go_away_after_turns
        self.pace_s = pace_s  # delay between audio chunks: faster than real time, not instant
        self.cancel_tool_calls = cancel_tool_calls
        self.finish_after_turns = finish_after_turns  # close normally (1000) after N turns: the conversation ends
        self.connections: list[GeminiConnection] = []
        self.total_turns = 0
        self.handles: dict[str, list[str]] = {}  # resumption handle -> transcript so far
        self._ids = itertools.count(1)

    async def start(self, nursery: trio.Nursery) -> str:
        server = await nursery.start(serve_websocket, self._handle, "127.0.0.1", 0, None)
        return f"ws://127.0.0.1:{server.port}/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"

    async def _handle(self, request: WebSocketRequest) -> None:
        ws = await request.accept()
        conn = GeminiConnection(query=request.path)
        self.connections.append(conn)
        await _GeminiSession(self, ws, conn).run()


class _GeminiSession:
    def __init__(self, server: FakeGeminiServer, ws: Any, conn: GeminiConnection) -> None:
        self.server, self.ws, self.conn = server, ws, conn
        self.lock = trio.Lock()
        self.audio = bytearray()
        self.in_speech = False
        self.silence_ms = 0.0
        self.generating: trio.CancelScope | None = None
        self.turns = 0
        self.log: list[str] = []

    async def send(self, message: dict[str, Any]) -> None:
        check_gemini_server_message(message)  # google-genai's types are the reference
        async with self.lock:
            await self.ws.send_message(json.dumps(message))

    async def run(self) -> None:
        async with trio.open_nursery() as nursery:
            self.nursery = nursery
            while True:
                try:
                    message = json.loads(await self.ws.get_message())
                    self.conn.received.append(message)
                    check_gemini_client_message(message)
                    await self.on_message(message)
                except ConnectionClosed:
                    nursery.cancel_scope.cancel()
                    return

    async def on_message(self, m: dict[str, Any]) -> None:
        if "setup" in m:
            self.conn.setup = m["setup"]
            handle = (m["setup"].get("sessionResumption") or {}).get("handle")
            if handle is not None:
                self.log = list(self.server.handles.get(handle, []))
            await self.send({"setupComplete": {}})
        elif "realtimeInput" in m:
            audio = (m["realtimeInput"].get("audio") or {}).get("data")
            if audio:
                await self.vad(base64.b64decode(audio))
        elif "clientContent" in m:
            for turn in m["clientContent"].get("turns", ()):
                self.log.append(f"{turn['role']}: {turn['parts'][0].get('text', '')}")
            if m["clientContent"].get("turnComplete"):
                self.start_reply()
        elif "toolResponse" in m:
            for response in m["toolResponse"].get("functionResponses", ()):
                self.log.append(f"tool: {response['response']}")
            self.start_reply()

    async def vad(self, pcm: bytes) -> None:
        self.audio += pcm
        frame = ms_to_bytes(FRAME_MS, IN_RATE)
        while len(self.audio) >= frame:
            chunk, self.audio = bytes(self.audio[:frame]), self.audio[frame:]
            loud = rms_dbfs(chunk) > VAD_DBFS
            if loud and not self.in_speech:
                self.in_speech, self.silence_ms = True, 0.0
                if self.generating is not None:
                    self.generating.cancel()
            elif self.in_speech:
                self.silence_ms = 0.0 if loud else self.silence_ms + FRAME_MS
                if self.silence_ms >= VAD_SILENCE_MS:
                    self.in_speech = False
                    text = self.server.transcripts.pop(0) if self.server.transcripts else ""
                    words = text.split()
                    for i, word in enumerate(words):  # transcription arrives in pieces
                        await self.send({"serverContent": {"inputTranscription": {"text": word + (" " if i < len(words) - 1 else "")}}})
                    self.log.append(f"user: {text}")
                    self.start_reply()

    def start_reply(self) -> None:
        if self.server.replies:
            self.nursery.start_soon(self.reply, self.server.replies.pop(0))

    async def reply(self, reply: GeminiReply) -> None:
        try:
            await self._reply(reply)
        except ConnectionClosed:
            return

    async def _reply(self, reply: GeminiReply) -> None:
        if reply.tool is not None:
            call_id = f"fc_{next(self.server._ids)}"
            await self.send({"toolCall": {"functionCalls": [{"id": call_id, "name": reply.tool[0], "args": reply.tool[1]}]}})
            if self.server.cancel_tool_calls:
                await self.send({"toolCallCancellation": {"ids": [call_id]}})
            return
        words = reply.text.split()
        audio = tone(len(words) * MS_PER_WORD, OUT_RATE)
        size = ms_to_bytes(CHUNK_MS, OUT_RATE)
        chunks = [audio[i : i + size] for i in range(0, len(audio), size)]
        per_chunk = max(1, -(-len(words) // max(1, len(chunks))))
        sent_words = 0
        with trio.CancelScope() as scope:
            self.generating = scope
            for chunk in chunks:
                blob = {"mimeType": f"audio/pcm;rate={OUT_RATE}", "data": base64.b64encode(chunk).decode()}
                await self.send({"serverContent": {"modelTurn": {"parts": [{"inlineData": blob}]}}})
                piece = words[sent_words : sent_words + per_chunk]
                if piece:
                    sent_words += len(piece)
                    await self.send({"serverContent": {"outputTranscription": {"text": " ".join(piece) + " "}}})
                await trio.sleep(self.server.pace_s)
        self.generating = None
        if scope.cancelled_caught:
            await self.send({"serverContent": {"interrupted": True}})
            self.log.append(f"model (interrupted): {' '.join(words[:sent_words])}")
        else:
            self.log.append(f"model: {reply.text}")
            await self.send({"serverContent": {"generationComplete": True}})
        await self.send({"usageMetadata": {"promptTokenCount": 80, "responseTokenCount": 40, "totalTokenCount": 120}})
        await self.send({"serverContent": {"turnComplete": True}})
        self.turns += 1
        self.server.total_turns += 1
        handle = f"handle_{next(self.server._ids)}"
        self.server.handles[handle] = list(self.log)
        await self.send({"sessionResumptionUpdate": {"newHandle": handle, "resumable": True}})
        if self.server.go_away_after_turns is not None and self.server.total_turns == self.server.go_away_after_turns:
            await self.send({"goAway": {"timeLeft": "5s"}})
        if self.server.finish_after_turns == self.server.total_turns:
            await self.ws.aclose()
