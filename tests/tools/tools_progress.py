"""A progress sink that records what a tool reported."""

from __future__ import annotations

from agentcore.tools.base import ToolProgress


class ProgressLog:
    def __init__(self) -> None:
        self.reports: list[ToolProgress] = []

    async def __call__(self, progress: ToolProgress) -> None:
        self.reports.append(progress)
