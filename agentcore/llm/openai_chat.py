"""The ``openai-chat`` protocol: ``POST {base_url}/chat/completions``.

Spoken by OpenAI and by most servers that imitate it (Ollama, vLLM,
llama.cpp, LM Studio, OpenRouter, DeepSeek, Groq). The base URL includes the
version prefix, as with ``OPENAI_BASE_URL`` (``https://api.openai.com/v1``).

Message mapping (the request is serialised exactly as given; no history
repair happens here):

* the system prompt is the first ``system`` message;
* a user message is a string when it is one text block, else a list of
  ``text`` / ``image_url`` parts (images as ``data:`` URLs);
* an assistant message carries its text and ``tool_calls``; thinking is not
  sent back (the protocol has no field for it);
* each tool result is one ``tool`` message. Tool messages cannot hold images,
  so images of a result go into one ``user`` message after the results.
  ``is_error`` has no field either, so an error result's text is prefixed
  with ``Error:``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any, assert_never

from agentcore.llm.base import Capabilities, Chunk, LlmRequest, ModelInfo, ToolSpec, WebSearch
from agentcore.llm.capabilities import fit_request, nearest_effort
from agentcore.llm.http_base import HttpProviderBase
from agentcore.llm.openai_stream import OpenAiStreamDecoder
from agentcore.llm.transport import get_json
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

PROTOCOL = "openai-chat"
TOOL_ERROR_PREFIX = "Error: "


def image_data_url(block: ImageBlock) -> str:
    return f"data:{block.media_type};base64,{block.data}"


def _user_content(blocks: tuple[TextBlock | ImageBlock | ImageRef, ...]) -> str | list[dict[str, Any]]:
    if len(blocks) == 1 and isinstance(blocks[0], TextBlock):
        return blocks[0].text  # the plainest form: every compatible server accepts it
    parts: list[dict[str, Any]] = []
    for block in blocks:
        if isinstance(block, ImageRef):  # an image kept out of line: its bytes go on the wire
            block = resolve_image(block)
        match block:
            case TextBlock(text=text):
                parts.append({"type": "text", "text": text})
            case ImageBlock():
                parts.append({"type": "image_url", "image_url": {"url": image_data_url(block)}})
            case _:
                assert_never(block)
    return parts


def _assistant(msg: AssistantMessage) -> dict[str, Any]:
    text = "".join(b.text for b in msg.content if isinstance(b, TextBlock))
    out: dict[str, Any] = {"role": "assistant", "content": text or None}
    calls = []
    for block in msg.content:
        match block:
            case ToolUseBlock(id=id_, name=name, input=inp):
                calls.append(
                    {
                        "id": id_,
                        "type": "function",
                        "function": {
                            "name": name,
                            "arguments": json.dumps(thaw_json(inp), ensure_ascii=False),
                        },
                    }
                )
            case TextBlock() | ThinkingBlock():
                pass
            case _:
                assert_never(block)
    if calls:
        out["tool_calls"] = calls
    elif out["content"] is None:
        out["content"] = ""
    return out


def tool_result_parts(result: ToolResultBlock) -> tuple[str, list[ImageBlock]]:
    """A tool result as OpenAI's APIs take it: one text (errors prefixed) for the
    result itself, and its images, which only a user message can carry (both
    Chat Completions and Responses send them in a user message after the results).
    Images kept out of line are read back here; one that cannot be read becomes a note."""
    resolved = [resolve_image(b) if isinstance(b, ImageRef) else b for b in result.content]
    text = "\n".join(b.text for b in resolved if isinstance(b, TextBlock))
    images = [b for b in resolved if isinstance(b, ImageBlock)]
    if images and not text:
        text = "(the result is the image in the next message)"
    if result.is_error:
        text = TOOL_ERROR_PREFIX + text
    return text, images


def _tool_results(msg: ToolResultMessage) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    images: list[dict[str, Any]] = []
    for result in msg.results:
        text, result_images = tool_result_parts(result)
        out.append({"role": "tool", "tool_call_id": result.tool_use_id, "content": text})
        if result_images:
            images.append({"type": "text", "text": f"Images from tool call {result.tool_use_id}:"})
            images.extend(
                {"type": "image_url", "image_url": {"url": image_data_url(b)}} for b in result_images
            )
    if images:
        out.append({"role": "user", "content": images})
    return out


def convert_messages(system: str, messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if system:
        out.append({"role": "system", "content": system})
    for msg in messages:
        match msg:
            case UserMessage():
                # SUMMARY / BACKGROUND / CONTEXT messages are plain user turns on the wire.
                out.append({"role": "user", "content": _user_content(msg.content)})
            case AssistantMessage():
                out.append(_assistant(msg))
            case ToolResultMessage():
                out.extend(_tool_results(msg))
            case _:
                assert_never(msg)
    return out


def convert_tool(spec: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": spec.name,
            "description": spec.description,
            "parameters": thaw_json(spec.parameters),
        },
    }


def tool_choice(choice: str) -> str | dict[str, Any]:
    if choice in ("auto", "none", "required"):
        return choice
    return {"type": "function", "function": {"name": choice}}


def build_body(
    request: LlmRequest, *, max_tokens_field: str = "max_tokens", caps: Capabilities | None = None
) -> dict[str, Any]:
    """The request body; with ``caps``, an effort level the model lacks becomes its nearest one."""
    body: dict[str, Any] = {
        "model": request.model,
        "messages": convert_messages(request.system, request.messages),
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.tools:
        body["tools"] = [convert_tool(t) for t in request.tools]
        body["tool_choice"] = tool_choice(request.tool_choice)
    if request.max_tokens is not None:
        body[max_tokens_field] = request.max_tokens
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.reasoning_effort is not None:
        level = request.reasoning_effort.value
        body["reasoning_effort"] = (nearest_effort(level, caps) or level) if caps is not None else level
    return body


class OpenAiHttpProvider(HttpProviderBase):
    """What OpenAI's two APIs share: bearer auth, the request-id header, ``/models``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(request_id_header="x-request-id", **kwargs)

    def _headers(self) -> dict[str, str]:
        headers = {"content-type": "application/json", "accept": "text/event-stream"}
        if self._key is not None:
            headers["authorization"] = f"Bearer {self._key.reveal()}"
        headers.update(self.extra_headers)
        return headers

    async def list_models(self) -> list[ModelInfo]:
        data = await get_json(
            self._client,
            f"{self.base_url}/models",
            {k: v for k, v in self._headers().items() if k != "accept"},
            provider=self.name,
            api_key_env=self.api_key_env,
            secret=self._key,
            timeouts=self.timeouts,
        )
        return [self.model_info(m["id"]) for m in _listed(data)]


