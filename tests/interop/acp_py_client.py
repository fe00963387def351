"""An ACP client built on the Python SDK (PyPI ``agent-client-protocol``, asyncio).

Runs in the project's own venv: the SDK's top-level module is ``acp``, and
agentcore's frontend installs as ``agentcore.acp``, so the two never collide.

Usage: python acp_py_client.py CONFIG_JSON (same config shape as acp_client.mjs).
Prints one JSON object per line; the last is {"done": true} or {"error": ...}.
Raw lines in both directions are appended to the transcript file.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

from acp import PROTOCOL_VERSION, connect_to_agent, text_block
from acp.schema import (
    AllowedOutcome,
    ClientCapabilities,
    CreateTerminalResponse,
    DeniedOutcome,
    FileSystemCapabilities,
    ReadTextFileResponse,
    RequestPermissionResponse,
    TerminalExitStatus,
    TerminalOutputResponse,
    WaitForTerminalExitResponse,
    WriteTextFileResponse,
)

STREAM_LIMIT_BYTES = 64 * 1024 * 1024  # one ACP line may be large (embedded files)

config = json.loads(sys.argv[1])


def emit(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, default=str), flush=True)


def record(direction: str, line: bytes) -> None:
    with open(config["transcript"], "a", encoding="utf-8") as f:
        f.write(json.dumps({"dir": direction, "line": line.decode("utf-8", "replace")}) + "\n")


async def tee_writer(loop: asyncio.AbstractEventLoop, target: asyncio.StreamWriter) -> tuple[asyncio.StreamWriter, asyncio.Future[None]]:
    """A real StreamWriter (the SDK insists on one) whose lines are recorded,
    then forwarded to ``target``, through an OS pipe."""
    read_fd, write_fd = os.pipe()
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, os.fdopen(write_fd, "wb"))
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    source = asyncio.StreamReader(limit=STREAM_LIMIT_BYTES)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(source), os.fdopen(read_fd, "rb"))

    async def forward() -> None:
        while line := await source.readline():
            record("in", line.rstrip(b"\n"))
            target.write(line)
            await target.drain()
        target.close()

    return writer, asyncio.ensure_future(forward())


async def tee_reader(source: asyncio.StreamReader, sink: asyncio.StreamReader) -> None:
    while line := await source.readline():
        record("out", line.rstrip(b"\n"))
        sink.feed_data(line)
    sink.feed_eof()


class Client:
    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []
        self.calls: list[str] = []
        self.written: dict[str, str] = {}
        self.terminals: dict[str, dict[str, Any]] = {}
        self.update_seen = asyncio.Event()

    def on_connect(self, conn: Any) -> None:
        pass

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self.updates.append(update.model_dump(by_alias=True, exclude_none=True))
        self.update_seen.set()

    async def request_permission(self, options: Any, session_id: str, tool_call: Any, **kwargs: Any) -> RequestPermissionResponse:
        self.calls.append("session/request_permission")
        emit({"step": "permission_request", "toolCallId": tool_call.tool_call_id, "options": [o.kind for o in options]})
        answer = config.get("permission", "allow_once")
        if answer == "cancel-later":
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
        return RequestPermissionResponse(outcome=AllowedOutcome(outcome="selected", option_id=answer))

    async def read_text_file(self, path: str, session_id: str, limit: int | None = None, line: int | None = None, **kwargs: Any) -> ReadTextFileResponse:
        self.calls.append("fs/read_text_file")
        buffers = config.get("buffers", {})
        content = buffers[path] if path in buffers else open(path, encoding="utf-8").read()
        return ReadTextFileResponse(content=content)

    async def write_text_file(self, content: str, path: str, session_id: str, **kwargs: Any) -> WriteTextFileResponse:
        self.calls.append("fs/write_text_file")
        self.written[path] = content
        return WriteTextFileResponse()

    async def create_terminal(self, command: str, session_id: str, args: list[str] | None = None, cwd: str | None = None, env: Any = None, output_byte_limit: int | None = None, **kwargs: Any) -> CreateTerminalResponse:
        self.calls.append("terminal/create")
        proc = await asyncio.create_subprocess_exec(
            command, *(args or []), cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        terminal_id = f"py-term-{len(self.terminals) + 1}"
        self.terminals[terminal_id] = {"proc": proc, "output": asyncio.ensure_future(proc.stdout.read())}  # type: ignore[union-attr]
        return CreateTerminalResponse(terminal_id=terminal_id)

    async def wait_for_terminal_exit(self, session_id: str, terminal_id: str, **kwargs: Any) -> WaitForTerminalExitResponse:
        self.calls.append("terminal/wait_for_exit")
        code = await self.terminals[terminal_id]["proc"].wait()
        return WaitForTerminalExitResponse(exit_code=code)

    async def terminal_output(self, session_id: str, terminal_id: str, **kwargs: Any) -> TerminalOutputResponse:
        self.calls.append("terminal/output")
        term = self.terminals[terminal_id]
        output = (await term["output"]).decode()
        return TerminalOutputResponse(output=output, truncated=False, exit_status=TerminalExitStatus(exit_code=term["proc"].returncode))

    async def kill_terminal(self, session_id: str, terminal_id: str, **kwargs: Any) -> None:
        self.calls.append("terminal/kill")
        self.terminals[terminal_id]["proc"].kill()

    async def release_terminal(self, session_id: str, terminal_id: str, **kwargs: Any) -> None:
        self.calls.append("terminal/release")
        self.terminals.pop(terminal_id, None)

    async def ext_method(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError(method)

    async def ext_notification(self, method: str, params: dict[str, Any]) -> None:
        return None

    def text(self) -> str:
        return "".join(u["content"]["text"] for u in self.updates if u.get("sessionUpdate") == "agent_message_chunk")


def capabilities() -> ClientCapabilities:
    caps = config.get("clientCapabilities", {})
    fs = caps.get("fs", {})
    return ClientCapabilities(
        fs=FileSystemCapabilities(read_text_file=bool(fs.get("readTextFile")), write_text_file=bool(fs.get("writeTextFile"))),
        terminal=bool(caps.get("terminal")),
    )


async def scenario(conn: Any, client: Client) -> None:
    init = await conn.initialize(protocol_version=PROTOCOL_VERSION, client_capabilities=capabilities())
    emit({"step": "initialize", "protocolVersion": init.protocol_version, "loadSession": init.agent_capabilities.load_session})
    session = await conn.new_session(cwd=config["cwd"], mcp_servers=[])
    name = config["scenario"]
    prompt = [text_block(config.get("prompt", "hello"))]
    if name == "handshake":
        emit({"step": "session", "sessionId": session.session_id, "mode": session.modes.current_mode_id})
    elif name == "prompt":
        response = await conn.prompt(session_id=session.session_id, prompt=prompt)
        emit({"step": "prompt", "stopReason": response.stop_reason, "text": client.text(), "updates": client.updates, "calls": client.calls, "written": client.written})
    elif name == "cancel":
        task = asyncio.ensure_future(conn.prompt(session_id=session.session_id, prompt=prompt))
        while not any(u.get("sessionUpdate") == "agent_message_chunk" for u in client.updates):
            client.update_seen.clear()
            await client.update_seen.wait()
        started = time.perf_counter()
        await conn.cancel(session_id=session.session_id)
        response = await task
        emit({"step": "cancel", "stopReason": response.stop_reason, "elapsedMs": (time.perf_counter() - started) * 1000})
    elif name == "fork":
        # session/fork (unstable) with an additional root, through the SDK's own helper
        await conn.prompt(session_id=session.session_id, prompt=[text_block("remember 42")])
        forked = await conn.fork_session(
            session_id=session.session_id, cwd=config["cwd"], additional_directories=[config["extraDir"]], mcp_servers=[]
        )
        client.updates.clear()
        response = await conn.prompt(session_id=forked.session_id, prompt=[text_block("what was it?")])
        emit({"step": "fork", "source": session.session_id, "forked": forked.session_id,
              "stopReason": response.stop_reason, "text": client.text()})
    else:
        raise ValueError(f"unknown scenario {name}")


async def main() -> None:
    proc = await asyncio.create_subprocess_exec(
        *config["command"],
        cwd=config["cwd"],
        env=config["env"],
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        limit=STREAM_LIMIT_BYTES,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    reader = asyncio.StreamReader(limit=STREAM_LIMIT_BYTES)
    pump = asyncio.ensure_future(tee_reader(proc.stdout, reader))
    client = Client()
    writer, forwarder = await tee_writer(asyncio.get_running_loop(), proc.stdin)
    conn = connect_to_agent(client, writer, reader)
    try:
        await scenario(conn, client)
        emit({"done": True})
    except Exception as exc:  # report, don't hide: the pytest side prints this
        stderr = b""
        proc.stdin.close()
        try:
            stderr = await asyncio.wait_for(proc.stderr.read(), 3)
        except asyncio.TimeoutError:
            pass
        emit({"error": repr(exc), "stderr": stderr.decode()[-4000:]})
    finally:
        await conn.close()
        writer.close()
        try:
            await asyncio.wait_for(forwarder, 5)
        except asyncio.TimeoutError:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except asyncio.TimeoutError:
            proc.kill()
        pump.cancel()


asyncio.run(main())
