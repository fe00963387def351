"""Background tasks: work a session keeps running between turns.

One :class:`BackgroundTasks` table per session, owning a trio nursery whose
lifetime bounds every task in it (closing the session cancels them). A task is
an async function given its own :class:`TaskHandle`, through which it reports
output; it ends *completed* (returned), *failed* (raised) or *cancelled*.
The ``on_finished`` hook hears about every ending so the session can queue the
outcome for the model and emit ``BackgroundTaskFinished``.

Shell commands (``bash`` with ``run_in_background``) and sub-agents both live
here; the table knows nothing about either beyond the ``kind`` label and an
optional :class:`TaskPeek` a task attaches to its handle (a sub-agent's current
step and latest messages), which is all anyone sees of the work inside.
"""

from __future__ import annotations

import enum
import inspect
import itertools
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Protocol

import attrs
import trio

RECENT_OUTPUT_LINES = 200  # lines of output kept in memory per task for a quick look
PARTIAL_LINE_CHARS = 4096  # an unterminated line is cut here (progress bars without newlines)
REPORT_INTERVAL_S = 0.5  # at most two progress reports a second to the originating tool call
REPORT_MAX_CHARS = 4000  # of new output per report; a flood is cut to its latest part
PEEK_MESSAGES_MAX = 20  # of a task's latest messages a peek keeps and shows


class TaskKind(enum.Enum):
    SUB_AGENT = "sub_agent"
    SHELL = "shell"


class TaskPeek(Protocol):
    """A look inside a running task beyond its output: what it is doing now and
    the latest messages it exchanged (a sub-agent's model conversation). What it
    returns is already redacted and bounded."""

    @property
    def step(self) -> str: ...

    @property
    def summary(self) -> str:
        """The step with whatever counts the task keeps, on one line."""
        ...

    def recent_messages(self, count: int) -> tuple[str, ...]: ...


