"""Two ``agent serve`` processes on one PostgreSQL database ([store] url): a
session open on A is refused by B while A's lease lives (session/load names
A's URL, in the message and as the JSON-RPC error's ``data.owner``, over HTTP
and WebSocket; a session-scoped HTTP request is redirected there, 307); A is
SIGKILLed mid-turn; once its lease expires the same client re-attaches to B,
gets the history replayed from the database, and a permission request B
raises in its next turn reaches it."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import trio
from fakes.pg_server import PgServer, pg_server_fixture
from serve_support import (
    CLIENT_TIMEOUT_S,
    INITIALIZE_PARAMS,
    SDK_CLIENT,
    client_config,
    interop,
    llm_server,
    parse_events,
    provider_args,
    read_line,
    serve_env,
    start_server,
    step,
    stop_server,
    text_reply,
    tool_reply,
)
from trio_websocket import open_websocket_url

LEASE_S = 1  # the smallest [store] lease_s: the takeover comes quickly
PROMPT = "a question answered on server A"
PARTIAL = "The answer so far"


@pytest.fixture(scope="module")
def pg_server() -> Iterator[PgServer]:
    yield from pg_server_fixture()


def _hanging_reply() -> Any:
    parts = [interop._chunk({"role": "assistant", "content": ""}), interop._chunk({"content": PARTIAL})]
    return llm_server.sse_reply(*parts, end="hang")


def _wait_for(condition: Any, what: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # an observable condition in the database
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _prompt_recorded(url: str) -> bool:
    with psycopg.connect(url) as conn:
        return bool(conn.execute("SELECT 1 FROM agentcore_records WHERE strpos(body, %s) > 0", (PROMPT,)).fetchone())


def _lease_live(url: str, session_id: str) -> bool:
    with psycopg.connect(url) as conn:
        return bool(conn.execute(
            "SELECT 1 FROM agentcore_leases WHERE session_id = %s AND expires_at > now()", (session_id,)
        ).fetchone())  # fmt: skip


async def _load(server: Any, dirs: Path, work: Path, session_id: str, name: str) -> list[dict[str, Any]]:
    config = client_config(server, transport="http", scenario="load", cwd=work, transcript=dirs / f"{name}.jsonl",
                           sessionId=session_id)  # fmt: skip
    with trio.fail_after(CLIENT_TIMEOUT_S):
        done = await trio.run_process([sys.executable, str(SDK_CLIENT), config], cwd=work, capture_stdout=True,
                                      capture_stderr=True, check=False)  # fmt: skip
    return parse_events(done.stdout.decode())


async def _ws_load_error(server: Any, work: Path, session_id: str) -> dict[str, Any]:
    """session/load over a raw WebSocket to ``server``: the JSON-RPC error it answers."""
    headers = [(name, value) for name, value in server.auth.items()]
    async with open_websocket_url(server.url.replace("http://", "ws://", 1), extra_headers=headers) as ws:
        await ws.send_message(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INITIALIZE_PARAMS}))
        await ws.send_message(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "session/load", "params": {
            "sessionId": session_id, "cwd": str(work), "mcpServers": []}}))  # fmt: skip
        with trio.fail_after(CLIENT_TIMEOUT_S):
            while True:
                message = json.loads(await ws.get_message())
                if message.get("id") == 2:
                    assert "error" in message, message
                    return message["error"]


async def _renewals_counted(server: Any) -> float:
    """``agentcore_lease_renewals_total`` of ``server``'s /metrics once it is above 0 (the writer renews every lease_s / 3)."""
    async with httpx.AsyncClient(trust_env=False, headers=server.auth) as http:
        with trio.fail_after(LEASE_S * 10):
            while True:
                text = (await http.get(f"{server.base}/metrics")).text
                match = re.search(r"^agentcore_lease_renewals_total (\S+)$", text, re.MULTILINE)
                if match and float(match.group(1)) > 0:
                    return float(match.group(1))
                await trio.sleep(0.05)


