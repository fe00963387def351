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
