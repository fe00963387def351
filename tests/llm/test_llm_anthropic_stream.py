"""anthropic-messages over a real loopback socket."""

from __future__ import annotations

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
from agentcore.llm.errors import ContextOverflowError, OverloadedError, StreamError
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
from fakes.llm_server import FakeServer, json_reply, sse_reply
from llm_helpers import ANTHROPIC_KEY, collect, collect_until_error, make_anthropic
from fakes.vendor_wire import (
    AN_PING,
    AN_STOP,
    an_block_start,
    an_block_stop,
    an_delta,
    an_error,
    an_message_delta,
    an_message_start,
    an_text,
    an_text_message,
)

MODEL = "claude-sonnet-4-5"
PROMPT = LlmRequest(model=MODEL, system="You are terse.", messages=(user_text("Hello"),))
WEATHER = ToolSpec("get_weather", "Get the weather", {"type": "object", "properties": {"location": {"type": "string"}}})
SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds..."


async def test_text_with_ping_usage_and_cache_tokens(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    events = an_text_message("Hello", "!")
    events[0] = an_message_start(25, cache_read=1000, cache_write=200)
    server.enqueue(sse_reply(*events, headers=(("content-type", "text/event-stream"), ("request-id", "req_1"))))
    chunks = await collect(make_anthropic(server, http_client), PROMPT)
    assert chunks == [
        TextDelta("Hello"),
        TextDelta("!"),
        UsageChunk(Usage(input_tokens=25, output_tokens=15, cache_read_tokens=1000, cache_write_tokens=200)),
        StopChunk(ProviderStop.END_TURN),
    ]
    req = server.requests[0]
    assert (req.method, req.path) == ("POST", "/v1/messages")
    assert req.headers["x-api-key"] == ANTHROPIC_KEY
    assert req.headers["anthropic-version"] == "2023-06-01"
    body = req.json()
    assert body["stream"] is True and body["model"] == MODEL
    assert body["max_tokens"] == 32_000  # the default, below the model's 64k limit
    assert body["system"] == [{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}]
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Hello", "cache_control": {"type": "ephemeral"}}]}
    ]


