"""Decode an OpenAI Responses event stream (``POST /v1/responses``, ``stream: true``).

Each SSE event is ``event: <type>`` with a JSON ``data`` whose ``type`` repeats
it and whose ``sequence_number`` counts up. The events that matter here:

* ``response.output_item.added`` / ``.done`` — an output item begins / ends:
  ``message``, ``reasoning`` (summary and, with ``store: false``, the
  ``encrypted_content`` to send back next turn) or ``function_call``;
* ``response.output_text.delta``, ``response.refusal.delta`` — answer text;
* ``response.reasoning_summary_text.delta`` — reasoning summary (thinking);
* ``response.function_call_arguments.delta`` — call arguments, keyed by item id;
* ``response.completed`` / ``response.incomplete`` (usage, why it stopped),
  ``response.failed`` and ``error`` (the call failed; raised as a
  :class:`ProviderError` carrying the usage so far when the server sent it).

Hosted web search: a ``web_search_call`` item is the vendor's own work
(nothing to run); each finished one whose action is a search counts as one
billed search (``Usage.web_search_requests``). A ``url_citation``
annotation (``response.output_text.annotation.added``, or in the finished
message item when no such event came for it) becomes a :class:`CitationDelta`.

Invariant: a finished reasoning item becomes one ``ThinkingDelta`` whose
``signature`` is :func:`encode_reasoning` of its id and encrypted content, so
the assembled :class:`ThinkingBlock` round-trips it to the next request
unchanged. Unknown event types (hosted tools this runner does not use) are
ignored, as the API's versioning asks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

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
from agentcore.llm.errors import event_object, NetworkError, ProviderError
from agentcore.llm.http_errors import error_from_object
from agentcore.llm.sse import SseEvent
from agentcore.messages import Citation, Usage

# A ThinkingBlock signature that holds a Responses reasoning item (never sent to another API).
REASONING_PREFIX = "openai-responses:"
_INCOMPLETE = {"max_output_tokens": ProviderStop.MAX_TOKENS, "content_filter": ProviderStop.REFUSAL}
SUMMARY_PART_SEPARATOR = "\n\n"


def encode_reasoning(item_id: str, encrypted: str | None) -> str:
    return REASONING_PREFIX + json.dumps({"id": item_id, "encrypted_content": encrypted}, separators=(",", ":"))


def decode_reasoning(signature: str | None) -> tuple[str, str | None] | None:
    """(item id, encrypted content) from a signature made by :func:`encode_reasoning`."""
    if not signature or not signature.startswith(REASONING_PREFIX):
        return None
    try:
        data = json.loads(signature[len(REASONING_PREFIX) :])
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        return None
    encrypted = data.get("encrypted_content")
    return data["id"], encrypted if isinstance(encrypted, str) else None


def usage_from_responses(raw: Mapping[str, Any]) -> Usage:
    """``input_tokens`` includes cache reads and writes; each is counted once."""
    details = raw.get("input_tokens_details") or {}
    cached = int(details.get("cached_tokens") or 0)
    written = int(details.get("cache_write_tokens") or 0)
    out_details = raw.get("output_tokens_details") or {}
    return Usage(
        input_tokens=max(int(raw.get("input_tokens") or 0) - cached - written, 0),
        output_tokens=int(raw.get("output_tokens") or 0),
        cache_read_tokens=cached,
        cache_write_tokens=written,
        reasoning_tokens=int(out_details.get("reasoning_tokens") or 0),
    )


def url_citation(raw: Any) -> CitationDelta | None:
    if not isinstance(raw, Mapping) or raw.get("type") != "url_citation" or not isinstance(raw.get("url"), str):
        return None
    return CitationDelta(Citation(raw["url"], str(raw.get("title") or "")))


class ResponsesStreamDecoder:
    def __init__(self, *, provider: str, api_key_env: str | None, secret: str | None) -> None:
        self._provider = provider
        self._api_key_env = api_key_env
        self._secret = secret
        self._calls: dict[str, list[Any]] = {}  # item id -> [ordinal, streamed?]
        self._ordinals = 0
        self._refused = False
        self._usage: Usage | None = None
        self._annotated: set[str] = set()  # message items whose citations came as annotation events
        self._searches = 0  # finished web_search_call items that searched
        self.done = False

    def feed(self, event: SseEvent) -> list[Chunk]:
        obj = event_object(event.data, self._provider)
        if obj is None:
            return []
        kind = obj.get("type") or event.event
        match kind:
            case "response.output_text.delta":
                delta = obj.get("delta")
                return [TextDelta(delta)] if isinstance(delta, str) and delta else []
            case "response.refusal.delta":
                delta = obj.get("delta")
                self._refused = True
                return [TextDelta(delta)] if isinstance(delta, str) and delta else []
            case "response.reasoning_summary_text.delta":
                delta = obj.get("delta")
                return [ThinkingDelta(text=delta)] if isinstance(delta, str) and delta else []
            case "response.reasoning_summary_part.added":
                return [ThinkingDelta(text=SUMMARY_PART_SEPARATOR)] if obj.get("summary_index", 0) > 0 else []
            case "response.function_call_arguments.delta":
                call = self._calls.get(str(obj.get("item_id")))
                delta = obj.get("delta")
                if call is None or not isinstance(delta, str) or not delta:
                    return []
                call[1] = True
                return [ToolCallDelta(call[0], delta)]
            case "response.output_text.annotation.added":
                citation = url_citation(obj.get("annotation"))
                if citation is None:
                    return []
                self._annotated.add(str(obj.get("item_id")))
                return [citation]
            case "response.output_item.added":
                return self._item_added(obj.get("item") or {})
            case "response.output_item.done":
                return self._item_done(obj.get("item") or {})
            case "response.completed" | "response.incomplete":
                return self._end(obj.get("response") or {})
            case "response.failed":
                response = obj.get("response") or {}
                raise self._error(response.get("error") or {"message": "the response failed"}, response)
            case "error":
                raise self._error(obj, {})
            case _:
                return []

    def _item_added(self, item: Mapping[str, Any]) -> list[Chunk]:
        if item.get("type") != "function_call":
            return []
        ordinal = self._ordinals
        self._ordinals += 1
        self._calls[str(item.get("id"))] = [ordinal, False]
        return [ToolCallStart(ordinal, str(item.get("call_id") or item.get("id") or ""), str(item.get("name") or ""))]

    def _item_done(self, item: Mapping[str, Any]) -> list[Chunk]:
        match item.get("type"):
            case "function_call":
                call = self._calls.pop(str(item.get("id")), None)
                if call is None:  # a call that arrived whole
                    out = self._item_added(item)
                    call = self._calls.pop(str(item.get("id")))
                else:
                    out = []
                arguments = item.get("arguments")
                if not call[1] and isinstance(arguments, str) and arguments:
                    out.append(ToolCallDelta(call[0], arguments))
                out.append(ToolCallEnd(call[0]))
                return out
            case "message" if str(item.get("id")) not in self._annotated:
                annotations = [a for part in item.get("content") or () if isinstance(part, Mapping)
                               for a in part.get("annotations") or ()]  # fmt: skip
                return [c for c in map(url_citation, annotations) if c is not None]
            case "web_search_call":
                action = item.get("action")
                if not isinstance(action, Mapping) or action.get("type", "search") == "search":
                    self._searches += 1
                return []
            case "reasoning":
                encrypted = item.get("encrypted_content")
                signature = encode_reasoning(str(item.get("id", "")), encrypted if isinstance(encrypted, str) else None)
                return [ThinkingDelta(signature=signature)]
            case _:
                return []

    def _end(self, response: Mapping[str, Any]) -> list[Chunk]:
        self.done = True
        out: list[Chunk] = [ToolCallEnd(ordinal) for ordinal, _ in self._calls.values()]
        self._calls.clear()
        usage = response.get("usage")
        if isinstance(usage, Mapping):
            out.append(UsageChunk(self._with_searches(usage_from_responses(usage))))
        elif self._searches:
            out.append(UsageChunk(Usage(web_search_requests=self._searches)))
        reason = (response.get("incomplete_details") or {}).get("reason")
        if response.get("status") == "incomplete":
            stop = _INCOMPLETE.get(str(reason), ProviderStop.MAX_TOKENS)
        elif self._ordinals:
            stop = ProviderStop.TOOL_USE
        else:
            stop = ProviderStop.END_TURN
        if self._refused:
            stop = ProviderStop.REFUSAL
        out.append(StopChunk(stop))
        return out

    def _error(self, error: Mapping[str, Any], response: Mapping[str, Any]) -> ProviderError:
        # The Responses API names the kind in ``code`` ("server_error", "rate_limit_exceeded").
        code = error.get("code")
        body = {"error": {"message": error.get("message"), "type": code, "code": code}}
        err = error_from_object(
            body, status=None, provider=self._provider, api_key_env=self._api_key_env, secret=self._secret
        )
        usage = response.get("usage")
        if isinstance(usage, Mapping):
            err.usage = self._with_searches(usage_from_responses(usage))
        elif self._searches:
            err.usage = Usage(web_search_requests=self._searches)
        return err

    def _with_searches(self, usage: Usage) -> Usage:
        return attrs.evolve(usage, web_search_requests=self._searches) if self._searches else usage

    def finish(self) -> list[Chunk]:
        if self.done:
            return []
        raise NetworkError(
            f"{self._provider} closed the stream before the response was complete",
            provider=self._provider,
        )
