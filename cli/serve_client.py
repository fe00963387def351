"""Finding the local ``agent serve`` and asking it which sessions are live.

The server says where its Unix socket is in its state file (``serve.json`` in
the runtime directory, see :mod:`acp.remote.state_file`); no state file, a
stale one, or a socket that refuses the connection all mean "no server", and
are found out without waiting: nothing here retries or polls.

:func:`live_sessions` is synchronous and standard library only (a blocking
socket with a deadline), so ``agent sessions list`` pays no trio start-up for
it. It asks ``_agentcore/sessions/live`` over newline-delimited ACP, exactly
as any client of the socket would.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from agentcore.acp.remote.errors import ServeError

LIVE_SESSIONS_METHOD = "_agentcore/sessions/live"  # {cwd?} -> {sessions: [{sessionId, cwd, clients, turnRunning, title?}]}
LIVE_QUERY_TIMEOUT_S = 3.0  # seconds `sessions list` waits for a busy server before listing without it
READ_CHUNK_BYTES = 64 * 1024
PROTOCOL_VERSION = 1
NO_SERVER_MESSAGE = "no agent serve is running; start one with `agent serve --daemon`"


class AttachError(ServeError):
    """A terminal cannot join a session of the running server (none runs, no
    such live session, the owner refused); the message is the line to show."""


class NoServer(AttachError):
    """No ``agent serve`` of this user answers on its socket."""

    def __init__(self) -> None:
        super().__init__(NO_SERVER_MESSAGE)


@attrs.frozen
class LiveSession:
    """One session live in the server, as ``_agentcore/sessions/live`` lists it."""

    id: str
    cwd: Path
    clients: int
    turn_running: bool
    title: str | None = None


def server_socket(env: Mapping[str, str]) -> Path | None:
    """The running server's Unix socket, from its state file; None when no server runs."""
    from agentcore.acp.remote.settings import STATE_FILE_NAME, runtime_dir
    from agentcore.acp.remote.state_file import read_state

    state = read_state(runtime_dir(env) / STATE_FILE_NAME)
    if state is None or not state.socket:
        return None
    path = Path(state.socket)
    return path if path.exists() else None


def parse_live(result: Any) -> list[LiveSession]:
    """The answer of ``_agentcore/sessions/live``; rows that are not well formed are skipped."""
    rows = result.get("sessions") if isinstance(result, dict) else None
    sessions: list[LiveSession] = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict) or not isinstance(row.get("sessionId"), str) or not isinstance(row.get("cwd"), str):
            continue
        title = row.get("title")
        sessions.append(
            LiveSession(
                id=row["sessionId"],
                cwd=Path(row["cwd"]),
                clients=int(row.get("clients") or 0),
                turn_running=row.get("turnRunning") is True,
                title=title if isinstance(title, str) else None,
            )
        )
    return sessions


def live_sessions(env: Mapping[str, str], *, timeout_s: float = LIVE_QUERY_TIMEOUT_S) -> list[LiveSession] | None:
    """The sessions live in the running server; None when no server runs or it
    does not answer within ``timeout_s`` (the caller lists without them)."""
    path = server_socket(env)
    if path is None:
        return None
    deadline = time.monotonic() + timeout_s
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout_s)
            sock.connect(os.fspath(path))
            requests = [
                {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                 "params": {"protocolVersion": PROTOCOL_VERSION, "clientCapabilities": {}}},
                {"jsonrpc": "2.0", "id": 2, "method": LIVE_SESSIONS_METHOD, "params": {}},
            ]  # fmt: skip
            sock.sendall(b"".join(json.dumps(r).encode() + b"\n" for r in requests))
            answer = _read_answer(sock, 2, deadline)
    except (OSError, ValueError):
        return None
    if answer is None or "result" not in answer:
        return None
    return parse_live(answer["result"])


def _read_answer(sock: socket.socket, request_id: int, deadline: float) -> dict[str, Any] | None:
    buffer = b""
    while True:
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            message = json.loads(line) if line.strip() else None
            if isinstance(message, dict) and message.get("id") == request_id and "method" not in message:
                return message
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        sock.settimeout(remaining)
        chunk = sock.recv(READ_CHUNK_BYTES)
        if not chunk:
            return None
        buffer += chunk
