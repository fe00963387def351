"""One MCP server for one session: start it, keep its tool list, call it,
restart it after a crash, stop it.

States: ``starting`` -> ``ready`` (tools listed) or ``failed`` (the start did
not complete within ``startup_timeout_s``, or the server refused). A ready
server whose process exits or whose connection drops becomes ``crashed``: its
tools stay listed, the call that noticed returns an error with the stderr
tail, and the next call restarts it (at most ``RestartPolicy.max_restarts``
times per session, waiting out a growing backoff). When no restart is left it
becomes ``failed`` and its tools disappear. ``stopped`` is the end.

Each connection lives in one task (:meth:`McpServerConnection.run`) in the
session's nursery: the SDK's context managers are entered and left there.
Tool calls come from turn tasks and use the client concurrently.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import trio

import agentcore
from agentcore.mcp.elicitation import DECLINED, Elicitation, ElicitationAnswer, from_sdk, to_sdk
from agentcore.mcp.spec import McpServerSpec, Transport
from agentcore.mcp.state import (
    PromptInfo,
    ResourceInfo,
    RestartPolicy,
    ServerState,
    ServerStatus,
    StderrTail,
)
from agentcore.mcp.tools import McpTool, assign_names, make_tool, map_result
from agentcore.messages import thaw_json
from agentcore.tools.base import ToolResult

log = logging.getLogger(__name__)

STOP_GRACE_S = 8.0  # an orderly stop (stdin close, SIGTERM, SIGKILL) fits in this
PROCESS_EXIT_WAIT_S = 2.0  # from a closed stdout to the reaped exit of a crashing server
LIST_PAGE_LIMIT = 100  # pages of a tools/resources/prompts listing; a broken paginator must end
ERROR_TAIL_LINES = 10  # stderr lines quoted in an error result or a status event
CONNECTION_CLOSED = -32000  # the SDK's JSON-RPC code for a connection that went away


StatusSink = Callable[["McpServerConnection"], Awaitable[None]]
ElicitSink = Callable[[Elicitation], Awaitable[ElicitationAnswer]]


async def _decline(request: Elicitation) -> ElicitationAnswer:
    return DECLINED


async def _ignore_completion(server: str, elicitation_id: str) -> None:
    return None


ELICIT_COMPLETE_METHOD = "notifications/elicitation/complete"


class McpServerConnection:
    def __init__(
        self,
        spec: McpServerSpec,
        *,
        cwd: Path,
        on_change: StatusSink,
        restart_policy: RestartPolicy = RestartPolicy(),
        on_elicit: ElicitSink = _decline,
        on_elicit_complete: Callable[[str, str], Awaitable[None]] = _ignore_completion,
    ) -> None:
        self.spec = spec
        self._on_elicit = on_elicit
        self._on_elicit_complete = on_elicit_complete
        self._sdk: Any = None  # the SDK namespace, given to run() once imported
        self._cwd = spec.cwd or cwd
        self._on_change = on_change
        self._policy = restart_policy
        self.state = ServerState.STARTING
        self.error = ""
        self.stderr = StderrTail()
        self.tools: dict[str, McpTool] = {}
        self.resources: tuple[ResourceInfo, ...] = ()
        self.prompts: tuple[PromptInfo, ...] = ()
        self.instructions: str | None = None
        self.restarts = 0
        self.pid: int | None = None
        self.exit_code: int | None = None  # of the current process, once reaped
        self._exited = trio.Event()
        self._client: Any = None
        self._changed = trio.Event()
        self._lost = trio.Event()
        self._restart_wanted = trio.Event()
        self._refresh_wanted = trio.Event()  # set by list_changed notifications
        self._crashed_at = 0.0
        self._ever_ready = False
        self._stopping = False
        self._scope = trio.CancelScope()
        self._done = trio.Event()

    # ---------------------------------------------------------------- status

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def settled(self) -> bool:
        return self.state is not ServerState.STARTING

    @property
    def first_start_pending(self) -> bool:
        """Starting and never ready yet: its tools are not listed at all (a restart
        keeps the old list, so only a first start leaves the model without them)."""
        return self.state is ServerState.STARTING and not self._ever_ready

    def status(self) -> ServerStatus:
        return ServerStatus(
            name=self.name,
            state=self.state,
            transport=self.spec.transport.value,
            target=self.spec.describe(),
            tools=tuple(sorted(self.tools)),
            resources=self.resources,
            prompts=self.prompts,
            instructions=self.instructions,
            error=self.error,
            stderr_tail=self.stderr.lines(ERROR_TAIL_LINES),
            restarts=self.restarts,
            pid=self.pid,
        )

    async def fail(self, error: str) -> None:
        """Mark a server that could not even be attempted (no SDK) as failed."""
        await self._set_state(ServerState.FAILED, error)

    async def wait_settled(self) -> None:
        while not self.settled:
            await self._changed.wait()

    async def _set_state(self, state: ServerState, error: str = "") -> None:
        self.state, self.error = state, error
        if state is ServerState.FAILED:
            self.tools = {}
        self._changed.set()
        self._changed = trio.Event()
        await self._on_change(self)

    # -------------------------------------------------------------- lifetime

    async def run(self, sdk: Any) -> None:
        """The connection's task: connect, serve, and restart on request."""
        self._sdk = sdk
        try:
            try:
                await self._serve()
            except Exception as exc:  # noqa: BLE001 - the boundary of a third-party server
                # A failure that arrived with a stop's cancellation (grouped with it, so
                # _attempt's handler could not take it): the server is stopping anyway.
                log.debug("MCP server %s failed while stopping", self.name, exc_info=exc)
        finally:
            self._client = None
            if self.state is not ServerState.FAILED:
                self.state = ServerState.STOPPED
                self.tools = {}
            self._changed.set()
            self._done.set()

    async def _serve(self) -> None:
        with self._scope:
            while True:
                await self._attempt()
                if self.state is not ServerState.CRASHED or self._stopping:
                    break
                self._restart_wanted = trio.Event()
                await self._restart_wanted.wait()
                if self._stopping:
                    break
                self.restarts += 1
                wait = self._crashed_at + self._policy.delay(self.restarts) - trio.current_time()
                await trio.sleep(max(0.0, wait))
                self.stderr.note(f"[agentcore: restart {self.restarts} of {self._policy.max_restarts}]")

    async def stop(self) -> None:
        """Orderly shutdown, bounded by ``STOP_GRACE_S``; returns when the task has ended."""
        self._stopping = True
        if self._sdk is None:  # never started (the SDK was still loading)
            self.state = ServerState.STOPPED
            return
        if self.state is ServerState.READY:
            self._lost.set()  # leave the client normally: HTTP sessions get their DELETE
            self._scope.deadline = min(self._scope.deadline, trio.current_time() + STOP_GRACE_S)
        else:
            self._scope.cancel()  # starting or waiting to restart: nothing to say goodbye to
        await self._done.wait()

    async def _attempt(self) -> None:
        self._lost = trio.Event()
        ready = trio.Event()
        timed_out = False
        await self._set_state(ServerState.STARTING)
        try:
            with trio.CancelScope() as attempt:

                async def watchdog() -> None:
                    nonlocal timed_out
                    with trio.move_on_after(self.spec.startup_timeout_s):
                        await ready.wait()
                        return
                    timed_out = True
                    attempt.cancel()

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(watchdog)
                    async with self._open_client() as client:
                        await self._load_listing(client)
                        self._client, self._ever_ready = client, True
                        ready.set()
                        await self._set_state(ServerState.READY)
                        nursery.start_soon(self._watch_changes, client)
                        await self._lost.wait()
                        self._client = None
                    nursery.cancel_scope.cancel()
        except Exception as exc:  # the boundary of a third-party server: any failure is its state
            log.debug("MCP server %s failed", self.name, exc_info=True)
            await self._after_attempt(_describe_error(exc))
            return
        if timed_out:
            await self._after_attempt(f"did not start within {self.spec.startup_timeout_s:g} s")
        elif not self._stopping:
            await self._after_attempt(self.error or "the server exited")

    async def _after_attempt(self, error: str) -> None:
        self._client = None
        if self._stopping:
            return
        if self.spec.channel is not None and self.spec.channel.closed:
            # The client that hosts it has gone: no restart can bring it back.
            await self._set_state(ServerState.FAILED, f"{error}; the client that provides it has disconnected")
            return
        if self._ever_ready and self.restarts < self._policy.max_restarts:
            self._crashed_at = trio.current_time()
            await self._set_state(ServerState.CRASHED, error)
        else:
            if self._ever_ready:
                error = f"{error}; not restarted again after {self.restarts} restarts"
            await self._set_state(ServerState.FAILED, error)

    def _connection_lost(self, reason: str) -> None:
        if self._stopping or self._lost.is_set():
            return
        self.error = reason
        self._lost.set()

    @asynccontextmanager
    async def _open_client(self) -> Any:
        sdk = self._sdk
        async with AsyncExitStack() as stack:
            client = sdk.Client(
                self._transport(),
                cache=None,  # every listing must reach the server: list_changed and restarts refetch
                message_handler=self._on_message,
                elicitation_callback=self._elicitation,  # the server may ask the user (mcp/elicitation.py)
                client_info=sdk.Implementation(name="agentcore", version=agentcore.__version__),
            )
            yield await stack.enter_async_context(client)

    def _transport(self) -> Any:
        from agentcore.mcp import stdio as mcp_stdio

        spec, sdk = self.spec, self._sdk
        match spec.transport:
            case Transport.STDIO:
                assert spec.command is not None
                return mcp_stdio.stdio_transport(
                    [spec.command, *spec.args],
                    env=mcp_stdio.server_environment(spec.env),
                    cwd=self._cwd,
                    stderr=self.stderr,
                    on_exit=self._process_exited,
                    on_spawn=self._spawned,
                )
            case Transport.HTTP:
                return _http_transport(sdk, spec)
            case Transport.SSE:
                return sdk.sse_client(spec.url, headers=dict(spec.headers) or None)
            case Transport.CHANNEL:
                from agentcore.mcp.channel_streams import channel_transport

                assert spec.channel is not None
                return channel_transport(spec.channel, on_lost=self._connection_lost)
            case other:
                raise AssertionError(other)

    def _spawned(self, pid: int) -> None:
        self.pid = pid
        self.exit_code = None
        self._exited = trio.Event()

    def _process_exited(self, code: int) -> None:
        self.exit_code = code
        self._exited.set()
        self._connection_lost(f"the server process exited with code {code}")

    # --------------------------------------------------------------- listing

    async def _load_listing(self, client: Any) -> None:
        caps = client.server_capabilities
        listed = await _paged(lambda cursor: client.list_tools(cursor=cursor), "tools")
        names = assign_names(self.name, [t.name for t in listed])
        self.tools = {names[t.name]: make_tool(self.name, names[t.name], t, self.call_tool, trust_annotations=self.spec.trust_annotations) for t in listed}
        self.instructions = client.instructions or None
        self.resources, self.prompts = (), ()
        if caps is not None and caps.resources is not None:
            with _optional(self.name, "resources"):
                self.resources = tuple(
                    ResourceInfo(str(r.uri), r.name, r.description or "", r.mime_type)
                    for r in await _paged(lambda cursor: client.list_resources(cursor=cursor), "resources")
                )
        if caps is not None and caps.prompts is not None:
            with _optional(self.name, "prompts"):
                self.prompts = tuple(
                    PromptInfo(p.name, p.description or "", tuple(a.name for a in p.arguments or ()))
                    for p in await _paged(lambda cursor: client.list_prompts(cursor=cursor), "prompts")
                )

    async def _elicitation(self, context: Any, params: Any) -> Any:
        return to_sdk(await self._on_elicit(from_sdk(self.name, params)))

    async def _on_message(self, message: Any) -> None:
        """Legacy (2025) servers announce list changes as notifications; a URL
        elicitation's end comes as one too (passed to ``on_elicit_complete``)."""
        method = getattr(message, "method", "")
        if method.endswith("/list_changed"):
            self._refresh_wanted.set()
        elif method == ELICIT_COMPLETE_METHOD:
            elicitation_id = getattr(getattr(message, "params", None), "elicitation_id", None)
            if isinstance(elicitation_id, str):
                await self._on_elicit_complete(self.name, elicitation_id)

    async def _watch_changes(self, client: Any) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._listen_modern, client)
            while True:
                await self._refresh_wanted.wait()
                self._refresh_wanted = trio.Event()
                before = self._listing_key()
                try:
                    await self._load_listing(client)
                except Exception as exc:  # a failed refresh keeps the old list; the next call shows the error
                    log.debug("refreshing MCP server %s failed: %s", self.name, exc)
                    continue
                if self._listing_key() != before:
                    await self._set_state(ServerState.READY)

    def _listing_key(self) -> tuple[Any, ...]:
        return (tuple(sorted(self.tools)), self.resources, self.prompts, self.instructions)

    async def _listen_modern(self, client: Any) -> None:
        """2026 servers deliver list changes on a ``subscriptions/listen`` stream."""
        if client.protocol_version not in self._sdk.MODERN_PROTOCOL_VERSIONS:
            return
        caps = client.server_capabilities
        wanted = {
            "tools_list_changed": bool(caps.tools and caps.tools.list_changed),
            "prompts_list_changed": bool(caps.prompts and caps.prompts.list_changed),
            "resources_list_changed": bool(caps.resources and caps.resources.list_changed),
        }
        if not any(wanted.values()):
            return
        try:
            async with client.listen(**wanted) as subscription:
                self._refresh_wanted.set()  # covers changes between the first listing and the subscription
                async for _event in subscription:
                    self._refresh_wanted.set()
        except Exception as exc:  # no stream means no live refresh; calls still work
            log.debug("MCP server %s: listening for changes failed: %s", self.name, exc)

    # ----------------------------------------------------------------- calls

    async def call_tool(self, remote_name: str, args: Mapping[str, Any]) -> ToolResult:
        client = await self._ready_client()
        if isinstance(client, ToolResult):
            return client
        with trio.move_on_after(self.spec.tool_timeout_s) as timeout:
            try:
                result = await client.call_tool(remote_name, thaw_json(args))
            except Exception as exc:
                if _is_connection_loss(exc, self._sdk):
                    return await self._lost_during_call(remote_name)
                return ToolResult.error(f"MCP server {self.name} failed the call to {remote_name}: {_describe_error(exc)}")
        if timeout.cancelled_caught:
            return ToolResult.error(
                f"MCP server {self.name} did not answer {remote_name} within {self.spec.tool_timeout_s:g} s; "
                "the call was cancelled"
            )
        return map_result(result)

    async def _lost_during_call(self, remote_name: str) -> ToolResult:
        exited = self._exited
        if self.pid is not None:
            # stdout closes a moment before the exit is reaped; the exit code makes the better message.
            with trio.move_on_after(PROCESS_EXIT_WAIT_S):
                await exited.wait()
        self._connection_lost(self.error or "the connection to the server was lost")
        while self.state in (ServerState.READY, ServerState.STARTING):
            await self._changed.wait()
        why = f"the server process exited with code {self.exit_code}" if exited.is_set() else self.error
        then = "it will be restarted on the next call" if self.state is ServerState.CRASHED else "it will not be restarted"
        return ToolResult.error(
            f"MCP server {self.name} stopped during {remote_name} ({why}); {then}.{self._tail_text()}"
        )

    async def _ready_client(self) -> Any:
        while True:
            match self.state:
                case ServerState.READY if self._client is not None:
                    return self._client
                case ServerState.READY | ServerState.STARTING:
                    await self._changed.wait()
                case ServerState.CRASHED:
                    if self.restarts >= self._policy.max_restarts:
                        return self._unavailable("it exited and no restart is left")
                    self._restart_wanted.set()
                    await self._changed.wait()
                case ServerState.FAILED:
                    return self._unavailable(self.error)
                case ServerState.STOPPED:
                    return self._unavailable("the session is closing")

    def _unavailable(self, why: str) -> ToolResult:
        return ToolResult.error(f"MCP server {self.name} is not available: {why}.{self._tail_text()}")

    def _tail_text(self) -> str:
        tail = self.stderr.lines(ERROR_TAIL_LINES)
        return ("\nLast lines of its stderr:\n" + "\n".join(tail)) if tail else ""


