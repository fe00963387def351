"""The openai-responses provider against a loopback server speaking the exact
Responses SSE format (every event checked against the openai SDK's
ResponseStreamEvent types as it is built; every request body against
ResponseCreateParamsStreaming by this folder's ``server`` fixture)."""

from __future__ import annotations

import attrs
import httpx

from agentcore.llm.base import (
    LlmRequest,
    ProviderStop,
    ReasoningEffort,
    RetryNotice,
    StopChunk,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    ToolSpec,
    UsageChunk,
)
from agentcore.llm.errors import ServerError, StreamError
from agentcore.llm.openai_responses import OpenAiResponsesProvider
from agentcore.llm.registry import BUILTIN_PRESETS, build_provider
from agentcore.llm.responses_stream import decode_reasoning
from agentcore.llm.anthropic import convert_messages as anthropic_messages
from agentcore.messages import TextBlock, ToolResultBlock, ToolResultMessage, Usage, UserMessage
from agentcore.turn.stream import StreamAssembler
from fakes.llm_server import FakeServer, sse_reply
from fakes.vendor_wire import RsStream, oa_text_stream, rs_text_stream, rs_usage
from llm_helpers import FAST_RETRY, OPENAI_KEY, collect, collect_until_error

READ = ToolSpec("read_file", "Read a file", {"type": "object", "properties": {"path": {"type": "string"}}})
ENCRYPTED = "gAAAAABorQ-encrypted-reasoning-blob=="


def make(server: FakeServer, client: httpx.AsyncClient, **kwargs) -> OpenAiResponsesProvider:
    kwargs.setdefault("retry", FAST_RETRY)
    return OpenAiResponsesProvider(name="openai", base_url=f"{server.url}/v1", api_key=OPENAI_KEY,
                                   api_key_env="OPENAI_API_KEY", http_client=client, **kwargs)  # fmt: skip


def ask(text: str = "read a", **fields) -> LlmRequest:
    return LlmRequest(model="gpt-5", system="Be brief.", messages=(UserMessage((TextBlock(text),)),), **fields)


def reasoning_then_call() -> list[bytes]:
    return (
        RsStream().created()
        .reasoning("rs_1", ["Need the file.", "Call read_file."], ENCRYPTED)
        .message("msg_1", "Reading ", "a.")
        .call("fc_1", "call_1", "read_file", '{"path": "a"}')
        .completed(rs_usage(1200, 80, cached=1000, reasoning=48))
    )  # fmt: skip


