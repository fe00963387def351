"""Shared pieces of the ``agent serve`` tests: real server processes, the SDK
client process, and the loopback LLM and schema checks the interop suite uses.

The server runs as ``python -m agentcore.cli.main serve`` with an explicit
environment (``AGENTCORE_HOME`` in the test's directory) on port 0; its ready
line says where it listens.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
import trio

from fakes.modules import load_module

HERE = Path(__file__).parent
TESTS = HERE.parent
SDK_CLIENT = HERE / "serve_sdk_client.py"
READY_TIMEOUT_S = 60.0  # seconds from spawn to the ready line (imports + building the core)
EXIT_TIMEOUT_S = 30.0  # seconds a stopped server may take to exit
CLIENT_TIMEOUT_S = 60.0  # seconds for one SDK client scenario
READY_PREFIX = "agent serve: listening on "
MODEL = "gpt-4o-mini"


interop = load_module("interop_support", TESTS / "interop" / "interop_support.py")
acp_schema = interop.acp_schema
llm_server = interop.llm_server
text_reply = interop.text_reply
tool_reply = interop.tool_reply
check_transcript = interop.check_transcript


def serve_env(home: Path, llm_url: str | None = None, **extra: str) -> dict[str, str]:
    """The server's environment: no real keys, no real Ollama, its own AGENTCORE_HOME."""
    env = interop.agent_env(os.environ, home, llm_url)
    env.update(extra)
    return env


def provider_args(llm_url: str | None) -> list[str]:
    return ["--provider", "openai", "--model", MODEL] if llm_url else ["--provider", "echo"]


def serve_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "agentcore.cli.main", "serve", *args]


@attrs.frozen
class Server:
    proc: trio.Process
    url: str  # http://127.0.0.1:PORT/acp
    socket: Path | None
    home: Path

    @property
    def base(self) -> str:
        return self.url.removesuffix("/acp")

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1)

    @property
    def token(self) -> str:
        return (self.home / "state" / "serve-token").read_text().strip()

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def stderr(self) -> str:
        return (self.home / "serve.stderr").read_text(errors="replace")


async def read_line(stream: trio.abc.ReceiveStream, buffer: bytearray) -> str:
    """One line from ``stream`` (without its LF); "" at EOF. ``buffer`` keeps what follows it."""
    while b"\n" not in buffer:
        chunk = await stream.receive_some(4096)
        if not chunk:
            line = bytes(buffer).decode()
            buffer.clear()
            return line
        buffer += chunk
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    return line.decode()


def parse_ready(line: str) -> tuple[str, Path | None]:
    assert line.startswith(READY_PREFIX), line
    where = line.removeprefix(READY_PREFIX).split(" and unix:")
    return where[0], Path(where[1]) if len(where) > 1 else None


async def start_server(home: Path, *args: str, env: Mapping[str, str], cwd: Path) -> Server:
    home.mkdir(parents=True, exist_ok=True)
    with open(home / "serve.stderr", "ab") as stderr:
        proc = await trio.lowlevel.open_process(
            serve_argv("--listen", "127.0.0.1:0", *args), stdout=subprocess.PIPE, stderr=stderr, env=dict(env), cwd=cwd
        )
    assert proc.stdout is not None
    with trio.fail_after(READY_TIMEOUT_S):
        line = await read_line(proc.stdout, bytearray())
    if not line:
        await proc.wait()
        raise AssertionError(f"the server did not start (rc={proc.returncode}):\n{(home / 'serve.stderr').read_text()}")
    url, socket = parse_ready(line)
    return Server(proc=proc, url=url, socket=socket, home=home)


async def stop_server(server: Server, sig: int = signal.SIGTERM) -> int:
    if server.proc.returncode is None:
        server.proc.send_signal(sig)
    with trio.fail_after(EXIT_TIMEOUT_S):
        return await server.proc.wait()


@asynccontextmanager
async def running_server(home: Path, *args: str, env: Mapping[str, str], cwd: Path) -> AsyncIterator[Server]:
    """A server for the block; after it, the server must have logged no traceback."""
    server = await start_server(home, *args, env=env, cwd=cwd)
    try:
        yield server
        await stop_server(server)
        assert "Traceback" not in server.stderr, server.stderr
    finally:
        if server.proc.returncode is None:
            server.proc.send_signal(signal.SIGTERM)
            with trio.move_on_after(EXIT_TIMEOUT_S):
                await server.proc.wait()
            if server.proc.returncode is None:
                server.proc.kill()
                await server.proc.wait()


def client_config(server: Server, *, transport: str, scenario: str, cwd: Path, transcript: Path, **extra: Any) -> str:
    return json.dumps({
        "transport": transport, "url": server.url, "token": server.token, "cwd": str(cwd),
        "scenario": scenario, "transcript": str(transcript), "timeout": CLIENT_TIMEOUT_S - 5, **extra,
    })  # fmt: skip


def parse_events(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


async def run_sdk_client(config: str, *, cwd: Path) -> list[dict[str, Any]]:
    """Run one scenario to its end; fails the test if the client reported an error."""
    with trio.fail_after(CLIENT_TIMEOUT_S):
        done = await trio.run_process([sys.executable, str(SDK_CLIENT), config], cwd=cwd, capture_stdout=True,
                                      capture_stderr=True, check=False)  # fmt: skip
    events = parse_events(done.stdout.decode())
    errors = [e for e in events if "error" in e]
    assert not errors and events and events[-1].get("done"), (
        f"client failed (rc={done.returncode}): {errors or events}\nstderr: {done.stderr.decode()[-3000:]}"
    )
    return events


def step(events: Sequence[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(e for e in events if e.get("step") == name)


class LineClient:
    """ACP as newline-delimited JSON over the server's Unix socket (what an editor bridge sends)."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self._buffer = bytearray()
        self._next_id = 0
        self.checker = acp_schema.AgentTranscriptChecker()

    async def send(self, message: dict[str, Any]) -> None:
        self.checker.client_sent(message)
        await self.stream.send_all(json.dumps(message).encode() + b"\n")

    async def request(self, method: str, params: dict[str, Any]) -> int:
        self._next_id += 1
        await self.send({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        return self._next_id

    async def receive(self) -> dict[str, Any] | None:
        line = await read_line(self.stream, self._buffer)
        if not line:
            return None
        message = json.loads(line)
        self.checker.agent_sent(message)
        return message

    async def call(self, method: str, params: dict[str, Any], seen: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Send a request, collect what arrives until its answer, return the answer."""
        request_id = await self.request(method, params)
        while True:
            message = await self.receive()
            assert message is not None, f"the server closed the socket before answering {method}"
            if message.get("id") == request_id and "method" not in message:
                return message
            if seen is not None:
                seen.append(message)


INITIALIZE_PARAMS = {"protocolVersion": 1, "clientCapabilities": {}}
