"""The reactor: events -> rules -> effects, run by one executor.

:class:`Reactor` evaluates the :class:`~agentcore.live.reactions.Rule` s for
each event (indexed by event type, highest priority first, each under its
policy) and runs the effects of the rules that fired, in order. Effects that
need the controller (end the session, cancel the answer, speak a bridge
phrase, dispatch a background agent) go through the narrow
:class:`ReactorActions` protocol; the rest use the state store, the phase
machine and steering directly. Repairs of unmet needs run through the same
executor (:meth:`Reactor.run`).

Every event of the conversation enters here (:meth:`Reactor.post`): it is
handed at once to ``observe`` (the controller's typed callback registry), so
callbacks and rules see the same events, then queued for the rules that want
its type.

Invariants: events are handled one at a time, in the order they were posted
(events raised while effects run are queued behind the current one, at most
:data:`MAX_EVENTS_PER_DRAIN` per drain, so rules cannot loop forever); every
fired rule is recorded in telemetry (``SessionMetrics.rules_fired``); an
effect that fails is logged and counted, never raised into the conversation.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from agentcore.errors import VoiceError
from agentcore.live.control_events import AgentFinished
from agentcore.live.instructions import render
from agentcore.live.reactions import (
    CancelResponse,
    DispatchAgent,
    Effect,
    EndSession,
    GoToPhase,
    Rule,
    SetState,
    SpeakBridge,
    Steer,
    effect_label,
)
from agentcore.live.steering import Delivery, SteerKind
from agentcore.live.store import StateStore
from agentcore.live.telemetry import RuleFiring, SessionMetrics

log = logging.getLogger(__name__)

MAX_EVENTS_PER_DRAIN = 64  # a chain of rule-caused events longer than this is a loop
AGENT_RESULT = "Result of the background task ({task}):\n{result}"
TASK_LABEL_CHARS = 80


class ReactorError(VoiceError, ValueError):
    """A reactor configuration that cannot work (two rules with one name)."""


AgentDone = Callable[[str | None, str], Awaitable[None]]  # result (None on failure), error


class ReactorActions(Protocol):
    """What effects need from the controller."""

    async def end_session(self, reason: str) -> None: ...

    async def cancel_response(self) -> None: ...

    async def speak(self, text: str) -> None:
        """Have the assistant say ``text`` now (a bridge phrase)."""
        ...

    def dispatch_agent(self, task: str, done: AgentDone, *, profile: str | None = None) -> bool:
        """Start a background agent on ``task``; ``done`` gets its answer. False: no dispatcher."""
        ...


class ReactorPhases(Protocol):
    @property
    def current(self) -> Any: ...

    async def go(self, target: str, *, trigger: str = ...) -> bool: ...


class ReactorSteering(Protocol):
    async def update_instructions(self, text: str, *, delivery: Delivery = ...) -> None: ...

    async def inject_context(self, text: str, *, delivery: Delivery = ..., respond: bool = ...) -> None: ...

    async def refresh_instructions(self, *, delivery: Delivery = ...) -> None: ...


class Reactor:
    def __init__(
        self,
        rules: Iterable[Rule],
        *,
        store: StateStore,
        steering: ReactorSteering,
        actions: ReactorActions | None,
        metrics: SessionMetrics,
        clock: Callable[[], float],
        phases: ReactorPhases | None = None,
        defaults: Mapping[str, Any] | None = None,
        observe: Callable[[Any], None] | None = None,
    ) -> None:
        self.rules = tuple(rules)
        names = [r.name for r in self.rules]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ReactorError(f"reactor rules need unique names; repeated: {', '.join(duplicates)}")
        by_type: dict[type, list[Rule]] = collections.defaultdict(list)
        for rule in sorted(self.rules, key=lambda r: -r.policy.priority):  # stable: declaration order within a priority
            for kind in rule.on:
                by_type[kind].append(rule)
        self._by_type = dict(by_type)
        self._store = store
        self._steering = steering
        self._actions = actions
        self._metrics = metrics
        self._clock = clock
        self._phases = phases
        self._defaults = dict(defaults or {})
        self._observe = observe
        self._fired: dict[str, int] = collections.Counter()
        self._last: dict[str, float] = {}
        self._queue: collections.deque[Any] = collections.deque()
        self._draining = False

    def wants(self, kind: type) -> bool:
        """Whether any rule reacts to events of ``kind`` (callers skip building the others)."""
        return kind in self._by_type

    def fired(self, name: str) -> int:
        return self._fired[name]

    # ------------------------------------------------------------ events

    def post(self, event: Any) -> None:
        """Hand ``event`` to the observer now and queue it for the rules (handled at
        the next drain; dropped at once when no rule wants its type)."""
        if self._observe is not None:
            self._observe(event)
        if type(event) in self._by_type:
            self._queue.append(event)

    async def emit(self, event: Any) -> None:
        self.post(event)
        await self.drain()

    async def drain(self) -> None:
        if self._draining:
            return  # an effect posted it; the running drain will get to it
        self._draining = True
        try:
            handled = 0
            while self._queue:
                if handled >= MAX_EVENTS_PER_DRAIN:
                    log.warning("reactor: %d events still queued after %d in one chain; dropping them (a rule loop?)", len(self._queue), handled)
                    self._metrics.effect_failures += 1
                    self._queue.clear()
                    break
                event = self._queue.popleft()
                handled += 1
                for rule, effects in self.evaluate(event):
                    await self.run(effects, event=event, source=rule.name)
        finally:
            self._draining = False

    def evaluate(self, event: Any) -> list[tuple[Rule, tuple[Effect, ...]]]:
        """The rules ``event`` fires (their policies updated), with their effects."""
        rules = self._by_type.get(type(event))
        if not rules:
            return []
        now = self._clock()
        state = self._store.view
        phase = self._phases.current.name if self._phases is not None else None
        fired: list[tuple[Rule, tuple[Effect, ...]]] = []
        for rule in rules:
            if rule.phases is not None and phase not in rule.phases:
                continue
            if rule.when is not None and not _holds(rule.when, event, state, rule.name):
                continue
            if rule.detector is not None and not rule.detector.feed(now, rule.observe(event)):
                continue
            if not self._allowed(rule, now):
                continue
            self._fired[rule.name] += 1
            self._last[rule.name] = now
            try:
                effects = rule.effects_for(event, state)
            except Exception as exc:  # noqa: BLE001 - a user function must not break the conversation
                log.warning("reactor rule %s: effects failed: %s", rule.name, exc)
                self._metrics.effect_failures += 1
                effects = ()
            self._metrics.rules_fired.append(RuleFiring(rule.name, type(event).__name__, now, tuple(effect_label(e) for e in effects)))
            fired.append((rule, effects))
            if rule.stop:
                break
        return fired

    def _allowed(self, rule: Rule, now: float) -> bool:
        policy, count = rule.policy, self._fired[rule.name]
        if policy.once and count:
            return False
        if policy.max_per_session is not None and count >= policy.max_per_session:
            return False
        last = self._last.get(rule.name)
        return not (policy.cooldown_s and last is not None and now - last < policy.cooldown_s)

    # ------------------------------------------------------------ effects

    async def run(self, effects: Sequence[Effect], *, event: Any = None, source: str = "") -> None:
        """Run effects in order (the one executor, for rules and repairs alike)."""
        for effect in effects:
            try:
                await self._execute(effect, event, source)
            except Exception as exc:  # noqa: BLE001 - an effect must not break the conversation
                log.warning("reactor %s: %s failed: %s", source or "effect", effect_label(effect), exc)
                self._metrics.effect_failures += 1

    async def _execute(self, effect: Effect, event: Any, source: str) -> None:
        state = self._store.view
        match effect:
            case Steer():
                await self._steer(effect, state)
            case GoToPhase(phase=target):
                if self._phases is None:
                    raise ReactorError(f"cannot go to phase {target!r}: this conversation has no phases")
                if not await self._phases.go(target, trigger=f"rule:{source}" if source else "reactor"):
                    log.info("reactor %s: no transition to %s from here", source, target)
            case SetState(key=key, value=value, compute=compute):
                self._store.set(key, compute(event, state) if compute is not None else value)
            case CancelResponse():
                await self._need_actions().cancel_response()
            case SpeakBridge(text=text):
                await self._need_actions().speak(render(text, state, self._defaults))
            case DispatchAgent():
                self._dispatch(effect, state)
            case EndSession(reason=reason):
                await self._need_actions().end_session(reason)

    async def _steer(self, effect: Steer, state: Mapping[str, Any]) -> None:
        if effect.kind is SteerKind.REFRESH:
            await self._steering.refresh_instructions(delivery=effect.delivery)
            return
        parts = [render(effect.text, state, self._defaults)] if effect.text else []
        if effect.context is not None:
            parts.append(effect.context.render(state))
        text = "\n\n".join(p for p in parts if p)
        if not text:
            return
        if effect.kind is SteerKind.INSTRUCTIONS:
            await self._steering.update_instructions(text, delivery=effect.delivery)
        else:
            await self._steering.inject_context(text, delivery=effect.delivery, respond=effect.respond)

    def _need_actions(self) -> ReactorActions:
        if self._actions is None:
            raise ReactorError("this effect needs a running voice controller")
        return self._actions

    def _dispatch(self, effect: DispatchAgent, state: Mapping[str, Any]) -> None:
        task = render(effect.task, state, self._defaults)

        async def done(result: str | None, error: str) -> None:
            self.post(AgentFinished(task, result, error))
            if result is None:
                log.warning("background agent failed: %s", error)
                self._metrics.effect_failures += 1
                await self.drain()
                return
            if effect.result_key is not None:
                self._store.set(effect.result_key, result)
            if effect.inject:
                text = AGENT_RESULT.format(task=task[:TASK_LABEL_CHARS], result=result)
                await self._steering.inject_context(text, delivery=Delivery.DEFERRED, respond=True)
            await self.drain()

        if not self._need_actions().dispatch_agent(task, done, profile=effect.profile):
            raise ReactorError("no background agent dispatcher is configured")


def _holds(when: Callable[[Any, Mapping[str, Any]], bool], event: Any, state: Mapping[str, Any], name: str) -> bool:
    try:
        return bool(when(event, state))
    except Exception as exc:  # noqa: BLE001 - a user predicate must not break the conversation
        log.warning("reactor rule %s: predicate failed: %s", name, exc)
        return False
