"""One ACP connection over WebSocket or Streamable HTTP, as a
:class:`~agentcore.acp.jsonrpc.MessageTransport` the hub serves.

Client->agent messages arrive from ASGI handlers (a WebSocket frame, a POST
body) and wait in a bounded inbound queue; the hub's connection reads them.
Agent->client messages go to outboxes:

* WebSocket: one outbox, the socket;
* HTTP: the connection-scoped SSE stream, or a session's stream. A request or
  notification whose ``params.sessionId`` names a session this connection
  established goes to that session's stream, and so does the answer to a
  client request that named one; answers that establish a session
  (``session/new``, ``load``, ``resume``: their result carries ``sessionId``)
  go to the connection stream, since the client opens the session's stream
  only after it learns the id. Everything else goes to the connection stream.
  The answer to ``initialize`` is handed to the POST that carried it.

Invariant: every connection's ``hub.serve`` runs in the registry's nursery
(the server's), never in a request handler's; closing a connection ends its
inbound queue (so ``hub.serve`` returns) and its outboxes (so its streams end
once drained).
"""

from __future__ import annotations

import enum
import json
import logging
import secrets
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import trio

from agentcore.acp.agent import ClientInfo
from agentcore.acp.jsonrpc import OVERSIZED
from agentcore.acp.remote.outbox import ClientTooSlow, Outbox

if TYPE_CHECKING:
    from agentcore.acp.hub import AcpHub

log = logging.getLogger("acp.remote")

INBOUND_QUEUE_MESSAGES = 64  # client messages waiting for the agent; a POST waits while it is full
INITIALIZE_TIMEOUT_S = 30.0  # seconds the initialize POST waits for its answer
IDLE_HTTP_CONNECTION_S = 600.0  # an HTTP connection with no open stream and no POST for this long is closed
IDLE_CHECK_S = 30.0  # how often idle HTTP connections are looked for
CONNECTION_ID_BYTES = 16  # random bytes of a connection id (hex on the wire)


class TransportKind(enum.Enum):
    HTTP = "http"
    WEBSOCKET = "websocket"


def id_key(request_id: Any) -> str:
    """A JSON-RPC id as a routing key: 1 and "1" stay apart, as in the connection."""
    return json.dumps(request_id)


@attrs.define
class _Waiter:
    done: trio.Event = attrs.field(factory=trio.Event)
    answer: bytes | None = None


class RemoteConnection:
    """Create through :meth:`ConnectionRegistry.open`."""

    def __init__(self, connection_id: str, kind: TransportKind) -> None:
        self.id = connection_id
        self.kind = kind
        self._inbound_send, self._inbound_receive = trio.open_memory_channel[bytes](INBOUND_QUEUE_MESSAGES)
        self.connection_stream = Outbox()
        self.session_streams: dict[str, Outbox] = {}
        self._routes: dict[str, str] = {}  # id key of a client request -> the session it named
        self._waiters: dict[str, _Waiter] = {}  # id key -> an answer a request handler waits for
        self.closed = trio.Event()
        self.close_reason = ""
        self.last_active = trio.current_time()

    # ------------------------------------------------ MessageTransport (the hub's side)

    async def receive_messages(self, max_message_bytes: int) -> AsyncIterator[bytes]:
        async for message in self._inbound_receive:
            yield OVERSIZED if len(message) > max_message_bytes else message

    async def send_messages(self, messages: Sequence[bytes]) -> None:
        for data in messages:
            text = data[:-1] if data.endswith(b"\n") else data
            try:
                await self._route(text)
            except ClientTooSlow as exc:
                log.warning("connection %s: %s; closing it", self.id[:8], exc)
                self.close(str(exc))
                raise trio.BrokenResourceError(str(exc)) from None
            except trio.ClosedResourceError:
                raise trio.BrokenResourceError("the connection is closed") from None

    # ------------------------------------------------ the ASGI handlers' side

    async def deliver(self, body: bytes, message: Any = None) -> None:
        """Hand one client message to the agent (``message`` is its parsed form, for routing).
        Raises :class:`trio.ClosedResourceError` when the connection is closed."""
        self.last_active = trio.current_time()
        if isinstance(message, dict) and "method" in message and "id" in message:
            session_id = _session_id(message.get("params"))
            if session_id is not None:
                self._routes[id_key(message["id"])] = session_id
        try:
            await self._inbound_send.send(body)
        except trio.BrokenResourceError:
            raise trio.ClosedResourceError("the connection is closed") from None

    async def request(self, body: bytes, request_id: Any) -> bytes | None:
        """Deliver a request and wait for its answer (``initialize`` over HTTP);
        None when it did not come within :data:`INITIALIZE_TIMEOUT_S`."""
        key = id_key(request_id)
        waiter = self._waiters[key] = _Waiter()
        try:
            await self.deliver(body)
            with trio.move_on_after(INITIALIZE_TIMEOUT_S):
                await waiter.done.wait()
            return waiter.answer
        finally:
            self._waiters.pop(key, None)

    def stream(self, session_id: str | None) -> Outbox | None:
        """The outbox an SSE GET reads: the connection's, or a session's this connection knows."""
        if session_id is None:
            return self.connection_stream
        return self.session_streams.get(session_id)

    def touch(self) -> None:
        self.last_active = trio.current_time()

    @property
    def idle_since(self) -> float | None:
        """When the connection was last used, or None while a stream is open."""
        streams = [self.connection_stream, *self.session_streams.values()]
        if any(outbox.subscribed for outbox in streams):
            return None
        return self.last_active

    def end_input(self, reason: str) -> None:
        """No more client messages: the hub's connection drains, answers what is
        in flight, then returns and :meth:`close` follows (server shutdown)."""
        if not self.close_reason:
            self.close_reason = reason
        self._inbound_send.close()

    def close(self, reason: str) -> None:
        """End everything now: input, streams (after what they hold), waiting requests."""
        if self.closed.is_set():
            return
        self.end_input(reason)
        self.connection_stream.close()
        for outbox in self.session_streams.values():
            outbox.close()
        for waiter in self._waiters.values():
            waiter.done.set()
        self.closed.set()

    # ------------------------------------------------ routing

    async def _route(self, text: bytes) -> None:
        if self.kind is TransportKind.WEBSOCKET:
            await self.connection_stream.push(text)
            return
        message = json.loads(text)  # our own encoding: always one JSON object
        if "method" in message:
            session_id = _session_id(message.get("params"))
            outbox = self.session_streams.get(session_id) if session_id is not None else None
            await (outbox or self.connection_stream).push(text)
            return
        key = id_key(message.get("id"))
        waiter = self._waiters.get(key)
        if waiter is not None:
            waiter.answer = text
            waiter.done.set()
            return
        requested_for = self._routes.pop(key, None)
        established = _session_id(message.get("result"))
        if established is not None:
            if established not in self.session_streams:
                self.session_streams[established] = Outbox()
            await self.connection_stream.push(text)
            return
        outbox = self.session_streams.get(requested_for) if requested_for is not None else None
        await (outbox or self.connection_stream).push(text)


