"""Which MCP servers a session starts: one :class:`McpServerSpec` per server,
read from the configuration, a project ``.mcp.json``, the profile and the
session's own list (``SessionCreateInfo.mcp_servers``; ``acp/`` converts an ACP
client's ``mcpServers`` into specs before they get there).

Layers, later wins on a name clash (the whole entry is replaced, fields are not
merged):

1. the user ``config.toml`` ``[mcp.servers.NAME]``;
2. the project ``.agent/config.toml`` (1 and 2 arrive merged as ``Settings.mcp``);
3. the project ``.mcp.json`` (the format other agents share), only when the
   folder is trusted (``project_trusted``; see :mod:`agentcore.trust`);
4. the profile's ``[mcp.servers.NAME]`` tables;
5. ``SessionCreateInfo.mcp_servers`` (an ACP client's ``mcpServers``).

A later entry with ``enabled = false`` switches a server off. Nothing here
imports the MCP SDK.

A server of transport ``channel`` lives in a frontend's client (ACP's MCP over
ACP): its spec carries an :class:`~agentcore.mcp.channel.McpChannel` the
frontend built, so only a frontend can declare one, never a file.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, assert_never

import attrs

from agentcore.errors import McpError
from agentcore.config.settings import MCP_STARTUP_TIMEOUT_S, MCP_TOOL_TIMEOUT_S
from agentcore.mcp.channel import McpChannel

MCP_JSON_FILE_NAME = ".mcp.json"
# ``${VAR}`` or ``${VAR:-default}`` in .mcp.json values, as other agents expand them.
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class McpConfigError(McpError, ValueError):
    """A server entry that cannot be used, naming where it came from and the key."""

    def __init__(self, message: str, *, source: str, key: str | None = None) -> None:
        self.source = source
        self.key = key
        super().__init__(f"{source}: {key}: {message}" if key else f"{source}: {message}")


class Transport(enum.Enum):
    STDIO = "stdio"
    HTTP = "http"  # streamable HTTP
    SSE = "sse"  # the older HTTP+SSE transport
    CHANNEL = "channel"  # through a frontend's peer (McpServerSpec.channel), e.g. MCP over ACP


def _frozen_str_map(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return dict(value or {})


@attrs.frozen
class McpServerSpec:
    """How to reach one MCP server. ``source`` says which layer defined it."""

    name: str
    transport: Transport
    command: str | None = None
    args: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    env: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_str_map)
    cwd: Path | None = None  # None: the session's working directory
    url: str | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_str_map)
    startup_timeout_s: float = MCP_STARTUP_TIMEOUT_S
    tool_timeout_s: float = MCP_TOOL_TIMEOUT_S
    enabled: bool = True
    source: str = ""
    # Believe the server's readOnlyHint (only the user's own configuration can say so).
    trust_annotations: bool = False
    # Transport.CHANNEL: the frontend's way to the server (opaque here; a live object, not compared).
    channel: McpChannel | None = attrs.field(default=None, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        where = self.source or "MCP server"
        if not self.name:
            raise McpConfigError("a server needs a name", source=where)
        if self.transport is Transport.STDIO and not self.command:
            raise McpConfigError("a stdio server needs a command", source=where, key=self.name)
        if self.transport is Transport.CHANNEL:
            if self.channel is None:
                raise McpConfigError("a channel server is provided by a frontend's client; it cannot be configured",
                                     source=where, key=self.name)  # fmt: skip
        elif self.transport is not Transport.STDIO and not self.url:
            raise McpConfigError(f"an {self.transport.value} server needs a url", source=where, key=self.name)

    def describe(self) -> str:
        """A one-line, secret-free description (no env values, no headers)."""
        match self.transport:
            case Transport.STDIO:
                return " ".join([self.command or "", *self.args])
            case Transport.CHANNEL:
                assert self.channel is not None
                return self.channel.describe()
            case Transport.HTTP | Transport.SSE:
                return f"{self.url} ({self.transport.value})"
            case other:
                assert_never(other)

    # ------------------------------------------------------------ constructors

    @classmethod
    def from_config(cls, config: Any, *, source: str = "configuration") -> McpServerSpec:
        """From an :class:`agentcore.config.settings.McpServerConfig` (already checked by the config loader)."""
        return cls(
            name=config.name,
            transport=Transport(config.transport),
            command=config.command,
            args=config.args,
            env=config.env,
            url=config.url,
            headers=config.headers,
            startup_timeout_s=config.startup_timeout_s,
            tool_timeout_s=config.tool_timeout_s,
            trust_annotations=config.trust_annotations,
            enabled=config.enabled,
            source=source,
        )

    @classmethod
    def from_mcp_json_entry(
        cls, name: str, entry: Mapping[str, Any], *, source: str, env: Mapping[str, str] | None = None
    ) -> McpServerSpec:
        """From one ``mcpServers`` value of a ``.mcp.json``. ``${VAR}`` and
        ``${VAR:-default}`` are expanded from ``env``; keys other agents add
        (``disabled``, ``autoApprove``, ...) are ignored except ``disabled``."""
        if not isinstance(entry, Mapping):
            raise McpConfigError("expected an object", source=source, key=f"mcpServers.{name}")
        expand = _expander(env or {}, source)
        prefix = f"mcpServers.{name}"
        kind = entry.get("type") or ("stdio" if "command" in entry else "http")
        try:
            transport = Transport(kind)
        except ValueError:
            raise McpConfigError(f'unknown type "{kind}"', source=source, key=f"{prefix}.type") from None
        disabled = entry.get("disabled", False)
        if not isinstance(disabled, bool):
            raise McpConfigError("expected true or false", source=source, key=f"{prefix}.disabled")
        common: dict[str, Any] = {"name": name, "transport": transport, "enabled": not disabled, "source": source}
        if transport is Transport.STDIO:
            command = _string(entry, "command", source, required=True, prefix=prefix)
            cwd = entry.get("cwd")
            if cwd is not None and not isinstance(cwd, str):
                raise McpConfigError("expected a string", source=source, key=f"{prefix}.cwd")
            return cls(
                command=expand(command, f"{prefix}.command"),
                args=[expand(a, f"{prefix}.args") for a in _string_list(entry.get("args", ()), source, f"{prefix}.args")],
                env={k: expand(v, f"{prefix}.env.{k}") for k, v in _string_map(entry.get("env"), source, f"{prefix}.env").items()},
                cwd=Path(expand(cwd, f"{prefix}.cwd")) if cwd else None,
                **common,
            )  # fmt: skip
        url = _string(entry, "url", source, required=True, prefix=prefix)
        headers = _string_map(entry.get("headers"), source, f"{prefix}.headers")
        return cls(
            url=expand(url, f"{prefix}.url"),
            headers={k: expand(v, f"{prefix}.headers.{k}") for k, v in headers.items()},
            **common,
        )


# ----------------------------------------------------------------- files


def read_mcp_json(path: Path, *, env: Mapping[str, str] | None = None) -> list[McpServerSpec]:
    """The servers of a ``.mcp.json`` file; none when the file does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise McpConfigError(f"cannot read: {exc.strerror or exc}", source=str(path)) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise McpConfigError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})", source=str(path)) from None
    if not isinstance(doc, Mapping):
        raise McpConfigError("expected a JSON object", source=str(path))
    servers = doc.get("mcpServers", {})
    if not isinstance(servers, Mapping):
        raise McpConfigError("expected an object", source=str(path), key="mcpServers")
    return [McpServerSpec.from_mcp_json_entry(n, e, source=str(path), env=env) for n, e in servers.items()]


