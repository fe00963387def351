"""Crashes, hangs, slow and broken servers: errors the model can read, restarts, timeouts."""

from __future__ import annotations

import pytest
import trio

from agentcore import SessionCreateInfo
from agentcore.events import McpServerStatus
from agentcore.mcp import RestartPolicy
from agentcore.mcp.state import ServerState
from agentcore.mcp.spec import McpServerSpec, Transport
from agentcore.messages import StopReason
from agentcore.permissions import PermissionMode

from mcp_fakes import stdio_spec, text_reply, tool_reply

LIMIT_S = 30  # bound on real server starts (imports); never a synchronisation sleep


def _status(events, server: str, state: str):
    return lambda e: isinstance(e, McpServerStatus) and e.server == server and e.state == state


async def test_crash_reports_stderr_restarts_once_then_gives_up(make_core, info) -> None:
    core, _, events = make_core([stdio_spec()], restart_policy=RestartPolicy(max_restarts=1, backoff_s=0.0))
    async with core.open_session(info) as session:
        with trio.fail_after(LIMIT_S):
            await session.mcp.wait_settled()
        tool = session.registry.get
        first_pid = (await tool("mcp__demo__pid").execute({}, None)).text_content

        crashed = await tool("mcp__demo__crash").execute({}, None)
        assert crashed.is_error
        assert "exited with code 3" in crashed.text_content
        assert "fatal: the widget store is corrupt" in crashed.text_content
        assert "restarted on the next call" in crashed.text_content
        event = await events.wait_for(_status(events, "demo", "crashed"))
        assert "fatal: the widget store is corrupt" in event.stderr_tail
        assert "mcp__demo__echo" in session.registry.names()  # still offered: calling it restarts

        with trio.fail_after(LIMIT_S):
            again = await tool("mcp__demo__pid").execute({}, None)
        assert not again.is_error and again.text_content != first_pid
        assert session.mcp.status()[0].restarts == 1

        final = await tool("mcp__demo__crash").execute({}, None)
        assert "will not be restarted" in final.text_content
        failed = await events.wait_for(_status(events, "demo", "failed"))
        assert "not restarted again" in failed.error
        assert not any(n.startswith("mcp__demo__") for n in session.registry.names())
        assert session.mcp.status()[0].state is ServerState.FAILED


async def test_hung_call_times_out_and_a_cancelled_turn_cancels_the_call(make_core, work) -> None:
    quick = stdio_spec("quick", tool_timeout_s=0.5)
    core, provider, _ = make_core(
        [quick, stdio_spec()], scripts=[tool_reply("c1", "mcp__demo__hang", {}), text_reply("unused")]
    )
    async with core.open_session(SessionCreateInfo(cwd=work, mode=PermissionMode.YOLO)) as session:
        with trio.fail_after(LIMIT_S):
            await session.mcp.wait_settled()
        timed_out = await session.registry.get("mcp__quick__hang").execute({}, None)
        assert timed_out.is_error and "did not answer hang within 0.5 s" in timed_out.text_content
        with trio.fail_after(LIMIT_S):
            await session.mcp.connection("quick").stderr.wait_for("hang was cancelled")

        demo = session.mcp.connection("demo")
        outcome = None
        async with trio.open_nursery() as nursery:

            async def turn() -> None:
                nonlocal outcome
                outcome = await session.run_turn("hang please")

            nursery.start_soon(turn)
            with trio.fail_after(LIMIT_S):
                await demo.stderr.wait_for("hang started")
            session.cancel()
        assert outcome.stop_reason is StopReason.CANCELLED
        with trio.fail_after(LIMIT_S):
            await demo.stderr.wait_for("hang was cancelled")
        assert demo.state is ServerState.READY  # a cancelled call is not a crash


async def test_slow_server_does_not_hold_up_the_session(make_core, info, tmp_path) -> None:
    gate = tmp_path / "gate"
    slow = stdio_spec("slow", "--gate", str(gate))
    stuck = stdio_spec("stuck", "--gate", str(tmp_path / "never"), startup_timeout_s=0.5)
    missing = McpServerSpec(name="missing", transport=Transport.STDIO, command=str(tmp_path / "no-such-server"))
    core, _, events = make_core([slow, stuck, missing])
    async with core.open_session(info) as session:
        # Creation returned while the slow server is still starting: no tools yet, no "ready".
        assert session.mcp.connection("slow").state is ServerState.STARTING
        assert not any(_status(events, "slow", "ready")(e) for e in events.events)
        assert not any(n.startswith("mcp__slow__") for n in session.registry.names())
        assert any(_status(events, "slow", "starting")(e) for e in events.events)

        with trio.fail_after(LIMIT_S):
            failed = await events.wait_for(_status(events, "missing", "failed"))
        assert "command not found" in failed.error
        with trio.fail_after(LIMIT_S):
            stuck_failed = await events.wait_for(_status(events, "stuck", "failed"))
        assert "did not start within 0.5 s" in stuck_failed.error

        gate.touch()
        with trio.fail_after(LIMIT_S):
            ready = await events.wait_for(_status(events, "slow", "ready"))
        assert ready.tool_count > 0
        assert "mcp__slow__echo" in session.registry.names()
        result = await session.registry.get("mcp__slow__echo").execute({"text": "late"}, None)
        assert result.text_content == "echo: late"


@pytest.mark.parametrize(("tool", "reason"), [
    ("mcp__demo__flood_line", "a stdout line is longer than"),
    ("mcp__demo__flood_garbage", "stdout lines in a row are not JSON-RPC"),
])
async def test_a_server_flooding_stdout_is_stopped_and_its_call_fails_at_once(make_core, info, tool, reason) -> None:
    """An endless line or a flood of garbage used to cost 100 % CPU and hundreds of
    MB until the call timed out; now the reader stays linear and bounded, stops
    the server and the call fails well before its (long) timeout."""
    spec = stdio_spec(tool_timeout_s=600.0)
    core, _, events = make_core([spec], restart_policy=RestartPolicy(max_restarts=0, backoff_s=0.0))
    async with core.open_session(info) as session:
        with trio.fail_after(LIMIT_S):
            await session.mcp.wait_settled()
            result = await session.registry.get(tool).execute({}, None)
        assert result.is_error
        assert reason in result.text_content
        assert session.mcp.status()[0].state is ServerState.FAILED


async def test_a_response_nested_too_deep_fails_the_call_at_once(make_core, info) -> None:
    """structuredContent nested 200 deep used to be dropped by the SDK, so the call
    waited for its whole timeout; the server keeps serving afterwards."""
    core, _, _ = make_core([stdio_spec(tool_timeout_s=600.0)])
    async with core.open_session(info) as session:
        with trio.fail_after(LIMIT_S):
            await session.mcp.wait_settled()
            deep = await session.registry.get("mcp__demo__deep").execute({}, None)
            after = await session.registry.get("mcp__demo__echo").execute({"text": "still here"}, None)
    assert deep.is_error
    assert "could not be read" in deep.text_content and "levels deep" in deep.text_content
    assert not after.is_error and "still here" in after.text_content
