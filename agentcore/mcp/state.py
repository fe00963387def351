"""The values that describe an MCP server's state: what ``manager.status()``
returns, the restart policy and the stderr tail. No SDK, no I/O."""

from __future__ import annotations

import collections
import enum

import attrs
import trio

MAX_RESTARTS_DEFAULT = 3  # per server and session; a crash loop must not run forever
RESTART_BACKOFF_S = 0.5  # before the first restart; doubles for each further one
RESTART_BACKOFF_MAX_S = 8.0
STDERR_TAIL_LINES = 40  # enough for a traceback's end; older lines are dropped
STDERR_LINE_MAX_CHARS = 2_000  # one runaway line must not fill the tail


class ServerState(enum.Enum):
    STARTING = "starting"
    READY = "ready"
    CRASHED = "crashed"
    FAILED = "failed"
    STOPPED = "stopped"


@attrs.frozen
class RestartPolicy:
    max_restarts: int = MAX_RESTARTS_DEFAULT
    backoff_s: float = RESTART_BACKOFF_S
    backoff_max_s: float = RESTART_BACKOFF_MAX_S

    def delay(self, restart: int) -> float:
        """Seconds to wait before restart number ``restart`` (1-based)."""
        return min(self.backoff_s * 2 ** (restart - 1), self.backoff_max_s)


@attrs.frozen
class ResourceInfo:
    uri: str
    name: str
    description: str = ""
    mime_type: str | None = None


@attrs.frozen
class PromptInfo:
    name: str
    description: str = ""
    arguments: tuple[str, ...] = ()


@attrs.frozen
class ServerStatus:
    """What ``manager.status()`` reports per server (the chat ``/mcp`` view)."""

    name: str
    state: ServerState
    transport: str
    target: str  # command line or URL, no secrets
    tools: tuple[str, ...]  # model-facing names
    resources: tuple[ResourceInfo, ...]
    prompts: tuple[PromptInfo, ...]
    instructions: str | None
    error: str
    stderr_tail: tuple[str, ...]
    restarts: int
    pid: int | None


class StderrTail:
    """The last lines a server wrote to stderr. ``wait_for`` lets a caller
    block until a line containing some text arrives (tests, diagnostics)."""

    def __init__(self, max_lines: int = STDERR_TAIL_LINES) -> None:
        self._lines: collections.deque[str] = collections.deque(maxlen=max_lines)
        self._partial = ""
        self._changed = trio.Event()

    def feed(self, text: str) -> None:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()[-STDERR_LINE_MAX_CHARS:]
        for line in lines:
            self._lines.append(line.rstrip("\r")[:STDERR_LINE_MAX_CHARS])
        self._changed.set()
        self._changed = trio.Event()

    def note(self, line: str) -> None:
        """A line of our own (restart markers), kept in order with the server's."""
        self.feed(("\n" if self._partial else "") + line + "\n")

    def lines(self, count: int | None = None) -> tuple[str, ...]:
        lines = [*self._lines, self._partial] if self._partial else list(self._lines)
        return tuple(lines[-count:] if count else lines)

    async def wait_for(self, text: str) -> None:
        while not any(text in line for line in self.lines()):
            await self._changed.wait()