def _session_id(value: Any) -> str | None:
    if isinstance(value, dict):
        session_id = value.get("sessionId")
        if isinstance(session_id, str):
            return session_id
    return None


class ConnectionRegistry:
    """The server's open HTTP and WebSocket connections, each served by the hub
    in the registry's nursery."""

    def __init__(self, hub: AcpHub, nursery: trio.Nursery) -> None:
        self._hub = hub
        self._nursery = nursery
        self.connections: dict[str, RemoteConnection] = {}

    @property
    def hub(self) -> AcpHub:
        return self._hub

    def open(self, kind: TransportKind, *, peer: str) -> RemoteConnection:
        conn = RemoteConnection(secrets.token_hex(CONNECTION_ID_BYTES), kind)
        self.connections[conn.id] = conn
        self._nursery.start_soon(self._serve, conn, ClientInfo(kind.value, peer, conn.id))
        return conn

    def get(self, connection_id: str | None) -> RemoteConnection | None:
        return self.connections.get(connection_id) if connection_id else None

    def end_all(self, reason: str) -> None:
        """Stop taking client messages on every connection; each closes once its
        in-flight requests are answered (their answers still reach the client)."""
        for conn in list(self.connections.values()):
            conn.end_input(reason)

    async def _serve(self, conn: RemoteConnection, client: ClientInfo) -> None:
        try:
            try:
                async with trio.open_nursery() as nursery:
                    if conn.kind is TransportKind.HTTP:
                        nursery.start_soon(_close_when_idle, conn)
                    await self._hub.serve(conn, client=client)
                    nursery.cancel_scope.cancel()
            except* (trio.BrokenResourceError, trio.ClosedResourceError):
                log.info("connection %s: the client went away", conn.id[:8])
        except Exception:  # one connection's failure must not end the server
            log.exception("connection %s failed", conn.id[:8])
        finally:
            self.connections.pop(conn.id, None)
            conn.close("the agent ended the connection")


async def _close_when_idle(conn: RemoteConnection) -> None:
    """An HTTP client that vanished without ``DELETE`` leaves no socket to notice; time tells."""
    while not conn.closed.is_set():
        await trio.sleep(IDLE_CHECK_S)
        since = conn.idle_since
        if since is not None and trio.current_time() - since > IDLE_HTTP_CONNECTION_S:
            log.info("connection %s: idle for %g s; closing it", conn.id[:8], IDLE_HTTP_CONNECTION_S)
            conn.close("idle")
