"""Conversation structure: phases, watched state and temporal detectors.

* :class:`StateStore` (``agentcore.live.store``, re-exported here) holds named
  values the conversation accumulates, computed variables and the session
  signals; watchers run when a key changes.
* :class:`PhaseMachine` moves between named :class:`Phase` s, each with its own
  instructions and allowed tools, along guarded :class:`Transition` s, calling
  on-enter/on-exit hooks. The control plane re-seeds the backend's
  instructions and tools on every change.
* Detectors turn a stream of observations into "now" moments: a condition held
  long enough, too many events in a window, every n-th turn, n failures in a
  row. They are pure (the caller passes the clock), so tests need no timers.
"""

from __future__ import annotations

import collections
import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

import attrs
import trio

from agentcore.errors import VoiceError
from agentcore.live.store import StateStore, Watcher  # noqa: F401  (re-exported: they lived here first)

if TYPE_CHECKING:
    from agentcore.live.instructions import ContextBuilder, InstructionModifier
    from agentcore.live.needs import Need
Guard = Callable[["StateStore"], bool]
Hook = Callable[["Phase", "StateStore"], Awaitable[None] | None]
ANY_PHASE = "*"


class PhaseError(VoiceError, ValueError):
    """A phase configuration that cannot work (unknown phase, duplicate name)."""


@attrs.frozen
class PhaseTransition:
    """A phase change as it happened: from, to, why (``trigger``) and when (trio clock s)."""

    source: str
    target: str
    trigger: str  # "guard" (an automatic transition), "request" (go), or the caller's own word
    at: float


def always(_: StateStore) -> bool:
    return True


@attrs.frozen
class Phase:
    name: str
    instructions: str = ""
    allowed_tools: tuple[str, ...] | None = None  # None: every session tool
    on_enter: Hook | None = None
    on_exit: Hook | None = None
    # Instructions from state (agentcore.live.instructions): ``instructions`` may be a
    # template over state ("{caller_name|the caller}"); modifiers add text while their
    # predicate holds; ``context`` renders selected state as a short narrative.
    modifiers: tuple[InstructionModifier, ...] = ()
    context: ContextBuilder | None = None
    needs: tuple[Need, ...] = ()  # fields this phase must fill (agentcore.live.needs)

    def allows(self, tool: str) -> bool:
        return self.allowed_tools is None or tool in self.allowed_tools


@attrs.frozen
class Transition:
    source: str  # a phase name or "*"
    target: str
    guard: Guard = always
    automatic: bool = True  # taken as soon as the guard holds; otherwise only on request


async def _call(hook: Hook | None, phase: Phase, store: StateStore) -> None:
    if hook is None:
        return
    result = hook(phase, store)
    if inspect.isawaitable(result):
        await result


