"""Attacks on agent serve's exposure: every request needs the token, sent the
right way, from the server's own origin; failures say nothing about sessions;
the secrets and sockets are private; a non-loopback bind needs consent."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import trio
from serve_support import (
    INITIALIZE_PARAMS,
    LineClient,
    Server,
    running_server,
    serve_argv,
    serve_env,
)
from trio_websocket import ConnectionRejected, open_websocket_url

INITIALIZE = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": INITIALIZE_PARAMS}
JSON = {"Content-Type": "application/json"}
UNAUTHORIZED_BODY = b'{"error":"unauthorized"}'


@asynccontextmanager
async def server_with_a_session(dirs: dict[str, Path]) -> AsyncIterator[tuple[Server, str]]:
    """A server holding one live session (so a leak would have something to leak)."""
    env = serve_env(dirs["home"])
    async with running_server(dirs["home"], "--provider", "echo", env=env, cwd=dirs["work"]) as server:
        stream = await trio.open_unix_socket(str(server.socket))
        client = LineClient(stream)
        await client.call("initialize", INITIALIZE_PARAMS)
        new = await client.call("session/new", {"cwd": str(dirs["work"]), "mcpServers": []})
        yield server, new["result"]["sessionId"]
        await stream.aclose()


async def _connections(http: httpx.AsyncClient, server: Server) -> int:
    return (await http.get(f"{server.base}/health")).json()["connections"]


async def test_http_without_or_with_a_wrong_token_gets_the_same_fixed_401(serve_dirs: dict[str, Path]) -> None:
    async with server_with_a_session(serve_dirs) as (server, session_id), httpx.AsyncClient() as http:
        missing = await http.post(server.url, json=INITIALIZE, headers=JSON)
        wrong = await http.post(server.url, json=INITIALIZE, headers={**JSON, "Authorization": "Bearer " + "0" * 64})
        almost = await http.post(server.url, json=INITIALIZE, headers={**JSON, "Authorization": f"Bearer {server.token[:-1]}x"})
        sse = await http.get(server.url, headers={"Accept": "text/event-stream", "Acp-Session-Id": session_id})
        for response in (missing, wrong, almost, sse):
            assert response.status_code == 401
            assert response.content == UNAUTHORIZED_BODY
            assert session_id not in response.text and "acp-connection-id" not in response.headers
        assert await _connections(http, server) == 1  # the Unix socket's; no HTTP connection was opened
        good = await http.post(server.url, json=INITIALIZE, headers={**JSON, **server.auth})
        assert good.status_code == 200 and good.headers["acp-connection-id"]


async def test_a_token_in_the_query_string_is_refused_and_not_processed(serve_dirs: dict[str, Path]) -> None:
    async with server_with_a_session(serve_dirs) as (server, session_id), httpx.AsyncClient() as http:
        for query in (f"token={server.token}", f"access_token={server.token}", f"x={server.token}"):
            response = await http.post(f"{server.url}?{query}", json=INITIALIZE, headers={**JSON, **server.auth})
            assert response.status_code == 400
            assert server.token not in response.text and session_id not in response.text
        assert await _connections(http, server) == 1  # none of the initializes opened a connection
        with pytest.raises(ConnectionRejected) as rejected:
            async with open_websocket_url(f"{server.ws_url}?token={server.token}", extra_headers=_bearer(server)):
                pass
        assert rejected.value.status_code == 400


async def test_a_foreign_origin_is_refused_over_http_and_websocket(serve_dirs: dict[str, Path]) -> None:
    async with server_with_a_session(serve_dirs) as (server, session_id), httpx.AsyncClient() as http:
        port = server.base.rpartition(":")[2]
        for origin in ("http://evil.example", f"http://evil.example:{port}", "null", f"https://127.0.0.1:{port}"):
            response = await http.post(server.url, json=INITIALIZE, headers={**JSON, **server.auth, "Origin": origin})
            assert response.status_code == 403, origin
            assert session_id not in response.text
            with pytest.raises(ConnectionRejected) as rejected:
                async with open_websocket_url(server.ws_url, extra_headers=[*_bearer(server), (b"origin", origin.encode())]):
                    pass
            assert rejected.value.status_code == 403
        assert await _connections(http, server) == 1
        health = await http.get(f"{server.base}/health", headers={"Origin": "http://evil.example"})
        assert health.status_code == 403
        own = await http.post(server.url, json=INITIALIZE, headers={**JSON, **server.auth, "Origin": f"http://127.0.0.1:{port}"})
        assert own.status_code == 200


async def test_websocket_needs_the_token_and_never_echoes_it(serve_dirs: dict[str, Path]) -> None:
    async with server_with_a_session(serve_dirs) as (server, session_id):
        for headers in ([], [(b"authorization", b"Bearer " + b"1" * 64)]):
            with pytest.raises(ConnectionRejected) as rejected:
                async with open_websocket_url(server.ws_url, extra_headers=headers):
                    pass
            assert rejected.value.status_code == 401
            assert rejected.value.body == UNAUTHORIZED_BODY
        # A browser cannot set headers on a WebSocket: the token rides as a subprotocol,
        # and the server selects only the plain "acp" one.
        offered = ["acp", f"agentcore.bearer.{server.token}"]
        with trio.fail_after(20):
            async with open_websocket_url(server.ws_url, subprotocols=offered) as ws:
                assert ws.subprotocol == "acp"
                assert all(server.token.encode() not in value for _, value in ws.handshake_headers)
                await ws.send_message(json.dumps(INITIALIZE))
                answer = json.loads(await ws.get_message())
        assert answer["id"] == 0 and answer["result"]["protocolVersion"] == 1


def _bearer(server: Server) -> list[tuple[bytes, bytes]]:
    return [(b"authorization", f"Bearer {server.token}".encode())]


@pytest.mark.parametrize(
    ("args", "env_extra", "said"),
    [
        (["--listen", "0.0.0.0:0"], {}, "--allow-remote"),
        (["--listen", "192.0.2.1:0"], {}, "--allow-remote"),
        (["--listen", "127.0.0.1:0", "--allow-remote"], {"AGENTCORE_SERVE_TOKEN": "short"}, "AGENTCORE_SERVE_TOKEN is too short"),
    ],
)
def test_unsafe_exposure_is_refused_before_binding(args: list[str], env_extra: dict[str, str], said: str,
                                                   serve_dirs: dict[str, Path]) -> None:  # fmt: skip
    env = serve_env(serve_dirs["home"], **env_extra)
    done = subprocess.run(serve_argv(*args, "--provider", "echo"), env=env, cwd=serve_dirs["work"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""
    assert said in done.stderr and len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not (serve_dirs["home"] / "run" / "serve.json").exists()


async def test_secrets_and_sockets_are_private(serve_dirs: dict[str, Path]) -> None:
    env = serve_env(serve_dirs["home"])
    async with running_server(serve_dirs["home"], "--provider", "echo", env=env, cwd=serve_dirs["work"]) as server:
        token_file = serve_dirs["home"] / "state" / "serve-token"
        run_dir = serve_dirs["home"] / "run"
        assert len(server.token) == 64 and int(server.token, 16) >= 0  # 32 random bytes, hex
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(token_file.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(run_dir.stat().st_mode) == 0o700
        assert server.socket == run_dir / "agent.sock"
        assert stat.S_ISSOCK(server.socket.stat().st_mode) and stat.S_IMODE(server.socket.stat().st_mode) == 0o600
        state = run_dir / "serve.json"
        assert stat.S_IMODE(state.stat().st_mode) == 0o600
        assert server.token not in state.read_text()
    assert not server.socket.exists() and not state.exists()  # removed on exit
    # The same token next time: clients keep working across restarts.
    async with running_server(serve_dirs["home"], "--provider", "echo", env=env, cwd=serve_dirs["work"]) as again:
        assert again.token == server.token


PEER_SCRIPT = """
import os, socket, sys
os.setgroups([])
os.setgid(int(sys.argv[2]))
os.setuid(int(sys.argv[2]))  # from here on this process is another user
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(20)
try:
    s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":1}}\\n')
    data = s.recv(65536)
