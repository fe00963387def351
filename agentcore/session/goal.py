"""Goal loops: keep an agent working on one goal until it says it is done.

``run_goal(session, goal, max_turns=N)`` gives the session a ``goal_done``
tool and runs turns: the first states the goal, each later one tells the
agent to continue. The loop ends when the agent calls ``goal_done {summary}``
(reached), when ``max_turns`` turns have run, or when a turn is cancelled or
refused. ``agent run --goal`` is built on it (exit code 6 when not reached).

Between turns, if sub-agents the agent started in the background are still
running and nothing has arrived yet, the loop waits for the next one to finish
so its outcome rides along with the next turn (autonomous turns are suspended
meanwhile: the loop drives the turns itself). A fatal provider error ends the
loop by raising :class:`TurnAbortedError`, as ``run_turn`` does.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any, Protocol

import attrs
import trio

from agentcore.background import BackgroundTasks, TaskKind, TaskStatus
from agentcore.errors import SessionError
from agentcore.messages import StopReason, freeze_json
from agentcore.tools.base import Safety, ToolContext, ToolKind, ToolResult
from agentcore.tools.common import BuiltinTool
from agentcore.tools.registry import CompositeRegistry, StaticToolRegistry, ToolFilter
from agentcore.turn.runner import TurnOutcome

if TYPE_CHECKING:
    from agentcore.session.subagents import SessionAgents

GOAL_DONE = "goal_done"

FIRST_PROMPT = """\
Work on the following goal until it is fully achieved. Nobody is available to answer \
questions: make reasonable assumptions, note them, and keep going.

<goal>
{goal}
</goal>

When the goal is achieved and you have checked that it is, call the `goal_done` tool with a \
short summary of what you did and how you verified it. You have at most {max_turns} turns; \
each time you end your turn without calling goal_done you will be asked to continue."""

CONTINUE_PROMPT = """\
The goal is not marked done yet. Continue working toward it (turn {turn} of {max_turns}). \
If it is achieved, verify it and call goal_done with a summary; if it cannot be achieved, \
say why and call goal_done with what you found."""

GOAL_DONE_DESCRIPTION = """\
Declare the goal you were given achieved and end the goal loop. Call it only when the work \
is done and checked. `summary`: what you did and how you verified it, for the user."""


class GoalHost(Protocol):
    """What the goal loop reads from its session."""

    registry: CompositeRegistry  # goal_done is added to it
    background: BackgroundTasks | None  # running sub-agents are waited for between turns
    agents: SessionAgents | None  # their outcome delivery is suspended during the loop
    pending_outcomes: list[str]

    async def run_turn(self, prompt: str) -> TurnOutcome: ...


class GoalStop(enum.Enum):
    GOAL_DONE = "goal_done"  # the agent called goal_done
    MAX_TURNS = "max_turns"  # the turn cap came first
    CANCELLED = "cancelled"  # a turn was cancelled (session.cancel)
    REFUSAL = "refusal"  # the model refused, or a hook blocked the prompt


@attrs.frozen
class GoalOutcome:
    reached: bool
    summary: str  # the agent's goal_done summary, or its last text when not reached
    turns: int
    stop_reason: GoalStop


class GoalError(SessionError, ValueError):
    """The session cannot run a goal loop (bad arguments, goal_done denied by the profile)."""


class GoalDoneTool(BuiltinTool):
    name = GOAL_DONE
    description = GOAL_DONE_DESCRIPTION
    safety = Safety.READ_ONLY
    kind = ToolKind.THINK
    parameters = freeze_json(
        {
            "type": "object",
            "properties": {
                "summary": {"type": "string", "minLength": 1, "description": "What was done and how it was checked."}
            },
            "required": ["summary"],
            "additionalProperties": False,
        }
    )

    def __init__(self) -> None:
        self.summary: str | None = None

    def title(self, args: Mapping[str, Any]) -> str:
        return "Goal done"

    async def run(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        self.summary = args["summary"]
        return ToolResult.text("The goal is marked done. End your turn now with a brief final message.")


def _allow_goal_done(tool_filter: ToolFilter) -> ToolFilter:
    """The profile's filter with ``goal_done`` allowed: it exists only in goal sessions."""
    if tool_filter.permits(GOAL_DONE):
        return tool_filter
    if ToolFilter(deny=tool_filter.deny).permits(GOAL_DONE) is False:
        raise GoalError(f"the profile's tools.deny removes {GOAL_DONE}, so a goal can never be completed")
    return ToolFilter(allow=(*(tool_filter.allow or ()), GOAL_DONE), deny=tool_filter.deny)


def install_goal_done(session: GoalHost) -> GoalDoneTool:
    """Give ``session`` the ``goal_done`` tool (once); returns it."""
    existing = session.registry.get(GOAL_DONE)
    if isinstance(existing, GoalDoneTool):
        return existing
    tool = GoalDoneTool()
    session.registry.filter = _allow_goal_done(session.registry.filter)
    session.registry.push_layer(StaticToolRegistry.of([tool]))
    return tool


async def run_goal(session: GoalHost, goal: str, *, max_turns: int) -> GoalOutcome:
    """Run turns on ``session`` until the agent calls goal_done or ``max_turns`` turns ran."""
    if not goal.strip():
        raise GoalError("the goal is empty")
    if max_turns < 1:
        raise GoalError(f"max_turns must be at least 1, got {max_turns}")
    tool = install_goal_done(session)
    tool.summary = None
    agents = session.agents
    suspended = agents.outcomes.suspended() if agents is not None else nullcontext()
    last_text = ""
    with suspended:
        for turn in range(1, max_turns + 1):
            if turn == 1:
                prompt = FIRST_PROMPT.format(goal=goal.strip(), max_turns=max_turns)
            else:
                await _wait_for_sub_agents(session)
                prompt = CONTINUE_PROMPT.format(turn=turn, max_turns=max_turns)
            outcome = await session.run_turn(prompt)
            last_text = outcome.text or last_text
            if tool.summary is not None:
                return GoalOutcome(True, tool.summary, turn, GoalStop.GOAL_DONE)
            if outcome.stop_reason is StopReason.CANCELLED:
                return GoalOutcome(False, last_text, turn, GoalStop.CANCELLED)
            if outcome.stop_reason is StopReason.REFUSAL:
                return GoalOutcome(False, last_text, turn, GoalStop.REFUSAL)
    return GoalOutcome(False, last_text, max_turns, GoalStop.MAX_TURNS)


async def _wait_for_sub_agents(session: GoalHost) -> None:
    """If background sub-agents still run and no outcome is queued, wait for the
    first to finish. Shell tasks are not waited for: servers never end."""
    background = session.background
    if background is None or session.pending_outcomes:
        return
    running = [
        s.id for s in background.snapshot() if s.kind is TaskKind.SUB_AGENT and s.status is TaskStatus.RUNNING
    ]
    if not running:
        return
    async with trio.open_nursery() as nursery:

        async def wait_one(task_id: str) -> None:
            await background.wait(task_id)
            nursery.cancel_scope.cancel()

        for task_id in running:
            nursery.start_soon(wait_one, task_id)
