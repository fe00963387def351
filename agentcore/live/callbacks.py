"""A typed callback registry: per event kind, each callback with its own mode.

* ``INLINE`` callbacks run synchronously inside :meth:`CallbackRegistry.emit`,
  on the caller's path (the audio path, for most events). They are for cheap
  observers: a counter, a UI refresh flag. They must be plain functions.
* ``QUEUED`` callbacks get the event through a bounded queue of their own and
  run in a worker task (:meth:`CallbackRegistry.run`), off the audio path;
  they may be ``async``. When a queue is full the callback's
  :class:`Overflow` policy decides: ``DROP_OLDEST`` (default: the freshest
  events matter) or ``DROP_NEWEST``; every drop is counted.

Invariant: :meth:`emit` never blocks and never raises. A callback that
raises is logged and counted (``errors``); the conversation goes on.
"""

from __future__ import annotations

import collections
import enum
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import attrs
import trio

from agentcore.errors import VoiceError

log = logging.getLogger(__name__)

E = TypeVar("E")
DEFAULT_QUEUE_SIZE = 64  # events a queued callback may fall behind by
DRAIN_TIMEOUT_S = 2.0  # at shutdown, how long queued callbacks get to finish


class CallbackMode(enum.Enum):
    INLINE = "inline"
    QUEUED = "queued"


class Overflow(enum.Enum):
    DROP_OLDEST = "drop_oldest"
    DROP_NEWEST = "drop_newest"


class CallbackError(VoiceError, ValueError):
    """A callback registered in a way that cannot work (an async inline callback, a zero-size queue)."""


@attrs.define(eq=False)
class _Subscription:
    kind: type
    callback: Callable[[Any], Any]
    mode: CallbackMode
    queue_size: int
    overflow: Overflow
    queue: collections.deque[Any] = attrs.Factory(collections.deque)
    ready: trio.Event = attrs.Factory(trio.Event)
    dropped: int = 0
    delivered: int = 0
    errors: int = 0


class CallbackRegistry:
    def __init__(self) -> None:
        self._subs: dict[type, list[_Subscription]] = collections.defaultdict(list)
        self._queued: list[_Subscription] = []
        self._new_worker: trio.Event = trio.Event()

    def on(
        self,
        kind: type[E],
        callback: Callable[[E], None] | Callable[[E], Awaitable[None]],
        *,
        mode: CallbackMode = CallbackMode.INLINE,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        overflow: Overflow = Overflow.DROP_OLDEST,
    ) -> Callable[[], None]:
        """Call ``callback(event)`` for every event of type ``kind``; returns an unsubscribe function."""
        if mode is CallbackMode.INLINE and inspect.iscoroutinefunction(callback):
            raise CallbackError(f"{getattr(callback, '__name__', callback)!r} is async: register it QUEUED (inline callbacks run on the audio path)")
        if mode is CallbackMode.QUEUED and queue_size < 1:
            raise CallbackError(f"a queued callback needs a queue of at least 1 event (got {queue_size})")
        sub = _Subscription(kind, callback, mode, queue_size, overflow)
        self._subs[kind].append(sub)
        if mode is CallbackMode.QUEUED:
            self._queued.append(sub)
            self._new_worker.set()

        def unsubscribe() -> None:
            if sub in self._subs[kind]:
                self._subs[kind].remove(sub)
            if sub in self._queued:
                self._queued.remove(sub)
                sub.queue.clear()
                sub.ready.set()

        return unsubscribe

    # ------------------------------------------------------------- counters

    @property
    def dropped(self) -> int:
        return sum(s.dropped for subs in self._subs.values() for s in subs)

    @property
    def errors(self) -> int:
        return sum(s.errors for subs in self._subs.values() for s in subs)

    @property
    def pending(self) -> int:
        return sum(len(s.queue) for s in self._queued)

    # ------------------------------------------------------------- emitting

    def emit(self, event: Any) -> None:
        """Hand ``event`` to every callback of its type (and of its base classes)."""
        for kind in type(event).__mro__:
            for sub in tuple(self._subs.get(kind, ())):
                if sub.mode is CallbackMode.INLINE:
                    self._call_inline(sub, event)
                else:
                    self._enqueue(sub, event)

    def _call_inline(self, sub: _Subscription, event: Any) -> None:
        try:
            result = sub.callback(event)
            if inspect.isawaitable(result):
                result.close()  # type: ignore[union-attr]  # never awaited: an inline callback must not be async
                raise CallbackError("an inline callback returned an awaitable")
            sub.delivered += 1
        except Exception:
            sub.errors += 1
            log.exception("inline live callback for %s failed", sub.kind.__name__)

    def _enqueue(self, sub: _Subscription, event: Any) -> None:
        if len(sub.queue) >= sub.queue_size:
            sub.dropped += 1
            if sub.overflow is Overflow.DROP_NEWEST:
                return
            sub.queue.popleft()
        sub.queue.append(event)
        sub.ready.set()

    # -------------------------------------------------------------- workers

    async def run(self) -> None:
        """Run the queued callbacks (one worker each) until cancelled."""
        started: set[int] = set()
        async with trio.open_nursery() as nursery:
            while True:
                for sub in tuple(self._queued):
                    if id(sub) not in started:
                        started.add(id(sub))
                        nursery.start_soon(self._worker, sub)
                self._new_worker = trio.Event()
                await self._new_worker.wait()

    async def _worker(self, sub: _Subscription) -> None:
        while sub in self._queued or sub.queue:
            if not sub.queue:
                sub.ready = trio.Event()
                await sub.ready.wait()
                continue
            await self._deliver(sub, sub.queue.popleft())

    async def _deliver(self, sub: _Subscription, event: Any) -> None:
        try:
            result = sub.callback(event)
            if inspect.isawaitable(result):
                await result
            sub.delivered += 1
        except Exception:
            sub.errors += 1
            log.exception("queued live callback for %s failed", sub.kind.__name__)

    async def drain(self, timeout_s: float = DRAIN_TIMEOUT_S) -> None:
        """Deliver what is still queued (at shutdown), giving up after ``timeout_s``."""
        with trio.move_on_after(timeout_s):
            for sub in tuple(self._queued):
                while sub.queue:
                    await self._deliver(sub, sub.queue.popleft())
