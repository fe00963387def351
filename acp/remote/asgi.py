"""The ASGI app of ``agent serve``: ``/acp`` (Streamable HTTP and WebSocket) and ``/health``.

ACP's remote transport, as the protocol's RFD "Streamable HTTP & WebSocket
Transport" and the official SDKs' clients speak it:

* ``POST /acp`` with ``initialize`` opens a connection: 200, the answer as
  the body, its id in ``Acp-Connection-Id``;
* any other ``POST`` (a request, a notification, an answer to the agent's
  request) names the connection and, for methods about an existing session,
  the session (``Acp-Session-Id``); 202, the answer follows on a stream;
* ``GET`` with ``Accept: text/event-stream`` opens the connection's SSE
  stream, or a session's with ``Acp-Session-Id``;
* ``DELETE`` ends the connection (its sessions stay live in the server);
* ``GET`` with ``Upgrade: websocket``: one JSON-RPC message per text frame;
* ``GET /voice`` with ``Upgrade: websocket``: a voice call into a live session
  (:mod:`~agentcore.acp.remote.voice`);
* ``/``, ``/static/...`` and ``/auth``: the web page, its files and its
  token-for-cookie login (:mod:`~agentcore.acp.web.routes`).

Invariant: :func:`~agentcore.acp.remote.auth.check_request` has passed
before any handler reads a body, opens a stream or touches a connection.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import trio

from agentcore.acp.jsonrpc import MAX_MESSAGE_BYTES, decode_line
from agentcore.acp.remote import auth
from agentcore.acp.remote.connection import ConnectionRegistry, RemoteConnection, TransportKind
from agentcore.acp.remote.ops import ServeOps
from agentcore.acp.remote.voice import VOICE_PATH, VoiceCalls
from agentcore.acp.remote.websocket import serve_websocket
from agentcore.acp.web import routes as web

log = logging.getLogger("acp.remote")

ACP_PATH = "/acp"
READY_PATH = "/ready"  # readiness: the store and Temporal answer (503 when not)
METRICS_PATH = "/metrics"  # Prometheus text format
CONTENT_TYPE_METRICS = "text/plain; version=0.0.4; charset=utf-8"
CONNECTION_ID_HEADER = b"acp-connection-id"
SESSION_ID_HEADER = b"acp-session-id"
CONTENT_TYPE_JSON = "application/json"
CONTENT_TYPE_SSE = "text/event-stream"
SSE_KEEPALIVE_S = 15.0  # seconds of silence before a keep-alive comment; what proxies tolerate
# Methods about a session that already exists: their POST carries Acp-Session-Id.
SESSION_SCOPED_METHODS = frozenset(
    {"session/prompt", "session/cancel", "session/set_mode", "session/set_config_option", "session/close"}
)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def _error(text: str) -> bytes:
    return json.dumps({"error": text}).encode()


class ServeApp:
    """ASGI 3 application. ``origins`` is filled in once the listen port is known."""

    def __init__(self, *, registry: ConnectionRegistry, health: Callable[[], dict[str, Any]], token: str) -> None:
        self.registry = registry
        self._health = health
        self._token = token
        self.voices = VoiceCalls(registry.hub)
        self.ops = ServeOps(registry.hub)  # /ready and /metrics (acp/remote/ops.py)
        self.logins = auth.WebLogins()  # browsers logged in through /auth
        self.origins: frozenset[str] = frozenset()  # until set, every request with an Origin is refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await _lifespan(receive, send)
            return
        if kind not in ("http", "websocket"):
            return
        refusal = auth.check_request(
            path=scope["path"],
            query_string=scope.get("query_string", b""),
            headers=scope["headers"],
            token=self._token,
            origins=self.origins,
            logins=self.logins,
        )
        if kind == "websocket" and refusal is None and scope["path"] == VOICE_PATH:
            await self.voices.serve(scope, receive, send)
            return
        if kind == "websocket":  # refusals (of /voice too) and /acp
            await serve_websocket(scope, receive, send, registry=self.registry, refusal=refusal, path=ACP_PATH)
            return
        if refusal is not None:
            await _respond(send, refusal.status, refusal.body, refusal.headers)
            return
        await self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        if path == auth.HEALTH_PATH:
            if method not in ("GET", "HEAD"):
                await _respond(send, 405, _error("method not allowed"), ((b"allow", b"GET"),))
                return
            body = json.dumps(self._health()).encode()
            await _respond(send, 200, body if method == "GET" else b"", ((b"cache-control", b"no-store"),))
            return
        if path in (READY_PATH, METRICS_PATH):  # both behind the token (check_request), unlike /health
            if method not in ("GET", "HEAD"):
                await _respond(send, 405, _error("method not allowed"), ((b"allow", b"GET"),))
                return
            if path == READY_PATH:
                ready, report = await self.ops.readiness()
                body, status, kind = json.dumps(report).encode(), 200 if ready else 503, CONTENT_TYPE_JSON
            else:
                body, status, kind = (await self.ops.render_metrics()).encode(), 200, CONTENT_TYPE_METRICS
            headers = ((b"content-type", kind.encode()), (b"cache-control", b"no-store"))  # fmt: skip
            await _respond(send, status, body if method == "GET" else b"", headers)
            return
        if web.is_web_path(path):
            await web.serve(scope, receive, send, token=self._token, logins=self.logins)
            return
        if path != ACP_PATH:
            await _respond(send, 404, _error("not found"))
            return
        match method:
            case "POST":
                await self._post(scope, receive, send)
            case "GET":
                await self._get(scope, receive, send)
            case "DELETE":
                await self._delete(scope, send)
            case _:
                await _respond(send, 405, _error("method not allowed"), ((b"allow", b"GET, POST, DELETE"),))

    async def _post(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = scope["headers"]
        content_type = auth.header(headers, b"content-type") or ""
        if not content_type.lower().startswith(CONTENT_TYPE_JSON):
            await _respond(send, 415, _error("Content-Type must be application/json"))
            return
        body = await _read_body(receive, MAX_MESSAGE_BYTES)
        if body is None:
            await _respond(send, 413, _error(f"message over {MAX_MESSAGE_BYTES} bytes"))
            return
        try:
            message = decode_line(body)
        except ValueError:
            await _respond(send, 400, _error("invalid JSON"))
            return
        if isinstance(message, list):
            await _respond(send, 501, _error("batch requests are not supported"))
            return
        if not isinstance(message, dict):
            await _respond(send, 400, _error("expected a JSON-RPC message object"))
            return
        if message.get("method") == "initialize" and "id" in message:
            await self._initialize(scope, send, body, message["id"])
            return
        conn = await self._connection(scope, send)
        if conn is None:
            return
        session_id = auth.header(headers, SESSION_ID_HEADER)
        if message.get("method") in SESSION_SCOPED_METHODS and session_id is None:
            await _respond(send, 400, _error("Acp-Session-Id header required"))
            return
        if session_id is not None and conn.stream(session_id) is None:
            await self._unknown_session(send, session_id)
            return
        try:
            await conn.deliver(body, message)
        except trio.ClosedResourceError:
            await _respond(send, 404, _error("unknown connection id"))
            return
        await _respond(send, 202, b"")

    async def _unknown_session(self, send: Send, session_id: str) -> None:
        """404, or 307 to the server that holds the session when a shared session
        store ([store] url) names one (docs/scale.md)."""
        owner = await _owner_url(self.registry.hub, session_id)
        if owner is None:
            await _respond(send, 404, _error("unknown session id"))
            return
        await _respond(send, 307, _error(f"session {session_id} is live on {owner}"), ((b"location", owner.encode()),))

    async def _initialize(self, scope: Scope, send: Send, body: bytes, request_id: Any) -> None:
        conn = self.registry.open(TransportKind.HTTP, peer=_peer(scope))
        answer = await conn.request(body, request_id)
        if answer is None:
            conn.close("initialize was not answered")
            await _respond(send, 504, _error("initialize timed out"))
            return
        await _respond(send, 200, answer, ((CONNECTION_ID_HEADER, conn.id.encode()),))

    async def _connection(self, scope: Scope, send: Send) -> RemoteConnection | None:
        connection_id = auth.header(scope["headers"], CONNECTION_ID_HEADER)
        if connection_id is None:
            await _respond(send, 400, _error("Acp-Connection-Id header required"))
            return None
        conn = self.registry.get(connection_id)
        if conn is None:
            await _respond(send, 404, _error("unknown connection id"))
        return conn

    async def _get(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = scope["headers"]
        accept = auth.header(headers, b"accept") or ""
        if CONTENT_TYPE_SSE not in accept and "*/*" not in accept:
            await _respond(send, 406, _error("Accept must include text/event-stream"))
            return
        conn = await self._connection(scope, send)
        if conn is None:
            return
        outbox = conn.stream(auth.header(headers, SESSION_ID_HEADER))
        if outbox is None:
            await _respond(send, 404, _error("unknown session id"))
            return
        if outbox.subscribed:
            await _respond(send, 409, _error("this stream is already open"))
            return
        outbox.subscribed = True
        try:
            await send({
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", CONTENT_TYPE_SSE.encode()),
                    (b"cache-control", b"no-cache"),
                    (b"x-accel-buffering", b"no"),
                ],
            })
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_cancel_on_disconnect, receive, nursery.cancel_scope)
                await _stream_events(outbox, send)
                nursery.cancel_scope.cancel()
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            outbox.subscribed = False
            conn.touch()

    async def _delete(self, scope: Scope, send: Send) -> None:
        conn = await self._connection(scope, send)
        if conn is None:
            return
        conn.close("the client ended the connection")
        await _respond(send, 202, b"")


async def _owner_url(hub: Any, session_id: str) -> str | None:
    """The URL of the other server whose live lease holds ``session_id`` (a shared store only)."""
    try:
        loader = getattr(hub.setup().core, "loader", None)
    except Exception:  # no set-up: nothing to ask
        return None
    owner_url = getattr(loader, "owner_url", None)
    if not callable(owner_url):
        return None
    try:
        return await trio.to_thread.run_sync(owner_url, session_id)
    except Exception:  # the store cannot answer: the session is simply unknown here
        return None


async def _stream_events(outbox: Any, send: Send) -> None:
    """SSE frames from ``outbox`` until it closes; a comment line when idle."""
    while True:
        with trio.move_on_after(SSE_KEEPALIVE_S) as idle:
            message = await outbox.next_message()
        if idle.cancelled_caught:
            await send({"type": "http.response.body", "body": b": keepalive\n\n", "more_body": True})
            continue
        if message is None:
            return
        await send({"type": "http.response.body", "body": b"data: " + message + b"\n\n", "more_body": True})


async def _cancel_on_disconnect(receive: Receive, scope: trio.CancelScope) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    scope.cancel()


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The request body, or None when it is over ``limit`` bytes (the rest is not kept)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond(send: Send, status: int, body: bytes, headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    typed = any(name == b"content-type" for name, _ in headers)  # /metrics is text/plain
    head = [*(() if typed else ((b"content-type", b"application/json"),)), (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _peer(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "unknown"


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
