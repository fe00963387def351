"""The stable JSON shape of every :data:`~agentcore.events.AgentEvent` (``agent run --format stream-json``).

One object per event: ``{"type": "<snake_case name>", ...fields}``. Field names
are the event's attribute names; values are plain JSON (enums by value,
messages through the message codec, tool results as ``{"content", "is_error",
...}``). ``EVENT_TYPES`` names every variant explicitly, so renaming a class
never changes the wire, and a new variant without a name fails the tests.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import attrs

from agentcore import events as ev
from agentcore.messages import (
    AssistantMessage,
    ImageBlock,
    ImageRef,
    TextBlock,
    ToolResultMessage,
    Usage,
    UserMessage,
    block_to_dict,
    message_to_dict,
    thaw_json,
    usage_to_dict,
)
from agentcore.tools import DiffPreview, Location, ToolResult

EVENT_TYPES: Mapping[type, str] = {
    ev.PromptCommitted: "prompt_committed",
    ev.TurnStarted: "turn_started",
    ev.TurnEnded: "turn_ended",
    ev.TurnAborted: "turn_aborted",
    ev.MessageAppended: "message_appended",
    ev.HistoryRolledBack: "history_rolled_back",
    ev.AssistantTextDelta: "assistant_text_delta",
    ev.ThoughtDelta: "thought_delta",
    ev.ToolCallStarted: "tool_call_started",
    ev.ToolCallProgress: "tool_call_progress",
    ev.ToolCallFinished: "tool_call_finished",
    ev.PermissionRequested: "permission_requested",
    ev.PermissionResolved: "permission_resolved",
    ev.LlmCallFinished: "llm_call_finished",
    ev.UsageCharged: "usage_charged",
    ev.RetryScheduled: "retry_scheduled",
    ev.CompactionStarted: "compaction_started",
    ev.ContextCompressed: "context_compressed",
    ev.PlanUpdated: "plan_updated",
    ev.BackgroundTaskFinished: "background_task_finished",
    ev.ModeChanged: "mode_changed",
    ev.ModelChanged: "model_changed",
    ev.TitleChanged: "title_changed",
    ev.Notice: "notice",
    ev.McpServerStatus: "mcp_server_status",
    ev.SavingStopped: "saving_stopped",
}


def to_json_value(value: Any) -> Any:
    """A JSON-ready copy of one field value."""
    match value:
        case None | bool() | int() | float() | str():
            return value
        case enum.Enum():
            return value.value
        case UserMessage() | AssistantMessage() | ToolResultMessage():
            return message_to_dict(value)
        case TextBlock() | ImageBlock() | ImageRef():
            return block_to_dict(value)
        case Usage():
            return usage_to_dict(value)
        case ToolResult():
            return {
                "content": [block_to_dict(b) for b in value.content],
                "is_error": value.is_error,
                "diff": to_json_value(value.diff),
                "raw_output": thaw_json(value.raw_output) if value.raw_output is not None else None,
                "terminal_id": value.terminal_id,
            }
        case DiffPreview() | Location() | ev.PlanEntry():
            return {f.name: to_json_value(getattr(value, f.name)) for f in attrs.fields(type(value))}
        case Mapping():
            return {str(k): to_json_value(v) for k, v in value.items()}
        case tuple() | list():
            return [to_json_value(v) for v in value]
        case _:
            raise TypeError(f"no JSON form for {type(value).__name__}")


def event_to_json(event: ev.AgentEvent) -> dict[str, Any]:
    name = EVENT_TYPES.get(type(event))
    if name is None:
        raise TypeError(f"{type(event).__name__} has no stream-json type name")
    out: dict[str, Any] = {"type": name}
    for field in attrs.fields(type(event)):
        out[field.name] = to_json_value(getattr(event, field.name))
    return out
