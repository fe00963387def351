"""Renderables for single things: a tool call, a diff, a permission prompt,
the context bar, the plan, the status line. :mod:`cli.render` arranges them.

Every function here is pure (value in, rich renderable out) so the rendering
of each event kind is checked with ``Console(record=True)``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from agentcore.events import PermissionRequested, PlanEntry, ToolCallFinished, ToolCallStarted
from agentcore.history import ContextStatus
from agentcore.permissions import EXIT_PLAN_MODE
from agentcore.tools import DiffPreview, ToolKind

OUTPUT_HEAD_LINES = 3  # a long tool output shows its first lines ...
OUTPUT_TAIL_LINES = 3  # ... and its last ones, with a count of the hidden lines between
EXPAND_HINT = "Ctrl-O to expand"  # how a collapsed output is shown whole (/expand without a terminal)
SUB_AGENT_TOOL = "spawn_agent"  # agentcore.tools.registry.SPAWN_AGENT: its result is the sub-agent's answer
ERROR_LINES = 8  # lines of a tool error shown
DIFF_MAX_LINES = 60  # a longer diff is cut (the full change is in the file)
DIFF_CONTEXT_LINES = 2  # unchanged lines around each change
CONTEXT_BAR_CELLS = 40  # width of the /context bar
INDENT = 2  # tool details sit under the tool's title

KIND_ICONS: Mapping[ToolKind, str] = {
    ToolKind.READ: "📖",
    ToolKind.EDIT: "✏️ ",
    ToolKind.DELETE: "🗑 ",
    ToolKind.MOVE: "↔",
    ToolKind.SEARCH: "🔍",
    ToolKind.EXECUTE: "$",
    ToolKind.FETCH: "🌐",
    ToolKind.THINK: "💭",
    ToolKind.OTHER: "•",
}
PLAIN_ICONS: Mapping[str, str] = {"ok": "[ok]", "error": "[error]", "running": "[..]"}


@attrs.frozen
class StatusInfo:
    """What the status line shows; the renderer keeps it current from events."""

    provider: str = ""
    model: str = ""
    mode: str = ""
    context_used: int = 0
    context_window: int = 0
    cost_usd: float = 0.0

    @property
    def context_ratio(self) -> float:
        return self.context_used / self.context_window if self.context_window else 0.0


def human_tokens(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}M"
    if count >= 1_000:
        return f"{count / 1_000:.1f}k"
    return str(count)


def format_cost(usd: float) -> str:
    return f"${usd:.4f}" if usd < 1 else f"${usd:.2f}"


def status_line(info: StatusInfo) -> Text:
    ratio = info.context_ratio
    ctx_style = "red" if ratio >= 0.85 else "yellow" if ratio >= 0.6 else "green"
    text = Text()
    text.append(f"{info.provider}/{info.model}", style="bold cyan")
    text.append("  ·  ", style="dim")
    text.append(info.mode, style="magenta")
    text.append("  ·  ", style="dim")
    text.append(
        f"context {ratio:.0%} ({human_tokens(info.context_used)}/{human_tokens(info.context_window)})",
        style=ctx_style,
    )
    text.append("  ·  ", style="dim")
    text.append(format_cost(info.cost_usd), style="dim")
    return text


# ---------------------------------------------------------------- tools


def tool_icon(kind: ToolKind) -> str:
    return KIND_ICONS.get(kind, "•")


def unified_diff(diff: DiffPreview) -> str:
    old = (diff.old_text or "").splitlines(keepends=True)
    new = diff.new_text.splitlines(keepends=True)
    lines = list(
        difflib.unified_diff(
            old,
            new,
            fromfile="/dev/null" if diff.old_text is None else f"a/{diff.path}",
            tofile=f"b/{diff.path}",
            n=DIFF_CONTEXT_LINES,
        )
    )
    lines = [line if line.endswith("\n") else line + "\n" for line in lines]
    if len(lines) > DIFF_MAX_LINES:
        hidden = len(lines) - DIFF_MAX_LINES
        lines = lines[:DIFF_MAX_LINES] + [f"… {hidden} more diff lines\n"]
    return "".join(lines).rstrip("\n")


def diff_view(diff: DiffPreview, *, color: bool) -> RenderableType:
    text = unified_diff(diff)
    if not text:
        return Text("(no changes)", style="dim")
    if not color:
        return Text(text)
    return _syntax(text, "diff")


def _syntax(code: str, lexer: str) -> RenderableType:
    from rich.syntax import Syntax  # pygments is heavy; only loaded once something is highlighted

    return Syntax(code, lexer, theme="ansi_dark", background_color="default", word_wrap=True)


def tool_title(event: ToolCallStarted) -> str:
    return event.title or event.name


def collapse(lines: Sequence[str], *, head: int, tail: int, hint: str) -> tuple[list[str], int]:
    """``lines`` cut to ``head`` first and ``tail`` last lines with a count of the
    rest between them (shown whole when little would be hidden); and that count."""
    hidden = len(lines) - head - tail
    if hidden <= 1:
        return list(lines), 0
    marker = f"… {hidden} more lines ({hint})" if hint else f"… {hidden} more lines"
    return [*lines[:head], marker, *(lines[len(lines) - tail :] if tail else [])], hidden


def _shell_body(text: str) -> str:
    return text.rsplit("\n\n[", 1)[0]  # the shell tool appends "[Exit code N.]"


def tool_output(started: ToolCallStarted | None, finished: ToolCallFinished) -> list[str]:
    """The lines of a finished call's output that its block shows (collapsed when long)."""
    result = finished.result
    kind = started.kind if started is not None else ToolKind.OTHER
    if result.is_error:
        return result.text_content.strip().splitlines()
    if kind is ToolKind.EXECUTE:
        return _shell_body(result.text_content).strip("\n").splitlines()
    if finished.name == SUB_AGENT_TOOL:
        return sub_agent_answer_lines(result.text_content)
    return []


