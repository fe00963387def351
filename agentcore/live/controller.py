"""``VoiceController``: the control plane of a voice session.

It connects a :class:`SpeechBackend` (seeded from the session's canonical
history), pumps transport frames to it and its events into the
:class:`~agentcore.live.flow.Conversation`, and keeps the conversation alive:
reconnects after a drop (re-seeded from history, or resumed with the
backend's handle), falls back to another backend (the offline cascade) when
reconnecting keeps failing, moves phases, runs detectors and steering, and
persists a snapshot so a restart resumes where the talk was.

Everything runs in one nursery owned by :meth:`run`; a backend's own tasks
live in a nursery per connection, so closing a connection cancels exactly
what belonged to it.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import attrs
import trio

from agentcore.live.agents import session_agents
from agentcore.live.audio import bytes_to_ms, resample, rms_dbfs
from agentcore.live.backend import (
    BackendClosedError,
    BackendConnectError,
    BackendError,
    BackendSeed,
    SpeechBackend,
)
from agentcore.live.callbacks import CallbackRegistry
from agentcore.live.control_events import (
    ExtractionCompleted,
    ExtractionFailed,
    TurnCompleted,
)
from agentcore.live.director import Director, LiveRules
from agentcore.live.events import Disconnected, ResponseDone
from agentcore.live.flow import Conversation, LiveUpdate, NoticeUpdate
from agentcore.live.handle import ControllerHandle
from agentcore.live.outcome import CloseReason, VoiceSummary
from agentcore.live.phases import (
    Detector,
    Phase,
    PhaseMachine,
    PhaseTransition,
    StateStore,
    SustainedCondition,
)
from agentcore.live.reducer import TranscriptReducer
from agentcore.live.snapshot import SNAPSHOT_TURNS, LiveSnapshot
from agentcore.live.state import StateMachine, VoiceState
from agentcore.live.steering import Steering
from agentcore.live.style import NEUTRAL, SpeechStyle
from agentcore.live.telemetry import SessionMetrics
from agentcore.live.tools import ToolMode, ToolTimeout, VoiceToolRunner
from agentcore.live.transcript import TranscriptTurn, TranscriptWindow
from agentcore.live.transport import AudioTransport
from agentcore.messages import AssistantMessage, MessageKind, UserMessage
from agentcore.tools.registry import tool_specs

if TYPE_CHECKING:
    from agentcore.live.extraction import TurnExtractor
    from agentcore.live.persistence import SessionPersistence

log = logging.getLogger(__name__)
S = VoiceState
TURN_TAIL_MESSAGES = 64  # history read to build the turn that just completed

BARGE_IN_DBFS = -35.0  # input louder than this while the assistant speaks is the user talking
BARGE_IN_FRAMES = 2  # consecutive loud 20 ms frames: 40 ms, well inside the 50 ms barge-in budget
SOFT_TURN_S = 3.0  # silence after the user's turn before the model is asked to answer
TRANSCRIPT_WAIT_S = 8.0  # how long a committed user turn may wait for its transcript
FINISH_IDLE_S = 1.0  # quiet time after file input ends before the session closes
RECONNECT_ATTEMPTS = 3  # consecutive failed connects before falling back (or giving up)
RECONNECT_BACKOFF_S = 0.5  # first retry delay, doubled per failure
TICK_S = 0.1  # timers (soft turn, transcript timeouts, detectors) resolution


class BackgroundAgents(Protocol):
    """Runs a text agent on a task in the background (``DispatchAgent`` effects):
    the agent's final answer, or an exception saying why there is none.
    ``profile`` None means the implementation's default profile."""

    async def run(self, task: str, *, profile: str | None = None) -> str: ...


class Signal(enum.Enum):
    USER_TURN = "user_turn"
    INTERRUPTION = "interruption"
    TOOL_CALLS = "tool_calls"
    SILENCE = "silence"  # fed every tick with whether the conversation is idle
    TOOL_RESULT = "tool_result"  # fed per finished tool call with whether it succeeded


@attrs.frozen
class DetectorRule:
    """When ``detector`` fires on ``signal``, run ``action(controller)``."""

    signal: Signal
    detector: Detector
    action: Callable[[VoiceController], Awaitable[None]]


