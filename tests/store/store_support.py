"""Helpers for the session-store tests: a real OpenAI-wire provider on the
loopback server, a core recording into a JournalStore, and tiny tools."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from agentcore import AgentCoreBuilder, DefaultAgentCore, FunctionTool, SessionCreateInfo
from agentcore.llm.openai_chat import OpenAiChatProvider
from agentcore.llm.transport import RetryPolicy
from agentcore.permissions import PermissionMode
from agentcore.store import JournalStore
from agentcore.tools.base import Tool, ToolContext
from fakes.llm_server import FakeServer, Reply, sse_reply
from fakes.vendor_wire import oa_text_stream, oa_tool_stream

API_KEY = "sk-store-test-5a4b3c2d1e0f9988776655"
MODEL = "gpt-4o-mini"
CLOCK_START = 1_700_000_000.0  # a fixed wall-clock origin, in seconds
# Backoff short enough to keep the suite fast.
FAST_RETRY = RetryPolicy(base_delay_s=0.001, max_delay_s=0.002)


def ticking_clock(start: float = CLOCK_START) -> Callable[[], float]:
    """A wall clock that advances one second per reading: orders sessions deterministically."""
    counter = itertools.count()
    return lambda: start + next(counter)


def reopen(store: Any) -> Any:
    """A new store over the same sessions, as another process would open it
    (journal files, or the PostgreSQL database of a ``traits`` test)."""
    open_again = getattr(store, "open_again", None)
    return open_again() if open_again is not None else JournalStore(store.sessions_dir)


def make_provider(server: FakeServer, client: httpx.AsyncClient, *, key: str = API_KEY) -> OpenAiChatProvider:
    return OpenAiChatProvider(
        name="openai", base_url=f"{server.url}/v1", api_key=key, api_key_env="OPENAI_API_KEY",
        http_client=client, retry=FAST_RETRY,
    )


def make_core(store: JournalStore, provider: Any, state_dir: Path, *, tools: Sequence[Tool] = ()) -> DefaultAgentCore:
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
    kwargs.setdefault("mode", PermissionMode.YOLO)  # tools run without asking
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
    """(role, text) of every non-system message of an OpenAI request body."""
    out = []
    for m in body["messages"]:
        if m["role"] == "system":
            continue
        content = m.get("content") or ""
        if isinstance(content, list):
            content = " ".join(p.get("text", "") for p in content)
        out.append((m["role"], content))
    return out
