from __future__ import annotations

import trio
import trio.testing

from agentcore.events import FanoutEmitter, Notice


async def test_every_subscriber_sees_every_event_in_order():
    emitter = FanoutEmitter()
    got: dict[int, list[str]] = {0: [], 1: [], 2: []}
    observed: list[str] = []
    emitter.add_observer(lambda e: observed.append(e.text))

    async def sub(i: int, task_status=trio.TASK_STATUS_IGNORED) -> None:
        async with emitter.subscribe(buffer=4) as events:
            task_status.started()
            async for ev in events:
                got[i].append(ev.text)
                if ev.text == "end":
                    return

    async with trio.open_nursery() as nursery:
        for i in range(3):
            await nursery.start(sub, i)
        for n in range(100):  # far more than the buffer: backpressure, not loss
            await emitter.emit(Notice("info", str(n)))
        await emitter.emit(Notice("info", "end"))
    expected = [str(n) for n in range(100)] + ["end"]
    assert got[0] == got[1] == got[2] == observed == expected


async def test_a_full_subscriber_applies_backpressure_instead_of_dropping():
    emitter = FanoutEmitter()
    async with emitter.subscribe(buffer=2) as events:
        await emitter.emit(Notice("info", "a"))
        await emitter.emit(Notice("info", "b"))
        blocked = trio.Event()
        done = trio.Event()

        async def third() -> None:
            blocked.set()
            await emitter.emit(Notice("info", "c"))
            done.set()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(third)
            await blocked.wait()
            await trio.testing.wait_all_tasks_blocked()
            assert not done.is_set()  # waiting for room, not dropped
            assert (await events.receive()).text == "a"
            await done.wait()
        assert [(await events.receive()).text for _ in range(2)] == ["b", "c"]


async def test_subscriber_sees_events_from_the_moment_it_subscribes():
    emitter = FanoutEmitter()
    await emitter.emit(Notice("info", "before"))
    async with emitter.subscribe() as events:
        await emitter.emit(Notice("info", "after"))
        assert (await events.receive()).text == "after"
    await emitter.emit(Notice("info", "gone"))  # a departed subscriber does not block
    assert emitter.subscriber_count == 0


async def test_observer_removal():
    emitter = FanoutEmitter()
    seen: list = []
    remove = emitter.add_observer(seen.append)
    await emitter.emit(Notice("info", "1"))
    remove()
    await emitter.emit(Notice("info", "2"))
    assert [e.text for e in seen] == ["1"]
