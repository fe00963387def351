"""``agent chat`` with piped input (one prompt or command per line, plain
output): the slash commands and resuming, against the offline echo model."""

from __future__ import annotations

from pathlib import Path

from cli_support import agent_env, run_agent


async def chat(tmp_path: Path, lines: str, *args: str) -> tuple[int, str]:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    env = agent_env(tmp_path) | {"AGENTCORE_PROVIDER": "echo"}
    done = await run_agent(work, env, "chat", *args, stdin=lines.encode(), timeout=30)
    return done.returncode, done.stdout.decode() + done.stderr.decode()


async def test_slash_commands_in_plain_mode_then_continue(tmp_path: Path) -> None:
    code, out = await chat(tmp_path, "echo this please\n/mode accept-edits\n/mode bogus\n/model\n/cost\n/tasks\n"
                                     "/compact\n/mcp\n/sessions\n/nope\n/fork\n/clear\n/exit\nnever sent\n")
    assert code == 0, out
    assert "offline echo model" in out and "using echo/echo" in out
    assert "echo this please" in out.split("using echo/echo", 1)[1]  # the streamed answer
    assert "mode → accept-edits" in out
    assert "unknown mode 'bogus'" in out
    assert "session cost $0.0000" in out
    assert "no background tasks" in out
    assert "nothing to compact yet" in out or "compact" in out
    assert "no MCP servers" in out
    assert "echo this please" in out.split("/sessions", 1)[-1] or "(current)" in out
    assert "unknown command /nope" in out
    assert "forked sess_" in out and "new session sess_" in out
    assert "never sent" not in out.split("unknown command /nope", 1)[1]  # /exit stopped reading

    code, out = await chat(tmp_path, "/context\n", "--continue")
    assert code == 0, out
    assert "resumed session" in out and "system prompt" in out