@asynccontextmanager
async def _http_transport(sdk: Any, spec: McpServerSpec) -> Any:
    async with sdk.create_mcp_http_client(headers=dict(spec.headers) or None) as http:
        async with sdk.streamable_http_client(spec.url, http_client=http) as streams:
            yield streams


async def _paged(fetch: Callable[[str | None], Awaitable[Any]], field: str) -> list[Any]:
    items: list[Any] = []
    cursor: str | None = None
    for _ in range(LIST_PAGE_LIMIT):
        page = await fetch(cursor)
        items.extend(getattr(page, field))
        cursor = page.next_cursor
        if not cursor:
            break
    return items


class _optional:
    """Resources and prompts are extras: a server that fails to list them still serves tools."""

    def __init__(self, server: str, what: str) -> None:
        self.server, self.what = server, what

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> bool:
        if isinstance(exc, Exception):
            log.debug("MCP server %s: listing %s failed: %s", self.server, self.what, exc)
            return True
        return False


def _is_connection_loss(exc: BaseException, sdk: Any) -> bool:
    if isinstance(exc, sdk.MCPError):
        return exc.code == CONNECTION_CLOSED
    return isinstance(exc, (trio.BrokenResourceError, trio.ClosedResourceError, ConnectionError, sdk.TransportErrors))


def _describe_error(exc: BaseException) -> str:
    """One line for a person; exception groups (from task groups) are unwrapped."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe_error(e) for e in exc.exceptions)
    if isinstance(exc, FileNotFoundError):
        return f"command not found: {exc.filename}"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
