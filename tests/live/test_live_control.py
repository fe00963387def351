"""The control plane: state machine, phases, detectors, steering, snapshots,
soft turns, fallback and the transport's playout accounting."""

from __future__ import annotations

import pytest
import trio

from agentcore import FunctionTool
from agentcore.live.audio import tone
from agentcore.live.backend import BackendConnectError
from agentcore.live.outcome import CloseReason
from agentcore.live.controller import DetectorRule, Signal, VoiceConfig
from agentcore.live.phases import (
    ConsecutiveFailures,
    Phase,
    PhaseError,
    PhaseMachine,
    RateDetector,
    StateStore,
    SustainedCondition,
    Transition,
    TurnCounter,
)
from agentcore.live.snapshot import LiveSnapshot, SnapshotError, SnapshotStore
from agentcore.live.state import IllegalTransition, StateMachine, VoiceState
from agentcore.live.steering import Delivery, Steering
from agentcore.live.transport import Playout
from agentcore.messages import MessageKind
from fake_realtime import FakeRealtimeServer, Reply
from live_helpers import speech_pattern
from test_live_openai import KEY, _run


def _leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


def test_state_machine_rejects_transitions_the_diagram_lacks():
    machine = StateMachine(lambda: 0.0)
    machine.to(VoiceState.LISTENING)
    with pytest.raises(IllegalTransition):
        machine.to(VoiceState.FALLBACK) and machine.to(VoiceState.SPEAKING)  # fallback reconnects to listening
    machine = StateMachine(lambda: 0.0)
    machine.to(VoiceState.LISTENING)
    assert machine.to(VoiceState.USER_SPEAKING) and not machine.to(VoiceState.USER_SPEAKING)


def test_detectors_fire_at_the_right_moment():
    sustained = SustainedCondition(2.0)
    assert [sustained.feed(t, True) for t in (0, 1, 2, 3)] == [False, False, True, False]
    assert not sustained.feed(4, False) and not sustained.feed(5, True)
    rate = RateDetector(window_s=10, threshold=3)
    assert [rate.feed(t) for t in (0, 1, 20, 21, 22)] == [False, False, False, False, True]
    turns = TurnCounter(2)
    assert [turns.feed(0) for _ in range(4)] == [False, True, False, True]
    failures = ConsecutiveFailures(2)
    assert [failures.feed(0, ok) for ok in (False, True, False, False)] == [False, False, False, True]


async def test_phase_machine_guards_hooks_and_watchers():
    seen: list[str] = []
    store = StateStore()
    store.watch("name", lambda key, old, new: seen.append(f"{key}:{old}->{new}"))
    phases = PhaseMachine(
        [
            Phase("greet", "Greet the caller.", allowed_tools=(), on_exit=lambda p, s: seen.append(f"exit {p.name}")),
            Phase("help", "Help the caller.", allowed_tools=("lookup",), on_enter=lambda p, s: seen.append(f"enter {p.name}")),
        ],
        [Transition("greet", "help", guard=lambda s: s.get("name") is not None)],
        initial="greet",
        store=store,
    )
    assert not await phases.evaluate()
    store.set("name", "Ada")
    assert phases.dirty and await phases.evaluate()
    assert phases.current.name == "help" and phases.current.allows("lookup") and not phases.current.allows("bash")
    assert seen == ["name:None->Ada", "exit greet", "enter help"]
    with pytest.raises(PhaseError):
        PhaseMachine([Phase("a")], [Transition("a", "b")], initial="a")


async def test_steering_defers_until_idle():
    idle = False
    sent: list[tuple[str, str]] = []

    async def apply(text: str) -> None:
        sent.append(("instructions", text))

    async def inject(text: str, kind: MessageKind, respond: bool) -> None:
        sent.append((kind.value, text))

    steering = Steering(apply_instructions=apply, inject=inject, idle=lambda: idle)
    await steering.update_instructions("be brief")  # immediate by default
    await steering.inject_context("the order shipped")  # deferred by default
    assert sent == [("instructions", "be brief")] and steering.pending == 1
    await steering.flush()
    assert steering.pending == 1
    idle = True
    await steering.flush()
    assert sent[-1] == ("context", "the order shipped") and steering.pending == 0
    await steering.inject_context("now", delivery=Delivery.IMMEDIATE)
    assert sent[-1] == ("context", "now")


def test_snapshot_round_trip_and_errors(tmp_path):
    store = SnapshotStore(tmp_path / "snap.json")
    assert store.load() is None
    snapshot = LiveSnapshot("sess_1", "gemini-live", phase="help", transcript=("user: hi",), resumption_handle="h1", store={"n": 1})
    store.save(snapshot)
    assert store.load() == snapshot
    (tmp_path / "snap.json").write_text('{"version": 1, "session_id": "s", "backend": "x", "bogus": 1}')
    with pytest.raises(SnapshotError, match="bogus"):
        store.load()


async def test_playout_reports_what_was_heard(autojump_clock):
    written: list[bytes] = []
    playout = Playout(24_000, written.append, paced=True)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(playout.run)
        playout.play("a", tone(300, 24_000), 24_000)
        playout.play("b", tone(300, 24_000), 24_000)
        await trio.sleep(0.45)
        assert playout.played_ms("a") == 300 and playout.played_ms("b") == 150
        assert playout.clear_output() == {"b": 150}
        assert not playout.playing
        await playout.wait_drained()
        nursery.cancel_scope.cancel()
    assert sum(len(w) for w in written) == (300 + 150) * 48  # 24 kHz * 2 bytes per ms


