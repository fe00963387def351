"""ACP session/new with mcpServers: entries become McpServerSpec values in acp/
(bad ones are refused with the server and key named), and end to end a real MCP
server (the SDK's, over stdio) starts for the session, the model calls its tool,
and the result reaches the client as a tool_call_update."""

from __future__ import annotations

import sys
from pathlib import Path

from typing import Any

import pytest
import trio

from agentcore.acp.mcp_servers import spec_from_acp, specs_from_acp
from acp_fakes import ScriptedProvider, acp_connection, text_reply, tool_reply
from agentcore.core import AgentCoreBuilder, SessionPolicy
from agentcore.mcp import McpConfigError, McpToolFactory, Transport
from agentcore.mcp.spec import session_specs
from agentcore.permissions import PermissionMode, Rule, RuleAction

DEMO_SERVER = Path(__file__).resolve().parents[1] / "mcp" / "servers" / "demo_server.py"
READY_WAIT_S = 60  # the SDK alone takes 1-2 s to import in the server process on a busy machine


def test_acp_entries_stdio_http_and_sse() -> None:
    stdio, http, sse = specs_from_acp(
        [
            {"name": "fs", "command": "srv", "args": ["-v"], "env": [{"name": "TOKEN", "value": "t"}]},
            {"type": "http", "name": "gh", "url": "https://x/mcp", "headers": [{"name": "Authorization", "value": "B"}]},
            {"type": "sse", "name": "old", "url": "https://y/sse", "headers": []},
        ]
    )
    assert (stdio.transport, stdio.command, stdio.args, dict(stdio.env)) == (Transport.STDIO, "srv", ("-v",), {"TOKEN": "t"})
    assert (http.transport, http.url, dict(http.headers)) == (Transport.HTTP, "https://x/mcp", {"Authorization": "B"})
    assert sse.transport is Transport.SSE
    assert {stdio.source, http.source, sse.source} == {"ACP session/new"}


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ({"name": "a"}, "a.command"),
        ({"name": "a", "command": "x", "env": {"K": "V"}}, "a.env"),
        ({"type": "ws", "name": "a", "url": "u"}, "a.type"),
        ({"type": "http", "name": "a"}, "a.url"),
    ],
)
def test_bad_acp_entries_name_the_key(entry: dict, key: str) -> None:
    with pytest.raises(McpConfigError) as caught:
        spec_from_acp(entry)
    assert caught.value.key == key


async def test_a_bad_entry_refuses_session_new_naming_server_and_key(core: Any, workspace: Path) -> None:
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        reply = await h.peer.request("session/new", {"cwd": str(workspace), "mcpServers": [{"name": "a", "env": []}]})
    error = reply["error"]
    assert error["code"] == -32602
    assert error["message"] == "Invalid params: ACP session/new: a.command: expected a non-empty string"
    assert error["data"]["type"] == "McpConfigError"


async def test_mcp_server_from_session_new_serves_a_tool_call(tmp_path: Path, workspace: Path) -> None:
    provider = ScriptedProvider([tool_reply("call_1", "mcp__demo__echo", {"text": "from ACP"}), text_reply("done")])
    core = (
        AgentCoreBuilder()
        .with_env({})
        .with_provider(provider, "scripted-1")
        # The server's readOnlyHint is not trusted (nothing in the configuration says so),
        # so echo would ask; this test is about serving the call, so a rule allows it.
        .with_policy(SessionPolicy(mode=PermissionMode.ASK, rules=(Rule.parse("mcp__demo__echo", RuleAction.ALLOW),)))
        .with_session_tool_factory(McpToolFactory(lambda session: session_specs(session, env={})))
        .with_state_dir(tmp_path / "state")
        .build()
    )
    server = {"name": "demo", "command": sys.executable, "args": [str(DEMO_SERVER)], "env": []}
    async with acp_connection(core, workspace) as h:
        await h.initialize({"session": {"notices": {}}})
        session_id = await h.new_session(mcpServers=[server])
        with trio.fail_after(READY_WAIT_S):
            # The server's readiness reaches the client as a notice (advertised above).
            while True:
                update = (await h.peer.receive())["params"]["update"]
                if str(update.get("title", "")).startswith("MCP server demo is ready"):
                    break
        reply, updates = await h.prompt(session_id, "echo something through MCP")
    assert reply["result"]["stopReason"] == "end_turn"
    calls = [u for u in updates if u["sessionUpdate"] == "tool_call"]
    assert calls and calls[0]["toolCallId"] == "call_1" and calls[0]["rawInput"] == {"text": "from ACP"}
    done = [u for u in updates if u["sessionUpdate"] == "tool_call_update" and u.get("status") == "completed"]
    assert done and "echo: from ACP" in str(done[-1]["content"])
    request = provider.requests[0]
    assert "mcp__demo__echo" in {t.name for t in request.tools}
    assert "widgets" in request.system  # the server's instructions joined the system prompt
