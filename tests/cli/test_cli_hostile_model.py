"""A model that sends tool arguments nested far deeper than anything sane (500
levels used to crash `agent run` with a RecursionError in freeze_json): the
real `agent run` process answers, the model is told to retry with flatter
arguments, no traceback reaches the user and the session loads afterwards."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import trio

from agentcore.config.paths import resolve_paths
from agentcore.store import JournalStore
from agentcore.trust import TrustStore
from fakes.llm_server import FakeServer, sse_reply
from fakes.vendor_wire import OA_DONE, OA_ROLE, oa_chunk, oa_tool_args, oa_tool_start, oa_usage

AGENT = Path(sys.executable).parent / "agent"
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
    TrustStore.of(resolve_paths({"AGENTCORE_HOME": str(home)})).trust(work, home=None)
    server.enqueue(deep_call(), text("I will use flatter arguments."))
    env = {"AGENTCORE_HOME": str(home), "HOME": str(tmp_path), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "OPENAI_API_KEY": "sk-test-deep-0123456789", "OPENAI_BASE_URL": f"{server.url}/v1"}  # fmt: skip
    with trio.fail_after(60):
        done = await trio.run_process([str(AGENT), "run", "-p", "read it", "--format", "json"], cwd=work, env=env,
                                      capture_stdout=True, capture_stderr=True, check=False)  # fmt: skip
    stderr = done.stderr.decode()
    assert done.returncode == 0, stderr
    assert "Traceback" not in stderr and "RecursionError" not in stderr
    result = json.loads(done.stdout)
    assert result["text"] == "I will use flatter arguments."
    tool_messages = [m for m in server.requests[1].json()["messages"] if m["role"] == "tool"]
    assert "nested more than" in tool_messages[0]["content"] and "flatter arguments" in tool_messages[0]["content"]
    JournalStore(home / "state" / "sessions").load(result["session_id"])  # the session still loads
