"""openai-chat over a real loopback socket: what the consumer sees and what
the server receives."""

from __future__ import annotations

import json

import httpx

from agentcore.llm.base import (
    LlmRequest,
    ProviderStop,
    ReasoningEffort,
    StopChunk,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    ToolSpec,
    UsageChunk,
)
from agentcore.messages import (
    AssistantMessage,
    ImageBlock,
    MessageKind,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolResultMessage,
    ToolUseBlock,
    Usage,
    UserMessage,
    user_text,
)
from fakes.llm_server import FakeServer, sse_reply
from llm_helpers import OPENAI_KEY, collect, make_openai
from fakes.vendor_wire import OA_DONE, OA_ROLE, oa_chunk, oa_tool_args, oa_tool_start, oa_usage

PROMPT = LlmRequest(model="gpt-4o-mini", system="Be brief.", messages=(user_text("hi"),))
READ_TOOL = ToolSpec("read_file", "Read a file", {"type": "object", "properties": {"path": {"type": "string"}}})


async def test_plain_text_with_usage_only_in_the_final_chunk(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(
        sse_reply(
            OA_ROLE,
            oa_chunk({"content": "Hel"}),
            oa_chunk({"content": "lo"}),
            oa_chunk({}, finish="stop"),
            oa_usage(19, 10, cached=4),
            OA_DONE,
        )
    )
    chunks = await collect(make_openai(server, http_client), PROMPT)
    assert chunks == [
        TextDelta("Hel"),
        TextDelta("lo"),
        UsageChunk(Usage(input_tokens=15, output_tokens=10, cache_read_tokens=4)),
        StopChunk(ProviderStop.END_TURN),
    ]
    req = server.requests[0]
    assert (req.method, req.path) == ("POST", "/v1/chat/completions")
    assert req.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    body = req.json()
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
    ]
    assert "tools" not in body and "tool_choice" not in body


async def test_parallel_tool_calls_interleaved_by_index(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(
        sse_reply(
            oa_chunk({"role": "assistant", "content": None}),
            oa_tool_start(0, "call_a", "read_file"),
            oa_tool_start(1, "call_b", "grep"),
            oa_tool_args(0, '{"path"'),
            oa_tool_args(1, '{"pattern":'),
            oa_tool_args(0, ':"a.py"}'),
            oa_tool_args(1, '"TODO"}'),
            oa_chunk({}, finish="tool_calls"),
            oa_usage(50, 20),
            OA_DONE,
        )
    )
    request = LlmRequest(model="gpt-4o", system="", messages=(user_text("go"),), tools=(READ_TOOL,))
    chunks = await collect(make_openai(server, http_client), request)
    assert chunks[:6] == [
        ToolCallStart(0, "call_a", "read_file"),
        ToolCallStart(1, "call_b", "grep"),
        ToolCallDelta(0, '{"path"'),
        ToolCallDelta(1, '{"pattern":'),
        ToolCallDelta(0, ':"a.py"}'),
        ToolCallDelta(1, '"TODO"}'),
    ]
    assert chunks[6:8] == [ToolCallEnd(0), ToolCallEnd(1)]
    assert chunks[-1] == StopChunk(ProviderStop.TOOL_USE)
    body = server.requests[0].json()
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "read_file",
                "description": "Read a file",
                "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
            },
        }
    ]
    assert body["tool_choice"] == "auto"