def collapsed_output(started: ToolCallStarted | None, finished: ToolCallFinished) -> str | None:
    """The whole output when :func:`finished_tool_block` shows only part of it, else None."""
    lines = tool_output(started, finished)
    head, tail = (ERROR_LINES, 0) if finished.result.is_error else (OUTPUT_HEAD_LINES, OUTPUT_TAIL_LINES)
    return "\n".join(lines) if collapse(lines, head=head, tail=tail, hint="")[1] else None


def finished_tool_block(
    started: ToolCallStarted | None, finished: ToolCallFinished, *, color: bool, expand_hint: str = EXPAND_HINT
) -> RenderableType:
    """A finished call: ✓/✗, title, duration, then a diff, the shell output or the
    error — long outputs collapsed to their first and last lines, with a count
    of the rest and ``expand_hint`` (how to see them whole)."""
    result = finished.result
    title = tool_title(started) if started is not None else finished.name
    kind = started.kind if started is not None else ToolKind.OTHER
    raw: Mapping[str, Any] = result.raw_output or {}
    head = Text()
    if color:
        head.append("✗ " if result.is_error else "✓ ", style="bold red" if result.is_error else "bold green")
        head.append(f"{tool_icon(kind)} ", style="dim")
        head.append(title, style="red" if result.is_error else "bold")
    else:
        head.append(PLAIN_ICONS["error" if result.is_error else "ok"] + " " + title)
    details: list[RenderableType] = []
    exit_code = raw.get("exit_code")
    if kind is ToolKind.EXECUTE and "exit_code" in raw:
        head.append(f"  exit {exit_code}", style="red" if exit_code else "dim")
    head.append(f"  {finished.duration_s:.1f}s", style="dim")
    diff = result.diff or (started.diff if started is not None else None)
    text = result.text_content
    if result.is_error:
        shown, _ = collapse(tool_output(started, finished), head=ERROR_LINES, tail=0, hint=expand_hint)
        details.append(Text("\n".join(shown), style="red"))
    elif diff is not None and kind in (ToolKind.EDIT, ToolKind.DELETE, ToolKind.MOVE):
        details.append(diff_view(diff, color=color))
    elif kind is ToolKind.EXECUTE:
        shown, _ = collapse(
            tool_output(started, finished), head=OUTPUT_HEAD_LINES, tail=OUTPUT_TAIL_LINES, hint=expand_hint
        )
        if shown:
            details.append(Text("\n".join(shown), style="dim"))
    elif finished.name == SUB_AGENT_TOOL:
        details.extend(sub_agent_answer(text, hint=expand_hint))
    if not details:
        return head
    return Group(head, Padding(Group(*details), (0, 0, 0, INDENT)))


def _sub_agent_parts(text: str) -> tuple[str, str]:
    """A spawn_agent result split into the answer and its footer."""
    answer, _, footer = text.rpartition("\n\n[")  # ChildReport.render appends "[<profile> sub-agent: …]"
    return (answer, "[" + footer) if answer else (text, "")


def sub_agent_answer_lines(text: str) -> list[str]:
    """The lines of a sub-agent's answer (what Ctrl-O / ``/expand`` shows whole)."""
    return _sub_agent_parts(text)[0].strip("\n").splitlines()


def sub_agent_answer(text: str, *, hint: str = EXPAND_HINT) -> list[RenderableType]:
    """A sub-agent's answer under its call, collapsed like any long output,
    then its footer (stop reason, requests, tokens, cost)."""
    shown, _ = collapse(sub_agent_answer_lines(text), head=OUTPUT_HEAD_LINES, tail=OUTPUT_TAIL_LINES, hint=hint)
    footer = _sub_agent_parts(text)[1]
    parts: list[RenderableType] = [Text("\n".join(shown))] if shown else []
    if footer:
        parts.append(Text(footer, style="dim"))
    return parts


def running_tool_line(started: ToolCallStarted, progress: str, *, step: str = "") -> Text:
    """A running call: its title, then what it is doing now (a sub-agent's step)
    or else the last line of its output."""
    text = Text()
    text.append(f"{tool_icon(started.kind)} ", style="dim")
    text.append(tool_title(started), style="bold")
    if step:
        text.append(f"  {step}", style="dim")
    elif progress:
        last = progress.rstrip("\n").rsplit("\n", 1)[-1]
        text.append(f"  {last}", style="dim")
    return text