except (BrokenPipeError, ConnectionResetError):  # closed before or after our line arrived
    data = b""
print(repr(data))
"""


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="needs root to run a peer as another uid")
async def test_a_peer_of_another_uid_is_refused_even_when_the_socket_is_open_to_it(serve_dirs: dict[str, Path]) -> None:
    """File modes are the first wall; the peer-uid check is the second: widen the
    modes by hand and another user still gets nothing but EOF."""
    nobody = 65534
    shared = Path(tempfile.mkdtemp(prefix="serve-sock-"))
    try:
        socket_path = shared / "agent.sock"
        env = serve_env(serve_dirs["home"])
        async with running_server(serve_dirs["home"], "--provider", "echo", "--socket", str(socket_path),
                                  env=env, cwd=serve_dirs["work"]) as server:  # fmt: skip
            assert server.socket == socket_path
            assert stat.S_IMODE(shared.stat().st_mode) == 0o700  # the server narrowed it
            os.chmod(shared, 0o755)
            os.chmod(socket_path, 0o666)
            done = await trio.run_process([sys.executable, "-I", "-c", PEER_SCRIPT, str(socket_path), str(nobody)],
                                          capture_stdout=True, capture_stderr=True, check=False)  # fmt: skip
            assert done.returncode == 0, done.stderr.decode()
            assert done.stdout.decode().strip() == "b''"  # closed without an answer
            assert "refused a Unix socket connection from uid 65534" in server.stderr
    finally:
        import shutil

        shutil.rmtree(shared, ignore_errors=True)
