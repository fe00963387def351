"""The MCP wing: Model Context Protocol servers as a session's tool layer.

- :mod:`~agentcore.mcp.manager` — ``McpToolFactory`` / ``McpManager``: which
  servers a session starts, their tools as one registry layer;
- :mod:`~agentcore.mcp.spec` — ``McpServerSpec`` from configuration and
  ``.mcp.json`` (no SDK import);
- :mod:`~agentcore.mcp.connection` — one server: start, list, call, restart;
- :mod:`~agentcore.mcp.stdio` — the bounded stdio transport;
- :mod:`~agentcore.mcp.channel` — ``McpChannel``: a server a frontend's client
  hosts (MCP over ACP); :mod:`~agentcore.mcp.channel_streams` bridges it to the SDK;
- :mod:`~agentcore.mcp.state` — server status values;
- :mod:`~agentcore.mcp.elicitation` — a server asking the user, through the frontend's ``Elicitor``;
- :mod:`~agentcore.mcp.tools` — MCP tools as agentcore tools (names, safety).

The MCP SDK is imported only when a session actually has servers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentcore._lazy import lazy_exports

_EXPORTS = {
    "McpToolFactory": "agentcore.mcp.manager",
    "McpManager": "agentcore.mcp.manager",
    "McpRegistry": "agentcore.mcp.manager",
    "McpServerSpec": "agentcore.mcp.spec",
    "McpConfigError": "agentcore.mcp.spec",
    "Transport": "agentcore.mcp.spec",
    "McpChannel": "agentcore.mcp.channel",
    "Elicitation": "agentcore.mcp.elicitation",
    "ElicitationAnswer": "agentcore.mcp.elicitation",
    "ElicitationAction": "agentcore.mcp.elicitation",
    "ElicitationMode": "agentcore.mcp.elicitation",
    "Elicitor": "agentcore.mcp.elicitation",
    "McpChannelError": "agentcore.mcp.channel",
    "McpChannelClosed": "agentcore.mcp.channel",
    "RestartPolicy": "agentcore.mcp.state",
    "ServerState": "agentcore.mcp.state",
    "ServerStatus": "agentcore.mcp.state",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover - static names for type checkers and IDEs
    from agentcore.mcp.manager import *  # noqa: F403
    from agentcore.mcp.channel import McpChannel, McpChannelClosed, McpChannelError  # noqa: F401
    from agentcore.mcp.spec import Transport  # noqa: F401
    from agentcore.mcp.elicitation import (  # noqa: F401
        Elicitation, ElicitationAction, ElicitationAnswer, ElicitationMode, Elicitor,
    )
