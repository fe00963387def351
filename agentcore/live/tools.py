"""Tool calls from a voice backend, run through the session's registry and
permission gate (:class:`SessionToolExecutor`, the same path text turns use).

Each tool runs in one of two modes:

* **blocking**: the conversation waits; the result goes back to the backend,
  which then answers.
* **background**: the call is acknowledged at once, so the model can speak a
  bridge phrase ("let me look that up") while the tool runs; the result is
  delivered as context when the user is silent and playback has drained. A
  result whose turn was interrupted by the user (barge-in) is stale and is
  dropped rather than spoken into a conversation that has moved on.

A blocking call may have a :class:`ToolTimeout`: when it is still running
after ``bridge_after_s`` a bridge phrase ("One moment...") is spoken, the
result is delivered when it is ready (after anything being said), and at
``limit_s`` the call is cancelled, an error result goes back to the model and
an apology is spoken. While blocking calls run the conversation shows the
``executing_tool`` state.
"""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import attrs
import trio

from agentcore.live.reducer import TranscriptReducer, parse_arguments
from agentcore.live.telemetry import SessionMetrics
from agentcore.messages import MessageKind, TextBlock, ToolResultBlock, ToolUseBlock
from agentcore.turn.tool_calls import SessionToolExecutor

log = logging.getLogger(__name__)

BACKGROUND_ACK = (
    "{name} is running in the background; its result will be delivered in a moment. "
    "Briefly tell the user you are working on it, then wait for the result."
)
BACKGROUND_RESULT = "Result of {name} (requested earlier, ran in the background):\n{text}"
TOOL_CONCURRENCY = 4  # parallel read-only calls in one voice response
TOOL_RESULT_CHARS = 8_000  # results are read aloud or summarised; keep them short
BRIDGE_AFTER_S = 2.0  # a silent pause longer than this sounds like a dropped call
TOOL_LIMIT_S = 20.0  # longer than this and the caller is better told it did not work
BRIDGE_PHRASE = "One moment, I'm still working on that."
APOLOGY_PHRASE = "Sorry, that is taking too long. Let's try something else."
TIMED_OUT_RESULT = "{name} did not finish within {limit:g} seconds and was cancelled; the user was told."


ResultObserver = Callable[[str, str, bool, str], Awaitable[None]]  # name, call id, ok, error text


class ToolMode(enum.Enum):
    BLOCKING = "blocking"
    BACKGROUND = "background"


@attrs.frozen
class ToolTimeout:
    """How long a blocking tool may run before a bridge phrase, and before giving up."""

    bridge_after_s: float = BRIDGE_AFTER_S
    limit_s: float = TOOL_LIMIT_S
    bridge: str = BRIDGE_PHRASE
    apology: str = APOLOGY_PHRASE


async def _never_speak(_text: str) -> bool:
    return False


async def _no_wait() -> None:
    return None


@attrs.define
class BackgroundJob:
    call: ToolUseBlock
    response_id: str  # the response that asked for it
    started_at: float
    bridge_response_id: str | None = None  # the response speaking the bridge phrase
    stale: bool = False
    scope: trio.CancelScope | None = None


