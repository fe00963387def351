"""Event -> session/update projection, replay, and the coalescing pump.

Every payload produced here is validated against the official schema's
``SessionNotification`` definition.
"""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing

from agentcore.acp.project import ClientFeatures, SessionProjector, replay_updates
from agentcore.acp.pump import COALESCE_MAX_CHARS, COALESCE_WINDOW_S, UpdatePump
from acp_schema import SchemaViolation, validate_definition
from agentcore.events import (
    AssistantTextDelta,
    CompactionStarted,
    ContextCompressed,
    FanoutEmitter,
    LlmCallFinished,
    ModeChanged,
    ModelChanged,
    Notice,
    PermissionResolved,
    PlanEntry,
    PlanUpdated,
    PromptCommitted,
    SavingStopped,
    RetryScheduled,
    ThoughtDelta,
    TitleChanged,
    ToolCallFinished,
    ToolCallProgress,
    ToolCallStarted,
    TurnAborted,
)
from agentcore.messages import (
    AssistantMessage,
    ImageBlock,
    MessageKind,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolResultMessage,
    ToolUseBlock,
    Usage,
    UserMessage,
    user_text,
)
from agentcore.tools.base import DiffPreview, Location, ToolKind, ToolResult

CONFIG = [
    {
        "id": "mode",
        "name": "Mode",
        "category": "mode",
        "type": "select",
        "currentValue": "ask",
        "options": [{"value": "ask", "name": "Ask"}],
    }
]


def valid(update: dict[str, Any]) -> dict[str, Any]:
    validate_definition("SessionNotification", {"sessionId": "sess_1", "update": update})
    return update


def projector(**features: bool) -> SessionProjector:
    return SessionProjector(features=ClientFeatures(**features), config_options=lambda: CONFIG)


def started(call_id: str = "call_1", **kw: Any) -> ToolCallStarted:
    args: dict[str, Any] = {
        "turn_id": "t1",
        "call_id": call_id,
        "name": "edit_file",
        "title": "Edit src/app.py",
        "kind": ToolKind.EDIT,
        "raw_input": {"path": "src/app.py", "old": "a", "new": "b"},
        "locations": (Location("/w/src/app.py", 3),),
    }
    args.update(kw)
    return ToolCallStarted(**args)


def test_text_and_thought_chunks() -> None:
    p = projector()
    [chunk] = [valid(u) for u in p.project(AssistantTextDelta("t1", "hi"))]
    assert chunk == {"sessionUpdate": "agent_message_chunk", "content": {"type": "text", "text": "hi"},
                     "messageId": chunk["messageId"]}
    assert p.project(ThoughtDelta("t1", "hmm"))[0]["sessionUpdate"] == "agent_thought_chunk"
    assert p.project(AssistantTextDelta("t1", "")) == []


def test_tool_call_lifecycle_with_diff_and_permission() -> None:
    p = projector()
    diff = DiffPreview("/w/src/app.py", "a\n", "b\n")
    [announce] = p.project(started(diff=diff))
    valid(announce)
    assert announce["sessionUpdate"] == "tool_call"
    assert announce["toolCallId"] == "call_1" and announce["status"] == "pending"
    assert announce["kind"] == "edit" and announce["title"] == "Edit src/app.py"
    assert announce["locations"] == [{"path": "/w/src/app.py", "line": 3}]
    assert announce["rawInput"] == {"path": "src/app.py", "old": "a", "new": "b"}
    assert announce["content"] == [{"type": "diff", "path": "/w/src/app.py", "oldText": "a\n", "newText": "b\n"}]

    [running] = p.project(PermissionResolved("t1", "perm_1", "call_1", "allow_once", True))
    assert valid(running) == {"sessionUpdate": "tool_call_update", "toolCallId": "call_1", "status": "in_progress"}

    result = ToolResult.text("edited", diff=diff, raw_output={"replacements": 1})
    [done] = p.project(ToolCallFinished("t1", "call_1", "edit_file", result))
    valid(done)
    assert done["status"] == "completed"
    assert {"type": "diff", "path": "/w/src/app.py", "oldText": "a\n", "newText": "b\n"} in done["content"]
    assert {"type": "content", "content": {"type": "text", "text": "edited"}} in done["content"]
    assert done["rawOutput"] == {"replacements": 1}


