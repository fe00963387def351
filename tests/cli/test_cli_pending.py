"""Resumable turns and headless exit codes through the real `agent` process and
a loopback model: `agent run` is SIGKILLed while its bash tool runs; `agent run
--continue --format json` (no prompt) continues the cut-off turn — the model
receives the earlier messages plus an "interrupted: <command>" result for the
call that never finished — and the JSON result names the same session; a prompt
instead discards the pending turn, which `agent sessions show --full` still
shows; nothing to continue is one line and exit 1; argparse usage errors alone
exit 2; a goal not reached says so (6) even when actions were also denied."""

from __future__ import annotations

import json
import signal
import subprocess
from functools import partial
from pathlib import Path

import trio

from agentcore.cli.headless import EXIT_DENIED, EXIT_GOAL_NOT_REACHED, EXIT_MAX_TOKENS, EXIT_USAGE
from cli_support import WAIT_S, agent_env, run_agent
from fakes.llm_server import FakeServer, sse_reply
from fakes.proc_util import wait_until
from fakes.vendor_wire import OA_DONE, OA_ROLE, oa_chunk, oa_tool_stream, oa_usage
from pty_driver import AGENT

COMMAND = "touch started; sleep 30607; touch finished"


def reply(text: str):
    return sse_reply(OA_ROLE, oa_chunk({"content": text}), oa_chunk({}, finish="stop"), oa_usage(100, 5), OA_DONE)


def tool_call(call_id: str, name: str, args: dict):
    return sse_reply(*oa_tool_stream((call_id, name, json.dumps(args))))


def env_for(tmp_path: Path, server: FakeServer) -> dict[str, str]:
    return agent_env(tmp_path, server, "sk-test-pending-0123456789")


agent = partial(run_agent, stdin=subprocess.DEVNULL)  # agent(work, env, *args)


async def kill_mid_tool(work: Path, env: dict[str, str], prompt: str) -> None:
    """`agent run` until its bash command has started, then SIGKILL."""
    proc = await trio.lowlevel.open_process(
        [str(AGENT), "run", "-p", prompt, "--mode", "yolo", "--format", "stream-json"],
        cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=(work.parent / "killed-run.stderr").open("wb"),
    )
    try:
        await wait_until(lambda: (work / "started").exists(), WAIT_S)
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def sessions_dir(tmp_path: Path) -> Path:
    return tmp_path / "home" / "state" / "sessions"


async def test_a_killed_run_is_continued_by_run_continue_with_the_interrupted_result(tmp_path, work, server: FakeServer) -> None:
    env = env_for(tmp_path, server)
    server.enqueue(tool_call("call_1", "bash", {"command": COMMAND}), reply("Picked up after the crash."))
    await kill_mid_tool(work, env, "run the slow job")
    assert not (work / "finished").exists()
    [sid] = [p.name for p in sessions_dir(tmp_path).iterdir() if p.name.startswith("sess_")]

    shown = await agent(work, env, "sessions", "show", sid)
    assert b"pending" in shown.stdout and COMMAND.encode() in shown.stdout

    done = await agent(work, env, "run", "--continue", "--format", "json")
    assert done.returncode == 0, done.stderr.decode()
    result = json.loads(done.stdout)
    assert result["session_id"] == sid and result["text"] == "Picked up after the crash."
    assert result["stop_reason"] == "end_turn" and result["exit_code"] == 0 and result["saved"] is True
    messages = server.requests[-1].json()["messages"]
    assert [m["role"] for m in messages if m["role"] != "system"] == ["user", "assistant", "tool"]
    assert messages[1 if messages[0]["role"] == "system" else 0]["content"] == "run the slow job"
    tool = [m for m in messages if m["role"] == "tool"][0]
    assert tool["tool_call_id"] == "call_1" and f"interrupted: {COMMAND}" in tool["content"]
    assert b"cut off" in done.stderr  # the start-up notice says what happened and how it was resolved

    again = await agent(work, env, "run", "--resume", sid[:12], "--format", "json")  # nothing left to continue
    assert again.returncode == 1 and b"Traceback" not in again.stderr
    assert b"no interrupted turn" in again.stderr and json.loads(again.stdout)["is_error"] is True
    assert len(server.requests) == 2


async def test_a_prompt_discards_the_pending_turn_which_the_journal_keeps(tmp_path, work, server: FakeServer) -> None:
    env = env_for(tmp_path, server)
    server.enqueue(tool_call("call_1", "bash", {"command": COMMAND}), reply("Fresh start."))
    await kill_mid_tool(work, env, "the first job")
    [sid] = [p.name for p in sessions_dir(tmp_path).iterdir() if p.name.startswith("sess_")]

    done = await agent(work, env, "run", "--resume", sid, "-p", "something else", "--format", "stream-json")
    assert done.returncode == 0, done.stderr.decode()
    lines = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert any(line["type"] == "notice" and "discarded" in line["text"] for line in lines)
    assert lines[-1]["type"] == "result" and lines[-1]["session_id"] == sid
    sent = [m.get("content") for m in server.requests[-1].json()["messages"] if m["role"] != "system"]
    assert sent == ["something else"]  # the discarded turn is not sent

    full = await agent(work, env, "sessions", "show", sid, "--full")
    assert b"[interrupted]" in full.stdout and b"the first job" in full.stdout


