"""ACP over one WebSocket: a text frame is one JSON-RPC message, both ways.

A refused handshake is answered with the refusal's status and fixed body
(ASGI's ``websocket.http.response`` extension), never accepted. An accepted
socket selects the subprotocol ``acp`` when the client offered it, and never
one carrying the token (``agentcore.bearer.<token>``), which would echo the
secret back in the handshake.

Invariant: the socket's connection is served by the hub in the server's
nursery; this handler only moves frames. When the client goes away the
connection closes (its sessions stay live); when the server ends the
connection, the socket is closed with code 1001 and the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import trio

from agentcore.acp.remote.auth import Refusal, offered_subprotocols
from agentcore.acp.remote.connection import ConnectionRegistry, RemoteConnection, TransportKind

log = logging.getLogger("acp.remote")

ACP_SUBPROTOCOL = "acp"
GOING_AWAY = 1001  # WebSocket close code: the server is going down or dropped the connection
CLOSE_REASON_MAX_BYTES = 123  # a close frame's reason must fit in a control frame
NOT_FOUND = Refusal(404, b'{"error":"not found"}')

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def serve_websocket(
    scope: MutableMapping[str, Any],
    receive: Receive,
    send: Send,
    *,
    registry: ConnectionRegistry,
    refusal: Refusal | None,
    path: str,
) -> None:
    if (await receive())["type"] != "websocket.connect":
        return
    if refusal is None and scope["path"] != path:
        refusal = NOT_FOUND
    if refusal is not None:
        await _reject(scope, send, refusal)
        return
    client = scope.get("client")
    conn = registry.open(TransportKind.WEBSOCKET, peer=f"{client[0]}:{client[1]}" if client else "unknown")
    accept: dict[str, Any] = {"type": "websocket.accept", "headers": [(b"acp-connection-id", conn.id.encode())]}
    if ACP_SUBPROTOCOL in offered_subprotocols(scope["headers"]):
        accept["subprotocol"] = ACP_SUBPROTOCOL
    await send(accept)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_frames_out, conn, send, nursery.cancel_scope)
        await _frames_in(conn, receive)
        conn.close("the client closed the WebSocket")
        nursery.cancel_scope.cancel()


async def _reject(scope: MutableMapping[str, Any], send: Send, refusal: Refusal) -> None:
    if "websocket.http.response" in scope.get("extensions", {}):
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(refusal.body)).encode())]
        await send({"type": "websocket.http.response.start", "status": refusal.status, "headers": [*headers, *refusal.headers]})
        await send({"type": "websocket.http.response.body", "body": refusal.body})
    else:
        await send({"type": "websocket.close"})  # the server answers 403


async def _frames_in(conn: RemoteConnection, receive: Receive) -> None:
    while True:
        event = await receive()
        if event["type"] == "websocket.disconnect":
            return
        if event["type"] != "websocket.receive":
            continue
        text = event.get("text")
        if text is None:
            log.info("connection %s: ignored a binary frame (ACP uses text frames)", conn.id[:8])
            continue
        try:
            await conn.deliver(text.encode("utf-8"))
        except trio.ClosedResourceError:
            return


async def _frames_out(conn: RemoteConnection, send: Send, done: trio.CancelScope) -> None:
    while (message := await conn.connection_stream.next_message()) is not None:
        await send({"type": "websocket.send", "text": message.decode("utf-8")})
    reason = conn.close_reason.encode("utf-8")[:CLOSE_REASON_MAX_BYTES].decode("utf-8", "ignore")
    await send({"type": "websocket.close", "code": GOING_AWAY, "reason": reason})
    done.cancel()