async def _post_for_session(server: Any, session_id: str) -> tuple[int, str | None]:
    """A session-scoped POST on a fresh HTTP connection to ``server``: its status and Location."""
    async with httpx.AsyncClient(trust_env=False, headers=server.auth) as http:
        init = await http.post(server.url, json={"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                                 "params": INITIALIZE_PARAMS})  # fmt: skip
        connection = init.headers["acp-connection-id"]
        answer = await http.post(
            server.url, headers={"Acp-Connection-Id": connection, "Acp-Session-Id": session_id},
            json={"jsonrpc": "2.0", "method": "session/cancel", "params": {"sessionId": session_id}},
        )  # fmt: skip
        return answer.status_code, answer.headers.get("location")


async def test_a_killed_servers_session_moves_to_the_other_server_after_its_lease(pg_server: PgServer) -> None:
    url = pg_server.create_database("serve_two")
    root = Path(tempfile.mkdtemp(prefix="serve-pg-"))  # short: unix socket paths
    work = (root / "work").resolve()
    work.mkdir()
    async with llm_server.open_fake_server() as llm:
        llm.enqueue(_hanging_reply())
        store_env = {"AGENTCORE_STORE_URL": url, "AGENTCORE_STORE_LEASE_S": str(LEASE_S)}
        env_a = serve_env(root / "home-a", llm.url, **store_env)
        env_b = serve_env(root / "home-b", llm.url, **store_env)
        a = await start_server(root / "home-a", *provider_args(llm.url), env=env_a, cwd=work)
        b = await start_server(root / "home-b", *provider_args(llm.url), env=env_b, cwd=work)
        client = None
        try:
            config = client_config(a, transport="ws", scenario="reattach", cwd=work, transcript=root / "a.jsonl",
                                   prompt=PROMPT, prompt2="now write it")  # fmt: skip
            client = await trio.lowlevel.open_process([sys.executable, str(SDK_CLIENT), config], cwd=work,
                                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
            assert client.stdout is not None and client.stdin is not None
            events: list[dict[str, Any]] = []
            buffer = bytearray()

            async def until(name: str) -> dict[str, Any]:
                with trio.fail_after(CLIENT_TIMEOUT_S):
                    while not any(e.get("step") == name for e in events):
                        line = await read_line(client.stdout, buffer)
                        assert line, f"the client ended early: {events}"
                        events.append(json.loads(line))
                        assert "error" not in events[-1], events
                return step(events, name)

            await until("streaming")
            session_id = step(events, "session")["sessionId"]
            _wait_for(lambda: _prompt_recorded(url), "the prompt's record")

            refused = await _load(b, root, work, session_id, "refused")  # A holds the lease
            errors = [e["error"] for e in refused if "error" in e]
            assert errors and "already open for writing" in errors[0] and f"at {a.url}" in errors[0], refused
            ws_error = await _ws_load_error(b, work, session_id)  # machine-readable: where to reconnect
            assert ws_error["data"]["owner"] == a.url and ws_error["data"]["type"] == "SessionLeased", ws_error
            assert await _post_for_session(b, session_id) == (307, a.url)  # B sends the client to the owner

            assert await stop_server(a, signal.SIGKILL) == -signal.SIGKILL
            _wait_for(lambda: not _lease_live(url, session_id), "the dead server's lease to expire", LEASE_S * 10)

            llm.enqueue(tool_reply("call_1", "write_file", {"path": "f.txt", "content": "written on B"}),
                        text_reply("done on B"))  # fmt: skip
            await client.stdin.send_all(json.dumps({"url": b.url, "token": b.token}).encode() + b"\n")  # re-attach to B
            loaded = await until("load")
            assert PROMPT in json.dumps(loaded["updates"])  # the history came from the database
            assert _lease_live(url, session_id)  # B owns it now
            # no redirect any more: a connection of B's that has not loaded it is told it must (404)
            assert await _post_for_session(b, session_id) == (404, None)
            answered = await until("prompt")
            assert answered["permissionRequests"] == ["call_1"]  # B's permission request reached the client
            assert answered["stopReason"] == "end_turn" and "done on B" in answered["text"], answered
            assert (work / "f.txt").read_text() == "written on B"
            assert await _renewals_counted(b) > 0  # B renews the lease it now holds: /metrics counts it
        finally:
            if client is not None and client.returncode is None:
                client.kill()
                await client.wait()
            for server in (a, b):
                if server.proc.returncode is None:
                    await stop_server(server)
            shutil.rmtree(root, ignore_errors=True)
