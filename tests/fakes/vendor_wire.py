"""Byte-exact event streams in each vendor's documented wire format.

OpenAI: ``data: <chat.completion.chunk JSON>\\n\\n`` per chunk, a final
usage-only chunk (``choices: []``) when ``stream_options.include_usage`` is
set, then ``data: [DONE]\\n\\n``. Anthropic: ``event: <type>\\ndata: <JSON>\\n\\n``
for message_start, content_block_start/delta/stop, ping, message_delta,
message_stop and error, shaped as in the Messages streaming documentation.
OpenAI Responses: ``event: <type>\ndata: <JSON>\n\n`` with a counting
``sequence_number`` (:class:`RsStream` builds whole responses).

Every event built here is checked against the vendor SDK's own types
(:mod:`fakes.vendor_sdk`) as it is built, so a fake cannot drift from the wire.
"""

from __future__ import annotations

import json
from typing import Any

from fakes.vendor_sdk import check_anthropic_event, check_openai_chunk, check_responses_event

CHATCMPL_ID = "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG"


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def oa_chunk(
    delta: dict[str, Any] | None = None,
    *,
    finish: str | None = None,
    model: str = "gpt-4o-mini-2024-07-18",
    compat: bool = False,
) -> bytes:
    """One ``chat.completion.chunk``. ``compat=True`` marks a shape only a
    compatible server sends (DeepSeek's ``reasoning_content``, parsed
    arguments): not OpenAI's wire, so not checked against its SDK."""
    obj = {
        "id": CHATCMPL_ID,
        "object": "chat.completion.chunk",
        "created": 1741569952,
        "model": model,
        "service_tier": "default",
        "system_fingerprint": "fp_06737a9306",
        "choices": [
            {"index": 0, "delta": delta or {}, "logprobs": None, "finish_reason": finish}
        ],
        "usage": None,
    }
    if not compat:
        check_openai_chunk(obj)
    return f"data: {_dumps(obj)}\n\n".encode()


def oa_usage(prompt: int, completion: int, *, cached: int = 0, reasoning: int = 0, cache_write: int = 0) -> bytes:
    obj = {
        "id": CHATCMPL_ID,
        "object": "chat.completion.chunk",
        "created": 1741569952,
        "model": "gpt-4o-mini-2024-07-18",
        "service_tier": "default",
        "system_fingerprint": "fp_06737a9306",
        "choices": [],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0, "cache_write_tokens": cache_write},
            "completion_tokens_details": {
                "reasoning_tokens": reasoning,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
    }
    check_openai_chunk(obj)
    return f"data: {_dumps(obj)}\n\n".encode()


OA_ROLE = oa_chunk({"role": "assistant", "content": "", "refusal": None})
OA_DONE = b"data: [DONE]\n\n"


def oa_tool_start(index: int, call_id: str, name: str) -> bytes:
    return oa_chunk(
        {
            "tool_calls": [
                {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
            ]
        }
    )


def oa_tool_args(index: int, fragment: str) -> bytes:
    return oa_chunk({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]})


def oa_text_stream(text: str, *, prompt: int = 10, completion: int = 5) -> list[bytes]:
    """A whole streamed text answer, usage in the final chunk."""
    return [OA_ROLE, oa_chunk({"content": text}), oa_chunk(finish="stop"), oa_usage(prompt, completion), OA_DONE]


def oa_tool_stream(*calls: tuple[str, str, str], prompt: int = 10, completion: int = 5) -> list[bytes]:
    """Streamed tool calls: (call id, tool name, JSON arguments) each."""
    parts = [OA_ROLE]
    for i, (call_id, name, args) in enumerate(calls):
        parts += [oa_tool_start(i, call_id, name), oa_tool_args(i, args)]
    return [*parts, oa_chunk(finish="tool_calls"), oa_usage(prompt, completion), OA_DONE]


# ------------------------------------------------------------------ Anthropic


