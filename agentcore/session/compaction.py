"""Context management: three thresholds and a compaction that keeps the thread.

Before every LLM call the session's :class:`Compactor` looks at the context
ratio (calibrated tokens / model window):

* **micro** (default 0.60): elide the bodies of big tool results older than
  the last few turns, leaving a one-line pointer. No LLM call.
* **soft** (0.70): start a single-flight background summary (one job at a
  time per :class:`Compactor`); it is written back with ``splice_prefix`` so
  messages appended meanwhile survive.
* **hard** (0.85): before the call, wait for the running job or compact now.

A compaction cuts at a user-turn boundary, keeps a recent tail verbatim
(always including the current request), and replaces the head with one
``SUMMARY`` message: a structured summary written by the model, followed by
every earlier user message quoted verbatim (within a budget), so explicit
instructions survive any number of compactions without trusting the model to
repeat them. An earlier summary is merged incrementally. The system prompt and
AGENTS.md are rebuilt for every request, so they are never at risk.

A failed summary falls back to dropping the oldest turns (never blocking the
user); three consecutive failures pause automatic compaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from contextlib import aclosing
from typing import Protocol

import attrs
import trio

from agentcore import tokens
from agentcore.errors import SessionError
from agentcore.events import CompactionStarted, ContextCompressed, FanoutEmitter, Notice, UsageCharged
from agentcore.history import ContextStatus, History
from agentcore.llm.base import LlmProvider, LlmRequest, ModelInfo, TextDelta, UsageChunk
from agentcore.llm.errors import ProviderError
from agentcore.messages import (
    AssistantMessage,
    Message,
    MessageKind,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolResultMessage,
    ToolUseBlock,
    Usage,
    UserMessage,
    thaw_json,
)

log = logging.getLogger(__name__)

MICRO_DEFAULT, SOFT_DEFAULT, HARD_DEFAULT = 0.60, 0.70, 0.85
MICRO_MIN_RESULT_TOKENS = 512  # smaller tool results are cheap enough to keep
MICRO_KEEP_TURNS = 3  # the latest turns keep their tool results whole
TAIL_SHARE = 0.10  # of the window kept verbatim at the end
TAIL_MIN_TOKENS, TAIL_MAX_TOKENS = 2_000, 16_000
QUOTED_USER_BUDGET_TOKENS = 4_000  # earlier user messages quoted verbatim in the summary
QUOTED_USER_MAX_CHARS = 2_000  # per message; longer ones are cut in the middle
SUMMARY_MAX_TOKENS = 4_096
TRANSCRIPT_RESULT_CHARS = 1_500  # per tool result in the text the summariser reads
MAX_CONSECUTIVE_FAILURES = 3
SUMMARY_HEADER = "[Summary of the earlier conversation, written when the context was compacted]"
QUOTED_HEADER = "## The user's messages so far (verbatim, oldest first)"

SUMMARY_SYSTEM = """\
You compress a coding agent's conversation so the agent can continue the work \
without the original messages. Be faithful and specific: keep file paths, \
names, commands, numbers and error messages exactly. Never invent anything."""

SUMMARY_TEMPLATE = """\
Write a summary of the conversation above for the agent to continue from. Use exactly these sections:

## Goal
What the user wants overall.
## Instructions and constraints
Every explicit instruction, preference and constraint the user gave, quoted exactly.
## Progress
What has been done so far, with results.
## Decisions
Choices made and why.
## Open questions
Anything unresolved or waiting on the user.
## Next steps
What the agent was about to do.
## Relevant files
Paths and what matters in each."""


class ThresholdError(SessionError, ValueError):
    pass


@attrs.frozen
class Thresholds:
    micro: float = MICRO_DEFAULT
    soft: float = SOFT_DEFAULT
    hard: float = HARD_DEFAULT

    def __attrs_post_init__(self) -> None:
        if not 0 < self.micro <= self.soft < self.hard <= 1:
            raise ThresholdError(
                f"context thresholds must satisfy 0 < micro <= soft < hard <= 1 "
                f"(got micro={self.micro}, soft={self.soft}, hard={self.hard})"
            )


@attrs.frozen
class CompactionReport:
    strategy: str
    tokens_before: int
    tokens_after: int
    messages_summarized: int
    duration_s: float
    still_above_soft: bool = False


