"""The reactor's vocabulary: typed effects, rules and policies.

An event is something the conversation did (the user finished a turn, a tool
failed, the phase changed): one of the typed values of
:mod:`agentcore.live.control_events`, which the callbacks get too. A
:class:`Rule` says which event types it reacts to,
when (a predicate over the event and state, a temporal detector, the phase)
and how often (:class:`Policy`: cooldown, once, a maximum per session,
priority); when it fires, its effects run in order, by the one executor in
:mod:`agentcore.live.reactor`.

Invariant: these are plain values; nothing here touches the conversation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

import attrs

from agentcore.live.steering import Delivery, SteerKind

if TYPE_CHECKING:
    from agentcore.live.instructions import ContextBuilder


class Detector(Protocol):
    """A temporal detector (``agentcore.live.phases``: ``ConsecutiveFailures``, ``RateDetector``...)."""

    def feed(self, now: float, value: bool) -> bool: ...


# ------------------------------------------------------------------ effects


@attrs.frozen
class Steer:
    """Steer the model: ``text`` is a template over state. With ``context`` the
    narrative of that builder is sent instead (or after ``text``)."""

    text: str = ""
    kind: SteerKind = SteerKind.CONTEXT
    delivery: Delivery = Delivery.DEFERRED
    respond: bool = False
    context: ContextBuilder | None = None


@attrs.frozen
class GoToPhase:
    phase: str


@attrs.frozen
class SetState:
    """Set ``key`` to ``value``, or to ``compute(event, state)`` when given."""

    key: str
    value: Any = None
    compute: Callable[[Any, Mapping[str, Any]], Any] | None = None


@attrs.frozen
class CancelResponse:
    """Stop the answer being generated or played (keeps what was heard)."""


@attrs.frozen
class SpeakBridge:
    """Have the assistant say ``text`` (a template) now, e.g. "one moment please"."""

    text: str


@attrs.frozen
class DispatchAgent:
    """Run a background text agent on ``task`` (a template) with ``profile`` (None:
    the first profile the session may spawn); its answer goes to ``result_key`` in
    state and, with ``inject``, into the conversation as context, and an
    ``AgentFinished`` event reports it either way."""

    task: str
    result_key: str | None = None
    inject: bool = True
    profile: str | None = None


@attrs.frozen
class EndSession:
    reason: str = "ended by a rule"


Effect: TypeAlias = Steer | GoToPhase | SetState | CancelResponse | SpeakBridge | DispatchAgent | EndSession

# ------------------------------------------------------------------ rules


@attrs.frozen
class Policy:
    """How often a rule may fire: at most once, at most ``max_per_session`` times,
    not again within ``cooldown_s``; higher ``priority`` rules are considered first."""

    priority: int = 0
    cooldown_s: float = 0.0
    once: bool = False
    max_per_session: int | None = None


def _types(value: type | Sequence[type]) -> tuple[type, ...]:
    return (value,) if isinstance(value, type) else tuple(value)


@attrs.frozen
class Rule:
    """When an event of a type in ``on`` arrives (in one of ``phases``, if given),
    ``when(event, state)`` holds and ``detector`` (fed ``observe(event)``) fires,
    and the policy allows: run ``effects`` (values, or a function of the event and
    state returning them). ``stop`` keeps lower-priority rules from reacting to
    the same event."""

    name: str
    on: tuple[type, ...] = attrs.field(converter=_types)
    effects: Sequence[Effect] | Callable[[Any, Mapping[str, Any]], Sequence[Effect]] = ()
    when: Callable[[Any, Mapping[str, Any]], bool] | None = None
    detector: Detector | None = None
    observe: Callable[[Any], bool] = lambda _event: True
    phases: tuple[str, ...] | None = None
    policy: Policy = Policy()
    stop: bool = False

    def effects_for(self, event: Any, state: Mapping[str, Any]) -> tuple[Effect, ...]:
        return tuple(self.effects(event, state) if callable(self.effects) else self.effects)


def effect_label(effect: Effect) -> str:
    """A short description for telemetry ("steer:context", "phase:help")."""
    match effect:
        case Steer(kind=kind):
            return f"steer:{kind.value}"
        case GoToPhase(phase=phase):
            return f"phase:{phase}"
        case SetState(key=key):
            return f"set:{key}"
        case CancelResponse():
            return "cancel"
        case SpeakBridge():
            return "speak"
        case DispatchAgent():
            return "agent"
        case EndSession():
            return "end"
    return type(effect).__name__
