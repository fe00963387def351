"""A bounded queue of agent->client messages for one stream (SSE stream or WebSocket).

Invariant: an outbox never holds more than :data:`OUTBOX_CAPACITY` messages.
A producer waits while it is full (backpressure: a JSON-RPC answer is never
dropped, since a dropped answer hangs the peer's request forever), but no
longer than :data:`SLOW_CLIENT_TIMEOUT_S`; then the outbox reports
:class:`ClientTooSlow` and its connection is closed with that reason, so a
client that stopped reading cannot hold the agent's sends hostage. Messages
queued before a reader subscribes wait for it (the SSE stream of a new
session opens after its ``session/new`` answer).
"""

from __future__ import annotations

import trio

from agentcore.acp.remote.errors import ServeError

OUTBOX_CAPACITY = 1024  # messages; a streamed turn coalesces deltas, so this is many seconds of output
SLOW_CLIENT_TIMEOUT_S = 30.0  # seconds a full outbox may stay full before its client is dropped


class ClientTooSlow(ServeError):
    """The client did not read its stream for :data:`SLOW_CLIENT_TIMEOUT_S` seconds."""


class Outbox:
    def __init__(self, *, capacity: int = OUTBOX_CAPACITY, slow_timeout_s: float = SLOW_CLIENT_TIMEOUT_S) -> None:
        self._send, self._receive = trio.open_memory_channel[bytes](capacity)
        self._slow_timeout_s = slow_timeout_s
        self.subscribed = False  # a reader is attached (one at a time; the reader sets it)

    async def push(self, message: bytes) -> None:
        """Queue one message (JSON text without LF). Raises :class:`trio.ClosedResourceError`
        once closed and :class:`ClientTooSlow` when the reader fell behind."""
        try:
            self._send.send_nowait(message)
            return
        except trio.WouldBlock:
            pass
        with trio.move_on_after(self._slow_timeout_s):
            await self._send.send(message)
            return
        raise ClientTooSlow(f"the client read nothing for {self._slow_timeout_s:g} s with {self.pending} messages waiting")

    @property
    def pending(self) -> int:
        return self._send.statistics().current_buffer_used

    def close(self) -> None:
        """Readers see the end once they took what was queued."""
        self._send.close()

    async def next_message(self) -> bytes | None:
        """One message, or None once closed and drained."""
        try:
            return await self._receive.receive()
        except trio.EndOfChannel:
            return None
