"""One open session and the ACP clients attached to it: prompts, cancellation,
permission.

Over stdio one client is attached. In ``agent serve`` any number are, each as
a :class:`Role` (controller or observer) with its own :class:`ClientView`
(projector and update pump): every client gets every update; a permission
request goes to every controller and the first answer wins (the others are
sent ``$/cancel_request``); a controller that attaches later is asked the open
requests too; a client that lags too far behind is detached with a reason
rather than waited for; a turn runs in the session, so it goes on when the
client that started it disconnects.

Ordering guarantees, all visible to each client:

* every update a turn produced is on the wire before its ``session/prompt``
  answer (the pump is drained first);
* a ``tool_call`` update precedes the ``session/request_permission`` about it;
* a prompt arriving while another runs cancels the running one, waits for it
  to answer ``cancelled``, then runs: prompts are serialised, never refused;
* ``session/cancel`` applies to every prompt received before it, including one
  whose task has not started yet (message sequence numbers decide);
* a client that opted in to turn updates (``features.turns``) gets one when a
  turn starts, before any of its updates, and one when it ends, after all of
  them and before the ``session/prompt`` answer; each names the client that
  started the turn (its ``clientId``; None: the agent itself).
"""

from __future__ import annotations

import enum
import itertools
import logging
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import trio

from agentcore.acp.approvals import APPROVAL_TIMEOUT_S, ApprovalDenied, require_approval
from agentcore.acp.content import SessionLinkAccess, to_user_message
from agentcore.acp.jsonrpc import AUTH_REQUIRED, INTERNAL_ERROR, ConnectionClosed, JsonRpcError, RequestContext
from agentcore.acp.options import config_options
from agentcore.acp.project import (
    ClientFeatures,
    SessionProjector,
    TurnOrigin,
    Update,
    permission_options,
    permission_tool_call,
    turn_update,
    usage_json,
)
from agentcore.acp.pump import UpdatePump
from agentcore.events import (
    AgentEvent,
    AssistantTextDelta,
    LlmCallFinished,
    PermissionRequested,
    PermissionResolved,
    ThoughtDelta,
    TurnAborted,
    TurnEnded,
    TurnStarted,
)
from agentcore.messages import StopReason, TextBlock, UserMessage
from agentcore.permissions import PermissionOption
from agentcore.turn import TurnAbortedError
from agentcore import WhenBusy

log = logging.getLogger("acp.live")

NOT_ATTACHED = -32004  # the client asked about a session it is not attached to
OBSERVER_REFUSED = -32005  # an observer asked to change the session

COMMANDS = (
    ("compact", "Summarise older messages to free context space"),
    ("context", "Show how much of the context window is in use"),
    ("continue", "Continue the turn the agent was cut off in (`/continue discard` drops it)"),
)


class Role(enum.StrEnum):
    """What an attached client may do with a session."""

    CONTROLLER = "controller"  # prompt, cancel, answer permission requests, change mode and options
    OBSERVER = "observer"  # see everything, change nothing


class HistoryPolicy(enum.StrEnum):
    """What an attaching client is shown of the conversation so far."""

    FULL = "full"  # the whole conversation, as session/load replays it
    PENDING_ONLY = "pending_only"  # only the turn running now (and its open permission requests)
    NONE = "none"  # only what happens from now on


class Detached(enum.StrEnum):
    """Why a client stopped getting a session's updates."""

    LAGGED = "fell too far behind the session's updates; attach again to catch up"


VIEW_BUFFER_EVENTS = 10_000  # events a client may lag behind before it is detached (servers only)


