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
import time
import types
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio

from agentcore import tokens
from agentcore.background import BackgroundTasks
from agentcore.events import (
    AgentEvent,
    CompactionStarted,
    ContextCompressed,
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
from agentcore.llm.errors import ProviderError
from agentcore.llm.registry import ProviderSelectionError
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
from agentcore.session.state import (
    ContextSectionChanged,
    MetadataChanged,
    MetadataError,
    MetadataValue,
    OutcomeQueue,
    OutcomesChanged,
    PendingTurn,
    PendingTurnResolved,
    Revision,
    RevisionConflict,
    StateChange,
    StateListener,
    ToolVisibilityChanged,
    check_metadata,
    check_tool_name,
    interrupted_result_text,
    revision_id,
    revision_number,
    METADATA_MAX_KEYS,
)
from agentcore.tools.base import ToolContext, ToolProgress
from agentcore.tools.registry import CompositeRegistry, ToolFilter, tool_specs
from agentcore.tools.workspace import Workspace
from agentcore.turn.runner import TurnAbortedError, TurnInProgress, TurnOutcome, TurnRunner
from agentcore.turn.tool_calls import NoToolCallWatcher, SessionToolExecutor, ToolCallWatcher

if TYPE_CHECKING:
    from agentcore.mcp.manager import McpManager
    from agentcore.session.compaction import CompactionReport, Compactor
    from agentcore.session.persistence import SessionSnapshot
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


class DefaultSession:
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
        # Durable state (agentcore.session.state): every change goes to the state listeners.
        self._state_listeners: list[StateListener] = []
        self._metadata: dict[str, MetadataValue] = {}
        self._durable_sections: set[str] = set()  # names in extra_prompt_sections that persist
        self._outcomes = OutcomeQueue(on_change=self._outcomes_changed)  # background outcomes for the next turn
        self._hidden_tools: tuple[str, ...] = ()
        self._pending: PendingTurn | None = None
        self._revisions: list[Revision] = [Revision(revision_id(session_id, 0), None, "created", "system")]
        self._announced: Revision | None = None  # claimed by claim_revision for the next rewrite
        self._compaction_actor = "agent"
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
            self.provider, self.provider_name = selection.provider, selection.provider_name
        self._model = model
        await self._events.emit(ModelChanged(self.provider_name, model))

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
        elif isinstance(event, CompactionStarted):
            self._compaction_actor = "user" if event.reason == "manual" else "agent"
        elif isinstance(event, ContextCompressed):
            detail = f"{event.strategy}: {len(event.replaced_ids) or event.messages_summarized} messages"
            self._new_revision("compaction", self._compaction_actor, detail)
            self._compaction_actor = "agent"
        elif isinstance(event, HistoryRolledBack):
            self._new_revision("rollback", "agent", f"to {event.length} messages")

    # ===================================================== durable state (H1)
    # Metadata, control state, the pending turn and revisions: every change is
    # announced synchronously to the state listeners (the journal) before the
    # method returns. See agentcore/session/state.py.

    def add_state_listener(self, listener: StateListener) -> Callable[[], None]:
        self._state_listeners.append(listener)
        return lambda: self._state_listeners.remove(listener) if listener in self._state_listeners else None

    def _state_changed(self, change: StateChange) -> None:
        for listener in tuple(self._state_listeners):
            listener(change)

    def restore_state(self, snapshot: SessionSnapshot) -> None:
        """What a loaded snapshot holds beside the history (the core calls this
        before any listener is attached, so nothing is journaled again)."""
        self._metadata = dict(snapshot.metadata)
        for name, text in snapshot.context_sections.items():
            self.extra_prompt_sections[name] = text
            self._durable_sections.add(name)
        self._outcomes = OutcomeQueue(snapshot.pending_outcomes, on_change=self._outcomes_changed)
        self._apply_hidden(tuple(snapshot.hidden_tools))
        self._pending = snapshot.pending_turn
        if snapshot.revisions:
            self._revisions = list(snapshot.revisions)

    # --------------------------------------------------------------- metadata

    @property
    def metadata(self) -> Mapping[str, MetadataValue]:
        """The session's durable key/value map (read-only; change it with the methods below)."""
        return types.MappingProxyType(self._metadata)

    def set_metadata(self, key: str, value: MetadataValue) -> None:
        """Set one key (a string, number, boolean or null; sizes are limited, see
        :mod:`agentcore.session.state`). Raises :class:`MetadataError`."""
        check_metadata(key, value)
        if key not in self._metadata and len(self._metadata) >= METADATA_MAX_KEYS:
            raise MetadataError(f"a session holds at most {METADATA_MAX_KEYS} metadata keys")
        if key in self._metadata and self._metadata[key] == value and type(self._metadata[key]) is type(value):
            return
        self._metadata[key] = value
        self._state_changed(MetadataChanged(key, value))

    def remove_metadata(self, key: str) -> bool:
        """Remove ``key``; False when it was not set."""
        if key not in self._metadata:
            return False
        del self._metadata[key]
        self._state_changed(MetadataChanged(key, removed=True))
        return True

    def backfill_metadata(self, values: Mapping[str, MetadataValue]) -> tuple[str, ...]:
        """Set the keys of ``values`` that are not set yet (all checked first: one
        bad value sets nothing); returns the keys it set."""
        missing = {key: value for key, value in values.items() if key not in self._metadata}
        for key, value in missing.items():
            check_metadata(key, value)
        if len(self._metadata) + len(missing) > METADATA_MAX_KEYS:
            raise MetadataError(f"a session holds at most {METADATA_MAX_KEYS} metadata keys")
        for key, value in missing.items():
            self.set_metadata(key, value)
        return tuple(missing)

    # ---------------------------------------------------------- control state

    @property
    def durable_context_sections(self) -> Mapping[str, str]:
        return {name: self.extra_prompt_sections[name] for name in sorted(self._durable_sections)}

    def set_context_section(self, name: str, text: str) -> None:
        """Add (or replace) a context section that joins the system prompt and
        survives a restart. (MCP instructions, hook and voice sections are not
        durable: they are derived again each time the session opens.)"""
        if not isinstance(name, str) or not name.strip():
            raise MetadataError("a context section needs a name")
        self.extra_prompt_sections[name] = text
        self._durable_sections.add(name)
        self._state_changed(ContextSectionChanged(name, text))

    def remove_context_section(self, name: str) -> bool:
        if name not in self._durable_sections:
            return False
        self._durable_sections.discard(name)
        self.extra_prompt_sections.pop(name, None)
        self._state_changed(ContextSectionChanged(name, None))
        return True

    @property
    def pending_outcomes(self) -> list[str]:
        """Background outcomes the next turn receives (every change is journaled)."""
        return self._outcomes

    @pending_outcomes.setter
    def pending_outcomes(self, values: list[str]) -> None:
        self._outcomes.on_change = None  # whoever took the old list only reads it now
        self._outcomes = OutcomeQueue(values, on_change=self._outcomes_changed)
        self._outcomes_changed(tuple(self._outcomes))

    def _outcomes_changed(self, pending: tuple[str, ...]) -> None:
        self._state_changed(OutcomesChanged(pending))

    @property
    def hidden_tools(self) -> tuple[str, ...]:
        return self._hidden_tools

    def set_tool_visible(self, name: str, visible: bool) -> None:
        """Hide a tool from the model (it is not offered, and a call to it fails
        as unknown) or show it again; remembered across restarts."""
        check_tool_name(name)
        hidden = set(self._hidden_tools)
        hidden.discard(name) if visible else hidden.add(name)
        if tuple(sorted(hidden)) == self._hidden_tools:
            return
        self._apply_hidden(tuple(sorted(hidden)))
        self._state_changed(ToolVisibilityChanged(self._hidden_tools))

    def _apply_hidden(self, hidden: tuple[str, ...]) -> None:
        self._hidden_tools = hidden
        current = self.registry.filter
        self.registry.filter = ToolFilter(allow=current.allow, deny=(*self.policy.tool_filter.deny, *hidden))

    # ---------------------------------------------------------- pending turn

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

    # -------------------------------------------------------------- revisions

    @property
    def revision(self) -> Revision:
        """The transcript's current revision."""
        return self._revisions[-1]

    @property
    def revisions(self) -> tuple[Revision, ...]:
        return tuple(self._revisions)

    def check_revision(self, expected: str | None) -> None:
        """Raise :class:`RevisionConflict` unless ``expected`` is None or the current revision."""
        if expected is not None and expected != self.revision.id:
            raise RevisionConflict(expected, self.revision.id)

    def claim_revision(self, reason: str, *, actor: str = "user", expected: str | None = None, detail: str = "") -> Revision:
        """Announce a rewrite about to happen (checked against ``expected`` with no
        await in between): the next rewrite event of this session becomes this
        revision. Callers rewriting history themselves (rewind, edit) use it."""
        self.check_revision(expected)
        revision = Revision(
            revision_id(self.id, revision_number(self.revision.id) + 1), self.revision.id, reason, actor, time.time(), detail
        )
        self._announced = revision
        return revision

    def _new_revision(self, reason: str, actor: str, detail: str) -> None:
        revision, self._announced = self._announced, None
        if revision is None or revision.parent != self.revision.id:
            revision = Revision(
                revision_id(self.id, revision_number(self.revision.id) + 1), self.revision.id, reason, actor,
                time.time(), detail,
            )
        self._revisions.append(revision)

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