def test_tool_call_without_permission_still_goes_through_in_progress() -> None:
    p = projector()
    p.project(started(kind=ToolKind.READ))
    updates = [valid(u) for u in p.project(ToolCallFinished("t1", "call_1", "read_file", ToolResult.text("x")))]
    assert [u.get("status") for u in updates] == ["in_progress", "completed"]


def test_rejected_and_failed_calls_fail() -> None:
    p = projector()
    p.project(started())
    assert p.project(PermissionResolved("t1", "perm_1", "call_1", "reject_once", False)) == []
    [failed] = p.project(ToolCallFinished("t1", "call_1", "edit_file", ToolResult.error("The user declined")))
    assert valid(failed)["status"] == "failed"


def test_terminal_progress_and_result() -> None:
    p = projector()
    p.project(started(name="bash", title="ls", kind=ToolKind.EXECUTE, raw_input={"command": "ls"}))
    updates = [valid(u) for u in p.project(ToolCallProgress("t1", "call_1", "", terminal_id="term_9"))]
    assert updates[0]["status"] == "in_progress"
    assert updates[1]["content"] == [{"type": "terminal", "terminalId": "term_9"}]
    result = ToolResult.text("exit 0", terminal_id="term_9", raw_output={"exit_code": 0})
    [done] = p.project(ToolCallFinished("t1", "call_1", "bash", result))
    assert valid(done)["content"][0] == {"type": "terminal", "terminalId": "term_9"}


def test_local_progress_text_accumulates() -> None:
    p = projector()
    p.project(started(name="bash", kind=ToolKind.EXECUTE))
    p.project(ToolCallProgress("t1", "call_1", "line 1\n"))
    [update] = p.project(ToolCallProgress("t1", "call_1", "line 2\n"))
    assert valid(update)["content"] == [{"type": "content", "content": {"type": "text", "text": "line 1\nline 2\n"}}]


def test_plan_usage_title_mode_model() -> None:
    p = projector()
    [plan] = p.project(PlanUpdated((PlanEntry("read", "completed", "high"), PlanEntry("write"))))
    assert valid(plan)["entries"] == [
        {"content": "read", "priority": "high", "status": "completed"},
        {"content": "write", "priority": "medium", "status": "pending"},
    ]
    [usage] = p.project(LlmCallFinished("t1", "m", Usage(10, 5), 0.01, 1200, 200000, 0.25))
    assert valid(usage) == {
        "sessionUpdate": "usage_update",
        "used": 1200,
        "size": 200000,
        "cost": {"amount": 0.25, "currency": "USD"},
    }
    [title] = p.project(TitleChanged("Fix the parser"))
    assert valid(title) == {"sessionUpdate": "session_info_update", "title": "Fix the parser"}
    mode_updates = [valid(u) for u in p.project(ModeChanged("yolo"))]
    assert mode_updates[0] == {"sessionUpdate": "current_mode_update", "currentModeId": "yolo"}
    assert mode_updates[1] == {"sessionUpdate": "config_option_update", "configOptions": CONFIG}
    assert [valid(u) for u in p.project(ModelChanged("openai", "gpt"))][0]["sessionUpdate"] == "config_option_update"