async def test_usage_errors_exit_2_and_nothing_else_does(tmp_path, work, server: FakeServer) -> None:
    env = env_for(tmp_path, server)
    bad = await agent(work, env, "run", "--format", "yaml", "-p", "hi")
    assert bad.returncode == EXIT_USAGE == 2 and b"usage:" in bad.stderr
    empty = await agent(work, env, "run", "-p", "   ")
    assert empty.returncode == EXIT_USAGE and b"the prompt is empty" in empty.stderr
    assert EXIT_MAX_TOKENS != EXIT_USAGE
    server.enqueue(sse_reply(OA_ROLE, oa_chunk({"content": "cut"}), oa_chunk({}, finish="length"), oa_usage(10, 5), OA_DONE))
    capped = await agent(work, env, "run", "-p", "long answer", "--format", "json")
    assert capped.returncode == EXIT_MAX_TOKENS and json.loads(capped.stdout)["exit_code"] == EXIT_MAX_TOKENS
    assert not sessions_dir(tmp_path).exists() or len([p for p in sessions_dir(tmp_path).iterdir() if p.name.startswith("sess_")]) == 1


async def test_a_goal_not_reached_says_so_even_with_denials(tmp_path, work, server: FakeServer) -> None:
    env = env_for(tmp_path, server)
    # The model tries a write nobody can approve (denied, unattended), then never calls goal_done.
    server.enqueue(tool_call("call_w", "write_file", {"path": "x.txt", "content": "x"}), reply("could not write"),
                   reply("still stuck"))
    done = await agent(work, env, "run", "--goal", "write x.txt", "--max-turns", "2", "--format", "json")
    result = json.loads(done.stdout)
    assert result["unattended_denials"] >= 1 and result["goal"]["reached"] is False
    assert done.returncode == EXIT_GOAL_NOT_REACHED == result["exit_code"] != EXIT_DENIED


async def test_chat_resume_names_the_pending_turn_and_slash_continue_continues_it(tmp_path, work, server: FakeServer) -> None:
    from pty_driver import PtyAgent

    env = env_for(tmp_path, server)
    server.enqueue(tool_call("call_1", "bash", {"command": COMMAND}), reply("Continued in the chat."))
    await kill_mid_tool(work, env, "the chat job")
    chat = PtyAgent(["chat", "--continue"], env={**env, "TERM": "xterm-256color", "LANG": "C.UTF-8"}, cwd=work)
    try:
        await chat.expect("/continue")  # the start-up notice: cut off, and how to go on
        screen = " ".join(chat.text.split())  # the notice may wrap
        assert "cut off" in screen and "sleep 30607" in screen
        await chat.expect("› ")
        chat.send("/continue\r")
        await chat.expect("Continued in the chat.")
        await chat.expect("› ")
        chat.send("/continue\r")
        await chat.expect("nothing to continue")
        chat.send("/exit\r")
        assert await chat.wait_exit() == 0
    finally:
        chat.close()
    tool = [m for m in server.requests[-1].json()["messages"] if m["role"] == "tool"][0]
    assert f"interrupted: {COMMAND}" in tool["content"]


async def test_a_continued_turn_is_unattended_like_a_fresh_run(tmp_path, work, server: FakeServer) -> None:
    env = env_for(tmp_path, server)
    server.enqueue(tool_call("call_1", "bash", {"command": COMMAND}))
    await kill_mid_tool(work, env, "the job")
    # The killed run had --mode yolo; continued with --mode ask, the write nobody can approve is
    # denied, as in a fresh `agent run` (without --mode the session keeps the mode it had).
    server.enqueue(tool_call("call_w", "write_file", {"path": "out.txt", "content": "x"}), reply("Could not write."))
    done = await agent(work, env, "run", "--continue", "--mode", "ask")
    assert done.returncode == EXIT_DENIED, done.stderr.decode()
    assert done.stdout == b"Could not write.\n" and b"denied (unattended): write_file" in done.stderr
    assert not (work / "out.txt").exists()


async def test_a_session_run_in_yolo_is_not_continued_in_yolo_unless_asked_again(tmp_path, work, server: FakeServer) -> None:
    """A mode that skips questions is a grant for one invocation: continuing the
    session without --mode uses the configured mode (ask), so the write is denied,
    and says so; --mode yolo grants it again."""
    env = env_for(tmp_path, server)
    server.enqueue(tool_call("call_1", "bash", {"command": COMMAND}))
    await kill_mid_tool(work, env, "the job")  # run with --mode yolo
    server.enqueue(tool_call("call_w", "write_file", {"path": "out.txt", "content": "x"}), reply("Could not write."))
    done = await agent(work, env, "run", "--continue")
    assert done.returncode == EXIT_DENIED, done.stderr.decode()
    assert b"was in yolo mode" in done.stderr and not (work / "out.txt").exists()
    server.enqueue(tool_call("call_w2", "write_file", {"path": "out.txt", "content": "x"}), reply("Wrote it."))
    granted = await agent(work, env, "run", "--continue", "--mode", "yolo", "-p", "try again")
    assert granted.returncode == 0, granted.stderr.decode()
    assert (work / "out.txt").read_text() == "x"
