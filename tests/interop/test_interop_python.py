"""The agent driven by a second, independent client: the Python SDK
(PyPI ``agent-client-protocol``, asyncio), installed in the same venv as
agentcore and run in its own process. Its top-level module is ``acp``;
agentcore's frontend installs as ``agentcore.acp``, so the two coexist."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import trio

import interop_support as s

CANCEL_BUDGET_MS = 500  # session/cancel to the cancelled prompt response
BRIDGE_VARIANT = True  # every test also runs through `agent acp --bridge` (conftest.py)


async def run_py(dirs: dict[str, Path], scenario: str, *, provider: str, llm_url: str | None = None, **options: Any) -> list[dict[str, Any]]:
    command, env = s.launch(getattr(dirs, "mode", "stdio"), provider=provider, env=s.agent_env(os.environ, dirs["home"], llm_url))
    config = {
        "scenario": scenario,
        "command": command,
        "cwd": str(dirs["work"]),
        "env": env,
        "transcript": str(dirs["transcript"]),
        **options,
    }
    # The official SDK runs in the same interpreter and venv as agentcore: its
    # top-level `acp` and agentcore's own `agentcore.acp` never collide.
    client_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    events = await s.run_client([sys.executable, str(s.PY_CLIENT), json.dumps(config)], cwd=s.HERE, env=client_env)
    s.check_transcript(dirs["transcript"])
    return events


async def test_handshake_and_text_prompt(interop_dirs: dict[str, Path]) -> None:
    async with s.llm_server.open_fake_server() as server:
        server.enqueue(s.text_reply("Hi", " from python"))
        events = await run_py(interop_dirs, "prompt", provider="openai", llm_url=server.url, prompt="hello")
    assert s.step(events, "initialize")["loadSession"] is True
    result = s.step(events, "prompt")
    assert result["stopReason"] == "end_turn" and result["text"] == "Hi from python"


@pytest.mark.parametrize(("answer", "status"), [("allow_once", "completed"), ("reject_once", "failed")])
async def test_permission(interop_dirs: dict[str, Path], answer: str, status: str) -> None:
    async with s.llm_server.open_fake_server() as server:
        server.enqueue(s.tool_reply("call_1", "write_file", {"path": "f.txt", "content": "x"}), s.text_reply("ok"))
        events = await run_py(interop_dirs, "prompt", provider="openai", llm_url=server.url, prompt="write", permission=answer)
    assert s.step(events, "permission_request")["toolCallId"] == "call_1"
    result = s.step(events, "prompt")
    finals = [u.get("status") for u in result["updates"] if u.get("sessionUpdate") == "tool_call_update" and u.get("status") in ("completed", "failed")]
    assert finals == [status]
    assert (interop_dirs["work"] / "f.txt").exists() is (answer == "allow_once")


async def test_cancel_mid_stream(interop_dirs: dict[str, Path]) -> None:
    async def stall() -> None:
        await trio.sleep_forever()

    async with s.llm_server.open_fake_server() as server:
        server.enqueue(s.text_reply("partial", stall))
        events = await run_py(interop_dirs, "cancel", provider="openai", llm_url=server.url, prompt="talk")
    result = s.step(events, "cancel")
    assert result["stopReason"] == "cancelled" and result["elapsedMs"] < CANCEL_BUDGET_MS


async def test_fs_and_terminal_delegation(interop_dirs: dict[str, Path]) -> None:
    work = interop_dirs["work"]
    (work / "buf.txt").write_text("disk\n")
    async with s.llm_server.open_fake_server() as server:
        server.enqueue(
            s.tool_reply("c1", "read_file", {"path": "buf.txt"}),
            s.tool_reply("c2", "bash", {"command": "echo py-terminal"}),
            s.text_reply("done"),
        )
        events = await run_py(
            interop_dirs, "prompt", provider="openai", llm_url=server.url, prompt="go", permission="allow_once",
            clientCapabilities={"fs": {"readTextFile": True, "writeTextFile": True}, "terminal": True},
            buffers={str(work / "buf.txt"): "editor buffer\n"},
        )
    result = s.step(events, "prompt")
    assert result["stopReason"] == "end_turn"
    assert result["calls"][:1] == ["fs/read_text_file"]
    assert {"terminal/create", "terminal/wait_for_exit", "terminal/output", "terminal/release"} <= set(result["calls"])
    assert "editor buffer" in json.dumps(server.requests[1].json()["messages"])
    assert "py-terminal" in json.dumps(server.requests[2].json()["messages"])


async def test_fork_with_an_additional_directory(interop_dirs: dict[str, Path], tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    async with s.llm_server.open_fake_server() as server:
        server.enqueue(s.text_reply("noted"), s.text_reply("it was 42"))
        events = await run_py(interop_dirs, "fork", provider="openai", llm_url=server.url, extraDir=str(extra))
    result = s.step(events, "fork")
    assert result["forked"] != result["source"]
    assert result["stopReason"] == "end_turn" and result["text"] == "it was 42"
    fork_request = server.requests[1].json()["messages"]
    assert [m["content"] for m in fork_request if m["role"] == "user"] == ["remember 42", "what was it?"]
    assert "Additional directories: " + str(extra.resolve()) in fork_request[0]["content"]  # the fork's own root
