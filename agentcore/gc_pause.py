"""Pausing Python's cyclic garbage collector around bulk, acyclic work.

Loading or replaying a long session allocates hundreds of thousands of objects
and frees none; the cyclic collector would run dozens of times over a growing
heap for nothing (a third of a 10,000-message load). Invariant: the collector
is only paused inside :func:`gc_paused`, synchronous code that finishes, and is
left exactly as enabled or disabled as it was found.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class LongLivedHeap:
    """A server's policy for the cyclic collector (opt-in: it changes process-wide state).

    A server holding hundreds of sessions keeps millions of long-lived objects
    (histories, cores); every full collection walks them all, stalling the
    event loop for 100 ms and more under load. :meth:`settle` moves what is
    alive now to the permanent generation (``gc.freeze``, O(1)), so only new
    objects are ever walked; it is called when a session opens and when a turn
    ends. Frozen objects are still freed by reference counting; cyclic garbage
    frozen by accident is reclaimed by :meth:`reclaim`, a full collection run
    rarely (every :data:`RECLAIM_INTERVAL_S`).
    """

    RECLAIM_INTERVAL_S = 600.0

    def settle(self) -> None:
        gc.collect(1)  # the young generations first: short-lived cycles are not frozen
        gc.freeze()

    def reclaim(self) -> None:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
