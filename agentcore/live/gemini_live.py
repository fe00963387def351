"""Gemini Live (``BidiGenerateContent``) over a websocket.

Audio goes in as 16 kHz PCM (``realtimeInput.audio``) and comes back as 24 kHz
PCM inside ``serverContent.modelTurn`` parts. Gemini has no item ids, no
response ids and no truncate message, so this backend numbers model turns
and user turns itself; what was heard is recorded in canonical history by the
control plane, and a reconnect either resumes with the server's session
resumption handle or re-seeds the conversation from that history.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from agentcore.live.backend import BackendCapabilities, BackendSeed, say_instructions, tool_json_schema
from agentcore.live.events import (
    AssistantTranscriptDelta,
    AudioDelta,
    BackendNotice,
    GoAway,
    InputCommitted,
    Interrupted,
    ResponseDone,
    ResponseStarted,
    ResponseStatus,
    ResumptionUpdate,
    ToolCallCancelled,
    ToolCallRequested,
    UserTranscriptDelta,
    UserTranscriptFinal,
    VoiceEvent,
)
from agentcore.live.style import NEUTRAL, SpeechStyle
from agentcore.live.ws import ProtocolViolation, WebSocketBackend
from agentcore.llm.base import ToolSpec
from agentcore.messages import AssistantMessage, Message, ToolResultMessage, Usage, UserMessage, new_id

GEMINI_LIVE_URL = "wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
GEMINI_LIVE_MODEL = "models/gemini-live-2.5-flash-preview"
GEMINI_INPUT_RATE = 16_000  # Hz; what realtimeInput audio must be
GEMINI_OUTPUT_RATE = 24_000  # Hz; what modelTurn audio is
GEMINI_VOICE = "Puck"
NUDGE_TEXT = "(The user is waiting for your answer.)"
_UNSUPPORTED_SCHEMA_KEYS = frozenset({"additionalProperties", "$schema", "$id", "default"})
_DURATION = re.compile(r"^\s*([0-9.]+)s\s*$")


def _schema(value: Any) -> Any:
    """Gemini function declarations take an OpenAPI subset of JSON schema."""
    if isinstance(value, dict):
        return {k: _schema(v) for k, v in value.items() if k not in _UNSUPPORTED_SCHEMA_KEYS}
    if isinstance(value, list):
        return [_schema(v) for v in value]
    return value


def _turns(messages: Sequence[Message]) -> list[dict[str, Any]]:
    turns: list[dict[str, Any]] = []
    for message in messages:
        match message:
            case UserMessage() if message.text:
                turns.append({"role": "user", "parts": [{"text": message.text}]})
            case AssistantMessage():
                lines = [message.text] if message.text else []
                lines += [f"(called {u.name} with {json.dumps(dict(u.input))})" for u in message.tool_uses]
                if lines:
                    turns.append({"role": "model", "parts": [{"text": "\n".join(lines)}]})
            case ToolResultMessage():
                turns.append({"role": "user", "parts": [{"text": f"(tool result) {message.text}"}]})
    return turns


def parse_duration(text: str) -> float:
    match = _DURATION.match(str(text))
    return float(match.group(1)) if match else 0.0


class GeminiLiveBackend(WebSocketBackend):
    """``SpeechBackend`` for the Gemini Live API."""

    name = "gemini-live"
    input_rate = GEMINI_INPUT_RATE
    capabilities = BackendCapabilities(server_vad=True, truncate=False, resumable=True)

    def __init__(
        self, *, api_key: str, model: str = GEMINI_LIVE_MODEL, url: str = GEMINI_LIVE_URL, voice: str | None = None, style: SpeechStyle = NEUTRAL
    ) -> None:
        sep = "&" if "?" in url else "?"
        super().__init__(url=f"{url}{sep}key={api_key}", secrets=[api_key])
        self._model = model if model.startswith("models/") else f"models/{model}"
        self._voice = voice or style.voice or GEMINI_VOICE  # pace and manner go in the instructions: Live has no speed
        self._ids = itertools.count(1)
        self._prefix = new_id("gemini")  # ids stay unique across reconnects (the reducer keys on them)
        self._response: str | None = None  # the model turn in progress
        self._cancelled: set[str] = set()
        self._user_item: str | None = None
        self._user_text: list[str] = []
        self._usage = Usage()
        self._tool_names: dict[str, str] = {}

    async def _handshake(self, seed: BackendSeed) -> None:
        setup: dict[str, Any] = {
            "model": self._model,
            "generationConfig": {
                "responseModalities": ["AUDIO"],
                "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": self._voice}}},
            },
            "systemInstruction": {"parts": [{"text": seed.instructions}]},
            "inputAudioTranscription": {},
            "outputAudioTranscription": {},
            "sessionResumption": {"handle": seed.resumption_handle} if seed.resumption_handle else {},
        }
        if seed.tools:
            setup["tools"] = [{"functionDeclarations": [self._declaration(t) for t in seed.tools]}]
        await self._send({"setup": setup})
        reply = await self._receive_json()
        if "setupComplete" not in reply:
            raise ProtocolViolation(f"expected setupComplete, got {sorted(reply)}")
        turns = _turns(seed.messages)
        if turns and not seed.resumption_handle:  # a resumed session already holds its history
            await self._send({"clientContent": {"turns": turns, "turnComplete": False}})

    @staticmethod
    def _declaration(spec: ToolSpec) -> dict[str, Any]:
        return {"name": spec.name, "description": spec.description, "parameters": _schema(tool_json_schema(spec))}

    # ---------------------------------------------------------- client side

    async def send_audio(self, pcm: bytes) -> None:
        blob = {"data": base64.b64encode(pcm).decode(), "mimeType": f"audio/pcm;rate={GEMINI_INPUT_RATE}"}
        await self._send({"realtimeInput": {"audio": blob}})

    async def commit(self) -> None:
        await self._send({"realtimeInput": {"audioStreamEnd": True}})

    async def create_response(self, *, instructions: str | None = None) -> None:
        turn = {"role": "user", "parts": [{"text": instructions or NUDGE_TEXT}]}
        await self._send({"clientContent": {"turns": [turn], "turnComplete": True}})

    async def say(self, text: str) -> None:
        await self.create_response(instructions=say_instructions(text))

    async def cancel_response(self) -> None:
        # No cancel message exists: drop the rest of this turn locally.
        if self._response is not None:
            self._cancelled.add(self._response)

    async def truncate(self, item_id: str, content_index: int, audio_end_ms: int) -> None:
        return None  # Gemini keeps no audio items; canonical history records what was heard

    async def submit_tool_output(self, call_id: str, name: str, output: str, *, respond: bool) -> None:
        response = {"id": call_id, "name": name or self._tool_names.get(call_id, ""), "response": {"result": output}}
        await self._send({"toolResponse": {"functionResponses": [response]}})

    async def inject_context(self, text: str, *, respond: bool = False) -> None:
        await self._send({"clientContent": {"turns": [{"role": "user", "parts": [{"text": text}]}], "turnComplete": respond}})

    async def update_session(self, *, instructions: str | None = None, tools: Sequence[ToolSpec] | None = None) -> None:
        # The setup cannot change mid-session; new instructions go in as context.
        if instructions:
            await self.inject_context(f"(Updated instructions) {instructions}")

    # ---------------------------------------------------------- server side

    def _translate(self, m: dict[str, Any]) -> Iterable[VoiceEvent]:
        out: list[VoiceEvent] = []
        if "usageMetadata" in m:
            meta = m["usageMetadata"] or {}
            self._usage = Usage(input_tokens=int(meta.get("promptTokenCount", 0)), output_tokens=int(meta.get("responseTokenCount", 0)))
        if "serverContent" in m:
            out += self._server_content(m["serverContent"] or {})
        if "toolCall" in m:
            rid = self._start_response(out)
            for call in (m["toolCall"] or {}).get("functionCalls", ()):
                self._tool_names[call["id"]] = call["name"]
                out.append(ToolCallRequested(rid, f"{rid}_call", call["id"], call["name"], json.dumps(call.get("args") or {})))
            out.append(self._finish(ResponseStatus.COMPLETED))  # the continuation after the results is a new response
        if "toolCallCancellation" in m:
            out.append(ToolCallCancelled(tuple((m["toolCallCancellation"] or {}).get("ids", ()))))
        if "goAway" in m:
            out.append(GoAway(parse_duration((m["goAway"] or {}).get("timeLeft", "0s"))))
        if "sessionResumptionUpdate" in m:
            update = m["sessionResumptionUpdate"] or {}
            if update.get("newHandle"):
                out.append(ResumptionUpdate(update["newHandle"], bool(update.get("resumable", True))))
        if "error" in m:
            out.append(BackendNotice(str((m["error"] or {}).get("message", "error")), str((m["error"] or {}).get("code", ""))))
        return out

    def _server_content(self, content: dict[str, Any]) -> list[VoiceEvent]:
        out: list[VoiceEvent] = []
        text = (content.get("inputTranscription") or {}).get("text")
        if text:
            if self._user_item is None:
                self._user_item = f"{self._prefix}_user_{next(self._ids)}"
            self._user_text.append(text)
            out.append(UserTranscriptDelta(self._user_item, 0, text))
        if content.get("interrupted"):
            rid = self._response
            out.append(Interrupted(rid or ""))
            if rid is not None:
                self._cancelled.add(rid)
                out.append(self._finish(ResponseStatus.CANCELLED))
        turn = content.get("modelTurn") or {}
        for part in turn.get("parts", ()):
            data = (part.get("inlineData") or {}).get("data")
            if data:
                rid = self._start_response(out)
                if rid not in self._cancelled:
                    out.append(AudioDelta(rid, f"{rid}_item", 0, base64.b64decode(data), GEMINI_OUTPUT_RATE))
        said = (content.get("outputTranscription") or {}).get("text")
        if said:
            rid = self._start_response(out)
            if rid not in self._cancelled:
                out.append(AssistantTranscriptDelta(rid, f"{rid}_item", 0, said))
        if content.get("turnComplete"):
            self._flush_user(out)
            if self._response is not None:
                cancelled = self._response in self._cancelled
                out.append(self._finish(ResponseStatus.CANCELLED if cancelled else ResponseStatus.COMPLETED))
        return out

    def _start_response(self, out: list[VoiceEvent]) -> str:
        self._flush_user(out)  # the user's words come before the answer to them
        if self._response is None:
            self._response = f"{self._prefix}_resp_{next(self._ids)}"
            out.append(ResponseStarted(self._response))
        return self._response

    def _flush_user(self, out: list[VoiceEvent]) -> None:
        if self._user_item is not None:
            out.append(InputCommitted(self._user_item))
            out.append(UserTranscriptFinal(self._user_item, 0, "".join(self._user_text).strip()))
            self._user_item, self._user_text = None, []

    def _finish(self, status: ResponseStatus) -> ResponseDone:
        rid = self._response or ""
        self._response = None
        usage, self._usage = self._usage, Usage()
        return ResponseDone(rid, status, usage)
