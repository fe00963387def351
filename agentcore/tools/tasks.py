"""``inspect_background_task`` and ``cancel_background_task``: the model's view
of and control over the session's background tasks (``bash`` with
``run_in_background``, ``spawn_agent`` with ``run_in_background``)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from agentcore.background import PEEK_MESSAGES_MAX, RECENT_OUTPUT_LINES, TaskHandle, TaskSnapshot, TaskStatus
from agentcore.messages import freeze_json
from agentcore.tools.base import Safety, Tool, ToolContext, ToolKind, ToolResult
from agentcore.tools.common import BuiltinTool

RECENT_DEFAULT_ONE = 40  # output lines shown when inspecting one task
RECENT_DEFAULT_ALL = 3  # ... per task when listing every task (a glance, not a dump)
MESSAGES_DEFAULT_ONE = 4  # of a sub-agent's latest model messages shown when inspecting it
MESSAGES_MAX = PEEK_MESSAGES_MAX
NO_TASKS = "There are no background tasks in this session."

INSPECT_DESCRIPTION = f"""\
Show the session's background tasks (commands started with `bash` run_in_background, \
sub-agents started with `spawn_agent` run_in_background): status, how long they have run \
and their latest output.

- With `task_id`: that task, with its last `recent` lines of output (default {RECENT_DEFAULT_ONE}, \
at most {RECENT_OUTPUT_LINES}). A shell task's full output is in its output file (read it with read_file). \
For a sub-agent also its current step and the last `messages` messages of its conversation with \
its model (default {MESSAGES_DEFAULT_ONE}, at most {MESSAGES_MAX}): what it last sent and got back.
- Without `task_id`: every task, with its last `recent` lines (default {RECENT_DEFAULT_ALL}).
- You are told automatically when a task finishes; do not poll in a loop.
"""

CANCEL_DESCRIPTION = """\
Stop a running background task. A shell command is killed together with every process it \
started; a sub-agent is stopped mid-turn. The cancellation is reported like any other ending.
"""


def _no_tasks_error() -> ToolResult:
    return ToolResult.error("Background tasks are not available in this session.")


def _duration(snapshot: TaskSnapshot) -> str:
    seconds = snapshot.duration_s if snapshot.duration_s is not None else time.time() - snapshot.started_at
    verb = "ran" if snapshot.finished else "running for"
    return f"{verb} {seconds:.1f} s"


def render_task(snapshot: TaskSnapshot, recent: int, *, handle: TaskHandle | None = None, messages: int = 0) -> str:
    """One task for the model: status and label, step (a sub-agent's), outcome,
    output tail, and with ``messages`` the latest messages its peek shows."""
    lines = [f'{snapshot.id} ({snapshot.kind.value}) {snapshot.status.value}, {_duration(snapshot)}: "{snapshot.label}"']
    if snapshot.step is not None:
        lines.append(f"  step: {snapshot.step}")
    if snapshot.output_path is not None:
        lines.append(f"  output file: {snapshot.output_path}")
    if snapshot.finished and snapshot.outcome:
        lines.append("  outcome: " + snapshot.outcome.replace("\n", "\n  "))
    if recent > 0:
        output = snapshot.recent_output[-recent:]
        if output:
            lines.append(f"  last {len(output)} lines of output:")
            lines.extend(f"    {line}" for line in output)
        else:
            lines.append("  (no output yet)")
    peek = handle.peek if handle is not None else None
    if peek is not None and messages > 0:
        shown = peek.recent_messages(messages)
        if shown:
            lines.append(f"  its last {len(shown)} messages with its model (newest last):")
            lines.extend("    " + message.replace("\n", "\n    ") for message in shown)
    return "\n".join(lines)


class InspectBackgroundTaskTool(BuiltinTool):
    name = "inspect_background_task"
    description = INSPECT_DESCRIPTION
    safety = Safety.READ_ONLY
    kind = ToolKind.READ
    parameters = freeze_json(
        {
            "type": "object",
            "properties": {
                "task_id": {"type": "string", "minLength": 1, "description": "The task to show; omit for all."},
                "recent": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": RECENT_OUTPUT_LINES,
                    "description": "How many of the latest output lines to show.",
                },
                "messages": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": MESSAGES_MAX,
                    "description": "For a sub-agent with task_id: how many of its latest model messages to show.",
                },
            },
            "additionalProperties": False,
        }
    )

    def permission_subject(self, args: Mapping[str, Any]) -> str | None:
        task_id = args.get("task_id")
        return task_id if isinstance(task_id, str) else None

    def title(self, args: Mapping[str, Any]) -> str:
        task_id = self.permission_subject(args)
        return f"Inspect background task {task_id}" if task_id else "List background tasks"

    async def run(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        tasks = ctx.background
        if tasks is None:
            return _no_tasks_error()
        task_id = args.get("task_id")
        if task_id is None:
            snapshots = tasks.snapshot()
            if not snapshots:
                return ToolResult.text(NO_TASKS)
            recent = int(args.get("recent", RECENT_DEFAULT_ALL))
            running = sum(1 for s in snapshots if s.status is TaskStatus.RUNNING)
            body = "\n\n".join(render_task(s, recent) for s in snapshots)
            return ToolResult.text(f"{len(snapshots)} background tasks, {running} running:\n\n{body}")
        snapshot = tasks.get(task_id)
        if snapshot is None:
            known = ", ".join(s.id for s in tasks.snapshot()) or "none"
            return ToolResult.error(f"There is no background task {task_id!r}. Known tasks: {known}.")
        recent = int(args.get("recent", RECENT_DEFAULT_ONE))
        messages = int(args.get("messages", MESSAGES_DEFAULT_ONE))
        return ToolResult.text(render_task(snapshot, recent, handle=tasks.handle(task_id), messages=messages))


class CancelBackgroundTaskTool(BuiltinTool):
    name = "cancel_background_task"
    description = CANCEL_DESCRIPTION
    # Stopping work this session started touches none of the user's data, and an
    # agent must be able to stop a runaway task even in read-only mode.
    safety = Safety.READ_ONLY
    kind = ToolKind.OTHER
    parallel_safe = False  # a cancel and an inspect in one response should happen in order
    parameters = freeze_json(
        {
            "type": "object",
            "properties": {"task_id": {"type": "string", "minLength": 1, "description": "The task to stop."}},
            "required": ["task_id"],
            "additionalProperties": False,
        }
    )

    def permission_subject(self, args: Mapping[str, Any]) -> str | None:
        task_id = args.get("task_id")
        return task_id if isinstance(task_id, str) else None

    def title(self, args: Mapping[str, Any]) -> str:
        return f"Cancel background task {self.permission_subject(args) or ''}".rstrip()

    async def run(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        tasks = ctx.background
        if tasks is None:
            return _no_tasks_error()
        task_id: str = args["task_id"]
        snapshot = tasks.get(task_id)
        if snapshot is None:
            known = ", ".join(s.id for s in tasks.snapshot()) or "none"
            return ToolResult.error(f"There is no background task {task_id!r}. Known tasks: {known}.")
        if snapshot.finished:
            return ToolResult.text(f"Task {task_id} already ended ({snapshot.status.value}); nothing to cancel.")
        tasks.cancel(task_id)
        ended = await tasks.wait(task_id)  # the process group is gone / the sub-agent closed when this returns
        return ToolResult.text(
            f"Task {task_id} ({ended.label}) was cancelled after {ended.duration_s or 0.0:.1f} s.",
            raw_output={"task_id": task_id, "status": ended.status.value},
        )


def background_task_tools() -> list[Tool]:
    return [InspectBackgroundTaskTool(), CancelBackgroundTaskTool()]
