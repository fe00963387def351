"""Headless follow-ups and scriptable listings, through the real `agent`
process and a loopback model: `agent run --continue` and `--resume PREFIX`
continue a saved session (the model sees the earlier exchange, the JSON
result names the same session); an unknown or ambiguous id is one clear line;
`agent sessions list --json` is one object per line; piped listings never wrap."""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import agent_env
from cli_support import run_agent as agent  # agent(work, env, *args)
from fakes.llm_server import FakeServer, sse_reply
from fakes.vendor_wire import OA_DONE, OA_ROLE, oa_chunk, oa_usage


def reply(text: str):
    return sse_reply(OA_ROLE, oa_chunk({"content": text}), oa_chunk({}, finish="stop"), oa_usage(100, 5), OA_DONE)


def env_for(tmp_path: Path, server: FakeServer) -> dict[str, str]:
    return agent_env(tmp_path, server, "sk-test-followup-0123456789")


def contents(request) -> list[str]:
    return [m["content"] for m in request.json()["messages"] if m["role"] in ("user", "assistant")]


async def test_run_continue_and_resume_by_prefix_carry_the_conversation_on(tmp_path, work, server: FakeServer) -> None:
    env = env_for(tmp_path, server)
    server.enqueue(reply("Noted: 7."), reply("It was 7."), reply("Still 7."))
    first = await agent(work, env, "run", "-p", "remember the number 7", "--format", "json")
    assert first.returncode == 0, first.stderr.decode()
    sid = json.loads(first.stdout)["session_id"]

    follow = await agent(work, env, "run", "--continue", "-p", "which number?", "--format", "json")
    assert follow.returncode == 0, follow.stderr.decode()
    assert json.loads(follow.stdout)["session_id"] == sid and json.loads(follow.stdout)["text"] == "It was 7."
    assert contents(server.requests[1])[:3] == ["remember the number 7", "Noted: 7.", "which number?"]

    again = await agent(work, env, "run", "--resume", sid[:12], "-p", "and now?", "--format", "json")
    assert again.returncode == 0, again.stderr.decode()
    assert json.loads(again.stdout)["session_id"] == sid
    assert contents(server.requests[2])[-1] == "and now?" and "It was 7." in contents(server.requests[2])

    missing = await agent(work, env, "run", "--resume", "sess_nope", "-p", "hi")
    assert missing.returncode == 1 and b"Traceback" not in missing.stderr
    assert b"no session 'sess_nope'" in missing.stderr
    assert len(server.requests) == 3  # nothing was sent for the unknown session


async def test_sessions_list_as_json_and_piped_without_wrapping(tmp_path, work, server: FakeServer) -> None:
    env = env_for(tmp_path, server)
    title = "a rather long first prompt that would wrap a table at eighty columns in a pipe " * 2
    server.enqueue(reply("ok"))
    assert (await agent(work, env, "run", "-p", title.strip())).returncode == 0
    listed = await agent(work, env, "sessions", "list", "--json")
    [row] = [json.loads(line) for line in listed.stdout.decode().splitlines()]
    assert row["id"].startswith("sess_") and row["messages"] == 2 and row["live"] is False
    assert row["cwd"] == str(work.resolve()) or row["cwd"] == str(work)
    table = await agent(work, env, "sessions", "list")
    lines = [line for line in table.stdout.decode().splitlines() if line.strip()]
    assert len(lines) == 2 and row["id"] in lines[1]  # header + one row: no wrapping when piped
