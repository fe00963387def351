"""Tool processes die with the agent.

Invariant: a process group watched by a :class:`Lifeline` is SIGKILLed as soon
as the agent process ends, however it ends (SIGKILL and crashes included),
and never while the agent lives and has not released it.

How: for each tool process group the agent starts a tiny watcher (``sh``, in
a session of its own) whose stdin is one end of a socket pair; only the agent
holds the other end. The watcher blocks reading it: end-of-file means the
agent is gone (the kernel closed its end), and the watcher kills the tool's
group. When the tool is done the agent sends a line instead and the watcher
exits quietly; the agent reaps it (:meth:`Lifeline.release`). The watcher is
the agent's own child and outside the tool's group, so it never counts as a
leftover of the command and never outlives the agent as a zombie of ours.

Why not ``PR_SET_PDEATHSIG``: trio starts processes from a worker thread, and
that signal fires when the *thread* that forked exits, which an idle worker
does after a few seconds (``bwrap --die-with-parent`` is that same signal: see
:mod:`agentcore.tools.sandbox` for how the sandbox keeps a stable parent).
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio

SHELL = "/bin/sh"
WATCHER_NAME = "agentcore-lifeline"  # $0 of the watcher (shows in ps, with the group it guards)
RELEASE_TIMEOUT_S = 1.0  # for the watcher to exit once told to; it takes well under 1 ms

# $1 is the tool's process group. A line on stdin: stand down. End-of-file: the agent died.
_WATCH = 'read _ || kill -KILL -"$1"'


class Lifeline:
    """The tie between one tool process group and the agent (see the module docstring)."""

    def __init__(self, watcher: trio.Process, agent_end: socket.socket) -> None:
        self._watcher = watcher
        self._agent_end = agent_end
        self._released = False

    async def release(self) -> None:
        """Tell the watcher to stand down and reap it (within :data:`RELEASE_TIMEOUT_S`)."""
        if self._released:
            return
        self._released = True
        try:
            self._agent_end.send(b"\n")
        except OSError:
            pass  # the watcher is already gone
        with trio.move_on_after(RELEASE_TIMEOUT_S):
            await self._watcher.wait()

    async def close(self) -> None:
        """Cut the line (before :meth:`release` this kills the group at once) and reap the watcher."""
        self._agent_end.close()
        with trio.CancelScope(shield=True), trio.move_on_after(RELEASE_TIMEOUT_S):
            await self._watcher.wait()
        if self._watcher.returncode is None:
            self._watcher.kill()


@asynccontextmanager
async def lifeline(pgid: int) -> AsyncIterator[Lifeline]:
    """Watch the process group ``pgid`` for as long as the block runs; the caller
    ends the group itself (then :meth:`Lifeline.release`), the line is cut on exit."""
    agent_end, watcher_end = socket.socketpair()
    try:
        watcher = await trio.lowlevel.open_process(
            [SHELL, "-c", _WATCH, WATCHER_NAME, str(pgid)],
            stdin=watcher_end,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # outside the tool's group, and out of the terminal's reach
        )
    except BaseException:
        agent_end.close()
        raise
    finally:
        watcher_end.close()  # the watcher has its copy; the agent keeps only its own end
    line = Lifeline(watcher, agent_end)
    try:
        yield line
    finally:
        await line.close()
