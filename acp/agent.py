"""The ACP method handlers: ``initialize``, ``authenticate`` and ``session/*``.

:class:`AcpAgent` is the connection's dispatcher. It holds what the client
advertised, the open sessions (:class:`~acp.live.LiveSession`) and an
:class:`AgentSetup` that says how sessions are made (the core plus the
``--profile/--provider/--model`` flags). Stored sessions come from the core's
:class:`~agentcore.core.SessionLoader`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import attrs
import trio

import agentcore
from agentcore.acp import capabilities
from agentcore.acp.approvals import APPROVAL_TIMEOUT_S, require_approval
from agentcore.acp.backends import CLIENT_CALL_TIMEOUT_S, ClientFsCapabilities, delegated_backends
from agentcore.acp.elicitation import AcpElicitor, advertised_modes, owner_route
from agentcore.acp.jsonrpc import (
    AUTH_REQUIRED,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    RESOURCE_NOT_FOUND,
    Connection,
    InvalidParams,
    JsonRpcError,
    MethodNotFound,
    RequestContext,
)
from agentcore.acp.live import HistoryPolicy, LiveSession, Role
from agentcore.acp.mcp_over_acp import MCP_MESSAGE_METHOD, McpOverAcpRouter
from agentcore.acp.mcp_servers import specs_from_acp
from agentcore.acp.options import config_options, mode_state, parse_mode, set_config_option
from agentcore.acp import rewind_ext, session_fork
from agentcore.acp.project import ClientFeatures, content_chunk, replay_updates
from agentcore.core import SessionNotFound
from agentcore.errors import AgentcoreError, InputError, StoreError
from agentcore.frontend import Frontend
from agentcore.gc_pause import gc_paused
from agentcore import jobs
from agentcore.logctx import SESSION_ID
from agentcore.mcp import McpConfigError
from agentcore.session import SessionCreateInfo
from agentcore.tools import LocalFs

log = logging.getLogger("acp.agent")

LIST_PAGE_SIZE = 50  # sessions per session/list page; a picker shows fewer at once
PLAUSIBLE_EPOCH_S = 946_684_800  # 2000-01-01: smaller "updated" values are not wall-clock times


@attrs.frozen
class AgentSetup:
    """How sessions are made. ``core`` is an :class:`~agentcore.core.AgentCore`."""

    core: Any
    profile: str | None = None
    provider: str | None = None
    model: str | None = None
    client_call_timeout_s: float = CLIENT_CALL_TIMEOUT_S  # for the editor to answer a file or terminal call
    approval_timeout_s: float = APPROVAL_TIMEOUT_S  # for a session's owner to approve another client's request


SetupFactory = Callable[[], AgentSetup]


@attrs.frozen
class ClientInfo:
    """Who is on the other end of a connection, as its transport knows it."""

    transport: str  # "stdio", "unix", "websocket", "http"
    peer: str = ""  # "uid 1000", "127.0.0.1:51234" (for logs)
    connection_id: str = ""  # the remote transport's Acp-Connection-Id


def _require_str(params: dict[str, Any], key: str) -> str:
    value = params.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidParams(f"{key} is required (a non-empty string)", {"path": key, "error": "required string"})
    return value


def _params(params: Any) -> dict[str, Any]:
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise InvalidParams("params must be an object", {"path": "", "error": "expected an object"})
    return params


def _absolute_dir(value: Any, path: str) -> Path:
    if not isinstance(value, str) or not Path(value).is_absolute():
        raise InvalidParams(f"{path} must be an absolute path", {"path": path, "error": "absolute path required"})
    directory = Path(value)
    if not directory.is_dir():
        raise InvalidParams(f"{path} {value} is not a directory", {"path": path, "error": "not a directory"})
    return directory


def _string_list(params: dict[str, Any], key: str) -> list[Any]:
    value = params.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidParams(f"{key} must be an array", {"path": key, "error": "expected an array"})
    return value


class SessionHost(Protocol):
    """Where a connection's sessions live (:class:`agentcore.acp.hub.AcpHub`)."""

    sessions: dict[str, LiveSession]
    nursery: trio.Nursery
    keep_sessions: bool

    def setup(self) -> AgentSetup: ...

    def setup_for_client(self, env: Mapping[str, str], cwd: Path, flags: Mapping[str, Any]) -> AgentSetup: ...

    def add(self, live: LiveSession) -> None: ...

    def settle(self) -> None: ...

    async def close_session(self, session_id: str) -> bool: ...


