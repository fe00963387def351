"""The conversation's state: computed variables, session signals, watchers with
predicates, and instructions rendered from state (templates, modifiers, the
context narrative)."""

from __future__ import annotations

import pytest

from agentcore.live.computed import Computed, StateConfigError
from agentcore.live.instructions import (
    ContextBuilder,
    InstructionModifier,
    compose,
    render,
)
from agentcore.live.signals import (
    INTERRUPTIONS,
    PHASE,
    PHASE_S,
    SILENCE_S,
    TOOL_FAILURE_STREAK,
    TURN_COUNT,
    SessionSignals,
)
from agentcore.live.store import ReservedKeyError, StateStore, became, filled, rose_to


def test_computed_variables_follow_their_dependencies_in_order():
    evaluated: list[str] = []

    def full_name(s):
        evaluated.append("full_name")
        return f"{s.get('first') or ''} {s.get('last') or ''}".strip() or None

    def greeting(s):
        evaluated.append("greeting")
        return f"Hello {s['full_name']}" if s.get("full_name") else "Hello"

    # Declared out of order: the store evaluates full_name before greeting.
    store = StateStore(
        {"first": None},
        keys=("last",),
        computed=[Computed("greeting", ("full_name",), greeting), Computed("full_name", ("first", "last"), full_name)],
    )
    assert store["greeting"] == "Hello" and evaluated == ["full_name", "greeting"]
    seen: list[tuple[str, object, object]] = []
    store.watch("*", lambda k, o, n: seen.append((k, o, n)))
    evaluated.clear()
    store.set("first", "Ada")
    assert evaluated == ["full_name", "greeting"]
    store.set("last", "Lovelace")
    assert store["full_name"] == "Ada Lovelace" and store["greeting"] == "Hello Ada Lovelace"
    assert seen[-3:] == [("last", None, "Lovelace"), ("full_name", "Ada", "Ada Lovelace"), ("greeting", "Hello Ada", "Hello Ada Lovelace")]
    with pytest.raises(ReservedKeyError, match="computed"):
        store.set("greeting", "hi")


def test_computed_cycles_and_unknown_keys_are_rejected_when_built():
    with pytest.raises(StateConfigError, match=r"cycle: a -> b -> c -> a"):
        StateStore({"x": 1}, computed=[Computed("a", ("b",), len), Computed("b", ("c",), len), Computed("c", ("a",), len)])
    with pytest.raises(StateConfigError, match=r"'total' depends on unknown key 'prize'"):
        StateStore({"price": 1}, computed=[Computed("total", ("prize",), len)])
    with pytest.raises(StateConfigError, match="declared twice"):
        StateStore(computed=[Computed("a", (), len), Computed("a", (), len)])
    # Signals are known keys: a computed variable may depend on them.
    store = StateStore(computed=[Computed("long_call", (TURN_COUNT,), lambda s: (s.get(TURN_COUNT) or 0) >= 2)])
    signals = SessionSignals(store, lambda: 0.0)
    signals.user_turn()
    assert store["long_call"] is False
    signals.user_turn()
    assert store["long_call"] is True


def test_a_failing_computed_function_yields_none_instead_of_breaking_the_call():
    store = StateStore({"n": 1}, computed=[Computed("inverse", ("n",), lambda s: 1 / s["n"])])
    assert store["inverse"] == 1.0
    store.set("n", 0)
    assert store["inverse"] is None


def test_session_signals_are_state_that_user_code_cannot_write():
    now = [100.0]
    store = StateStore()
    signals = SessionSignals(store, lambda: now[0])
    with pytest.raises(ReservedKeyError, match="session"):
        store.set(TURN_COUNT, 99)
    with pytest.raises(ReservedKeyError, match="already"):
        store.claim_signals()  # one writer only
    with pytest.raises(ReservedKeyError):
        StateStore({"session.phase": "fake"})
    signals.phase("greet")
    signals.user_turn()
    signals.interruption()
    signals.tool_result("lookup", False, "timeout")
    signals.tool_result("lookup", False, "timeout again")
    assert store[TURN_COUNT] == 1 and store[INTERRUPTIONS] == 1 and store[TOOL_FAILURE_STREAK] == 2
    assert store["session.last_tool_failure"] == "lookup" and store["session.last_tool_error"] == "timeout again"
    signals.tool_result("lookup", True)
    assert store[TOOL_FAILURE_STREAK] == 0 and store["session.last_tool_failure"] == "lookup"
    assert signals.tick(idle=False) == 0.0
    now[0] = 101.0
    signals.tick(idle=True)  # silence starts now
    now[0] = 103.55
    assert signals.tick(idle=True) == 2.5 and store[SILENCE_S] == 2.5
    assert store[PHASE] == "greet" and store[PHASE_S] == 3.5
    signals.tick(idle=False)
    assert store[SILENCE_S] == 0.0
    # A snapshot restores the signals through the store, not through set().
    other = StateStore()
    other.restore(store.as_dict())
    assert other[TURN_COUNT] == 1 and other[PHASE] == "greet"


