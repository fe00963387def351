"""Helpers for provider tests: fast providers and stream collectors."""

from __future__ import annotations

from contextlib import aclosing
from typing import Any

import httpx

from agentcore.llm.anthropic import AnthropicProvider
from agentcore.llm.base import Chunk, LlmProvider, LlmRequest
from agentcore.llm.openai_chat import OpenAiChatProvider
from agentcore.llm.transport import RetryPolicy, Timeouts
from fakes.llm_server import FakeServer

OPENAI_KEY = "sk-test-openai-0123456789abcdef"
ANTHROPIC_KEY = "sk-ant-test-0123456789abcdef"
# Backoff short enough to keep the suite fast, long enough to be observable.
FAST_RETRY = RetryPolicy(base_delay_s=0.001, max_delay_s=0.002)


def make_openai(server: FakeServer, client: httpx.AsyncClient, **kwargs: Any) -> OpenAiChatProvider:
    kwargs.setdefault("retry", FAST_RETRY)
    return OpenAiChatProvider(
        name="openai",
        base_url=f"{server.url}/v1",
        api_key=OPENAI_KEY,
        api_key_env="OPENAI_API_KEY",
        http_client=client,
        **kwargs,
    )


def make_anthropic(server: FakeServer, client: httpx.AsyncClient, **kwargs: Any) -> AnthropicProvider:
    kwargs.setdefault("retry", FAST_RETRY)
    return AnthropicProvider(
        name="anthropic",
        base_url=server.url,
        api_key=ANTHROPIC_KEY,
        api_key_env="ANTHROPIC_API_KEY",
        http_client=client,
        **kwargs,
    )


async def collect(provider: LlmProvider, request: LlmRequest) -> list[Chunk]:
    async with aclosing(provider.complete(request)) as chunks:
        return [c async for c in chunks]


async def collect_until_error(
    provider: LlmProvider, request: LlmRequest
) -> tuple[list[Chunk], BaseException]:
    got: list[Chunk] = []
    try:
        async with aclosing(provider.complete(request)) as chunks:
            async for chunk in chunks:
                got.append(chunk)
    except Exception as exc:  # the caller asserts on the exact type
        return got, exc
    raise AssertionError(f"expected an error, got {got!r}")


TINY_IDLE = Timeouts(connect_s=2.0, idle_s=0.05)
