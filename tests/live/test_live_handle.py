"""The live handle and the typed callback registry, during running sessions."""

from __future__ import annotations

import pytest
import trio
from fake_realtime import FakeRealtimeServer, Reply
from live_helpers import build_core, speech_pattern, transcript, voice_info

from agentcore.live.audio import tone
from agentcore.live.callbacks import (
    CallbackError,
    CallbackMode,
    CallbackRegistry,
    Overflow,
)
from agentcore.live.control_events import PhaseChanged, TurnCompleted
from agentcore.live.controller import VoiceController
from agentcore.live.flow import NoticeUpdate, StateUpdate, TranscriptUpdate
from agentcore.live.handle import HandleError
from agentcore.live.openai_realtime import OpenAIRealtimeBackend
from agentcore.live.phases import Phase, PhaseMachine, StateStore, Transition
from agentcore.live.state import VoiceState
from agentcore.live.steering import Delivery
from agentcore.live.transport import WavFileTransport

RATE = 24_000


def _phases() -> PhaseMachine:
    return PhaseMachine(
        [Phase("greet", "Greet the caller."), Phase("help", "Help the caller."), Phase("wrap", "Say goodbye.")],
        [Transition("greet", "help", guard=lambda s: s.get("name") is not None), Transition("*", "wrap", automatic=False)],
        initial="greet",
        store=StateStore(),
    )


async def _session(tmp_path, server, pattern, script, *, phases=None, wire=None):
    """Run a realtime session; ``script(handle, controller)`` runs once it is listening."""
    core = build_core(tmp_path)
    async with trio.open_nursery() as nursery:
        url = await server.start(nursery)
        async with core.open_session(voice_info(tmp_path)) as session:
            transport = WavFileTransport(None, None, input_pcm=pattern, paced=True)
            controller = VoiceController(session, transport, lambda: OpenAIRealtimeBackend(api_key="sk-x", url=url), phases=phases)
            listening = trio.Event()
            controller.callbacks.on(StateUpdate, lambda u: listening.set() if u.state is VoiceState.LISTENING else None)
            if wire is not None:
                wire(controller)

            async def drive() -> None:
                await listening.wait()
                await script(controller.handle, controller)

            with trio.fail_after(120):
                async with trio.open_nursery() as inner:
                    inner.start_soon(drive)
                    await controller.run()
            rows = transcript(session.history)
        nursery.cancel_scope.cancel()
    return controller, rows


async def test_handle_sends_text_injects_context_and_pushes_audio(tmp_path, autojump_clock):
    server = FakeRealtimeServer(transcripts=["pushed words"], replies=[Reply("Your order shipped"), Reply("Heard you")])
    pattern = speech_pattern([("silence", 12_000)])  # the transport itself stays silent
    seen: dict[str, object] = {}
    answered = trio.Event()

    async def script(handle, controller):
        await handle.send_text("where is my order")
        await answered.wait()
        seen["window"] = handle.transcript(1).last
        await handle.inject_context("The caller is a premium customer", delivery=Delivery.IMMEDIATE)
        seen["pushed"] = await handle.push_audio(tone(600, RATE), RATE)
        handle.set_state("tier", "premium")
        seen["state"] = dict(handle.state)

    wire = lambda c: c.callbacks.on(TurnCompleted, lambda e: answered.set())  # noqa: E731
    controller, rows = await _session(tmp_path, server, pattern, script, wire=wire)
    assert rows == [
        ("user", "where is my order"),
        ("assistant", "Your order shipped"),
        ("context", "The caller is a premium customer"),
        ("user", "pushed words"),
        ("assistant", "Heard you"),
    ]
    conn = server.connections[0]
    items = [m["item"] for m in conn.of_type("conversation.item.create") if m["item"].get("type") == "message"]
    assert {"role": "user", "text": "where is my order"} in [{"role": i["role"], "text": i["content"][0]["text"]} for i in items]
    assert seen["pushed"] is True and seen["state"]["tier"] == "premium"
    assert seen["window"].user == "where is my order" and seen["window"].reply == "Your order shipped"
    assert controller.metrics.audio_in_ms >= 12_000 + 600  # the pushed audio is counted as input


