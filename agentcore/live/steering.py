"""Steering a live conversation from outside the model.

Two ways to steer, two times to deliver:

* an **instruction update** changes how the model behaves from now on (the
  backend's session instructions); nothing enters the transcript;
* a **context injection** tells the model something (a fact, an outcome); it
  enters canonical history as a context message, and may ask for a response.

``IMMEDIATE`` delivery sends at once, even mid-answer; ``DEFERRED`` waits until
the conversation is back to listening, so the user's turn or the model's
answer is never disturbed; ``NEXT_TURN`` holds the message until the user
starts their next turn and sends it then, bundled with what they say (it is in
the conversation before the model answers them, and never prompts an answer of
its own).

Invariant: every message is delivered exactly once, in submission order within
its delivery kind.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable

import attrs

from agentcore.messages import MessageKind


class Delivery(enum.Enum):
    IMMEDIATE = "immediate"
    DEFERRED = "deferred"  # when the conversation is idle
    NEXT_TURN = "next_turn"  # with the user's next turn


class SteerKind(enum.Enum):
    INSTRUCTIONS = "instructions"
    CONTEXT = "context"
    REFRESH = "refresh"  # re-send the instructions as they render now (state changed)


@attrs.frozen
class SteeringMessage:
    kind: SteerKind
    text: str
    respond: bool = False


class Steering:
    def __init__(
        self,
        *,
        apply_instructions: Callable[[str], Awaitable[None]],
        inject: Callable[[str, MessageKind, bool], Awaitable[None]],
        idle: Callable[[], bool],
    ) -> None:
        self._apply_instructions = apply_instructions
        self._inject = inject
        self._idle = idle
        self._deferred: list[SteeringMessage] = []
        self._next_turn: list[SteeringMessage] = []
        self.extra_instructions = ""
        self.delivered: list[SteeringMessage] = []

    @property
    def pending(self) -> int:
        return len(self._deferred) + len(self._next_turn)

    async def update_instructions(self, text: str, *, delivery: Delivery = Delivery.IMMEDIATE) -> None:
        await self._submit(SteeringMessage(SteerKind.INSTRUCTIONS, text), delivery)

    async def inject_context(self, text: str, *, delivery: Delivery = Delivery.DEFERRED, respond: bool = False) -> None:
        await self._submit(SteeringMessage(SteerKind.CONTEXT, text, respond), delivery)

    async def refresh_instructions(self, *, delivery: Delivery = Delivery.IMMEDIATE) -> None:
        """Re-send the instructions (their state templates render differently now)."""
        if delivery is not Delivery.IMMEDIATE and any(m.kind is SteerKind.REFRESH for m in self._deferred):
            return  # one pending refresh renders the latest state anyway
        await self._submit(SteeringMessage(SteerKind.REFRESH, ""), delivery)

    async def _submit(self, message: SteeringMessage, delivery: Delivery) -> None:
        if delivery is Delivery.NEXT_TURN:
            self._next_turn.append(message if message.kind is not SteerKind.CONTEXT else attrs.evolve(message, respond=False))
        elif delivery is Delivery.IMMEDIATE or self._idle():
            await self._deliver(message)
        else:
            self._deferred.append(message)

    async def user_turn_started(self) -> None:
        """The user started talking: send what waits for their next turn."""
        while self._next_turn:
            await self._deliver(self._next_turn.pop(0))

    async def flush(self) -> None:
        """Deliver deferred messages; the control plane calls this when listening."""
        while self._deferred and self._idle():
            await self._deliver(self._deferred.pop(0))

    async def _deliver(self, message: SteeringMessage) -> None:
        match message.kind:
            case SteerKind.INSTRUCTIONS:
                self.extra_instructions = message.text
                await self._apply_instructions(message.text)
            case SteerKind.CONTEXT:
                await self._inject(message.text, MessageKind.CONTEXT, message.respond)
            case SteerKind.REFRESH:
                await self._apply_instructions(self.extra_instructions)
        self.delivered.append(message)
