"""MCP over ACP: MCP servers that live in the client (the editor's own tools).

What the protocol says (ACP's unstable schema as shipped in the official
TypeScript SDK ``@agentclientprotocol/sdk`` 2.4.0, ``schema/v1/schema.unstable.json``
and ``dist/mcp/core``; the Rust schema crate 1.22 has the same fields):

- The agent advertises ``agentCapabilities.mcpCapabilities.acp: true``.
- The client declares a server in ``session/new`` / ``load`` / ``resume``
  ``mcpServers`` as ``{"type": "acp", "name", "serverId"}``; ``serverId`` is
  opaque, chosen by the client, unique on the connection.
- ``mcp/message`` **request, agent -> client** carries one inner MCP request:
  ``{"serverId", "requestId", "method", "params"?, "_meta"?}``. ``requestId``
  is a string the caller picks, never reused while active for that server.
  The answer is the inner outcome: ``{"result": ...}`` or
  ``{"error": {"code", "message", "data"?}}`` (an MCP error travels inside a
  successful ACP answer). Outer ACP errors are binding failures: -32602 bad
  envelope or duplicate active id, -32800 cancelled, -33000 too many active
  requests, -33001 no such server, -33002 the server failed without an outcome.
- ``mcp/message`` **notification, client -> agent** carries an MCP notification
  the server sends for an active request (progress, subscription events),
  with the same ``serverId`` and ``requestId``; for an unknown or finished
  request it is dropped.
- Cancelling an inner request is ``$/cancel_request`` of the outer one.
- The inner protocol is MCP 2026-07-28, where every request stands alone and
  carries ``_meta`` ``io.modelcontextprotocol/protocolVersion`` and
  ``.../clientCapabilities`` (the SDK's client adds them; it starts with
  ``server/discover``). There is no handshake, hence no connection.

An earlier draft of the proposal (the RFD "MCP over ACP" and the Rust schema
crate up to 1.21) opened a connection first (``mcp/connect`` with the server's
id, answered with a ``connectionId``; ``mcp/message`` both ways on it;
``mcp/disconnect``). The official SDK dropped that; this module speaks the
request-scoped form only.

Here: :class:`McpOverAcpRouter` (one per ACP connection) hands each ``acp``
server's spec an :class:`AcpMcpChannel`, an :class:`agentcore.mcp.McpChannel`,
so the runtime runs it like any MCP server (tools ``mcp__<server>__<tool>``,
the same permission gate). The client's requests to the agent are refused:
the agent hosts no MCP servers for it.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Mapping
from typing import Any

import trio

from agentcore.acp.jsonrpc import (
    ConnectionClosed,
    InvalidParams,
    JsonRpcError,
    RemoteError,
    RequestContext,
)
from agentcore.mcp import McpChannelClosed, McpChannelError

log = logging.getLogger(__name__)

MCP_MESSAGE_METHOD = "mcp/message"
ACP_SERVER_TYPE = "acp"  # the mcpServers entry type
SERVER_UNAVAILABLE = -33001  # binding error: no registration for that serverId
REQUEST_ID_PREFIX = "agentcore-"  # our requestIds: a counter per connection, never reused

NotificationSink = Callable[[Mapping[str, Any]], None]


class McpOverAcpRouter:
    """One per ACP connection: the client-hosted MCP servers it carries and
    the inner requests in flight (to route the client's notifications)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self._active: dict[tuple[str, str], NotificationSink] = {}
        self._ids = itertools.count(1)
        self._closed = False

    @property
    def closed(self) -> bool:
        """The ACP connection has ended (or is ending: nothing more can cross)."""
        return self._closed or bool(getattr(self.conn, "closed", False))

    def channel(self, server_id: str, name: str) -> AcpMcpChannel:
        """The way to the server the client declared as ``serverId``."""
        return AcpMcpChannel(self, server_id, name)

    async def handle_request(self, method: str, params: Any, ctx: RequestContext) -> Any:
        """A client's ``mcp/message`` request would address an MCP server the
        agent hosts; it hosts none."""
        problem = envelope_problem(params)
        if problem is not None:
            raise InvalidParams(f"Invalid mcp/message params: {problem[0]}: {problem[1]}",
                                {"path": problem[0], "error": problem[1]})  # fmt: skip
        raise JsonRpcError(
            SERVER_UNAVAILABLE,
            "MCP server registration unavailable: this agent provides no MCP servers over ACP",
            {"serverId": params["serverId"]},
        )

    async def handle_notification(self, method: str, params: Any, ctx: RequestContext) -> None:
        """A server's notification for one of our requests; never blocks."""
        problem = envelope_problem(params)
        if problem is not None:
            log.warning("ignored an mcp/message notification: %s: %s", *problem)
            return
        sink = self._active.get((params["serverId"], params["requestId"]))
        if sink is None:
            log.debug("dropped an mcp/message notification for an inactive request %r", params["requestId"])
            return
        sink({"method": params["method"], "params": params.get("params")})

    async def aclose(self) -> None:
        """The ACP connection ended: every server it carried is gone for good."""
        self._closed = True
        self._active.clear()

    # ---------------------------------------------------------- for channels

    async def exchange(
        self, server_id: str, name: str, method: str, params: Mapping[str, Any] | None, sink: NotificationSink
    ) -> Mapping[str, Any]:
        if self.closed:
            raise McpChannelClosed(f"MCP server {name}: the ACP client that provides it has disconnected")
        request_id = f"{REQUEST_ID_PREFIX}{next(self._ids)}"
        envelope: dict[str, Any] = {"serverId": server_id, "requestId": request_id, "method": method}
        if params is not None:
            envelope["params"] = dict(params)
        key = (server_id, request_id)
        self._active[key] = sink
        try:
            answer = await self.conn.request(MCP_MESSAGE_METHOD, envelope)
        except RemoteError as exc:
            raise McpChannelError(
                f"the ACP client could not carry {method} to MCP server {name}: {exc.message} (ACP error {exc.code})",
                code=exc.code,
            ) from None
        except (ConnectionClosed, trio.BrokenResourceError, trio.ClosedResourceError):
            raise McpChannelClosed(f"MCP server {name}: the ACP client that provides it has disconnected") from None
        finally:
            self._active.pop(key, None)
        return _outcome(answer, method, name)


class AcpMcpChannel:
    """:class:`agentcore.mcp.McpChannel` for one server the ACP client hosts."""

    def __init__(self, router: McpOverAcpRouter, server_id: str, name: str) -> None:
        self.router = router
        self.server_id = server_id
        self.name = name

    @property
    def closed(self) -> bool:
        return self.router.closed

    def describe(self) -> str:
        return f"the ACP client (MCP over ACP, serverId {self.server_id})"

    async def exchange(
        self, method: str, params: Mapping[str, Any] | None, on_notification: NotificationSink
    ) -> Mapping[str, Any]:
        return await self.router.exchange(self.server_id, self.name, method, params, on_notification)


def envelope_problem(params: Any) -> tuple[str, str] | None:
    """(path, what is wrong) with an ``mcp/message`` envelope, or None."""
    if not isinstance(params, Mapping):
        return "", "expected an object"
    for field in ("serverId", "requestId", "method"):
        if not isinstance(params.get(field), str) or not params[field]:
            return field, "required non-empty string"
    if not isinstance(params.get("params"), Mapping | None):
        return "params", "expected an object or null"
    return None


def _outcome(answer: Any, method: str, name: str) -> Mapping[str, Any]:
    """The inner outcome of an answer; ``result`` wins when both are there."""
    if isinstance(answer, Mapping):
        if "result" in answer:
            return {"result": answer["result"]}
        error = answer.get("error")
        code = error.get("code") if isinstance(error, Mapping) else None
        if isinstance(code, int) and not isinstance(code, bool) and isinstance(error.get("message"), str):
            return {"error": dict(error)}
    raise McpChannelError(
        f"the ACP client answered {method} for MCP server {name} with neither "
        '{"result": ...} nor {"error": {"code", "message"}}'
    )
