"""Helpers for the PostgreSQL store tests: a core recording into a store, the
scripted OpenAI-wire replies, and the two backends behind one factory."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
from fakes.llm_server import FakeServer, Reply, sse_reply
from fakes.vendor_wire import oa_text_stream, oa_tool_stream

from agentcore import (
    AgentCoreBuilder,
    DefaultAgentCore,
    FunctionTool,
    SessionCreateInfo,
)
from agentcore.llm.openai_chat import OpenAiChatProvider
from agentcore.llm.transport import RetryPolicy
from agentcore.permissions import PermissionMode
from agentcore.tools.base import Tool, ToolContext

API_KEY = "sk-pg-test-5a4b3c2d1e0f9988776655"
MODEL = "gpt-4o-mini"
CLOCK_START = 1_700_000_000.0
FAST_RETRY = RetryPolicy(base_delay_s=0.001, max_delay_s=0.002)


def ticking_clock(start: float = CLOCK_START) -> Callable[[], float]:
    counter = itertools.count()
    return lambda: start + next(counter)


def make_provider(server: FakeServer, client: httpx.AsyncClient) -> OpenAiChatProvider:
    return OpenAiChatProvider(
        name="openai", base_url=f"{server.url}/v1", api_key=API_KEY, api_key_env="OPENAI_API_KEY",
        http_client=client, retry=FAST_RETRY,
    )


def make_core(store: Any, provider: Any, state_dir: Path, *, tools: Sequence[Tool] = ()) -> DefaultAgentCore:
    return (
        AgentCoreBuilder()
        .with_provider(provider, MODEL)
        .without_builtin_tools()
        .with_tools(tools)
        .with_session_store(store)
        .with_state_dir(state_dir)
        .build()
    )


def info(cwd: Path, **kwargs: Any) -> SessionCreateInfo:
    kwargs.setdefault("mode", PermissionMode.YOLO)
    return SessionCreateInfo(cwd=cwd, **kwargs)


def text(answer: str) -> Reply:
    return sse_reply(*oa_text_stream(answer))


def tool_call(call_id: str, name: str, args: str) -> Reply:
    return sse_reply(*oa_tool_stream((call_id, name, args)))


async def _echo(args: Mapping[str, Any], ctx: ToolContext) -> str:
    return f"echo: {args.get('text', '')}"


ECHO_TOOL = FunctionTool(
    "echo", "repeat the text", {"type": "object", "properties": {"text": {"type": "string"}}}, fn=_echo
)


def wire_texts(body: Mapping[str, Any]) -> list[tuple[str, str]]:
    out = []
    for m in body["messages"]:
        if m["role"] == "system":
            continue
        content = m.get("content") or ""
        if isinstance(content, list):
            content = " ".join(p.get("text", "") for p in content)
        out.append((m["role"], content))
    return out
