"""The ``openai-responses`` protocol: ``POST {base_url}/responses``.

OpenAI's API for its reasoning models (gpt-5 family, o-series). The base URL
includes the version prefix, as for ``openai-chat``.

Requests are stateless (``store: false``): the whole conversation goes in
``input`` every turn, and reasoning items come back with their
``encrypted_content`` (``include: ["reasoning.encrypted_content"]``) so the
model keeps its chain of thought across tool calls and turns without the
server storing anything.

Message mapping (the request is serialised as given; no history repair):

* the system prompt is ``instructions``;
* a user message is an ``input_text`` / ``input_image`` message;
* an assistant message becomes, in order, its reasoning items (only those
  this protocol produced: see :mod:`~agentcore.llm.responses_stream`), its
  text as an assistant message and each tool use as a ``function_call`` item;
* each tool result is a ``function_call_output`` item (an error's text is
  prefixed with ``Error:``); images of results follow in one user message.

Hosted web search (``request.web_search``) is the ``web_search`` tool after
the function tools, its allowed domains as ``filters.allowed_domains`` (the
API has no blocked list); its ``url_citation`` annotations come back as
citations (see :mod:`~agentcore.llm.responses_stream`).

Parameters the model's catalog capabilities rule out are not sent; reasoning
effort is ``reasoning.effort`` (the nearest level the model takes) with a
summary requested so thinking can be shown.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, assert_never

from agentcore.llm.base import API_RESPONSES, Capabilities, Chunk, LlmRequest, ToolSpec, WebSearch
from agentcore.llm.capabilities import fit_request, nearest_effort, takes_reasoning
from agentcore.llm.openai_chat import OpenAiHttpProvider, image_data_url, tool_result_parts
from agentcore.llm.responses_stream import ResponsesStreamDecoder, decode_reasoning
from agentcore.llm.web_search import caps_web_search_problem
from agentcore.messages import (
    AssistantMessage,
    ImageBlock,
    ImageRef,
    Message,
    TextBlock,
    ThinkingBlock,
    ToolResultMessage,
    ToolUseBlock,
    UserMessage,
    resolve_image,
    thaw_json,
)

PROTOCOL = "openai-responses"
ENCRYPTED_REASONING = "reasoning.encrypted_content"
IMAGE_DETAIL = "auto"
REASONING_SUMMARY = "auto"


def _content(blocks: tuple[TextBlock | ImageBlock | ImageRef, ...]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for block in blocks:
        if isinstance(block, ImageRef):  # an image kept out of line: its bytes go on the wire
            block = resolve_image(block)
        match block:
            case TextBlock(text=text):
                parts.append({"type": "input_text", "text": text})
            case ImageBlock():
                parts.append({"type": "input_image", "image_url": image_data_url(block), "detail": IMAGE_DETAIL})
            case _:
                assert_never(block)
    return parts


def _reasoning_item(block: ThinkingBlock) -> dict[str, Any] | None:
    decoded = decode_reasoning(block.signature)
    if decoded is None:
        return None  # thinking from another API cannot be replayed here
    item_id, encrypted = decoded
    item: dict[str, Any] = {
        "type": "reasoning",
        "id": item_id,
        "summary": [{"type": "summary_text", "text": block.text}] if block.text else [],
    }
    if encrypted is not None:
        item["encrypted_content"] = encrypted
    return item


def _assistant(msg: AssistantMessage) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    text: list[str] = []

    def flush_text() -> None:
        if text:
            out.append({"role": "assistant", "content": "".join(text)})
            text.clear()

    for block in msg.content:
        match block:
            case ThinkingBlock():
                item = _reasoning_item(block)
                if item is not None:
                    flush_text()
                    out.append(item)
            case TextBlock(text=t):
                if t:
                    text.append(t)
            case ToolUseBlock(id=id_, name=name, input=inp):
                flush_text()
                out.append(
                    {
                        "type": "function_call",
                        "call_id": id_,
                        "name": name,
                        "arguments": json.dumps(thaw_json(inp), ensure_ascii=False),
                    }
                )
            case _:
                assert_never(block)
    flush_text()
    return out


def _tool_results(msg: ToolResultMessage) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    images: list[dict[str, Any]] = []
    for result in msg.results:
        text, result_images = tool_result_parts(result)
        out.append({"type": "function_call_output", "call_id": result.tool_use_id, "output": text})
        if result_images:
            images.append({"type": "input_text", "text": f"Images from tool call {result.tool_use_id}:"})
            images.extend(_content(tuple(result_images)))
    if images:
        out.append({"role": "user", "content": images})
    return out


def convert_input(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for msg in messages:
        match msg:
            case UserMessage():
                out.append({"role": "user", "content": _content(msg.content)})
            case AssistantMessage():
                out.extend(_assistant(msg))
            case ToolResultMessage():
                out.extend(_tool_results(msg))
            case _:
                assert_never(msg)
    return out


def convert_tool(spec: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "name": spec.name,
        "description": spec.description,
        "parameters": thaw_json(spec.parameters),
        "strict": False,  # agentcore's schemas are not all strict-mode schemas
    }


def web_search_tool(spec: WebSearch) -> dict[str, Any]:
    """The hosted ``web_search`` tool; its filter takes allowed domains only
    (a blocked list is refused before a request is built: ``web_search_problem``)."""
    tool: dict[str, Any] = {"type": "web_search"}
    if spec.allowed_domains:
        tool["filters"] = {"allowed_domains": list(spec.allowed_domains)}
    return tool


def tool_choice(choice: str) -> str | dict[str, Any]:
    if choice in ("auto", "none", "required"):
        return choice
    return {"type": "function", "name": choice}


def build_body(request: LlmRequest, caps: Capabilities) -> dict[str, Any]:
    """The request body for a request already fitted to ``caps``."""
    body: dict[str, Any] = {"model": request.model, "input": convert_input(request.messages), "stream": True,
                            "store": False}  # fmt: skip
    if request.system:
        body["instructions"] = request.system
    tools = [convert_tool(t) for t in request.tools]
    if request.web_search is not None:
        tools.append(web_search_tool(request.web_search))
    if tools:
        body["tools"] = tools
    if request.tools:
        body["tool_choice"] = tool_choice(request.tool_choice)
    if request.max_tokens is not None:
        body["max_output_tokens"] = request.max_tokens
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if takes_reasoning(caps):
        reasoning: dict[str, Any] = {"summary": REASONING_SUMMARY}
        if request.reasoning_effort is not None:
            reasoning["effort"] = nearest_effort(request.reasoning_effort.value, caps) or request.reasoning_effort.value
        body["reasoning"] = reasoning
        body["include"] = [ENCRYPTED_REASONING]
    return body


class OpenAiResponsesProvider(OpenAiHttpProvider):
    """An :class:`LlmProvider` for the OpenAI Responses API."""

    def complete(self, request: LlmRequest) -> AsyncIterator[Chunk]:
        caps = self.model_info(request.model).capabilities
        request, _dropped = fit_request(request, caps)  # what the model does not take is not sent
        body = build_body(request, caps)
        secret = self._key.reveal() if self._key else None

        def new_decoder() -> ResponsesStreamDecoder:
            return ResponsesStreamDecoder(provider=self.name, api_key_env=self.api_key_env, secret=secret)

        return self._streamer.stream(f"{self.base_url}/responses", self._headers(), body, new_decoder)

    def web_search_problem(self, model: str, spec: WebSearch) -> str | None:
        return caps_web_search_problem(self.model_info(model), spec, api=API_RESPONSES, blocked_domains=False)
