"""A running sub-agent as its parent sees it: :class:`ChildActivity`.

It observes the child session's events (a synchronous observer: it never lags
behind the child and never blocks it) and keeps what the parent shows of it:

* ``step`` — one line saying what the child is doing now (waiting for its
  model, thinking, writing, running a tool …), replaced as it changes;
* the *transcript* — append-only readable text: each tool call (``→ title``
  when it starts, ``✓`` / ``✗`` when it ends) and the text the child streams;
  :meth:`take` hands out what is new since the last call, for the progress of
  the parent's ``spawn_agent`` call;
* the last messages of the child's conversation with its model, for the
  peek of ``inspect_background_task`` (:meth:`recent_messages`).

Invariant: everything it hands out has passed through the parent's redactor
(streamed text through a stream redactor, so a secret split across chunks is
still caught) and is bounded — a step line, a message, the number of messages
kept — so neither a progress report nor a peek can carry a secret or grow
without limit. It holds strings only, never the child session, so a finished
task may keep it for as long as the task table lives.
"""

from __future__ import annotations

import json
from collections import deque

import trio

from agentcore.background import PEEK_MESSAGES_MAX
from agentcore.events import (
    AgentEvent,
    AssistantTextDelta,
    CompactionStarted,
    LlmCallFinished,
    MessageAppended,
    RetryScheduled,
    ThoughtDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnAborted,
    TurnEnded,
    TurnStarted,
)
from agentcore.messages import AssistantMessage, Message, TextBlock, ToolResultMessage, ToolUseBlock, UserMessage
from agentcore.secrets import NO_REDACTION, Redactor

STEP_MAX_CHARS = 100  # of the one-line current step
ERROR_LINE_CHARS = 120  # of a failed child tool call shown in the transcript
PEEK_MESSAGE_CHARS = 1_500  # of one message in a peek (its head; the rest is elided)
PEEK_TOTAL_CHARS = 8_000  # of a whole peek; older messages are dropped first
TOOL_ARGS_CHARS = 200  # of a tool call's arguments shown in a peek


