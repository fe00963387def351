"""MCP servers reached through a peer the agent is already connected to.

A frontend's client can host MCP servers itself (ACP's MCP-over-ACP: the
editor's own tools). Nothing here knows ACP: the frontend gives the server's
:class:`~agentcore.mcp.spec.McpServerSpec` an :class:`McpChannel`, and
:func:`agentcore.mcp.channel_streams.channel_transport` turns it into the pair
of message streams the SDK's client runs on, as the stdio and HTTP transports do.

The channel is request-scoped, as MCP 2026-07-28 is: every MCP request the SDK
sends becomes one :meth:`McpChannel.exchange` (an independent round trip that
returns the inner MCP outcome), notifications the server sends while a request
runs (progress) belong to that request, and ``notifications/cancelled``
cancels the exchange it names (the frontend tells its peer). Other
notifications from our side (``notifications/initialized`` of the legacy
handshake, roots changes) have no carrier and are dropped; the server cannot
send requests of its own.

Failures: :class:`McpChannelError` is a binding failure (the peer has no such
server, or answered something that is not an MCP outcome), reported to the
SDK as an error response to that one request; :class:`McpChannelClosed` means
the peer is gone for good, and the connection reports the server lost.

This module does not import the SDK: frontends implement the protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from agentcore.errors import McpError

INTERNAL_ERROR = -32603  # JSON-RPC: the answer could not be read
CONNECTION_CLOSED = -32000  # the SDK's code for a connection that went away (never sent on a wire)

NotificationSink = Callable[[Mapping[str, Any]], None]


class McpChannelError(McpError):
    """The channel could not carry one request; ``code`` is the JSON-RPC code the SDK sees."""

    def __init__(self, message: str, *, code: int = INTERNAL_ERROR) -> None:
        super().__init__(message)
        self.code = code


class McpChannelClosed(McpChannelError):
    """The peer that hosts the server has gone; nothing more will cross."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code=CONNECTION_CLOSED)


class McpChannel(Protocol):
    """How to reach one MCP server that a frontend's peer hosts."""

    @property
    def closed(self) -> bool:
        """True once the peer is gone for good (no restart can help)."""
        ...

    def describe(self) -> str:
        """One secret-free line for status displays."""
        ...

    async def exchange(
        self, method: str, params: Mapping[str, Any] | None, on_notification: NotificationSink
    ) -> Mapping[str, Any]:
        """Carry one MCP request and return its outcome: ``{"result": ...}`` or
        ``{"error": {"code", "message", "data"?}}``. While it runs,
        ``on_notification`` gets (without blocking) each ``{"method", "params"}``
        the server sends for it. Cancelling the call cancels the request at the
        peer. Raises :class:`McpChannelError` / :class:`McpChannelClosed`."""
        ...
