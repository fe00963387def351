"""MCP over ACP: MCP servers that live in the client (editor-side tools).

A client lists an MCP server of type ``acp`` in ``session/new``; the agent
speaks MCP to it over the same ACP connection (``mcp/connect``,
``mcp/message``, ``mcp/disconnect``). This module routes those messages; the
tools join the session registry like any MCP server's.

(Being built: the router below is the interface :mod:`agentcore.acp.agent`
calls; until then it refuses every message it is given.)
"""

from __future__ import annotations

from typing import Any

from agentcore.acp.jsonrpc import MethodNotFound, RequestContext

MCP_MESSAGE_METHOD = "mcp/message"


class McpOverAcpRouter:
    """One per ACP connection: the MCP-over-ACP connections it carries."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def handle_request(self, method: str, params: Any, ctx: RequestContext) -> Any:
        raise MethodNotFound(method)

    async def handle_notification(self, method: str, params: Any, ctx: RequestContext) -> None:
        return None

    async def aclose(self) -> None:
        """The ACP connection ended: every MCP connection over it is gone."""