async def test_stream_of_reasoning_text_and_a_call(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(sse_reply(*reasoning_then_call()))
    chunks = await collect(make(server, http_client), ask(tools=(READ,), reasoning_effort=ReasoningEffort.LOW,
                                                           temperature=0.5, max_tokens=4000))  # fmt: skip
    thinking = [c for c in chunks if isinstance(c, ThinkingDelta)]
    assert "".join(c.text for c in thinking) == "Need the file.\n\nCall read_file."
    assert decode_reasoning(thinking[-1].signature) == ("rs_1", ENCRYPTED)
    assert [c for c in chunks if isinstance(c, TextDelta)] == [TextDelta("Reading "), TextDelta("a.")]
    calls = [c for c in chunks if isinstance(c, (ToolCallStart, ToolCallDelta, ToolCallEnd))]
    assert calls[0] == ToolCallStart(0, "call_1", "read_file") and calls[-1] == ToolCallEnd(0)
    assert "".join(c.arguments for c in calls[1:-1]) == '{"path": "a"}' and len(calls) == 4  # streamed in two pieces
    assert chunks[-2:] == [
        UsageChunk(Usage(input_tokens=200, output_tokens=80, cache_read_tokens=1000, reasoning_tokens=48)),
        StopChunk(ProviderStop.TOOL_USE),
    ]
    request = server.requests[0]
    assert request.path == "/v1/responses" and request.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    body = request.json()
    assert body["store"] is False and body["include"] == ["reasoning.encrypted_content"]
    assert body["instructions"] == "Be brief." and body["max_output_tokens"] == 4000
    assert body["reasoning"] == {"effort": "low", "summary": "auto"}
    assert "temperature" not in body  # gpt-5 takes only the default
    assert body["tools"] == [{"type": "function", "name": "read_file", "description": "Read a file",
                              "parameters": READ.parameters, "strict": False}]  # fmt: skip
    assert body["input"] == [{"role": "user", "content": [{"type": "input_text", "text": "read a"}]}]


async def test_reasoning_items_round_trip_into_the_next_request(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(sse_reply(*reasoning_then_call()), sse_reply(*rs_text_stream("It says hi.")))
    provider = make(server, http_client)
    first = ask(tools=(READ,))
    assembler = StreamAssembler()
    for chunk in await collect(provider, first):
        assembler.feed(chunk)
    message = assembler.finish("gpt-5", complete=True)
    result = ToolResultMessage((ToolResultBlock("call_1", (TextBlock("hi"),)),))
    await collect(provider, attrs.evolve(first, messages=(*first.messages, message, result)))
    items = server.requests[1].json()["input"]
    assert items[1:] == [
        {"type": "reasoning", "id": "rs_1", "encrypted_content": ENCRYPTED,
         "summary": [{"type": "summary_text", "text": "Need the file.\n\nCall read_file."}]},
        {"role": "assistant", "content": "Reading a."},
        {"type": "function_call", "call_id": "call_1", "name": "read_file", "arguments": '{"path": "a"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "hi"},
    ]  # fmt: skip
    # The same history sent to Anthropic leaves the Responses reasoning out (it cannot be replayed there).
    wire = anthropic_messages((*first.messages, message, result))
    assert all(b["type"] != "thinking" for turn in wire for b in turn["content"])


async def test_incomplete_response_stops_for_max_tokens(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(sse_reply(*RsStream().created().message("msg_1", "cut").incomplete("max_output_tokens", rs_usage(5, 9))))
    chunks = await collect(make(server, http_client), ask())
    assert chunks[-2:] == [UsageChunk(Usage(input_tokens=5, output_tokens=9)), StopChunk(ProviderStop.MAX_TOKENS)]


async def test_error_events_follow_the_common_retry_and_error_model(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(sse_reply(*RsStream().created().error("server_error", "try again")), sse_reply(*rs_text_stream("ok")))
    chunks = await collect(make(server, http_client), ask())
    assert isinstance(chunks[0], RetryNotice) and TextDelta("ok") in chunks  # failed before output: retried
    server.enqueue(sse_reply(*RsStream().created().message("msg_1", "half").failed("server_error", "boom", rs_usage(50, 3))))
    got, exc = await collect_until_error(make(server, http_client), ask())
    assert got == [TextDelta("half")]
    assert isinstance(exc, StreamError) and isinstance(exc.__cause__, ServerError) and "boom" in str(exc)
    assert exc.usage == Usage(input_tokens=50, output_tokens=3)  # billed all the same


async def test_the_openai_preset_sends_each_model_to_its_api(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(sse_reply(*rs_text_stream("new")), sse_reply(*oa_text_stream("old")))
    config = attrs.evolve(BUILTIN_PRESETS["openai"], base_url=f"{server.url}/v1")
    provider = build_provider(config, env={"OPENAI_API_KEY": OPENAI_KEY}, http_client=http_client, retry=FAST_RETRY)
    await collect(provider, ask())  # gpt-5: api = "responses"
    await collect(provider, attrs.evolve(ask(), model="gpt-4o"))  # api = "chat"
    assert [r.path for r in server.requests] == ["/v1/responses", "/v1/chat/completions"]


async def test_explicit_protocol_and_non_reasoning_models(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(sse_reply(*rs_text_stream("ok")))
    config = attrs.evolve(BUILTIN_PRESETS["openai"], name="resp", protocol="openai-responses", base_url=f"{server.url}/v1")
    provider = build_provider(config, env={"OPENAI_API_KEY": OPENAI_KEY}, http_client=http_client, retry=FAST_RETRY)
    await collect(provider, attrs.evolve(ask(temperature=0.2, reasoning_effort=ReasoningEffort.HIGH), model="gpt-4.1"))
    body = server.requests[0].json()
    assert body["temperature"] == 0.2 and "reasoning" not in body and "include" not in body
