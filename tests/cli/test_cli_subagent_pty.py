"""A sub-agent in ``agent chat`` on a pseudo-terminal: its current step live on
the spawn_agent line, its answer collapsed under the call when done, ``/tasks``
with a background child's step, and ``/cost`` the same after a resume (the
child's cost is journaled)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio

from agentcore.store import JournalStore
from fakes.llm_server import FakeServer, RecordedRequest, Reply, sse_reply
from fakes.vendor_wire import OA_DONE, OA_ROLE, oa_chunk, oa_tool_args, oa_tool_start, oa_usage

PROMPT = "› "
REVIEWER_MARK = "You are reviewing code"  # the shipped reviewer profile's prompt
ANSWER_LINES = [f"Finding {i}: app.py line {i} deserves a second look." for i in range(1, 11)]


def text_reply(*parts: str | object) -> Reply:
    """Streamed text; an async callable among the parts is awaited there (a hold)."""
    chunks = [p if callable(p) else oa_chunk({"content": p}) for p in parts]
    return sse_reply(OA_ROLE, *chunks, oa_chunk({}, finish="stop"), oa_usage(1200, 40), OA_DONE)


def tool_reply(call_id: str, name: str, args: dict) -> Reply:
    return sse_reply(
        oa_chunk({"role": "assistant", "content": None}),
        oa_tool_start(0, call_id, name),
        oa_tool_args(0, json.dumps(args)),
        oa_chunk({}, finish="tool_calls"),
        oa_usage(1500, 30),
        OA_DONE,
    )


def system_of(request: RecordedRequest) -> str:
    first = request.json()["messages"][0]
    return first["content"] if first["role"] == "system" and isinstance(first["content"], str) else ""


def last_of(request: RecordedRequest) -> dict:
    return request.json()["messages"][-1]


@pytest.fixture
def workdir(workdir: Path) -> Path:
    (workdir / "app.py").write_text("def divide(a, b):\n    return a / b\n")
    return workdir


@pytest.fixture
def spawn(spawn):
    return lambda *args: spawn("--profile", "coder", *args)


async def test_chat_shows_a_sub_agents_step_live_then_its_answer_collapsed_and_cost_survives_resume(
    spawn, server: FakeServer, tmp_path: Path
) -> None:
    release_answer = trio.Event()
    release_background = trio.Event()

    async def hold_answer() -> None:
        await release_answer.wait()

    async def hold_background() -> None:
        await release_background.wait()

    def respond(request: RecordedRequest) -> Reply:
        last = last_of(request)
        if REVIEWER_MARK in system_of(request):
            if last["role"] == "user" and last["content"].startswith("Background"):
                return text_reply(hold_background, "late")
            if last["role"] == "user":
                return tool_reply("child_read", "read_file", {"path": "app.py"})
            return text_reply(ANSWER_LINES[0] + "\n", hold_answer, "\n".join(ANSWER_LINES[1:]))
        if last["role"] == "tool":
            return text_reply("Noted.")
        if last["content"] == "review app.py":
            return tool_reply("call_review", "spawn_agent", {"profile": "reviewer", "task": "Review app.py"})
        if last["content"] == "review in the background":
            return tool_reply(
                "call_bg", "spawn_agent", {"profile": "reviewer", "task": "Background review", "run_in_background": True}
            )
        return text_reply("ok")

    server.respond_with(respond)
    agent = spawn()
    await agent.expect(PROMPT)

    # 1. While the child writes, its step is on the spawn_agent line.
    agent.send("review app.py\r")
    await agent.expect("writing: Finding 1: app.py line 1")
    release_answer.set()
    # 2. Done: the answer under the call, collapsed with a count, then the footer.
    block = await agent.expect("[reviewer sub-agent: end_turn")
    assert "✓" in block and "reviewer agent: Review app.py" in block
    assert ANSWER_LINES[0] in block and ANSWER_LINES[2] in block and ANSWER_LINES[9] in block
    assert ANSWER_LINES[4] not in block
    assert "… 4 more lines (Ctrl-O to expand)" in block
    await agent.expect("Noted.")
    await agent.expect(PROMPT)
    # ... and the whole answer on demand.
    agent.send("/expand\r")
    await agent.expect("reviewer agent: Review app.py · 10 lines")
    whole = await agent.expect(ANSWER_LINES[9])
    assert all(line in whole for line in ANSWER_LINES[:9])
    await agent.expect(PROMPT)

    # 3. A background child: /tasks shows what it is doing now.
    agent.send("review in the background\r")
    await agent.expect("Noted.")
    await agent.expect(PROMPT)
    agent.send("/tasks\r")
    await agent.expect("sub_agent_1  running")
    line = await agent.expect("model requests, 0 tool calls)")
    assert "step: waiting for" in line

    # 4. /cost, then the same after a resume: the children's cost was journaled.
    agent.send("/cost\r")
    await agent.expect("session cost ")
    before = (await agent.expect("\n")).strip()
    assert before not in ("$0.0000", "")
    agent.send("/exit\r")
    assert await agent.wait_exit() == 0

    rows = JournalStore(tmp_path / "home" / "state" / "sessions").list_sessions()
    row = max(rows, key=lambda r: r.message_count)  # the chat's session (children are not resumed)
    resumed = spawn("--resume", row.id)
    await resumed.expect(PROMPT)
    resumed.send("/cost\r")
    await resumed.expect("session cost ")
    after = (await resumed.expect("\n")).strip()
    assert after == before
    # The child's answer is in the journal: it is the spawn_agent call's result.
    journal = (tmp_path / "home" / "state" / "sessions" / row.id / "journal.jsonl").read_text()
    assert ANSWER_LINES[9] in journal
    resumed.send("/exit\r")
    assert await resumed.wait_exit() == 0
