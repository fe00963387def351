"""A voice test core whose text provider is an OpenAI-wire LLM on loopback
(the extraction's structured-output calls go there)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from agentcore import AgentCoreBuilder
from agentcore.llm.base import ModelInfo, Pricing
from agentcore.llm.openai_chat import OpenAiChatProvider
from agentcore.llm.transport import RetryPolicy
from fakes.llm_server import FakeServer, Reply, json_reply, open_fake_server, sse_reply
from fakes.vendor_wire import oa_text_stream, oa_tool_stream

MODEL = "tiny-extract"
PRICING = Pricing(input=1.0, output=2.0)  # dollars per million tokens: charges are visible
NO_RETRY = RetryPolicy(max_attempts=1, base_delay_s=0.001, max_delay_s=0.002)


def fields_reply(values: dict[str, Any], *, prompt: int = 120, completion: int = 30) -> Reply:
    """The model calls record_fields with ``values`` (as JSON arguments)."""
    return sse_reply(*oa_tool_stream(("call_x1", "record_fields", json.dumps(values)), prompt=prompt, completion=completion))


def text_reply(text: str) -> Reply:
    return sse_reply(*oa_text_stream(text, prompt=100, completion=10))


def error_reply() -> Reply:
    return json_reply(400, {"error": {"message": "bad request", "type": "invalid_request_error"}})


@asynccontextmanager
async def llm_core(tmp_path: Path, *, tools: Any = ()) -> AsyncIterator[tuple[FakeServer, Any]]:
    async with open_fake_server() as server, httpx.AsyncClient(trust_env=False) as client:
        provider = OpenAiChatProvider(
            name="openai",
            base_url=f"{server.url}/v1",
            api_key="sk-test-extraction",
            api_key_env="OPENAI_API_KEY",
            http_client=client,
            retry=NO_RETRY,
            models=(ModelInfo(MODEL, 100_000, 4_000, pricing=PRICING),),
        )
        core = (
            AgentCoreBuilder()
            .with_provider(provider, MODEL)
            .without_builtin_tools()
            .with_tools(tools)
            .with_state_dir(tmp_path / "state")
            .build()
        )
        yield server, core
