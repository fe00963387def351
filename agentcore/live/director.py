"""Where the conversation's state and rules meet the control plane.

:class:`Director` is built by the controller from :class:`LiveRules` and the
phase machine. The conversation flow reports what happens (turns, speech,
barge-ins, tool results), the controller reports completed turns and
extraction results, and its ticker reports time; the director writes the
session signals into state, turns the observations into the typed events of
:mod:`agentcore.live.control_events` (which reach the callbacks and the
rules alike, through the reactor), runs the rules, proposes repairs for unmet
needs, and re-sends the instructions when the state they render has changed.

Invariants: with no rules, modifiers, context or templates configured, the
instructions are exactly what they were without it and nothing is steered;
instruction refreshes are sent only when the rendered text actually changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import attrs

from agentcore.live.backend import seed_instructions
from agentcore.live.control_events import (
    Interruption,
    PhaseChanged,
    Silence,
    StateChanged,
    ToolCall,
    ToolFailure,
    ToolSuccess,
    UserTurn,
)
from agentcore.live.instructions import ContextBuilder, InstructionModifier, compose
from agentcore.live.needs import NeedTracker
from agentcore.live.phases import PhaseTransition
from agentcore.live.reactions import Rule
from agentcore.live.reactor import Reactor, ReactorActions, ReactorPhases
from agentcore.live.signals import TURN_COUNT, SessionSignals
from agentcore.live.state import VoiceState
from agentcore.live.steering import Delivery, Steering
from agentcore.live.store import StateStore
from agentcore.live.telemetry import RepairRecord, SessionMetrics

STATE_HEADING = "# Conversation state"


@attrs.frozen
class LiveRules:
    """The conversation's rules, given to the controller as ``VoiceConfig.rules``."""

    rules: tuple[Rule, ...] = attrs.field(default=(), converter=tuple)
    modifiers: tuple[InstructionModifier, ...] = attrs.field(default=(), converter=tuple)  # in every phase
    context: ContextBuilder | None = None  # a narrative of state added to the instructions
    defaults: Mapping[str, Any] = attrs.field(factory=dict)  # template values for missing keys
    instruction_delivery: Delivery = Delivery.IMMEDIATE  # how state-driven instruction changes go out


class DirectedPhases(ReactorPhases, Protocol):
    def observe(self, observer: Callable[[PhaseTransition], None]) -> None: ...


class Director:
    def __init__(
        self,
        config: LiveRules,
        *,
        store: StateStore,
        steering: Steering,
        actions: ReactorActions | None,
        metrics: SessionMetrics,
        clock: Callable[[], float],
        phases: DirectedPhases | None = None,
        observe: Callable[[Any], None] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self._phases = phases
        self._steering = steering
        self._metrics = metrics
        self._clock = clock
        self.signals = SessionSignals(store, clock)
        self.reactor = Reactor(
            config.rules,
            store=store,
            steering=steering,
            actions=actions,
            metrics=metrics,
            clock=clock,
            phases=phases,
            defaults=config.defaults,
            observe=observe,
        )
        self.needs = NeedTracker()
        self._rendered: tuple[str | None, str] | None = None  # the director's part of the last instructions sent
        self._seen_version = -1
        store.watch("*", self._state_changed)
        if phases is not None:
            phases.observe(self._transition)

    # ------------------------------------------------------- instructions

    def _parts(self) -> tuple[str | None, str]:
        state, defaults = self.store.view, self.config.defaults
        phase = self._phases.current if self._phases is not None else None
        phase_text = compose(phase.instructions, phase.modifiers, phase.context, state, defaults) if phase is not None else None
        shared = compose("", self.config.modifiers, self.config.context, state, defaults)
        return phase_text, shared

    def instructions(self, base: str) -> str:
        """The session's instructions with the phase's and the state's parts, as sent now."""
        phase_text, shared = self._rendered = self._parts()
        text = seed_instructions(base, phase_text)
        return f"{text}\n\n{STATE_HEADING}\n{shared}" if shared else text

    async def _refresh(self) -> None:
        if self.store.version == self._seen_version or self._rendered is None:
            return
        self._seen_version = self.store.version
        if self._parts() != self._rendered:
            await self._steering.refresh_instructions(delivery=self.config.instruction_delivery)

    # ------------------------------------------------------- observations

    def start(self) -> None:
        """The conversation begins (after the initial phase was entered or restored)."""
        phase = self._phases.current if self._phases is not None else None
        self.signals.phase(phase.name if phase is not None else None)
        self.needs.enter(phase.needs if phase is not None else (), self._clock())

    def voice_state(self, state: VoiceState) -> None:
        self.signals.speaking(user=state is VoiceState.USER_SPEAKING, assistant=state is VoiceState.SPEAKING)

    async def user_speech_started(self) -> None:
        await self._steering.user_turn_started()
        await self._settle()

    async def user_turn(self, text: str) -> None:
        self.signals.user_turn()
        self.needs.user_turn()
        await self._event(UserTurn(text, int(self.store.get(TURN_COUNT, 0))))

    async def interruption(self) -> None:
        self.signals.interruption()
        await self._event(Interruption())

    async def tool_called(self, name: str, call_id: str) -> None:
        await self._event(ToolCall(name, call_id))

    async def tool_finished(self, name: str, call_id: str, ok: bool, error: str = "") -> None:
        self.signals.tool_result(name, ok, error)
        await self._event(ToolSuccess(name, call_id) if ok else ToolFailure(name, call_id, error))

    async def event(self, event: Any) -> None:
        """An event the controller raises (a completed turn): to callbacks and rules."""
        await self._event(event)

    def post(self, event: Any) -> None:
        """An event from synchronous code (an extraction's result): to the callbacks
        now, to the rules at the next tick."""
        self.reactor.post(event)

    async def tick(self, idle: bool) -> None:
        """Every controller tick: durations, silence, repairs, pending refreshes."""
        silence = self.signals.tick(idle)
        if idle:
            self.reactor.post(Silence(silence))
            await self._repair()
        await self._settle()

    async def _repair(self) -> None:
        repair = self.needs.due(self.store.view, self._clock())
        if repair is None:
            return
        phase = self._phases.current.name if self._phases is not None else None
        self._metrics.repairs.append(RepairRecord(phase, repair.need.key, repair.action.value, repair.attempt, repair.reason, self._clock()))
        await self.reactor.run(repair.effects, source=f"need:{repair.need.key}")

    def _transition(self, transition: PhaseTransition) -> None:
        # Synchronously, as the machine moves: signals, needs and the event are in
        # place before any hook or listener runs.
        new = self._phases.current if self._phases is not None else None
        self.signals.phase(transition.target)
        self.needs.enter(new.needs if new is not None else (), self._clock())
        self.reactor.post(PhaseChanged.of(transition))

    async def settle(self) -> None:
        """Run the rules for what is queued (the controller calls it once a phase
        change has reached the backend, so effects speak in the new phase)."""
        await self._settle()

    def _state_changed(self, key: str, old: Any, new: Any) -> None:
        self.reactor.post(StateChanged(key, old, new))  # dropped at once when no rule wants it

    async def _event(self, event: Any) -> None:
        self.reactor.post(event)
        await self._settle()

    async def _settle(self) -> None:
        await self.reactor.drain()
        await self._refresh()
