"""Retries, timeouts, dropped connections, cancellation and typed errors,
through the real socket."""

from __future__ import annotations

from contextlib import aclosing

import httpx
import pytest
import trio

from agentcore.llm.base import LlmRequest, ProviderStop, RetryNotice, StopChunk, TextDelta
from agentcore.llm.errors import (
    AuthError,
    BadRequestError,
    ContextOverflowError,
    NetworkError,
    RateLimitError,
    ServerError,
    StreamError,
)
from agentcore.llm.http_errors import parse_retry_after
from agentcore.llm.transport import RetryPolicy, Timeouts
from agentcore.messages import user_text
from fakes.llm_server import FakeServer, Reply, json_reply, sse_reply
from llm_helpers import OPENAI_KEY, TINY_IDLE, collect, collect_until_error, make_openai
from fakes.vendor_wire import OA_DONE, oa_chunk

# Leaving a stream early (cancel, break, failure) closes the connection at
# once; httpx's inner async generators are then finalised by trio's hook,
# which reports them as a ResourceWarning. That is expected here.
ABANDONED_STREAM = pytest.mark.filterwarnings("ignore:Async generator .* was garbage collected:ResourceWarning")

PROMPT = LlmRequest(model="gpt-4o-mini", system="", messages=(user_text("hi"),))
FIRST_BYTE_TEST_S = 1.0  # a first-byte timeout the silent reply trips and a healthy one never does
OK_STREAM = sse_reply(oa_chunk({"content": "fine"}), oa_chunk({}, finish="stop"), OA_DONE)


async def test_429_with_retry_after_ms_then_success(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(
        json_reply(
            429,
            {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}},
            headers=(("retry-after-ms", "30"), ("x-request-id", "req_429")),
        ),
        OK_STREAM,
    )
    chunks = await collect(make_openai(server, http_client), PROMPT)
    notice = chunks[0]
    assert isinstance(notice, RetryNotice)
    assert (notice.attempt, notice.max_attempts, notice.delay_s) == (1, 4, 0.03)
    assert "rate limit" in notice.reason and "req_429" in notice.reason
    assert chunks[1:] == [TextDelta("fine"), StopChunk(ProviderStop.END_TURN)]
    assert len(server.requests) == 2
    assert server.requests[0].body == server.requests[1].body  # the same request again


