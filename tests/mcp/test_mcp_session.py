"""MCP tools in whole sessions: a turn, the profile allowlist, HTTP, shutdown, lazy import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import trio

from agentcore import SessionCreateInfo, SessionPolicy, ToolFilter
from agentcore.mcp.spec import McpServerSpec, Transport
from agentcore.messages import ToolResultMessage
from agentcore.permissions import PermissionMode

from mcp_fakes import stdio_spec, text_reply, tool_reply

LIMIT_S = 30  # bound on real server starts (imports); never a synchronisation sleep


async def test_a_turn_calls_an_mcp_tool_and_the_result_reaches_history(make_core, work) -> None:
    policy = SessionPolicy(tool_filter=ToolFilter(allow=("mcp__demo__e*",)))
    core, provider, _ = make_core(
        [stdio_spec()],
        scripts=[tool_reply("c1", "mcp__demo__echo", {"text": "from the model"}), text_reply("done")],
        policy=policy,
    )
    async with core.open_session(SessionCreateInfo(cwd=work, mode=PermissionMode.YOLO)) as session:
        with trio.fail_after(LIMIT_S):
            await session.mcp.wait_settled()
        assert session.registry.names() == ("mcp__demo__echo",)  # the allowlist applies to MCP tools
        assert session.registry.get("mcp__demo__wipe") is None
        await session.run_turn("echo something")
        offered = [spec.name for spec in provider.requests[0].tools]
        assert offered == ["mcp__demo__echo"]
        results = [r for m in session.history.snapshot() if isinstance(m, ToolResultMessage) for r in m.results]
        assert [(r.text, r.is_error) for r in results] == [("echo: from the model", False)]
        assert "echo: from the model" in provider.requests[1].messages[-1].text  # the model saw it


def _process_state(pid: int) -> str | None:
    """The /proc state letter (R, S, Z, ...), or None when the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


async def test_closing_the_session_leaves_no_processes(make_core, info) -> None:
    core, _, _ = make_core([stdio_spec()])
    async with core.open_session(info) as session:
        with trio.fail_after(LIMIT_S):
            await session.mcp.wait_settled()
        server_pid = int((await session.registry.get("mcp__demo__pid").execute({}, None)).text_content)
        child_pid = int((await session.registry.get("mcp__demo__spawn_child").execute({}, None)).text_content)
        assert _process_state(server_pid) not in (None, "Z")
        assert _process_state(child_pid) not in (None, "Z")
    assert _process_state(server_pid) is None  # ended and reaped: no zombie of ours
    assert _process_state(child_pid) in (None, "Z")  # its group was killed; init reaps the orphan


async def test_streamable_http_server(make_core, info, http_server) -> None:
    spec = McpServerSpec(name="web", transport=Transport.HTTP, url=http_server, headers={"X-Test": "1"})
    core, _, _ = make_core([spec])
    async with core.open_session(info) as session:
        with trio.fail_after(LIMIT_S):
            await session.mcp.wait_settled()
        assert "mcp__web__echo" in session.registry.names()
        result = await session.registry.get("mcp__web__echo").execute({"text": "over http"}, None)
        assert result.text_content == "echo: over http"
        assert "# MCP server: web" in session.system_prompt()
    assert session.mcp.status()[0].state.value == "stopped"


def test_agentcore_does_not_import_the_sdk_until_a_server_starts() -> None:
    code = (
        "import sys, agentcore, agentcore.core, agentcore.session, agentcore.mcp, agentcore.mcp.spec;"
        "from agentcore.mcp import McpToolFactory; McpToolFactory();"
        "print(sorted(m for m in sys.modules if m == 'mcp' or m.startswith(('mcp.', 'mcp_types'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_an_mcp_allowlist_pattern_matching_no_tool_is_reported_once_servers_settle(make_core, work) -> None:
    from agentcore.events import Notice

    policy = SessionPolicy(tool_filter=ToolFilter(allow=("mcp__demo__e*", "mcp__dmeo__*")))
    core, _, events = make_core([stdio_spec()], policy=policy)
    async with core.open_session(SessionCreateInfo(cwd=work)) as session:
        with trio.fail_after(LIMIT_S):
            notice = await events.wait_for(lambda e: isinstance(e, Notice) and "match no MCP tool" in e.text)
        assert "mcp__dmeo__*" in notice.text and "mcp__demo__e*" not in notice.text.split("match")[0]
        assert "mcp__demo__echo" in notice.text  # what is offered, to spot the typo
        assert session.registry.names() == ("mcp__demo__echo",)