class AcpAgent:
    """One connection's side of the agent. Sessions belong to the hub (they may
    outlive this connection in a server); ``sessions`` are those this
    connection opened or attached to."""

    def __init__(
        self,
        conn: Connection,
        hub: SessionHost,
        nursery: trio.Nursery,
        *,
        client_caps: dict[str, Any] | None = None,
        client: ClientInfo | None = None,
    ) -> None:
        self.conn = conn
        self.hub = hub
        self._nursery = nursery  # this connection's tasks (not its sessions': those live in the hub)
        self.client = client
        self.client_caps: dict[str, Any] = client_caps or {}
        self.sessions: dict[str, LiveSession] = {}
        self.mcp_router = McpOverAcpRouter(conn)  # client-side MCP servers (type "acp")
        self._client_setup: AgentSetup | None = None  # from the bridge's hello: the client's own env
        self._logged_out = False  # after ``logout``: no new session until ``authenticate``
        self._handlers: dict[str, Callable[[dict[str, Any], RequestContext], Any]] = {
            "initialize": self._initialize,
            "authenticate": self._authenticate,
            "logout": self._logout,
            "session/new": self._new,
            "session/load": self._load,
            "session/resume": self._resume,
            "session/list": self._list,
            "session/close": self._close,
            "session/delete": self._delete,
            "session/set_mode": self._set_mode,
            "session/set_config_option": self._set_config_option,
            "session/prompt": self._prompt,
            session_fork.FORK_METHOD: partial(session_fork.fork, self),  # unstable
            ATTACH_METHOD: self._attach,
            DETACH_METHOD: self._detach,
            HELLO_METHOD: self._hello,
            LIVE_SESSIONS_METHOD: self._live_sessions,
            rewind_ext.CHECKPOINTS_METHOD: partial(rewind_ext.list_checkpoints, self),
            rewind_ext.REWIND_METHOD: partial(rewind_ext.rewind, self),
            rewind_ext.EDIT_METHOD: partial(rewind_ext.edit, self),
            jobs.JOBS_LIST_METHOD: _ignore_ctx(jobs.answer_list),  # durable jobs (agentcore/jobs/serve_ext.py)
            jobs.JOBS_APPROVE_METHOD: _ignore_ctx(jobs.answer_approve),
        }

    # ------------------------------------------------------------ dispatch

    async def handle_request(self, method: str, params: Any, ctx: RequestContext) -> Any:
        if method == MCP_MESSAGE_METHOD:
            return await self.mcp_router.handle_request(method, params, ctx)
        handler = self._handlers.get(method)
        if handler is None:
            raise MethodNotFound(method)
        try:
            return await handler(_params(params), ctx)
        except JsonRpcError:
            raise  # already an answer
        except AgentcoreError as exc:  # a known condition: say what it is, never "Internal error"
            raise _known_error(exc) from None

    async def handle_notification(self, method: str, params: Any, ctx: RequestContext) -> None:
        if method == MCP_MESSAGE_METHOD:
            await self.mcp_router.handle_notification(method, params, ctx)
            return
        if method == "session/cancel" and isinstance(params, dict):
            live = self.sessions.get(params.get("sessionId"))  # type: ignore[arg-type]
            view = live.view_for(self.conn) if live is not None else None
            if live is not None and view is not None and view.role is Role.CONTROLLER:
                live.cancel(ctx.seq)
        # Every other notification (extensions included) is ignored, as JSON-RPC asks.

    async def disconnected(self) -> None:
        """The connection ended. In ``agent acp`` its sessions close with it; in a
        server they stay live (a running turn goes on and is journaled)."""
        await self.mcp_router.aclose()
        sessions, self.sessions = list(self.sessions.values()), {}
        for live in sessions:
            if self.hub.keep_sessions:
                live.detach(self.conn)
            else:
                await self.hub.close_session(live.id)

    # ----------------------------------------------------------- handshake

    async def _initialize(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        try:
            self.client_caps = capabilities.check_initialize_params(params)
        except capabilities.ParamsProblem as exc:
            raise InvalidParams(str(exc), exc.details) from None
        return capabilities.initialize_result()

    async def _authenticate(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        method_id = _require_str(params, "methodId")
        if method_id != capabilities.ENV_AUTH_METHOD_ID:
            raise InvalidParams(f"unknown auth method {method_id!r}", {"path": "methodId", "error": "unknown"})
        if self._logged_out:  # the key is still where it was: signing in again is choosing to use it
            self._logged_out = False
            return {}
        raise JsonRpcError(AUTH_REQUIRED, _auth_message(), {"envVars": list(capabilities.API_KEY_ENV_VARS)})

    async def _logout(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        """``logout``: this connection starts no new session (``session/new``, ``load``,
        ``resume`` answer -32000) until it calls ``authenticate`` again. Keys live in
        the agent's environment, which a client cannot change; running sessions go on."""
        self._logged_out = True
        return {}

    # ------------------------------------------------------------ sessions

    def setup(self) -> AgentSetup:
        return self._client_setup or self.hub.setup()

    async def _hello(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        """``_agentcore/bridge/hello`` (first message of the ``agent acp`` bridge on
        the local socket): the client's environment and working directory, so its
        sessions behave exactly as in-process ones. Refused on any other transport."""
        if self.client is None or self.client.transport != "unix":
            raise MethodNotFound(HELLO_METHOD)
        env = params.get("env")
        if not (isinstance(env, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())):
            raise InvalidParams("env must map names to strings", {"path": "env", "error": "expected a string map"})
        cwd = _absolute_dir(params.get("cwd"), "cwd")
        flags = params.get("flags") or {}
        if not (isinstance(flags, dict) and set(flags) <= set(HELLO_FLAGS)
                and all(isinstance(flags[k], HELLO_FLAGS[k]) for k in flags)):  # fmt: skip
            allowed = ", ".join(HELLO_FLAGS)
            raise InvalidParams(f"flags may hold {allowed}", {"path": "flags", "error": f"only {allowed}"})
        self._client_setup = self.hub.setup_for_client(env, cwd, flags)
        return {"version": agentcore.__version__, "pid": os.getpid(), "flags": True}

    @property
    def features(self) -> ClientFeatures:
        flags = capabilities.client_feature_flags(self.client_caps)
        return ClientFeatures(notices=flags["notices"], compaction=flags["compaction"], unstable=flags["unstable"],
                              turns=flags["turns"], elicitation=advertised_modes(self.client_caps))  # fmt: skip

    async def _open(self, params: dict[str, Any], *, session_id: str | None) -> LiveSession:
        if self._logged_out:
            raise JsonRpcError(AUTH_REQUIRED, LOGGED_OUT_MESSAGE, {"authMethods": [capabilities.ENV_AUTH_METHOD_ID]})
        cwd = _absolute_dir(params.get("cwd"), "cwd")
        extra = [_absolute_dir(d, f"additionalDirectories[{i}]") for i, d in enumerate(_string_list(params, "additionalDirectories"))]
        mcp_servers = _string_list(params, "mcpServers")
        for i, server in enumerate(mcp_servers):
            if not isinstance(server, dict) or not isinstance(server.get("name"), str):
                raise InvalidParams("each MCP server needs a name", {"path": f"mcpServers[{i}].name", "error": "required string"})
        setup = self.setup()
        try:
            server_specs = specs_from_acp(mcp_servers, client=self.mcp_router)
        except McpConfigError as exc:
            raise _session_error(exc) from None
        flags = capabilities.client_feature_flags(self.client_caps)
        caps = ClientFsCapabilities(flags["read_text_file"], flags["write_text_file"], flags["terminal"])
        # The core picks the id of a new session; the backends read it when they run.
        ref = _SessionRef()
        fs, shell = delegated_backends(
            self.conn, ref.get, caps, local_fs=LocalFs(), timeout_s=setup.client_call_timeout_s
        )
        info = SessionCreateInfo(
            cwd=cwd,
            frontend=Frontend.acp(fs_delegated=fs is not None, shell_delegated=shell is not None),
            profile=setup.profile,
            provider=setup.provider,
            model=setup.model,
            additional_dirs=tuple(extra),
            fs=fs,
            shell=shell,
            mcp_servers=server_specs,
            session_id=session_id,
        )
        try:
            session = await setup.core.start_session(info, self.hub.nursery)
        except SessionNotFound as exc:
            raise JsonRpcError(RESOURCE_NOT_FOUND, f"Session not found: {session_id}", {"sessionId": session_id}) from exc
        except Exception as exc:
            raise _session_error(exc) from None
        ref.value = session.id
        live = LiveSession(
            session, self.conn, self.features,
            lossy=self.hub.keep_sessions, on_turn_end=self.hub.settle, approval_timeout_s=setup.approval_timeout_s,
        )  # fmt: skip
        if session.mcp is not None:  # servers' questions go to the session's controller, in the modes it advertised
            session.mcp.elicitor = AcpElicitor(self.conn, session.id, self.client_caps, route=owner_route(live))
        await self.hub.nursery.start(live.run)
        self.hub.add(live)
        self.sessions[session.id] = live
        return live

    def _session_result(self, live: LiveSession) -> dict[str, Any]:
        return {"modes": mode_state(live.session), "configOptions": config_options(live.session)}

    def _after_open(self, live: LiveSession, ctx: RequestContext) -> None:
        ctx.after_response.append(live.send_available_commands)
        ctx.after_response.append(live.send_startup_notices)

    async def _new(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        live = await self._open(params, session_id=None)
        self._after_open(live, ctx)
        return {"sessionId": live.id, **self._session_result(live)}

    async def _load(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        """Open a stored session and replay it; one live in this server already is
        attached to (as controller) rather than loaded a second time."""
        session_id = _require_str(params, "sessionId")
        live = await self._live_or_open(params, session_id, Role.CONTROLLER)
        view = live.view_for(self.conn)
        assert view is not None
        await self._replay(live, view, HistoryPolicy.FULL)
        self._after_open(live, ctx)
        return self._session_result(live)

    async def _live_or_open(self, params: dict[str, Any], session_id: str, role: Role) -> LiveSession:
        live = self.sessions.get(session_id)
        if live is not None:
            return live
        live = self.hub.sessions.get(session_id)
        if live is None:
            return await self._open(params, session_id=session_id)
        if role is Role.CONTROLLER:
            await self._approved(live, "attach as controller", "another client wants to control this session")
        await live.attach(self.conn, self.features, role)
        self.sessions[session_id] = live
        return live

    async def _replay(self, live: LiveSession, view: Any, policy: HistoryPolicy) -> None:
        session = live.session
        running = live.running_turn_update(view)  # a client with turn updates learns first that a turn runs
        if running is not None:
            await view.send_update(running)
        if policy is HistoryPolicy.NONE:
            return
        messages = session.history.snapshot()
        if policy is HistoryPolicy.PENDING_ONLY:
            messages = running_turn(messages) if session.turn_running else ()
        with gc_paused():  # tens of thousands of fresh dicts, no cycles
            updates = replay_updates(messages, plan=session.plan)
        if session.turn_running:  # the response streaming now (not in the history yet), under the id its rest will carry
            for kind, parts in live.streaming.items():
                updates.append(content_chunk(kind, "".join(parts), view.projector.message_id(kind)))
        await view.send_updates(updates)
        if session.title and policy is HistoryPolicy.FULL:
            await view.send_update({"sessionUpdate": "session_info_update", "title": session.title})

    async def _attach(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        """``_agentcore/session/attach``: join a session live in this server (or
        load a stored one) as ``controller`` or ``observer``, with a history policy."""
        session_id = _require_str(params, "sessionId")
        role = _enum_param(params, "role", Role, Role.CONTROLLER)
        policy = _enum_param(params, "historyPolicy", HistoryPolicy, HistoryPolicy.FULL)
        live = self.sessions.get(session_id)
        if live is not None:
            view = live.view_for(self.conn)
            if role is Role.CONTROLLER and (view is None or view.role is not Role.CONTROLLER):
                await self._approved(live, "attach as controller", "an observer wants to control this session")
            await live.attach(self.conn, self.features, role)  # a new role for this client
        else:
            live = await self._live_or_open(params, session_id, role)
        view = live.view_for(self.conn)
        assert view is not None
        await self._replay(live, view, policy)
        ctx.after_response.append(partial(live.send_available_commands, view))
        return {
            "sessionId": live.id,
            "role": role.value,
            "historyPolicy": policy.value,
            "connectedClients": len(live.views),
            "turnRunning": bool(live.session.turn_running),
            "clientId": view.client_id,  # how turn updates name this client
            **self._session_result(live),
        }

    async def _live_sessions(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        """``_agentcore/sessions/live``: the sessions live in this server (for
        ``agent sessions list`` and ``agent chat --attach``), optionally for one ``cwd``."""
        cwd = params.get("cwd")
        if cwd is not None and not isinstance(cwd, str):
            raise InvalidParams("cwd must be a string", {"path": "cwd", "error": "expected a string"})
        rows = []
        for live in self.hub.sessions.values():
            session = live.session
            if cwd is not None and str(session.cwd) != cwd:
                continue
            row: dict[str, Any] = {
                "sessionId": live.id,
                "cwd": str(session.cwd),
                "clients": len(live.views),
                "turnRunning": bool(session.turn_running),
            }
            if session.title:
                row["title"] = session.title
            rows.append(row)
        return {"sessions": rows}

    async def _detach(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        """``_agentcore/session/detach``: stop getting the session's updates; it stays live."""
        live = self._live(params)
        self.sessions.pop(live.id, None)
        live.detach(self.conn)
        return {}

    async def _resume(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        session_id = _require_str(params, "sessionId")
        live = self.sessions.get(session_id) or await self._open(params, session_id=session_id)
        self._after_open(live, ctx)
        return self._session_result(live)

    async def _list(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        cwd = params.get("cwd")
        if cwd is not None and not isinstance(cwd, str):
            raise InvalidParams("cwd must be a string", {"path": "cwd", "error": "expected a string"})
        cursor = params.get("cursor")
        start = 0
        if cursor is not None:
            if not isinstance(cursor, str) or not cursor.isdigit():
                raise InvalidParams("cursor is not one this agent returned", {"path": "cursor", "error": "invalid cursor"})
            start = int(cursor)
        rows = self.setup().core.list_sessions(cwd=Path(cwd) if cwd else None)
        page = rows[start : start + LIST_PAGE_SIZE]
        result: dict[str, Any] = {"sessions": [_session_info(row) for row in page]}
        if start + LIST_PAGE_SIZE < len(rows):
            result["nextCursor"] = str(start + LIST_PAGE_SIZE)
        return result

    def _live(self, params: dict[str, Any]) -> LiveSession:
        session_id = _require_str(params, "sessionId")
        live = self.sessions.get(session_id)
        if live is None:
            raise JsonRpcError(RESOURCE_NOT_FOUND, f"Session not found or not open: {session_id}", {"sessionId": session_id})
        return live

    async def _close(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        live = self._live(params)
        self.sessions.pop(live.id, None)
        await self.hub.close_session(live.id)
        return {}

    async def _delete(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        session_id = _require_str(params, "sessionId")
        live = self.hub.sessions.get(session_id)
        if live is not None:
            await self._approved(live, "session/delete", "another client wants to delete this session")
        self.sessions.pop(session_id, None)
        was_live = await self.hub.close_session(session_id)
        try:
            self.setup().core.delete_session(session_id)
        except SessionNotFound:
            if not was_live:
                raise JsonRpcError(RESOURCE_NOT_FOUND, f"Session not found: {session_id}", {"sessionId": session_id}) from None
        return {}

    async def _set_mode(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        live = self._live(params)
        live.check_controller(self.conn)
        mode = parse_mode(params.get("modeId"), path="modeId")
        if mode.bypasses_permissions:
            await self._approved(live, f"switching to {mode.value} mode", "another client wants to stop being asked")
        await live.session.set_mode(mode)
        return {}

    async def _set_config_option(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        live = self._live(params)
        live.check_controller(self.conn)
        if params.get("configId") == "mode" and _bypasses(params.get("value")):
            await self._approved(live, f"switching to {params.get('value')} mode", "another client wants to stop being asked")
        await set_config_option(live.session, params.get("configId"), params.get("value"))
        return {"configOptions": config_options(live.session)}

    async def _approved(self, live: LiveSession, action: str, detail: str) -> None:
        await require_approval(live, self.conn, action, detail, timeout_s=self.setup().approval_timeout_s)

    async def _prompt(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        live = self._live(params)
        SESSION_ID.set(live.session.id)  # this handler's task only: its log lines carry the session (agentcore.logctx)
        log.info("prompt started")
        result = await live.prompt(params.get("prompt"), ctx, self.conn)
        log.info("prompt ended: %s", result.get("stopReason"))
        return result


@attrs.define
class _SessionRef:
    value: str = ""

    def get(self) -> str:
        return self.value


def _ignore_ctx(handler: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any], RequestContext], Any]:
    """A handler that needs only its params."""
    return lambda params, ctx: handler(params)


def _auth_message() -> str:
    names = " or ".join(capabilities.API_KEY_ENV_VARS)
    return (
        f"No LLM provider is configured: set {names} in the environment the editor starts "
        "`agent acp` with (or configure a provider, or run a local Ollama), then restart the agent. "
        "Pass --provider echo to try the offline echo model."
    )


def _known_error(exc: AgentcoreError) -> JsonRpcError:
    """A typed error as a JSON-RPC error whose ``data.type`` names its class
    (``SessionLocked``, ``JournalCorrupt`` ...) and whose message is the error's own."""
    data: dict[str, Any] = {"type": type(exc).__name__}
    for field in ("path", "line", "session_id", "owner"):  # where it happened (owner: the server holding it), when known
        value = getattr(exc, field, None)
        if value is not None:
            data[field if field != "session_id" else "sessionId"] = str(value) if field == "path" else value
    if isinstance(exc, SessionNotFound):
        code = RESOURCE_NOT_FOUND
    elif isinstance(exc, InputError):  # what the client sent cannot be used as it is
        code = INVALID_PARAMS
    else:
        code = INTERNAL_ERROR
    return JsonRpcError(code, str(exc), data)


def _session_error(exc: Exception) -> JsonRpcError:
    from agentcore.errors import AgentcoreError
    from agentcore.llm import MissingKeyError, NoProviderError

    if isinstance(exc, NoProviderError | MissingKeyError):
        return JsonRpcError(AUTH_REQUIRED, _auth_message() + f" ({exc})", {"envVars": list(capabilities.API_KEY_ENV_VARS)})
    if isinstance(exc, JsonRpcError):
        return exc
    if isinstance(exc, StoreError):  # a locked or corrupt session: name the holder, the file and line
        return _known_error(exc)
    if isinstance(exc, AgentcoreError):  # a known condition the user can fix: say what it is
        return InvalidParams(str(exc), {"path": "", "error": str(exc), "type": type(exc).__name__})
    log.error("session could not start", exc_info=exc)
    return JsonRpcError(INTERNAL_ERROR, f"The session could not start: {type(exc).__name__}")


LOGGED_OUT_MESSAGE = f"Logged out: call authenticate (methodId {capabilities.ENV_AUTH_METHOD_ID!r}) to start sessions again"
LIVE_SESSIONS_METHOD = "_agentcore/sessions/live"  # the sessions live in this server
HELLO_FLAGS: dict[str, type | tuple[type, ...]] = {"profile": str, "provider": str, "model": str, "trust": bool}
HELLO_METHOD = "_agentcore/bridge/hello"  # the local bridge's first request (docs/serve.md)
ATTACH_METHOD = "_agentcore/session/attach"  # until ACP's multi-client attach is stable
DETACH_METHOD = "_agentcore/session/detach"


def _bypasses(value: Any) -> bool:
    from agentcore.permissions import PermissionMode

    try:
        return PermissionMode(value).bypasses_permissions
    except ValueError:
        return False  # set_config_option answers the bad value


def _enum_param(params: dict[str, Any], key: str, kind: type[Any], default: Any) -> Any:
    value = params.get(key)
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(v.value for v in kind)
        raise InvalidParams(f"{key} must be one of {allowed}", {"path": key, "error": f"one of {allowed}"}) from None


def running_turn(messages: Any) -> tuple[Any, ...]:
    """The messages of the turn running now: from its prompt to the end."""
    from agentcore.messages import MessageKind, UserMessage

    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if isinstance(message, UserMessage) and message.kind is MessageKind.PROMPT:
            return tuple(messages[index:])
    return ()


def _session_info(row: Any) -> dict[str, Any]:
    info: dict[str, Any] = {"sessionId": row.id, "cwd": str(row.cwd)}
    if row.title:
        info["title"] = row.title
    if row.updated >= PLAUSIBLE_EPOCH_S:
        info["updatedAt"] = datetime.fromtimestamp(row.updated, tz=timezone.utc).isoformat().replace("+00:00", "Z")
    # What a session picker shows beside the title (the web page): ACP has no field for them.
    info["_meta"] = {"agentcore": {"costUsd": float(getattr(row, "cost_usd", 0.0)), "messages": int(getattr(row, "message_count", 0))}}
    return info
