"""``exit_plan_mode``: the model presents its plan for the user's approval.

The invariant: the tool is offered (listed to the model and found by name)
only while its session is in plan mode, and it changes nothing by itself.
The permission gate always asks about it in plan mode — that question *is*
the approval (a terminal prompt, an ACP ``session/request_permission``) — and
the gate's answer is what leaves plan mode (see
:meth:`agentcore.permissions.DefaultPermissionGate.mode_after_plan`). By the
time ``run`` executes, the user has approved and the mode has changed; the
tool only tells the model so. Unattended (``agent run --mode plan``) the gate
refuses it with a message to stop, and the plan is the run's result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from agentcore.messages import freeze_json
from agentcore.permissions import EXIT_PLAN_MODE, PermissionMode
from agentcore.tools.base import Safety, Tool, ToolContext, ToolKind, ToolResult
from agentcore.tools.common import BuiltinTool

PLAN_MAX_CHARS = 50_000  # a plan longer than this is not a plan

DESCRIPTION = f"""\
Present your implementation plan to the user for approval and, once approved, leave plan mode.

You are in plan mode: research with read-only tools (read files, search, read-only shell \
commands such as ls, cat, grep, git log/diff/status); nothing that changes files or runs \
other programs is allowed. When you know what to do, call {EXIT_PLAN_MODE} once with the whole \
plan as concise Markdown: the steps, the files to change and how you will check the result. \
The user approves (then you carry it out) or rejects it (then wait for their feedback and \
revise). Only use it for tasks that change code, not for questions you can simply answer."""


class ExitPlanModeTool(BuiltinTool):
    name = EXIT_PLAN_MODE
    description = DESCRIPTION
    safety = Safety.MUTATING  # it leaves plan mode: never runs without the user's yes
    kind = ToolKind.THINK
    parameters = freeze_json(
        {
            "type": "object",
            "properties": {
                "plan": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": PLAN_MAX_CHARS,
                    "description": "The plan, in Markdown.",
                }
            },
            "required": ["plan"],
            "additionalProperties": False,
        }
    )

    def __init__(self, mode: Callable[[], PermissionMode]) -> None:
        self._mode = mode

    def title(self, args: Mapping[str, Any]) -> str:
        return "Approve the plan"

    async def run(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        mode = self._mode()
        if mode is PermissionMode.PLAN:  # cannot happen through the gate; said plainly if it does
            return ToolResult.error("The plan was not approved; the session is still in plan mode.")
        return ToolResult.text(
            f"The user approved the plan. The session is now in {mode.value} mode: carry out the plan.",
            raw_output={"plan": args["plan"], "mode": mode.value},
        )


class PlanModeTools:
    """A session tool layer holding ``exit_plan_mode`` while ``mode()`` is plan, nothing otherwise."""

    def __init__(self, mode: Callable[[], PermissionMode]) -> None:
        self._mode = mode
        self._tool = ExitPlanModeTool(mode)

    def get(self, name: str) -> Tool | None:
        return self._tool if name == EXIT_PLAN_MODE and self._mode() is PermissionMode.PLAN else None

    def names(self) -> tuple[str, ...]:
        return (EXIT_PLAN_MODE,) if self._mode() is PermissionMode.PLAN else ()

    def tools(self) -> tuple[Tool, ...]:
        return (self._tool,) if self._mode() is PermissionMode.PLAN else ()
