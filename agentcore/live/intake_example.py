"""A phone-style intake flow for a repair shop: the complete example of
docs/voice.md ("A complete example").

The caller is greeted, gives their name and their repair order number, hears
both read back, confirms, and the call ends::

    greet --(first answer)--> collect --(name and number known)--> confirm --(caller says yes)--> done --(goodbye said)--> end

* **Phases** with instructions that are templates over state (``{caller_name}``)
  and, while collecting, a narrative of what is known and still missing.
* **Extraction**: after each answer in ``greet`` and ``collect`` a
  :class:`TurnExtractor` asks the session's own model (one forced
  ``record_fields`` call) for the caller's name and order number; they land
  in state and are promoted to the session's metadata (``caller``,
  ``repair_order``), so ``agent sessions list --meta`` shows them.
* **Needs and repair**: ``collect`` needs the order number; when the caller
  answers a turn without giving it, the assistant is steered to ask again.
* **Reactor rules**: move on after the greeting, read back on entering
  ``confirm``, take a "yes" as confirmation, end the call after the goodbye.

It runs with any backend; ``tests/live/test_live_intake_example.py`` runs it
offline with the cascade (espeak-ng speech in, Whisper, a loopback model,
espeak-ng speech out).

Invariant: everything here is declared with the public live API; nothing
reaches into the controller.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import attrs

from agentcore.live.control_events import PhaseChanged, TurnCompleted, UserTurn
from agentcore.live.controller import VoiceConfig, VoiceController
from agentcore.live.director import LiveRules
from agentcore.live.extraction import ExtractField, OnPhase, TurnExtractor
from agentcore.live.instructions import ContextBuilder
from agentcore.live.needs import Need, all_filled
from agentcore.live.outcome import VoiceSummary
from agentcore.live.phases import Phase, PhaseMachine, Transition
from agentcore.live.reactions import (
    EndSession,
    GoToPhase,
    Policy,
    Rule,
    SetState,
    Steer,
)
from agentcore.live.steering import Delivery
from agentcore.live.store import StateStore

SHOP = "Fixit Repairs"
NAME, ORDER = "caller_name", "order_number"  # state keys the extraction fills
YES = re.compile(r"\b(yes|yeah|yep|correct|right)\b", re.IGNORECASE)
CLOSE_REASON = "intake complete"


def intake_phases() -> PhaseMachine:
    known = ContextBuilder([(NAME, "the caller's name"), (ORDER, "the repair order number")], missing="Still missing: {missing}.")
    phases = [
        Phase("greet", "You answer the phone at {shop}. Greet the caller and ask how you can help. Answer in one or two short sentences."),
        Phase(
            "collect",
            "Take down the caller's full name and their repair order number, one at a time. Answer in one or two short sentences.",
            context=known,
            needs=(
                Need(ORDER, "the repair order number", after_turns=1, reask="You still need {ask}. Ask {caller_name|the caller} for it now: it is printed on their receipt."),
                Need(NAME, "the caller's full name", after_turns=2),
            ),
        ),
        Phase("confirm", "Read back the name {caller_name} and the repair order number {order_number}, and ask whether both are right."),
        Phase("done", "Thank {caller_name} and say goodbye: a technician will call about repair order {order_number} today."),
    ]
    transitions = [
        Transition("greet", "collect", automatic=False),  # taken by the "start collecting" rule
        Transition("collect", "confirm", guard=all_filled(NAME, ORDER)),  # as soon as both are known
        Transition("confirm", "done", automatic=False),  # taken by the "confirmed" rule
    ]
    return PhaseMachine(phases, transitions, initial="greet", store=StateStore({"shop": SHOP}, keys=(NAME, ORDER)))


def intake_rules() -> LiveRules:
    def said_yes(event: UserTurn, _state: Any) -> bool:
        return YES.search(event.text) is not None

    return LiveRules(
        rules=[
            Rule("start collecting", TurnCompleted, [GoToPhase("collect")], phases=("greet",), policy=Policy(once=True)),
            Rule(
                "read back",
                PhaseChanged,
                [Steer("Read back the name {caller_name} and the repair order number {order_number} now.", delivery=Delivery.IMMEDIATE, respond=True)],
                when=lambda e, _s: e.target == "confirm",
            ),
            Rule("confirmed", UserTurn, [SetState("confirmed", True), GoToPhase("done")], when=said_yes, phases=("confirm",)),
            Rule("hang up", TurnCompleted, [EndSession(CLOSE_REASON)], phases=("done",)),
        ]
    )


def intake_extractor(session: Any, store: StateStore) -> TurnExtractor:
    return TurnExtractor(
        session,
        [
            ExtractField(NAME, "the caller's full name", promote="caller"),
            ExtractField(ORDER, "the repair order number, digits only", promote="repair_order"),
        ],
        store=store,
        triggers=(OnPhase(("greet", "collect")),),
        name="intake",
    )


def intake_controller(session: Any, transport: Any, backend: Callable[[], Any], *, config: VoiceConfig | None = None) -> VoiceController:
    """A controller running the intake flow over ``session`` (``config``'s rules are replaced)."""
    phases = intake_phases()
    return VoiceController(
        session,
        transport,
        backend,
        config=attrs.evolve(config or VoiceConfig(), rules=intake_rules()),
        phases=phases,
        extractors=[intake_extractor(session, phases.store)],
    )


async def run_intake(session: Any, transport: Any, backend: Callable[[], Any]) -> VoiceSummary:
    """Hold one intake call; the summary's reason is ``policy_ended`` with
    :data:`CLOSE_REASON` when the caller confirmed."""
    return await intake_controller(session, transport, backend).run()
