"""Each event kind as the terminal shows it (rich ``Console(record=True)``)."""

from __future__ import annotations

import io
import typing

import pytest
from rich.console import Console

from agentcore import events as ev
from agentcore.history import ContextBreakdown, ContextStatus
from agentcore.messages import StopReason, Usage, user_text
from agentcore.permissions import PermissionOption
from agentcore.tools.base import DiffPreview, ToolKind, ToolResult
from agentcore.cli.render import Renderer, _safe_cut
from agentcore.cli.render_blocks import context_view, status_line, StatusInfo

T = "turn_1"


def make(*, live: bool = False, color: bool = True) -> tuple[Renderer, Console]:
    console = Console(record=True, width=100, file=io.StringIO(), force_terminal=live or color, color_system="truecolor" if color else None)
    return Renderer(console, live=live, color=color), console


def shown(console: Console) -> str:
    return console.export_text(clear=False)


def feed(renderer: Renderer, *events: ev.AgentEvent, refresh: bool = True) -> None:
    for event in events:
        renderer.handle(event)
    if refresh:  # a recording is not a screen: live frames would pile up in it
        renderer.refresh()


def bash_started(call_id: str = "c1", command: str = "make test") -> ev.ToolCallStarted:
    return ev.ToolCallStarted(T, call_id, "bash", command, ToolKind.EXECUTE, {"command": command})


def test_streamed_markdown_is_rendered_and_blocks_commit_as_they_finish() -> None:
    renderer, console = make(live=True)
    feed(renderer, ev.TurnStarted(T), ev.AssistantTextDelta(T, "# Title\n\nSome **bold"), refresh=False)
    renderer.commit_finished_blocks()  # what each refresh does before redrawing
    assert "Title" in shown(console) and "Some" not in shown(console)  # finished blocks print for good
    feed(renderer, ev.AssistantTextDelta(T, "** text\n\n```python\nx = 1\n"), ev.AssistantTextDelta(T, "```\n"), refresh=False)
    renderer.commit_finished_blocks()
    assert "x = 1" in shown(console)  # a closed fence ends a block
    feed(renderer, ev.TurnEnded(T, StopReason.END_TURN, Usage()), refresh=False)
    text = shown(console)
    assert "Some bold text" in text  # markdown rendered: no asterisks
    assert "# Title" not in text and "```" not in text
    final = [line.strip() for line in text.splitlines() if line.strip()][-2:]
    assert final == ["Some bold text", "x = 1"]  # the live region was cleared; the final blocks stay


def test_safe_cut_never_splits_a_code_fence() -> None:
    text = "intro\n\n```\na\n\nb\n"
    assert _safe_cut(text) == len("intro\n\n")
    assert _safe_cut(text + "```\nafter") == len(text + "```\n")


def test_plain_rendering_writes_the_answer_as_it_streams() -> None:
    renderer, console = make(color=False)
    feed(renderer, ev.TurnStarted(T), ev.AssistantTextDelta(T, "Hello "), ev.AssistantTextDelta(T, "**world**"))
    assert shown(console) == "Hello **world**"  # raw text, flushed at the refresh
    feed(renderer, ev.TurnEnded(T, StopReason.END_TURN, Usage()))
    assert shown(console) == "Hello **world**\n"


def test_thinking_collapses_to_one_dim_line() -> None:
    renderer, console = make(live=True)
    feed(renderer, ev.TurnStarted(T), ev.ThoughtDelta(T, "Let me think\nabout the "), ev.ThoughtDelta(T, "files first."))
    feed(renderer, ev.AssistantTextDelta(T, "Answer.\n\n"), ev.TurnEnded(T, StopReason.END_TURN, Usage()))
    lines = [line for line in shown(console).splitlines() if "thought for" in line]
    assert len(lines) == 1 and "Let me think about the files first." in lines[0]
    assert "\x1b[2" in console.export_text(styles=True)  # dim


def test_long_shell_output_is_collapsed_with_a_count_and_expands_whole() -> None:
    renderer, console = make()
    output = "\n".join(f"line {i}" for i in range(20))
    result = ToolResult.text(f"{output}\n\n[Exit code 2.]", is_error=False, raw_output={"exit_code": 2})
    feed(renderer, ev.TurnStarted(T), bash_started(), ev.ToolCallFinished(T, "c1", "bash", result, 1.25))
    text = shown(console)
    assert "make test" in text and "exit 2" in text and "1.2s" in text
    rows = [row.strip() for row in text.splitlines()]
    assert all(f"line {i}" in rows for i in (0, 1, 2, 17, 18, 19))
    assert "line 3" not in rows and "line 16" not in rows
    assert "… 14 more lines (/expand to show)" in text  # no terminal: no Ctrl-O
    assert "Exit code" not in text
    before = len(text)
    assert renderer.expand() is True
    whole = shown(console)[before:]
    assert "make test · 20 lines" in whole and all(f"line {i}" in whole for i in range(20))
    assert renderer.expand(2) is False and "only 1 collapsed output" in shown(console)


