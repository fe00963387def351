"""OpenAI Realtime over a websocket (the GA event protocol; beta event names
are accepted on the receiving side too).

Audio both ways is ``audio/pcm`` at 24 kHz. The session is configured with
``session.update`` (instructions, tools, server VAD, input transcription) and
seeded with one ``conversation.item.create`` per canonical history message, so
a reconnect continues the conversation the user actually heard.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from agentcore.live.backend import BackendCapabilities, BackendSeed, say_instructions, tool_json_schema
from agentcore.live.events import (
    AssistantTranscriptDelta,
    AssistantTranscriptDone,
    AudioDelta,
    BackendNotice,
    InputCommitted,
    ResponseDone,
    ResponseStarted,
    ResponseStatus,
    SpeechStarted,
    SpeechStopped,
    ToolCallRequested,
    UserTranscriptDelta,
    UserTranscriptFinal,
    VoiceEvent,
)
from agentcore.live.style import NEUTRAL, SpeechStyle
from agentcore.live.ws import ProtocolViolation, WebSocketBackend
from agentcore.llm.base import ToolSpec
from agentcore.messages import (
    AssistantMessage,
    Message,
    MessageKind,
    ToolResultMessage,
    Usage,
    UserMessage,
    thaw_json,
)

OPENAI_REALTIME_URL = "wss://api.openai.com/v1/realtime"
OPENAI_REALTIME_MODEL = "gpt-realtime"
OPENAI_RATE = 24_000  # Hz; the only PCM rate the Realtime API accepts and produces
OPENAI_VOICE = "marin"
OPENAI_TRANSCRIBE_MODEL = "gpt-4o-mini-transcribe"
VAD_SILENCE_MS = 500  # server VAD end-of-turn silence; shorter cuts people off mid-thought


def _item_for(message: Message) -> list[dict[str, Any]]:
    """Canonical history message -> Realtime conversation items."""
    match message:
        case UserMessage():
            role = "user" if message.kind is MessageKind.PROMPT else "system"
            return [{"type": "message", "role": role, "content": [{"type": "input_text", "text": message.text}]}] if message.text else []
        case AssistantMessage():
            items: list[dict[str, Any]] = []
            if message.text:
                items.append({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": message.text}]})
            for use in message.tool_uses:
                items.append({"type": "function_call", "call_id": use.id, "name": use.name, "arguments": json.dumps(thaw_json(use.input))})
            return items
        case ToolResultMessage():
            return [{"type": "function_call_output", "call_id": r.tool_use_id, "output": r.text} for r in message.results]
    return []


def _tools(specs: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    return [{"type": "function", "name": s.name, "description": s.description, "parameters": tool_json_schema(s)} for s in specs]


def _usage(raw: Mapping[str, Any] | None) -> Usage:
    if not raw:
        return Usage()
    cached = (raw.get("input_token_details") or {}).get("cached_tokens", 0) or 0
    return Usage(
        input_tokens=int(raw.get("input_tokens", 0)) - int(cached),
        output_tokens=int(raw.get("output_tokens", 0)),
        cache_read_tokens=int(cached),
    )


_STATUS = {s.value: s for s in ResponseStatus}


class OpenAIRealtimeBackend(WebSocketBackend):
    """``SpeechBackend`` for the OpenAI Realtime API."""

    name = "openai-realtime"
    input_rate = OPENAI_RATE
    capabilities = BackendCapabilities(server_vad=True, truncate=True)

    def __init__(
        self,
        *,
        api_key: str,
        model: str = OPENAI_REALTIME_MODEL,
        url: str = OPENAI_REALTIME_URL,
        voice: str | None = None,
        transcribe_model: str = OPENAI_TRANSCRIBE_MODEL,
        style: SpeechStyle = NEUTRAL,
    ) -> None:
        sep = "&" if "?" in url else "?"
        super().__init__(url=f"{url}{sep}model={model}", headers=[("Authorization", f"Bearer {api_key}")], secrets=[api_key])
        self._voice = voice or style.voice or OPENAI_VOICE
        self._speed = style.openai_speed()
        self._transcribe_model = transcribe_model
        self._response_id: str | None = None

    # ------------------------------------------------------------ handshake

    async def _handshake(self, seed: BackendSeed) -> None:
        created = await self._receive_json()
        if created.get("type") == "error":
            raise ProtocolViolation(f"server refused the session: {(created.get('error') or {}).get('message', '')}")
        if created.get("type") != "session.created":
            raise ProtocolViolation(f"expected session.created, got {created.get('type')!r}")
        await self._send({"type": "session.update", "session": self._session_config(seed.instructions, seed.tools)})
        for message in seed.messages:
            for item in _item_for(message):
                await self._send({"type": "conversation.item.create", "item": item})

    def _session_config(self, instructions: str | None, tools: Sequence[ToolSpec] | None) -> dict[str, Any]:
        fmt = {"type": "audio/pcm", "rate": OPENAI_RATE}
        session: dict[str, Any] = {
            "type": "realtime",
            "output_modalities": ["audio"],
            "audio": {
                "input": {
                    "format": fmt,
                    "transcription": {"model": self._transcribe_model},
                    "turn_detection": {"type": "server_vad", "silence_duration_ms": VAD_SILENCE_MS, "create_response": True, "interrupt_response": True},
                },
                "output": {"format": fmt, "voice": self._voice, "speed": self._speed},
            },
        }
        if instructions is not None:
            session["instructions"] = instructions
        if tools is not None:
            session["tools"] = _tools(tools)
            session["tool_choice"] = "auto"
        return session

    # ---------------------------------------------------------- client side

    async def send_audio(self, pcm: bytes) -> None:
        await self._send({"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm).decode()})

    async def commit(self) -> None:
        await self._send({"type": "input_audio_buffer.commit"})

    async def clear_input(self) -> None:
        """Drop uncommitted input audio (e.g. after a reconnect or a false start)."""
        await self._send({"type": "input_audio_buffer.clear"})

    async def create_response(self, *, instructions: str | None = None) -> None:
        message: dict[str, Any] = {"type": "response.create"}
        if instructions:
            message["response"] = {"instructions": instructions}
        await self._send(message)

    async def say(self, text: str) -> None:
        """A response that speaks ``text`` (no tools), e.g. a bridge phrase while a tool runs."""
        response = {"instructions": say_instructions(text), "tool_choice": "none"}
        await self._send({"type": "response.create", "response": response})

    async def cancel_response(self) -> None:
        if self._response_id is not None:  # cancelling with none active is a server error
            await self._send({"type": "response.cancel", "response_id": self._response_id})

    async def truncate(self, item_id: str, content_index: int, audio_end_ms: int) -> None:
        await self._send({"type": "conversation.item.truncate", "item_id": item_id, "content_index": content_index, "audio_end_ms": int(audio_end_ms)})

    async def submit_tool_output(self, call_id: str, name: str, output: str, *, respond: bool) -> None:
        await self._send({"type": "conversation.item.create", "item": {"type": "function_call_output", "call_id": call_id, "output": output}})
        if respond:
            await self.create_response()

    async def send_text(self, text: str, *, respond: bool = True) -> None:
        """A typed user turn (the live handle's ``send_text``)."""
        item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
        await self._send({"type": "conversation.item.create", "item": item})
        if respond:
            await self.create_response()

    async def inject_context(self, text: str, *, respond: bool = False) -> None:
        item = {"type": "message", "role": "system", "content": [{"type": "input_text", "text": text}]}
        await self._send({"type": "conversation.item.create", "item": item})
        if respond:
            await self.create_response()

    async def update_session(self, *, instructions: str | None = None, tools: Sequence[ToolSpec] | None = None) -> None:
        session: dict[str, Any] = {"type": "realtime"}
        if instructions is not None:
            session["instructions"] = instructions
        if tools is not None:
            session["tools"] = _tools(tools)
        await self._send({"type": "session.update", "session": session})

    # ---------------------------------------------------------- server side

    def _translate(self, m: dict[str, Any]) -> Iterable[VoiceEvent]:
        kind = m.get("type", "")
        event_id = str(m.get("event_id", ""))
        if not self._first_time(event_id):
            return ()
        match kind:
            case "input_audio_buffer.speech_started":
                return (SpeechStarted(m.get("item_id", ""), int(m.get("audio_start_ms", 0))),)
            case "input_audio_buffer.speech_stopped":
                return (SpeechStopped(m.get("item_id", ""), int(m.get("audio_end_ms", 0))),)
            case "input_audio_buffer.committed":
                return (InputCommitted(m["item_id"], m.get("previous_item_id")),)
            case "conversation.item.input_audio_transcription.delta":
                return (UserTranscriptDelta(m["item_id"], int(m.get("content_index", 0)), m.get("delta", ""), event_id),)
            case "conversation.item.input_audio_transcription.completed":
                return (UserTranscriptFinal(m["item_id"], int(m.get("content_index", 0)), m.get("transcript", ""), event_id),)
            case "conversation.item.input_audio_transcription.failed":
                from agentcore.live.events import InputDiscarded

                return (InputDiscarded(m["item_id"], (m.get("error") or {}).get("message", "transcription failed")),)
            case "response.created":
                self._response_id = m["response"]["id"]
                return (ResponseStarted(self._response_id),)
            case "response.output_audio.delta" | "response.audio.delta":
                pcm = base64.b64decode(m["delta"])
                return (AudioDelta(m["response_id"], m["item_id"], int(m.get("content_index", 0)), pcm, OPENAI_RATE, event_id),)
            case "response.output_audio_transcript.delta" | "response.audio_transcript.delta":
                return (AssistantTranscriptDelta(m["response_id"], m["item_id"], int(m.get("content_index", 0)), m["delta"], event_id),)
            case "response.output_audio_transcript.done" | "response.audio_transcript.done":
                return (AssistantTranscriptDone(m["response_id"], m["item_id"], int(m.get("content_index", 0)), m.get("transcript", ""), event_id),)
            case "response.function_call_arguments.done":
                return (ToolCallRequested(m["response_id"], m.get("item_id", ""), m["call_id"], m["name"], m.get("arguments", ""), event_id),)
            case "response.done":
                response = m["response"]
                if response.get("id") == self._response_id:
                    self._response_id = None
                status = _STATUS.get(response.get("status", "completed"), ResponseStatus.FAILED)
                return (ResponseDone(response["id"], status, _usage(response.get("usage"))),)
            case "error":
                error = m.get("error") or {}
                return (BackendNotice(error.get("message", "error"), error.get("code") or error.get("type") or ""),)
        return ()  # lifecycle events the control plane does not need (session.updated, item.added, ...)
