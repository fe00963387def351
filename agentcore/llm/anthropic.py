"""The ``anthropic-messages`` protocol: ``POST {base_url}/v1/messages``.

The base URL has no version prefix, as with ``ANTHROPIC_BASE_URL``
(``https://api.anthropic.com``).

Message mapping (the request is serialised as given; no history repair):

* consecutive messages of one role are merged (the API requires
  alternation); a tool-result message is a ``user`` message of
  ``tool_result`` blocks, which are placed first in the merged content, as
  the API requires;
* assistant content keeps its order; signed thinking and redacted thinking go
  back unchanged; thinking without a signature (from another provider)
  cannot be replayed and is left out; empty text blocks are left out (the API
  rejects them);
* prompt caching: ``cache_control`` breakpoints go on the system prompt, on
  the last tool and on the last block of the latest message, so each turn
  reads the previous turn's prefix from the cache.

Hosted web search (``request.web_search``) is the server-side
``web_search_20250305`` tool after the function tools, with its allowed or
blocked domains; its results come back as citations on text blocks (see
:mod:`~agentcore.llm.anthropic_stream`). The search blocks themselves are
not kept, so a later request carries the answer's text, not the result pages.

Reasoning effort becomes ``thinking: {type: enabled, budget_tokens}``, with
``max_tokens`` kept above the budget. Parameters the model's catalog
capabilities rule out (``temperature`` for every current Claude model: the
Messages API has no such field any more) are dropped first. The API refuses
``temperature`` and forced tool choice together with thinking, so thinking
wins over temperature and a forced tool choice wins over thinking.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, assert_never

from agentcore.llm.anthropic_stream import AnthropicStreamDecoder
from agentcore.llm.base import API_MESSAGES, Chunk, LlmRequest, ModelInfo, ReasoningEffort, ToolSpec, WebSearch
from agentcore.llm.capabilities import fit_request
from agentcore.llm.http_base import HttpProviderBase
from agentcore.llm.responses_stream import REASONING_PREFIX
from agentcore.llm.transport import get_json
from agentcore.llm.web_search import caps_web_search_problem
from agentcore.messages import (
    AssistantMessage,
    ImageBlock,
    ImageRef,
    Message,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolResultMessage,
    ToolUseBlock,
    UserMessage,
    resolve_image,
    thaw_json,
)

PROTOCOL = "anthropic-messages"
API_VERSION = "2023-06-01"  # the only stable Messages API version header
EPHEMERAL = {"type": "ephemeral"}
# Output room when the request sets no max_tokens: long enough for large file
# edits, and the API needs some value (unit: tokens).
DEFAULT_MAX_TOKENS = 32_000
# Thinking budgets per effort, after the common think / think hard /
# think harder tiers (unit: tokens).
THINKING_BUDGET = {
    ReasoningEffort.LOW: 4_000,
    ReasoningEffort.MEDIUM: 10_000,
    ReasoningEffort.HIGH: 32_000,
}
MIN_THINKING_BUDGET = 1_024  # the API's minimum budget_tokens
MIN_ANSWER_TOKENS = 1_024  # output kept for the answer after thinking (unit: tokens)
_CACHEABLE = frozenset({"text", "image", "tool_use", "tool_result"})
# The server-side web search tool: the version every current Claude model takes.
WEB_SEARCH_TOOL_TYPE = "web_search_20250305"


def _image(block: ImageBlock) -> dict[str, Any]:
    return {
        "type": "image",
        "source": {"type": "base64", "media_type": block.media_type, "data": block.data},
    }


def _user_blocks(blocks: tuple[TextBlock | ImageBlock | ImageRef, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for block in blocks:
        if isinstance(block, ImageRef):  # an image kept out of line: its bytes go on the wire
            block = resolve_image(block)
        match block:
            case TextBlock(text=text):
                if text:
                    out.append({"type": "text", "text": text})
            case ImageBlock():
                out.append(_image(block))
            case _:
                assert_never(block)
    return out


def _assistant_blocks(msg: AssistantMessage) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for block in msg.content:
        match block:
            case ThinkingBlock(text=text, signature=sig, redacted=red):
                if red is not None:
                    out.append({"type": "redacted_thinking", "data": red})
                elif sig is not None and not sig.startswith(REASONING_PREFIX):  # not an OpenAI reasoning item
                    out.append({"type": "thinking", "thinking": text, "signature": sig})
            case TextBlock(text=text):
                if text:
                    out.append({"type": "text", "text": text})
            case ToolUseBlock(id=id_, name=name, input=inp):
                out.append({"type": "tool_use", "id": id_, "name": name, "input": thaw_json(inp)})
            case _:
                assert_never(block)
    return out


def _tool_result(result: ToolResultBlock) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "tool_result", "tool_use_id": result.tool_use_id}
    content = _user_blocks(result.content)
    if content:
        out["content"] = content
    if result.is_error:
        out["is_error"] = True
    return out


def convert_messages(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for msg in messages:
        match msg:
            case UserMessage():
                role, blocks = "user", _user_blocks(msg.content)
            case AssistantMessage():
                role, blocks = "assistant", _assistant_blocks(msg)
            case ToolResultMessage():
                role, blocks = "user", [_tool_result(r) for r in msg.results]
            case _:
                assert_never(msg)
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    for turn in out:
        if turn["role"] == "user":
            turn["content"].sort(key=lambda b: b["type"] != "tool_result")  # stable
    return out


def _mark_latest_turn(messages: list[dict[str, Any]]) -> None:
    if not messages:
        return
    for block in reversed(messages[-1]["content"]):
        if block["type"] in _CACHEABLE:
            block["cache_control"] = EPHEMERAL
            return


def convert_tool(spec: ToolSpec) -> dict[str, Any]:
    return {"name": spec.name, "description": spec.description, "input_schema": thaw_json(spec.parameters)}


def web_search_tool(spec: WebSearch) -> dict[str, Any]:
    """The server-side search tool; the API takes allowed or blocked domains, not both."""
    tool: dict[str, Any] = {"type": WEB_SEARCH_TOOL_TYPE, "name": "web_search"}
    if spec.allowed_domains:
        tool["allowed_domains"] = list(spec.allowed_domains)
    elif spec.blocked_domains:
        tool["blocked_domains"] = list(spec.blocked_domains)
    return tool


def tool_choice(choice: str) -> dict[str, Any]:
    match choice:
        case "auto" | "none":
            return {"type": choice}
        case "required":
            return {"type": "any"}
        case _:
            return {"type": "tool", "name": choice}


def build_body(request: LlmRequest, info: ModelInfo) -> dict[str, Any]:
    messages = convert_messages(request.messages)
    _mark_latest_turn(messages)
    max_tokens = request.max_tokens or min(info.max_output_tokens, DEFAULT_MAX_TOKENS)
    body: dict[str, Any] = {"model": request.model, "max_tokens": max_tokens, "stream": True}
    if request.system:
        body["system"] = [{"type": "text", "text": request.system, "cache_control": EPHEMERAL}]
    body["messages"] = messages
    forced_tool = bool(request.tools) and request.tool_choice not in ("auto", "none")
    tools = [convert_tool(t) for t in request.tools]
    if request.web_search is not None:
        tools.append(web_search_tool(request.web_search))
    if tools:
        tools[-1]["cache_control"] = EPHEMERAL
        body["tools"] = tools
    if request.tools:
        body["tool_choice"] = tool_choice(request.tool_choice)
    thinking = None
    if request.reasoning_effort is not None and not forced_tool:
        budget = THINKING_BUDGET[request.reasoning_effort]
        if request.max_tokens is None:
            max_tokens = min(max(max_tokens, budget + MIN_ANSWER_TOKENS), info.max_output_tokens)
        budget = min(budget, max_tokens - MIN_ANSWER_TOKENS)
        if budget >= MIN_THINKING_BUDGET:
            thinking = {"type": "enabled", "budget_tokens": budget}
            body["max_tokens"] = max_tokens
            body["thinking"] = thinking
    if request.temperature is not None and thinking is None:
        body["temperature"] = request.temperature
    return body


class AnthropicProvider(HttpProviderBase):
    """An :class:`LlmProvider` for the Anthropic Messages API."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(request_id_header="request-id", **kwargs)

    def _headers(self) -> dict[str, str]:
        headers = {
            "content-type": "application/json",
            "accept": "text/event-stream",
            "anthropic-version": API_VERSION,
        }
        if self._key is not None:
            headers["x-api-key"] = self._key.reveal()
        headers.update(self.extra_headers)
        return headers

    def complete(self, request: LlmRequest) -> AsyncIterator[Chunk]:
        info = self.model_info(request.model)
        request, _dropped = fit_request(request, info.capabilities)  # what the model does not take is not sent
        body = build_body(request, info)
        secret = self._key.reveal() if self._key else None

        def new_decoder() -> AnthropicStreamDecoder:
            return AnthropicStreamDecoder(provider=self.name, api_key_env=self.api_key_env, secret=secret)

        return self._streamer.stream(f"{self.base_url}/v1/messages", self._headers(), body, new_decoder)

    def web_search_problem(self, model: str, spec: WebSearch) -> str | None:
        return caps_web_search_problem(self.model_info(model), spec, api=API_MESSAGES)

    async def list_models(self) -> list[ModelInfo]:
        headers = {k: v for k, v in self._headers().items() if k not in ("accept", "content-type")}
        data = await get_json(
            self._client,
            f"{self.base_url}/v1/models",
            headers,
            provider=self.name,
            api_key_env=self.api_key_env,
            secret=self._key,
            timeouts=self.timeouts,
            request_id_header="request-id",
        )
        items = data.get("data") if isinstance(data, dict) else None
        return [self.model_info(m["id"]) for m in items or () if isinstance(m, dict) and "id" in m]