@attrs.frozen
class VoiceConfig:
    tool_modes: Mapping[str, ToolMode] = attrs.field(factory=dict)
    default_tool_mode: ToolMode = ToolMode.BLOCKING
    local_barge_in: bool = True
    barge_in_dbfs: float = BARGE_IN_DBFS
    barge_in_frames: int = BARGE_IN_FRAMES
    soft_turn_s: float = SOFT_TURN_S
    transcript_wait_s: float = TRANSCRIPT_WAIT_S
    finish_idle_s: float = FINISH_IDLE_S
    reconnect_attempts: int = RECONNECT_ATTEMPTS
    reconnect_backoff_s: float = RECONNECT_BACKOFF_S
    tick_s: float = TICK_S
    detectors: tuple[DetectorRule, ...] = ()
    stop_when_input_ends: bool = True
    tool_timeouts: Mapping[str, ToolTimeout] = attrs.field(factory=dict)  # per tool name (blocking calls)
    default_tool_timeout: ToolTimeout | None = None  # for blocking tools not named above; None: wait for ever
    style: SpeechStyle = NEUTRAL  # how the assistant speaks (the backends get their part at construction)
    rules: LiveRules = LiveRules()  # reactor rules, instruction modifiers, state narrative


class _Outcome(enum.Enum):
    FINISHED = "finished"
    BACKEND_FINISHED = "backend_finished"  # the backend closed the conversation normally: no reconnect
    DISCONNECTED = "disconnected"
    CONNECT_FAILED = "connect_failed"