async def test_tool_use_stream_as_documented(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(
        sse_reply(
            an_message_start(472),
            an_block_start(0, {"type": "text", "text": ""}),
            AN_PING,
            an_text(0, "Okay"),
            an_block_stop(0),
            an_block_start(1, {"type": "tool_use", "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "name": "get_weather", "input": {}}),
            an_delta(1, {"type": "input_json_delta", "partial_json": ""}),
            an_delta(1, {"type": "input_json_delta", "partial_json": '{"location":'}),
            an_delta(1, {"type": "input_json_delta", "partial_json": ' "San Francisco, CA"}'}),
            an_block_stop(1),
            an_block_start(2, {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {}}),
            an_delta(2, {"type": "input_json_delta", "partial_json": '{"location": "Paris"}'}),
            an_block_stop(2),
            an_message_delta("tool_use", 89),
            AN_STOP,
        )
    )
    request = LlmRequest(model=MODEL, system="", messages=(user_text("weather?"),), tools=(WEATHER,), tool_choice="required")
    chunks = await collect(make_anthropic(server, http_client), request)
    assert chunks == [
        TextDelta("Okay"),
        ToolCallStart(0, "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather"),
        ToolCallDelta(0, '{"location":'),
        ToolCallDelta(0, ' "San Francisco, CA"}'),
        ToolCallEnd(0),
        ToolCallStart(1, "toolu_2", "get_weather"),
        ToolCallDelta(1, '{"location": "Paris"}'),
        ToolCallEnd(1),
        UsageChunk(Usage(input_tokens=472, output_tokens=89)),
        StopChunk(ProviderStop.TOOL_USE),
    ]
    body = server.requests[0].json()
    assert body["tools"] == [
        {
            "name": "get_weather",
            "description": "Get the weather",
            "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}},
            "cache_control": {"type": "ephemeral"},
        }
    ]
    assert body["tool_choice"] == {"type": "any"}
    assert "system" not in body


async def test_thinking_with_signature_round_trips_unchanged(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(
        sse_reply(
            an_message_start(),
            an_block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
            an_delta(0, {"type": "thinking_delta", "thinking": "Let me solve this step by step:\n\n1. 27 * 453"}),
            an_delta(0, {"type": "thinking_delta", "thinking": "\n2. = 12,231"}),
            an_delta(0, {"type": "signature_delta", "signature": SIGNATURE}),
            an_block_stop(0),
            an_block_start(1, {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"}),
            an_block_stop(1),
            an_block_start(2, {"type": "text", "text": ""}),
            an_text(2, "27 * 453 = 12,231"),
            an_block_stop(2),
            an_message_delta("end_turn", 120),
            AN_STOP,
        )
    )
    request = LlmRequest(
        model=MODEL, system="", messages=(user_text("What is 27 * 453?"),), reasoning_effort=ReasoningEffort.MEDIUM
    )
    provider = make_anthropic(server, http_client)
    chunks = await collect(provider, request)
    thinking = [c for c in chunks if isinstance(c, ThinkingDelta)]
    assert thinking == [
        ThinkingDelta(text="Let me solve this step by step:\n\n1. 27 * 453"),
        ThinkingDelta(text="\n2. = 12,231"),
        ThinkingDelta(signature=SIGNATURE),
        ThinkingDelta(redacted="EmwKAhgBEgy3va3pzix/LafPsn4a"),
    ]
    first = server.requests[0].json()
    assert first["thinking"] == {"type": "enabled", "budget_tokens": 10_000}
    assert first["max_tokens"] > first["thinking"]["budget_tokens"]

    # The next request carries the blocks back exactly as received.
    text = "".join(c.text for c in thinking)
    assistant = AssistantMessage(
        (
            ThinkingBlock(text, signature=SIGNATURE),
            ThinkingBlock("", redacted="EmwKAhgBEgy3va3pzix/LafPsn4a"),
            TextBlock("27 * 453 = 12,231"),
        )
    )
    server.enqueue(sse_reply(*an_text_message("ok")))
    follow_up = LlmRequest(model=MODEL, system="", messages=(request.messages[0], assistant, user_text("thanks")))
    await collect(provider, follow_up)
    sent = server.requests[1].json()["messages"]
    assert sent[1] == {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "Let me solve this step by step:\n\n1. 27 * 453\n2. = 12,231", "signature": SIGNATURE},
            {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"},
            {"type": "text", "text": "27 * 453 = 12,231"},
        ],
    }
    assert "thinking" not in server.requests[1].json()  # no effort asked this time


async def test_request_merges_roles_puts_tool_results_first_and_caches_latest_turn(
    server: FakeServer, http_client: httpx.AsyncClient
) -> None:
    server.enqueue(sse_reply(*an_text_message("ok")))
    history = (
        UserMessage((TextBlock("look"), ImageBlock("image/png", "iVBORw0KGgo="))),
        AssistantMessage(
            (
                ThinkingBlock("unsigned, from another provider"),
                TextBlock("Checking."),
                ToolUseBlock("toolu_1", "get_weather", {"location": "Oslo"}),
            )
        ),
        UserMessage((TextBlock("(background task finished)"),), kind=MessageKind.BACKGROUND),
        ToolResultMessage((ToolResultBlock("toolu_1", (TextBlock("rain"),), is_error=True),)),
    )
    request = LlmRequest(model=MODEL, system="sys", messages=history, temperature=0.3, max_tokens=1000)
    await collect(make_anthropic(server, http_client), request)
    body = server.requests[0].json()
    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"location": "Oslo"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "rain"}], "is_error": True},
                {"type": "text", "text": "(background task finished)", "cache_control": {"type": "ephemeral"}},
            ],
        },
    ]
    assert "temperature" not in body and body["max_tokens"] == 1000  # Claude models take no temperature


