"""The shared skeleton of the built-in tools.

``execute`` gets arguments the session's executor
(:mod:`agentcore.turn.tool_calls`) has already checked against ``parameters``,
once per call; a built-in tool turns the failures a model can act on (a path
outside the workspace, a missing file) into error results. Subclasses implement
``run`` and, where they have something better to say, ``describe`` (which runs
before that check, so it must cope with malformed arguments).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from agentcore.tools.backends import FsError
from agentcore.tools.base import Safety, ToolContext, ToolDescription, ToolKind, ToolResult
from agentcore.tools.workspace import WorkspaceError


class BuiltinTool:
    name: ClassVar[str]
    description: ClassVar[str]
    parameters: Mapping[str, Any]  # a class attribute, or set per instance when limits vary
    safety: ClassVar[Safety]
    kind: ClassVar[ToolKind]

    def permission_subject(self, args: Mapping[str, Any]) -> str | None:
        return None

    def title(self, args: Mapping[str, Any]) -> str:
        subject = self.permission_subject(args)
        return f"{self.name} {subject}" if subject else self.name

    async def describe(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolDescription:
        return ToolDescription(title=self.title(args), kind=self.kind)

    async def execute(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        try:
            return await self.run(args, ctx)
        except (WorkspaceError, FsError) as exc:
            return ToolResult.error(str(exc))

    async def run(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