def test_watchers_fire_only_when_their_predicate_holds():
    store = StateStore({"attempts": 0, "status": "open"})
    fired: list[str] = []
    store.watch("attempts", lambda k, o, n: fired.append(f"attempts {o}->{n}"), when=rose_to(3))
    store.watch("status", lambda k, o, n: fired.append(f"status {n}"), when=became("closed"))
    store.watch("name", lambda k, o, n: fired.append(f"name {n}"), when=filled())
    unwatch = store.watch("attempts", lambda k, o, n: fired.append("any attempts change"))
    for n in (1, 2, 3, 4, 2, 5):
        store.set("attempts", n)
    unwatch()
    store.set("attempts", 6)
    store.set("status", "pending")
    store.set("status", "closed")
    store.set("status", "closed")  # no change, no call
    store.set("name", "")
    store.set("name", "Ada")
    store.set("name", "Bob")  # already filled
    assert fired == [
        "any attempts change",
        "any attempts change",
        "attempts 2->3",
        "any attempts change",
        "any attempts change",
        "any attempts change",
        "attempts 2->5",
        "any attempts change",
        "status closed",
        "name Ada",
    ]


def test_templates_render_missing_keys_as_defaults_or_empty_and_run_nothing():
    state = {"name": "Ada", "count": 3.0, "vip": True, "items": ["tea", "cake"], "blank": "", "obj": object()}
    assert render("Hello {name}, {count} calls, vip: {vip}, wants {items}.", state) == "Hello Ada, 3 calls, vip: yes, wants tea, cake."
    assert render("Order {order_number|not given yet}; note: [{missing}]", state) == "Order not given yet; note: []"
    assert render("Ask for {order_number}", state, defaults={"order_number": "the order number"}) == "Ask for the order number"
    assert render("{blank|empty}", state) == "empty"
    # Literal braces, and no attribute access, indexing, format specs or calls.
    assert render("{{json}} {name.__class__} {name!r} {name:>10} {items[0]}", state) == "{json}  {name!r} {name:>10} {items[0]}"
    assert render('{"a": 1}', state) == '{"a": 1}'
    assert len(render("{long}", {"long": "x" * 5000})) <= 300


def test_modifiers_and_the_context_builder_compose_the_instructions():
    modifiers = (
        InstructionModifier("The caller is frustrated: apologise once and be brief.", when=lambda s: s.get("session.interruptions", 0) >= 2),
        InstructionModifier("Address {name} by name.", when=lambda s: bool(s.get("name"))),
        InstructionModifier("never shown", when=lambda s: s["no such key"]),  # raises: counts as false
    )
    context = ContextBuilder([("name", "the caller's name"), ("order", "the order number")], missing="Still missing: {missing}.")
    state: dict = {}
    assert compose("Take the order.", modifiers, context, state) == "Take the order.\n\nStill missing: the caller's name, the order number."
    state = {"name": "Ada", "order": 42, "session.interruptions": 2}
    assert compose("Take the order for {name}.", modifiers, context, state) == (
        "Take the order for Ada.\n\n"
        "The caller is frustrated: apologise once and be brief.\n\n"
        "Address Ada by name.\n\n"
        "Known so far: the caller's name is Ada; the order number is 42."
    )


async def test_next_turn_steering_waits_for_the_user_and_never_asks_for_an_answer():
    from agentcore.live.steering import Delivery, Steering
    from agentcore.messages import MessageKind

    sent: list[tuple] = []

    async def apply(text: str) -> None:
        sent.append(("instructions", text))

    async def inject(text: str, kind: MessageKind, respond: bool) -> None:
        sent.append((kind.value, text, respond))

    steering = Steering(apply_instructions=apply, inject=inject, idle=lambda: True)
    await steering.inject_context("The caller is a premium customer.", delivery=Delivery.NEXT_TURN, respond=True)
    await steering.update_instructions("Be formal.", delivery=Delivery.NEXT_TURN)
    await steering.flush()  # idle is not enough: these wait for the user
    assert sent == [] and steering.pending == 2
    await steering.user_turn_started()
    assert sent == [("context", "The caller is a premium customer.", False), ("instructions", "Be formal.")]
    assert steering.pending == 0