def merge_layers(layers: Iterable[Iterable[McpServerSpec]]) -> tuple[McpServerSpec, ...]:
    """One spec per name, later layers winning; disabled servers dropped; order of first appearance."""
    merged: dict[str, McpServerSpec] = {}
    for layer in layers:
        for spec in layer:
            merged[spec.name] = spec
    return tuple(spec for spec in merged.values() if spec.enabled)


def session_specs(
    session: Any,
    *,
    env: Mapping[str, str] | None = None,
    profile_servers: Mapping[str, Any] | None = None,
    project_trusted: bool = False,
) -> tuple[McpServerSpec, ...]:
    """The default resolution for a session: its configuration (``policy.settings.mcp``),
    the project's ``.mcp.json`` (only when ``project_trusted``: it starts commands),
    the profile's servers and ``info.mcp_servers``."""
    from agentcore.config.paths import find_project

    settings = getattr(session.policy, "settings", None)
    configured = settings.mcp.servers.values() if settings is not None else ()
    project = find_project(session.cwd)
    own = list(session.info.mcp_servers)
    for spec in own:
        if not isinstance(spec, McpServerSpec):
            raise McpConfigError(f"expected McpServerSpec values, got {type(spec).__name__}",
                                 source="SessionCreateInfo", key="mcp_servers")  # fmt: skip
    return merge_layers(
        [
            [McpServerSpec.from_config(c) for c in configured],
            read_mcp_json(project.root / MCP_JSON_FILE_NAME, env=env) if project_trusted else [],
            [McpServerSpec.from_config(c, source="profile") for c in (profile_servers or {}).values()],
            own,
        ]
    )


SpecsResolver = Callable[[Any], Sequence[McpServerSpec]]


# ------------------------------------------------------------ field checks


def _string(entry: Mapping[str, Any], field: str, source: str, *, required: bool = False, prefix: str = "") -> Any:
    key = f"{prefix}.{field}" if prefix else field
    value = entry.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise McpConfigError("expected a non-empty string", source=source, key=key)
    return value


def _string_list(value: Any, source: str, key: str) -> list[str]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise McpConfigError("expected a list of strings", source=source, key=key)
    return list(value)


def _string_map(value: Any, source: str, key: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise McpConfigError("expected an object of strings", source=source, key=key)
    return dict(value)


def _expander(env: Mapping[str, str], source: str) -> Callable[[str, str], str]:
    def expand(text: str, key: str) -> str:
        def one(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            raise McpConfigError(f"environment variable {name} is not set (use ${{{name}:-default}})",
                                 source=source, key=key)  # fmt: skip

        return _ENV_REFERENCE.sub(one, text)

    return expand
