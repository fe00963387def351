"""Decode an OpenAI-style chat-completion event stream into chunks.

Each SSE ``data:`` is a ``chat.completion.chunk`` object; the stream ends
with ``data: [DONE]``. With ``stream_options.include_usage`` the last object
before ``[DONE]`` carries ``usage`` and an empty ``choices`` list.

Tool calls arrive as fragments keyed by ``tool_calls[].index``; the id and
name come in the first fragment of each call, and fragments of parallel
calls may interleave. Some compatible servers reuse index 0 for every call
(a new ``id`` then means a new call) or omit the index; both are handled.
Reasoning text arrives as ``reasoning_content`` (DeepSeek, vLLM, llama.cpp)
or ``reasoning`` (OpenRouter, Ollama) and becomes thinking.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agentcore.llm.base import (
    Chunk,
    ProviderStop,
    StopChunk,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    UsageChunk,
)
from agentcore.llm.errors import event_object, NetworkError, ProviderError
from agentcore.llm.http_errors import error_from_object
from agentcore.llm.sse import SseEvent
from agentcore.messages import Usage

_REASONING_FIELDS = ("reasoning_content", "reasoning")
_FINISH = {
    "stop": ProviderStop.END_TURN,
    "eos": ProviderStop.END_TURN,
    "end_turn": ProviderStop.END_TURN,
    "tool_calls": ProviderStop.TOOL_USE,
    "function_call": ProviderStop.TOOL_USE,
    "length": ProviderStop.MAX_TOKENS,
    "content_filter": ProviderStop.REFUSAL,
}


class _Call:
    __slots__ = ("ordinal", "id", "name", "started", "pending")

    def __init__(self, ordinal: int, id_: str | None, name: str | None) -> None:
        self.ordinal = ordinal
        self.id = id_
        self.name = name
        self.started = False
        self.pending: list[str] = []  # argument fragments seen before the name


def usage_from_openai(raw: Mapping[str, Any]) -> Usage:
    """``prompt_tokens`` includes cache reads and writes: each is counted once,
    in its own field (reasoning tokens are part of ``completion_tokens``)."""
    prompt = int(raw.get("prompt_tokens") or 0)
    details = raw.get("prompt_tokens_details") or {}
    cached = int(details.get("cached_tokens") or 0)
    written = int(details.get("cache_write_tokens") or 0)
    out_details = raw.get("completion_tokens_details") or {}
    return Usage(
        input_tokens=max(prompt - cached - written, 0),
        output_tokens=int(raw.get("completion_tokens") or 0),
        cache_read_tokens=cached,
        cache_write_tokens=written,
        reasoning_tokens=int(out_details.get("reasoning_tokens") or 0),
    )


class OpenAiStreamDecoder:
    def __init__(self, *, provider: str, api_key_env: str | None, secret: str | None) -> None:
        self._provider = provider
        self._api_key_env = api_key_env
        self._secret = secret
        self._calls: dict[Any, _Call] = {}  # lookup by wire index
        self._open: list[_Call] = []  # every call not yet ended, in order
        self._last_key: Any = None
        self._ordinals = 0
        self._finish: str | None = None
        self._usage: Usage | None = None
        self._refused = False
        self._ended = False
        self.done = False

    def feed(self, event: SseEvent) -> list[Chunk]:
        data = event.data
        if data == "[DONE]":
            self.done = True
            return self._end()
        if not data or data.isspace():
            return []
        obj = event_object(data, self._provider)
        if obj is None:
            return []
        if obj.get("error"):
            raise self._stream_error(obj)
        usage = obj.get("usage") or (obj.get("x_groq") or {}).get("usage")
        if usage:
            self._usage = usage_from_openai(usage)
        out: list[Chunk] = []
        for choice in obj.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue  # n > 1 is never requested; ignore stray choices
            delta = choice.get("delta") or {}
            self._delta(delta, out)
            reason = choice.get("finish_reason")
            if reason:
                self._finish = reason
                out.extend(self._close_calls())
        return out

    def _delta(self, delta: Mapping[str, Any], out: list[Chunk]) -> None:
        for field in _REASONING_FIELDS:
            text = delta.get(field)
            if isinstance(text, str) and text:
                out.append(ThinkingDelta(text=text))
                break
        content = delta.get("content")
        if isinstance(content, str) and content:
            out.append(TextDelta(content))
        refusal = delta.get("refusal")
        if isinstance(refusal, str) and refusal:
            self._refused = True
            out.append(TextDelta(refusal))
        for fragment in delta.get("tool_calls") or ():
            self._tool_fragment(fragment, out)

    def _tool_fragment(self, frag: Mapping[str, Any], out: list[Chunk]) -> None:
        index = frag.get("index")
        id_ = frag.get("id") or None
        fn = frag.get("function") or {}
        name = fn.get("name") or None
        args = fn.get("arguments")
        if isinstance(args, (dict, list)):  # a few servers send parsed arguments
            args = json.dumps(args, ensure_ascii=False)
        key = index if index is not None else self._last_key
        call = self._calls.get(key) if key is not None else None
        if call is None or (id_ is not None and call.id is not None and id_ != call.id):
            call = _Call(self._ordinals, id_, name)
            self._ordinals += 1
            key = index if index is not None else ("pos", call.ordinal)
            self._calls[key] = call
            self._open.append(call)
        else:
            call.id = call.id or id_
            call.name = call.name or name
        self._last_key = key
        if not call.started and call.name:
            call.started = True
            out.append(ToolCallStart(call.ordinal, call.id or f"call_{call.ordinal}", call.name))
            out.extend(ToolCallDelta(call.ordinal, p) for p in call.pending)
            call.pending.clear()
        if isinstance(args, str) and args:
            if call.started:
                out.append(ToolCallDelta(call.ordinal, args))
            else:
                call.pending.append(args)

    def _close_calls(self) -> list[Chunk]:
        out: list[Chunk] = []
        for call in self._open:
            if not call.started:
                call.started = True
                out.append(ToolCallStart(call.ordinal, call.id or f"call_{call.ordinal}", call.name or ""))
                out.extend(ToolCallDelta(call.ordinal, p) for p in call.pending)
            out.append(ToolCallEnd(call.ordinal))
        self._open.clear()
        self._calls.clear()
        return out

    def _end(self) -> list[Chunk]:
        if self._ended:
            return []
        self._ended = True
        out = self._close_calls()
        if self._usage is not None:
            out.append(UsageChunk(self._usage))
        stop = _FINISH.get(self._finish or "stop", ProviderStop.END_TURN)
        if self._ordinals and stop is ProviderStop.END_TURN:
            stop = ProviderStop.TOOL_USE  # some servers say "stop" after tool calls
        if self._refused:
            stop = ProviderStop.REFUSAL
        out.append(StopChunk(stop))
        return out

    def finish(self) -> list[Chunk]:
        if self.done:
            return []
        if self._finish is not None:
            return self._end()  # a server that ends without "[DONE]" but said why it stopped
        raise NetworkError(
            f"{self._provider} closed the stream before the response was complete",
            provider=self._provider,
        )

    def _stream_error(self, obj: Mapping[str, Any]) -> ProviderError:
        err = obj.get("error")
        status = None
        if isinstance(err, Mapping):
            code = err.get("code")
            status = code if isinstance(code, int) else None
        return error_from_object(
            obj,
            status=status,
            provider=self._provider,
            api_key_env=self._api_key_env,
            secret=self._secret,
        )
