"""``agent chat`` end to end: a real process on a pseudo-terminal, talking to
a loopback server that speaks the OpenAI streaming wire format."""

from __future__ import annotations

import json
import os
from pathlib import Path

from cli_support import agent_env
from fakes.llm_server import FakeServer, sse_reply
from fakes.vendor_wire import OA_DONE, OA_ROLE, oa_chunk, oa_tool_args, oa_tool_start, oa_usage

PROMPT = "› "


def text_reply(*parts: str):
    return sse_reply(OA_ROLE, *(oa_chunk({"content": p}) for p in parts), oa_chunk({}, finish="stop"), oa_usage(1200, 20), OA_DONE)


def bash_call(call_id: str, command: str):
    args = json.dumps({"command": command})
    return sse_reply(
        oa_chunk({"role": "assistant", "content": None}),
        oa_tool_start(0, call_id, "bash"),
        oa_tool_args(0, args[:10]),
        oa_tool_args(0, args[10:]),
        oa_chunk({}, finish="tool_calls"),
        oa_usage(1500, 30),
        OA_DONE,
    )


def tool_result_text(request_body: dict) -> str:
    return [m["content"] for m in request_body["messages"] if m["role"] == "tool"][-1]


async def test_chat_streams_answers_asks_permission_cancels_and_exits(
    spawn, server: FakeServer, workdir: Path, tmp_path: Path
) -> None:
    agent = spawn()
    await agent.expect("using openai/")
    await agent.expect(PROMPT)

    # 1. a streamed answer
    server.enqueue(text_reply("Hello ", "from the **loopback** ", "server."))
    agent.send("say hello\r")
    shown = await agent.expect("server.")
    assert "Hello from the loopback" in shown + "server."
    await agent.expect(PROMPT)
    assert server.requests[0].json()["messages"][-1] == {"role": "user", "content": "say hello"}

    # 2. a permission prompt answered with y: the command runs
    server.enqueue(bash_call("call_yes", "echo ran-$((40+2))"), text_reply("done-yes"))
    agent.send("run it\r")
    await agent.expect("Allow")
    await agent.expect("[a] always (adds rule bash(echo *): `echo` with any arguments)")  # the rule, then what it admits
    agent.send("y")
    await agent.expect("allowed once")
    await agent.expect("exit 0")
    await agent.expect("done-yes")
    await agent.expect(PROMPT)
    assert "ran-42" in tool_result_text(server.requests[2].json())

    # 3. answered with n: the model is told the user declined
    server.enqueue(bash_call("call_no", "rm -rf build"), text_reply("done-no"))
    agent.send("clean up\r")
    await agent.expect("Allow")
    agent.send("n")
    await agent.expect("denied once")
    await agent.expect("done-no")
    await agent.expect(PROMPT)
    assert "declined" in tool_result_text(server.requests[4].json())

    # 4. Ctrl-C cancels a turn whose stream hangs, and the prompt comes back
    server.enqueue(sse_reply(OA_ROLE, oa_chunk({"content": "partial answer"}), end="hang"))
    agent.send("take your time\r")
    await agent.expect("partial answer")
    agent.send(b"\x03")
    await agent.expect("turn cancelled")
    await agent.expect(PROMPT)
    await server.requests[5].disconnected.wait()  # the HTTP stream was really closed

    # 5. /context shows the bar and the breakdown
    agent.send("/context\r")
    await agent.expect("system prompt")
    await agent.expect("tool schemas")
    await agent.expect(PROMPT)

    # 6. /exit leaves with status 0 and the input history is kept
    agent.send("/exit\r")
    assert await agent.wait_exit() == 0
    history = (tmp_path / "home" / "state" / "input_history").read_text().splitlines()
    assert [json.loads(line) for line in history][:2] == ["say hello", "run it"]


async def test_allow_always_shows_the_rule_and_where_then_ctrl_c_twice_exits(
    spawn, server: FakeServer, workdir: Path, fake_key: str
) -> None:
    agent = spawn()
    await agent.expect(PROMPT)
    server.enqueue(bash_call("call_a", "git status --short"), text_reply("ok"))
    agent.send("status?\r")
    await agent.expect("Allow")
    agent.send("a")
    line = await agent.expect("\n")  # the rest of the explanation line
    line = await agent.expect("config.local.toml")
    assert "bash(git status *)" in line
    await agent.expect(PROMPT)
    assert 'bash(git status *)' in (workdir / ".agent" / "config.local.toml").read_text()
    agent.send(b"\x03")  # Ctrl-C twice on an empty prompt leaves
    await agent.expect("press Ctrl-C again")
    agent.send(b"\x03")
    assert await agent.wait_exit() == 0

    # A second process (unattended, where an ask would be a deny) runs the command:
    # the rule was remembered across processes.
    import trio

    from pty_driver import AGENT as AGENT_BIN

    server.enqueue(bash_call("call_b", "git status"), text_reply("clean"))
    env = agent_env(workdir.parent, server, fake_key, terminal=True)
    done = await trio.run_process(
        [str(AGENT_BIN), "run", "-p", "status again?", "--format", "json"],
        cwd=workdir, env=env, capture_stdout=True, capture_stderr=True, check=False,
    )
    result = json.loads(done.stdout.decode().splitlines()[-1])
    assert done.returncode == 0 and result["unattended_denials"] == 0, done.stderr.decode()
    assert "Permission denied" not in json.dumps(server.requests[-1].json()["messages"])


async def test_resuming_a_session_another_process_holds_names_the_holder(spawn, server: FakeServer, tmp_path: Path) -> None:
    """It used to end in a traceback; now one line names who holds it, and chat exits."""
    import socket

    from agentcore.store import JournalStore
    from agentcore.store.files import SessionLock

    server.enqueue(text_reply("remembered"))
    first = spawn()
    await first.expect("› ")
    first.send("remember this\r")
    await first.expect("remembered")
    first.send("/exit\r")
    assert await first.wait_exit() == 0
    sessions = tmp_path / "home" / "state" / "sessions"
    [row] = JournalStore(sessions).list_sessions()
    held = SessionLock.acquire(sessions / row.id / "lock", row.id)  # as another process holding it would
    try:
        second = spawn("--resume", row.id)
        code = await second.wait_exit()
    finally:
        held.release()
    output = second.text
    assert code != 0 and "Traceback" not in output
    assert "already open for writing" in output and f"by process {os.getpid()}" in output
    assert socket.gethostname() in output


async def test_resume_takes_a_unique_prefix_and_names_an_unknown_one(spawn, server: FakeServer, tmp_path: Path) -> None:
    from agentcore.store import JournalStore

    server.enqueue(text_reply("first answer"))
    first = spawn()
    await first.expect("› ")
    first.send("hello there\r")
    await first.expect("first answer")
    first.send("/exit\r")
    assert await first.wait_exit() == 0
    [row] = JournalStore(tmp_path / "home" / "state" / "sessions").list_sessions()
    resumed = spawn("--resume", row.id[:10])
    await resumed.expect(f"resumed session {row.id}")
    resumed.send("/exit\r")
    assert await resumed.wait_exit() == 0
    unknown = spawn("--resume", "sess_nope")
    assert await unknown.wait_exit() == 2
    assert "no session 'sess_nope'" in unknown.text and "Traceback" not in unknown.text