def an_event(type_: str, **fields: Any) -> bytes:
    check_anthropic_event({"type": type_, **fields})
    return f"event: {type_}\ndata: {_dumps({'type': type_, **fields})}\n\n".encode()


def an_message_start(input_tokens: int = 25, *, cache_read: int = 0, cache_write: int = 0) -> bytes:
    return an_event(
        "message_start",
        message={
            "id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": "claude-sonnet-4-5-20250929",
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": input_tokens,
                "cache_creation_input_tokens": cache_write,
                "cache_read_input_tokens": cache_read,
                "output_tokens": 1,
            },
        },
    )


AN_PING = b'event: ping\ndata: {"type": "ping"}\n\n'
AN_STOP = b'event: message_stop\ndata: {"type": "message_stop"}\n\n'


def an_block_start(index: int, block: dict[str, Any]) -> bytes:
    return an_event("content_block_start", index=index, content_block=block)


def an_delta(index: int, delta: dict[str, Any]) -> bytes:
    return an_event("content_block_delta", index=index, delta=delta)


def an_text(index: int, text: str) -> bytes:
    return an_delta(index, {"type": "text_delta", "text": text})


def an_block_stop(index: int) -> bytes:
    return an_event("content_block_stop", index=index)


def an_message_delta(stop_reason: str, output_tokens: int, *, thinking_tokens: int | None = None) -> bytes:
    usage: dict[str, Any] = {"output_tokens": output_tokens}
    if thinking_tokens is not None:
        usage["output_tokens_details"] = {"thinking_tokens": thinking_tokens}
    return an_event("message_delta", delta={"stop_reason": stop_reason, "stop_sequence": None}, usage=usage)


def an_error(type_: str, message: str) -> bytes:
    return an_event("error", error={"type": type_, "message": message})


def an_text_message(*texts: str, output_tokens: int = 15) -> list[bytes]:
    return [
        an_message_start(),
        an_block_start(0, {"type": "text", "text": ""}),
        AN_PING,
        *(an_text(0, t) for t in texts),
        an_block_stop(0),
        an_message_delta("end_turn", output_tokens),
        AN_STOP,
    ]


def an_web_search_message(
    query: str,
    results: list[tuple[str, str]],
    cited: list[tuple[str, tuple[str, str, str] | None]],
    *,
    searches: int = 1,
    output_tokens: int = 120,
) -> list[bytes]:
    """A streamed answer that used the server-side web search tool, as the
    Messages API sends it: a text block, the ``server_tool_use`` block (its
    query as ``input_json_delta``), the ``web_search_tool_result`` block with
    ``results`` (title, url), then one text block per ``cited`` entry (text,
    and its citation as (url, title, cited_text) in a ``citations_delta``),
    and usage with ``server_tool_use.web_search_requests``."""
    tool_id = "srvtoolu_014hJH82Qum7Td6UV8gDXThB"
    parts = [
        an_message_start(),
        an_block_start(0, {"type": "text", "text": ""}),
        an_text(0, "I'll search for that."),
        an_block_stop(0),
        an_block_start(1, {"type": "server_tool_use", "id": tool_id, "name": "web_search", "input": {}}),
        an_delta(1, {"type": "input_json_delta", "partial_json": _dumps({"query": query})}),
        an_block_stop(1),
        an_block_start(2, {"type": "web_search_tool_result", "tool_use_id": tool_id, "content": [
            {"type": "web_search_result", "title": title, "url": url, "encrypted_content": "EqgfCioIARgBIiQ3YTAw",
             "page_age": "April 30, 2025"}
            for title, url in results
        ]}),
        an_block_stop(2),
    ]  # fmt: skip
    for offset, (text, citation) in enumerate(cited):
        index = 3 + offset
        parts.append(an_block_start(index, {"type": "text", "text": "", "citations": None}))
        if citation is not None:
            url, title, quoted = citation
            parts.append(an_delta(index, {"type": "citations_delta", "citation": {
                "type": "web_search_result_location", "url": url, "title": title, "cited_text": quoted,
                "encrypted_index": "Eo8BCioIAhgBIiQyYjQ0OWJmZi1lNm"}}))  # fmt: skip
        parts += [an_text(index, text), an_block_stop(index)]
    usage = {"output_tokens": output_tokens,
             "server_tool_use": {"web_search_requests": searches, "web_fetch_requests": 0}}  # fmt: skip
    parts += [an_event("message_delta", delta={"stop_reason": "end_turn", "stop_sequence": None}, usage=usage), AN_STOP]
    return parts


