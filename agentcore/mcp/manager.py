"""MCP servers as session tools.

:class:`McpToolFactory` is a :class:`agentcore.core.SessionToolFactory`: for
each session it resolves the servers to start (configuration, ``.mcp.json``,
profile, ``SessionCreateInfo.mcp_servers``; see :mod:`agentcore.mcp.spec`), starts them all
concurrently in the session's nursery and returns a registry layer whose tools
appear as each server becomes ready. Session creation waits at most
``STARTUP_GRACE_S`` for them, except for servers a frontend's client hosts
(``Transport.CHANNEL``): those answer from the client's own process, so it
waits until they are ready (at most ``CHANNEL_STARTUP_WAIT_S``, SDK import
included) and their tools are there for the first prompt. A model request
built while a server is still on its first start waits for it
(:meth:`McpRegistry.wait_ready`, called before each request; bounded by the
server's ``startup_timeout_s``, announced by a notice), so the first prompt
sees every tool; a server that fails is reported and left out. The
:class:`McpManager` is stored as ``session.mcp``; frontends call
``session.mcp.status()`` (chat ``/mcp``).

The official ``mcp`` SDK is imported only when a session has servers, and in a
worker thread (it takes a second or more), so neither ``agent --version`` nor a
session without servers pays for it and the event loop never stalls on it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import trio

from agentcore.events import McpServerStatus, Notice
from agentcore.mcp.connection import McpServerConnection
from agentcore.mcp.elicitation import Elicitation, ElicitationAnswer, Elicitor
from agentcore.mcp.elicitation import answer as answer_elicitation
from agentcore.mcp.elicitation import completed as elicitation_completed
from agentcore.mcp.state import RestartPolicy, ServerState, ServerStatus
from agentcore.mcp.spec import McpConfigError, McpServerSpec, SpecsResolver, Transport, session_specs
from agentcore.mcp.tools import McpTool

__all__ = [
    "McpConfigError",
    "McpManager",
    "McpRegistry",
    "McpServerSpec",
    "McpToolFactory",
    "RestartPolicy",
    "ServerState",
    "ServerStatus",
]

log = logging.getLogger(__name__)

STARTUP_GRACE_S = 0.2  # session creation waits this long for fast servers, never longer
# Session creation waits this long for servers the client hosts (a cold SDK import is 1-2 s);
# a client that cannot answer before its session/new is answered costs this once, then its tools arrive late.
CHANNEL_STARTUP_WAIT_S = 10.0
INSTRUCTIONS_MAX_CHARS = 8_000  # ~2k tokens: one server's instructions must not swamp the prompt
PROMPT_SECTION_PREFIX = "mcp:"  # keys in session.extra_prompt_sections: "mcp:<server>"

_sdk: SimpleNamespace | None = None


def _import_sdk() -> SimpleNamespace:
    import anyio
    import httpx2
    from mcp import Implementation
    from mcp.client.client import Client
    from mcp.client.sse import sse_client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client
    from mcp.shared.exceptions import MCPError
    from mcp_types.version import MODERN_PROTOCOL_VERSIONS

    import agentcore.mcp.channel_streams  # noqa: F401  (the SDK pieces a channel needs, off the event loop too)
    import agentcore.mcp.stdio  # noqa: F401  (imports the SDK's stdio pieces here, off the event loop)

    return SimpleNamespace(
        Client=Client,
        Implementation=Implementation,
        MCPError=MCPError,
        MODERN_PROTOCOL_VERSIONS=MODERN_PROTOCOL_VERSIONS,
        TransportErrors=(httpx2.TransportError, anyio.BrokenResourceError, anyio.ClosedResourceError),
        create_mcp_http_client=create_mcp_http_client,
        sse_client=sse_client,
        streamable_http_client=streamable_http_client,
    )


async def load_sdk() -> SimpleNamespace:
    """The SDK's pieces, imported once per process in a worker thread."""
    global _sdk
    if _sdk is None:
        _sdk = await trio.to_thread.run_sync(_import_sdk)
    return _sdk