async def test_thinking_budget_respects_a_small_max_tokens(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(sse_reply(*an_text_message("a")), sse_reply(*an_text_message("b")))
    provider = make_anthropic(server, http_client)
    high = LlmRequest(model=MODEL, system="", messages=(user_text("q"),), max_tokens=8000,
                      reasoning_effort=ReasoningEffort.HIGH, temperature=0.5)
    await collect(provider, high)
    body = server.requests[0].json()
    assert body["max_tokens"] == 8000
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 8000 - 1024}
    assert "temperature" not in body  # the API refuses temperature with thinking
    tiny = LlmRequest(model=MODEL, system="", messages=(user_text("q"),), max_tokens=1500,
                      reasoning_effort=ReasoningEffort.LOW)
    await collect(provider, tiny)
    assert "thinking" not in server.requests[1].json()  # no room for the 1024-token minimum budget


async def test_overloaded_error_event_before_output_is_retried(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(
        sse_reply(an_message_start(), AN_PING, an_error("overloaded_error", "Overloaded")),
        sse_reply(*an_text_message("hi")),
    )
    chunks = await collect(make_anthropic(server, http_client), PROMPT)
    assert isinstance(chunks[0], RetryNotice) and "overloaded" in chunks[0].reason
    assert chunks[1] == TextDelta("hi")


async def test_error_event_after_output_is_a_stream_error(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(
        sse_reply(
            an_message_start(),
            an_block_start(0, {"type": "text", "text": ""}),
            an_text(0, "Part"),
            AN_PING,
            an_error("overloaded_error", "Overloaded"),
        )
    )
    chunks, exc = await collect_until_error(make_anthropic(server, http_client), PROMPT)
    assert chunks == [TextDelta("Part")]
    assert isinstance(exc, StreamError) and isinstance(exc.__cause__, OverloadedError)
    assert len(server.requests) == 1


async def test_529_overloaded_status_is_retried(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(
        json_reply(529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        sse_reply(*an_text_message("back")),
    )
    chunks = await collect(make_anthropic(server, http_client), PROMPT)
    assert isinstance(chunks[0], RetryNotice)
    assert chunks[1] == TextDelta("back")


async def test_prompt_too_long_is_context_overflow_with_request_id(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(
        json_reply(
            400,
            {"type": "error", "error": {"type": "invalid_request_error",
                                        "message": "prompt is too long: 208656 tokens > 200000 maximum"},
             "request_id": "req_011CWdepJvA2D819tdYYq4h7"},
        )
    )
    _, exc = await collect_until_error(make_anthropic(server, http_client), PROMPT)
    assert isinstance(exc, ContextOverflowError)
    assert exc.request_id == "req_011CWdepJvA2D819tdYYq4h7" and exc.status == 400


async def test_auth_error_hides_the_key(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(
        json_reply(401, {"type": "error", "error": {"type": "authentication_error",
                                                     "message": f"invalid x-api-key {ANTHROPIC_KEY}"}})
    )
    _, exc = await collect_until_error(make_anthropic(server, http_client), PROMPT)
    assert "ANTHROPIC_API_KEY" in str(exc)
    assert ANTHROPIC_KEY not in str(exc) and ANTHROPIC_KEY not in repr(exc.args)


async def test_list_models_sends_version_and_key(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.route("GET", "/v1/models", json_reply(200, {"data": [
        {"type": "model", "id": "claude-sonnet-4-5-20250929", "display_name": "Claude Sonnet 4.5",
         "created_at": "2025-09-29T00:00:00Z"}], "has_more": False, "first_id": "claude-sonnet-4-5-20250929",
        "last_id": "claude-sonnet-4-5-20250929"}))
    models = await make_anthropic(server, http_client).list_models()
    assert [(m.id, m.context_window, m.known) for m in models] == [("claude-sonnet-4-5-20250929", 200_000, True)]
    headers = server.requests[0].headers
    assert headers["x-api-key"] == ANTHROPIC_KEY and headers["anthropic-version"] == "2023-06-01"
