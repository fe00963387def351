"""The turn loop: stream the model, run its tool calls, repeat until it stops.

``TurnRunner.run`` is deliberately short; request building lives in
:mod:`agentcore.turn.request`, stream assembly in :class:`StreamAssembler` and
tool execution in :mod:`agentcore.turn.tool_calls`.

Invariants the runner keeps, even when cancelled mid-way:

* every ``tool_use`` in history gets a ``tool_result`` (synthesised
  "cancelled" results when the turn is cancelled while tools run);
* a message is appended to history only when complete;
* provider errors propagate (the session rolls the turn back), after the
  usage a failed call reports (``ProviderError.usage``: billed all the same)
  is charged to the session like any call's;
* a request offers hosted web search only when the provider can run it for
  the model; a *required* search that cannot run fails the turn
  (:class:`~agentcore.llm.web_search.WebSearchUnavailable`), it never runs without.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import aclosing
from typing import Protocol

import attrs
import trio

from agentcore.errors import SessionError
from agentcore.events import (
    AgentEvent,
    AssistantTextDelta,
    LlmCallFinished,
    MessageAppended,
    RetryScheduled,
    ThoughtDelta,
)
from agentcore.history import ContextStatus, History
from agentcore.llm.base import (
    LlmProvider,
    LlmRequest,
    ProviderStop,
    ReasoningEffort,
    RetryNotice,
    TextDelta,
    ThinkingDelta,
    WebSearch,
)
from agentcore.llm.errors import ContextOverflowError, ProviderError
from agentcore.llm.web_search import request_web_search
from agentcore.messages import (
    AssistantMessage,
    Message,
    StopReason,
    TextBlock,
    ToolResultBlock,
    ToolResultMessage,
    ToolUseBlock,
    Usage,
)
from agentcore.turn.request import repair_orphans
from agentcore.turn.stream import StreamAssembler

REQUEST_LIMIT_DEFAULT = 64  # LLM calls per turn; long agentic turns rarely need more
TOOL_CONCURRENCY_DEFAULT = 8  # parallel read-only tool calls
TOOL_RESULT_CHARS_DEFAULT = 40_000  # ~10k tokens: big enough for real files, small enough to protect context
CLEANUP_EMIT_TIMEOUT_S = 1.0  # how long a cancelled turn waits for a stalled subscriber
CANCELLED_RESULT = "Cancelled: the user interrupted the turn before this tool call finished."


class TurnInProgress(SessionError, RuntimeError):
    """``run_turn`` was called while a turn is already running in the session."""


class TurnAbortedError(SessionError, RuntimeError):
    """A fatal error ended the turn; history was rolled back to before it."""


@attrs.frozen
class TurnConfig:
    request_limit: int = REQUEST_LIMIT_DEFAULT
    tool_concurrency: int = TOOL_CONCURRENCY_DEFAULT
    max_tool_result_chars: int = TOOL_RESULT_CHARS_DEFAULT
    max_tokens: int | None = None
    temperature: float | None = None
    reasoning_effort: ReasoningEffort | None = None
    web_search: WebSearch | None = None  # hosted web search: None = off; required or when available


@attrs.frozen
class TurnOutcome:
    stop_reason: StopReason
    usage: Usage = Usage()
    text: str = ""  # the final assistant text of the turn
    requests: int = 0


class ToolExecutor(Protocol):
    async def run_calls(self, turn_id: str, calls: tuple[ToolUseBlock, ...], invalid: dict[str, str]) -> list[ToolResultBlock]: ...


class TurnHooks(Protocol):
    """Session services the runner calls around each LLM request."""

    def system_prompt(self) -> str: ...

    async def before_llm_call(self, turn_id: str) -> None:
        """Context management (compaction thresholds) before a request is built."""
        ...

    async def on_context_overflow(self, turn_id: str) -> bool:
        """The provider rejected the prompt as too long; True if context was freed."""
        ...

    def after_llm_call(self, usage: Usage, request: LlmRequest) -> tuple[float, ContextStatus]:
        """Record usage; return (call cost in USD, context status)."""
        ...

    @property
    def session_cost_usd(self) -> float: ...


Emit = Callable[[AgentEvent], Awaitable[None]]


FAIR_SHARE_CHUNKS = 32  # chunks handled between two yields to the scheduler


class TurnRunner:
    """Runs one turn against a history. Owned by the session for one ``run_turn``."""

    def __init__(
        self,
        *,
        provider: LlmProvider,
        model: str,
        history: History,
        tools: ToolExecutor,
        tool_specs: Callable[[], tuple],
        hooks: TurnHooks,
        emit: Emit,
        config: TurnConfig,
    ) -> None:
        self.provider = provider
        self.model = model
        self.history = history
        self.tools = tools
        self.tool_specs = tool_specs
        self.hooks = hooks
        self.emit = emit
        self.config = config
        self.usage = Usage()
        self.requests = 0
        self._pending_invalid: dict[str, str] = {}

    async def run(self, turn_id: str) -> TurnOutcome:
        last_text = ""
        while True:
            if self.requests >= self.config.request_limit:
                return self._outcome(StopReason.MAX_TURN_REQUESTS, last_text)
            await self.hooks.before_llm_call(turn_id)
            try:
                message, stop = await self._call_model(turn_id)
            except ContextOverflowError:
                # Compact hard and retry once; a second overflow ends the turn with the error.
                if not await self.hooks.on_context_overflow(turn_id):
                    raise
                message, stop = await self._call_model(turn_id)
            if message is not None:
                last_text = message.text or last_text
            calls = message.tool_uses if message is not None else ()
            if calls:
                await self._run_tools(turn_id, calls)
                continue
            match stop:
                case ProviderStop.MAX_TOKENS:
                    return self._outcome(StopReason.MAX_TOKENS, last_text)
                case ProviderStop.REFUSAL:
                    return self._outcome(StopReason.REFUSAL, last_text)
                case _:
                    return self._outcome(StopReason.END_TURN, last_text)

    def _outcome(self, reason: StopReason, text: str) -> TurnOutcome:
        return TurnOutcome(reason, self.usage, text, self.requests)

    async def _call_model(self, turn_id: str) -> tuple[AssistantMessage | None, ProviderStop | None]:
        cfg = self.config
        request = LlmRequest(
            model=self.model,
            system=self.hooks.system_prompt(),
            messages=repair_orphans(self.history.snapshot()),
            tools=self.tool_specs(),
            max_tokens=cfg.max_tokens,
            temperature=cfg.temperature,
            reasoning_effort=cfg.reasoning_effort,
            web_search=request_web_search(self.provider, self.model, cfg.web_search),
        )
        self.requests += 1
        assembler = StreamAssembler()
        complete = False
        try:
            async with aclosing(self.provider.complete(request)) as stream:
                handled = 0
                async for chunk in stream:
                    handled += 1
                    if handled % FAIR_SHARE_CHUNKS == 0:
                        # A burst (one network read can hold thousands of chunks) must not keep
                        # the other sessions of a server, or this session's clients, waiting.
                        await trio.lowlevel.checkpoint()
                    assembler.feed(chunk)
                    match chunk:
                        case TextDelta(text=text) if text:
                            await self.emit(AssistantTextDelta(turn_id, text))
                        case ThinkingDelta(text=text) if text:
                            await self.emit(ThoughtDelta(turn_id, text))
                        case RetryNotice(attempt=a, max_attempts=m, delay_s=d, reason=r, usage=billed):
                            await self.emit(RetryScheduled(turn_id, a, m, d, r))
                            if billed is not None:  # the failed attempt was billed: charged as its own call
                                await self._charge(turn_id, billed, request)
            complete = True
        except ProviderError as exc:
            if exc.usage is not None:  # the failed call was billed: count it before the turn unwinds
                await self._charge(turn_id, exc.usage, request)
            raise
        finally:
            # Cancelled mid-stream: keep what the user already saw (text), never half a tool call.
            message = assembler.finish(self.model, complete=complete)
            if message is not None and (complete or message.text):
                await self._append(turn_id, message)
        await self._charge(turn_id, assembler.usage, request)
        self._pending_invalid = assembler.invalid_args
        return message, assembler.stop

    async def _charge(self, turn_id: str, usage: Usage, request: LlmRequest) -> None:
        """Record one call's usage and cost (journaled through :class:`LlmCallFinished`)."""
        self.usage = self.usage + usage
        cost, status = self.hooks.after_llm_call(usage, request)
        await self.emit(
            LlmCallFinished(
                turn_id=turn_id,
                model=self.model,
                usage=usage,
                cost_usd=cost,
                context_used=status.used,
                context_window=status.window,
                session_cost_usd=self.hooks.session_cost_usd,
            )
        )

    async def _run_tools(self, turn_id: str, calls: tuple[ToolUseBlock, ...]) -> None:
        results: list[ToolResultBlock] = []
        try:
            results = await self.tools.run_calls(turn_id, calls, self._pending_invalid)
        finally:
            if len(results) != len(calls):  # cancelled: every call still gets a result
                done = {r.tool_use_id: r for r in results}
                results = [
                    done.get(c.id) or ToolResultBlock(c.id, (TextBlock(CANCELLED_RESULT),), is_error=True)
                    for c in calls
                ]
            await self._append(turn_id, ToolResultMessage(tuple(results)))

    async def _append(self, turn_id: str, message: Message) -> None:
        """Append and announce; also runs in cleanup after a cancel, hence the
        shield. Observers (the journal) run first and cannot block; a stalled
        stream subscriber is given a bounded time."""
        self.history.append(message)
        with trio.CancelScope(shield=True), trio.move_on_after(CLEANUP_EMIT_TIMEOUT_S):
            await self.emit(MessageAppended(turn_id, message))
