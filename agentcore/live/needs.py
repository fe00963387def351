"""Needs and repair: what a phase must learn, and nudges when it is stuck.

A phase declares :class:`Need` s: state keys that must be filled (the caller's
name, an order number). :class:`NeedTracker` counts the user turns and the
seconds each unmet need has waited since the phase began (or since its last
repair). When a need has waited ``after_turns`` turns or ``after_s`` seconds,
a :class:`Repair` is due: first a re-ask, then a rephrase, then, if the need
declares one, an escalation (a declared phase transition or its own effects),
after which the need is left alone for the rest of the phase.

Invariants: a repair is only proposed while the conversation is idle (so it
is spoken at once instead of queued behind an answer that might fill the
need), for at most one need at a time, and a need that is filled is never
repaired. The tracker only decides; repairs are effects run by the reactor's
executor and recorded in telemetry by the caller.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from agentcore.live.reactions import Effect, GoToPhase, Steer
from agentcore.live.steering import Delivery, SteerKind

REASK = "You still need {ask} from the caller. Ask for it again now, in one short sentence."
REPHRASE = "You still do not have {ask}. Ask for it differently: say briefly why you need it, or give an example of what it looks like."
MAX_REPAIRS = 3  # per need and phase, escalation included


class RepairAction(enum.Enum):
    REASK = "reask"
    REPHRASE = "rephrase"
    ESCALATE = "escalate"


def _filled(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != ()


@attrs.frozen
class Need:
    """``key`` must be filled in state; ``ask`` names it for the model ("the order number").

    ``reask``/``rephrase`` replace the default repair texts (templates over state;
    ``{ask}`` is the need's ``ask``); ``escalate`` is a phase name (taken through a
    declared transition) or effects; ``filled`` decides when a value counts."""

    key: str
    ask: str
    after_turns: int | None = 2
    after_s: float | None = None
    reask: str = REASK
    rephrase: str = REPHRASE
    escalate: str | Sequence[Effect] | None = None
    max_repairs: int = MAX_REPAIRS
    filled: Callable[[Any], bool] = _filled


@attrs.frozen
class Repair:
    need: Need
    action: RepairAction
    attempt: int  # 1-based
    reason: str  # "turns" | "time"
    effects: tuple[Effect, ...]


@attrs.define
class _Progress:
    since: float
    turns: int = 0
    attempts: int = 0


class NeedTracker:
    def __init__(self) -> None:
        self._needs: tuple[Need, ...] = ()
        self._progress: dict[str, _Progress] = {}

    def enter(self, needs: Sequence[Need], now: float) -> None:
        """A phase began: track its needs from zero."""
        self._needs = tuple(needs)
        self._progress = {n.key: _Progress(now) for n in self._needs}

    def user_turn(self) -> None:
        for progress in self._progress.values():
            progress.turns += 1

    def unmet(self, state: Mapping[str, Any]) -> list[Need]:
        return [n for n in self._needs if not n.filled(state.get(n.key))]

    def due(self, state: Mapping[str, Any], now: float) -> Repair | None:
        """The repair to steer now, if any (call while the conversation is idle)."""
        for need in self._needs:
            progress = self._progress[need.key]
            if need.filled(state.get(need.key)):
                progress.turns, progress.since = 0, now
                continue
            if progress.attempts >= need.max_repairs:
                continue
            if need.after_turns is not None and progress.turns >= need.after_turns:
                reason = "turns"
            elif need.after_s is not None and now - progress.since >= need.after_s:
                reason = "time"
            else:
                continue
            progress.attempts += 1
            progress.turns, progress.since = 0, now
            action = self._action(need, progress.attempts)
            if action is RepairAction.ESCALATE:
                progress.attempts = need.max_repairs  # escalated: leave it to the next phase
            return Repair(need, action, progress.attempts, reason, _effects(need, action))
        return None

    @staticmethod
    def _action(need: Need, attempt: int) -> RepairAction:
        if attempt == 1:
            return RepairAction.REASK
        if need.escalate is not None and attempt >= 3:
            return RepairAction.ESCALATE
        return RepairAction.REPHRASE


def _effects(need: Need, action: RepairAction) -> tuple[Effect, ...]:
    if action is RepairAction.ESCALATE:
        if isinstance(need.escalate, str):
            return (GoToPhase(need.escalate),)
        return tuple(need.escalate or ())
    text = need.reask if action is RepairAction.REASK else need.rephrase
    # The need's own wording fills {ask}; every other placeholder reads state.
    text = text.replace("{ask}", need.ask.replace("{", "{{").replace("}", "}}"))
    return (Steer(text, kind=SteerKind.CONTEXT, delivery=Delivery.IMMEDIATE, respond=True),)


def all_filled(*keys: str) -> Callable[[Any], bool]:
    """A transition guard: every key has a value."""
    return lambda store: all(_filled(store.get(k)) for k in keys)
