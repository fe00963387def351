"""The shared skeleton of the built-in tools.

Every built-in tool validates its arguments against its own schema before
doing anything, and turns the failures a model can act on (a path outside the
workspace, a missing file) into error results. Subclasses implement ``run``
and, where they have something better to say, ``describe``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from agentcore.tools.args import format_problems, validate_args
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

    def validate(self, args: Mapping[str, Any]) -> list[str]:
        return validate_args(self.parameters, args)

    async def execute(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        problems = self.validate(args)
        if problems:
            return ToolResult.error(format_problems(self.name, problems))
        try:
            return await self.run(args, ctx)
        except (WorkspaceError, FsError) as exc:
            return ToolResult.error(str(exc))

    async def run(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