class TaskStatus(enum.Enum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


@attrs.frozen
class TaskSnapshot:
    id: str
    label: str
    kind: TaskKind
    status: TaskStatus
    started_at: float  # Unix time, seconds
    ended_at: float | None
    recent_output: tuple[str, ...]
    output_path: Path | None = None
    outcome: str | None = None  # what the task returned, or the error / cancellation note
    step: str | None = None  # what it is doing now, when it has a peek (a sub-agent's step and counts)

    @property
    def finished(self) -> bool:
        return self.status is not TaskStatus.RUNNING

    @property
    def duration_s(self) -> float | None:
        return None if self.ended_at is None else self.ended_at - self.started_at


class TaskHandle:
    """The live side of one task, given to its function and to the starter."""

    def __init__(self, task_id: str, label: str, kind: TaskKind, *, output_path: Path | None = None) -> None:
        self.id = task_id
        self.label = label
        self.kind = kind
        self.output_path = output_path
        self._status = TaskStatus.RUNNING
        self._started_at = time.time()
        self._ended_at: float | None = None
        self._outcome: str | None = None
        self._recent: deque[str] = deque(maxlen=RECENT_OUTPUT_LINES)
        self._partial = ""
        self._done = trio.Event()
        self._scope = trio.CancelScope()
        self._cancel_requested = False
        # Output not yet reported to the tool call that started the task (None: nobody listens).
        self._unreported: list[str] | None = None
        self._output_changed = trio.Event()
        self.peek: TaskPeek | None = None  # set by the task's function when it has more to show

    @property
    def status(self) -> TaskStatus:
        return self._status

    def attach_peek(self, peek: TaskPeek) -> None:
        """Let inspectors see inside the task (its step, its latest messages)."""
        self.peek = peek

    def append_output(self, text: str) -> None:
        """Record output; only the last ``RECENT_OUTPUT_LINES`` lines are kept."""
        *complete, self._partial = (self._partial + text).split("\n")
        self._recent.extend(complete)
        if len(self._partial) > PARTIAL_LINE_CHARS:
            self._recent.append(self._partial[:PARTIAL_LINE_CHARS])
            self._partial = ""
        if self._unreported is not None:
            self._unreported.append(text)
            self._output_changed.set()

    def snapshot(self) -> TaskSnapshot:
        recent = tuple(self._recent) + ((self._partial,) if self._partial else ())
        return TaskSnapshot(
            id=self.id,
            label=self.label,
            kind=self.kind,
            status=self._status,
            started_at=self._started_at,
            ended_at=self._ended_at,
            recent_output=recent[-RECENT_OUTPUT_LINES:],
            output_path=self.output_path,
            outcome=self._outcome,
            step=self.peek.summary if self.peek is not None else None,
        )

    async def wait(self) -> TaskSnapshot:
        await self._done.wait()
        return self.snapshot()

    def _finish(self, status: TaskStatus, outcome: str | None) -> None:
        self._status = status
        self._outcome = outcome
        self._ended_at = time.time()
        self._done.set()
        self._output_changed.set()


TaskFn = Callable[[TaskHandle], Awaitable[str | None]]
FinishedHook = Callable[[TaskSnapshot], Awaitable[None] | None]
OutputReport = Callable[[str], Awaitable[None]]  # new output, e.g. to the originating tool call


class BackgroundTasks:
    """The table of one session's background tasks, owned by ``nursery``."""

    def __init__(self, nursery: trio.Nursery, *, on_finished: FinishedHook | None = None) -> None:
        self._nursery = nursery
        self._tasks: dict[str, TaskHandle] = {}
        self._counter = itertools.count(1)
        self.on_finished = on_finished

    @classmethod
    @asynccontextmanager
    async def open(cls, *, on_finished: FinishedHook | None = None) -> AsyncIterator[BackgroundTasks]:
        """A table with its own nursery; leaving the block cancels what still runs."""
        async with trio.open_nursery() as nursery:
            tasks = cls(nursery, on_finished=on_finished)
            try:
                yield tasks
            finally:
                tasks.cancel_all()

    def start(
        self,
        label: str,
        kind: TaskKind,
        fn: TaskFn,
        *,
        output_path: Path | None = None,
        report: OutputReport | None = None,
    ) -> TaskHandle:
        """Start ``fn(handle)`` in the table's nursery and return its handle at once.

        With ``report``, new output is also passed to it (throttled) while the
        task runs, so a frontend can show it on the tool call that started it."""
        task_id = f"{kind.value}_{next(self._counter)}"
        handle = TaskHandle(task_id, label, kind, output_path=output_path)
        self._tasks[task_id] = handle
        if report is not None:
            handle._unreported = []
            self._nursery.start_soon(_forward_output, handle, report, name=f"report {task_id}")
        self._nursery.start_soon(self._run, handle, fn, name=f"background {task_id}")
        return handle

    def for_tool_call(self, report: OutputReport) -> CallBackgroundTasks:
        """A view of this table whose ``start`` reports output to one tool call."""
        return CallBackgroundTasks(self, report)

    def cancel(self, task_id: str) -> bool:
        """Ask a running task to stop; False when there is no such running task."""
        handle = self._tasks.get(task_id)
        if handle is None or handle.status is not TaskStatus.RUNNING:
            return False
        handle._cancel_requested = True
        handle._scope.cancel()
        return True

    def cancel_all(self) -> None:
        for task_id in list(self._tasks):
            self.cancel(task_id)

    def get(self, task_id: str) -> TaskSnapshot | None:
        handle = self._tasks.get(task_id)
        return None if handle is None else handle.snapshot()

    def handle(self, task_id: str) -> TaskHandle | None:
        return self._tasks.get(task_id)

    def snapshot(self) -> list[TaskSnapshot]:
        """Every task, oldest first."""
        return [handle.snapshot() for handle in self._tasks.values()]

    async def wait(self, task_id: str) -> TaskSnapshot:
        handle = self._tasks.get(task_id)
        if handle is None:
            raise KeyError(task_id)
        return await handle.wait()

    async def _run(self, handle: TaskHandle, fn: TaskFn) -> None:
        status: TaskStatus = TaskStatus.CANCELLED
        outcome: str | None = "cancelled"
        try:
            with handle._scope:
                try:
                    result = await fn(handle)
                except Exception as exc:  # a failing task is an outcome, not a crash of the session
                    status, outcome = TaskStatus.FAILED, f"{type(exc).__name__}: {exc}"
                else:
                    status, outcome = TaskStatus.COMPLETED, result
            if handle._cancel_requested:
                status = TaskStatus.CANCELLED
                outcome = "cancelled" if outcome is None else outcome
        finally:
            # Also reached when the whole nursery is cancelled: record the end
            # even though the hook cannot be awaited any more.
            handle._finish(status, outcome)
        await self._notify(handle.snapshot())

    async def _notify(self, snapshot: TaskSnapshot) -> None:
        if self.on_finished is None:
            return
        result = self.on_finished(snapshot)
        if inspect.isawaitable(result):
            await result


async def _forward_output(handle: TaskHandle, report: OutputReport) -> None:
    """Pass a task's new output to ``report`` until the task ends, at most once
    per ``REPORT_INTERVAL_S``; the output of the last interval is sent at the end."""
    assert handle._unreported is not None
    while True:
        await handle._output_changed.wait()
        handle._output_changed = trio.Event()
        text = "".join(handle._unreported)[-REPORT_MAX_CHARS:]
        handle._unreported.clear()
        if text:
            await report(text)
        if handle.status is not TaskStatus.RUNNING:
            return
        await trio.sleep(REPORT_INTERVAL_S)  # throttle: output meanwhile waits for the next report


class CallBackgroundTasks:
    """The session's table as one tool call sees it (``ToolContext.background``):
    tasks it starts report their output as progress of that call."""

    def __init__(self, table: BackgroundTasks, report: OutputReport) -> None:
        self.table = table
        self._report = report

    def start(
        self,
        label: str,
        kind: TaskKind,
        fn: TaskFn,
        *,
        output_path: Path | None = None,
        report: OutputReport | None = None,
    ) -> TaskHandle:
        return self.table.start(label, kind, fn, output_path=output_path, report=report or self._report)

    def cancel(self, task_id: str) -> bool:
        return self.table.cancel(task_id)

    def get(self, task_id: str) -> TaskSnapshot | None:
        return self.table.get(task_id)

    def handle(self, task_id: str) -> TaskHandle | None:
        return self.table.handle(task_id)

    def snapshot(self) -> list[TaskSnapshot]:
        return self.table.snapshot()

    async def wait(self, task_id: str) -> TaskSnapshot:
        return await self.table.wait(task_id)