class McpRegistry:
    """The session's MCP tools as a :class:`agentcore.tools.registry.ToolRegistry`
    layer. It reads the servers' current tool lists on every call."""

    def __init__(self, manager: McpManager) -> None:
        self._manager = manager

    def get(self, name: str) -> McpTool | None:
        for connection in self._manager.connections:
            tool = connection.tools.get(name)
            if tool is not None:
                return tool
        return None

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(n for c in self._manager.connections for n in c.tools))

    def tools(self) -> tuple[McpTool, ...]:
        return tuple(t for n in self.names() if (t := self.get(n)) is not None)

    async def wait_ready(self) -> None:
        """:class:`agentcore.tools.registry.StartingLayer`: servers on their first start are awaited."""
        await self._manager.wait_first_start()


class McpManager:
    """A session's MCP servers: their tasks, tools, status and shutdown."""

    def __init__(self, specs: Sequence[McpServerSpec], *, session: Any, restart_policy: RestartPolicy) -> None:
        self._session = session
        self.connections = [
            McpServerConnection(
                spec, cwd=session.cwd, on_change=self._on_change, restart_policy=restart_policy, on_elicit=self._elicit,
                on_elicit_complete=self._elicit_complete,
            )
            for spec in specs
        ]
        self.elicitor: Elicitor | None = None  # set by a frontend that can ask the user; None: servers are declined
        self.registry = McpRegistry(self)
        self._scope = trio.CancelScope()
        self._closed = False

    def connection(self, name: str) -> McpServerConnection:
        for connection in self.connections:
            if connection.name == name:
                return connection
        raise KeyError(f"no MCP server named {name!r}; servers: {', '.join(c.name for c in self.connections)}")

    def status(self) -> tuple[ServerStatus, ...]:
        """Per server: state, tool names, resources, prompts, error and stderr tail."""
        return tuple(c.status() for c in self.connections)

    async def _elicit(self, request: Elicitation) -> ElicitationAnswer:
        return await answer_elicitation(self.elicitor, request)

    async def _elicit_complete(self, server: str, elicitation_id: str) -> None:
        await elicitation_completed(self.elicitor, server, elicitation_id)

    async def start(self, nursery: trio.Nursery) -> None:
        for connection in self.connections:
            await self._on_change(connection)  # "starting", before the SDK has even loaded
        nursery.start_soon(self._run)

    async def wait_settled(self) -> None:
        """Until every server is ready or has failed (tests, ``agent run`` before its first turn)."""
        for connection in self.connections:
            await connection.wait_settled()

    async def wait_first_start(self) -> None:
        """Before a model request: wait for the servers still on their first start, so
        the request lists their tools. Each wait is bounded by that server's
        ``startup_timeout_s``; a notice names each server awaited, and one that fails
        (or outlasts its timeout) is reported and left out. Immediate when none is starting."""
        pending = [c for c in self.connections if c.first_start_pending]
        if not pending or self._closed:
            return
        async with trio.open_nursery() as nursery:
            for connection in pending:
                nursery.start_soon(self._await_start, connection)

    async def _await_start(self, connection: McpServerConnection) -> None:
        timeout_s = connection.spec.startup_timeout_s
        await self._session.events.emit(
            Notice("info", f"Waiting for MCP server {connection.name} to start (at most {timeout_s:g} s)")
        )
        with trio.move_on_after(timeout_s):
            await connection.wait_settled()
        if connection.settled and connection.state is not ServerState.FAILED:
            return  # ready (or already crashed or stopped: its own status event says so)
        why = connection.error if connection.settled else f"still starting after {timeout_s:g} s"
        await self._session.events.emit(
            Notice("warning", f"MCP server {connection.name} is not available ({why}); going on without its tools")
        )

    async def _run(self) -> None:
        with self._scope:
            try:
                sdk = await load_sdk()
            except ImportError as exc:
                for connection in self.connections:
                    await connection.fail(f"the MCP SDK is not installed ({exc})")
                return
            if self._closed:
                return
            async with trio.open_nursery() as nursery:
                for connection in self.connections:
                    nursery.start_soon(connection.run, sdk)

    async def aclose(self) -> None:
        """Stop every server (stdio process groups ended, HTTP sessions closed)."""
        if self._closed:
            return
        self._closed = True
        async with trio.open_nursery() as nursery:
            for connection in self.connections:
                nursery.start_soon(connection.stop)
        self._scope.cancel()
        for connection in self.connections:
            self._session.extra_prompt_sections.pop(PROMPT_SECTION_PREFIX + connection.name, None)

    async def _on_change(self, connection: McpServerConnection) -> None:
        key = PROMPT_SECTION_PREFIX + connection.name
        if connection.state is ServerState.READY and connection.instructions:
            text = connection.instructions.strip()[:INSTRUCTIONS_MAX_CHARS]
            self._session.extra_prompt_sections[key] = f"# MCP server: {connection.name}\n\n{text}"
        elif connection.state in (ServerState.FAILED, ServerState.STOPPED, ServerState.READY):
            self._session.extra_prompt_sections.pop(key, None)
        if self._closed:
            return  # nobody is listening any more; emitting could block the close
        failed = connection.state in (ServerState.FAILED, ServerState.CRASHED)
        await self._session.events.emit(
            McpServerStatus(
                server=connection.name,
                state=connection.state.value,
                tool_count=len(connection.tools),
                error=connection.error if failed else "",
                stderr_tail=connection.status().stderr_tail if failed else (),
            )
        )