def one_line(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"… [{len(text) - limit:,} more characters]"


class ChildActivity:
    """What the parent sees of one sub-agent; feed it with :meth:`observe`."""

    def __init__(self, profile: str, model: str, *, redactor: Redactor = NO_REDACTION) -> None:
        self.profile = profile
        self.model = model
        self._redactor = redactor
        self._stream = redactor.stream()
        self.step = "starting"
        self.requests = 0
        self.tool_calls = 0
        self.finished = False
        self._running: dict[str, str] = {}  # call id -> title, of the child's tool calls still running
        self._new: list[str] = []  # transcript not yet taken
        self._step_taken: str | None = None
        self._at_line_start = True
        self._line = ""  # the text line being streamed (or the last one), redacted: for the step
        self._partial = ""  # the unfinished line of the streamed text
        self._messages: deque[str] = deque(maxlen=PEEK_MESSAGES_MAX)
        self._changed = trio.Event()

    # ------------------------------------------------------------ feeding

    def observe(self, event: AgentEvent) -> None:
        """A child event (register as an observer of the child's emitter)."""
        match event:
            case TurnStarted():
                self._set_step(f"waiting for {self.model}")
            case AssistantTextDelta(text=text):
                self._text(self._stream.feed(text))
                self._set_step(f"writing: {self._line}" if self._line.strip() else "writing")
            case ThoughtDelta():
                self._set_step("thinking")
            case ToolCallStarted(call_id=call_id, title=title, name=name):
                shown = self._redact_line(title or name)
                self._running[call_id] = shown
                self._line_break()
                self._append(f"→ {shown}\n")
                self._running_step()
            case ToolCallFinished(call_id=call_id, name=name, result=result, duration_s=duration):
                self._running.pop(call_id, None)
                self.tool_calls += 1
                if result.is_error:
                    first = next((line for line in result.text_content.splitlines() if line.strip()), "")
                    self._append(f"  ✗ {name}: {self._redact_line(first, ERROR_LINE_CHARS)}\n")
                else:
                    self._append(f"  ✓ {name} ({duration:.1f}s)\n")
                self._running_step()
            case LlmCallFinished():
                self.requests += 1
            case RetryScheduled(attempt=attempt, max_attempts=most, delay_s=delay):
                self._set_step(f"retrying its model request ({attempt}/{most}) in {delay:.0f}s")
            case CompactionStarted():
                self._set_step("compacting its context")
            case MessageAppended(message=message):
                self._messages.append(self._render_message(message))
                if isinstance(message, AssistantMessage):
                    self._line_break()
            case TurnEnded(stop_reason=reason):
                self.finish(f"finished ({reason.value})")
            case TurnAborted(error=error):
                self.finish(f"failed: {error}")
            case _:
                return

    def finish(self, step: str) -> None:
        """The child's turn is over (also called when it was cancelled)."""
        if self.finished:
            return
        self.finished = True
        self._text(self._stream.flush())
        self._running.clear()
        self._set_step(step)

    # ------------------------------------------------------------ reading

    def take(self) -> tuple[str, str | None]:
        """The transcript text new since the last call, and the step if it changed."""
        text = "".join(self._new)
        self._new.clear()
        step = self.step if self.step != self._step_taken else None
        self._step_taken = self.step
        return text, step

    async def wait_changed(self) -> None:
        await self._changed.wait()
        self._changed = trio.Event()

    def recent_messages(self, count: int) -> tuple[str, ...]:
        """The child's last ``count`` messages (newest last), one rendered string
        each, redacted and cut; at most ``PEEK_TOTAL_CHARS`` in all."""
        if count <= 0:
            return ()
        picked: list[str] = []
        total = 0
        for rendered in reversed(list(self._messages)[-count:]):
            if picked and total + len(rendered) > PEEK_TOTAL_CHARS:
                break
            picked.append(rendered[:PEEK_TOTAL_CHARS])
            total += len(rendered)
        return tuple(reversed(picked))

    @property
    def summary(self) -> str:
        """The step with the counts, e.g. ``running grep TODO (2 requests, 3 tool calls)``."""
        return f"{self.step} ({self.requests} model requests, {self.tool_calls} tool calls)"

    # ------------------------------------------------------------ internals

    def _signal(self) -> None:
        self._changed.set()

    def _set_step(self, step: str) -> None:
        step = one_line(step, STEP_MAX_CHARS)
        if step != self.step:
            self.step = step
            self._signal()

    def _running_step(self) -> None:
        if not self._running:
            self._set_step(f"waiting for {self.model}")
        elif len(self._running) == 1:
            self._set_step(f"running {next(iter(self._running.values()))}")
        else:
            self._set_step(f"running {len(self._running)} tools: " + ", ".join(self._running.values()))

    def _append(self, text: str) -> None:
        if text:
            self._new.append(text)
            self._at_line_start = text.endswith("\n")
            self._signal()

    def _text(self, text: str) -> None:
        if not text:
            return
        self._append(text)
        # For the step: the line being written, or the last one written when a new one has not begun.
        *complete, self._partial = (self._partial + text).split("\n")
        written = [line for line in complete if line.strip()]
        if written:
            self._line = written[-1][-STEP_MAX_CHARS:]
        if self._partial.strip():
            self._line = self._partial[-STEP_MAX_CHARS:]
        self._partial = self._partial[-STEP_MAX_CHARS:]

    def _line_break(self) -> None:
        flushed = self._stream.flush()
        if flushed:
            self._append(flushed)
        if not self._at_line_start:
            self._append("\n")
        self._line = self._partial = ""

    def _redact_line(self, text: str, limit: int = STEP_MAX_CHARS) -> str:
        return one_line(self._redactor.redact(text), limit)

    def _render_message(self, message: Message) -> str:
        """One message as a peek shows it: its role, then its text, redacted and cut."""
        match message:
            case UserMessage():
                parts = [b.text if isinstance(b, TextBlock) else "[image]" for b in message.content]
                body = "[user] " + "\n".join(parts)
            case AssistantMessage():
                lines = [message.text] if message.text else []
                for block in message.content:
                    if isinstance(block, ToolUseBlock):
                        args = json.dumps(dict(block.input), ensure_ascii=False, default=str)
                        lines.append(f"→ {block.name} {one_line(args, TOOL_ARGS_CHARS)}")
                body = "[assistant] " + "\n".join(lines)
            case ToolResultMessage():
                results = [
                    ("✗ " if r.is_error else "") + (r.text or "(no text)") for r in message.results
                ]
                body = "[tool results] " + "\n".join(results)
            case _:
                body = f"[{type(message).__name__}]"
        return _cut(self._redactor.redact(body), PEEK_MESSAGE_CHARS)
