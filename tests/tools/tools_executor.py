"""One tool call the way a session makes it: through the executor, which checks
the arguments against the tool's schema (once per call) before ``execute``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentcore.events import AgentEvent
from agentcore.messages import ToolResultBlock, ToolUseBlock
from agentcore.permissions import DefaultPermissionGate, PermissionMode
from agentcore.tools.base import Tool, ToolContext
from agentcore.tools.registry import StaticToolRegistry
from agentcore.turn.tool_calls import SessionToolExecutor

RESULT_MAX_CHARS = 100_000  # far above what these calls return: nothing is cut


async def _drop(event: AgentEvent) -> None:
    return None


async def call_tool(tool: Tool, args: Mapping[str, Any], ctx: ToolContext) -> ToolResultBlock:
    executor = SessionToolExecutor(
        registry=StaticToolRegistry.of([tool]),
        gate=DefaultPermissionGate(mode=PermissionMode.YOLO),
        make_context=lambda call_id, progress: ctx,
        emit=_drop,
        concurrency=1,
        max_result_chars=RESULT_MAX_CHARS,
        spill_dir=ctx.spill_dir,
    )
    return await executor.run_one("turn-1", ToolUseBlock("call-1", tool.name, args), None)
