"""``update_plan``: the agent's to-do list, shown to the user as it changes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentcore.events import PlanEntry, PlanUpdated
from agentcore.messages import freeze_json
from agentcore.tools.base import Safety, ToolContext, ToolKind, ToolResult
from agentcore.tools.common import BuiltinTool

STATUSES = ("pending", "in_progress", "completed")
PRIORITIES = ("high", "medium", "low")

DESCRIPTION = """\
Create or update your plan: a short to-do list for the current task that the user sees \
update live. Each call replaces the whole list, so always send every entry with its current status.

When to use it:
- For work with three or more distinct steps, or when the user gives you a list of things to do.
- Write the plan before starting; then mark an entry `in_progress` when you start it and \
`completed` as soon as it is done (don't batch several completions). Keep exactly one entry \
`in_progress` while you work.
- Add entries you discover along the way; remove ones that turned out unnecessary.

When not to use it: for a single simple step, or for conversation; just do the work.

Entries: `content` is a short imperative sentence ("Add a --verbose flag to the CLI"); \
`status` is pending, in_progress or completed; `priority` is high, medium (default) or low.
"""


class UpdatePlanTool(BuiltinTool):
    name = "update_plan"
    description = DESCRIPTION
    safety = Safety.READ_ONLY
    kind = ToolKind.THINK
    parameters = freeze_json(
        {
            "type": "object",
            "properties": {
                "entries": {
                    "type": "array",
                    "description": "The complete plan, in order.",
                    "items": {
                        "type": "object",
                        "properties": {
                            "content": {"type": "string", "minLength": 1, "description": "What to do."},
                            "status": {"type": "string", "enum": list(STATUSES)},
                            "priority": {"type": "string", "enum": list(PRIORITIES)},
                        },
                        "required": ["content", "status"],
                        "additionalProperties": False,
                    },
                }
            },
            "required": ["entries"],
            "additionalProperties": False,
        }
    )

    def title(self, args: Mapping[str, Any]) -> str:
        return "Update plan"

    async def run(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        entries = tuple(
            PlanEntry(content=e["content"].strip(), status=e["status"], priority=e.get("priority", "medium"))
            for e in args["entries"]
        )
        if ctx.emit is not None:
            await ctx.emit(PlanUpdated(entries))
        done = sum(1 for e in entries if e.status == "completed")
        active = next((e.content for e in entries if e.status == "in_progress"), None)
        summary = f"Plan updated: {done}/{len(entries)} completed."
        if active:
            summary += f" In progress: {active}"
        return ToolResult.text(
            summary,
            raw_output={
                "entries": [{"content": e.content, "status": e.status, "priority": e.priority} for e in entries]
            },
        )
