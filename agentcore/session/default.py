"""Sessions: one conversation with its history, tools, gate and events.

A session owns a trio nursery for its lifetime (background tasks, MCP servers)
and runs at most one turn at a time. ``run_turn`` commits the prompt, hands a
:class:`TurnRunner` everything it needs and maps the outcome:

* cancelled (``Session.cancel``) -> ``StopReason.CANCELLED``, history consistent;
* a fatal provider error -> history rolled back to before the prompt,
  :class:`TurnAborted` emitted and :class:`TurnAbortedError` raised.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio

from agentcore import tokens
from agentcore.background import BackgroundTasks
from agentcore.events import (
    AgentEvent,
    FanoutEmitter,
    HistoryRolledBack,
    MessageAppended,
    ModeChanged,
    ModelChanged,
    Notice,
    SavingStopped,
    PlanEntry,
    PlanUpdated,
    PromptCommitted,
    TitleChanged,
    TurnAborted,
    TurnEnded,
    TurnStarted,
)
from agentcore.history import ContextStatus, History
from agentcore.llm.base import LlmProvider, LlmRequest, ModelInfo
from agentcore.llm.capabilities import capability_notices
from agentcore.llm.errors import ProviderError
from agentcore.llm.registry import ProviderSelectionError
from agentcore.llm.web_search import check_web_search
from agentcore.messages import (
    AssistantMessage,
    MessageKind,
    StopReason,
    TextBlock,
    ToolResultBlock,
    ToolResultMessage,
    Usage,
    UserMessage,
    new_id,
)
from agentcore.permissions import PermissionGate, PermissionMode
from agentcore.prompt import resolve_system_prompt
from agentcore.tools.backends import FsBackend, ShellBackend
from agentcore.errors import SessionError
from agentcore.session.base import (
    Prompt,
    ProviderSelection,
    PromptTooLarge,
    SessionClosed,
    SessionCreateInfo,
    SessionPolicy,
    WhenBusy,
)
from agentcore.secrets import NO_REDACTION, Redactor
from agentcore.session.hooks import HookPoints, NoHooks
from agentcore.session.durable import DurableState
from agentcore.session.state import PendingTurn, PendingTurnResolved, interrupted_result_text
from agentcore.tools.base import ToolContext, ToolProgress
from agentcore.tools.registry import CompositeRegistry, tool_specs
from agentcore.tools.workspace import Workspace
from agentcore.turn.runner import TurnAbortedError, TurnInProgress, TurnOutcome, TurnRunner
from agentcore.turn.tool_calls import NoToolCallWatcher, SessionToolExecutor, ToolCallWatcher

if TYPE_CHECKING:
    from agentcore.mcp.manager import McpManager
    from agentcore.session.compaction import CompactionReport, Compactor
    from agentcore.session.subagents import SessionAgents, SessionOpener

PROMPT_MAX_WINDOW_FRACTION = 0.8  # of the context window; the rest stays for system prompt, tools, history, answer

log = logging.getLogger(__name__)

TITLE_MAX_CHARS = 60  # fits a session list row and an editor tab


def _to_message(prompt: Prompt) -> UserMessage:
    if isinstance(prompt, UserMessage):
        return prompt
    if isinstance(prompt, str):
        return UserMessage(content=(TextBlock(prompt),))
    return UserMessage(content=tuple(prompt))


class NoPendingTurn(SessionError, LookupError):
    """``run_pending`` on a session without an interrupted turn."""


def _interrupted_results(pending: PendingTurn) -> ToolResultMessage | None:
    """Error results for the last assistant message's tool calls when their
    results never reached history (the process died while they ran)."""
    if not pending.messages or not isinstance(pending.messages[-1], AssistantMessage):
        return None
    uses = pending.messages[-1].tool_uses
    if not uses:
        return None
    calls = {call.call_id: call for call in pending.interrupted_tools}
    blocks = tuple(
        ToolResultBlock(use.id, (TextBlock(interrupted_result_text(calls.get(use.id), use.name)),), is_error=True)
        for use in uses
    )
    return ToolResultMessage(blocks)


def make_title(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TITLE_MAX_CHARS else line[: TITLE_MAX_CHARS - 1].rstrip() + "…"


class DefaultSession(DurableState):
    def __init__(
        self,
        *,
        session_id: str,
        info: SessionCreateInfo,
        workspace: Workspace,
        provider: LlmProvider,
        provider_name: str,
        model: str,
        history: History,
        registry: CompositeRegistry,
        gate: PermissionGate,
        emitter: FanoutEmitter,
        policy: SessionPolicy,
        fs: FsBackend,
        shell: ShellBackend,
        spill_dir: Path,
        nursery: trio.Nursery,
        background: BackgroundTasks | None = None,
        provider_resolver: Callable[..., Any] | None = None,
        title: str | None = None,
        plan: tuple[PlanEntry, ...] = (),
        redactor: Redactor = NO_REDACTION,
    ) -> None:
        self._id = session_id
        self.info = info
        self.workspace = workspace
        self.provider = provider
        self.provider_name = provider_name
        self._model = model
        self._history = history
        self.registry = registry
        self._gate = gate
        self._events = emitter
        self.policy = policy
        self.fs = fs
        self.shell = shell
        self.spill_dir = spill_dir
        self.nursery = nursery
        self.background = background
        self._provider_resolver = provider_resolver
        self._title = title
        self.redactor = redactor  # the agent's own key values, kept out of every tool result and progress report
        self.plan: tuple[PlanEntry, ...] = plan
        self.usage = Usage()
        self.cost_usd = 0.0
        self.extra_prompt_sections: dict[str, str] = {}  # e.g. MCP server instructions, by name
        # Metadata, control state, revisions (session/durable.py) and the pending turn:
        # every change goes to the state listeners (the journal) at once.
        self._init_durable_state(session_id)
        self._carried_outcomes: list[str] = []  # those the running turn took (restored if it aborts)
        self.turn_config = policy.turn
        self._turn_scope: trio.CancelScope | None = None
        self._turn_running = False
        self._idle = trio.Event()
        self._idle.set()
        self._closed = False
        self.selection: ProviderSelection | None = None  # with the reason it was picked
        self.startup_notices: list[Notice] = []  # for frontends to show once (e.g. the echo banner)
        self.saving_problem: str | None = None  # why a store stopped recording this session, if it did
        self.mcp: McpManager | None = None  # set by the MCP tool factory when the session has servers
        self._close_callbacks: list[Callable[[], Any]] = []
        self._idle_callbacks: list[Callable[[], Any]] = []
        # The satellites the core wires in with attach():
        self.core: SessionOpener | None = None  # sub-agents open through it
        self.compaction: Compactor | None = None
        self.agents: SessionAgents | None = None  # sub-agents and background outcomes
        self.hooks: HookPoints = NoHooks()
        self.checkpoints: ToolCallWatcher = NoToolCallWatcher()  # snapshots around file changes (core wiring)
        emitter.add_observer(self._observe)

    def attach(
        self, *, core: SessionOpener, compaction: Compactor, hooks: HookPoints, agents: SessionAgents
    ) -> None:
        """The core's wiring: the satellites built for this session (they read it
        through their own narrow protocols)."""
        self.core = core
        self.compaction = compaction
        self.hooks = hooks
        self.agents = agents

    # ----------------------------------------------------------- properties

    @property
    def id(self) -> str:
        return self._id

    @property
    def cwd(self) -> Path:
        return self.workspace.cwd

    @property
    def history(self) -> History:
        return self._history

    @property
    def events(self) -> FanoutEmitter:
        return self._events

    @property
    def permissions(self) -> PermissionGate:
        return self._gate

    @property
    def mode(self) -> PermissionMode:
        return self._gate.mode

    @property
    def model(self) -> str:
        return self._model

    @property
    def title(self) -> str | None:
        return self._title

    @property
    def turn_running(self) -> bool:
        return self._turn_running

    def model_info(self) -> ModelInfo:
        return self.provider.model_info(self._model)

    # --------------------------------------------------------------- turns

    async def run_turn(self, prompt: Prompt, *, when_busy: WhenBusy = WhenBusy.RAISE) -> TurnOutcome:
        """Run one turn. If a turn is running (a frontend's or an autonomous one
        reacting to a background task), ``when_busy`` decides: raise
        :class:`TurnInProgress`, wait for it, or cancel it and then run."""
        await self._wait_for_slot(when_busy)
        message = _to_message(prompt)
        prompt_tokens = await self._check_fits(message)
        self._take_slot()
        turn_id = new_id("turn")
        try:
            if self._pending is not None:  # a new turn replaces the one cut off (it stays in the journal)
                await self._discard_pending()
            mark = len(self._history)  # compaction during the turn may move it; see _rollback_point
            await self._events.emit(TurnStarted(turn_id))
            # user_prompt_submit hooks may block the prompt or add context
            verdict = await self.hooks.user_prompt_submit(turn_id, message)
            if verdict.blocked:
                outcome = TurnOutcome(StopReason.REFUSAL)
                await self._events.emit(TurnEnded(turn_id, outcome.stop_reason, outcome.usage))
                return outcome
            first_id = await self._commit_prompt(turn_id, message, verdict.context, prompt_tokens=prompt_tokens)
            return await self._drive(turn_id, first_id, mark)
        finally:
            self._release_slot()

    async def _wait_for_slot(self, when_busy: WhenBusy) -> None:
        while self._turn_running:
            match when_busy:
                case WhenBusy.RAISE:
                    raise TurnInProgress(f"session {self.id} is already running a turn; cancel it or wait")
                case WhenBusy.PREEMPT:
                    self.cancel()
                case WhenBusy.WAIT:
                    pass
            await self._idle.wait()
        if self._closed:
            raise SessionClosed(f"session {self.id} is closed")

    def _take_slot(self) -> None:
        self._turn_running = True
        self._idle = trio.Event()

    def _release_slot(self) -> None:
        self._turn_scope = None
        self._turn_running = False
        self._idle.set()
        self._gate.cancel_pending()
        for callback in tuple(self._idle_callbacks):  # e.g. a turn for queued background outcomes
            callback()

    async def _drive(self, turn_id: str, first_id: str | None, mark: int, *, resumed: PendingTurn | None = None) -> TurnOutcome:
        """Run the turn loop on the history as it stands; map its end to an outcome.
        A fatal provider error rolls the turn back (a continued turn becomes pending again)."""
        runner = self._runner()
        with trio.CancelScope() as scope:
            self._turn_scope = scope
            try:
                outcome = await runner.run(turn_id)
                outcome = await self.hooks.stop(turn_id, runner, outcome)  # may send the agent back to work
            except ProviderError as exc:
                if first_id is None:
                    point = min(mark, len(self._history))
                else:
                    point = self._rollback_point(first_id, mark)
                # Outcomes this turn carried were rolled back with it: the next turn gets them.
                if self._carried_outcomes:
                    self.pending_outcomes[:0] = self._carried_outcomes
                self._carried_outcomes = []
                await self._abort(turn_id, point, exc)
                if resumed is not None:
                    self._pending = resumed  # still there to continue (or discard) later
                raise TurnAbortedError(str(exc)) from exc
        if scope.cancelled_caught:
            outcome = TurnOutcome(StopReason.CANCELLED, runner.usage, "", runner.requests)
        await self._events.emit(TurnEnded(turn_id, outcome.stop_reason, outcome.usage))
        return outcome

    async def _check_fits(self, message: UserMessage) -> int | None:
        """Refuse a prompt that alone would fill the model's context window. Only
        a prompt long enough to possibly not fit is tokenized (a few per session,
        in a worker thread); its count is returned for the history to reuse."""
        window = self.model_info().context_window
        budget = int(window * PROMPT_MAX_WINDOW_FRACTION)
        if tokens.prompt_chars(message) <= budget:
            return None  # a token is at least one character: this cannot be over, no need to count
        count = await tokens.count_prompt_off_loop(message)
        if count > budget:
            raise PromptTooLarge(
                f"the prompt is about {count:,} tokens; {self.model} takes at most {window:,} in all, and a prompt "
                f"may use {budget:,} of them. Put the text in a file and ask the agent to read the parts it needs."
            )
        return count

    def _rollback_point(self, first_id: str, mark: int) -> int:
        """Where this turn's messages start now. Compaction may have rewritten the
        prefix meanwhile, but it always keeps the current request verbatim."""
        for index in range(len(self._history) - 1, -1, -1):
            if self._history[index].id == first_id:
                return index
        return min(mark, len(self._history))

    async def _commit_prompt(
        self, turn_id: str, message: UserMessage, context: Sequence[UserMessage] = (), *, prompt_tokens: int | None = None
    ) -> str:
        """Append the prompt (after queued background outcomes, before ``context``
        from hooks); returns the id of the first message this turn added."""
        first_id = message.id
        self._carried_outcomes = []
        if self.pending_outcomes:
            outcomes, self.pending_outcomes = self.pending_outcomes, []
            self._carried_outcomes = outcomes
            note = UserMessage((TextBlock("\n\n".join(outcomes)),), kind=MessageKind.BACKGROUND)
            first_id = note.id
            self._history.append(note)
            await self._events.emit(MessageAppended(turn_id, note))
        if prompt_tokens is None:
            prompt_tokens = await tokens.count_prompt_off_loop(message)
        self._history.append(message, count=prompt_tokens)
        await self._events.emit(PromptCommitted(turn_id, message))
        await self._events.emit(MessageAppended(turn_id, message))
        for extra in context:
            self._history.append(extra)
            await self._events.emit(MessageAppended(turn_id, extra))
        if self._title is None and message.kind is MessageKind.PROMPT and message.text.strip():
            self._title = make_title(message.text)
            await self._events.emit(TitleChanged(self._title))
        return first_id

    async def _abort(self, turn_id: str, mark: int, exc: ProviderError) -> None:
        self._history.truncate(mark)
        with trio.CancelScope(shield=True):
            await self._events.emit(HistoryRolledBack(turn_id, mark))
            await self._events.emit(TurnAborted(turn_id, str(exc), type(exc).__name__, exc.retryable))

    def _runner(self) -> TurnRunner:
        executor = SessionToolExecutor(
            registry=self.registry,
            gate=self._gate,
            make_context=self.tool_context,
            emit=self._events.emit,
            concurrency=self.turn_config.tool_concurrency,
            max_result_chars=self.turn_config.max_tool_result_chars,
            spill_dir=self.spill_dir,
            hooks=self.hooks,
            redactor=self.redactor,
            watcher=self.checkpoints,
        )
        return TurnRunner(
            provider=self.provider,
            model=self._model,
            history=self._history,
            tools=executor,
            tool_specs=lambda: tool_specs(self.registry),
            hooks=self,
            emit=self._events.emit,
            config=self.turn_config,
        )

    def fork_replacing(self, turn: int, prompt: Any) -> Any:
        """Edit and retry: a fork of this session ending just before prompt number
        ``turn`` (1 = the oldest in history), recorded with ``reason: "edit"``.
        Returns an :class:`~agentcore.checkpoints.EditedFork`; open its
        ``session_id`` and run its ``prompt`` to continue from there."""
        from agentcore.checkpoints.rewind import fork_replacing

        return fork_replacing(self, turn, prompt)

    def cancel(self) -> None:
        """Cancel the running turn (if any). ``run_turn`` returns ``CANCELLED``."""
        self._gate.cancel_pending()
        if self._turn_scope is not None:
            self._turn_scope.cancel()

    # --------------------------------------------------- TurnHooks protocol

    def system_prompt(self) -> str:
        return resolve_system_prompt(
            cwd=self.cwd,
            frontend=self.info.frontend,
            profile_prompt=self.policy.prompt,
            inherit_project_prompt=self.policy.inherit_project_prompt,
            additional_dirs=self.workspace.additional,
            extra_sections=tuple(self.extra_prompt_sections.values()),
        )

    async def before_llm_call(self, turn_id: str) -> None:
        await self.registry.wait_ready()  # tools still starting (MCP servers) are in the request
        if self.compaction is not None:
            await self.compaction.before_llm_call(turn_id)

    async def on_context_overflow(self, turn_id: str) -> bool:
        return self.compaction is not None and await self.compaction.on_context_overflow(turn_id)

    def record_usage(self, usage: Usage) -> float:
        """Add a call's usage to the session totals; returns its cost in USD."""
        cost = self.model_info().pricing.cost(usage)
        self.usage = self.usage + usage
        self.cost_usd += cost
        return cost

    def after_llm_call(self, usage: Usage, request: LlmRequest) -> tuple[float, ContextStatus]:
        cost = self.record_usage(usage)
        system_tokens = _count_cached(request.system)
        tool_tokens = _count_specs(request.tools)
        if usage.prompt_tokens:
            self._history.calibrate(
                reported_input_tokens=usage.prompt_tokens,
                system_tokens=system_tokens,
                tool_tokens=tool_tokens,
                length=len(request.messages),
            )
        return cost, self.context_status()

    @property
    def session_cost_usd(self) -> float:
        return self.cost_usd

    # ------------------------------------------------------------ settings

    def context_status(self) -> ContextStatus:
        specs = tool_specs(self.registry)
        return self._history.context_status(
            window=self.model_info().context_window,
            system_tokens=_count_cached(self.system_prompt()),
            tool_tokens=_count_specs(specs),
        )

    async def compact(
        self, *, focus: str | None = None, reason: str = "manual", expected_revision: str | None = None
    ) -> CompactionReport | None:
        """Summarise the head of history now (``/compact``); None when there is nothing to cut.
        With ``expected_revision``, raise :class:`RevisionConflict` if the transcript is
        no longer at that revision."""
        self.check_revision(expected_revision)
        if self.compaction is None:
            return None
        return await self.compaction.compact(reason=reason, focus=focus)

    async def set_mode(self, mode: PermissionMode) -> None:
        self._gate.set_mode(mode)
        await self._events.emit(ModeChanged(mode.value))

    async def set_model(self, *, model: str, provider: str | None = None) -> None:
        if provider is not None and provider != self.provider_name:
            if self._provider_resolver is None:
                raise ProviderSelectionError("this session cannot switch providers")
            selection = await self._provider_resolver(provider, model)
            check_web_search(selection.provider, model, self.turn_config.web_search)  # a required search stays
            self.provider, self.provider_name = selection.provider, selection.provider_name
        else:
            check_web_search(self.provider, model, self.turn_config.web_search)
        self._model = model
        await self._events.emit(ModelChanged(self.provider_name, model))
        turn = self.turn_config  # configured parameters the new model does not take: said now, as at start-up
        for text in capability_notices(self.provider.model_info(model), temperature=turn.temperature,
                                       reasoning_effort=turn.reasoning_effort):  # fmt: skip
            await self._events.emit(Notice("info", text))

    def tool_context(self, call_id: str, progress: Callable[[ToolProgress], Any]) -> ToolContext:
        """What a tool call of this session may touch (also used by the voice layer's tools)."""
        return ToolContext(
            session_id=self.id,
            workspace=self.workspace,
            fs=self.fs,
            shell=self.shell,
            spill_dir=self.spill_dir,
            tool_call_id=call_id,
            progress=progress,
            # Background tasks the call starts report their output as its progress.
            background=(
                self.background.for_tool_call(lambda text: progress(ToolProgress(text=text)))
                if self.background is not None
                else None
            ),
            emit=self._events.emit,
            services={"session": self, "redactor": self.redactor},
            path_denied=self.content_denied,
        )

    def content_denied(self, path: Path) -> str | None:
        """Why a permission rule denies the contents of ``path`` (resolved, absolute)
        to every tool of this session, with rules relative to its workspace; None if not."""
        return self._gate.path_denied(path, workspace=self.workspace)

    def report_not_saving(self, reason: str, *, opening: bool) -> None:
        """A store could not record this session (see :class:`SavingStopped`).
        Called synchronously from an observer, so the event goes out from the
        session's nursery; while the session opens it becomes a start-up notice."""
        if self.saving_problem is not None:
            return
        self.saving_problem = reason
        if opening:
            self.startup_notices.append(Notice("error", f"{reason}. This session will not be saved."))
        else:
            self.nursery.start_soon(self._events.emit, SavingStopped(reason))

    def report_on_open(self, level: str, text: str) -> None:
        self.startup_notices.append(Notice(level, text))

    def _observe(self, event: AgentEvent) -> None:
        if isinstance(event, PlanUpdated):
            self.plan = event.entries
        else:
            self._observe_rewrite(event)

    # ---------------------------------------------------------- pending turn (H1)

    @property
    def pending_turn(self) -> PendingTurn | None:
        """A turn the last process died in: continue it with :meth:`run_pending`,
        or drop it with :meth:`discard_pending` (a new turn drops it too)."""
        return self._pending

    async def run_pending(self, *, when_busy: WhenBusy = WhenBusy.RAISE) -> TurnOutcome:
        """Continue the pending turn from its last complete message: a tool call
        whose result never arrived gets an "interrupted: <command>" error result,
        then the turn loop goes on. Raises :class:`NoPendingTurn` without one."""
        await self._wait_for_slot(when_busy)
        pending = self._pending
        if pending is None:
            raise NoPendingTurn(f"session {self.id} has no interrupted turn to continue")
        self._take_slot()
        turn_id = pending.turn_id
        try:
            mark = len(self._history)
            self._pending = None
            self._carried_outcomes = []
            self._state_changed(
                PendingTurnResolved(turn_id, True, tuple(m.id for m in pending.messages), pending.interrupted_tools)
            )
            for message in pending.messages:  # back into history, as replay restores them (no events)
                self._history.append(message)
            await self._events.emit(TurnStarted(turn_id))
            results = _interrupted_results(pending)
            if results is not None:
                self._history.append(results)
                await self._events.emit(MessageAppended(turn_id, results))
            last = self._history[len(self._history) - 1] if len(self._history) else None
            if isinstance(last, AssistantMessage) and not last.tool_uses:  # it had answered; only the end was lost
                outcome = TurnOutcome(StopReason.END_TURN, Usage(), last.text, 0)
                await self._events.emit(TurnEnded(turn_id, outcome.stop_reason, outcome.usage))
                return outcome
            first_id = pending.messages[0].id if pending.messages else None
            return await self._drive(turn_id, first_id, mark, resumed=pending)
        finally:
            self._release_slot()

    async def discard_pending(self) -> bool:
        """Drop the pending turn (it stays in the journal: ``agent sessions show
        --full`` marks its messages interrupted). False when there is none."""
        if self._pending is None:
            return False
        if self._turn_running:
            raise TurnInProgress(f"session {self.id} is running a turn")
        await self._discard_pending()
        return True

    async def _discard_pending(self) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            return
        self._state_changed(
            PendingTurnResolved(pending.turn_id, False, tuple(m.id for m in pending.messages), pending.interrupted_tools)
        )
        await self._events.emit(
            Notice("info", f"The interrupted turn ({len(pending.messages)} messages) was discarded; "
                   "`agent sessions show --full` still shows it.")
        )

    # ------------------------------------------------------------ lifetime

    def on_close(self, callback: Callable[[], Any]) -> None:
        self._close_callbacks.append(callback)

    def on_idle(self, callback: Callable[[], Any]) -> None:
        """Call ``callback()`` (synchronously) whenever a turn has ended and the session is idle."""
        self._idle_callbacks.append(callback)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.cancel()
        for callback in reversed(self._close_callbacks):
            result = callback()
            if hasattr(result, "__await__"):
                with trio.CancelScope(shield=True):
                    await result


@functools.lru_cache(maxsize=64)
def _count_cached(text: str) -> int:
    return tokens.count_text(text)


_SPEC_TOKENS: dict[tuple[str, str], int] = {}  # an estimate: a schema change under the same text is rare


def _count_specs(specs: Sequence[Any]) -> int:
    """Tokens of the tool list, cached per tool (schemas are re-sent every request)."""
    total = 0
    for spec in specs:
        key = (spec.name, spec.description)
        count = _SPEC_TOKENS.get(key)
        if count is None:
            count = tokens.count_text(spec.name) + tokens.count_text(spec.description) + tokens.count_json(spec.parameters)
            _SPEC_TOKENS[key] = count
        total += count
    return total
