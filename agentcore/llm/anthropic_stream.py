"""Decode an Anthropic Messages event stream into chunks.

Event flow: ``message_start`` (input usage), then per content block
``content_block_start`` / ``content_block_delta`` ... / ``content_block_stop``,
then ``message_delta`` (stop reason, cumulative usage) and ``message_stop``.
``ping`` may appear anywhere; ``error`` ends the stream with an error object,
raised as a :class:`ProviderError` whose ``usage`` holds what was counted so
far (the call is billed all the same). Usage keeps cache reads and writes and
``output_tokens_details.thinking_tokens`` (as reasoning tokens).
Unknown event and block types are ignored, as the API's versioning policy
asks.

Hosted web search: ``server_tool_use`` and ``web_search_tool_result`` blocks
are the vendor's own (nothing to run, nothing to show); a text block's
``web_search_result_location`` citations (in its start event or as
``citations_delta``) become :class:`CitationDelta` chunks before its text, and
``usage.server_tool_use.web_search_requests`` counts the searches billed.

Thinking: ``thinking_delta`` text, then one ``signature_delta`` just before
the block stops; a ``ThinkingDelta`` with a signature therefore closes the
current thinking block. ``redacted_thinking`` blocks arrive whole and become
one ``ThinkingDelta(redacted=...)``. Tool calls are numbered 0, 1, ... in
order of appearance (not by content-block index).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agentcore.llm.base import (
    Chunk,
    CitationDelta,
    ProviderStop,
    StopChunk,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    UsageChunk,
)
from agentcore.llm.errors import event_object, NetworkError
from agentcore.llm.http_errors import error_from_object
from agentcore.llm.sse import SseEvent
from agentcore.messages import Citation, Usage

_STOP = {
    "end_turn": ProviderStop.END_TURN,
    "stop_sequence": ProviderStop.END_TURN,
    "pause_turn": ProviderStop.END_TURN,
    "tool_use": ProviderStop.TOOL_USE,
    "max_tokens": ProviderStop.MAX_TOKENS,
    "model_context_window_exceeded": ProviderStop.MAX_TOKENS,
    "refusal": ProviderStop.REFUSAL,
}
_THINKING = "thinking_tokens"  # output_tokens_details.thinking_tokens: part of output_tokens
_SEARCHES = "web_search_requests"  # server_tool_use.web_search_requests: billed per search
WEB_CITATION = "web_search_result_location"
_USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)


def web_citation(raw: Any) -> CitationDelta | None:
    """A web search citation as a chunk (other kinds, such as document locations, are not sources)."""
    if not isinstance(raw, Mapping) or raw.get("type") != WEB_CITATION or not isinstance(raw.get("url"), str):
        return None
    return CitationDelta(Citation(raw["url"], str(raw.get("title") or ""), str(raw.get("cited_text") or "")))


class _ToolBlock:
    __slots__ = ("ordinal", "initial_input", "streamed")

    def __init__(self, ordinal: int, initial_input: Any) -> None:
        self.ordinal = ordinal
        self.initial_input = initial_input
        self.streamed = False


class AnthropicStreamDecoder:
    def __init__(self, *, provider: str, api_key_env: str | None, secret: str | None) -> None:
        self._provider = provider
        self._api_key_env = api_key_env
        self._secret = secret
        self._tools: dict[int, _ToolBlock] = {}  # content-block index -> tool call
        self._ordinals = 0
        self._usage: dict[str, int] = {}
        self._stop: str | None = None
        self.done = False

    def feed(self, event: SseEvent) -> list[Chunk]:
        obj = event_object(event.data, self._provider)
        if obj is None:
            return []
        kind = obj.get("type") or event.event
        match kind:
            case "content_block_delta":
                return self._block_delta(obj)
            case "content_block_start":
                return self._block_start(obj)
            case "content_block_stop":
                tool = self._tools.pop(obj.get("index", -1), None)
                if tool is None:
                    return []
                out: list[Chunk] = []
                if not tool.streamed and tool.initial_input:
                    out.append(ToolCallDelta(tool.ordinal, json.dumps(tool.initial_input, ensure_ascii=False)))
                out.append(ToolCallEnd(tool.ordinal))
                return out
            case "message_start":
                self._merge_usage((obj.get("message") or {}).get("usage"))
                return []
            case "message_delta":
                self._stop = (obj.get("delta") or {}).get("stop_reason") or self._stop
                self._merge_usage(obj.get("usage"))
                return []
            case "message_stop":
                self.done = True
                return self._end()
            case "error":
                err = error_from_object(
                    obj,
                    status=None,
                    provider=self._provider,
                    api_key_env=self._api_key_env,
                    secret=self._secret,
                )
                err.usage = self._partial_usage()  # what was billed before the failure
                raise err
            case _:  # "ping" and event types added after this was written
                return []

    def _block_start(self, obj: Mapping[str, Any]) -> list[Chunk]:
        block = obj.get("content_block") or {}
        btype = block.get("type")
        if btype == "text":
            text = block.get("text")
            out = [c for c in map(web_citation, block.get("citations") or ()) if c is not None]
            return [*out, TextDelta(text)] if text else out
        if btype == "thinking":
            out: list[Chunk] = []
            if block.get("thinking"):
                out.append(ThinkingDelta(text=block["thinking"]))
            if block.get("signature"):
                out.append(ThinkingDelta(signature=block["signature"]))
            return out
        if btype == "redacted_thinking":
            return [ThinkingDelta(redacted=block.get("data", ""))]
        if btype == "tool_use":
            tool = _ToolBlock(self._ordinals, block.get("input"))
            self._ordinals += 1
            self._tools[obj.get("index", -1)] = tool
            return [ToolCallStart(tool.ordinal, str(block.get("id", "")), str(block.get("name", "")))]
        return []  # server tools and other blocks the runner does not handle

    def _block_delta(self, obj: Mapping[str, Any]) -> list[Chunk]:
        delta = obj.get("delta") or {}
        match delta.get("type"):
            case "text_delta":
                text = delta.get("text")
                return [TextDelta(text)] if text else []
            case "input_json_delta":
                tool = self._tools.get(obj.get("index", -1))
                part = delta.get("partial_json")
                if tool is None or not part:
                    return []
                tool.streamed = True
                return [ToolCallDelta(tool.ordinal, part)]
            case "thinking_delta":
                text = delta.get("thinking")
                return [ThinkingDelta(text=text)] if text else []
            case "signature_delta":
                sig = delta.get("signature")
                return [ThinkingDelta(signature=sig)] if sig else []
            case "citations_delta":
                citation = web_citation(delta.get("citation"))
                return [citation] if citation is not None else []
            case _:
                return []

    def _merge_usage(self, raw: Any) -> None:
        if not isinstance(raw, Mapping):
            return
        for field in _USAGE_FIELDS:
            value = raw.get(field)
            if isinstance(value, int):
                self._usage[field] = value  # message_delta counts are cumulative
        details = raw.get("output_tokens_details")
        if isinstance(details, Mapping) and isinstance(details.get("thinking_tokens"), int):
            self._usage[_THINKING] = details["thinking_tokens"]
        server = raw.get("server_tool_use")
        if isinstance(server, Mapping) and isinstance(server.get(_SEARCHES), int):
            self._usage[_SEARCHES] = server[_SEARCHES]

    def _partial_usage(self) -> Usage | None:
        return self._usage_value() if self._usage else None

    def _usage_value(self) -> Usage:
        u = self._usage
        return Usage(
            input_tokens=u.get("input_tokens", 0),
            output_tokens=u.get("output_tokens", 0),
            cache_read_tokens=u.get("cache_read_input_tokens", 0),
            cache_write_tokens=u.get("cache_creation_input_tokens", 0),
            reasoning_tokens=u.get(_THINKING, 0),
            web_search_requests=u.get(_SEARCHES, 0),
        )

    def _end(self) -> list[Chunk]:
        out: list[Chunk] = [ToolCallEnd(t.ordinal) for t in self._tools.values()]
        self._tools.clear()
        if self._usage:
            out.append(UsageChunk(self._usage_value()))
        out.append(StopChunk(_STOP.get(self._stop or "end_turn", ProviderStop.END_TURN)))
        return out

    def finish(self) -> list[Chunk]:
        if self.done:
            return []
        if self._stop is not None:
            self.done = True
            return self._end()  # message_delta said why it stopped; message_stop got lost
        raise NetworkError(
            f"{self._provider} closed the stream before the response was complete",
            provider=self._provider,
        )
