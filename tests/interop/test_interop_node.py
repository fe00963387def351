"""The agent (``python -m agentcore.acp``, a real subprocess) driven by the official
TypeScript SDK client, ``@agentclientprotocol/sdk@2.4.0``.

Every line the agent writes is recorded on the wire and validated against the
official schema afterwards. Skipped, with the reason, only when node/npm are
not installed.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio

from agentcore.llm.echo import ECHO_BANNER

import interop_support as s

pytestmark = pytest.mark.skipif(s.node_missing_reason() is not None, reason=s.node_missing_reason() or "")

CANCEL_BUDGET_MS = 500  # session/cancel to the cancelled prompt response
BRIDGE_VARIANT = True  # every test also runs through `agent acp --bridge` (conftest.py)


@pytest.fixture(scope="module", autouse=True)
def node_modules() -> None:
    s.ensure_node_modules()


async def run_node(dirs: dict[str, Path], scenario: str, *, provider: str, llm_url: str | None = None, **options: Any) -> list[dict[str, Any]]:
    command, env = s.launch(getattr(dirs, "mode", "stdio"), provider=provider, env=s.agent_env(os.environ, dirs["home"], llm_url))
    config = {
        "scenario": scenario,
        "command": command,
        "cwd": str(dirs["work"]),
        "env": env,
        "transcript": str(dirs["transcript"]),
        **options,
    }
    events = await s.run_client(["node", str(s.NODE_CLIENT), json.dumps(config)], cwd=s.HERE, env=os.environ)
    s.check_transcript(dirs["transcript"])
    return events


@asynccontextmanager
async def llm(*replies: Any) -> AsyncIterator[Any]:
    async with s.llm_server.open_fake_server() as server:
        server.enqueue(*replies)
        yield server


async def test_handshake(interop_dirs: dict[str, Path]) -> None:
    events = await run_node(interop_dirs, "handshake", provider="echo", clientCapabilities={"fs": {"readTextFile": True}})
    init = s.step(events, "initialize")["result"]
    assert init["protocolVersion"] == 1 and init["agentCapabilities"]["loadSession"] is True
    session = s.step(events, "session")
    assert session["sessionId"] and session["modes"]["currentModeId"] == "ask"
    assert {o["category"] for o in session["configOptions"]} >= {"model", "mode"}


async def test_text_prompt(interop_dirs: dict[str, Path]) -> None:
    async with llm(s.text_reply("Hello", " from", " the model")) as server:
        events = await run_node(interop_dirs, "prompt", provider="openai", llm_url=server.url, prompt="greet me")
    result = s.step(events, "prompt")
    assert result["stopReason"] == "end_turn"
    assert result["text"] == "Hello from the model"
    assert "usage_update" in result["kinds"] and "session_info_update" in result["kinds"]
    assert server.requests[0].json()["messages"][-1]["content"] == "greet me"


@pytest.mark.parametrize(("answer", "status", "written"), [("allow_once", "completed", True), ("reject_once", "failed", False)])
async def test_tool_call_with_permission(interop_dirs: dict[str, Path], answer: str, status: str, written: bool) -> None:
    call = s.tool_reply("call_1", "write_file", {"path": "hello.txt", "content": "hi\n"})
    async with llm(call, s.text_reply("Done.")) as server:
        events = await run_node(interop_dirs, "prompt", provider="openai", llm_url=server.url, prompt="write it", permission=answer)
    request = s.step(events, "permission_request")
    assert request["toolCall"]["toolCallId"] == "call_1"
    assert request["options"] == ["allow_once", "allow_always", "reject_once", "reject_always"]
    result = s.step(events, "prompt")
    assert result["stopReason"] == "end_turn"
    finals = [u for u in result["updates"] if u["sessionUpdate"] == "tool_call_update" and u.get("status") in ("completed", "failed")]
    assert [u["status"] for u in finals] == [status]
    assert (interop_dirs["work"] / "hello.txt").exists() is written


async def test_cancel_mid_stream(interop_dirs: dict[str, Path]) -> None:
    async def stall() -> None:
        await trio.sleep_forever()  # the agent must give up on this stream when cancelled

    async with llm(s.text_reply("partial", stall)) as server:
        events = await run_node(interop_dirs, "cancel", provider="openai", llm_url=server.url, prompt="talk")
    result = s.step(events, "cancel")
    assert result["stopReason"] == "cancelled"
    assert result["elapsedMs"] < CANCEL_BUDGET_MS


async def test_cancel_while_permission_is_pending(interop_dirs: dict[str, Path]) -> None:
    call = s.tool_reply("call_1", "bash", {"command": "echo hi"})
    async with llm(call) as server:
        events = await run_node(
            interop_dirs, "cancel", provider="openai", llm_url=server.url, prompt="run", permission="cancel-later", cancelAfter="tool_call"
        )
    assert s.step(events, "cancel")["stopReason"] == "cancelled"


async def test_fs_and_terminal_delegation(interop_dirs: dict[str, Path]) -> None:
    work = interop_dirs["work"]
    (work / "buf.txt").write_text("disk version\n")
    replies = (
        s.tool_reply("c1", "read_file", {"path": "buf.txt"}),
        s.tool_reply("c2", "write_file", {"path": "out.txt", "content": "via editor\n"}),
        s.tool_reply("c3", "bash", {"command": "echo from-terminal"}),
        s.text_reply("all done"),
    )
    caps = {"fs": {"readTextFile": True, "writeTextFile": True}, "terminal": True}
    async with llm(*replies) as server:
        events = await run_node(
            interop_dirs, "prompt", provider="openai", llm_url=server.url, prompt="do it",
            permission="allow_once", clientCapabilities=caps, buffers={str(work / "buf.txt"): "unsaved editor buffer\n"},
        )
    result = s.step(events, "prompt")
    assert result["stopReason"] == "end_turn"
    for method in ("fs/read_text_file", "fs/write_text_file", "terminal/create", "terminal/wait_for_exit", "terminal/output", "terminal/release"):
        assert method in result["calls"], method
    assert result["written"] == {str(work / "out.txt"): "via editor\n"}
    assert not (work / "out.txt").exists()
    assert any(c.get("type") == "terminal" for u in result["updates"] for c in (u.get("content") or []))
    tool_results = [m for m in server.requests[1].json()["messages"] if m["role"] == "tool"]
    assert "unsaved editor buffer" in tool_results[-1]["content"]
    assert "from-terminal" in json.dumps(server.requests[3].json()["messages"][-1])


async def test_malformed_lines_then_working_prompt(interop_dirs: dict[str, Path]) -> None:
    events = await run_node(interop_dirs, "malformed", provider="echo", prompt="echo me")
    result = s.step(events, "malformed")
    assert result["unknown"]["code"] == -32601
    # The echo banner is a warning: a client without notices gets it as a line of the agent's
    # message, after session/new (the client may have cleared its updates before or after it).
    banner = f"\n\n**Warning:** {ECHO_BANNER}\n\n"
    assert result["stopReason"] == "end_turn" and result["text"] in ("echo me", banner + "echo me")


async def test_load_replays_in_a_fresh_process(interop_dirs: dict[str, Path]) -> None:
    pytest.importorskip("agentcore.store", reason="load across processes needs the journal session store")
    async with llm(s.text_reply("remembered answer")) as server:
        first = await run_node(interop_dirs, "prompt", provider="openai", llm_url=server.url, prompt="remember this")
    session_id = s.step(first, "prompt")["sessionId"]
    interop_dirs["transcript"].unlink()
    events = await run_node(interop_dirs, "load", provider="echo", sessionId=session_id)
    loaded = s.step(events, "load")
    assert loaded["kinds"][:2] == ["user_message_chunk", "agent_message_chunk"]
    assert loaded["updates"][0]["content"]["text"] == "remember this"


# ----------------------------------------------------------- ACP 2026 (stable)


async def test_logout_then_authenticate(interop_dirs: dict[str, Path]) -> None:
    events = await run_node(interop_dirs, "logout", provider="echo")
    result = s.step(events, "logout")
    assert result["auth"] == {"logout": {}}
    assert result["refused"]["code"] == -32000 and "authenticate" in result["refused"]["message"]
    assert result["sessionId"]


async def test_cancel_request_withdraws_a_running_prompt(interop_dirs: dict[str, Path]) -> None:
    async def stall() -> None:
        await trio.sleep_forever()  # the agent must give up on this stream when the request is withdrawn

    async with llm(s.text_reply("partial", stall), s.text_reply("second answer")) as server:
        events = await run_node(interop_dirs, "cancelRequest", provider="openai", llm_url=server.url, prompt="talk")
    result = s.step(events, "cancel_request")
    assert result["outcome"]["code"] == -32800  # the protocol's "request cancelled"
    assert result["messageIds"] and all(result["messageIds"])  # chunks carry messageId
    assert result["again"] == "end_turn" and result["againText"] == "second answer"


async def test_additional_directories(interop_dirs: dict[str, Path], tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "notes.txt").write_text("from the extra root\n")
    protected = tmp_path / "repo" / ".git"
    protected.mkdir(parents=True)
    replies = (s.tool_reply("c1", "read_file", {"path": str(extra / "notes.txt")}), s.text_reply("read it"))
    async with llm(*replies) as server:
        events = await run_node(
            interop_dirs, "additionalDirs", provider="openai", llm_url=server.url, prompt="read the notes",
            extraDir=str(extra), protectedDir=str(protected),
        )
    result = s.step(events, "additional_dirs")
    assert result["refused"]["code"] == -32602 and str(protected) in result["refused"]["message"]
    assert result["stopReason"] == "end_turn"
    assert "session/request_permission" not in result["calls"]  # inside a root: a read needs no ask
    completed = [r for r in result["results"] if r["status"] == "completed"]
    assert completed and "from the extra root" in json.dumps(completed)
    assert "Additional directories: " + str(extra.resolve()) in server.requests[0].json()["messages"][0]["content"]


# ------------------------------------------------------------- ACP unstable


async def test_fork_session(interop_dirs: dict[str, Path]) -> None:
    async with llm(s.text_reply("noted"), s.text_reply("it was 42")) as server:
        events = await run_node(interop_dirs, "fork", provider="openai", llm_url=server.url)
    result = s.step(events, "fork")
    assert result["advertised"] == {} and result["forked"] != result["source"]
    assert result["stopReason"] == "end_turn" and result["text"] == "it was 42"
    fork_messages = server.requests[1].json()["messages"]
    assert [m["content"] for m in fork_messages if m["role"] == "user"] == ["remember 42", "what was it?"]
    assert fork_messages[2]["content"] == "noted"  # the source's answer came along


@pytest.mark.parametrize(("advertised", "expected"), [(True, "colour: blue"), (False, "no colour (decline)")])
async def test_an_mcp_server_elicitation_reaches_the_client(interop_dirs: dict[str, Path], advertised: bool, expected: str) -> None:
    """The demo MCP server asks for a colour mid-call: a client that advertises
    form elicitation is asked (elicitation/create) and its answer reaches the
    server; one that does not is never asked and the server is declined."""
    import sys

    server_script = s.TESTS / "mcp" / "servers" / "demo_server.py"
    mcp_servers = [{"name": "demo", "command": sys.executable, "args": [str(server_script)], "env": []}]
    replies = (s.tool_reply("c1", "mcp__demo__ask_colour", {}), s.text_reply("noted"))
    async with llm(*replies) as server:
        events = await run_node(
            interop_dirs, "mcpPrompt", provider="openai", llm_url=server.url, prompt="ask me",
            mcpServers=mcp_servers, permission="allow_once",
            clientCapabilities={"elicitation": {"form": {}}} if advertised else {},
            elicitationAnswer={"action": "accept", "content": {"colour": "blue"}},
        )
    result = s.step(events, "mcp_prompt")
    assert result["stopReason"] == "end_turn"
    assert expected in json.dumps(result["results"])
    asked = [e for e in events if e.get("step") == "elicitation"]
    if advertised:
        [question] = asked
        assert question["params"]["mode"] == "form" and question["params"]["message"].startswith("MCP server demo:")
        assert "colour" in question["params"]["requestedSchema"]["properties"]
    else:
        assert asked == [] and "elicitation/create" not in result["calls"]