class ClientView:
    """One client's view of a live session: its own projector and update pump
    (clients differ in features and in what they have seen), and its role."""

    def __init__(self, live: LiveSession, conn: Any, features: ClientFeatures, role: Role) -> None:
        self.live = live
        self.conn = conn
        self.features = features
        self.role = role
        self.client_id = live.new_client_id()  # names this client in turn updates ("startedBy")
        self.projector = SessionProjector(
            features=features,
            config_options=lambda: config_options(live.session),
            turn_origin=live.turn_origin,
            client_id=self.client_id,
        )
        self.pump = UpdatePump(self.projector, self.send_update)
        self._remove_observer = live.session.events.add_observer(self.pump.observe)
        self.scope = trio.CancelScope()
        self.lagged = False

    @property
    def session_id(self) -> str:
        return self.live.id

    async def run(self, *, lossy: bool, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Project the session's events to this client until detached. ``lossy``
        (a server): a client that lags :data:`VIEW_BUFFER_EVENTS` behind is
        detached with a reason instead of holding the session back."""
        with self.scope:
            on_overflow = self._overflowed if lossy else None
            async with self.live.session.events.subscribe(buffer=VIEW_BUFFER_EVENTS, on_overflow=on_overflow) as events:
                task_status.started()
                try:
                    await self.pump.run(events)
                except (ConnectionClosed, trio.BrokenResourceError, trio.ClosedResourceError):
                    # The client's connection ended while its requests drain (a dropped
                    # WebSocket): it is gone, the session and its other clients go on.
                    log.info("a client of session %s left; its view stops", self.session_id)
                    self.live.drop_view(self)
                    return
            if self.lagged:
                self.live.drop_view(self)
                with trio.CancelScope(shield=True), trio.move_on_after(DETACH_NOTICE_TIMEOUT_S):
                    try:
                        await self.conn.notify(DETACHED_METHOD, {"sessionId": self.session_id, "reason": Detached.LAGGED.value})
                    except (ConnectionClosed, trio.BrokenResourceError, trio.ClosedResourceError):
                        pass

    def _overflowed(self) -> None:
        self.lagged = True
        log.warning("a client of session %s fell too far behind; detaching it", self.session_id)

    def stop(self) -> None:
        self._remove_observer()
        self.scope.cancel()

    async def send_update(self, update: Update) -> None:
        await self.conn.notify("session/update", {"sessionId": self.session_id, "update": update})

    async def send_updates(self, updates: Iterable[Update]) -> None:
        """Many updates at once (a replay), in as few writes as possible."""
        session_id = self.session_id
        await self.conn.notify_many("session/update", [{"sessionId": session_id, "update": u} for u in updates])


DETACHED_METHOD = "_agentcore/session/detached"  # notification: this client no longer gets the session's updates
DETACH_NOTICE_TIMEOUT_S = 2.0


class LiveSession:
    """A session open in the agent and the clients attached to it (one over
    stdio; any number in a server). Every attached client gets every update."""

    def __init__(
        self,
        session: Any,
        conn: Any,
        features: ClientFeatures,
        *,
        lossy: bool = False,
        on_turn_end: Callable[[], None] | None = None,
        approval_timeout_s: float = APPROVAL_TIMEOUT_S,
    ) -> None:
        self.session = session
        self.lossy = lossy  # a server: a lagging client is detached, never waited for
        self.approval_timeout_s = approval_timeout_s
        self._on_turn_end = on_turn_end  # the hub's GC policy
        self._views: dict[int, ClientView] = {}
        self._client_numbers = itertools.count(1)
        self._prompting: str | None = None  # the client whose prompt is about to start a turn
        self._turn_origins: dict[str, TurnOrigin] = {}  # turn id -> who started it (the last few turns)
        self.running_turn: tuple[str, TurnOrigin] | None = None  # (turn id, origin) of the turn running now
        self._first = ClientView(self, conn, features, Role.CONTROLLER)
        self._turn_lock = trio.Lock()  # FIFO: prompts run in arrival order
        self._cancel_seq = -1  # prompts with a smaller sequence number are cancelled
        self._active_seq: int | None = None
        self._turn_usage: Any = None  # the last turn's Usage, for the prompt's answer (ACP unstable `usage`)
        self._cancel_armed = False  # a cancel arrived before the turn's scope existed
        self._permission_scopes: dict[str, list[trio.CancelScope]] = {}
        self._open_requests: dict[str, PermissionRequested] = {}  # asked, not yet resolved
        self._nursery: trio.Nursery | None = None
        self._closed = trio.Event()
        self._notices_sent = False
        self._notices_lock = trio.Lock()
        # The response streaming now, by chunk kind: not in the history until the model
        # call ends, so a client attaching (or reconnecting) mid-stream is replayed it from here.
        self.streaming: dict[str, list[str]] = {}
        session.events.add_observer(self._observe)

    @property
    def id(self) -> str:
        return self.session.id

    @property
    def views(self) -> list[ClientView]:
        return list(self._views.values())

    def view_for(self, conn: Any) -> ClientView | None:
        return self._views.get(id(conn))

    def new_client_id(self) -> str:
        return f"client-{next(self._client_numbers)}"

    def turn_origin(self, turn_id: str) -> TurnOrigin | None:
        return self._turn_origins.get(turn_id)

    def running_turn_update(self, view: ClientView) -> Update | None:
        """For a client that attaches mid-turn and wants turn updates: the turn running now."""
        if self.running_turn is None or not view.features.turns:
            return None
        turn_id, origin = self.running_turn
        return turn_update(turn_id, "running", origin, own_id=view.client_id)

    async def run(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The session's tasks (update pumps, permission requests) live here until close."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            await self._start_view(self._first)
            task_status.started()
            await self._closed.wait()
            nursery.cancel_scope.cancel()

    async def _start_view(self, view: ClientView) -> None:
        assert self._nursery is not None
        self._views[id(view.conn)] = view
        await self._nursery.start(partial(view.run, lossy=self.lossy))

    async def attach(self, conn: Any, features: ClientFeatures, role: Role) -> ClientView:
        """Another client joins (or the same one changes role). It gets every
        update from now on; a controller is also asked every open permission request."""
        old = self.view_for(conn)
        if old is not None:
            self.drop_view(old)
        view = ClientView(self, conn, features, role)
        await self._start_view(view)
        if role is Role.CONTROLLER and self._nursery is not None:
            for event in list(self._open_requests.values()):
                self._nursery.start_soon(self._ask_permission, view, event, 0)
        return view

    def detach(self, conn: Any) -> bool:
        """The client leaves (or its connection ended). A running turn goes on."""
        view = self.view_for(conn)
        if view is None:
            return False
        self.drop_view(view)
        return True

    def drop_view(self, view: ClientView) -> None:
        if self._views.get(id(view.conn)) is view:
            del self._views[id(view.conn)]
        view.stop()

    def controllers(self) -> list[ClientView]:
        return [v for v in self._views.values() if v.role is Role.CONTROLLER]

    def owner(self) -> ClientView | None:
        """Who approves high-risk requests of other clients: the client that
        opened the session while it is attached, else the longest-attached controller."""
        if self._views.get(id(self._first.conn)) is self._first and not _gone(self._first):
            return self._first
        # A client whose connection has ended (its in-flight requests still draining) owns nothing:
        # one reconnecting after a dropped network takes its session back without asking.
        controllers = [view for view in self.controllers() if not _gone(view)]
        return controllers[0] if controllers else None

    async def close(self) -> None:
        self.session.cancel()
        await self.session.aclose()
        self._closed.set()

    async def send_update(self, update: Update) -> None:
        """To every attached client."""
        for view in self.views:
            try:
                await view.send_update(update)
            except (ConnectionClosed, trio.BrokenResourceError, trio.ClosedResourceError):
                self.drop_view(view)

    async def send_available_commands(self, view: ClientView | None = None) -> None:
        commands = [{"name": name, "description": text} for name, text in COMMANDS]
        update = {"sessionUpdate": "available_commands_update", "availableCommands": commands}
        await (view.send_update(update) if view is not None else self.send_update(update))

    async def send_startup_notices(self) -> None:
        """Once, after the session's answer and before any prompt's updates."""
        async with self._notices_lock:  # a prompt waits until they are all out
            if self._notices_sent:
                return
            self._notices_sent = True
            for view in self.views:
                for notice in self.session.startup_notices:
                    for update in view.projector.project(notice):
                        await view.send_update(update)

    # --------------------------------------------------------------- prompts

    async def prompt(self, blocks: Any, ctx: RequestContext, conn: Any = None) -> dict[str, Any]:
        view = self._controller(conn)
        await self.send_startup_notices()  # a prompt may overtake the follow-up of session/new
        # Linked files are read as read_file would be: confined, ruled, asked about outside.
        links = SessionLinkAccess(self.session.permissions, self.session.workspace)
        message = await to_user_message(blocks, self.session.fs, links=links)
        if self._active_seq is not None:
            self.cancel(ctx.seq)  # a newer prompt replaces the running one
        async with self._turn_lock:
            if ctx.seq < self._cancel_seq:
                return {"stopReason": StopReason.CANCELLED.value}
            self._active_seq = ctx.seq
            self._turn_usage = None
            self._prompting = view.client_id
            try:
                stop = await (self._run_detachable(message, view) if self.lossy else self._run(message, view))
            finally:
                self._active_seq = None
                self._cancel_armed = False
                self._prompting = None
        usage = turn_usage_json(self._turn_usage) if view.projector.features.unstable else {}
        return {"stopReason": stop.value, **usage}

    def _controller(self, conn: Any) -> ClientView:
        """The view of ``conn`` (None: the first client), refused unless it may control the session."""
        view = self._first if conn is None else self.view_for(conn)
        if view is None:
            raise JsonRpcError(
                NOT_ATTACHED, f"This client is not attached to session {self.id}", {"sessionId": self.id}
            )
        if view.role is not Role.CONTROLLER:
            raise JsonRpcError(
                OBSERVER_REFUSED,
                f"This client is attached to session {self.id} as an observer; attach as controller to change it",
                {"sessionId": self.id, "role": view.role.value},
            )
        return view

    def check_controller(self, conn: Any) -> None:
        self._controller(conn)

    async def _run_detachable(self, message: UserMessage, view: ClientView) -> StopReason:
        """In a server the turn runs in the session, not in the request: a client
        that disconnects leaves it running (withdrawing the request still stops it)."""
        assert self._nursery is not None
        done = trio.Event()
        outcome: dict[str, Any] = {}

        async def turn() -> None:
            try:
                outcome["stop"] = await self._run(message, view)
            except Exception as exc:  # noqa: BLE001 - handed to the request that asked
                outcome["error"] = exc
            finally:
                done.set()
                if self._on_turn_end is not None:
                    self._on_turn_end()

        self._nursery.start_soon(turn)
        try:
            await done.wait()
        except trio.Cancelled:
            if not view.conn.closed:
                self.session.cancel()  # the client withdrew its request ($/cancel_request)
            raise
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("stop", StopReason.CANCELLED)

    async def _run(self, message: UserMessage, view: ClientView) -> StopReason:
        command = _slash_command(message)
        if command is not None:
            return await self._command(command, view)
        try:
            outcome = await self.session.run_turn(message, when_busy=WhenBusy.PREEMPT)
            self._turn_usage = outcome.usage
        except TurnAbortedError as exc:
            await view.pump.drain()
            cause = exc.__cause__
            code = AUTH_REQUIRED if type(cause).__name__ == "AuthError" else INTERNAL_ERROR
            raise JsonRpcError(code, f"The model request failed: {exc}", {"errorType": type(cause).__name__}) from None
        await view.pump.drain()
        return outcome.stop_reason

    def cancel(self, seq: int) -> None:
        """``session/cancel`` (or a newer prompt) with message sequence ``seq``."""
        self._cancel_seq = max(self._cancel_seq, seq)
        if self._active_seq is not None and self._active_seq < seq:
            self._cancel_armed = True
            self.session.cancel()

    def _observe(self, event: AgentEvent) -> None:
        # A cancel that landed between run_turn's start and its cancel scope is
        # re-applied on the turn's next event, so it is never lost.
        if self._cancel_armed and self.session.turn_running:
            self.session.cancel()
        match event:
            case AssistantTextDelta(text=text):
                self.streaming.setdefault("agent_message_chunk", []).append(text)
            case ThoughtDelta(text=text):
                self.streaming.setdefault("agent_thought_chunk", []).append(text)
            case LlmCallFinished():
                self.streaming = {}
            case TurnStarted(turn_id=turn_id):
                # Observers run as the event is emitted: the prompt that started it is still current.
                origin = TurnOrigin(self._prompting)
                self._prompting = None  # a turn the agent starts after it (background outcomes) is its own
                self._turn_origins[turn_id] = origin
                while len(self._turn_origins) > TURN_ORIGINS_KEPT:
                    self._turn_origins.pop(next(iter(self._turn_origins)))
                self.running_turn = (turn_id, origin)
            case TurnEnded():
                self._cancel_armed = False
                self.streaming = {}
                self.running_turn = None
            case TurnAborted():
                self.running_turn = None
            case PermissionRequested(request_id=request_id):
                self._open_requests[request_id] = event
                if self._nursery is not None:
                    for view in self.controllers():
                        self._nursery.start_soon(self._ask_permission, view, event, view.pump.emitted)
            case PermissionResolved(request_id=request_id):
                self._open_requests.pop(request_id, None)
                # Answered (first answer wins) or cancelled: every client still asked is told to drop it.
                for scope in self._permission_scopes.pop(request_id, []):
                    scope.cancel()

    # ------------------------------------------------------------ permission

    async def _ask_permission(self, view: ClientView, event: PermissionRequested, position: int) -> None:
        scopes = self._permission_scopes.setdefault(event.request_id, [])
        with trio.CancelScope() as scope:
            scopes.append(scope)
            # The tool_call this request is about must reach the client first.
            await view.pump.drain(position)
            params = {"sessionId": self.id, "toolCall": permission_tool_call(event), "options": permission_options(event)}
            try:
                answer = await view.conn.request("session/request_permission", params)
            except ConnectionClosed:
                self.drop_view(view)
                if not self.lossy and not self.controllers():
                    # Nobody is left to answer: the turn stops here (cancelled, not "declined")
                    # instead of going on making model requests for nobody. (A server keeps
                    # the question open for the next controller that attaches.)
                    log.warning("the client disconnected during permission request %s; cancelling the turn", event.request_id)
                    self.session.cancel()
                return
            except JsonRpcError as exc:
                log.warning("permission request %s failed: %r; rejecting", event.request_id, exc)
                answer = None
            option = _chosen(answer)
            if option in REMEMBERING and self.lossy:
                option = await self._approved_to_remember(view, event, option)
            if option is None:
                self.session.permissions.cancel_pending()
            else:
                self.session.permissions.resolve(event.request_id, option)
        if scope in scopes:
            scopes.remove(scope)

    async def _approved_to_remember(
        self, view: ClientView, event: PermissionRequested, option: PermissionOption
    ) -> PermissionOption:
        """"Always" writes a rule into the project's configuration: from a client
        that does not own the session it needs the owner's approval; refused, it
        counts once."""
        try:
            await require_approval(
                self, view.conn, "remember a permission rule",
                f"{option.value}: {event.always_rule or event.tool_name}", timeout_s=self.approval_timeout_s,
            )  # fmt: skip
        except ApprovalDenied:
            return PermissionOption.ALLOW_ONCE if option is PermissionOption.ALLOW_ALWAYS else PermissionOption.REJECT_ONCE
        return option

    # -------------------------------------------------------------- commands

    async def _command(self, command: str, view: ClientView) -> StopReason:
        name = command.split(maxsplit=1)[0]
        match name:
            case "continue":
                return await self._continue_pending(command.split(maxsplit=1)[1:], view)
            case "context":
                await self.send_update(_message(_context_text(self.session)))
            case "compact":
                focus = command.split(maxsplit=1)[1] if len(command.split(maxsplit=1)) > 1 else None
                report = await self.session.compact(reason="manual", focus=focus)
                await view.pump.drain()
                if report is None:
                    await self.send_update(_message("Nothing to compact yet: the conversation is all recent."))
                else:
                    await self.send_update(_message(
                        f"Compacted {report.messages_summarized} messages: "
                        f"{report.tokens_before:,} -> {report.tokens_after:,} tokens."
                    ))
        return StopReason.END_TURN

    async def _continue_pending(self, args: list[str], view: ClientView) -> StopReason:
        """``/continue``: run the turn the last process died in from its last
        complete message (``/continue discard``: drop it; the journal keeps it)."""
        if self.session.pending_turn is None:
            await self.send_update(_message("There is no cut-off turn to continue in this session."))
            return StopReason.END_TURN
        if args and args[0].strip() == "discard":
            await self.session.discard_pending()
            await self.send_update(_message("Dropped the cut-off turn (`agent sessions show --full` still shows it)."))
            return StopReason.END_TURN
        try:
            outcome = await self.session.run_pending(when_busy=WhenBusy.PREEMPT)
            self._turn_usage = outcome.usage
        except TurnAbortedError as exc:
            await view.pump.drain()
            raise JsonRpcError(INTERNAL_ERROR, f"The model request failed: {exc}",
                               {"errorType": type(exc.__cause__).__name__}) from None  # fmt: skip
        await view.pump.drain()
        return outcome.stop_reason


TURN_ORIGINS_KEPT = 64  # turns whose origin a lagging client's projector may still ask about
REMEMBERING = (PermissionOption.ALLOW_ALWAYS, PermissionOption.REJECT_ALWAYS)  # answers that write a rule


def _gone(view: ClientView) -> bool:
    return getattr(view.conn, "closed", False) is True


def _chosen(answer: Any) -> PermissionOption | None:
    """The option a permission answer picked; None when the client cancelled it.
    Anything unreadable rejects."""
    outcome = answer.get("outcome") if isinstance(answer, dict) else None
    kind = outcome.get("outcome") if isinstance(outcome, dict) else None
    if kind == "cancelled":
        return None
    if kind == "selected":
        try:
            return PermissionOption(outcome.get("optionId"))
        except ValueError:
            log.warning("unknown permission option %r; rejecting", outcome.get("optionId"))
    return PermissionOption.REJECT_ONCE


def _message(text: str) -> Update:
    return {"sessionUpdate": "agent_message_chunk", "content": {"type": "text", "text": text}}


def _slash_command(message: UserMessage) -> str | None:
    if len(message.content) != 1 or not isinstance(message.content[0], TextBlock):
        return None
    text = message.content[0].text.strip()
    names = {name for name, _ in COMMANDS}
    if text.startswith("/") and text[1:].split(maxsplit=1)[:1] and text[1:].split(maxsplit=1)[0] in names:
        return text[1:]
    return None


CONTEXT_BAR_CELLS = 30  # width of the text bar in /context


def _context_text(session: Any) -> str:
    status = session.context_status()
    used, window = status.used, status.window
    filled = min(CONTEXT_BAR_CELLS, round(status.ratio * CONTEXT_BAR_CELLS))
    bar = "█" * filled + "░" * (CONTEXT_BAR_CELLS - filled)
    b = status.breakdown
    rows = [
        ("System prompt", b.system_prompt),
        ("Tool schemas", b.tool_schemas),
        ("Messages", b.messages),
        ("Tool results", b.tool_results),
        ("Summaries", b.summaries),
    ]
    lines = [
        f"Context: {used:,} of {window:,} tokens ({status.ratio:.0%}) — model {session.model}",
        f"`{bar}`",
        "",
        *(f"- {name}: {tokens:,}" for name, tokens in rows),
    ]
    if status.calibrated:
        lines.append("\n(Calibrated against the provider's count for the last request.)")
    return "\n".join(lines)


def turn_usage_json(usage: Any) -> dict[str, Any]:
    """The end-of-turn ``usage`` of a prompt's answer (ACP unstable ``PromptResponse.usage``);
    empty when no model call ran (a slash command, a prompt cancelled before it began)."""
    if usage is None:
        return {}
    return {"usage": usage_json(usage)}
