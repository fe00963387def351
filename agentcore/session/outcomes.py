"""Background outcomes: telling the model (and the frontends) when a task ends.

When a background task of a session finishes, :class:`OutcomeDelivery`

1. formats an outcome for the model and queues it on
   ``session.pending_outcomes`` (the next turn receives it before its prompt),
2. emits :class:`BackgroundTaskFinished` for the frontends, and
3. if the session is idle, starts an *autonomous turn* in the session's
   nursery: ``run_turn`` with a ``BACKGROUND`` message carrying the queued
   outcomes, so the agent reacts without a new prompt (an ACP client sees
   the turn's updates arrive on their own).

A prompt that arrives first takes the outcomes with it instead; an outcome
that finishes during a turn waits until that turn ends, then starts its own.
Cancellations are queued but never start a turn: whoever cancelled already
knows. ``settings.background.autonomous_turns = false`` turns the autonomous
turns off (outcomes then wait for the next prompt); the goal loop suspends
them while it drives the turns itself.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import trio

from agentcore.background import TaskKind, TaskSnapshot, TaskStatus
from agentcore.events import BackgroundTaskFinished, FanoutEmitter, Notice
from agentcore.messages import MessageKind, TextBlock, UserMessage
from agentcore.turn.runner import TurnAbortedError, TurnOutcome

log = logging.getLogger(__name__)

OUTCOME_OUTPUT_LINES = 20  # last lines of a shell task's output quoted in its outcome
OUTCOME_EVENT_CHARS = 500  # of the outcome shown in BackgroundTaskFinished (frontends show one line)
AUTONOMOUS_HEADER = (
    "[Background tasks you started have finished. Nobody typed this message: review the "
    "outcomes below and continue the work, or tell the user what happened.]"
)


def format_outcome(snapshot: TaskSnapshot) -> str:
    """The text the model receives about a finished task."""
    took = f" after {snapshot.duration_s:.1f} s" if snapshot.duration_s is not None else ""
    lines = [f'[Background task {snapshot.id} ({snapshot.kind.value}, "{snapshot.label}") {snapshot.status.value}{took}]']
    if snapshot.outcome:
        lines.append(snapshot.outcome)
    if snapshot.kind is TaskKind.SHELL and snapshot.recent_output:
        tail = snapshot.recent_output[-OUTCOME_OUTPUT_LINES:]
        lines.append(f"Last {len(tail)} lines of output:\n" + "\n".join(tail))
    return "\n".join(lines)


class OutcomeHost(Protocol):
    """What outcome delivery reads from its session."""

    pending_outcomes: list[str]  # background outcomes for the next turn
    nursery: trio.Nursery  # autonomous turns run here

    @property
    def id(self) -> str: ...

    @property
    def events(self) -> FanoutEmitter: ...

    @property
    def turn_running(self) -> bool: ...

    async def run_turn(self, prompt: UserMessage) -> TurnOutcome: ...


class OutcomeDelivery:
    """Queues finished tasks' outcomes on one session and starts autonomous turns.

    The core wires it: ``BackgroundTasks.on_finished`` -> :meth:`task_finished`,
    ``session.on_idle`` -> :meth:`turn_finished`, ``session.on_close`` -> :meth:`close`."""

    def __init__(self, session: OutcomeHost, *, autonomous: bool) -> None:
        self.session = session
        self.autonomous = autonomous
        self._suspended = 0
        self._wake = False  # a queued outcome wants a turn (cancellations do not)
        self._scheduled = False
        self._closed = False

    async def task_finished(self, snapshot: TaskSnapshot) -> None:
        """``BackgroundTasks.on_finished``: queue, announce, maybe start a turn."""
        self.session.pending_outcomes.append(format_outcome(snapshot))
        if snapshot.status is not TaskStatus.CANCELLED:
            self._wake = True
        outcome = (snapshot.outcome or "")[:OUTCOME_EVENT_CHARS]
        await self.session.events.emit(BackgroundTaskFinished(snapshot.id, snapshot.label, snapshot.status.value, outcome))
        self._maybe_start()

    def turn_finished(self) -> None:
        """``session.on_idle``: outcomes that arrived during the turn get their own turn now."""
        self._maybe_start()

    @contextmanager
    def suspended(self) -> Iterator[None]:
        """No autonomous turns inside the block (the goal loop drives turns itself)."""
        self._suspended += 1
        try:
            yield
        finally:
            self._suspended -= 1

    def close(self) -> None:
        """``session.on_close``: no autonomous turn starts any more."""
        self._closed = True

    def _wanted(self) -> bool:
        if not self.session.pending_outcomes:
            self._wake = False  # a prompt took them along
        return (
            self.autonomous
            and self._wake
            and not self._suspended
            and not self._closed
            and not self.session.turn_running
        )

    def _maybe_start(self) -> None:
        if self._scheduled or not self._wanted():
            return
        self._scheduled = True
        self.session.nursery.start_soon(self._autonomous_turn, name=f"autonomous turn {self.session.id}")

    async def _autonomous_turn(self) -> None:
        self._scheduled = False
        # A prompt may have started meanwhile: then it carries the outcomes (or
        # its end calls turn_finished again). No await between check and start.
        if not self._wanted():
            return
        outcomes, self.session.pending_outcomes = self.session.pending_outcomes, []
        self._wake = False
        message = UserMessage(
            (TextBlock(AUTONOMOUS_HEADER + "\n\n" + "\n\n".join(outcomes)),), kind=MessageKind.BACKGROUND
        )
        try:
            await self.session.run_turn(message)
        except TurnAbortedError as exc:
            # The turn was rolled back (and TurnAborted told every frontend); keep the
            # outcomes for the next prompt rather than retrying into the same error.
            self.session.pending_outcomes[:0] = outcomes
            log.info("autonomous turn of %s aborted: %s", self.session.id, exc)
        except Exception as exc:  # a bug here must not take the whole session down
            log.exception("autonomous turn of %s failed", self.session.id)
            with trio.CancelScope(shield=True):
                await self.session.events.emit(Notice("error", f"The turn for finished background tasks failed: {exc}"))