def test_notices_and_compaction_only_when_advertised() -> None:
    quiet = projector()
    assert quiet.project(Notice("info", "echo provider")) == []
    assert quiet.project(RetryScheduled("t1", 1, 3, 2.0, "429")) == []
    [said] = quiet.project(CompactionStarted("t1", "soft"))  # no compaction updates: a short agent message
    assert valid(said)["sessionUpdate"] == "agent_message_chunk" and "Compacting" in said["content"]["text"]
    assert quiet.project(ContextCompressed("t1", 1000, 100, 8, 0.5, "summary")) == []
    assert quiet.project(TurnAborted("t1", "auth failed", "AuthError")) == []
    # What the user must see reaches a client without notices as a line of the agent's message.
    for event, words in [
        (Notice("warning", "echo provider in use"), "**Warning:** echo provider in use"),
        (Notice("error", "the sandbox cannot run"), "**Error:** the sandbox cannot run"),
        (SavingStopped("cannot write journal.jsonl: No space left on device"), "will not be saved"),
    ]:
        [said] = quiet.project(event)
        assert valid(said)["sessionUpdate"] == "agent_message_chunk" and words in said["content"]["text"]

    loud = projector(notices=True, compaction=True)
    [notice] = loud.project(Notice("warning", "echo provider in use"))
    assert valid(notice) == {"sessionUpdate": "notice", "severity": "warning", "title": "echo provider in use"}
    [retry] = loud.project(RetryScheduled("t1", 1, 3, 2.0, "429 rate limited"))
    assert valid(retry)["description"] == "429 rate limited"
    [begin] = loud.project(CompactionStarted("t1", "soft"))
    [end] = loud.project(ContextCompressed("t1", 1000, 100, 8, 0.5, "we fixed the bug"))
    assert valid(begin)["status"] == "in_progress"
    assert valid(end)["compactionId"] == begin["compactionId"] and end["status"] == "completed"
    assert end["summary"] == [{"type": "text", "text": "we fixed the bug"}]


def test_bookkeeping_events_project_to_nothing() -> None:
    assert projector().project(PromptCommitted("t1", user_text("hi"))) == []


def test_replay_covers_the_whole_conversation() -> None:
    messages = [
        user_text("fix it"),
        UserMessage((TextBlock("summary of old stuff"),), kind=MessageKind.SUMMARY),
        UserMessage((TextBlock("look"), ImageBlock("image/png", "iVBORw0KGgo="))),
        AssistantMessage(
            (
                ThinkingBlock("let me think", signature="sig"),
                TextBlock("Reading."),
                ToolUseBlock("call_1", "read_file", {"path": "a.py"}),
            )
        ),
        ToolResultMessage((ToolResultBlock("call_1", (TextBlock("print(1)"),)),)),
        AssistantMessage((ToolUseBlock("call_2", "bash", {"command": "false"}),)),
        ToolResultMessage((ToolResultBlock("call_2", (TextBlock("exit 1"),), is_error=True),)),
        AssistantMessage((TextBlock("Done."),)),
    ]
    updates = [valid(u) for u in replay_updates(messages, plan=(PlanEntry("step", "completed"),))]
    kinds = [u["sessionUpdate"] for u in updates]
    assert kinds == [
        "user_message_chunk",
        "user_message_chunk",
        "user_message_chunk",
        "agent_thought_chunk",
        "agent_message_chunk",
        "tool_call",
        "tool_call_update",
        "tool_call",
        "tool_call_update",
        "agent_message_chunk",
        "plan",
    ]
    assert updates[2]["content"] == {"type": "image", "mimeType": "image/png", "data": "iVBORw0KGgo="}
    assert updates[5]["title"] == "read_file a.py" and updates[5]["rawInput"] == {"path": "a.py"}
    assert updates[6]["status"] == "completed" and updates[8]["status"] == "failed"
    assert "summary of old stuff" not in str(updates)


def test_schema_helper_rejects_bad_updates() -> None:
    # The validation above is only worth something if it can fail.
    with pytest.raises(SchemaViolation):
        valid({"sessionUpdate": "agent_message_chunk", "content": {"type": "text"}})
    with pytest.raises(SchemaViolation):
        valid({"sessionUpdate": "tool_call_update", "toolCallId": "x", "status": "done"})
    with pytest.raises(SchemaViolation):
        valid({"sessionUpdate": "usage_update", "used": -1, "size": 3})


# -------------------------------------------------------------------- pump


async def run_pump(
    events: list[Any], clock: trio.testing.MockClock, *, between: float = 0.0
) -> list[tuple[float, dict[str, Any]]]:
    clock.autojump_threshold = 0  # virtual time: sleeps and the coalescing window pass instantly
    sent: list[tuple[float, dict[str, Any]]] = []

    async def send(update: dict[str, Any]) -> None:
        sent.append((trio.current_time(), valid(update)))

    emitter = FanoutEmitter()
    pump = UpdatePump(projector(), send)
    emitter.add_observer(pump.observe)
    async with trio.open_nursery() as nursery:
        async with emitter.subscribe() as subscription:
            nursery.start_soon(pump.run, subscription)
            for event in events:
                await emitter.emit(event)
                if between:
                    await trio.sleep(between)
            await pump.drain()
            nursery.cancel_scope.cancel()
    return sent