def tail_budget(window: int) -> int:
    return int(min(max(window * TAIL_SHARE, TAIL_MIN_TOKENS), TAIL_MAX_TOKENS))


def _is_prompt(message: Message) -> bool:
    return isinstance(message, UserMessage) and message.kind is MessageKind.PROMPT


def choose_cut(messages: Sequence[Message], counts: Sequence[int], window: int) -> int:
    """Index where the verbatim tail starts: a user-turn boundary at or before
    the point where the tail budget runs out, never after the current request."""
    last_prompt = max((i for i, m in enumerate(messages) if _is_prompt(m)), default=0)
    budget = tail_budget(window)
    spent, start = 0, len(messages)
    while start > 0 and spent + counts[start - 1] <= budget:
        start -= 1
        spent += counts[start]
    boundaries = [i for i, m in enumerate(messages) if _is_prompt(m) and i <= min(start, last_prompt)]
    if boundaries and boundaries[-1] > 0:
        return boundaries[-1]
    # The budget ends inside the first turn: keep at least the current request.
    return last_prompt


def render_transcript(messages: Sequence[Message]) -> str:
    """The head as plain text for the summariser (tool results cut short)."""
    lines: list[str] = []
    for m in messages:
        match m:
            case UserMessage(kind=MessageKind.SUMMARY):
                lines.append(f"EARLIER SUMMARY:\n{m.text}")
            case UserMessage():
                lines.append(f"USER ({m.kind.value}): {m.text}")
            case AssistantMessage():
                for b in m.content:
                    if isinstance(b, TextBlock):
                        lines.append(f"ASSISTANT: {b.text}")
                    elif isinstance(b, ToolUseBlock):
                        lines.append(f"ASSISTANT CALLED {b.name} {thaw_json(b.input)}")
                    elif isinstance(b, ThinkingBlock) and b.text:
                        lines.append(f"ASSISTANT THOUGHT: {b.text[:TRANSCRIPT_RESULT_CHARS]}")
            case ToolResultMessage():
                for r in m.results:
                    text = r.text
                    if len(text) > TRANSCRIPT_RESULT_CHARS:
                        text = text[:TRANSCRIPT_RESULT_CHARS] + f" [... {len(text) - TRANSCRIPT_RESULT_CHARS} chars cut]"
                    lines.append(f"TOOL RESULT{' (error)' if r.is_error else ''}: {text}")
    return "\n\n".join(lines)


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]} [... {len(text) - limit} characters omitted ...] {text[-half:]}"


def quoted_user_messages(messages: Sequence[Message]) -> list[str]:
    """Every user prompt in ``messages`` (and those quoted by an earlier summary),
    oldest first; over the budget, the oldest and newest are kept."""
    quoted: list[str] = []
    for m in messages:
        if isinstance(m, UserMessage) and m.kind is MessageKind.SUMMARY and QUOTED_HEADER in m.text:
            section = m.text.split(QUOTED_HEADER, 1)[1]
            quoted.extend(q[2:] for q in section.strip().split("\n\n") if q.startswith("> "))
        elif _is_prompt(m) and m.text.strip():
            quoted.append(_shorten(m.text.strip(), QUOTED_USER_MAX_CHARS).replace("\n", "\n> "))
    # Keep the first request and as many of the latest as fit the budget.
    if not quoted:
        return quoted
    budget = QUOTED_USER_BUDGET_TOKENS - tokens.count_text(quoted[0])
    latest: list[str] = []
    for q in reversed(quoted[1:]):
        cost = tokens.count_text(q)
        if cost > budget and latest:
            break
        budget -= cost
        latest.append(q)
    return [quoted[0], *reversed(latest)]


def summary_message(summary: str, head: Sequence[Message]) -> UserMessage:
    quoted = quoted_user_messages(head)
    parts = [SUMMARY_HEADER, summary.strip()]
    if quoted:
        parts.append(QUOTED_HEADER + "\n\n" + "\n\n".join(f"> {q}" for q in quoted))
    return UserMessage((TextBlock("\n\n".join(parts)),), kind=MessageKind.SUMMARY)


