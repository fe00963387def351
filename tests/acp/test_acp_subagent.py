"""A sub-agent seen from an editor: the real ``agent acp`` (in its own process,
the shipped coder and reviewer profiles) against the loopback LLM. The child's
progress is ``tool_call_update`` text content on the parent's spawn_agent call
(its tool calls as readable lines, its streamed text), and its final answer is
the content of the completed update. Every line is checked against the schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import trio

from acp_peer import Peer
from acp_schema import AgentTranscriptChecker
from fakes.llm_server import FakeServer, RecordedRequest, Reply, sse_reply
from fakes.vendor_wire import OA_DONE, OA_ROLE, oa_chunk, oa_tool_args, oa_tool_start, oa_usage

AGENT = Path(sys.executable).parent / "agent"
REVIEWER_MARK = "You are reviewing code"  # the shipped reviewer profile's prompt
ANSWER = "\n".join(f"Finding {i}: app.py line {i} needs care." for i in range(1, 8))
EXIT_TIMEOUT_S = 15.0
READ_TIMEOUT_S = 30.0  # a whole agent process starts behind the first answer


def text_reply(text: str) -> Reply:
    return sse_reply(OA_ROLE, oa_chunk({"content": text}), oa_chunk({}, finish="stop"), oa_usage(900, 60), OA_DONE)


def tool_reply(call_id: str, name: str, args: dict[str, Any]) -> Reply:
    return sse_reply(
        OA_ROLE,
        oa_tool_start(0, call_id, name),
        oa_tool_args(0, json.dumps(args)),
        oa_chunk({}, finish="tool_calls"),
        oa_usage(1000, 20),
        OA_DONE,
    )


def respond(request: RecordedRequest) -> Reply:
    messages = request.json()["messages"]
    system = messages[0]["content"] if messages[0]["role"] == "system" else ""
    last = messages[-1]
    if REVIEWER_MARK in str(system):
        if last["role"] == "user":
            return tool_reply("child_read", "read_file", {"path": "app.py"})
        return text_reply(ANSWER)
    if last["role"] == "tool":
        return text_reply("The reviewer answered.")
    return tool_reply("call_review", "spawn_agent", {"profile": "reviewer", "task": "Review app.py"})


async def test_the_childs_progress_and_answer_are_the_spawn_agent_calls_content(
    server: FakeServer, tmp_path: Path, workspace: Path
) -> None:
    (workspace / "app.py").write_text("def divide(a, b):\n    return a / b\n")
    server.respond_with(respond)
    env = {
        "AGENTCORE_HOME": str(tmp_path / "home"),
        "HOME": str(tmp_path),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "OLLAMA_HOST": "127.0.0.1:9",  # nothing listens there
        "OPENAI_API_KEY": "sk-test-acp-subagent-0123456789",
        "OPENAI_BASE_URL": f"{server.url}/v1",
    }
    with (tmp_path / "agent.stderr").open("wb") as stderr:
        process = await trio.lowlevel.open_process(
            [str(AGENT), "acp", "--no-bridge", "--profile", "coder"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=workspace,
            env=env,
        )
        try:
            assert process.stdin is not None and process.stdout is not None
            peer = Peer(
                trio.StapledStream(process.stdin, process.stdout),
                checker=AgentTranscriptChecker(),
                read_timeout_s=READ_TIMEOUT_S,
            )
            await peer.request("initialize", {"protocolVersion": 1, "clientCapabilities": {}})
            created = await peer.request("session/new", {"cwd": str(workspace), "mcpServers": []})
            session_id = created["result"]["sessionId"]
            reply = await peer.request(
                "session/prompt", {"sessionId": session_id, "prompt": [{"type": "text", "text": "review app.py"}]}
            )
            assert reply["result"]["stopReason"] == "end_turn"
            await process.stdin.aclose()
            with trio.fail_after(EXIT_TIMEOUT_S):
                await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()

    updates = [
        n["params"]["update"]
        for n in peer.notifications
        if n.get("method") == "session/update" and n["params"]["update"].get("toolCallId") == "call_review"
    ]
    assert updates[0]["sessionUpdate"] == "tool_call" and updates[0]["title"] == "reviewer agent: Review app.py"
    *running, done = updates
    assert done["status"] == "completed"
    # While it ran: the child's tool call as lines, and its streamed text, as text content.
    progress = [
        block["content"]["text"]
        for update in running
        if update.get("status") in (None, "in_progress")
        for block in update.get("content") or []
        if block.get("type") == "content"
    ]
    assert progress, updates
    shown = progress[-1]  # each update carries the whole output so far
    assert "→ " in shown and "app.py" in shown.split("→ ", 1)[1].splitlines()[0]
    assert "  ✓ read_file (" in shown
    assert "Finding 7: app.py line 7 needs care." in shown
    # Done: the answer is the completed update's content.
    final = "".join(block["content"]["text"] for block in done["content"] if block.get("type") == "content")
    assert final.startswith(ANSWER)
    assert "[reviewer sub-agent: end_turn · 2 model requests" in final
