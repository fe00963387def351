"""A line-level test peer: the other end of a trio memory stream pair.

It writes raw bytes or objects and reads the agent's lines one by one, so tests
see exactly what a client would. With a checker attached, every line the agent
writes is validated against the official schema as it is read.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import trio

from acp_schema import AgentTranscriptChecker

READ_TIMEOUT_S = 5.0  # seconds; a test waiting longer than this has hung, fail it loudly


class Peer:
    def __init__(
        self,
        stream: trio.abc.HalfCloseableStream,
        *,
        checker: AgentTranscriptChecker | None = None,
        read_timeout_s: float = READ_TIMEOUT_S,  # a test on trio's mock clock may wait longer
    ) -> None:
        self.stream = stream
        self.read_timeout_s = read_timeout_s
        self.checker = checker
        self.raw_lines: list[bytes] = []
        self._buffer = bytearray()
        self._ids = itertools.count(1)
        self.notifications: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any]) -> None:
        if self.checker is not None:
            self.checker.client_sent(message)
        await self.stream.send_all(json.dumps(message).encode() + b"\n")

    async def send_raw(self, data: bytes) -> None:
        await self.stream.send_all(data)

    async def read_line(self) -> bytes:
        with trio.fail_after(self.read_timeout_s):
            while True:
                newline = self._buffer.find(b"\n")
                if newline >= 0:
                    line = bytes(self._buffer[:newline])
                    del self._buffer[: newline + 1]
                    self.raw_lines.append(line)
                    return line
                chunk = await self.stream.receive_some(1 << 16)
                if not chunk:
                    raise EOFError("agent closed its output")
                self._buffer += chunk

    async def receive(self) -> dict[str, Any]:
        line = await self.read_line()
        assert line.isascii(), "the agent must write ASCII-escaped JSON"
        message = json.loads(line)
        if self.checker is not None:
            self.checker.agent_sent(message)
        return message

    async def request(self, method: str, params: Any = None, *, request_id: Any = None) -> dict[str, Any]:
        """Send a request and return its response, keeping notifications in ``self.notifications``.

        Requests from the agent that arrive meanwhile are an error here; use
        ``send``/``receive`` directly for conversations with agent requests.
        """
        rid = next(self._ids) if request_id is None else request_id
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            message["params"] = params
        await self.send(message)
        return await self.response_to(rid)

    async def response_to(self, rid: Any) -> dict[str, Any]:
        while True:
            message = await self.receive()
            if "method" not in message and message.get("id") == rid and type(message.get("id")) is type(rid):
                return message
            if "method" in message and "id" not in message:
                self.notifications.append(message)
                continue
            raise AssertionError(f"unexpected message while waiting for {rid!r}: {message}")

    async def notify(self, method: str, params: Any = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        await self.send(message)

    async def answer(self, request_id: Any, result: Any) -> None:
        await self.send({"jsonrpc": "2.0", "id": request_id, "result": result})

    def next_id(self) -> int:
        return next(self._ids)
