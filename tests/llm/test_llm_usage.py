"""Complete usage: cache reads and writes, reasoning / thinking tokens, and the
usage of a call that failed mid-stream, from the vendors' exact wire shapes;
cost prices each kind as the catalog says the vendor does."""

from __future__ import annotations

import httpx

from agentcore.llm.base import LlmRequest, UsageChunk
from agentcore.llm.catalog import cost_usd, default_catalog
from agentcore.llm.errors import OverloadedError, StreamError
from agentcore.messages import TextBlock, Usage, UserMessage
from fakes.llm_server import FakeServer, sse_reply
from fakes.vendor_wire import (
    AN_STOP,
    OA_DONE,
    OA_ROLE,
    an_block_start,
    an_block_stop,
    an_error,
    an_message_delta,
    an_message_start,
    an_text,
    oa_chunk,
    oa_usage,
)
from llm_helpers import FAST_RETRY, collect, collect_until_error, make_anthropic, make_openai

HI = (UserMessage((TextBlock("hi"),)),)


def _usage(chunks) -> Usage:
    [usage] = [c.usage for c in chunks if isinstance(c, UsageChunk)]
    return usage


async def test_openai_cache_writes_and_reads_are_counted_once_each(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(sse_reply(OA_ROLE, oa_chunk({"content": "ok"}), oa_chunk(finish="stop"),
                             oa_usage(1000, 50, cached=600, cache_write=300, reasoning=20), OA_DONE))  # fmt: skip
    chunks = await collect(make_openai(server, http_client), LlmRequest(model="gpt-5", system="", messages=HI))
    usage = _usage(chunks)
    assert usage == Usage(input_tokens=100, output_tokens=50, cache_read_tokens=600, cache_write_tokens=300, reasoning_tokens=20)
    assert usage.prompt_tokens == 1000
    info = default_catalog().lookup("gpt-5")
    expected = (100 * 1.25 + 50 * 10.0 + 600 * 0.125 + 300 * 1.25) / 1_000_000  # OpenAI bills a write as input
    assert abs(cost_usd(info, usage) - expected) < 1e-12


async def test_anthropic_cache_and_thinking_tokens(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(sse_reply(
        an_message_start(40, cache_read=5000, cache_write=1200),
        an_block_start(0, {"type": "text", "text": ""}), an_text(0, "ok"), an_block_stop(0),
        an_message_delta("end_turn", 300, thinking_tokens=250), AN_STOP,
    ))  # fmt: skip
    chunks = await collect(make_anthropic(server, http_client), LlmRequest(model="claude-sonnet-4-6", system="", messages=HI))
    usage = _usage(chunks)
    assert usage == Usage(input_tokens=40, output_tokens=300, cache_read_tokens=5000, cache_write_tokens=1200, reasoning_tokens=250)
    info = default_catalog().lookup("claude-sonnet-4-6")
    expected = (40 * 3.0 + 300 * 15.0 + 5000 * 0.3 + 1200 * 3.75) / 1_000_000
    assert abs(cost_usd(info, usage) - expected) < 1e-12


async def test_anthropic_error_event_keeps_the_partial_usage(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(sse_reply(
        an_message_start(900, cache_read=100),
        an_block_start(0, {"type": "text", "text": ""}), an_text(0, "partial"),
        an_error("overloaded_error", "Overloaded"),
    ))  # fmt: skip
    provider = make_anthropic(server, http_client, retry=FAST_RETRY)
    got, exc = await collect_until_error(provider, LlmRequest(model="claude-sonnet-4-6", system="", messages=HI))
    assert isinstance(exc, StreamError) and isinstance(exc.__cause__, OverloadedError)
    assert exc.usage == Usage(input_tokens=900, output_tokens=1, cache_read_tokens=100)


async def test_anthropic_error_before_output_carries_usage_too(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(sse_reply(an_message_start(700), an_error("invalid_request_error", "bad")))
    got, exc = await collect_until_error(make_anthropic(server, http_client), LlmRequest(model="claude-sonnet-4-6", system="", messages=HI))
    assert got == [] and exc.usage == Usage(input_tokens=700, output_tokens=1)
