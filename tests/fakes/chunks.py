"""Provider chunk scripts for turn-logic tests with a scripted provider (the
wire formats themselves are tested against loopback servers in tests/llm)."""

from __future__ import annotations

import json
from typing import Any

from agentcore.llm.base import (
    Chunk,
    ProviderStop,
    StopChunk,
    TextDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    UsageChunk,
)
from agentcore.messages import Usage


def text_reply(text: str, *, usage: Usage = Usage(input_tokens=100, output_tokens=10)) -> list[Chunk]:
    return [TextDelta(text), UsageChunk(usage), StopChunk(ProviderStop.END_TURN)]


def tool_reply(*calls: tuple[str, str, dict[str, Any]], text: str = "") -> list[Chunk]:
    """One response calling ``calls`` (id, tool name, arguments); each call's JSON
    arrives in two deltas, as streaming providers send it."""
    chunks: list[Chunk] = [TextDelta(text)] if text else []
    for i, (call_id, name, args) in enumerate(calls):
        raw = json.dumps(args)
        chunks += [ToolCallStart(i, call_id, name), ToolCallDelta(i, raw[: len(raw) // 2]), ToolCallDelta(i, raw[len(raw) // 2 :]), ToolCallEnd(i)]
    chunks += [UsageChunk(Usage(input_tokens=100, output_tokens=20)), StopChunk(ProviderStop.TOOL_USE)]
    return chunks
