"""ACP ``mcpServers`` (``session/new``, ``session/load``, ``session/resume``) as
:class:`~agentcore.mcp.McpServerSpec` values, converted here so the runtime
never sees the wire shape.

An entry is stdio ``{name, command, args, env: [{name, value}]}``,
``{type: "http" | "sse", name, url, headers: [{name, value}]}`` or
``{type: "acp", name, serverId}`` (a server the client hosts, reached over the
same connection: :mod:`agentcore.acp.mcp_over_acp`). A bad entry
raises :class:`~agentcore.mcp.McpConfigError` naming the server and the key
(``demo.command``), with ``source`` ``"ACP session/new"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agentcore.acp.mcp_over_acp import ACP_SERVER_TYPE
from agentcore.mcp import McpConfigError, McpServerSpec, Transport

ACP_SOURCE = "ACP session/new"  # the layer name specs and their errors carry


def specs_from_acp(
    entries: Sequence[Any], *, source: str = ACP_SOURCE, client: Any = None
) -> tuple[McpServerSpec, ...]:
    """Every entry of an ACP ``mcpServers`` list, in order. ``client`` (the
    connection's MCP-over-ACP router) carries servers of type ``acp``."""
    return tuple(spec_from_acp(entry, source=source, client=client) for entry in entries)


def spec_from_acp(entry: Any, *, source: str = ACP_SOURCE, client: Any = None) -> McpServerSpec:
    """One ACP ``mcpServers`` entry."""
    if not isinstance(entry, Mapping):
        raise McpConfigError(f"an mcpServers entry must be an object, got {type(entry).__name__}", source=source)
    name = _string(entry, "name", source)
    kind = entry.get("type", "stdio")
    if kind == ACP_SERVER_TYPE:
        server_id = _string(entry, "serverId", source, prefix=name)
        if client is None:
            raise McpConfigError('type "acp" needs the ACP connection it was declared on', source=source, key=f"{name}.type")
        return McpServerSpec(name=name, transport=Transport.CHANNEL, channel=client.channel(server_id, name), source=source)
    if kind == Transport.CHANNEL.value:  # the runtime's own name, not an ACP type
        raise McpConfigError(f'unknown type "{kind}"', source=source, key=f"{name}.type")
    try:
        transport = Transport(kind)
    except ValueError:
        raise McpConfigError(f'unknown type "{kind}"', source=source, key=f"{name}.type") from None
    if transport is Transport.STDIO:
        return McpServerSpec(
            name=name,
            transport=transport,
            command=_string(entry, "command", source, prefix=name),
            args=_string_list(entry.get("args", ()), source, f"{name}.args"),
            env=_name_value_list(entry.get("env", ()), source, f"{name}.env"),
            source=source,
        )
    return McpServerSpec(
        name=name,
        transport=transport,
        url=_string(entry, "url", source, prefix=name),
        headers=_name_value_list(entry.get("headers", ()), source, f"{name}.headers"),
        source=source,
    )


def _string(entry: Mapping[str, Any], field: str, source: str, *, prefix: str = "") -> str:
    value = entry.get(field)
    if not isinstance(value, str) or not value:
        raise McpConfigError("expected a non-empty string", source=source, key=f"{prefix}.{field}" if prefix else field)
    return value


def _string_list(value: Any, source: str, key: str) -> list[str]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise McpConfigError("expected a list of strings", source=source, key=key)
    return list(value)


def _name_value_list(value: Any, source: str, key: str) -> dict[str, str]:
    """ACP sends env and headers as ``[{name, value}]``."""
    if not isinstance(value, (list, tuple)):
        raise McpConfigError("expected a list of {name, value} objects", source=source, key=key)
    out: dict[str, str] = {}
    for item in value:
        if not (isinstance(item, Mapping) and isinstance(item.get("name"), str) and isinstance(item.get("value"), str)):
            raise McpConfigError("expected a list of {name, value} objects", source=source, key=key)
        out[item["name"]] = item["value"]
    return out
