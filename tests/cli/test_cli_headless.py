"""``agent run``: output formats, exit codes and the stdin prompt, against a
loopback server speaking the OpenAI streaming wire format."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import httpx
import pytest
import trio

from agentcore.app import build_app
from agentcore.frontend import Frontend
from agentcore.cli.event_json import EVENT_TYPES
from agentcore.cli.headless import (
    EXIT_CANCELLED,
    EXIT_DENIED,
    EXIT_ERROR,
    EXIT_MAX_TOKENS,
    EXIT_MAX_TURN_REQUESTS,
    EXIT_OK,
    EXIT_REFUSAL,
    PromptError,
    read_prompt,
    run_prompt,
)
from cli_support import agent_env
from fakes.llm_server import FakeServer, json_reply, open_fake_server, sse_reply
from fakes.vendor_wire import OA_DONE, OA_ROLE, oa_chunk, oa_tool_args, oa_tool_start, oa_usage
from pty_driver import AGENT

FAKE_KEY = "sk-test-headless-0123456789"


def reply(*parts: str, finish: str = "stop"):
    return sse_reply(OA_ROLE, *(oa_chunk({"content": p}) for p in parts), oa_chunk({}, finish=finish), oa_usage(1000, 10), OA_DONE)


def bash_call(command: str = "touch made-by-agent"):
    args = json.dumps({"command": command})
    return sse_reply(OA_ROLE, oa_tool_start(0, "call_1", "bash"), oa_tool_args(0, args), oa_chunk({}, finish="tool_calls"), oa_usage(1000, 10), OA_DONE)


@pytest.fixture
def client(http_client: httpx.AsyncClient) -> httpx.AsyncClient:
    return http_client  # the shared loopback client, under the name these tests use


def env_for(tmp_path: Path, server: FakeServer) -> dict[str, str]:
    return agent_env(tmp_path, server, FAKE_KEY)


@pytest.fixture
def work(work: Path) -> Path:
    """The shared trusted folder (untrusted folders: tests/trust), as a project root."""
    (work / ".git").mkdir()
    return work


async def run(tmp_path: Path, work: Path, server: FakeServer, client: httpx.AsyncClient, prompt: str, fmt: str, **flags) -> tuple[int, str, str]:
    app = build_app(cwd=work, env=env_for(tmp_path, server), flags=flags, frontend=Frontend.cli(), http_client=client)
    out, err = io.StringIO(), io.StringIO()
    code = await run_prompt(app, prompt, fmt=fmt, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


async def test_text_format_answer_on_stdout_notice_on_stderr(tmp_path, work, server, client) -> None:
    server.enqueue(reply("The answer ", "is 42."))
    code, out, err = await run(tmp_path, work, server, client, "what is it?", "text")
    assert code == EXIT_OK
    assert out == "The answer is 42.\n"
    assert "using openai/" in err and "OPENAI_API_KEY" in err
    assert FAKE_KEY not in out + err


async def test_json_format_is_one_result_object(tmp_path, work, server, client) -> None:
    server.enqueue(reply("done"))
    code, out, _ = await run(tmp_path, work, server, client, "go", "json")
    result = json.loads(out)
    assert code == EXIT_OK and out.count("\n") == 1
    assert result["type"] == "result" and result["text"] == "done" and result["stop_reason"] == "end_turn"
    assert result["usage"]["input_tokens"] == 1000 and result["usage"]["output_tokens"] == 10
    assert result["session_id"].startswith("sess_") and result["cost_usd"] >= 0 and result["exit_code"] == 0


async def test_stream_json_has_one_typed_event_per_line(tmp_path, work, server, client) -> None:
    server.enqueue(reply("a", "b"))
    code, out, _ = await run(tmp_path, work, server, client, "go", "stream-json")
    lines = [json.loads(line) for line in out.splitlines()]
    types = [line["type"] for line in lines]
    assert code == EXIT_OK
    assert types[0] == "session_started" and types[-1] == "result"
    assert set(types[1:-1]) <= set(EVENT_TYPES.values())
    deltas = [line for line in lines if line["type"] == "assistant_text_delta"]
    assert [d["text"] for d in deltas] == ["a", "b"] and all(d["turn_id"] for d in deltas)
    ended = next(line for line in lines if line["type"] == "turn_ended")
    assert ended["stop_reason"] == "end_turn" and ended["usage"]["output_tokens"] == 10
    committed = next(line for line in lines if line["type"] == "prompt_committed")
    assert committed["message"]["content"] == [{"type": "text", "text": "go"}]


async def test_an_ask_becomes_a_deny_and_exits_4(tmp_path, work, server, client) -> None:
    server.enqueue(bash_call(), reply("I could not run it."))
    code, out, err = await run(tmp_path, work, server, client, "make a file", "json")
    assert code == EXIT_DENIED
    assert json.loads(out)["unattended_denials"] == 1
    assert not (work / "made-by-agent").exists()
    tool_message = [m for m in server.requests[1].json()["messages"] if m["role"] == "tool"][-1]
    assert "unattended" in tool_message["content"]


async def test_a_mode_that_allows_the_action_runs_it(tmp_path, work, server, client) -> None:
    server.enqueue(bash_call(), reply("made it"))
    code, out, _ = await run(tmp_path, work, server, client, "make a file", "text", mode="yolo")
    assert code == EXIT_OK and out == "made it\n"
    assert (work / "made-by-agent").exists()


@pytest.mark.parametrize(("finish", "expected"), [("length", EXIT_MAX_TOKENS), ("content_filter", EXIT_REFUSAL)])
async def test_stop_reasons_map_to_exit_codes(tmp_path, work, server, client, finish, expected) -> None:
    server.enqueue(reply("cut", finish=finish))
    code, out, _ = await run(tmp_path, work, server, client, "go", "json")
    assert code == expected and json.loads(out)["exit_code"] == expected


async def test_request_limit_exits_7(tmp_path, work, server, client) -> None:
    (work / ".agent").mkdir()
    (work / ".agent" / "config.toml").write_text("[turn]\nrequest_limit = 1\n")
    server.enqueue(bash_call("true"))
    code, out, _ = await run(tmp_path, work, server, client, "loop", "json", mode="yolo")
    assert code == EXIT_MAX_TURN_REQUESTS and json.loads(out)["stop_reason"] == "max_turn_requests"


async def test_provider_error_exits_1_with_the_message_on_stderr(tmp_path, work, server, client) -> None:
    server.enqueue(json_reply(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}))
    code, out, err = await run(tmp_path, work, server, client, "go", "text")
    assert code == EXIT_ERROR and out == ""
    assert "error:" in err and "API key" in err


def test_prompt_sources() -> None:
    assert read_prompt("inline", io.StringIO("ignored")) == "inline"
    assert read_prompt("-", io.StringIO("from stdin\n")) == "from stdin\n"
    with pytest.raises(PromptError):
        read_prompt("-", io.StringIO("   "))


async def test_the_console_script_reads_the_prompt_from_stdin_and_cancels_on_sigint(tmp_path, work, server) -> None:
    server.enqueue(reply("piped ok"))
    env = env_for(tmp_path, server)
    done = await trio.run_process(
        [str(AGENT), "run", "-p", "-", "--format", "json"], stdin=b"hello from a pipe", capture_stdout=True,
        capture_stderr=True, env=env, cwd=work, check=False,
    )
    assert done.returncode == EXIT_OK, done.stderr.decode()
    assert json.loads(done.stdout)["text"] == "piped ok"
    assert server.requests[0].json()["messages"][-1]["content"] == "hello from a pipe"

    server.enqueue(sse_reply(OA_ROLE, oa_chunk({"content": "slow"}), end="hang"))
    proc = await trio.lowlevel.open_process(
        [str(AGENT), "run", "-p", "wait", "--format", "stream-json"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=work,
    )
    seen = b""
    try:
        with trio.fail_after(15):
            while b"assistant_text_delta" not in seen:
                seen += await proc.stdout.receive_some(65536)
            proc.send_signal(2)  # SIGINT, as Ctrl-C in a shell
            while chunk := await proc.stdout.receive_some(65536):
                seen += chunk
            code = await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await proc.stdout.aclose()
    assert code == EXIT_CANCELLED
    assert json.loads(seen.decode().strip().splitlines()[-1])["stop_reason"] == "cancelled"


def goal_done_call(summary: str):
    args = json.dumps({"summary": summary})
    return sse_reply(OA_ROLE, oa_tool_start(0, "call_g", "goal_done"), oa_tool_args(0, args), oa_chunk({}, finish="tool_calls"), oa_usage(1000, 10), OA_DONE)


def test_goal_loop_reached_and_not_reached_exit_codes(tmp_path, work):
    """`agent run --goal` as a real process: 0 when goal_done is called, 6 at the cap."""
    async def scenario(replies, max_turns: int) -> subprocess.CompletedProcess:
        async with open_fake_server() as srv:
            srv.enqueue(*replies)
            env = env_for(tmp_path, srv)
            return await trio.run_process(
                [str(AGENT), "run", "--goal", "make the tests pass", "--max-turns", str(max_turns),
                 "--provider", "openai", "--model", "gpt-4o-mini", "--format", "json"],
                cwd=work, env=env, capture_stdout=True, capture_stderr=True, check=False,
            )

    reached = trio.run(scenario, [reply("working on it"), goal_done_call("all 12 tests pass"), reply("done")], 5)
    result = json.loads(reached.stdout.decode().splitlines()[-1])
    assert reached.returncode == 0, reached.stderr.decode()
    assert result["goal"]["reached"] and result["goal"]["summary"] == "all 12 tests pass"

    missed = trio.run(scenario, [reply("still trying"), reply("still trying")], 2)
    result = json.loads(missed.stdout.decode().splitlines()[-1])
    assert missed.returncode == 6, missed.stderr.decode()
    assert result["goal"] == {**result["goal"], "reached": False, "turns": 2, "stop": "max_turns"}


@pytest.mark.parametrize(
    ("provider", "model", "base_env", "key_env", "path"),
    [
        ("openai", "gpt-4o-mini", "OPENAI_BASE_URL", "OPENAI_API_KEY", "/v1/chat/completions"),
        ("anthropic", "claude-sonnet-4-5", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "/v1/messages"),
    ],
)
def test_agent_run_against_any_compatible_endpoint(tmp_path, work, provider, model, base_env, key_env, path):
    """`agent run -p hi --provider P --model M` as a real process, the endpoint named by *_BASE_URL."""
    from fakes.vendor_wire import an_text_message

    async def scenario() -> tuple[subprocess.CompletedProcess, list]:
        async with open_fake_server() as srv:
            parts = an_text_message("Hello ", "from the wire") if provider == "anthropic" else [
                OA_ROLE, oa_chunk({"content": "Hello "}), oa_chunk({"content": "from the wire"}),
                oa_chunk({}, finish="stop"), oa_usage(12, 4), OA_DONE]
            srv.enqueue(sse_reply(*parts))
            env = agent_env(tmp_path) | {key_env: FAKE_KEY, base_env: f"{srv.url}/v1" if provider == "openai" else srv.url}
            done = await trio.run_process(
                [str(AGENT), "run", "-p", "hi", "--provider", provider, "--model", model],
                cwd=work, env=env, capture_stdout=True, capture_stderr=True, check=False,
            )
            return done, list(srv.requests)

    done, requests = trio.run(scenario)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode() == "Hello from the wire\n"
    assert [r.path for r in requests] == [path]
    body = requests[0].json()
    assert body["model"] == model and body["stream"] is True
    assert FAKE_KEY in (requests[0].headers.get("authorization", "") + requests[0].headers.get("x-api-key", ""))
    assert FAKE_KEY not in done.stderr.decode()
