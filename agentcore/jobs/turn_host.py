"""One goal-loop turn of a job, on trio: open the job's session in the worker's
workspace, run (or continue, or recognise as done) turn N, answer its approvals
through the workflow.

Invariants:

* Idempotent per (job, turn): the session journal decides what runs. A cut-off
  turn (the process died mid-turn) is continued from its last recorded message
  (``run_pending``); a turn whose prompt is already recorded and complete is
  not run again (its result is read back from the journal); otherwise the
  turn's prompt runs. So a retried or failed-over activity never repeats a
  model call or a tool call that was recorded.
* The prompts and the ``goal_done`` tool are the goal loop's own
  (:mod:`agentcore.session.goal`): a job is ``agent run --goal`` with each turn
  made durable.
* Every tool call that would ask is asked through the bridge (a workflow
  update); a timed-out answer denies the call and cancels the turn (fail closed).
* This module knows nothing of Temporal or asyncio: the bridge is the only way out.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import trio

from agentcore.events import AgentEvent, PermissionRequested
from agentcore.jobs import spec as s
from agentcore.logctx import SESSION_ID
from agentcore.messages import (
    AssistantMessage,
    MessageKind,
    StopReason,
    TextBlock,
    ToolUseBlock,
    UserMessage,
)
from agentcore.permissions import PermissionOption
from agentcore.session.goal import (
    CONTINUE_PROMPT,
    FIRST_PROMPT,
    GOAL_DONE,
    install_goal_done,
)
from agentcore.store import SessionLocked

log = logging.getLogger("agentcore.jobs")
JOB_METADATA_KEY = "job.id"
LOCK_WAIT_S = 120.0  # a lost worker's hold on the job's session must lapse first (a lease: 30 s by default)
LOCK_RETRY_S = 1.0  # between attempts to open a session another writer holds  # the session's metadata names the job that owns it


class JobBridge(Protocol):
    """What a turn asks of the workflow (implemented by the activity, over asyncio)."""

    async def session_started(self, session_id: str) -> None: ...

    async def ask(self, request: s.ApprovalRequest) -> str: ...  # allow, deny or timed_out


class JobApp(Protocol):
    """The slice of :class:`agentcore.app.AppContext` a turn uses."""

    core: Any

    def session_info(self, **overrides: Any) -> Any: ...


def turn_prompt(goal: str, turn: int, max_turns: int) -> str:
    if turn == 1:
        return FIRST_PROMPT.format(goal=goal.strip(), max_turns=max_turns)
    return CONTINUE_PROMPT.format(turn=turn, max_turns=max_turns)


def _prompt_index(messages: Sequence[Any], prompt: str) -> int | None:
    for i in range(len(messages) - 1, -1, -1):
        m = messages[i]
        if isinstance(m, UserMessage) and m.kind is MessageKind.PROMPT and m.text.strip() == prompt.strip():
            return i
    return None


def _goal_summary(messages: Sequence[Any]) -> str | None:
    for m in messages:
        if isinstance(m, AssistantMessage):
            for block in m.content:
                if isinstance(block, ToolUseBlock) and block.name == GOAL_DONE:
                    summary = block.input.get("summary")
                    if isinstance(summary, str) and summary:
                        return summary
    return None


def _last_text(messages: Sequence[Any]) -> str:
    for m in reversed(messages):
        if isinstance(m, AssistantMessage):
            text = "".join(b.text for b in m.content if isinstance(b, TextBlock))
            if text:
                return text
    return ""


async def run_job_turn(
    app: JobApp,
    request: s.TurnRequest,
    bridge: JobBridge,
    on_session: Callable[[Any], None] = lambda session: None,
) -> s.TurnResult:
    """Run turn ``request.turn`` of the job; ``on_session`` gets the open session
    (the activity cancels through it). A session still held by a lost worker (a
    PostgreSQL lease until it expires) is waited for, up to :data:`LOCK_WAIT_S`."""
    deadline = trio.current_time() + LOCK_WAIT_S
    while True:
        try:
            return await _run_turn(app, request, bridge, on_session)
        except SessionLocked as exc:
            if trio.current_time() >= deadline:
                raise
            log.info("waiting for the session: %s", exc)
            await trio.sleep(LOCK_RETRY_S)


async def _run_turn(app: JobApp, request: s.TurnRequest, bridge: JobBridge, on_session: Callable[[Any], None]) -> s.TurnResult:
    spec = request.spec
    info = app.session_info(interactive=True, session_id=request.session_id)
    async with app.core.open_session(info) as session:
        if request.session_id is None:
            session.set_metadata(JOB_METADATA_KEY, spec.job_id)
            await bridge.session_started(session.id)
        SESSION_ID.set(session.id)
        on_session(session)
        install_goal_done(session)
        prompt = turn_prompt(spec.goal, request.turn, spec.max_turns)
        timed_out: list[str] = []
        send, receive = trio.open_memory_channel[PermissionRequested](math.inf)

        def watch(event: AgentEvent) -> None:
            if isinstance(event, PermissionRequested):
                send.send_nowait(event)

        remove = session.events.add_observer(watch)
        resumed = replayed = False
        stop: str
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_answer_approvals, session, receive, bridge, timed_out)
                try:
                    history = session.history.snapshot()
                    at = _prompt_index(history, prompt)
                    if session.pending_turn is not None:
                        resumed = True
                        stop = (await session.run_pending()).stop_reason.value
                    elif at is not None:
                        replayed, stop = True, StopReason.END_TURN.value
                    else:
                        stop = (await session.run_turn(prompt)).stop_reason.value
                finally:
                    nursery.cancel_scope.cancel()
        finally:
            remove()
        history = session.history.snapshot()
        at = _prompt_index(history, prompt)
        after = history[at:] if at is not None else history
        summary = _goal_summary(after)
        if timed_out:
            stop = s.STOP_APPROVAL_TIMED_OUT
        elif summary is not None:
            stop = s.STOP_GOAL_DONE
        log.info("turn %d ended: %s%s", request.turn, stop, " (continued a cut-off turn)" if resumed else
                 " (already recorded)" if replayed else "")  # fmt: skip
        return s.TurnResult(session.id, stop, summary or _last_text(after), resumed=resumed, replayed=replayed)


async def _answer_approvals(
    session: Any, requests: trio.MemoryReceiveChannel[PermissionRequested], bridge: JobBridge, timed_out: list[str]
) -> None:
    async with trio.open_nursery() as nursery:
        async for event in requests:
            nursery.start_soon(_answer_one, session, event, bridge, timed_out)


async def _answer_one(session: Any, event: PermissionRequested, bridge: JobBridge, timed_out: list[str]) -> None:
    decision = await bridge.ask(s.ApprovalRequest(event.call_id, event.tool_name, event.title))
    allowed = decision == s.ALLOW
    session.permissions.resolve(event.request_id, PermissionOption.ALLOW_ONCE if allowed else PermissionOption.REJECT_ONCE)
    if decision == s.TIMED_OUT:
        timed_out.append(event.call_id)
        session.cancel()  # fail closed: nothing more runs in this turn


