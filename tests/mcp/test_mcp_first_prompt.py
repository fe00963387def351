"""The first prompt sees the tools of MCP servers that are still starting.

Session creation does not wait for slow servers; the first model request does
(bounded by each server's ``startup_timeout_s``, announced by a notice), so the
tools the user asked for are in it. A server that fails is reported and left
out. The model is a loopback OpenAI-wire server, so the request checked is the
one on the wire.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import trio

from agentcore import AgentCoreBuilder, SessionCreateInfo
from agentcore.events import McpServerStatus, Notice
from agentcore.llm.base import ModelInfo, Pricing
from agentcore.llm.openai_chat import OpenAiChatProvider
from agentcore.llm.transport import RetryPolicy
from agentcore.mcp import McpToolFactory, RestartPolicy, ServerState
from agentcore.mcp.spec import McpServerSpec, Transport
from fakes.llm_server import FakeServer, open_fake_server, sse_reply
from fakes.vendor_wire import oa_text_stream

from mcp_fakes import EventLog, stdio_spec

LIMIT_S = 60  # bound on real server starts (imports and the server's own delay); never a synchronisation sleep
SLOW_START_S = 1.5  # the server sleeps this long before it answers initialize
MODEL = "loopback-model"


@asynccontextmanager
async def _core(tmp_path: Path, specs: Sequence[McpServerSpec]) -> AsyncIterator[tuple[Any, FakeServer, EventLog]]:
    async with open_fake_server() as server, httpx.AsyncClient(trust_env=False) as client:
        provider = OpenAiChatProvider(
            name="openai",
            base_url=f"{server.url}/v1",
            api_key="sk-test-mcp",
            api_key_env="OPENAI_API_KEY",
            http_client=client,
            retry=RetryPolicy(base_delay_s=0.001, max_delay_s=0.002),
            models=(ModelInfo(MODEL, 100_000, 4_000, Pricing(input=1.0, output=2.0)),),
        )
        events = EventLog()
        core = (
            AgentCoreBuilder()
            .with_provider(provider, MODEL)
            .without_builtin_tools()
            .with_state_dir(tmp_path / "state")
            .with_observer(events)
            .with_session_tool_factory(McpToolFactory(lambda session: specs, restart_policy=RestartPolicy(max_restarts=0)))
            .build()
        )
        yield core, server, events


def _tool_names(body: dict[str, Any]) -> list[str]:
    return [t["function"]["name"] for t in body.get("tools", [])]


def _notices(events: EventLog, level: str) -> list[str]:
    return [e.text for e in events.of_type(Notice) if e.level == level]


async def test_the_first_prompt_lists_the_tools_of_a_server_still_starting(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    slow = stdio_spec("slow", "--delay", str(SLOW_START_S))
    missing = McpServerSpec(name="missing", transport=Transport.STDIO, command=str(tmp_path / "no-such-server"))
    async with _core(tmp_path, [slow, missing]) as (core, server, events):
        server.enqueue(sse_reply(*oa_text_stream("hello")))
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            # session creation did not wait for it
            assert session.mcp.connection("slow").state is ServerState.STARTING
            with trio.fail_after(LIMIT_S):
                await session.run_turn("use the slow server's echo tool")
            body = server.requests[0].json()
            names = _tool_names(body)
            assert "mcp__slow__echo" in names  # the first request already offers the tools
            assert not any(n.startswith("mcp__missing__") for n in names)
            assert "# MCP server: slow" in body["messages"][0]["content"]  # its instructions too
            infos = _notices(events, "info")
            assert any("Waiting for MCP server slow" in text for text in infos)
            # the failed server is reported (its status event; a notice too when the turn was waiting for it)
            failed = [e for e in events.of_type(McpServerStatus) if e.server == "missing" and e.state == "failed"]
            assert failed and "command not found" in failed[0].error
            assert not any("slow" in t for t in _notices(events, "warning"))


async def test_a_server_that_outlasts_its_start_up_timeout_does_not_hold_the_turn(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    stuck = stdio_spec("stuck", "--gate", str(tmp_path / "never"), startup_timeout_s=0.5)
    async with _core(tmp_path, [stuck]) as (core, server, events):
        server.enqueue(sse_reply(*oa_text_stream("hello")))
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            with trio.fail_after(LIMIT_S):
                await session.run_turn("hi")
            assert _tool_names(server.requests[0].json()) == []
            assert session.mcp.connection("stuck").state is not ServerState.READY
            warnings = [t for t in _notices(events, "warning") if "MCP server stuck is not available" in t]
            # the server's own watchdog or the turn's wait gave up first: both after 0.5 s
            assert len(warnings) == 1 and ("within 0.5 s" in warnings[0] or "after 0.5 s" in warnings[0])


async def test_a_turn_after_the_servers_settled_does_not_wait_or_announce(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    async with _core(tmp_path, [stdio_spec("demo")]) as (core, server, events):
        server.enqueue(sse_reply(*oa_text_stream("hello")))
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            with trio.fail_after(LIMIT_S):
                await session.mcp.wait_settled()
            await session.run_turn("hi")
            assert "mcp__demo__echo" in _tool_names(server.requests[0].json())
            assert not any("Waiting for MCP server" in t for t in _notices(events, "info"))