class PhaseMachine:
    def __init__(self, phases: Iterable[Phase], transitions: Iterable[Transition], *, initial: str, store: StateStore | None = None) -> None:
        self._phases: dict[str, Phase] = {}
        for phase in phases:
            if phase.name in self._phases:
                raise PhaseError(f"phase {phase.name!r} is defined twice")
            self._phases[phase.name] = phase
        self._transitions = list(transitions)
        for t in self._transitions:
            for name in (t.source, t.target):
                if name != ANY_PHASE and name not in self._phases:
                    raise PhaseError(f"transition {t.source!r} -> {t.target!r} names unknown phase {name!r}")
        if initial not in self._phases:
            raise PhaseError(f"initial phase {initial!r} is not defined")
        self._current = self._phases[initial]
        self.store = store or StateStore()
        self._listeners: list[Callable[[Phase, Phase], Awaitable[None]]] = []
        self.transitions: list[PhaseTransition] = []  # every change taken, oldest first
        self._observers: list[Callable[[PhaseTransition], None]] = []
        self.dirty = False
        self.store.watch(ANY_PHASE, self._mark_dirty)

    def _mark_dirty(self, _key: str, _old: Any, _new: Any) -> None:
        self.dirty = True

    @property
    def current(self) -> Phase:
        return self._current

    def on_change(self, listener: Callable[[Phase, Phase], Awaitable[None]]) -> None:
        self._listeners.append(listener)

    def observe(self, observer: Callable[[PhaseTransition], None]) -> None:
        """Call ``observer(transition)`` as each transition is taken (before the async listeners)."""
        self._observers.append(observer)

    def restore(self, name: str) -> None:
        """Resume in phase ``name`` (from a snapshot) without running hooks."""
        if name not in self._phases:
            raise PhaseError(f"snapshot names unknown phase {name!r}")
        self._current = self._phases[name]

    async def enter_initial(self) -> None:
        await _call(self._current.on_enter, self._current, self.store)

    def _candidates(self, *, automatic_only: bool) -> list[Transition]:
        return [
            t for t in self._transitions
            if t.source in (self._current.name, ANY_PHASE) and t.target != self._current.name and (t.automatic or not automatic_only)
        ]

    async def go(self, target: str, *, trigger: str = "request") -> bool:
        """Take the transition to ``target`` if one exists from here and its guard holds."""
        if target not in self._phases:
            raise PhaseError(f"unknown phase {target!r}")
        for t in self._candidates(automatic_only=False):
            if t.target == target and t.guard(self.store):
                await self._move(self._phases[target], trigger)
                return True
        return False

    async def evaluate(self) -> bool:
        """Take the first automatic transition whose guard holds (once per call)."""
        self.dirty = False
        for t in self._candidates(automatic_only=True):
            if t.guard(self.store):
                await self._move(self._phases[t.target], "guard")
                return True
        return False

    async def _move(self, target: Phase, trigger: str = "request") -> None:
        old = self._current
        await _call(old.on_exit, old, self.store)
        self._current = target
        transition = PhaseTransition(old.name, target.name, trigger, trio.current_time())
        self.transitions.append(transition)
        for observer in tuple(self._observers):
            observer(transition)  # synchronously: the record is in order even if listeners interleave
        await _call(target.on_enter, target, self.store)
        for listener in self._listeners:
            await listener(old, target)


# ------------------------------------------------------------------ detectors


class Detector(Protocol):
    def feed(self, now: float, value: bool) -> bool:
        """Record one observation at time ``now``; True when the detector fires."""
        ...


@attrs.define
class SustainedCondition:
    """Fires once when ``value`` has been true for ``hold_s`` without a break."""

    hold_s: float
    _since: float | None = None
    _fired: bool = False

    def feed(self, now: float, value: bool) -> bool:
        if not value:
            self._since, self._fired = None, False
            return False
        if self._since is None:
            self._since = now
        if not self._fired and now - self._since >= self.hold_s:
            self._fired = True
            return True
        return False


@attrs.define
class RateDetector:
    """Fires when ``threshold`` events fall within ``window_s`` (then starts over)."""

    window_s: float
    threshold: int
    _times: collections.deque[float] = attrs.Factory(collections.deque)

    def feed(self, now: float, value: bool = True) -> bool:
        if not value:
            return False
        self._times.append(now)
        while self._times and now - self._times[0] > self.window_s:
            self._times.popleft()
        if len(self._times) >= self.threshold:
            self._times.clear()
            return True
        return False


@attrs.define
class TurnCounter:
    """Fires on every ``every``-th turn."""

    every: int
    count: int = 0

    def feed(self, now: float, value: bool = True) -> bool:
        if not value:
            return False
        self.count += 1
        return self.count % self.every == 0


@attrs.define
class ConsecutiveFailures:
    """Fires when ``limit`` failures (``value`` False) arrive in a row."""

    limit: int
    streak: int = 0

    def feed(self, now: float, value: bool) -> bool:
        if value:
            self.streak = 0
            return False
        self.streak += 1
        if self.streak >= self.limit:
            self.streak = 0
            return True
        return False