def an_error_after_text(text: str, *, input_tokens: int, output_tokens: int) -> list[bytes]:
    """A stream that starts answering, reports its usage so far, then ends in an ``error`` event."""
    return [
        an_message_start(input_tokens),
        an_block_start(0, {"type": "text", "text": ""}),
        an_text(0, text),
        an_event("message_delta", delta={"stop_reason": None, "stop_sequence": None},
                 usage={"output_tokens": output_tokens}),  # fmt: skip
        an_error("api_error", "Internal server error"),
    ]


# ------------------------------------------------------------ OpenAI Responses

RESP_ID = "resp_68af4030592c81938ec0a5fbab4a3e9f05438e46b5f69a3b"


def rs_usage(input_tokens: int, output_tokens: int, *, cached: int = 0, cache_write: int = 0, reasoning: int = 0) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": cache_write},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": input_tokens + output_tokens,
    }


class RsStream:
    """One streamed Response, event by event, each checked against the SDK's
    ``ResponseStreamEvent`` types as it is built. ``bytes()`` of the pieces is
    what the server sends; ``output`` collects the finished items."""

    def __init__(self, model: str = "gpt-5-2025-08-07") -> None:
        self.model = model
        self.seq = 0
        self.parts: list[bytes] = []
        self.output: list[dict[str, Any]] = []

    def event(self, type_: str, **fields: Any) -> RsStream:
        obj = {"type": type_, "sequence_number": self.seq, **fields}
        self.seq += 1
        check_responses_event(obj)
        self.parts.append(f"event: {type_}\ndata: {_dumps(obj)}\n\n".encode())
        return self

    def _response(self, status: str, **extra: Any) -> dict[str, Any]:
        return {
            "id": RESP_ID, "object": "response", "created_at": 1756315696, "status": status, "model": self.model,
            "output": list(self.output), "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
            "error": None, "incomplete_details": None, **extra,
        }  # fmt: skip

    def created(self) -> RsStream:
        self.event("response.created", response=self._response("in_progress"))
        return self.event("response.in_progress", response=self._response("in_progress"))

    def reasoning(self, item_id: str, summary: list[str], encrypted: str | None) -> RsStream:
        index = len(self.output)
        item: dict[str, Any] = {"id": item_id, "type": "reasoning", "summary": []}
        self.event("response.output_item.added", output_index=index, item=item)
        for n, text in enumerate(summary):
            part = {"type": "summary_text", "text": ""}
            self.event("response.reasoning_summary_part.added", item_id=item_id, output_index=index, summary_index=n, part=part)
            for piece in (text[: len(text) // 2], text[len(text) // 2 :]):
                self.event("response.reasoning_summary_text.delta", item_id=item_id, output_index=index,
                           summary_index=n, delta=piece)  # fmt: skip
            self.event("response.reasoning_summary_text.done", item_id=item_id, output_index=index, summary_index=n, text=text)
            self.event("response.reasoning_summary_part.done", item_id=item_id, output_index=index, summary_index=n,
                       part={"type": "summary_text", "text": text})  # fmt: skip
        done = {**item, "summary": [{"type": "summary_text", "text": t} for t in summary]}
        if encrypted is not None:
            done["encrypted_content"] = encrypted
        self.output.append(done)
        return self.event("response.output_item.done", output_index=index, item=done)

    def message(self, item_id: str, *texts: str, citations: tuple[tuple[str, str], ...] = (),
                annotation_events: bool = True) -> RsStream:  # fmt: skip
        """An output message; ``citations`` (url, title) become ``url_citation``
        annotations over the whole text, announced by ``annotation.added``
        events unless ``annotation_events`` is False (then only in the finished item)."""
        index = len(self.output)
        item = {"id": item_id, "type": "message", "status": "in_progress", "role": "assistant", "content": []}
        self.event("response.output_item.added", output_index=index, item=item)
        self.event("response.content_part.added", item_id=item_id, output_index=index, content_index=0,
                   part={"type": "output_text", "annotations": [], "text": ""})  # fmt: skip
        for text in texts:
            self.event("response.output_text.delta", item_id=item_id, output_index=index, content_index=0, delta=text,
                       logprobs=[])  # fmt: skip
        full = "".join(texts)
        annotations = [{"type": "url_citation", "start_index": 0, "end_index": len(full), "url": url, "title": title}
                       for url, title in citations]  # fmt: skip
        for n, annotation in enumerate(annotations if annotation_events else ()):
            self.event("response.output_text.annotation.added", item_id=item_id, output_index=index, content_index=0,
                       annotation_index=n, annotation=annotation)  # fmt: skip
        part = {"type": "output_text", "annotations": annotations, "text": full}
        self.event("response.output_text.done", item_id=item_id, output_index=index, content_index=0, text=full, logprobs=[])
        self.event("response.content_part.done", item_id=item_id, output_index=index, content_index=0, part=part)
        done = {**item, "status": "completed", "content": [part]}
        self.output.append(done)
        return self.event("response.output_item.done", output_index=index, item=done)

    def web_search(self, item_id: str, query: str) -> RsStream:
        """A hosted ``web_search_call`` item with its progress events."""
        index = len(self.output)
        item = {"id": item_id, "type": "web_search_call", "status": "in_progress", "action": {"type": "search", "query": query}}
        self.event("response.output_item.added", output_index=index, item=item)
        for stage in ("in_progress", "searching", "completed"):
            self.event(f"response.web_search_call.{stage}", item_id=item_id, output_index=index)
        done = {**item, "status": "completed"}
        self.output.append(done)
        return self.event("response.output_item.done", output_index=index, item=done)

    def call(self, item_id: str, call_id: str, name: str, arguments: str) -> RsStream:
        index = len(self.output)
        item = {"id": item_id, "type": "function_call", "status": "in_progress", "arguments": "", "call_id": call_id, "name": name}
        self.event("response.output_item.added", output_index=index, item=item)
        for piece in (arguments[: len(arguments) // 2], arguments[len(arguments) // 2 :]):
            if piece:
                self.event("response.function_call_arguments.delta", item_id=item_id, output_index=index, delta=piece)
        self.event("response.function_call_arguments.done", item_id=item_id, output_index=index, arguments=arguments)
        done = {**item, "status": "completed", "arguments": arguments}
        self.output.append(done)
        return self.event("response.output_item.done", output_index=index, item=done)

    def completed(self, usage: dict[str, Any]) -> list[bytes]:
        self.event("response.completed", response=self._response("completed", usage=usage))
        return self.parts

    def incomplete(self, reason: str, usage: dict[str, Any]) -> list[bytes]:
        self.event("response.incomplete", response=self._response("incomplete", usage=usage,
                                                                   incomplete_details={"reason": reason}))  # fmt: skip
        return self.parts

    def failed(self, code: str, message: str, usage: dict[str, Any] | None = None) -> list[bytes]:
        self.event("response.failed", response=self._response("failed", usage=usage, error={"code": code, "message": message}))
        return self.parts

    def error(self, code: str, message: str) -> list[bytes]:
        self.event("error", code=code, message=message, param=None)
        return self.parts


def rs_text_stream(text: str, *, input_tokens: int = 10, output_tokens: int = 5) -> list[bytes]:
    return RsStream().created().message("msg_1", text).completed(rs_usage(input_tokens, output_tokens))