class OpenAiChatProvider(OpenAiHttpProvider):
    """An :class:`LlmProvider` for the chat-completions protocol."""

    def __init__(self, *, max_tokens_field: str = "max_tokens", **kwargs: Any) -> None:
        # OpenAI itself wants "max_completion_tokens" (reasoning models reject
        # "max_tokens"); most compatible servers only know "max_tokens".
        super().__init__(**kwargs)
        self.max_tokens_field = max_tokens_field

    def complete(self, request: LlmRequest) -> AsyncIterator[Chunk]:
        caps = self.model_info(request.model).capabilities
        request, _dropped = fit_request(request, caps)  # what the model does not take is not sent
        body = build_body(request, max_tokens_field=self.max_tokens_field, caps=caps)
        secret = self._key.reveal() if self._key else None

        def new_decoder() -> OpenAiStreamDecoder:
            return OpenAiStreamDecoder(provider=self.name, api_key_env=self.api_key_env, secret=secret)

        return self._streamer.stream(
            f"{self.base_url}/chat/completions", self._headers(), body, new_decoder
        )

    def web_search_problem(self, model: str, spec: WebSearch) -> str | None:
        """Chat completions has no hosted search tool (request.web_search is never sent)."""
        return (f"{model} is served through chat completions ({self.base_url}), which has no hosted web search; "
                "a provider with protocol = \"openai-responses\" or \"anthropic-messages\" has it")  # fmt: skip


def _listed(data: Any) -> list[Mapping[str, Any]]:
    items = data.get("data") if isinstance(data, Mapping) else None
    return [m for m in items or () if isinstance(m, Mapping) and isinstance(m.get("id"), str)]
