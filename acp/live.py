"""One open session on the ACP connection: prompts, cancellation, permission.

Ordering guarantees, all visible to the client:

* every update a turn produced is on the wire before its ``session/prompt``
  answer (the pump is drained first);
* a ``tool_call`` update precedes the ``session/request_permission`` about it;
* a prompt arriving while another runs cancels the running one, waits for it
  to answer ``cancelled``, then runs: prompts are serialised, never refused;
* ``session/cancel`` applies to every prompt received before it, including one
  whose task has not started yet (message sequence numbers decide).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import trio

from agentcore.acp.content import SessionLinkAccess, to_user_message
from agentcore.acp.jsonrpc import AUTH_REQUIRED, INTERNAL_ERROR, ConnectionClosed, JsonRpcError, RequestContext
from agentcore.acp.options import config_options
from agentcore.acp.project import ClientFeatures, SessionProjector, Update, permission_options, permission_tool_call
from agentcore.acp.pump import UpdatePump
from agentcore.events import AgentEvent, PermissionRequested, PermissionResolved, TurnEnded
from agentcore.messages import StopReason, TextBlock, UserMessage
from agentcore.permissions import PermissionOption
from agentcore.turn import TurnAbortedError
from agentcore import WhenBusy

log = logging.getLogger("acp.live")

COMMANDS = (
    ("compact", "Summarise older messages to free context space"),
    ("context", "Show how much of the context window is in use"),
)


class LiveSession:
    def __init__(self, session: Any, conn: Any, features: ClientFeatures) -> None:
        self.session = session
        self.conn = conn
        self.features = features
        self.projector = SessionProjector(features=features, config_options=lambda: config_options(session))
        self.pump = UpdatePump(self.projector, self.send_update)
        self._turn_lock = trio.Lock()  # FIFO: prompts run in arrival order
        self._cancel_seq = -1  # prompts with a smaller sequence number are cancelled
        self._active_seq: int | None = None
        self._cancel_armed = False  # a cancel arrived before the turn's scope existed
        self._permission_scopes: dict[str, trio.CancelScope] = {}
        self._nursery: trio.Nursery | None = None
        self._closed = trio.Event()
        self._notices_sent = False
        self._notices_lock = trio.Lock()
        session.events.add_observer(self.pump.observe)
        session.events.add_observer(self._observe)

    @property
    def id(self) -> str:
        return self.session.id

    async def run(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The session's tasks (update pump, permission requests) live here until close."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            async with self.session.events.subscribe() as events:
                nursery.start_soon(self.pump.run, events)
                task_status.started()
                await self._closed.wait()
                nursery.cancel_scope.cancel()

    async def close(self) -> None:
        self.session.cancel()
        await self.session.aclose()
        self._closed.set()

    async def send_update(self, update: Update) -> None:
        await self.conn.notify("session/update", {"sessionId": self.id, "update": update})

    async def send_updates(self, updates: Iterable[Update]) -> None:
        """Many updates at once (a replay), in as few writes as possible."""
        session_id = self.id
        await self.conn.notify_many("session/update", [{"sessionId": session_id, "update": u} for u in updates])

    async def send_available_commands(self) -> None:
        commands = [{"name": name, "description": text} for name, text in COMMANDS]
        await self.send_update({"sessionUpdate": "available_commands_update", "availableCommands": commands})

    async def send_startup_notices(self) -> None:
        """Once, after the session's answer and before any prompt's updates."""
        async with self._notices_lock:  # a prompt waits until they are all out
            if self._notices_sent:
                return
            self._notices_sent = True
            for notice in self.session.startup_notices:
                for update in self.projector.project(notice):
                    await self.send_update(update)

    # --------------------------------------------------------------- prompts

    async def prompt(self, blocks: Any, ctx: RequestContext) -> dict[str, Any]:
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
            try:
                stop = await self._run(message)
            finally:
                self._active_seq = None
                self._cancel_armed = False
        return {"stopReason": stop.value}

    async def _run(self, message: UserMessage) -> StopReason:
        command = _slash_command(message)
        if command is not None:
            return await self._command(command)
        try:
            outcome = await self.session.run_turn(message, when_busy=WhenBusy.PREEMPT)
        except TurnAbortedError as exc:
            await self.pump.drain()
            cause = exc.__cause__
            code = AUTH_REQUIRED if type(cause).__name__ == "AuthError" else INTERNAL_ERROR
            raise JsonRpcError(code, f"The model request failed: {exc}", {"errorType": type(cause).__name__}) from None
        await self.pump.drain()
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
            case TurnEnded():
                self._cancel_armed = False
            case PermissionRequested():
                if self._nursery is not None:
                    self._nursery.start_soon(self._ask_permission, event, self.pump.emitted)
            case PermissionResolved(request_id=request_id):
                scope = self._permission_scopes.pop(request_id, None)
                if scope is not None:
                    scope.cancel()  # answered or cancelled on our side: stop waiting for the client

    # ------------------------------------------------------------ permission

    async def _ask_permission(self, event: PermissionRequested, position: int) -> None:
        with trio.CancelScope() as scope:
            self._permission_scopes[event.request_id] = scope
            # The tool_call this request is about must reach the client first.
            await self.pump.drain(position)
            params = {"sessionId": self.id, "toolCall": permission_tool_call(event), "options": permission_options(event)}
            try:
                answer = await self.conn.request("session/request_permission", params)
            except ConnectionClosed:
                # Nobody is left to answer: the turn stops here (cancelled, not "declined")
                # instead of going on making model requests for nobody.
                log.warning("the client disconnected during permission request %s; cancelling the turn", event.request_id)
                self.session.cancel()
                return
            except JsonRpcError as exc:
                log.warning("permission request %s failed: %r; rejecting", event.request_id, exc)
                answer = None
            self._settle(event.request_id, answer)
        self._permission_scopes.pop(event.request_id, None)

    def _settle(self, request_id: str, answer: Any) -> None:
        outcome = answer.get("outcome") if isinstance(answer, dict) else None
        kind = outcome.get("outcome") if isinstance(outcome, dict) else None
        if kind == "cancelled":
            self.session.permissions.cancel_pending()
            return
        option = PermissionOption.REJECT_ONCE
        if kind == "selected":
            try:
                option = PermissionOption(outcome.get("optionId"))
            except ValueError:
                log.warning("unknown permission option %r; rejecting", outcome.get("optionId"))
        self.session.permissions.resolve(request_id, option)

    # -------------------------------------------------------------- commands

    async def _command(self, command: str) -> StopReason:
        name = command.split(maxsplit=1)[0]
        match name:
            case "context":
                await self.send_update(_message(_context_text(self.session)))
            case "compact":
                focus = command.split(maxsplit=1)[1] if len(command.split(maxsplit=1)) > 1 else None
                report = await self.session.compact(reason="manual", focus=focus)
                await self.pump.drain()
                if report is None:
                    await self.send_update(_message("Nothing to compact yet: the conversation is all recent."))
                else:
                    await self.send_update(_message(
                        f"Compacted {report.messages_summarized} messages: "
                        f"{report.tokens_before:,} -> {report.tokens_after:,} tokens."
                    ))
        return StopReason.END_TURN


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