def _elided(result: ToolResultBlock, n_tokens: int) -> ToolResultBlock:
    first = next((line for line in result.text.splitlines() if line.strip()), "")[:120]
    note = (
        f"[tool result elided to save context: {n_tokens:,} tokens; it began: {first!r}. "
        "Run the tool again if you need it.]"
    )
    return ToolResultBlock(result.tool_use_id, (TextBlock(note),), result.is_error)


class CompactionHost(Protocol):
    """What compaction reads from its session: the history it rewrites, the
    provider and model that write the summary, and where it reports."""

    provider: LlmProvider
    nursery: trio.Nursery  # the background summary runs here

    @property
    def history(self) -> History: ...

    @property
    def events(self) -> FanoutEmitter: ...

    @property
    def model(self) -> str: ...

    def model_info(self) -> ModelInfo: ...

    def context_status(self) -> ContextStatus: ...

    def record_usage(self, usage: Usage) -> float: ...


class PreCompactHook(Protocol):
    """The ``pre_compact`` hook point (:mod:`agentcore.session.hooks`)."""

    async def pre_compact(self, turn_id: str | None, trigger: str, focus: str | None) -> str | None: ...


class Compactor:
    """A session's compaction: its thresholds and its single background job (``session.compaction``)."""

    def __init__(
        self,
        session: CompactionHost,
        thresholds: Thresholds = Thresholds(),
        *,
        auto: bool = True,
        hooks: PreCompactHook,
    ) -> None:
        self.session = session
        self.thresholds = thresholds
        self.auto = auto
        self.hooks = hooks
        self.failures = 0
        self._job: trio.Event | None = None  # set when the running background job ends
        self._settled_at: int | None = None  # history length after a compaction that could not get below soft

    # ------------------------------------------------------------- checks

    @property
    def paused(self) -> bool:
        return self.failures >= MAX_CONSECUTIVE_FAILURES

    def ratio(self) -> float:
        return self.session.context_status().ratio

    async def before_llm_call(self, turn_id: str) -> None:
        if not self.auto:
            return
        if self.ratio() >= self.thresholds.micro:
            await self.micro(turn_id)
        ratio = self.ratio()
        if ratio < self.thresholds.soft or self.paused or self._settled_at == len(self.session.history):
            return
        if ratio >= self.thresholds.hard:
            if self._job is not None:
                await self._job.wait()
            if self.ratio() >= self.thresholds.hard:
                await self.compact(turn_id=turn_id, reason="hard")
        elif self._job is None:
            self._start_background(turn_id)

    async def on_context_overflow(self, turn_id: str) -> bool:
        """The provider said the prompt is too long: compact now. True if it shrank."""
        before = len(self.session.history)
        if self._job is not None:
            await self._job.wait()
        await self.micro(turn_id)
        report = await self.compact(turn_id=turn_id, reason="overflow")
        return report is not None or len(self.session.history) != before

    # -------------------------------------------------------------- micro

    async def micro(self, turn_id: str | None) -> int:
        """Elide big tool results older than the last turns. Returns tokens saved."""
        history = self.session.history
        messages = history.snapshot()
        prompts = [i for i, m in enumerate(messages) if _is_prompt(m)]
        if len(prompts) <= MICRO_KEEP_TURNS:
            return 0
        horizon = prompts[-MICRO_KEEP_TURNS]
        before = self.session.context_status().used
        replaced: list[Message] = []
        replacements: list[Message] = []
        for i in range(horizon):
            m = messages[i]
            if not isinstance(m, ToolResultMessage):
                continue
            new = []
            for r in m.results:
                n = tokens.count_block(r)
                new.append(_elided(r, n) if n > MICRO_MIN_RESULT_TOKENS and not r.text.startswith("[tool result elided") else r)
            if new != list(m.results):
                # Same id: the message is the same one, with its body elided.
                replacement = attrs.evolve(m, results=tuple(new))
                history.replace(i, replacement)
                replaced.append(m)
                replacements.append(replacement)
        if not replaced:
            return 0
        after = self.session.context_status().used
        await self.session.events.emit(
            ContextCompressed(
                turn_id, before, after, len(replaced), 0.0, strategy="micro",
                replaced_ids=tuple(m.id for m in replaced), replacement=tuple(replacements),
            )
        )
        return before - after

    # ------------------------------------------------------------ summary

    def _start_background(self, turn_id: str) -> None:
        done = trio.Event()
        self._job = done

        async def job() -> None:
            try:
                await self.compact(turn_id=turn_id, reason="soft")
            finally:
                self._job = None
                done.set()

        self.session.nursery.start_soon(job)

    async def compact(self, *, turn_id: str | None = None, reason: str = "manual", focus: str | None = None) -> CompactionReport | None:
        """Summarise the head of history. Returns None when there is nothing to cut."""
        history = self.session.history
        window = self.session.model_info().context_window
        messages = history.snapshot()
        counts = [history.message_tokens(i) for i in range(len(messages))]
        cut = choose_cut(messages, counts, window)
        if cut <= 0 or (cut == 1 and isinstance(messages[0], UserMessage) and messages[0].kind is MessageKind.SUMMARY):
            await self._settle(turn_id)
            return None
        await self.session.events.emit(CompactionStarted(turn_id, reason))
        started = time.monotonic()
        before = self.session.context_status().used
        head = messages[:cut]
        strategy = "summary"
        current = next((m.text for m in reversed(messages[cut:]) if _is_prompt(m)), "")
        focus = await self.hooks.pre_compact(turn_id, reason, focus)  # hooks may add instructions for the summary
        try:
            summary = await self._summarise(head, focus, current)
            self.failures = 0
        except (ProviderError, EmptySummary) as exc:
            self.failures += 1
            strategy = "drop"
            summary = f"(The summary could not be written: {exc}. {cut} earlier messages were dropped.)"
            log.warning("compaction summary failed (%d in a row): %s", self.failures, exc)
            if self.paused:
                await self.session.events.emit(
                    Notice("warning", "Automatic compaction is paused for this session after "
                           f"{MAX_CONSECUTIVE_FAILURES} failed summaries; use /compact to retry.")
                )
        replacement = summary_message(summary, head)
        if len(history) < cut or history[cut - 1].id != head[-1].id:
            return None  # history was rolled back meanwhile; the summary no longer fits
        history.splice_prefix(cut, [replacement])
        after = self.session.context_status().used
        still_above = after / window >= self.thresholds.soft if window else False
        report = CompactionReport(strategy, before, after, cut, time.monotonic() - started, still_above)
        self._settled_at = len(history) if still_above else None
        await self.session.events.emit(
            ContextCompressed(
                turn_id, before, after, cut, report.duration_s, summary=replacement.text, strategy=strategy,
                replaced_ids=tuple(m.id for m in head), replacement=(replacement,), still_above_soft=still_above,
            )
        )
        if still_above:
            await self.session.events.emit(
                Notice("warning", f"Context is still at {after / window:.0%} after compacting: the recent "
                       "messages alone are large. Consider /clear or a model with a larger window.")
            )
        return report

    async def _settle(self, turn_id: str | None) -> None:
        self._settled_at = len(self.session.history)

    async def _summarise(self, head: Sequence[Message], focus: str | None, current: str) -> str:
        instruction = SUMMARY_TEMPLATE
        if current:
            instruction += f"\n\nThe user's current request, kept verbatim after your summary:\n<current_request>\n{current}\n</current_request>"
        if focus:
            instruction += f"\n\nFocus the summary on: {focus}"
        prompt = f"<conversation>\n{render_transcript(head)}\n</conversation>\n\n{instruction}"
        request = LlmRequest(
            model=self.session.model,
            system=SUMMARY_SYSTEM,
            messages=(UserMessage((TextBlock(prompt),), kind=MessageKind.CONTEXT),),
            max_tokens=min(SUMMARY_MAX_TOKENS, self.session.model_info().max_output_tokens),
            tool_choice="none",
        )
        parts: list[str] = []
        usage = Usage()
        try:
            async with aclosing(self.session.provider.complete(request)) as stream:
                async for chunk in stream:
                    if isinstance(chunk, TextDelta):
                        parts.append(chunk.text)
                    elif isinstance(chunk, UsageChunk):
                        usage = usage + chunk.usage
        finally:
            if usage != Usage():  # summaries cost money too, also when cut short; journaled with the session's
                cost = self.session.record_usage(usage)
                with trio.CancelScope(shield=True):
                    await self.session.events.emit(UsageCharged(None, "compaction", self.session.model, usage, cost))
        text = "".join(parts).strip()
        if not text:
            raise EmptySummary("the model returned an empty summary")
        return text


class EmptySummary(SessionError):
    pass