async def test_500_then_success_uses_backoff(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(json_reply(500, {"error": {"message": "boom", "type": "server_error"}}), OK_STREAM)
    policy = RetryPolicy(base_delay_s=0.004, max_delay_s=0.01, jitter_fraction=0.25)
    chunks = await collect(make_openai(server, http_client, retry=policy), PROMPT)
    notice = chunks[0]
    assert isinstance(notice, RetryNotice)
    assert 0.003 <= notice.delay_s <= 0.004  # base delay minus at most 25 % jitter
    assert chunks[1] == TextDelta("fine")


async def test_retries_stop_after_four_attempts(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(*[json_reply(503, {"error": {"message": "unavailable"}}) for _ in range(4)])
    chunks, exc = await collect_until_error(make_openai(server, http_client), PROMPT)
    assert [c.attempt for c in chunks if isinstance(c, RetryNotice)] == [1, 2, 3]
    assert isinstance(exc, ServerError) and exc.status == 503 and exc.retryable
    assert len(server.requests) == 4


async def test_retry_after_beyond_the_cap_is_surfaced_not_slept(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(json_reply(429, {"error": {"message": "slow down"}}, headers=(("retry-after", "3600"),)))
    chunks, exc = await collect_until_error(make_openai(server, http_client), PROMPT)
    assert chunks == []
    assert isinstance(exc, RateLimitError) and exc.retry_after_s == 3600.0


@ABANDONED_STREAM
async def test_connection_dropped_mid_stream_is_a_stream_error_without_retry(
    server: FakeServer, http_client: httpx.AsyncClient
) -> None:
    server.enqueue(sse_reply(oa_chunk({"content": "Hel"}), end="drop"), OK_STREAM)
    chunks, exc = await collect_until_error(make_openai(server, http_client), PROMPT)
    assert chunks == [TextDelta("Hel")]
    assert isinstance(exc, StreamError) and not exc.retryable
    assert isinstance(exc.__cause__, NetworkError)
    assert len(server.requests) == 1  # no second request: text must not repeat


async def test_close_delimited_stream_cut_before_output_is_retried(
    server: FakeServer, http_client: httpx.AsyncClient
) -> None:
    server.enqueue(sse_reply(b": warming up\n\n", framing="close"), OK_STREAM)
    chunks = await collect(make_openai(server, http_client), PROMPT)
    assert isinstance(chunks[0], RetryNotice) and "closed the stream" in chunks[0].reason
    assert chunks[1] == TextDelta("fine")


async def test_connection_refused_is_retried_then_raised_as_network_error(http_client: httpx.AsyncClient) -> None:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    await listeners[0].aclose()  # nothing listens there now

    class Closed:
        url = f"http://127.0.0.1:{port}"

    chunks, exc = await collect_until_error(make_openai(Closed(), http_client), PROMPT)  # type: ignore[arg-type]
    assert len([c for c in chunks if isinstance(c, RetryNotice)]) == 3
    assert isinstance(exc, NetworkError)


@ABANDONED_STREAM
async def test_idle_timeout_after_output_fails_the_stream(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(sse_reply(oa_chunk({"content": "partial"}), end="hang"))
    chunks, exc = await collect_until_error(make_openai(server, http_client, timeouts=TINY_IDLE), PROMPT)
    assert chunks == [TextDelta("partial")]
    assert isinstance(exc, StreamError) and "timed out" in str(exc)
    await server.requests[0].disconnected.wait()  # the client hung up on the silent server


@ABANDONED_STREAM
async def test_idle_timeout_before_output_is_retried(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(sse_reply(end="hang"), OK_STREAM)
    chunks = await collect(make_openai(server, http_client, timeouts=TINY_IDLE), PROMPT)
    assert isinstance(chunks[0], RetryNotice) and "timed out" in chunks[0].reason
    assert chunks[1:] == [TextDelta("fine"), StopChunk(ProviderStop.END_TURN)]


@ABANDONED_STREAM
async def test_cancelling_the_consumer_closes_the_connection(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(sse_reply(oa_chunk({"content": "first"}), end="hang"))
    provider = make_openai(server, http_client)  # default 120 s idle: only cancellation can end this
    got: list[object] = []
    with trio.move_on_after(30) as guard:  # a safety net, not synchronisation
        async with trio.open_nursery() as nursery:

            async def consume() -> None:
                async with aclosing(provider.complete(PROMPT)) as chunks:
                    async for chunk in chunks:
                        got.append(chunk)
                        nursery.cancel_scope.cancel()

            nursery.start_soon(consume)
        await server.requests[0].disconnected.wait()
    assert not guard.cancelled_caught
    assert got == [TextDelta("first")]


@ABANDONED_STREAM
async def test_breaking_out_of_the_loop_closes_the_connection(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(sse_reply(oa_chunk({"content": "a"}), oa_chunk({"content": "b"}), end="hang"))
    async with aclosing(make_openai(server, http_client).complete(PROMPT)) as chunks:
        async for chunk in chunks:
            assert chunk == TextDelta("a")
            break
    with trio.fail_after(30):
        await server.requests[0].disconnected.wait()


async def test_auth_error_names_the_env_var_and_never_the_key(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(
        json_reply(
            401,
            {"error": {"message": f"Incorrect API key provided: {OPENAI_KEY}.", "type": "invalid_request_error",
                       "code": "invalid_api_key"}},
            headers=(("x-request-id", "req_auth"),),
        )
    )
    provider = make_openai(server, http_client)
    chunks, exc = await collect_until_error(provider, PROMPT)
    assert chunks == []
    assert isinstance(exc, AuthError) and not exc.retryable
    assert "OPENAI_API_KEY" in str(exc) and exc.request_id == "req_auth"
    for text in (str(exc), repr(exc), exc.message, repr(provider), repr(provider.__dict__)):
        assert OPENAI_KEY not in text
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"error": {"message": "This model's maximum context length is 128000 tokens. However, your messages "
                   "resulted in 130000 tokens.", "type": "invalid_request_error", "param": "messages",
                   "code": "context_length_exceeded"}},
        {"error": {"code": 400, "message": "the request exceeds the available context size, try increasing it",
                   "type": "exceed_context_size_error"}},
    ],
)
async def test_context_overflow_is_recognised(
    server: FakeServer, http_client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    server.enqueue(json_reply(400, body))
    _, exc = await collect_until_error(make_openai(server, http_client), PROMPT)
    assert isinstance(exc, ContextOverflowError) and not exc.retryable


async def test_bad_request_is_not_retried(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(json_reply(404, {"error": {"message": "The model `gpt-9` does not exist", "code": "model_not_found"}}))
    _, exc = await collect_until_error(make_openai(server, http_client), PROMPT)
    assert isinstance(exc, BadRequestError) and "gpt-9" in str(exc)
    assert len(server.requests) == 1


async def test_error_object_inside_the_stream(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(
        sse_reply(oa_chunk({"content": "x"}), b'data: {"error":{"message":"upstream overloaded","code":502}}\n\n')
    )
    chunks, exc = await collect_until_error(make_openai(server, http_client), PROMPT)
    assert chunks == [TextDelta("x")]
    assert isinstance(exc, StreamError) and isinstance(exc.__cause__, ServerError)


async def test_json_answer_to_a_stream_request_is_reported(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(Reply(headers=(("content-type", "application/json"),), parts=(b'{"id":"x","choices":[]}',), framing="length"))
    _, exc = await collect_until_error(make_openai(server, http_client), PROMPT)
    assert "instead of an event stream" in str(exc)


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after({"Retry-After": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=1445412470.0) == 10.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_timeouts_defaults() -> None:
    t = Timeouts()
    assert (t.connect_s, t.first_byte_s, t.idle_s) == (10.0, 30.0, 60.0)
    assert t.to_httpx().read == 60.0


@ABANDONED_STREAM
async def test_a_provider_silent_after_the_request_is_retried_after_the_first_byte_timeout(
    server: FakeServer, http_client: httpx.AsyncClient
) -> None:
    """A hung provider (headers, then nothing) is retried after the first-byte
    timeout, with a retry notice, not after the much longer idle timeout."""
    server.enqueue(sse_reply(end="hang"), OK_STREAM)
    # Long enough that the healthy second reply always beats it on a busy machine.
    quick_first_byte = Timeouts(connect_s=2.0, first_byte_s=FIRST_BYTE_TEST_S, idle_s=600.0)
    chunks = await collect(make_openai(server, http_client, timeouts=quick_first_byte), PROMPT)
    assert isinstance(chunks[0], RetryNotice) and "first-byte timeout" in chunks[0].reason
    assert chunks[1:] == [TextDelta("fine"), StopChunk(ProviderStop.END_TURN)]
    await server.requests[0].disconnected.wait()  # the silent request's connection was closed


async def test_a_providers_configured_timeouts_reach_its_transport(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    """[providers.NAME] first_byte_timeout_s / idle_timeout_s from configuration."""
    from agentcore.config.settings import ProviderConfig as ConfiguredProvider
    from agentcore.llm.registry import build_provider, from_settings

    configured = ConfiguredProvider(
        name="local", protocol="openai-chat", base_url=f"{server.url}/v1", first_byte_timeout_s=FIRST_BYTE_TEST_S, idle_timeout_s=7.0
    )
    provider = build_provider(from_settings(configured), env={}, http_client=http_client)
    assert (provider.timeouts.first_byte_s, provider.timeouts.idle_s) == (FIRST_BYTE_TEST_S, 7.0)
    server.enqueue(sse_reply(end="hang"), OK_STREAM)
    chunks = await collect(provider, PROMPT)
    assert isinstance(chunks[0], RetryNotice) and "first-byte timeout" in chunks[0].reason
    assert chunks[-1] == StopChunk(ProviderStop.END_TURN)