class VoiceToolRunner:
    def __init__(
        self,
        session: Any,
        *,
        reducer: TranscriptReducer,
        metrics: SessionMetrics,
        backend: Callable[[], Any],
        deliverable: Callable[[], Awaitable[None]],
        modes: Mapping[str, ToolMode] | None = None,
        default_mode: ToolMode = ToolMode.BLOCKING,
        allowed: Callable[[str], str | None] = lambda _name: None,
        on_result: ResultObserver | None = None,
        timeouts: Mapping[str, ToolTimeout] | None = None,
        default_timeout: ToolTimeout | None = None,
        speak: Callable[[str], Awaitable[bool]] = _never_speak,
        response_idle: Callable[[], Awaitable[None]] = _no_wait,
        on_executing: Callable[[bool], None] = lambda _running: None,
    ) -> None:
        self._session = session
        self._reducer = reducer
        self._metrics = metrics
        self._backend = backend
        self._deliverable = deliverable
        self._modes = dict(modes or {})
        self._default = default_mode
        self._allowed = allowed  # returns why a tool is refused now, or None
        self._timeouts = dict(timeouts or {})
        self._default_timeout = default_timeout
        self._speak = speak  # says a phrase now; False when it could not (the model is talking)
        self._response_idle = response_idle  # returns when no response is being generated
        self._on_executing = on_executing  # blocking calls started (True) / all finished (False)
        self._on_result = on_result  # told about every finished call (failures feed the reactor)
        self.jobs: dict[str, BackgroundJob] = {}
        self._blocking: dict[str, trio.CancelScope] = {}
        self.executor = SessionToolExecutor(
            registry=session.registry,
            gate=session.permissions,
            make_context=self._session.tool_context,
            emit=session.events.emit,
            concurrency=TOOL_CONCURRENCY,
            max_result_chars=TOOL_RESULT_CHARS,
            spill_dir=session.spill_dir,
        )

    def mode(self, name: str) -> ToolMode:
        return self._modes.get(name, self._default)

    def timeout(self, names: Sequence[str]) -> ToolTimeout | None:
        """The timeout of a group of calls: the earliest bridge, the latest limit."""
        found = [t for t in (self._timeouts.get(n, self._default_timeout) for n in names) if t is not None]
        if not found:
            return None
        return attrs.evolve(found[0], bridge_after_s=min(t.bridge_after_s for t in found), limit_s=max(t.limit_s for t in found))

    @property
    def executing(self) -> bool:
        """Blocking calls are running: the model waits for their results."""
        return bool(self._blocking)

    @property
    def busy(self) -> bool:
        return bool(self.jobs) or bool(self._blocking)

    def _invalid(self, calls: Sequence[ToolUseBlock], raw: Mapping[str, str]) -> dict[str, str]:
        invalid: dict[str, str] = {}
        for call in calls:
            refused = self._allowed(call.name)
            if refused is not None:
                invalid[call.id] = refused
            elif parse_arguments(raw.get(call.id, "{}")) is None:
                invalid[call.id] = f"The arguments for {call.name} are not a JSON object: {raw.get(call.id, '')[:200]!r}"
        return invalid

    async def run_calls(self, nursery: trio.Nursery, response_id: str, calls: Sequence[ToolUseBlock], raw: Mapping[str, str]) -> None:
        """Start the tool calls of a completed response."""
        invalid = self._invalid(calls, raw)
        self._metrics.tool_calls += len(calls)
        background = [c for c in calls if self.mode(c.name) is ToolMode.BACKGROUND and c.id not in invalid]
        blocking = [c for c in calls if c not in background]
        backend = self._backend()
        for index, call in enumerate(background):
            ack = BACKGROUND_ACK.format(name=call.name)
            await self._reducer.tool_result(call.id, (TextBlock(ack),))
            last = index == len(background) - 1 and not blocking
            await backend.submit_tool_output(call.id, call.name, ack, respond=last)
            job = BackgroundJob(call, response_id, trio.current_time())
            self.jobs[call.id] = job
            nursery.start_soon(self._run_background, job)
        if blocking:
            scope = trio.CancelScope()
            for call in blocking:
                self._blocking[call.id] = scope
            self._on_executing(True)
            nursery.start_soon(self._run_blocking, scope, response_id, blocking, invalid)

    async def _run_blocking(self, scope: trio.CancelScope, response_id: str, calls: list[ToolUseBlock], invalid: dict[str, str]) -> None:
        started = trio.current_time()
        results: list[ToolResultBlock] | None = None
        timeout = self.timeout([c.name for c in calls])
        try:
            with scope:
                async with trio.open_nursery() as bridge:
                    if timeout is not None:
                        bridge.start_soon(self._bridge_later, timeout)
                    with trio.move_on_after(timeout.limit_s if timeout is not None else math.inf):
                        results = await self.executor.run_calls(response_id, tuple(calls), invalid)
                    bridge.cancel_scope.cancel()
        finally:
            for call in calls:
                self._blocking.pop(call.id, None)
            if not self._blocking:
                self._on_executing(False)
        if scope.cancelled_caught:
            for call in calls:
                await self._reducer.tool_result(call.id, (TextBlock("Cancelled by the voice backend."),), is_error=True)
            return
        backend = self._backend()
        if results is None:  # the hard limit: an error result for the model, an apology for the user
            assert timeout is not None
            await self._give_up(backend, calls, timeout)
            return
        elapsed_ms = (trio.current_time() - started) * 1000
        await self._response_idle()  # a bridge phrase may still be generating: answer after it
        for index, (call, result) in enumerate(zip(calls, results, strict=True)):
            self._metrics.tool_latency_ms.append(elapsed_ms)
            self._metrics.tool_failures += int(result.is_error)
            await self._reducer.tool_result(call.id, result.content, is_error=result.is_error)
            await backend.submit_tool_output(call.id, call.name, result.text, respond=index == len(calls) - 1)
            await self._report(call, result)

    async def _give_up(self, backend: Any, calls: list[ToolUseBlock], timeout: ToolTimeout) -> None:
        self._metrics.tool_timeouts += 1
        self._metrics.tool_failures += len(calls)
        for call in calls:
            text = TIMED_OUT_RESULT.format(name=call.name, limit=timeout.limit_s)
            await self._reducer.tool_result(call.id, (TextBlock(text),), is_error=True)
            await backend.submit_tool_output(call.id, call.name, text, respond=False)
            if self._on_result is not None:
                await self._on_result(call.name, call.id, False, text)
        await self._response_idle()
        await self._speak(timeout.apology)

    async def _bridge_later(self, timeout: ToolTimeout) -> None:
        await trio.sleep(timeout.bridge_after_s)
        if await self._speak(timeout.bridge):
            self._metrics.bridge_phrases += 1

    async def _run_background(self, job: BackgroundJob) -> None:
        try:
            with trio.CancelScope() as scope:
                job.scope = scope
                result = await self.executor.run_one(job.response_id, job.call, None)
                self._metrics.tool_latency_ms.append((trio.current_time() - job.started_at) * 1000)
                self._metrics.tool_failures += int(result.is_error)
                await self._report(job.call, result)
                await self._deliverable()
                if job.stale:
                    self._metrics.stale_results_dropped += 1
                    log.info("dropping stale background result of %s", job.call.name)
                    return
                text = BACKGROUND_RESULT.format(name=job.call.name, text=result.text)
                await self._reducer.add_context(text, kind=MessageKind.BACKGROUND)
                await self._backend().inject_context(text, respond=True)
        finally:
            self.jobs.pop(job.call.id, None)

    async def _report(self, call: ToolUseBlock, result: ToolResultBlock) -> None:
        if self._on_result is not None:
            await self._on_result(call.name, call.id, not result.is_error, result.text if result.is_error else "")

    def on_response_started(self, response_id: str) -> None:
        for job in self.jobs.values():
            if job.bridge_response_id is None and response_id != job.response_id:
                job.bridge_response_id = response_id

    def mark_interrupted(self, response_ids: set[str]) -> None:
        """A barge-in cut these responses short: their background work is stale."""
        for job in self.jobs.values():
            if job.response_id in response_ids or job.bridge_response_id in response_ids:
                job.stale = True

    def cancel(self, call_ids: Sequence[str]) -> None:
        for call_id in call_ids:
            job = self.jobs.get(call_id)
            if job is not None and job.scope is not None:
                job.stale = True
                job.scope.cancel()
            scope = self._blocking.get(call_id)
            if scope is not None:
                scope.cancel()
