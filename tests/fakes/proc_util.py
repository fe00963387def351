"""Helpers for tests that watch real processes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import trio

POLL_S = 0.01  # between checks of an observable condition; always inside fail_after


def pid_gone(pid: int) -> bool:
    """True when ``pid`` has exited: no /proc entry, or a zombie awaiting its reaper."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    state = stat.rsplit(")", 1)[1].split()[0]
    return state in ("Z", "X")


async def wait_until(condition: Callable[[], bool], timeout_s: float) -> None:
    """Wait for an observable condition, failing the test after ``timeout_s``."""
    with trio.fail_after(timeout_s):
        while not condition():
            await trio.sleep(POLL_S)
