"""The SDK's message streams over an :class:`~agentcore.mcp.channel.McpChannel`
(see that module for the contract). Imported only once a session has MCP
servers: it imports the SDK."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
import trio
from mcp.shared.message import SessionMessage
from mcp_types import ErrorData, JSONRPCError, JSONRPCNotification, JSONRPCRequest, JSONRPCResponse
from pydantic import ValidationError

from agentcore.mcp.channel import INTERNAL_ERROR, McpChannel, McpChannelClosed, McpChannelError

log = logging.getLogger(__name__)

INBOUND_BUFFER = 256  # messages queued for the SDK; notifications beyond it are dropped, answers wait
CANCELLED_NOTIFICATION = "notifications/cancelled"


@asynccontextmanager
async def channel_transport(
    channel: McpChannel, *, on_lost: Callable[[str], None]
) -> AsyncIterator[tuple[Any, Any]]:
    """The SDK's (read, write) message streams over ``channel``. ``on_lost`` is
    called with a reason when the peer goes away while the transport is open."""
    if channel.closed:
        raise McpChannelClosed(f"{channel.describe()}: the client that provides it has disconnected")
    read_send, read_recv = anyio.create_memory_object_stream[SessionMessage | Exception](INBOUND_BUFFER)
    write_send, write_recv = anyio.create_memory_object_stream[SessionMessage](0)
    in_flight: dict[Any, trio.CancelScope] = {}

    def deliver(notification: Mapping[str, Any]) -> None:
        try:
            message = JSONRPCNotification(jsonrpc="2.0", method=notification["method"], params=notification.get("params"))
        except (KeyError, ValidationError):
            log.debug("dropped a malformed notification from %s", channel.describe())
            return
        try:
            read_send.send_nowait(SessionMessage(message))
        except anyio.WouldBlock:
            log.warning("dropped a notification from %s: %d messages are already queued", channel.describe(), INBOUND_BUFFER)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass  # the client session has closed

    async def exchange(request: JSONRPCRequest, scope: trio.CancelScope) -> None:
        answer: SessionMessage | None = None
        with scope:
            try:
                outcome = await channel.exchange(request.method, request.params, deliver)
                answer = _response(request.id, outcome)
            except McpChannelClosed as exc:
                on_lost(str(exc))
                answer = _error(request.id, exc.code, str(exc))
            except McpChannelError as exc:
                answer = _error(request.id, exc.code, str(exc))
            finally:
                in_flight.pop(request.id, None)
        if answer is None:
            return  # cancelled: the SDK has stopped waiting for it
        try:
            await read_send.send(answer)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass

    async def carry_outgoing(nursery: trio.Nursery) -> None:
        async with write_recv:
            async for item in write_recv:
                message = item.message
                if isinstance(message, JSONRPCRequest):
                    scope = trio.CancelScope()
                    in_flight[message.id] = scope
                    nursery.start_soon(exchange, message, scope)
                elif isinstance(message, JSONRPCNotification) and message.method == CANCELLED_NOTIFICATION:
                    target = (message.params or {}).get("requestId")
                    if target in in_flight:
                        in_flight[target].cancel()
                else:  # other notifications, answers to server requests: no carrier
                    log.debug("%s: nothing carries %s", channel.describe(), getattr(message, "method", "a response"))

    async with read_send, trio.open_nursery() as nursery:
        nursery.start_soon(carry_outgoing, nursery)
        try:
            yield read_recv, write_send
        finally:
            nursery.cancel_scope.cancel()


def _response(request_id: Any, outcome: Mapping[str, Any]) -> SessionMessage:
    """The outcome as the SDK's answer; an unreadable one becomes an error answer."""
    try:
        if "result" in outcome:
            return SessionMessage(JSONRPCResponse(jsonrpc="2.0", id=request_id, result=outcome["result"]))
        return SessionMessage(JSONRPCError(jsonrpc="2.0", id=request_id, error=ErrorData.model_validate(outcome["error"])))
    except (KeyError, ValidationError) as exc:
        reason = str(exc).splitlines()[0][:200]
        return _error(request_id, INTERNAL_ERROR, f"the server's answer could not be read: {reason}")


def _error(request_id: Any, code: int, message: str) -> SessionMessage:
    return SessionMessage(JSONRPCError(jsonrpc="2.0", id=request_id, error=ErrorData(code=code, message=message)))

