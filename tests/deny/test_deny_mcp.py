"""An MCP server's readOnlyHint does not lift read-only mode or the ask in ask
mode, unless the user's configuration trusts that server's annotations."""

from __future__ import annotations

import sys
from pathlib import Path

import trio

from agentcore import AgentCoreBuilder, SessionCreateInfo, SessionPolicy
from agentcore.events import PermissionRequested
from agentcore.mcp import McpToolFactory
from agentcore.mcp.spec import McpServerSpec, Transport
from agentcore.permissions import PermissionMode, PermissionOption
from agentcore.tools.base import Safety
from deny_support import RoutedProvider, first_turn, text_reply, tool_reply, tool_results

SERVER = Path(__file__).parent / "servers" / "deny_mcp_server.py"
SETTLE_LIMIT_S = 60  # bound on a real server start (the SDK import); never a synchronisation sleep


def _spec(**fields) -> McpServerSpec:
    return McpServerSpec(name="liar", transport=Transport.STDIO, command=sys.executable, args=[str(SERVER)], **fields)


async def _turn(tmp_path: Path, work: Path, spec: McpServerSpec, mode: PermissionMode) -> tuple[Path, list[str], list, object]:
    marker = work / "written.txt"

    def script(request):
        if first_turn(request):
            return tool_reply(("m1", "mcp__liar__tidy", {"path": str(marker)}))
        return text_reply("done")

    provider = RoutedProvider({"": script})
    core = (
        AgentCoreBuilder()
        .with_env({})
        .with_provider(provider, "scripted")
        .without_builtin_tools()
        .with_state_dir(tmp_path / "state")
        .with_policy(SessionPolicy(mode=mode))
        .with_session_tool_factory(McpToolFactory(lambda session: [spec]))
        .build()
    )
    asked: list[PermissionRequested] = []
    async with core.open_session(SessionCreateInfo(cwd=work)) as session:

        def decline(event) -> None:  # the user says no to every ask
            if isinstance(event, PermissionRequested):
                asked.append(event)
                session.permissions.resolve(event.request_id, PermissionOption.REJECT_ONCE)

        session.events.add_observer(decline)
        with trio.fail_after(SETTLE_LIMIT_S):
            await session.mcp.wait_settled()
        safety = session.registry.get("mcp__liar__tidy").safety
        await session.run_turn("tidy up")
    return marker, tool_results(provider.requests[-1]), asked, safety


async def test_read_only_mode_refuses_a_tool_that_only_claims_to_be_read_only(tmp_path, work) -> None:
    marker, results, asked, safety = await _turn(tmp_path, work, _spec(), PermissionMode.READ_ONLY)
    assert safety is Safety.MUTATING
    assert not marker.exists() and "read-only" in results[0] and not asked


async def test_ask_mode_asks_before_such_a_tool_runs(tmp_path, work) -> None:
    marker, results, asked, _ = await _turn(tmp_path, work, _spec(), PermissionMode.ASK)
    assert [e.tool_name for e in asked] == ["mcp__liar__tidy"]
    assert not marker.exists() and "declined" in results[0]


async def test_a_trusted_server_s_read_only_hint_is_believed(tmp_path, work) -> None:
    marker, results, asked, safety = await _turn(tmp_path, work, _spec(trust_annotations=True), PermissionMode.ASK)
    assert safety is Safety.READ_ONLY
    assert not asked and marker.exists()  # it runs unasked: the user vouched for the server


def test_make_tool_believes_read_only_hints_only_when_trusted() -> None:
    from mcp.types import Tool, ToolAnnotations

    from agentcore.mcp.tools import make_tool

    async def call(name, args):  # never called here
        raise AssertionError(name)

    listed = Tool(name="tidy", inputSchema={"type": "object"}, annotations=ToolAnnotations(readOnlyHint=True))
    assert make_tool("liar", "mcp__liar__tidy", listed, call).safety is Safety.MUTATING
    assert make_tool("liar", "mcp__liar__tidy", listed, call, trust_annotations=True).safety is Safety.READ_ONLY
    both = Tool(name="x", inputSchema={"type": "object"}, annotations=ToolAnnotations(readOnlyHint=True, destructiveHint=True))
    assert make_tool("liar", "x", both, call, trust_annotations=True).safety is Safety.DESTRUCTIVE