class VoiceController:
    def __init__(
        self,
        session: Any,
        transport: AudioTransport,
        backend: Callable[[], SpeechBackend],
        *,
        config: VoiceConfig = VoiceConfig(),
        fallback: Callable[[], SpeechBackend] | None = None,
        phases: PhaseMachine | None = None,
        snapshots: SessionPersistence | None = None,
        on_update: Callable[[LiveUpdate], None] | None = None,
        extractors: Sequence[TurnExtractor] = (),
        agents: BackgroundAgents | None = None,
    ) -> None:
        self.session = session
        self.transport = transport
        self.config = config
        self.phases = phases
        self.snapshots = snapshots
        self._factory = backend
        self._fallback = fallback
        self._listeners: list[Callable[[LiveUpdate], None]] = [on_update] if on_update else []
        self.callbacks = CallbackRegistry()  # typed, per event kind, inline or queued
        self.metrics = SessionMetrics()
        self.store = phases.store if phases is not None else StateStore()
        self.extractors = tuple(extractors)
        for extractor in self.extractors:
            extractor.report = self._on_extraction
        self._turns_completed = 0
        self.state = StateMachine(trio.current_time)
        self.reducer = TranscriptReducer(session.history, session.events.emit, model=getattr(session, "model", None))
        self.conversation = Conversation(
            transport=transport,
            reducer=self.reducer,
            metrics=self.metrics,
            state=self.state,
            notify=self._notify,
            signal=self._signal_name,
            on_resumption=self._on_resumption,
            on_go_away=self._on_go_away,
            on_usage=self._on_usage,
        )
        self.tools = VoiceToolRunner(
            session,
            reducer=self.reducer,
            metrics=self.metrics,
            backend=lambda: self.conversation.backend,
            deliverable=self.conversation.deliverable,
            modes=config.tool_modes,
            default_mode=config.default_tool_mode,
            allowed=self._tool_refusal,
            on_result=self.conversation.tool_finished,
            timeouts=config.tool_timeouts,
            default_timeout=config.default_tool_timeout,
            speak=self._speak_now,
            response_idle=self.conversation.response_idle,
            on_executing=self.conversation.tools_executing,
        )
        self.conversation.tools = self.tools
        self.steering = Steering(apply_instructions=self._apply_instructions, inject=self._inject, idle=lambda: self.conversation.idle)
        self.agents = agents if agents is not None else session_agents(session)  # runs DispatchAgent effects
        self.director = Director(
            config.rules,
            store=self.store,
            steering=self.steering,
            actions=self,
            metrics=self.metrics,
            clock=trio.current_time,
            phases=phases,
            observe=self.callbacks.emit,  # callbacks and rules see the same events
        )
        self.conversation.rules = self.director
        if phases is not None:
            phases.on_change(self._phase_changed)
            phases.observe(self._on_transition)
        self.resumption_handle: str | None = None
        self.backend_name = ""
        self._ready = trio.Event()
        self._finished = False
        self._close: tuple[CloseReason, str] | None = None  # the first cause of the ending wins
        self.summary: VoiceSummary | None = None  # how the last run() ended
        self._input_done = False
        self._pump_scope: trio.CancelScope | None = None
        self._reconnect_when_idle = False
        self._closing = False  # the controller closes the backend itself (a planned reconnect)
        self._backend_close_reason = ""
        self._snapshot_dirty = False
        self._last_error: Exception | None = None
        self.seeds: list[BackendSeed] = []  # how each connection was seeded (diagnostics)
        self._restored_phase = False
        self.handle = ControllerHandle(self, self._notify)  # the application's LiveHandle

    # --------------------------------------------------------------- public

    def add_listener(self, listener: Callable[[LiveUpdate], None]) -> None:
        self._listeners.append(listener)

    async def run(self) -> VoiceSummary:
        """Hold the conversation until the input ends (and it goes quiet), the backend
        finishes, a policy ends it (:meth:`end_session`), :meth:`stop`, or an error;
        the summary says which (errors are reported there, not raised)."""
        self._restore()
        fatal: BackendError | None = None
        try:
            async with self.transport.running():
                async with trio.open_nursery() as nursery:
                    self.conversation.nursery = nursery
                    if self.phases is not None and not self._restored_phase:
                        await self.phases.enter_initial()
                    self.director.start()
                    nursery.start_soon(self._pump_input)
                    nursery.start_soon(self._ticker)
                    nursery.start_soon(self._drain_watch)
                    nursery.start_soon(self.callbacks.run)
                    for extractor in self.extractors:
                        nursery.start_soon(extractor.run)
                    try:
                        await self._serve()
                        await self._settle_extractions()
                    except BackendError as exc:  # raised plainly below, not inside an exception group
                        fatal = exc
                    finally:
                        nursery.cancel_scope.cancel()
        finally:
            with trio.CancelScope(shield=True):
                await self.reducer.close()
                await self.callbacks.drain()
                self.metrics.callbacks_dropped = self.callbacks.dropped
                self.conversation.finalize_metrics()
                if self.state.state is not S.CLOSED:
                    self.conversation.to(S.CLOSED)
                self._save_snapshot()
        reason, message = self._close or (CloseReason.TRANSPORT_CLOSED, "")
        if fatal is not None:
            reason, message = CloseReason.ERROR, str(fatal)
        self.summary = VoiceSummary(self.session.id, reason, message, self.metrics, self.backend_name, error=fatal)
        return self.summary

    def stop(self, reason: CloseReason = CloseReason.TRANSPORT_CLOSED, message: str = "") -> None:
        """End the session (at once: an answer in progress is cut off)."""
        if self._close is None:
            self._close = (reason, message)
        self._finished = True
        if self._pump_scope is not None:
            self._pump_scope.cancel()

    # ----------------------------------------------------------- connection

    async def _serve(self) -> None:
        factory, failures = self._factory, 0
        while not self._finished:
            outcome = await self._connection(factory)
            if outcome is _Outcome.FINISHED or self._finished:
                return
            if outcome is _Outcome.BACKEND_FINISHED:
                if self._close is None:
                    self._close = (CloseReason.BACKEND_FINISHED, self._backend_close_reason)
                return
            if outcome is _Outcome.CONNECT_FAILED:
                failures += 1
                self.resumption_handle = None  # a stale handle may be why; retry fresh
                if failures >= self.config.reconnect_attempts:
                    if self._fallback is None or factory is self._fallback:
                        raise BackendConnectError(f"could not connect after {failures} attempts: {self._last_error}")
                    factory, failures = self._fallback, 0
                    self.metrics.fallbacks += 1
                    self.conversation.to(S.FALLBACK)
                    self._notify(NoticeUpdate("warning", "falling back to the offline cascade"))
                    continue
            else:
                failures = 0
                self.metrics.reconnects += 1
            self.conversation.to(S.RECONNECTING)
            await trio.sleep(self.config.reconnect_backoff_s * 2 ** max(0, failures - 1))

    async def _connection(self, factory: Callable[[], SpeechBackend]) -> _Outcome:
        self._closing = False
        async with trio.open_nursery() as backend_nursery:
            backend = factory()
            seed = self._seed(backend)
            try:
                await backend.open(seed, backend_nursery)
            except BackendConnectError as exc:
                self._last_error = exc
                self._notify(NoticeUpdate("warning", str(exc)))
                return _Outcome.CONNECT_FAILED
            self.seeds.append(seed)
            await self._attach(backend)
            try:
                outcome = await self._pump_events(backend)
            finally:
                self.conversation.backend = None
                self._ready = trio.Event()
                with trio.CancelScope(shield=True):
                    await backend.close()
                backend_nursery.cancel_scope.cancel()
            if outcome is _Outcome.DISCONNECTED:
                await self.conversation.abandon_inflight()
            return outcome

    async def _attach(self, backend: SpeechBackend) -> None:
        if backend.capabilities.writes_history != self.reducer.external_writer:
            await self.reducer.close()  # settle the old backend's turns before the writer changes
            self.reducer.external_writer = backend.capabilities.writes_history
        self.conversation.backend = backend
        self.backend_name = backend.name
        self.conversation.to(S.LISTENING)
        self._ready.set()
        self._snapshot_dirty = True

    async def _pump_events(self, backend: SpeechBackend) -> _Outcome:
        with trio.CancelScope() as scope:
            self._pump_scope = scope
            async for event in backend.events():
                if isinstance(event, Disconnected):
                    self._backend_close_reason = event.reason
                    # Closed normally by the backend itself, not by us and not after a goAway
                    # (that one is a planned reconnect): the conversation is over.
                    if event.clean and not self._finished and not self._reconnect_when_idle and not self._closing:
                        self._pump_scope = None
                        return _Outcome.BACKEND_FINISHED
                    break
                await self.conversation.dispatch(event)
                if isinstance(event, ResponseDone):
                    await self._turn_done(event.response_id)
        self._pump_scope = None
        return _Outcome.FINISHED if self._finished else _Outcome.DISCONNECTED

    def _seed(self, backend: SpeechBackend) -> BackendSeed:
        handle = self.resumption_handle if backend.capabilities.resumable else None
        return BackendSeed(
            instructions=self._instructions(),
            messages=self.session.history.snapshot(),
            tools=self._tool_specs(),
            resumption_handle=handle,
        )

    def _instructions(self) -> str:
        base = self.session.system_prompt() if hasattr(self.session, "system_prompt") else ""
        text = self.director.instructions(base)  # phase template, modifiers, state narrative
        extra = self.steering.extra_instructions
        style = self.config.style.instructions()
        return "\n\n".join(part for part in (text, style, extra) if part)

    def _tool_specs(self) -> tuple[Any, ...]:
        specs = tool_specs(self.session.registry)
        phase: Phase | None = self.phases.current if self.phases is not None else None
        return tuple(s for s in specs if phase is None or phase.allows(s.name))

    def _tool_refusal(self, name: str) -> str | None:
        if self.phases is None or self.phases.current.allows(name):
            return None
        return f"{name} is not available in the {self.phases.current.name!r} phase of this conversation."

    # ---------------------------------------------------------------- tasks

    async def _pump_input(self) -> None:
        await self._ready.wait()
        loud = 0
        async for frame in self.transport.frames():
            self.metrics.audio_in_ms += bytes_to_ms(len(frame), self.transport.input_rate)
            if self.config.local_barge_in and self.transport.playing:
                loud = loud + 1 if rms_dbfs(frame) > self.config.barge_in_dbfs else 0
                if loud >= self.config.barge_in_frames:
                    loud = 0
                    await self.conversation.barge_in(source="local vad")
            else:
                loud = 0
            backend = self.conversation.backend
            if backend is None:
                continue  # reconnecting: this audio is lost, like a dropped call
            try:
                await backend.send_audio(resample(frame, self.transport.input_rate, backend.input_rate))
            except BackendClosedError:
                continue
        self._input_done = True

    async def _drain_watch(self) -> None:
        while True:
            await self.transport.wait_drained()
            await self.conversation.settle()
            await self.conversation.wait_changed()

    async def _ticker(self) -> None:
        finish = SustainedCondition(self.config.finish_idle_s)
        conv = self.conversation
        while True:
            await trio.sleep(self.config.tick_s)
            now = trio.current_time()
            for item_id, since in list(conv.awaiting_transcript.items()):
                if now - since > self.config.transcript_wait_s:
                    conv.awaiting_transcript.pop(item_id, None)
                    await self.reducer.drop_user(item_id)
            await self._soft_turn(now)
            await conv.settle()
            if self.state.state is S.LISTENING:
                await self.steering.flush()
            if self._reconnect_when_idle and conv.idle and conv.backend is not None:
                self._reconnect_when_idle = False
                self._closing = True
                await conv.backend.close()  # the event stream ends; the connection loop reconnects
            await self._signal(Signal.SILENCE, conv.idle)
            await self.director.tick(conv.idle)
            if self.phases is not None and self.phases.dirty:
                await self.phases.evaluate()
            if self._snapshot_dirty:
                self._save_snapshot()
            if self._input_done and self.config.stop_when_input_ends and finish.feed(now, conv.quiescent):
                self.stop()

    async def _soft_turn(self, now: float) -> None:
        conv = self.conversation
        if conv.expecting_since is None or conv.backend is None:
            return
        waited = now - conv.expecting_since
        if not conv.nudged and waited >= self.config.soft_turn_s:
            conv.nudged = True
            self.metrics.soft_turns += 1
            try:
                await conv.backend.create_response()
            except BackendClosedError:
                pass
        elif conv.nudged and waited >= 2 * self.config.soft_turn_s:
            conv.expecting_since = None  # the model will not answer; listen again
            await conv.settle()

    # ------------------------------------------------------------ callbacks

    def _notify(self, update: LiveUpdate) -> None:
        for listener in self._listeners:
            listener(update)
        self.callbacks.emit(update)

    async def _turn_done(self, response_id: str) -> None:
        """An answer ended with no tools left to run: a turn for extraction, callbacks and rules."""
        turn = self.metrics.turn(response_id)
        if turn is None or turn.tool_calls:
            return  # the tools' results get their own response
        self._turns_completed += 1
        window = TranscriptWindow.from_history(self.session.history.snapshot()[-TURN_TAIL_MESSAGES:], 1)
        phase = self.phases.current.name if self.phases is not None else None
        done = TurnCompleted(self._turns_completed, response_id, turn.status, phase, window.last or TranscriptTurn())
        for extractor in self.extractors:
            extractor.turn_completed(done)  # notes it; the call runs in the extractor's own task
        await self.director.event(done)

    async def _settle_extractions(self) -> None:
        """The talk is over: let extractions still running finish (each within its timeout)."""
        for extractor in self.extractors:
            with trio.move_on_after(extractor.timeout_s):
                await extractor.wait_idle()

    def _on_extraction(self, result: ExtractionCompleted | ExtractionFailed) -> None:
        self.metrics.extractions.append(result)
        self.director.post(result)  # callbacks now, rules at the next tick

    async def _signal_name(self, name: str, value: bool) -> None:
        await self._signal(Signal(name), value)

    async def _signal(self, signal: Signal, value: bool) -> None:
        now = trio.current_time()
        for rule in self.config.detectors:
            if rule.signal is signal and rule.detector.feed(now, value):
                await rule.action(self)

    # ------------------------------------------------ ReactorActions (reactor effects)

    async def end_session(self, reason: str) -> None:
        self._notify(NoticeUpdate("info", f"session ended: {reason}"))
        self.stop(CloseReason.POLICY_ENDED, reason)

    async def cancel_response(self) -> None:
        await self.conversation.cancel_response(source="reactor")

    async def speak(self, text: str) -> None:
        await self._speak_now(text)

    async def _speak_now(self, text: str) -> bool:
        """Say ``text`` verbatim unless the assistant is already talking; True when it was said."""
        backend = self.conversation.backend
        if backend is None or self.conversation.active is not None or self.transport.playing:
            return False
        try:
            await backend.say(text)
        except BackendClosedError:
            return False
        return True

    def dispatch_agent(self, task: str, done: Callable[[str | None, str], Awaitable[None]], *, profile: str | None = None) -> bool:
        agents, nursery = self.agents, self.conversation.nursery
        if agents is None or nursery is None:
            return False

        async def run() -> None:
            try:
                result = await agents.run(task, profile=profile)
            except Exception as exc:  # noqa: BLE001 - a failed background agent is telemetry, not a crash
                await done(None, str(exc))
            else:
                await done(result, "")

        nursery.start_soon(run)
        return True

    def _on_resumption(self, handle: str) -> None:
        self.resumption_handle = handle
        self._snapshot_dirty = True

    def _on_go_away(self, time_left_s: float) -> None:
        self._reconnect_when_idle = True
        self._notify(NoticeUpdate("info", f"server closes the connection in {time_left_s:.0f}s; reconnecting when quiet"))

    def _on_usage(self, usage: Any) -> None:
        if self.reducer.external_writer:
            return  # the backend ran session turns (the cascade): the session charged them already
        if hasattr(self.session, "usage"):
            self.session.usage = self.session.usage + usage

    async def _apply_instructions(self, _text: str) -> None:
        backend = self.conversation.backend
        if backend is not None:
            await backend.update_session(instructions=self._instructions())

    async def _inject(self, text: str, kind: MessageKind, respond: bool) -> None:
        if not self.reducer.external_writer:
            await self.reducer.add_context(text, kind=kind)
        backend = self.conversation.backend
        if backend is not None:
            await backend.inject_context(text, respond=respond)

    def _on_transition(self, transition: PhaseTransition) -> None:
        self.metrics.phase_transitions.append(transition)  # the event itself is raised by the director

    async def _phase_changed(self, old: Phase, new: Phase) -> None:
        self._snapshot_dirty = True
        self._notify(NoticeUpdate("info", f"phase {old.name} -> {new.name}"))
        backend = self.conversation.backend
        if backend is not None:
            await backend.update_session(instructions=self._instructions(), tools=self._tool_specs())
        await self.director.settle()  # rules on PhaseChanged act in the new phase

    # -------------------------------------------------------------- snapshot

    def _restore(self) -> None:
        if self.snapshots is None:
            return
        snapshot = self.snapshots.load(self.session.id)
        if snapshot is None or snapshot.session_id != self.session.id:
            return
        self.resumption_handle = snapshot.resumption_handle
        if self.phases is not None and snapshot.phase:
            self.phases.restore(snapshot.phase)
            self.phases.transitions[:0] = snapshot.transitions
            self.phases.store.restore(snapshot.store)  # signals included
            self._restored_phase = True

    def _save_snapshot(self) -> None:
        self._snapshot_dirty = False
        if self.snapshots is None:
            return
        lines = []
        for message in self.session.history.snapshot()[-12:]:
            if isinstance(message, UserMessage) and message.kind is MessageKind.PROMPT:
                lines.append(f"user: {message.text}")
            elif isinstance(message, AssistantMessage) and message.text:
                lines.append(f"assistant: {message.text}")
        self.snapshots.save(
            LiveSnapshot(
                session_id=self.session.id,
                backend=self.backend_name,
                phase=self.phases.current.name if self.phases is not None else None,
                state=self.state.state.value,
                transcript=tuple(lines),
                resumption_handle=self.resumption_handle,
                store=self.phases.store.as_dict() if self.phases is not None else {},
                updated=trio.current_time(),
                turns=TranscriptWindow.from_history(self.session.history.snapshot(), SNAPSHOT_TURNS).turns,
                transitions=tuple(self.phases.transitions) if self.phases is not None else (),
            )
        )