class McpToolFactory:
    """Starts a session's MCP servers; see the module docstring.

    ``specs_resolver(session)`` returns the servers to start; the default reads
    the session's configuration, the project's ``.mcp.json`` and
    ``session.info.mcp_servers``.
    """

    def __init__(
        self,
        specs_resolver: SpecsResolver = session_specs,
        *,
        restart_policy: RestartPolicy = RestartPolicy(),
        startup_grace_s: float = STARTUP_GRACE_S,
        channel_wait_s: float = CHANNEL_STARTUP_WAIT_S,
    ) -> None:
        self._resolve = specs_resolver
        self._restart_policy = restart_policy
        self._grace_s = startup_grace_s
        self._channel_wait_s = channel_wait_s

    async def open(self, session: Any, nursery: trio.Nursery) -> McpRegistry | None:
        try:
            specs = list(self._resolve(session))
        except McpConfigError as exc:
            notice = Notice("error", f"MCP servers not started: {exc}")
            session.startup_notices.append(notice)
            await session.events.emit(notice)
            return None
        if not specs:
            return None
        manager = McpManager(specs, session=session, restart_policy=self._restart_policy)
        session.mcp = manager
        session.on_close(manager.aclose)
        await manager.start(nursery)
        nursery.start_soon(_check_allowlist, session, manager)
        hosted = [c for c in manager.connections if c.spec.transport is Transport.CHANNEL]
        with trio.move_on_after(self._channel_wait_s):
            for connection in hosted:
                await connection.wait_settled()
        if _sdk is not None:  # cold, the import alone outlasts the grace: do not wait for nothing
            with trio.move_on_after(self._grace_s):
                await manager.wait_settled()
        return manager.registry


async def _check_allowlist(session: Any, manager: McpManager) -> None:
    """Once every server has settled, say which ``mcp__*`` allowlist patterns
    match no tool: they could not be checked at start-up, and a typo would
    otherwise silently hide a server's tools."""
    from agentcore.tools.registry import DYNAMIC_PREFIX, tool_name_matches

    await manager.wait_settled()
    tool_filter = session.registry.filter
    offered = list(manager.registry.names())
    unmatched = [
        p for p in (tool_filter.allow or ()) if p.startswith(DYNAMIC_PREFIX) and not tool_name_matches(p, offered)
    ]
    if unmatched:
        available = ", ".join(offered) or "none"
        await session.events.emit(
            Notice("warning", f"tools.allow pattern(s) {', '.join(unmatched)} match no MCP tool; MCP tools offered: {available}")
        )
