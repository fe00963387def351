"""A scripted LlmProvider for turn-logic tests (the wire is tested in tests/llm)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import trio

from agentcore.llm.base import (
    Chunk,
    LlmRequest,
    ModelInfo,
    Pricing,
)
from fakes.chunks import text_reply, tool_reply  # noqa: F401 - re-exported for the core tests


class Gate:
    """A point in a script where the provider waits until the test opens it."""

    def __init__(self) -> None:
        self.reached = trio.Event()
        self.opened = trio.Event()


class ScriptedProvider:
    """Replays scripted responses; each script item is a list of chunks, an
    exception to raise, or a list containing Gate objects to pause at."""

    name = "scripted"

    def __init__(self, scripts: Sequence[Sequence[Any] | BaseException], *, window: int = 100_000) -> None:
        self.scripts = list(scripts)
        self.requests: list[LlmRequest] = []
        self.window = window
        self.closed_streams = 0

    async def complete(self, request: LlmRequest) -> AsyncIterator[Chunk]:
        self.requests.append(request)
        if not self.scripts:
            raise AssertionError("scripted provider ran out of scripts")
        script = self.scripts.pop(0)
        if isinstance(script, BaseException):
            raise script
        try:
            for item in script:
                if isinstance(item, Gate):
                    item.reached.set()
                    await item.opened.wait()
                elif isinstance(item, BaseException):
                    raise item
                else:
                    yield item
        finally:
            self.closed_streams += 1

    async def list_models(self) -> list[ModelInfo]:
        return [self.model_info("scripted")]

    def model_info(self, model: str) -> ModelInfo:
        return ModelInfo(model, self.window, 4096, Pricing(input=3.0, output=15.0))