def test_short_shell_output_is_shown_whole_and_not_remembered() -> None:
    renderer, console = make(live=True)
    result = ToolResult.text("a\nb\nc\nd\ne\nf\ng\n\n[Exit code 0.]", raw_output={"exit_code": 0})
    feed(renderer, ev.TurnStarted(T), bash_started(), ev.ToolCallFinished(T, "c1", "bash", result, 0.1), refresh=False)
    assert "more lines" not in shown(console) and not renderer.collapsed
    assert renderer.expand() is False and "no collapsed tool output" in shown(console)


def test_a_long_error_collapses_with_the_ctrl_o_hint_on_a_terminal() -> None:
    renderer, console = make(live=True)
    error = "\n".join(f"problem {i}" for i in range(30))
    feed(renderer, ev.TurnStarted(T), bash_started(), ev.ToolCallFinished(T, "c1", "bash", ToolResult.error(error), 0.1), refresh=False)
    text = shown(console)
    assert "problem 7" in text and "problem 8" not in text and "… 22 more lines (Ctrl-O to expand)" in text
    renderer.expand()
    assert "problem 29" in shown(console)


def test_edit_shows_a_highlighted_diff() -> None:
    renderer, console = make()
    diff = DiffPreview("app.py", "a = 1\nb = 2\n", "a = 1\nb = 3\n")
    started = ev.ToolCallStarted(T, "c2", "edit_file", "Edit app.py", ToolKind.EDIT, {"path": "app.py"}, diff=diff)
    feed(renderer, started, ev.ToolCallFinished(T, "c2", "edit_file", ToolResult.text("edited", diff=diff), 0.1))
    text = shown(console)
    assert "Edit app.py" in text and "-b = 2" in text and "+b = 3" in text
    styled = console.export_text(styles=True)
    assert "\x1b[" in styled.split("+b = 3")[0].rsplit("\n", 1)[-1]  # the added line is coloured


def test_tool_errors_are_red() -> None:
    renderer, console = make()
    feed(renderer, bash_started("c3"), ev.ToolCallFinished(T, "c3", "bash", ToolResult.error("no such file"), 0.0))
    assert "✗" in shown(console) and "no such file" in shown(console)
    styled = console.export_text(styles=True)
    assert "\x1b[31m" in styled or "\x1b[1;31m" in styled


def test_running_tool_has_a_spinner_with_its_progress() -> None:
    renderer, console = make(live=True)
    feed(renderer, ev.TurnStarted(T), bash_started(), ev.ToolCallProgress(T, "c1", "compiling 3/9\n"))
    view = Console(record=True, width=100, file=io.StringIO())
    view.print(renderer.live_view())
    assert "make test  compiling 3/9" in view.export_text()


def test_permission_prompt_shows_choices_rule_and_explains_the_answer() -> None:
    renderer, console = make()
    request = ev.PermissionRequested(
        T, "perm_1", "c1", "bash", "git push origin main", ToolKind.EXECUTE, "git push origin main",
        {"command": "git push origin main"}, always_rule="bash(git push*)",
    )
    feed(renderer, request)
    text = shown(console)
    assert "Allow" in text and "git push origin main" in text
    for choice in ("[y] yes, once", "[a] always (adds rule bash(git push*))", "[n] no", "[N] never"):
        assert choice in text
    assert renderer.current_permission == request
    renderer.permission_answered(request, PermissionOption.ALLOW_ALWAYS, saved_to="/p/.agent/config.local.toml")
    assert "allowed always: added rule bash(git push*); saved to /p/.agent/config.local.toml" in shown(console)
    assert renderer.current_permission is None


def test_permission_questions_queue_and_a_cancelled_one_says_so() -> None:
    renderer, console = make()
    first = ev.PermissionRequested(T, "p1", "c1", "bash", "one", ToolKind.EXECUTE, "one", {})
    second = ev.PermissionRequested(T, "p2", "c2", "bash", "two", ToolKind.EXECUTE, "two", {})
    feed(renderer, first, second)
    assert renderer.current_permission == first and "two" not in shown(console)
    renderer.permission_answered(first, PermissionOption.REJECT_ONCE, saved_to=None)
    assert renderer.current_permission == second and "denied once" in shown(console)
    feed(renderer, ev.PermissionResolved(T, "p2", "c2", "cancelled", False))
    assert "permission request cancelled" in shown(console)


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        (StopReason.CANCELLED, "turn cancelled"),
        (StopReason.MAX_TOKENS, "output token limit"),
        (StopReason.MAX_TURN_REQUESTS, "limit of model requests"),
        (StopReason.REFUSAL, "refused"),
    ],
)
def test_unusual_stop_reasons_are_explained(reason: StopReason, words: str) -> None:
    renderer, console = make()
    feed(renderer, ev.TurnStarted(T), ev.TurnEnded(T, reason, Usage()))
    assert words in shown(console)


