"""A model that sends tool arguments nested far deeper than anything sane (500
levels used to crash `agent run` with a RecursionError in freeze_json): the
real `agent run` process answers, the model is told to retry with flatter
arguments, no traceback reaches the user and the session loads afterwards."""

from __future__ import annotations

import json
from pathlib import Path

from agentcore.store import JournalStore
from cli_support import agent_env, run_agent, trust
from fakes.llm_server import FakeServer, sse_reply
from fakes.vendor_wire import OA_DONE, OA_ROLE, oa_chunk, oa_tool_args, oa_tool_start, oa_usage

DEPTH = 500


def deep_call() -> object:
    args = '{"path": ' + "[" * DEPTH + '"x"' + "]" * DEPTH + "}"
    return sse_reply(OA_ROLE, oa_tool_start(0, "call_deep", "read_file"), oa_tool_args(0, args),
                     oa_chunk({}, finish="tool_calls"), oa_usage(100, 10), OA_DONE)  # fmt: skip


def text(answer: str) -> object:
    return sse_reply(OA_ROLE, oa_chunk({"content": answer}), oa_chunk({}, finish="stop"), oa_usage(100, 5), OA_DONE)


async def test_deeply_nested_tool_arguments_get_an_error_result_not_a_crash(tmp_path: Path, server: FakeServer) -> None:
    work = tmp_path / "work"
    work.mkdir()
    home = tmp_path / "home"
    trust(home, work)
    server.enqueue(deep_call(), text("I will use flatter arguments."))
    env = agent_env(tmp_path, server, "sk-test-deep-0123456789")
    done = await run_agent(work, env, "run", "-p", "read it", "--format", "json")
    stderr = done.stderr.decode()
    assert done.returncode == 0, stderr
    assert "Traceback" not in stderr and "RecursionError" not in stderr
    result = json.loads(done.stdout)
    assert result["text"] == "I will use flatter arguments."
    tool_messages = [m for m in server.requests[1].json()["messages"] if m["role"] == "tool"]
    assert "nested more than" in tool_messages[0]["content"] and "flatter arguments" in tool_messages[0]["content"]
    JournalStore(home / "state" / "sessions").load(result["session_id"])  # the session still loads