async def test_tool_arguments_split_inside_a_utf8_character(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    event = oa_tool_args(0, '{"text":"ünïcødé 日本"}')
    cut = event.index("本".encode()) + 1  # the network read ends inside the character
    server.enqueue(
        sse_reply(
            oa_tool_start(0, "call_u", "write"),
            event[:cut],
            event[cut:],
            oa_chunk({}, finish="tool_calls"),
            OA_DONE,
        )
    )
    chunks = await collect(make_openai(server, http_client), PROMPT)
    args = "".join(c.arguments for c in chunks if isinstance(c, ToolCallDelta))
    assert json.loads(args) == {"text": "ünïcødé 日本"}
    assert UsageChunk not in {type(c) for c in chunks}  # no usage was sent, none invented


async def test_empty_deltas_and_null_content_yield_nothing(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(
        sse_reply(
            OA_ROLE,
            oa_chunk({}),
            oa_chunk({"content": None}),
            oa_chunk({"content": ""}),
            b": keep-alive\n\n",
            oa_chunk({"content": "ok"}),
            oa_chunk({}, finish="stop"),
            OA_DONE,
        )
    )
    chunks = await collect(make_openai(server, http_client), PROMPT)
    assert chunks == [TextDelta("ok"), StopChunk(ProviderStop.END_TURN)]


async def test_reasoning_fields_become_thinking(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(
        sse_reply(
            oa_chunk({"role": "assistant", "reasoning_content": "Let me think"}, compat=True),
            oa_chunk({"reasoning": " more."}, compat=True),
            oa_chunk({"content": "42"}),
            oa_chunk({}, finish="length"),
            oa_usage(5, 30, reasoning=25),
            OA_DONE,
        )
    )
    request = LlmRequest(
        model="gpt-oss-20b", system="", messages=(user_text("?"),), reasoning_effort=ReasoningEffort.HIGH
    )
    chunks = await collect(make_openai(server, http_client), request)
    assert chunks == [
        ThinkingDelta(text="Let me think"),
        ThinkingDelta(text=" more."),
        TextDelta("42"),
        UsageChunk(Usage(input_tokens=5, output_tokens=30, reasoning_tokens=25)),
        StopChunk(ProviderStop.MAX_TOKENS),
    ]
    assert server.requests[0].json()["reasoning_effort"] == "high"


async def test_request_body_for_history_with_tools_images_and_results(
    server: FakeServer, http_client: httpx.AsyncClient
) -> None:
    server.enqueue(sse_reply(oa_chunk({"content": "done"}), oa_chunk({}, finish="stop"), OA_DONE))
    png = "iVBORw0KGgo="
    history = (
        UserMessage((TextBlock("look"), ImageBlock("image/png", png))),
        AssistantMessage(
            (
                ThinkingBlock("private reasoning", signature="sig"),
                TextBlock("Reading."),
                ToolUseBlock("call_1", "read_file", {"path": "a.py"}),
                ToolUseBlock("call_2", "screenshot", {}),
            )
        ),
        ToolResultMessage(
            (
                ToolResultBlock("call_1", (TextBlock("no such file"),), is_error=True),
                ToolResultBlock("call_2", (TextBlock("captured"), ImageBlock("image/jpeg", "/9j/"))),
            )
        ),
        UserMessage((TextBlock("summary of earlier work"),), kind=MessageKind.SUMMARY),
    )
    request = LlmRequest(
        model="gpt-4o",
        system="sys",
        messages=history,
        tools=(READ_TOOL,),
        tool_choice="read_file",
        max_tokens=500,
        temperature=0.2,
    )
    await collect(make_openai(server, http_client, max_tokens_field="max_completion_tokens"), request)
    body = server.requests[0].json()
    assert body["messages"] == [
        {"role": "system", "content": "sys"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}},
            ],
        },
        {
            "role": "assistant",
            "content": "Reading.",
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "a.py"}'}},
                {"id": "call_2", "type": "function", "function": {"name": "screenshot", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "Error: no such file"},
        {"role": "tool", "tool_call_id": "call_2", "content": "captured"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Images from tool call call_2:"},
                {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/"}},
            ],
        },
        {"role": "user", "content": "summary of earlier work"},
    ]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "read_file"}}
    assert body["max_completion_tokens"] == 500 and "max_tokens" not in body
    assert body["temperature"] == 0.2
    assert "reasoning_effort" not in body


async def test_same_index_with_new_id_is_a_new_call(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    # Some compatible servers send every complete call at index 0.
    server.enqueue(
        sse_reply(
            oa_chunk({"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "a", "arguments": "{}"}}]}),
            oa_chunk({"tool_calls": [{"index": 0, "id": "c2", "function": {"name": "b", "arguments": {"x": 1}}}]}, compat=True),
            oa_chunk({}, finish="stop"),
            OA_DONE,
        )
    )
    chunks = await collect(make_openai(server, http_client), PROMPT)
    assert chunks == [
        ToolCallStart(0, "c1", "a"),
        ToolCallDelta(0, "{}"),
        ToolCallStart(1, "c2", "b"),
        ToolCallDelta(1, '{"x": 1}'),
        ToolCallEnd(0),
        ToolCallEnd(1),
        StopChunk(ProviderStop.TOOL_USE),
    ]


async def test_list_models_and_model_info(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    from fakes.llm_server import json_reply

    server.route("GET", "/v1/models", json_reply(200, {"object": "list", "data": [
        {"id": "gpt-4o-2024-08-06", "object": "model", "created": 1, "owned_by": "system"},
        {"id": "my-finetune", "object": "model", "created": 1, "owned_by": "me"},
    ]}))
    provider = make_openai(server, http_client)
    models = await provider.list_models()
    assert [m.id for m in models] == ["gpt-4o-2024-08-06", "my-finetune"]
    assert models[0].known and models[0].context_window == 128_000
    assert not models[1].known
    assert server.requests[0].headers["authorization"] == f"Bearer {OPENAI_KEY}"