async def test_soft_turn_asks_the_silent_model_to_answer(tmp_path, autojump_clock):
    server = FakeRealtimeServer(transcripts=["hello"], replies=[Reply("Hi")], auto_respond=False)
    pattern = speech_pattern([("silence", 200), ("speech", 600), ("silence", 6000)])
    _s, _c, metrics, _a, rows = await _run(tmp_path, server, pattern, config=VoiceConfig(soft_turn_s=2.0))
    assert metrics.soft_turns == 1
    assert rows == [("user", "hello"), ("assistant", "Hi")]
    assert len(server.connections[0].of_type("response.create")) == 1


async def test_phases_restrict_tools_and_reseed_instructions(tmp_path, autojump_clock):
    ran: list[str] = []

    async def lookup(args, ctx):
        ran.append("lookup")
        return "found"

    tool = FunctionTool("lookup", "Look up.", {"type": "object", "properties": {}}, fn=lookup)
    store = StateStore()
    phases = PhaseMachine(
        [Phase("greet", "Greet first.", allowed_tools=()), Phase("help", "Now help.", allowed_tools=("lookup",))],
        [Transition("greet", "help", guard=lambda s: s.get("turns", 0) >= 1)],
        initial="greet",
        store=store,
    )

    async def count_turn(controller) -> None:
        store.set("turns", store.get("turns", 0) + 1)

    config = VoiceConfig(detectors=(DetectorRule(Signal.USER_TURN, TurnCounter(1), count_turn),))
    server = FakeRealtimeServer(transcripts=["hi", "look it up"], replies=[Reply(tool=("lookup", {})), Reply("Not yet"), Reply(tool=("lookup", {})), Reply("Found it")])
    pattern = speech_pattern([("silence", 200), ("speech", 600), ("silence", 3000), ("speech", 600), ("silence", 4000)])
    from agentcore.live.controller import VoiceController
    from agentcore.live.openai_realtime import OpenAIRealtimeBackend
    from agentcore.live.transport import WavFileTransport
    from live_helpers import build_core, transcript, voice_info

    core = build_core(tmp_path, tools=[tool])
    async with trio.open_nursery() as nursery:
        url = await server.start(nursery)
        async with core.open_session(voice_info(tmp_path)) as session:
            transport = WavFileTransport(None, None, input_pcm=pattern)
            controller = VoiceController(session, transport, lambda: OpenAIRealtimeBackend(api_key=KEY, url=url), config=config, phases=phases)
            with trio.fail_after(120):
                await controller.run()
            rows = transcript(session.history)
        nursery.cancel_scope.cancel()
    assert ran == ["lookup"]  # refused in "greet", allowed in "help"
    assert "not available" in rows[2][1]
    updates = [m["session"] for m in server.connections[0].of_type("session.update")]
    assert updates[0]["tools"] == [] and "Greet first." in updates[0]["instructions"]
    assert [t["name"] for t in updates[-1]["tools"]] == ["lookup"] and "Now help." in updates[-1]["instructions"]


async def test_unreachable_backend_fails_with_a_redacted_error(tmp_path, autojump_clock):
    server = FakeRealtimeServer(transcripts=[], replies=[], refuse=10)
    pattern = speech_pattern([("speech", 200)])
    notices: list[str] = []
    _s, controller, _m, _a, _rows = await _run(
        tmp_path, server, pattern, config=VoiceConfig(reconnect_attempts=2, reconnect_backoff_s=0.01), listener=notices.append
    )
    summary = controller.summary  # an error is the session's close reason, not an exception
    assert summary.reason is CloseReason.ERROR and isinstance(summary.error, BackendConnectError)
    assert "503" in summary.message and KEY not in summary.message
    assert notices and all(KEY not in n for n in notices)


async def test_steering_from_a_detector_reaches_backend_and_history(tmp_path, autojump_clock):
    from agentcore.live.steering import Delivery

    async def steer(controller) -> None:
        await controller.steering.update_instructions("Speak slowly.")
        await controller.steering.inject_context("The caller is a premium customer.", delivery=Delivery.DEFERRED)

    config = VoiceConfig(detectors=(DetectorRule(Signal.USER_TURN, TurnCounter(1), steer),))
    server = FakeRealtimeServer(transcripts=["hello"], replies=[Reply("Hi there")])
    pattern = speech_pattern([("silence", 200), ("speech", 600), ("silence", 3000)])
    _s, controller, _m, _a, rows = await _run(tmp_path, server, pattern, config=config)
    assert rows == [("user", "hello"), ("assistant", "Hi there"), ("context", "The caller is a premium customer.")]
    conn = server.connections[0]
    assert "Speak slowly." in conn.of_type("session.update")[-1]["session"]["instructions"]
    items = [m["item"] for m in conn.of_type("conversation.item.create")]
    assert items == [{"type": "message", "role": "system", "content": [{"type": "input_text", "text": "The caller is a premium customer."}]}]
    # Deferred: delivered only after the answer finished, never mid-answer.
    added = [m for m in conn.sent if m["type"] == "conversation.item.added"]
    done = [m for m in conn.sent if m["type"] == "response.done"]
    assert conn.sent.index(added[0]) > conn.sent.index(done[0])
