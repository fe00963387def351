"""Test helpers for MCP: a scripted provider, an event recorder, server specs."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import trio

from agentcore.events import AgentEvent
from agentcore.llm.base import (
    Chunk,
    LlmRequest,
    ModelInfo,
    Pricing,
    ProviderStop,
    StopChunk,
    TextDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    UsageChunk,
)
from agentcore.mcp.spec import McpServerSpec, Transport
from agentcore.messages import Usage

SERVER_SCRIPT = Path(__file__).parent / "servers" / "demo_server.py"


def stdio_spec(name: str = "demo", *extra_args: str, **fields: Any) -> McpServerSpec:
    """The demo server over stdio, started with this interpreter."""
    return McpServerSpec(
        name=name,
        transport=Transport.STDIO,
        command=sys.executable,
        args=[str(SERVER_SCRIPT), "--name", name, *extra_args],
        **fields,
    )


def text_reply(text: str) -> list[Chunk]:
    return [TextDelta(text), UsageChunk(Usage(input_tokens=100, output_tokens=10)), StopChunk(ProviderStop.END_TURN)]


def tool_reply(call_id: str, name: str, args: dict[str, Any]) -> list[Chunk]:
    raw = json.dumps(args)
    return [
        ToolCallStart(0, call_id, name),
        ToolCallDelta(0, raw),
        ToolCallEnd(0),
        UsageChunk(Usage(input_tokens=100, output_tokens=20)),
        StopChunk(ProviderStop.TOOL_USE),
    ]


class ScriptedProvider:
    """Replays scripted responses and records each request (its tool list included)."""

    name = "scripted"

    def __init__(self, scripts: Sequence[Sequence[Chunk]]) -> None:
        self.scripts = list(scripts)
        self.requests: list[LlmRequest] = []

    async def complete(self, request: LlmRequest) -> AsyncIterator[Chunk]:
        self.requests.append(request)
        if not self.scripts:
            raise AssertionError("scripted provider ran out of scripts")
        for chunk in self.scripts.pop(0):
            yield chunk

    async def list_models(self) -> list[ModelInfo]:
        return [self.model_info("scripted")]

    def model_info(self, model: str) -> ModelInfo:
        return ModelInfo(model, 100_000, 4096, Pricing(input=3.0, output=15.0))


class EventLog:
    """A session observer that keeps every event and lets a test wait for one."""

    def __init__(self) -> None:
        self.events: list[AgentEvent] = []
        self._changed = trio.Event()

    # SessionObserver protocol
    def session_opened(self, session: Any) -> None:
        return None

    def on_event(self, session: Any, event: AgentEvent) -> None:
        self.events.append(event)
        self._changed.set()
        self._changed = trio.Event()

    def session_closed(self, session: Any) -> None:
        return None

    def of_type(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    async def wait_for(self, predicate: Callable[[AgentEvent], bool]) -> AgentEvent:
        seen = 0
        while True:
            for event in self.events[seen:]:
                if predicate(event):
                    return event
            seen = len(self.events)
            await self._changed.wait()