async def test_handle_changes_phase_and_reads_state(tmp_path, autojump_clock):
    server = FakeRealtimeServer(transcripts=[], replies=[])
    pattern = speech_pattern([("silence", 6_000)])
    seen: list = []

    async def script(handle, controller):
        assert handle.phase == "greet"
        assert not await handle.change_phase("help")  # guarded: no name yet
        handle.set_state("name", "Ada")
        while handle.phase != "help":  # the ticker takes the automatic transition
            await trio.sleep(0.05)
        assert await handle.change_phase("wrap")
        seen.append((handle.phase, dict(handle.state)))

    controller, _rows = await _session(
        tmp_path, server, pattern, script, phases=_phases(), wire=lambda c: c.callbacks.on(PhaseChanged, seen.append)
    )
    guard, manual, (phase, state) = seen
    assert (guard.transition.source, guard.transition.target, guard.transition.trigger) == ("greet", "help", "guard")
    assert (manual.transition.source, manual.transition.target, manual.transition.trigger) == ("help", "wrap", "handle")
    assert 0 < guard.transition.at <= manual.transition.at
    assert phase == "wrap" and state["name"] == "Ada"
    assert controller.metrics.phase_transitions == [guard.transition, manual.transition]
    updates = [m["session"].get("instructions", "") for m in server.connections[0].of_type("session.update")]
    assert any("Say goodbye." in text for text in updates)  # the backend heard about the new phase


async def test_handle_refuses_what_it_cannot_do(tmp_path, autojump_clock):
    server = FakeRealtimeServer(transcripts=[], replies=[])
    errors: list[str] = []

    async def script(handle, _controller):
        for call in (handle.send_text("   "), handle.change_phase("help")):
            try:
                await call
            except HandleError as exc:
                errors.append(str(exc))

    await _session(tmp_path, server, speech_pattern([("silence", 1_000)]), script)
    assert errors == ["send_text needs some text", "this voice session has no phases"]


async def test_callbacks_inline_see_the_moment_queued_run_off_the_path(tmp_path, autojump_clock):
    server = FakeRealtimeServer(transcripts=["hello", "again"], replies=[Reply("Hi there"), Reply("Hi again")])
    pattern = speech_pattern([("silence", 200), ("speech", 600), ("silence", 2500), ("speech", 600), ("silence", 3000)])
    inline: list[tuple[VoiceState, VoiceState]] = []
    queued: list[object] = []
    release = trio.Event()
    holder: dict[str, VoiceController] = {}

    async def slow(update: object) -> None:
        await release.wait()  # a slow consumer: it must hold nothing up
        queued.append(update)

    def wire(controller: VoiceController) -> None:
        holder["c"] = controller
        controller.callbacks.on(StateUpdate, lambda u: inline.append((u.state, controller.state.state)))
        controller.callbacks.on(TranscriptUpdate, slow, mode=CallbackMode.QUEUED, queue_size=2, overflow=Overflow.DROP_OLDEST)
        controller.callbacks.on(TurnCompleted, lambda e: release.set() if e.index == 2 else None)
        controller.callbacks.on(NoticeUpdate, lambda u: 1 / 0)  # a broken observer breaks nothing

    async def script(_handle, _controller):
        return

    controller, rows = await _session(tmp_path, server, pattern, script, wire=wire)
    assert rows == [("user", "hello"), ("assistant", "Hi there"), ("user", "again"), ("assistant", "Hi again")]
    assert inline and all(update == current for update, current in inline)  # inline: run at the moment of the change
    assert controller.metrics.callbacks_dropped > 0  # the bounded queue overflowed while the consumer was stuck
    assert [u.text for u in queued][-1] == "Hi again" and len(queued) <= 3  # the oldest were dropped, the newest kept
    with pytest.raises(CallbackError):
        controller.callbacks.on(StateUpdate, slow)  # async callbacks cannot be inline


async def test_registry_overflow_policies_and_draining():
    registry = CallbackRegistry()
    newest: list[int] = []
    oldest: list[int] = []
    registry.on(int, oldest.append, mode=CallbackMode.QUEUED, queue_size=2, overflow=Overflow.DROP_OLDEST)
    registry.on(int, newest.append, mode=CallbackMode.QUEUED, queue_size=2, overflow=Overflow.DROP_NEWEST)
    for n in range(5):
        registry.emit(n)
    assert registry.pending == 4 and registry.dropped == 6
    await registry.drain()
    assert oldest == [3, 4] and newest == [0, 1]
    async with trio.open_nursery() as nursery:
        nursery.start_soon(registry.run)
        registry.emit(7)
        await trio.testing.wait_all_tasks_blocked()
        assert oldest[-1] == 7 and newest[-1] == 7
        nursery.cancel_scope.cancel()
    with pytest.raises(CallbackError):
        registry.on(int, oldest.append, mode=CallbackMode.QUEUED, queue_size=0)
