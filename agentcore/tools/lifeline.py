"""Tool processes die with the agent.

Invariant: a process group started with a :class:`Lifeline` is SIGKILLed as
soon as the agent process ends, however it ends (SIGKILL and crashes included),
and never while the agent lives and has not released it.

How: the agent holds one end of a socket pair for as long as the tool runs. A
watcher started first in the tool's process group blocks reading the other end:
end-of-file means the agent is gone (the kernel closed its end), and the
watcher kills the whole group. When the tool is done the agent sends a line
instead, the watcher exits quietly, and the agent waits for its end to close
(:meth:`Lifeline.release`) so the group it then cleans up holds only what the
command left behind.

Why not ``PR_SET_PDEATHSIG``: trio starts processes from a worker thread, and
that signal fires when the *thread* that forked exits, which an idle worker
does after a few seconds (``bwrap --die-with-parent`` is that same signal: see
:mod:`agentcore.tools.sandbox` for how the sandbox keeps a stable parent).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import trio

SHELL = "/bin/sh"
WATCHER_NAME = "agentcore-lifeline"  # $0 of the wrapper shell (shows in ps)
RELEASE_TIMEOUT_S = 1.0  # for the watcher to exit once told to; it takes well under 1 ms

# The wrapper's stdin is the tool's end of the socket pair (POSIX sh cannot name
# descriptors above 9, so it cannot be passed any other way). The watcher reads
# one line from it: a line means "stand down", end-of-file means the agent
# died. The command itself runs with stdin from /dev/null, as tools always do.
_SCRIPT = 'exec 3<&0 </dev/null; { read _ <&3 || kill -KILL 0; } >/dev/null 2>&1 & exec "$@" 3<&-'


class Lifeline:
    """One tool process's tie to the agent (see the module docstring)."""

    def __init__(self) -> None:
        self._agent_end, self._tool_end = socket.socketpair()
        self._released = False

    @property
    def stdin(self) -> socket.socket:
        """The spawned wrapper's stdin (the command's is ``/dev/null``)."""
        return self._tool_end

    def wrap(self, argv: Sequence[str]) -> list[str]:
        """``argv`` run under the watcher; it replaces the wrapper shell, so it
        keeps the pid the agent waits for and its exit status."""
        return [SHELL, "-c", _SCRIPT, WATCHER_NAME, *argv]

    def spawned(self) -> None:
        """The child has its copy: the agent keeps only its own end."""
        self._tool_end.close()

    async def release(self) -> None:
        """Tell the watcher to stand down and wait until it has exited (at most
        :data:`RELEASE_TIMEOUT_S`; a watcher killed with its group is gone too)."""
        if self._released:
            return
        self._released = True
        sock = self._agent_end
        try:
            sock.send(b"\n")
        except OSError:
            return  # the watcher is already gone (its group was killed)
        sock.setblocking(False)
        with trio.move_on_after(RELEASE_TIMEOUT_S):
            while True:
                await trio.lowlevel.wait_readable(sock)
                try:
                    if not sock.recv(64):
                        return
                except BlockingIOError:
                    continue
                except OSError:
                    return

    def close(self) -> None:
        """Cut the line. Before :meth:`release` this kills the group at once."""
        self._tool_end.close()
        self._agent_end.close()


@contextmanager
def lifeline() -> Iterator[Lifeline]:
    """A :class:`Lifeline` closed on exit (after the caller cleaned up the group)."""
    line = Lifeline()
    try:
        yield line
    finally:
        line.close()
