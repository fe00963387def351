"""A session that runs in ``agent serve``, seen from a terminal: the small ACP
client behind ``agent chat --attach``.

:class:`RemoteSession` speaks newline-delimited ACP over the server's Unix
socket (the same :class:`~acp.jsonrpc.Connection` the agent side uses, here
as the client) and offers what :class:`cli.chat.Chat` uses of a local
session — ``events`` to subscribe to, ``run_turn``, ``cancel``,
``permissions.resolve``, ``aclose`` — so the chat's loop, keys and renderer
are reused unchanged. ``session/update`` notifications become
:class:`~agentcore.events.AgentEvent` values (:mod:`cli.update_events`);
``session/request_permission`` (and ``_agentcore/session/approve``, when this
terminal owns the session) becomes a ``PermissionRequested`` that the chat
answers like a local one. When another client answers first, the server
withdraws the request (``$/cancel_request``), and a ``PermissionResolved``
takes the question off the screen.

Invariant: events reach the chat in the order their messages arrived —
notifications are handled inline by the connection and emitted into one
unbounded channel — and every update of a prompt of ours is emitted before
its ``TurnEnded`` (the server answers ``session/prompt`` last).
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
import trio

from agentcore.acp.jsonrpc import (
    INVALID_PARAMS,
    Connection,
    ConnectionClosed,
    JsonRpcError,
    LineTransport,
    MethodNotFound,
    ProtocolError,
    RemoteError,
    RequestContext,
)
from agentcore.events import AgentEvent, Notice, PermissionResolved, TurnAborted, TurnEnded, TurnStarted
from agentcore.messages import StopReason, Usage
from agentcore.permissions import PermissionOption
from agentcore.cli.serve_client import LIVE_SESSIONS_METHOD, PROTOCOL_VERSION, AttachError, LiveSession, NoServer, parse_live
from agentcore.cli.update_events import MODEL_OPTION, UpdateTranslator, current_option, option_id

ATTACH_METHOD = "_agentcore/session/attach"
DETACH_METHOD = "_agentcore/session/detach"
DETACHED_METHOD = "_agentcore/session/detached"  # the server dropped this client (it lagged)
APPROVE_METHOD = "_agentcore/session/approve"
INITIALIZE_TIMEOUT_S = 10.0  # seconds for a running server to answer initialize; it answers in milliseconds
DETACH_TIMEOUT_S = 2.0  # seconds to say goodbye on exit; the session stays live either way
ALLOWING = (PermissionOption.ALLOW_ONCE, PermissionOption.ALLOW_ALWAYS)
WITHDRAWN = "resolved_elsewhere"  # PermissionResolved.outcome: another client answered, or the turn ended
CLIENT_CAPABILITIES = {
    "session": {"notices": {}},  # warnings and errors as notices, not as message text
    "_meta": {"agentcore": {"turnUpdates": True}},  # another client's turn starting and ending
}


class RemoteEvents:
    """The session's events for the chat's one :class:`~cli.chat.SessionView`.
    Unbounded: the replay arrives before the view subscribes, and must wait for it."""

    def __init__(self) -> None:
        self._send, self._receive = trio.open_memory_channel[AgentEvent](math.inf)
        self._observers: list[Callable[[AgentEvent], None]] = []
        self.emitted = 0

    def emit(self, event: AgentEvent) -> None:
        self.emitted += 1
        for observer in tuple(self._observers):
            observer(event)
        try:
            self._send.send_nowait(event)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # the chat is leaving

    def add_observer(self, observer: Callable[[AgentEvent], None]) -> Callable[[], None]:
        self._observers.append(observer)

        def remove() -> None:
            if observer in self._observers:
                self._observers.remove(observer)

        return remove

    @asynccontextmanager
    async def subscribe(self, **_options: Any) -> AsyncIterator[trio.MemoryReceiveChannel[AgentEvent]]:
        yield self._receive


@attrs.define
class _Question:
    options: Any
    answered: trio.Event = attrs.field(factory=trio.Event)
    option: PermissionOption = PermissionOption.REJECT_ONCE


class RemotePermissions:
    """Questions the server asked this terminal and not yet withdrawn."""

    def __init__(self) -> None:
        self.pending: dict[str, _Question] = {}

    def resolve(self, request_id: str, option: PermissionOption) -> bool:
        """Answer a question; False when it was withdrawn (answered elsewhere) meanwhile."""
        question = self.pending.pop(request_id, None)
        if question is None:
            return False
        question.option = option
        question.answered.set()
        return True


class RemoteSession:
    """Create with :meth:`connect`, then :meth:`attach`. ``nursery`` holds the
    connection's reader; :meth:`aclose` detaches (the session stays live)."""

    def __init__(self, stream: trio.SocketStream, nursery: trio.Nursery) -> None:
        self._stream = stream
        self._nursery = nursery
        self.conn = Connection.over(LineTransport(stream, stream), self)
        self.events = RemoteEvents()
        self.permissions = RemotePermissions()
        self.translator = UpdateTranslator()
        self.id = ""
        self.cwd: Path | None = None
        self.attached: dict[str, Any] = {}  # the attach answer
        self.ended = trio.Event()  # the connection is over
        self.end_reason = "agent serve closed the connection"
        self.leaving = False  # aclose() was called: the end is ours
        self._turns = itertools.count(1)
        self._error_noticed = False  # an error notice arrived during our turn (the server explained it)

    # ------------------------------------------------------------ lifetime

    @classmethod
    async def connect(cls, path: Path, nursery: trio.Nursery) -> RemoteSession:
        """Connect and ``initialize``; :class:`NoServer` when nothing answers at ``path``."""
        try:
            stream = await trio.open_unix_socket(os.fspath(path))
        except OSError:
            raise NoServer() from None
        remote = cls(stream, nursery)
        nursery.start_soon(remote._serve)
        try:
            params = {"protocolVersion": PROTOCOL_VERSION, "clientCapabilities": CLIENT_CAPABILITIES}
            await remote.conn.request("initialize", params, timeout_s=INITIALIZE_TIMEOUT_S)
        except ProtocolError:
            await stream.aclose()
            raise NoServer() from None
        return remote

    async def _serve(self) -> None:
        try:
            await self.conn.serve()
        except* (trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # the socket went away under us, or we closed it
        finally:
            self.ended.set()

    async def live(self) -> list[LiveSession]:
        return parse_live(await self._call(LIVE_SESSIONS_METHOD, {}))

    async def attach(self, session_id: str, *, cwd: Path | None = None) -> dict[str, Any]:
        """Join ``session_id`` as controller with its full history (replayed as
        events before this returns); :class:`AttachError` when the server refuses."""
        self.id, self.cwd = session_id, cwd
        params = {"sessionId": session_id, "role": "controller", "historyPolicy": "full"}
        self.attached = await self._call(ATTACH_METHOD, params)
        self.translator.model = current_option(self.attached.get("configOptions"), MODEL_OPTION) or ""
        self.events.emit(self.translator.flush())  # the replay's last paragraph is complete
        return self.attached

    async def _call(self, method: str, params: dict[str, Any]) -> Any:
        try:
            return await self.conn.request(method, params)
        except RemoteError as exc:
            raise AttachError(exc.message) from None
        except ConnectionClosed:
            raise AttachError(self.end_reason) from None

    async def aclose(self) -> None:
        """Detach and disconnect; the session goes on in the server."""
        if self.leaving:
            return
        self.leaving = True
        if self.id and not self.conn.closed:
            with trio.move_on_after(DETACH_TIMEOUT_S):
                try:
                    await self.conn.request(DETACH_METHOD, {"sessionId": self.id})
                except (ProtocolError, trio.BrokenResourceError, trio.ClosedResourceError):
                    pass  # gone already: nothing to detach from
        await self._stream.aclose()

    # ------------------------------------------------------ what the chat uses

    @property
    def mode(self) -> str:
        modes = self.attached.get("modes")
        return str(modes.get("currentModeId", "")) if isinstance(modes, dict) else ""

    async def run_turn(self, prompt: str, *, when_busy: Any = None) -> None:
        """Prompt the session and wait for the turn to end. The server serialises
        prompts (a newer one replaces a running one), so ``when_busy`` has no say."""
        turn_id = f"turn-{next(self._turns)}"
        self.translator.own_turn, self.translator.turn_id = True, turn_id
        self._error_noticed = False
        self.events.emit(TurnStarted(turn_id))
        params = {"sessionId": self.id, "prompt": [{"type": "text", "text": prompt}]}
        try:
            answer = await self.conn.request("session/prompt", params)
        except RemoteError as exc:
            if self._error_noticed:  # the server's notice said what went wrong
                self.events.emit(TurnEnded(turn_id, StopReason.END_TURN, Usage()))
            else:
                kind = exc.data.get("errorType") if isinstance(exc.data, dict) else None
                self.events.emit(TurnAborted(turn_id, exc.message, str(kind or "ServerError")))
        except ConnectionClosed:
            self.events.emit(TurnAborted(turn_id, self.end_reason, "ConnectionClosed"))
        else:
            try:
                stop = StopReason(answer.get("stopReason") if isinstance(answer, dict) else None)
            except ValueError:
                stop = StopReason.END_TURN
            self.events.emit(TurnEnded(turn_id, stop, Usage()))
        finally:
            self.translator.own_turn = False

    def cancel(self) -> None:
        """Ask the server to cancel the running turn (whoever started it)."""
        if self.id and not self.conn.closed:
            self._nursery.start_soon(self._notify_quietly, "session/cancel", {"sessionId": self.id})

    async def set_mode(self, mode: str) -> None:
        await self._call("session/set_mode", {"sessionId": self.id, "modeId": mode})

    async def _notify_quietly(self, method: str, params: dict[str, Any]) -> None:
        try:
            await self.conn.notify(method, params)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # the server is gone; the watcher says so

    # --------------------------------------------------- what the server sends

    async def handle_notification(self, method: str, params: Any, ctx: RequestContext) -> None:
        if not isinstance(params, dict) or params.get("sessionId") != self.id:
            return
        if method == "session/update" and isinstance(params.get("update"), dict):
            events = self.translator.update(params["update"])
            for event in events:
                if isinstance(event, Notice) and event.level == "error" and self.translator.own_turn:
                    self._error_noticed = True
                self.events.emit(event)
            if self.translator.settles_remote_output(events) and not self.permissions.pending:
                self.events.emit(self.translator.flush())
        elif method == DETACHED_METHOD:
            self.end_reason = f"agent serve detached this terminal: {params.get('reason') or 'no reason given'}"
            await self._stream.aclose()

    async def handle_request(self, method: str, params: Any, ctx: RequestContext) -> Any:
        if not isinstance(params, dict) or params.get("sessionId") != self.id:
            raise JsonRpcError(INVALID_PARAMS, "Invalid params: not the session this terminal is attached to")
        request_id = f"{method}#{ctx.request_id}"
        match method:
            case "session/request_permission":
                question = self.translator.permission_request(request_id, params)
                option = await self._ask(question, params.get("options"))
                return {"outcome": {"outcome": "selected", "optionId": option_id(params.get("options"), option)}}
            case "_agentcore/session/approve":
                option = await self._ask(self.translator.approval_request(request_id, params), None)
                return {"approved": option in ALLOWING}
            case _:
                raise MethodNotFound(method)  # no fs/terminal capabilities were offered

    async def _ask(self, question: Any, options: Any) -> PermissionOption:
        """Show ``question`` and wait for the chat's answer. Withdrawn by the server
        (``$/cancel_request``: answered by another client, or the turn ended),
        it leaves the screen."""
        pending = _Question(options)
        self.permissions.pending[question.request_id] = pending
        self.events.emit(question)
        try:
            await pending.answered.wait()
        except trio.Cancelled:
            if self.permissions.pending.pop(question.request_id, None) is not None:
                turn = self.translator.turn_id
                self.events.emit(PermissionResolved(turn, question.request_id, question.call_id, WITHDRAWN, allowed=False))
            raise
        return pending.option