# ---------------------------------------------------------- permissions

PERMISSION_KEYS = (("y", "yes, once"), ("a", "always"), ("n", "no"), ("N", "never"))
# The plan's approval: "a" leaves plan mode for accept-edits, "N" is the same as "n".
PLAN_KEYS = (("y", "yes, then ask before edits as before"), ("a", "yes, and accept edits"), ("n", "no, keep planning"))


def plan_approval_view(request: PermissionRequested) -> RenderableType:
    """The plan as Markdown, then the three answers."""
    from rich.markdown import Markdown  # markdown-it is loaded on first use (start-up is budgeted)

    plan = request.raw_input.get("plan")
    head = Text()
    head.append("? ", style="bold yellow")
    head.append("Approve this plan?", style="bold")
    choices = Text("  ")
    for key, label in PLAN_KEYS:
        choices.append(f"[{key}]", style="bold cyan")
        choices.append(f" {label}   ")
    body = Markdown(plan) if isinstance(plan, str) and plan.strip() else Text("(no plan text)", style="dim")
    return Group(head, Padding(body, (0, 0, 0, INDENT)), choices)


def permission_view(request: PermissionRequested, *, color: bool) -> RenderableType:
    """What will run comes first (the command, or the path and its diff), the
    model's description of it second, then the answers."""
    if request.tool_name == EXIT_PLAN_MODE:
        return plan_approval_view(request)
    title = request.title or request.tool_name
    command = request.subject if request.kind is ToolKind.EXECUTE and request.subject else None
    head = Text()
    head.append("? ", style="bold yellow")
    head.append("Allow ", style="bold")
    parts: list[RenderableType] = [head]
    if command is not None:
        head.append(f"{tool_icon(request.kind)} {request.tool_name} to run", style="bold yellow")
        head.append(":", style="bold")
        parts.append(Padding(_syntax(command, "bash") if color else Text(f"$ {command}"), (0, 0, 0, INDENT)))
    else:
        shown = f"{request.tool_name} {request.subject}" if request.subject and request.subject not in title else title
        head.append(f"{tool_icon(request.kind)} {shown}", style="bold yellow")
        head.append("?", style="bold")
        if request.diff is not None:
            parts.append(Padding(diff_view(request.diff, color=color), (0, 0, 0, INDENT)))
    if title not in head.plain and title != command:
        parts.append(Padding(Text(title, style="dim italic"), (0, 0, 0, INDENT)))
    parts.append(permission_choices(request))
    return Group(*parts)


def permission_choices(request: PermissionRequested) -> Text:
    text = Text("  ")
    for key, label in PERMISSION_KEYS:
        text.append(f"[{key}]", style="bold cyan")
        text.append(f" {label}")
        if key == "a" and request.always_rule:
            admits = f": {request.always_admits}" if request.always_admits else ""
            text.append(f" (adds rule {request.always_rule}{admits})", style="dim")
        text.append("   ")
    return text


# ---------------------------------------------------------- context / plan


def context_view(status: ContextStatus) -> RenderableType:
    ratio = min(1.0, status.ratio)
    filled = round(ratio * CONTEXT_BAR_CELLS)
    style = "red" if ratio >= 0.85 else "yellow" if ratio >= 0.6 else "green"
    bar = Text()
    bar.append("█" * filled, style=style)
    bar.append("░" * (CONTEXT_BAR_CELLS - filled), style="dim")
    bar.append(f"  {status.ratio:.0%}  {human_tokens(status.used)} / {human_tokens(status.window)} tokens")
    if not status.calibrated:
        bar.append("  (estimated)", style="dim")
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_column(justify="right", style="dim")
    b = status.breakdown
    total = b.total or 1
    for label, value in (
        ("system prompt", b.system_prompt),
        ("tool schemas", b.tool_schemas),
        ("messages", b.messages),
        ("tool results", b.tool_results),
        ("summaries", b.summaries),
    ):
        table.add_row(label, human_tokens(value), f"{value / total:.0%}")
    table.add_row("free", human_tokens(status.free), "")
    return Group(bar, table)


PLAN_MARKS = {"completed": ("☒", "dim strike"), "in_progress": ("◐", "bold yellow"), "pending": ("☐", "")}


def plan_view(entries: Sequence[PlanEntry]) -> RenderableType:
    text = Text("Plan\n", style="bold")
    for entry in entries:
        mark, style = PLAN_MARKS.get(entry.status, ("☐", ""))
        text.append(f"  {mark} ")
        text.append(entry.content + "\n", style=style)
    text.rstrip()
    return text


def notice_text(level: str, message: str) -> Text:
    style = {"error": "bold red", "warning": "yellow"}.get(level, "cyan")
    prefix = {"error": "error: ", "warning": "warning: "}.get(level, "")
    return Text(prefix + message, style=style)


def markup_safe(text: str) -> str:
    return escape(text)
