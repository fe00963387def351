"""``agent serve --log-format json``: stderr carries one JSON object a line, a
prompt's lines name its session, and no secret (the server's token, the
provider's API key) reaches any line — at debug level too."""

from __future__ import annotations

import json
from pathlib import Path

import trio
from serve_support import (
    client_config,
    llm_server,
    provider_args,
    run_sdk_client,
    running_server,
    serve_argv,
    serve_env,
    step,
    text_reply,
)

API_KEY = "sk-interop-test"  # what serve_env gives the server for the loopback LLM


async def test_json_lines_name_the_session_and_hold_no_secret(serve_dirs: dict[str, Path]) -> None:
    async with llm_server.open_fake_server() as llm:
        llm.enqueue(text_reply("logged", " reply"))
        env = serve_env(serve_dirs["home"], llm.url, AGENTCORE_LOG="debug")
        assert env["OPENAI_API_KEY"] == API_KEY
        args = (*provider_args(llm.url), "--log-format", "json")
        async with running_server(serve_dirs["home"], *args, env=env, cwd=serve_dirs["work"]) as server:
            token = server.token
            for transport in ("http", "ws"):  # the token travels in a header on both
                config = client_config(server, transport=transport, scenario="prompt", cwd=serve_dirs["work"],
                                       transcript=serve_dirs["transcript"], prompt="say it")  # fmt: skip
                if transport == "ws":
                    llm.enqueue(text_reply("again"))
                events = await run_sdk_client(config, cwd=serve_dirs["work"])
                assert step(events, "prompt")["stopReason"] == "end_turn"
            session_ids = [e["sessionId"] for e in events if e.get("step") == "session"]
        stderr = server.stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "the server logged nothing at debug level"
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"ts", "level", "logger", "msg", "session_id", "job_id"} <= set(r) for r in records)
    prompted = [r for r in records if r["msg"] == "prompt started"]
    assert len(prompted) == 2 and prompted[-1]["session_id"] == session_ids[-1]
    assert any(r["msg"].startswith("prompt ended") and r["session_id"] == session_ids[-1] for r in records)
    assert token and token not in stderr
    assert API_KEY not in stderr


async def test_an_unknown_log_format_is_one_line(serve_dirs: dict[str, Path]) -> None:
    env = serve_env(serve_dirs["home"])
    done = await trio.run_process(serve_argv("--log-format", "xml", "--provider", "echo"), env=env,
                                  cwd=serve_dirs["work"], capture_stdout=True, capture_stderr=True, check=False)  # fmt: skip
    assert done.returncode == 2 and b"Traceback" not in done.stderr
    assert b"--log-format" in done.stderr and b"'xml'" in done.stderr