async def test_pump_coalesces_a_burst_into_one_chunk(mock_clock: trio.testing.MockClock) -> None:
    sent = await run_pump([AssistantTextDelta("t1", c) for c in "hello world"], mock_clock)
    [(_, update)] = sent
    assert update == {"sessionUpdate": "agent_message_chunk", "content": {"type": "text", "text": "hello world"},
                      "messageId": update["messageId"]}


async def test_pump_never_holds_the_first_delta_longer_than_the_window(mock_clock: trio.testing.MockClock) -> None:
    # Deltas 5 ms apart: the first chunk goes out at the 20 ms mark, not at the end.
    start = trio.current_time()
    sent = await run_pump([AssistantTextDelta("t1", f"{i},") for i in range(10)], mock_clock, between=0.005)
    first_time, first = sent[0]
    assert first_time - start <= COALESCE_WINDOW_S + 1e-9
    assert len(sent) >= 2
    assert "".join(u["content"]["text"] for _, u in sent) == "".join(f"{i}," for i in range(10))


async def test_pump_keeps_event_order_and_separates_kinds(mock_clock: trio.testing.MockClock) -> None:
    sent = await run_pump(
        [
            ThoughtDelta("t1", "think "),
            ThoughtDelta("t1", "more"),
            AssistantTextDelta("t1", "answer "),
            started(),
            AssistantTextDelta("t1", "after"),
        ],
        mock_clock,
    )
    kinds = [(u["sessionUpdate"], u.get("content", {}).get("text")) for _, u in sent]
    assert kinds == [
        ("agent_thought_chunk", "think more"),
        ("agent_message_chunk", "answer "),
        ("tool_call", None),
        ("agent_message_chunk", "after"),
    ]


async def test_pump_splits_very_long_runs(mock_clock: trio.testing.MockClock) -> None:
    piece = "x" * 1000
    sent = await run_pump([AssistantTextDelta("t1", piece)] * (2 * COALESCE_MAX_CHARS // 1000 + 1), mock_clock)
    assert len(sent) >= 2
    assert sum(len(u["content"]["text"]) for _, u in sent) == 1000 * (2 * COALESCE_MAX_CHARS // 1000 + 1)


def test_mcp_server_status_becomes_notices() -> None:
    from agentcore.events import McpServerStatus

    assert projector().project(McpServerStatus("github", "ready", 12)) == []
    [said] = projector().project(McpServerStatus("db", "failed", 0, "exited with 1"))
    assert valid(said)["content"]["text"].strip() == "**Error:** MCP server db failed: exited with 1"
    loud = projector(notices=True)
    [ready] = loud.project(McpServerStatus("github", "ready", 12))
    assert valid(ready)["title"] == "MCP server github is ready (12 tools)"
    [failed] = loud.project(McpServerStatus("db", "failed", 0, "exited with 1", ("Traceback", "ImportError: psycopg")))
    assert valid(failed)["severity"] == "error" and "ImportError: psycopg" in failed["description"]


def test_background_output_after_the_call_finished_keeps_the_result() -> None:
    from agentcore.events import ToolCallFinished, ToolCallProgress, ToolCallStarted
    from agentcore.tools.base import ToolKind, ToolResult

    p = projector()
    p.project(ToolCallStarted("t1", "b1", "bash", "sleep 300", ToolKind.EXECUTE, {"command": "sleep 300"}))
    p.project(ToolCallFinished("t1", "b1", "bash", ToolResult.text("started background task shell_1")))
    [late] = p.project(ToolCallProgress("t1", "b1", "line 1\n"))
    [later] = p.project(ToolCallProgress("t1", "b1", "line 2\n"))
    for update in (late, later):
        assert "status" not in valid(update)
    texts = [c["content"]["text"] for c in later["content"]]
    assert texts == ["started background task shell_1", "line 1\nline 2\n"]
