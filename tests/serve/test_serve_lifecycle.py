"""agent serve's life: status and stop, --daemon, and what SIGTERM and SIGKILL
mid-turn leave behind (a cancelled turn in the journal; a session that loads
again in the next server)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from serve_support import (
    CLIENT_TIMEOUT_S,
    EXIT_TIMEOUT_S,
    SDK_CLIENT,
    Server,
    check_transcript,
    client_config,
    interop,
    llm_server,
    parse_ready,
    provider_args,
    read_line,
    run_sdk_client,
    running_server,
    serve_argv,
    serve_env,
    start_server,
    step,
    stop_server,
)

PARTIAL = "Half of the answer"


def _agent(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agentcore.cli.main", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


async def test_status_and_stop(serve_dirs: dict[str, Path]) -> None:
    env = serve_env(serve_dirs["home"])
    async with running_server(serve_dirs["home"], "--provider", "echo", env=env, cwd=serve_dirs["work"]) as server:
        status = await trio.to_thread.run_sync(lambda: _agent("serve", "status", env=env, cwd=serve_dirs["work"]))
        assert status.returncode == 0, status.stderr
        assert f"pid {server.proc.pid}" in status.stdout and server.url in status.stdout
        assert "0 live sessions" in status.stdout
        stop = await trio.to_thread.run_sync(lambda: _agent("serve", "stop", env=env, cwd=serve_dirs["work"]))
        assert stop.returncode == 0 and f"stopped (pid {server.proc.pid})" in stop.stdout
        with trio.fail_after(EXIT_TIMEOUT_S):
            assert await server.proc.wait() == 0
        assert not (serve_dirs["home"] / "run" / "serve.json").exists() and not server.socket.exists()
    after = _agent("serve", "status", env=env, cwd=serve_dirs["work"])
    assert after.returncode == 1 and "not running" in after.stdout


async def test_a_second_server_is_refused_while_one_runs(serve_dirs: dict[str, Path]) -> None:
    env = serve_env(serve_dirs["home"])
    async with running_server(serve_dirs["home"], "--provider", "echo", env=env, cwd=serve_dirs["work"]) as server:
        second = await trio.to_thread.run_sync(
            lambda: subprocess.run(serve_argv("--listen", "127.0.0.1:0", "--provider", "echo"), env=env,
                                   cwd=serve_dirs["work"], capture_output=True, text=True, timeout=60)  # fmt: skip
        )
        assert second.returncode == 2 and second.stdout == ""
        assert f"pid {server.proc.pid}" in second.stderr and "Traceback" not in second.stderr
        assert json.loads((serve_dirs["home"] / "run" / "serve.json").read_text())["pid"] == server.proc.pid


def test_daemon_returns_once_healthy_and_stop_ends_it(serve_dirs: dict[str, Path]) -> None:
    env = serve_env(serve_dirs["home"])
    started = subprocess.run(serve_argv("--daemon", "--listen", "127.0.0.1:0", "--provider", "echo"), env=env,
                             cwd=serve_dirs["work"], capture_output=True, text=True, timeout=90)  # fmt: skip
    state_file = serve_dirs["home"] / "run" / "serve.json"
    try:
        assert started.returncode == 0, started.stderr
        lines = started.stdout.splitlines()
        assert len(lines) == 1
        url, socket = parse_ready(lines[0])
        pid = json.loads(state_file.read_text())["pid"]
        assert os.getsid(pid) == pid  # its own session: no terminal, not in our process group
        health = httpx.get(url.removesuffix("/acp") + "/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        log = serve_dirs["home"] / "state" / "logs" / "serve.log"
        assert log.exists() and (log.stat().st_mode & 0o777) == 0o600
        stop = _agent("serve", "stop", env=env, cwd=serve_dirs["work"])
        assert stop.returncode == 0 and f"stopped (pid {pid})" in stop.stdout
        assert not state_file.exists() and socket is not None and not socket.exists()
    finally:
        if state_file.exists():  # the test failed with the daemon running: do not leave it behind
            os.kill(json.loads(state_file.read_text())["pid"], signal.SIGKILL)


def _hanging_reply() -> Any:
    """A streamed reply that stops after some text and never ends."""
    parts = [interop._chunk({"role": "assistant", "content": ""}), interop._chunk({"content": PARTIAL})]
    return llm_server.sse_reply(*parts, end="hang")


async def _prompt_then(
    server: Server, dirs: dict[str, Path], sig: int, *, transport: str = "ws"
) -> tuple[list[dict[str, Any]], int]:
    """Start a prompt, wait until its reply streams, signal the server;
    returns the client's events and the server's exit status."""
    config = client_config(server, transport=transport, scenario="streaming", cwd=dirs["work"], transcript=dirs["transcript"],
                           prompt="a question that is answered slowly")  # fmt: skip
    client = await trio.lowlevel.open_process([sys.executable, str(SDK_CLIENT), config], cwd=dirs["work"],
                                              stdout=subprocess.PIPE)  # fmt: skip
    assert client.stdout is not None
    events: list[dict[str, Any]] = []
    buffer = bytearray()
    try:
        with trio.fail_after(CLIENT_TIMEOUT_S):
            while not any(e.get("step") == "streaming" for e in events):
                line = await read_line(client.stdout, buffer)
                assert line, f"the client ended early: {events}"
                events.append(json.loads(line))
            returncode = await stop_server(server, sig)
            while line := await read_line(client.stdout, buffer):
                events.append(json.loads(line))
            await client.wait()
    finally:
        if client.returncode is None:
            client.kill()
            await client.wait()
    return events, returncode


def _journal_records(home: Path, session_id: str) -> list[dict[str, Any]]:
    journals = list((home / "state").rglob("journal.jsonl"))
    mine = [path for path in journals if session_id in str(path)]
    assert mine, f"no journal for {session_id} among {journals}"
    return [json.loads(line) for line in mine[0].read_text().splitlines() if line.strip()]


async def _load_in_a_new_server(dirs: dict[str, Path], llm_url: str, session_id: str) -> dict[str, Any]:
    env = serve_env(dirs["home"], llm_url)
    async with running_server(dirs["home"], *provider_args(llm_url), env=env, cwd=dirs["work"]) as server:
        transcript = dirs["root"] / "load.jsonl"
        config = client_config(server, transport="http", scenario="load", cwd=dirs["work"], transcript=transcript,
                               sessionId=session_id)  # fmt: skip
        events = await run_sdk_client(config, cwd=dirs["work"])
        check_transcript(transcript)
    return step(events, "load")


@pytest.mark.parametrize("transport", ["ws", "http"])
async def test_sigterm_mid_turn_cancels_the_turn_and_the_session_loads_again(transport: str,
                                                                            serve_dirs: dict[str, Path]) -> None:  # fmt: skip
    async with llm_server.open_fake_server() as llm:
        llm.enqueue(_hanging_reply())
        env = serve_env(serve_dirs["home"], llm.url)
        server = await start_server(serve_dirs["home"], *provider_args(llm.url), env=env, cwd=serve_dirs["work"])
        events, returncode = await _prompt_then(server, serve_dirs, signal.SIGTERM, transport=transport)
        assert returncode == 0, server.stderr
        session_id = step(events, "session")["sessionId"]
        assert step(events, "prompt").get("stopReason") == "cancelled", events  # answered before the server went
        assert "Traceback" not in server.stderr
        check_transcript(serve_dirs["transcript"])
        records = _journal_records(serve_dirs["home"], session_id)
        ends = [r for r in records if r.get("type") in ("turn_ended", "turn_aborted")]
        assert ends and ends[-1]["type"] == "turn_ended" and ends[-1]["stop_reason"] == "cancelled", ends
        loaded = await _load_in_a_new_server(serve_dirs, llm.url, session_id)
    texts = json.dumps(loaded["updates"])
    assert "a question that is answered slowly" in texts
    assert PARTIAL in loaded["text"]  # text already shown is kept


async def test_sigkill_mid_turn_leaves_a_session_the_next_server_loads(serve_dirs: dict[str, Path]) -> None:
    async with llm_server.open_fake_server() as llm:
        llm.enqueue(_hanging_reply())
        env = serve_env(serve_dirs["home"], llm.url)
        server = await start_server(serve_dirs["home"], *provider_args(llm.url), env=env, cwd=serve_dirs["work"])
        events, returncode = await _prompt_then(server, serve_dirs, signal.SIGKILL)
        assert returncode == -signal.SIGKILL
        session_id = step(events, "session")["sessionId"]
        assert "lost" in step(events, "prompt")  # no answer: the server died
        assert server.socket is not None and server.socket.exists()  # left behind; the next server replaces it
        loaded = await _load_in_a_new_server(serve_dirs, llm.url, session_id)
    assert "a question that is answered slowly" in json.dumps(loaded["updates"])
