"""Steering ``agent chat`` the way Claude Code users do, end to end: a real
process on a pseudo-terminal and a loopback model. Esc interrupts a turn;
Shift-Tab cycles into plan mode, where nothing is written until the plan is
approved; long tool output is collapsed with a count and Ctrl-O / ``/expand``
shows it whole; a resumed session shows its last exchanges and its real
context usage at once. Plus ``agent run --mode plan``: the plan is the result."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import trio

from agentcore.permissions import PLAN_REJECTED

from cli_support import agent_env, trust
from fakes.llm_server import FakeServer, sse_reply
from fakes.vendor_wire import OA_DONE, OA_ROLE, oa_chunk, oa_tool_args, oa_tool_start, oa_usage
from pty_driver import AGENT

PROMPT = "› "
PLAN = "1. Create notes.txt saying hello.\n2. Read it back."
ESC, SHIFT_TAB, RIGHT, CTRL_O = b"\x1b", b"\x1b[Z", b"\x1b[C", b"\x0f"


def text_reply(text: str):
    return sse_reply(OA_ROLE, oa_chunk({"content": text}), oa_chunk({}, finish="stop"), oa_usage(900, 5), OA_DONE)


def tool_call(call_id: str, name: str, args: dict):
    return sse_reply(oa_chunk({"role": "assistant", "content": None}), oa_tool_start(0, call_id, name),
                     oa_tool_args(0, json.dumps(args)), oa_chunk({}, finish="tool_calls"), oa_usage(950, 3), OA_DONE)  # fmt: skip


def bash(call_id: str, command: str):
    return tool_call(call_id, "bash", {"command": command})


WRITES = [  # every way in that a model might try while planning
    ("w1", "write_file", {"path": "notes.txt", "content": "pwned\n"}),
    ("w2", "edit_file", {"path": "app.py", "edits": [{"old_string": "x = 1", "new_string": "x = 2"}]}),
    ("w3", "bash", {"command": "echo pwned > pwned.txt"}),
    ("w4", "bash", {"command": "git add -A && git commit -qm pwned"}),
]


def tool_messages(request) -> list[str]:
    return [m["content"] for m in request.json()["messages"] if m["role"] == "tool"]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    work = tmp_path / "project"
    work.mkdir()
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    (work / "app.py").write_text("x = 1\n")
    trust(tmp_path / "home", work)
    return work


def untouched(workdir: Path) -> None:
    assert not (workdir / "notes.txt").exists() and not (workdir / "pwned.txt").exists()
    assert (workdir / "app.py").read_text() == "x = 1\n"
    log = subprocess.run(["git", "-C", str(workdir), "log", "--oneline"], capture_output=True, text=True)
    assert log.stdout == ""


async def test_esc_cancels_a_turn_keeps_the_partial_answer_and_an_arrow_key_is_not_esc(spawn, server: FakeServer) -> None:
    agent = spawn()
    await agent.expect(PROMPT)
    server.enqueue(sse_reply(OA_ROLE, oa_chunk({"content": "partial answer"}), end="hang"))
    agent.send("take your time\r")
    await agent.expect("partial answer")
    agent.send(ESC)
    await agent.expect("turn cancelled")
    await agent.expect(PROMPT)
    await server.requests[0].disconnected.wait()  # the stream was really closed

    # An arrow key (ESC [ C) during a permission question is not Esc: the answer after it counts.
    server.enqueue(bash("call_1", "echo still-here"), text_reply("after"))
    agent.send("run it\r")
    await agent.expect("Allow")
    agent.send(RIGHT)  # left for the prompt, where it moves nothing
    agent.send("y")
    await agent.expect("allowed once")
    await agent.expect("after")
    await agent.expect(PROMPT)
    assert "partial answer" in json.dumps(server.requests[1].json()["messages"])  # kept, as Ctrl-C keeps it
    assert "still-here" in tool_messages(server.requests[2])[-1]

    # Esc at the prompt clears nothing: the text typed before it is sent (Shift-Tab shows the keys arrived).
    server.enqueue(text_reply("got it"))
    agent.send("keep this")
    agent.send(ESC + SHIFT_TAB)
    await agent.expect("mode → accept-edits")
    agent.send("\r")
    await agent.expect("got it")
    assert server.requests[3].json()["messages"][-1] == {"role": "user", "content": "keep this"}


async def test_plan_mode_denies_every_write_then_the_approved_plan_unlocks_edits(
    spawn, server: FakeServer, workdir: Path
) -> None:
    agent = spawn()
    await agent.expect(PROMPT)
    agent.send(SHIFT_TAB)
    await agent.expect("mode → accept-edits")
    agent.send(SHIFT_TAB)
    await agent.expect("mode → plan")
    server.enqueue(
        *(tool_call(cid, name, args) for cid, name, args in WRITES),
        bash("r1", "cat app.py"),
        tool_call("p1", "exit_plan_mode", {"plan": PLAN}),
        text_reply("What should change?"),
    )
    agent.send("add notes\r")
    await agent.expect("Approve this plan?")
    await agent.expect("Read it back.")
    untouched(workdir)
    refusals = tool_messages(server.requests[5])[:4]
    assert len(refusals) == 4 and all("plan mode" in text for text in refusals)
    assert "x = 1" in tool_messages(server.requests[5])[4]  # a read-only command ran
    assert "exit_plan_mode" in json.dumps(server.requests[0].json()["tools"])
    agent.send("n")
    await agent.expect("plan not approved")
    await agent.expect("What should change?")
    await agent.expect(PROMPT)
    assert tool_messages(server.requests[6])[-1].endswith(PLAN_REJECTED)
    untouched(workdir)

    server.enqueue(
        tool_call("p2", "exit_plan_mode", {"plan": PLAN}),
        tool_call("e1", "write_file", {"path": "notes.txt", "content": "hello\n"}),
        text_reply("Done."),
    )
    agent.send("fine, go ahead\r")
    await agent.expect("Approve this plan?")
    agent.send("a")
    await agent.expect("plan approved: edits now run without asking")
    await agent.expect("mode → accept-edits")
    await agent.expect("Done.")
    await agent.expect(PROMPT)
    assert (workdir / "notes.txt").read_text() == "hello\n"  # no question: accept-edits
    assert "exit_plan_mode" not in json.dumps(server.requests[-1].json()["tools"])  # offered only in plan mode


async def test_long_tool_output_is_collapsed_with_a_count_and_ctrl_o_expands_it(spawn, server: FakeServer) -> None:
    agent = spawn("--mode", "yolo")
    await agent.expect(PROMPT)
    server.enqueue(bash("call_s", "seq 101 140"), text_reply("counted"))
    agent.send("count\r")
    shown = await agent.expect("… 34 more lines (Ctrl-O to expand)")
    assert "101" in shown and "103" in shown and "104" not in shown
    rest = await agent.expect("counted")
    assert "138" in rest and "140" in rest and "137" not in rest
    await agent.expect(PROMPT)
    agent.send(CTRL_O)
    await agent.expect("seq 101 140 · 40 lines")
    whole = await agent.expect("140")
    assert all(str(n) in whole for n in range(101, 140))
    agent.send("/expand 2\r")
    await agent.expect("only 1 collapsed output(s) to expand")


async def test_resume_shows_the_last_exchanges_and_the_real_context_usage(spawn, server: FakeServer) -> None:
    first = spawn("--mode", "yolo")
    await first.expect(PROMPT)
    server.enqueue(bash("call_r", "echo hi-there"), text_reply("The first answer, in full."))
    first.send("first question\r")
    await first.expect("The first answer")
    await first.expect(PROMPT)
    first.send("/exit\r")
    assert await first.wait_exit() == 0

    resumed = spawn("--continue")
    await resumed.expect("resumed session")
    preview = await resumed.expect("\n──\n")  # the preview's closing rule, alone on its line
    assert "earlier in this session" in preview
    assert "› first question" in preview and "• bash echo hi-there" in preview
    assert "The first answer, in full." in preview
    status = await resumed.expect(PROMPT)
    used = re.search(r"context (\d+)% \(([\d.]+k?)/", status)
    assert used is not None, status
    assert used.group(2) != "0"  # counted from the restored history, not 0 until the next answer


async def test_agent_run_in_plan_mode_prints_the_plan_and_changes_nothing(
    server: FakeServer, workdir: Path, tmp_path: Path, fake_key: str
) -> None:
    env = agent_env(tmp_path, server, fake_key, terminal=True)
    for fmt in ("json", "text"):
        server.enqueue(
            *(tool_call(cid, name, args) for cid, name, args in WRITES),
            tool_call("p1", "exit_plan_mode", {"plan": PLAN}),
            text_reply("The plan is ready for review."),
        )
        done = await trio.run_process(
            [str(AGENT), "run", "--mode", "plan", "-p", "add notes", "--format", fmt],
            cwd=workdir, env=env, capture_stdout=True, capture_stderr=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr.decode()
        untouched(workdir)
        if fmt == "json":
            result = json.loads(done.stdout.decode().splitlines()[-1])
            assert result["plan"] == PLAN and result["unattended_denials"] == 0
            assert result["text"] == "The plan is ready for review."
        else:
            assert done.stdout.decode().startswith(PLAN + "\n\n")
        refusals = tool_messages(server.requests[-1])
        assert all("plan mode" in text for text in refusals[:4])
        assert "nobody is here to approve it" in refusals[4]
