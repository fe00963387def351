"""The stdio transport for MCP servers, with the process under our control.

The SDK's own stdio client hides the process, so it can neither hand us the
server's stderr (we keep a tail of it for error messages, and it must never
reach our stdout or the user's terminal) nor tell us the moment the process
exits, nor take down what the server left running in its process group. This
module spawns the server in its own session (process group), bridges its
stdin/stdout to the SDK's message streams with the SDK's own JSON-RPC codec,
and shuts it down the way the MCP spec describes: close stdin, wait, SIGTERM
the group, wait, SIGKILL the group.

Imported only once a session has MCP servers (it imports the SDK).
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import anyio
import mcp_types
import trio
from mcp.client.stdio import get_default_environment
from mcp.shared.message import SessionMessage

from agentcore.bounded_json import JsonTooDeep, loads_bounded
from agentcore.mcp.state import StderrTail
from agentcore.tools.local import terminate_group

STDIN_CLOSE_GRACE_S = 2.0  # the spec's first step: a server exits on its own once stdin closes
TERM_GRACE_S = 2.0  # after SIGTERM, before SIGKILL; same as the SDK's stdio client
READ_CHUNK_BYTES = 65_536
MAX_LINE_BYTES = 16 * 1024 * 1024  # one JSON-RPC message on stdout; a larger line stops the server
MAX_BAD_LINES_IN_A_ROW = 1_000  # non-JSON-RPC stdout lines in a row before the server counts as broken
STDERR_DRAIN_S = 0.5  # after the group is gone, for the pipe's last bytes (a stray holder can keep it open)


def server_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """The SDK's safe inherited variables (PATH, HOME, ...) plus the server's own:
    API keys in our environment are not handed to third-party servers."""
    return get_default_environment() | dict(extra)


@asynccontextmanager
async def stdio_transport(
    argv: list[str],
    *,
    env: Mapping[str, str],
    cwd: Path | None,
    stderr: StderrTail,
    on_exit: Callable[[int], None],
    on_spawn: Callable[[int], None] = lambda pid: None,
) -> AsyncIterator[tuple[Any, Any]]:
    """Spawn ``argv`` and yield the SDK's (read, write) message streams.

    ``on_exit`` is called with the return code when the process ends while the
    transport is open; on leaving, the whole process group is stopped.
    """
    process = await trio.lowlevel.open_process(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env),
        cwd=str(cwd) if cwd else None,
        start_new_session=True,  # its own process group: we can signal everything it starts
    )
    on_spawn(process.pid)
    read_send, read_recv = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write_send, write_recv = anyio.create_memory_object_stream[SessionMessage](0)
    closing = False

    async def read_stdout() -> None:
        assert process.stdout is not None
        lines = BoundedLines(MAX_LINE_BYTES)
        bad_in_a_row = 0
        async with read_send:
            while chunk := await process.stdout.receive_some(READ_CHUNK_BYTES):
                for line in lines.feed(chunk):
                    if not line.strip():
                        continue
                    message = _parse(line)
                    bad_in_a_row = bad_in_a_row + 1 if isinstance(message, Exception) else 0
                    if bad_in_a_row > MAX_BAD_LINES_IN_A_ROW:
                        await broken(f"more than {MAX_BAD_LINES_IN_A_ROW:,} stdout lines in a row are not JSON-RPC")
                        return
                    try:
                        await read_send.send(message)
                    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                        return  # the client session has closed; nobody reads any more
                if lines.overflowed:
                    await broken(f"a stdout line is longer than {MAX_LINE_BYTES:,} bytes")
                    return

    async def broken(reason: str) -> None:
        """The server floods stdout: say why in its stderr tail and stop it, so
        its calls fail at once (the exit watcher reports it) instead of timing out."""
        stderr.note(f"agentcore stopped the server: {reason}")
        with trio.CancelScope(shield=True):
            await stop_process_group(process)

    async def write_stdin() -> None:
        assert process.stdin is not None
        async with write_recv:
            async for message in write_recv:
                data = message.message.model_dump_json(by_alias=True, exclude_unset=True) + "\n"
                try:
                    await process.stdin.send_all(data.encode())
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    return  # the server is gone; the exit watcher reports it

    stderr_done = trio.Event()

    async def read_stderr() -> None:
        assert process.stderr is not None
        decoder = _decoder()
        try:
            while chunk := await process.stderr.receive_some(READ_CHUNK_BYTES):
                stderr.feed(decoder.decode(chunk))
        finally:
            stderr_done.set()

    async def watch_exit() -> None:
        code = await process.wait()
        if not closing:
            on_exit(code)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(read_stdout)
        nursery.start_soon(write_stdin)
        nursery.start_soon(read_stderr)
        nursery.start_soon(watch_exit)
        try:
            yield read_recv, write_send
        finally:
            closing = True
            with trio.CancelScope(shield=True):
                await stop_process_group(process)
                with trio.move_on_after(STDERR_DRAIN_S):
                    await stderr_done.wait()  # the last lines are often the reason it died
            nursery.cancel_scope.cancel()


class BoundedLines:
    """Splits a byte stream into lines in linear time and bounded memory.

    Only new bytes are searched for a newline, consumed lines are cut off once
    per chunk, and a line longer than ``max_bytes`` sets :attr:`overflowed`
    (the reader then stops) instead of growing the buffer without end.
    """

    def __init__(self, max_bytes: int) -> None:
        self._max = max_bytes
        self._buffer = bytearray()
        self.overflowed = False

    def feed(self, chunk: bytes) -> list[bytes]:
        searched = len(self._buffer)  # bytes already known to hold no newline
        self._buffer += chunk
        lines, start = [], 0
        while (newline := self._buffer.find(b"\n", max(start, searched))) >= 0:
            lines.append(bytes(self._buffer[start:newline]))
            start = newline + 1
        del self._buffer[:start]
        if len(self._buffer) > self._max or any(len(line) > self._max for line in lines):
            self.overflowed = True
        return lines


def _decoder() -> Any:
    import codecs

    return codecs.getincrementaldecoder("utf-8")(errors="replace")


def _parse(line: bytes) -> SessionMessage | Exception:
    """One stdout line. A response the SDK cannot accept (nested too deep, a
    shape it rejects) becomes an error response to the same request, so the
    call fails at once instead of waiting for its timeout; any other line that
    is not JSON-RPC is handed to the session as an error value."""
    try:
        return SessionMessage(mcp_types.jsonrpc_message_adapter.validate_json(line, by_name=False))
    except ValueError as exc:
        unreadable = _unreadable_response(line, exc)
        return unreadable if unreadable is not None else exc


def _unreadable_response(line: bytes, problem: ValueError) -> SessionMessage | None:
    try:
        message = loads_bounded(line)
    except JsonTooDeep as exc:
        message, problem = exc.parsed, exc
    except ValueError:
        return None
    if not isinstance(message, dict) or "id" not in message or ("result" not in message and "error" not in message):
        return None
    request_id = message["id"]
    if not isinstance(request_id, int | str) or isinstance(request_id, bool):
        return None
    reason = str(problem).splitlines()[0][:200]
    error = {"jsonrpc": "2.0", "id": request_id,
             "error": {"code": -32603, "message": f"the server's response could not be read: {reason}"}}
    return SessionMessage(mcp_types.jsonrpc_message_adapter.validate_python(error, by_name=False))


async def stop_process_group(process: trio.Process) -> None:
    """Close stdin and wait; then SIGTERM and, if need be, SIGKILL the whole group.

    The group is signalled even when the server exited by itself, so children
    it left behind (a server started through ``npx`` or a shell) go too.
    """
    if process.stdin is not None:
        with suppress(trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            await process.stdin.aclose()
    with trio.move_on_after(STDIN_CLOSE_GRACE_S):
        await process.wait()
    await terminate_group(process, grace_s=TERM_GRACE_S)  # the same as for a tool's process group