def test_errors_rollback_retries_compaction_and_notices() -> None:
    renderer, console = make()
    feed(
        renderer,
        ev.TurnStarted(T),
        ev.RetryScheduled(T, 1, 3, 2.5, "rate limited (429)"),
        ev.HistoryRolledBack(T, 0),
        ev.TurnAborted(T, "invalid x-api-key", "AuthError"),
        ev.CompactionStarted(None, "manual"),
        ev.ContextCompressed(None, 90_000, 20_000, 30, 3.1),
        ev.Notice("warning", "offline echo model"),
    )
    text = shown(console)
    assert "retrying in 2.5s (attempt 1/3)" in text and "rate limited" in text
    assert "rolled back" in text
    assert "AuthError: invalid x-api-key" in text
    assert "compacting context (manual)" in text
    assert "90.0k → 20.0k tokens" in text and "30 messages" in text
    assert "warning: offline echo model" in text


def test_retry_countdown_and_compaction_progress_are_live() -> None:
    renderer, console = make(live=True)
    feed(renderer, ev.TurnStarted(T), ev.RetryScheduled(T, 2, 5, 30.0, "overloaded"))
    view = Console(record=True, width=100, file=io.StringIO())
    view.print(renderer.live_view())
    assert "retrying (2/5): 30s" in view.export_text()


def test_plan_background_mode_model_title_and_mcp() -> None:
    renderer, console = make()
    feed(
        renderer,
        ev.PlanUpdated((ev.PlanEntry("read code", "completed"), ev.PlanEntry("fix bug", "in_progress"), ev.PlanEntry("test"))),
        ev.BackgroundTaskFinished("shell_1", "npm test", "completed", "exit code 0"),
        ev.ModeChanged("accept-edits"),
        ev.ModelChanged("openai", "gpt-4o"),
        ev.TitleChanged("Fix the bug"),
        ev.McpServerStatus("github", "ready", tool_count=12),
        ev.McpServerStatus("db", "failed", error="exited with 1", stderr_tail=("boom",)),
        ev.PromptCommitted(T, user_text("hi")),
        ev.MessageAppended(T, user_text("hi")),
        ev.LlmCallFinished(T, "gpt-4o", Usage(10, 5), 0.01, 64_000, 128_000, 0.25),
    )
    text = shown(console)
    for words in ("Plan", "☒ read code", "◐ fix bug", "☐ test", "npm test (shell_1) completed: exit code 0",
                  "mode → accept-edits", "model → openai/gpt-4o", "MCP github: ready (12 tools)",
                  "MCP db: failed: exited with 1", "boom"):
        assert words in text
    assert renderer.title == "Fix the bug"
    status = status_line(renderer.status).plain
    assert "openai/gpt-4o" in status and "accept-edits" in status and "context 50% (64.0k/128.0k)" in status and "$0.2500" in status


def test_every_event_variant_renders() -> None:
    """The renderer's match is exhaustive: a new variant without a case fails here."""
    variants = set(typing.get_args(ev.AgentEvent))
    source = open(Renderer.handle.__code__.co_filename, encoding="utf-8").read()
    missing = [v.__name__ for v in variants if f"case {v.__name__}(" not in source and f"| {v.__name__}(" not in source]
    assert not missing


def test_context_view_has_a_bar_and_the_breakdown() -> None:
    console = Console(record=True, width=100, file=io.StringIO())
    console.print(context_view(ContextStatus(50_000, 100_000, ContextBreakdown(2_000, 8_000, 30_000, 10_000, 0), calibrated=True)))
    text = console.export_text()
    assert "█" * 20 + "░" * 20 in text and "50%" in text and "50.0k / 100.0k" in text
    for label in ("system prompt", "tool schemas", "messages", "tool results", "summaries", "free"):
        assert label in text


def test_status_line_fields() -> None:
    text = status_line(StatusInfo("anthropic", "claude", "ask", 1_500, 200_000, 1.5)).plain
    assert text == "anthropic/claude  ·  ask  ·  context 1% (1.5k/200.0k)  ·  $1.50"
