"""Agent events -> the terminal.

:class:`Renderer` is one projection of a session's event stream. It prints
what is final (finished Markdown blocks, finished tool calls, notices) and
keeps what is still changing — the paragraph being streamed, the thinking,
running tools with their spinners, a retry countdown, a pending permission
question — in a small *live region* at the bottom that :meth:`refresh`
redraws at a fixed rate. Text deltas only append to a buffer, so rendering
keeps up with any stream: the cost per refresh is bounded by the size of the
paragraph in progress, not by the number of chunks.

With ``live=False`` (stdout is not a terminal) nothing is redrawn: the answer
is written as it streams and every other event is one plain line.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, assert_never

import attrs
from rich.console import Console, Group, RenderableType
from rich.spinner import Spinner
from rich.style import Style
from rich.text import Text

if TYPE_CHECKING:
    from rich.live import Live

from agentcore.events import (
    AgentEvent,
    AssistantTextDelta,
    BackgroundTaskFinished,
    CompactionStarted,
    ContextCompressed,
    HistoryRolledBack,
    LlmCallFinished,
    UsageCharged,
    McpServerStatus,
    MessageAppended,
    ModeChanged,
    ModelChanged,
    Notice,
    SavingStopped,
    PermissionRequested,
    PermissionResolved,
    PlanUpdated,
    PromptCommitted,
    RetryScheduled,
    ThoughtDelta,
    TitleChanged,
    ToolCallFinished,
    ToolCallProgress,
    ToolCallStarted,
    TurnAborted,
    TurnEnded,
    TurnStarted,
)
from agentcore.messages import AssistantMessage, Citation, StopReason
from agentcore.permissions import EXIT_PLAN_MODE, PermissionMode, PermissionOption
PROGRESS_KEEP_CHARS = 2_000  # of a running tool's output, enough for its last line

from agentcore.cli.render_blocks import (
    EXPAND_HINT,
    StatusInfo,
    collapsed_output,
    finished_tool_block,
    format_cost,
    human_tokens,
    notice_text,
    permission_view,
    plan_view,
    running_tool_line,
    tool_title,
)

REFRESH_PER_SECOND = 12  # smooth enough for spinners, cheap enough for fast streams
COLLAPSED_KEPT = 20  # collapsed tool outputs remembered for /expand N (each at most a capped tool result)
LIVE_TAIL_LINES = 12  # lines of the paragraph in progress shown live (all of it is printed when done)
THINKING_TAIL_LINES = 3  # lines of streaming thoughts shown live
THOUGHT_SUMMARY_CHARS = 72  # the collapsed thinking line
FENCES = ("```", "~~~")

STOP_MESSAGES = {
    StopReason.CANCELLED: ("yellow", "⏹ turn cancelled"),
    StopReason.MAX_TOKENS: ("yellow", "stopped: the answer hit the output token limit"),
    StopReason.MAX_TURN_REQUESTS: ("yellow", "stopped: the turn reached its limit of model requests"),
    StopReason.REFUSAL: ("yellow", "stopped: the model refused to answer"),
}


@attrs.define
class _RunningTool:
    started: ToolCallStarted
    progress: str = ""
    step: str = ""  # what it is doing now (a sub-agent's current step)
    spinner: Spinner = attrs.field(factory=lambda: Spinner("dots", style="cyan"))


def _safe_cut(text: str) -> int:
    """Length of the longest prefix of ``text`` made of finished Markdown blocks:
    it ends after a blank line or a closing code fence, never inside a fence."""
    pos = cut = 0
    in_fence = False
    for line in text.splitlines(keepends=True):
        if not line.endswith("\n"):
            break
        pos += len(line)
        stripped = line.strip()
        if stripped.startswith(FENCES):
            in_fence = not in_fence
            if not in_fence:
                cut = pos
        elif not in_fence and not stripped:
            cut = pos
    return cut


def _fence_opener(text: str) -> str | None:
    """The opening fence line if ``text`` ends inside a code block."""
    opener = None
    for line in text.splitlines():
        if line.strip().startswith(FENCES):
            opener = None if opener is not None else line
    return opener


def _markdown(text: str) -> RenderableType:
    # Imported on first use: markdown-it costs ~50 ms, and start-up is budgeted.
    from rich.markdown import Markdown

    return Markdown(text)


def sources_block(citations: tuple[Citation, ...]) -> Text:
    """The web sources an answer cites: ``[n] title`` linked to the URL, the URL beside it."""
    text = Text("Sources:", style="dim")
    for number, citation in enumerate(citations, 1):
        text.append(f"\n [{number}] ", style="dim")
        text.append(citation.title or citation.url, style=Style(link=citation.url))  # not parsed: a URL is data
        if citation.title:
            text.append(f"  {citation.url}", style="dim")
    return text


def _plan_answer(option: PermissionOption) -> Text:
    if option is PermissionOption.ALLOW_ALWAYS:
        return Text("✓ plan approved: edits now run without asking", style="green")
    if option.allows:
        return Text("✓ plan approved", style="green")
    return Text("✗ plan not approved: the model stays in plan mode; tell it what to change", style="yellow")


@attrs.frozen
class Collapsed:
    """A tool output shown collapsed: what Ctrl-O / ``/expand`` prints whole."""

    title: str
    text: str


class Renderer:
    def __init__(self, console: Console, *, live: bool, color: bool = True) -> None:
        self.console = console
        self.live_enabled = live
        self.color = color
        self.status = StatusInfo()
        self.title: str | None = None
        self._live: Live | None = None
        self._pending = ""  # Markdown of the block being streamed
        self._blocks_in_message = 0
        self._plain: list[str] = []  # plain mode: text waiting for the next flush
        self._at_line_start = True  # plain mode: the last text written ended a line
        self._thinking: list[str] = []
        self._thinking_started = 0.0
        self._tools: dict[str, _RunningTool] = {}
        self._started: dict[str, ToolCallStarted] = {}
        self._activity: str | None = None
        self._activity_until: float | None = None  # a countdown's end (monotonic seconds)
        self._activity_since = 0.0
        self._activity_spinner = Spinner("dots", style="cyan")
        self.permissions: deque[PermissionRequested] = deque()
        self._shown_permission: str | None = None
        self._mcp_starting: set[str] = set()
        self.turn_active = False
        # Set by the chat while its prompt is on screen: wraps a print so the
        # input line is cleared first and redrawn after.
        self.print_wrapper: Callable[[Callable[[], None]], None] | None = None
        self.on_question: Callable[[], None] | None = None  # a permission question is on screen
        self.collapsed: deque[Collapsed] = deque(maxlen=COLLAPSED_KEPT)  # newest last

    # ------------------------------------------------------------ events

    def handle(self, event: AgentEvent) -> None:
        match event:
            case AssistantTextDelta(text=text):
                self._end_thinking()
                self._clear_activity()
                self._text(text)
            case ThoughtDelta(text=text):
                self._clear_activity()
                if not self._thinking:
                    self._thinking_started = time.monotonic()
                self._thinking.append(text)
            case TurnStarted():
                self.turn_active = True
                self._blocks_in_message = 0
                self._set_activity(f"waiting for {self.status.model or 'the model'}")
            case TurnEnded(stop_reason=reason):
                self._finish_output()
                message = STOP_MESSAGES.get(reason)
                if message is not None:
                    self._print(Text(message[1], style=message[0]))
                self._end_turn()
            case TurnAborted(error=error, error_type=kind, retryable=retryable):
                self._finish_output()
                hint = " (a temporary problem: try again)" if retryable else ""
                self._print(Text(f"✗ {kind}: {error}{hint}", style="bold red"))
                self._end_turn()
            case HistoryRolledBack():
                self._finish_output()
                self._print(Text("the turn was rolled back: history is as it was before your message", style="dim"))
            case MessageAppended(message=AssistantMessage() as message) if message.citations:
                self._finish_output()  # the answer's web sources, numbered, under it
                self._print(sources_block(message.citations))
            case PromptCommitted() | MessageAppended():
                pass  # the person typed the prompt; history bookkeeping is not for display
            case ToolCallStarted():
                self._finish_output()
                self._clear_activity()
                self._started[event.call_id] = event
                self._tools[event.call_id] = _RunningTool(event)
                if not self.live_enabled:
                    self._print(Text(f"[..] {tool_title(event)}"))
            case ToolCallProgress(call_id=call_id, text=text, step=step):
                running = self._tools.get(call_id)
                if running is not None and text:
                    # Progress carries new output; keep a short tail for the spinner line.
                    running.progress = (running.progress + text)[-PROGRESS_KEEP_CHARS:]
                if running is not None and step is not None:
                    running.step = step
            case ToolCallFinished(call_id=call_id):
                self._tools.pop(call_id, None)
                started = self._started.pop(call_id, None)
                hint = EXPAND_HINT if self.live_enabled else "/expand to show"
                self._print(finished_tool_block(started, event, color=self.color, expand_hint=hint))
                whole = collapsed_output(started, event)
                if whole is not None:
                    self.collapsed.append(Collapsed(tool_title(started) if started else event.name, whole))
                if self.turn_active and not self._tools:
                    self._set_activity(f"waiting for {self.status.model or 'the model'}")
            case PermissionRequested():
                self._finish_output()
                self.permissions.append(event)
                self._show_next_permission()
            case PermissionResolved(request_id=request_id, outcome=outcome):
                for request in list(self.permissions):
                    if request.request_id == request_id:  # settled without our answer (cancelled)
                        self.permissions.remove(request)
                        if self._shown_permission == request_id:
                            self._shown_permission = None
                            self._print(Text(f"permission request {outcome.replace('_', ' ')}", style="dim"))
                self._show_next_permission()
            case LlmCallFinished():
                self.status = attrs.evolve(
                    self.status,
                    context_used=event.context_used,
                    context_window=event.context_window,
                    cost_usd=event.session_cost_usd,
                )
            case UsageCharged(cost_usd=cost):  # a summary or a sub-agent: the cost shown includes it
                self.status = attrs.evolve(self.status, cost_usd=self.status.cost_usd + cost)
            case RetryScheduled(attempt=attempt, max_attempts=most, delay_s=delay, reason=reason):
                self._print(Text(f"↻ {reason}: retrying in {delay:.1f}s (attempt {attempt}/{most})", style="yellow"))
                self._set_activity(f"retrying ({attempt}/{most})", countdown_s=delay)
            case CompactionStarted(reason=reason):
                self._finish_output()
                if not self.live_enabled:
                    self._print(Text(f"compacting context ({reason})…", style="cyan"))
                self._set_activity(f"compacting context ({reason})")
            case ContextCompressed():
                self._clear_activity()
                summary = (
                    f"⇣ context compacted: {human_tokens(event.tokens_before)} → {human_tokens(event.tokens_after)} tokens"
                    f" ({event.messages_summarized} messages, {event.strategy}, {event.duration_s:.1f}s)"
                )
                self._print(Text(summary, style="cyan"))
                if self.turn_active:
                    self._set_activity(f"waiting for {self.status.model or 'the model'}")
            case PlanUpdated(entries=entries):
                self._finish_output()
                self._print(plan_view(entries))
            case BackgroundTaskFinished(task_id=task_id, label=label, status=status, outcome=outcome):
                style = "green" if status == "completed" else "yellow"
                self._print(Text(f"⚙ background task {label} ({task_id}) {status}: {outcome}", style=style))
            case ModeChanged(mode=mode):
                self.status = attrs.evolve(self.status, mode=mode)
                try:
                    description = PermissionMode(mode).description
                except ValueError:
                    description = ""
                self._print(Text(f"mode → {mode}  {description}".rstrip(), style="magenta"))
            case ModelChanged(provider=provider, model=model):
                self.status = attrs.evolve(self.status, provider=provider, model=model)
                self._print(Text(f"model → {provider}/{model}", style="cyan"))
            case TitleChanged(title=title):
                self.title = title
                if self.live_enabled:
                    self.console.set_window_title(f"agent: {title}")
            case Notice(level=level, text=text):
                self._finish_output()
                self._print(notice_text(level, text))
            case SavingStopped(reason=reason):
                self._finish_output()
                self._print(notice_text("error", f"{reason}. The rest of this session will not be saved."))
            case McpServerStatus():
                self._mcp_status(event)
            case _:
                assert_never(event)

    def _mcp_status(self, event: McpServerStatus) -> None:
        """Starting servers show as progress; the outcome of each is one line."""
        if event.state == "starting":
            self._mcp_starting.add(event.server)
        else:
            self._mcp_starting.discard(event.server)
        if self._mcp_starting:
            self._set_activity(f"starting MCP server(s): {', '.join(sorted(self._mcp_starting))}")
        elif self._activity is not None and self._activity.startswith("starting MCP"):
            self._clear_activity()
        match event.state:
            case "starting":
                if not self.live_enabled:
                    self._print(Text(f"MCP {event.server}: starting…", style="dim"))
            case "ready":
                self._print(Text(f"MCP {event.server}: ready ({event.tool_count} tools)", style="dim"))
            case _:
                lines = [f"MCP {event.server}: {event.state}" + (f": {event.error}" if event.error else "")]
                lines += [f"    {line}" for line in event.stderr_tail]
                self._print(Text("\n".join(lines), style="yellow" if event.state == "crashed" else "red"))

    # --------------------------------------------------------- permissions

    @property
    def current_permission(self) -> PermissionRequested | None:
        return self.permissions[0] if self.permissions and self._shown_permission else None

    def permission_answered(self, request: PermissionRequested, option: PermissionOption, *, saved_to: str | None) -> None:
        """Explain the answer in one line and move on to the next question."""
        if request in self.permissions:
            self.permissions.remove(request)
        self._shown_permission = None
        rule = request.always_rule
        if request.tool_name == EXIT_PLAN_MODE:
            self._print(_plan_answer(option))
            self._show_next_permission()
            return
        match option:
            case PermissionOption.ALLOW_ONCE:
                line = Text("✓ allowed once", style="green")
            case PermissionOption.ALLOW_ALWAYS:
                where = f"; saved to {saved_to}" if saved_to else " for this session"
                line = Text(f"✓ allowed always: added rule {rule}{where}", style="green")
            case PermissionOption.REJECT_ONCE:
                line = Text("✗ denied once: the model is told you declined", style="yellow")
            case PermissionOption.REJECT_ALWAYS:
                line = Text(f"✗ denied always: {rule} is refused for the rest of this session", style="yellow")
            case _:
                assert_never(option)
        self._print(line)
        self._show_next_permission()

    def _show_next_permission(self) -> None:
        if self._shown_permission is not None or not self.permissions:
            return
        request = self.permissions[0]
        self._shown_permission = request.request_id
        self._print(permission_view(request, color=self.color))
        if not self.live_enabled:
            self._print(Text("answer y, a, n or N: "))
        if self.on_question is not None:
            self.on_question()

    # ------------------------------------------------------------ output

    def _text(self, text: str) -> None:
        # Only appends: finished blocks are printed at the next refresh, in one
        # batch, so the cost does not grow with the number of chunks.
        if not self.live_enabled:
            self._plain.append(text)
            return
        self._pending += text

    def commit_finished_blocks(self) -> None:
        """Print the Markdown blocks that can no longer change; keep the rest live."""
        cut = _safe_cut(self._pending) if "\n" in self._pending else 0
        if cut:
            block, self._pending = self._pending[:cut], self._pending[cut:]
            self._print_markdown(block)

    def _print_markdown(self, block: str) -> None:
        if not block.strip():
            return
        if self._blocks_in_message:
            self._print(Text(""))
        self._blocks_in_message += 1
        self._print(_markdown(block))

    def _end_thinking(self) -> None:
        if not self._thinking:
            return
        thought = " ".join("".join(self._thinking).split())
        self._thinking.clear()
        elapsed = time.monotonic() - self._thinking_started
        if len(thought) > THOUGHT_SUMMARY_CHARS:
            thought = thought[: THOUGHT_SUMMARY_CHARS - 1] + "…"
        self._print(Text(f"✻ thought for {elapsed:.1f}s: {thought}", style="dim italic"))

    def _finish_output(self) -> None:
        """Close the text block being streamed (a tool call or the end of the turn follows)."""
        self._end_thinking()
        self.flush()
        if not self._at_line_start:
            self.console.print()
            self._at_line_start = True
        if self._pending:
            block, self._pending = self._pending, ""
            self._print_markdown(block)

    def flush(self) -> None:
        """Plain mode: write the text streamed so far (called at each refresh)."""
        if self._plain:
            text = "".join(self._plain)
            self._plain.clear()
            self.console.print(text, end="", markup=False, highlight=False, soft_wrap=True)
            self._at_line_start = text.endswith("\n")

    def _print(self, renderable: RenderableType) -> None:
        if self._plain or not self._at_line_start:
            self._finish_output()
        if self.print_wrapper is not None and self._live is None:
            self.print_wrapper(lambda: self.console.print(renderable))
        else:
            self.console.print(renderable)

    def _set_activity(self, text: str, *, countdown_s: float | None = None) -> None:
        self._activity = text
        self._activity_since = time.monotonic()
        self._activity_until = None if countdown_s is None else self._activity_since + countdown_s

    def _clear_activity(self) -> None:
        self._activity = None
        self._activity_until = None

    def _end_turn(self) -> None:
        self.turn_active = False
        self._clear_activity()
        self._tools.clear()
        self.permissions.clear()
        self._shown_permission = None
        self.stop_live()

    # -------------------------------------------------------------- live

    def live_view(self) -> RenderableType:
        parts: list[RenderableType] = []
        if self._thinking:
            tail = "".join(self._thinking).rstrip().splitlines()[-THINKING_TAIL_LINES:]
            parts.append(Text("✻ " + "\n  ".join(tail), style="dim italic"))
        if self._pending.strip():
            lines = self._pending.splitlines()
            shown = "\n".join(lines[-LIVE_TAIL_LINES:])
            opener = _fence_opener(self._pending)
            if len(lines) > LIVE_TAIL_LINES and opener is not None:
                shown = opener + "\n" + shown
            parts.append(_markdown(shown))
        current = self.current_permission
        for running in self._tools.values():
            if current is None or running.started.call_id != current.call_id:
                running.spinner.update(text=running_tool_line(running.started, running.progress, step=running.step))
                parts.append(running.spinner)
        if self._activity is not None:
            now = time.monotonic()
            if self._activity_until is not None:
                label = f"{self._activity}: {max(0.0, self._activity_until - now):.0f}s"
            else:
                label = f"{self._activity}… {now - self._activity_since:.0f}s"
            self._activity_spinner.update(text=Text(label, style="dim"))
            parts.append(self._activity_spinner)
        if current is not None:
            parts.append(Text("  waiting for your answer: y / a / n / N", style="bold yellow"))
        return Group(*parts)

    def refresh(self) -> None:
        """Redraw the live region (called ~``REFRESH_PER_SECOND`` times a second)."""
        if not self.live_enabled:
            self.flush()
            return
        self.commit_finished_blocks()
        if not self.turn_active and not self._tools and self._activity is None and self._live is None:
            return
        if self._live is None:
            from rich.live import Live

            self._live = Live(console=self.console, auto_refresh=False, transient=True, redirect_stdout=False, redirect_stderr=False)
            self._live.start()
        self._live.update(self.live_view(), refresh=True)

    def stop_live(self) -> None:
        if self._live is not None:
            self._live.update(Text(""), refresh=True)
            self._live.stop()
            self._live = None

    def close(self) -> None:
        self._finish_output()
        self.stop_live()

    # ------------------------------------------------------------ extras

    def expand(self, back: int = 1) -> bool:
        """Print the ``back``-th most recent collapsed tool output whole (Ctrl-O,
        ``/expand [N]``); False (said) when there is no such output."""
        if not 1 <= back <= len(self.collapsed):
            have = len(self.collapsed)
            self._print(Text(
                "no collapsed tool output to expand" if not have else f"only {have} collapsed output(s) to expand",
                style="yellow",
            ))  # fmt: skip
            return False
        item = self.collapsed[-back]
        count = item.text.count("\n") + 1
        self._print(Text(f"── {item.title} · {count} lines ──", style="dim"))
        self._print(Text(item.text))
        return True

    def show_activity(self, text: str) -> None:
        """Progress for something slow outside a turn (session start, /compact)."""
        self._set_activity(text)

    def end_activity(self) -> None:
        self._clear_activity()
        if not self.turn_active:
            self.stop_live()


__all__ = ["REFRESH_PER_SECOND", "Renderer", "StatusInfo", "format_cost"]
