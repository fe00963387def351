"""File and shell backends: the only way tools touch the machine.

Local implementations live in :mod:`agentcore.tools.local`; the ACP frontend
adds editor-delegated ones (``fs/read_text_file``, ``terminal/*``). Paths given
to a backend are absolute and already confined by the :class:`Workspace`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

import attrs

from agentcore.errors import ToolError


class FsError(ToolError):
    """A file operation failed (not found, permission, is a directory...)."""


@attrs.frozen
class FileStat:
    size: int
    is_dir: bool
    mtime: float


@runtime_checkable
class FsBackend(Protocol):
    async def read_bytes(self, path: Path) -> bytes: ...

    async def read_text(self, path: Path) -> str:
        """Decoded text. Delegated backends return the editor's buffer, unsaved edits included."""
        ...

    async def write_text(self, path: Path, content: str) -> None:
        """Write the file, creating parent directories."""
        ...

    async def stat(self, path: Path) -> FileStat | None:
        """None when the path does not exist."""
        ...


@runtime_checkable
class RangeReader(Protocol):
    """Optional :class:`FsBackend` capability: read part of a file.

    ``read_file`` pages through large files with it instead of loading them
    whole; backends without it (e.g. editor-delegated ones) get ``read_text``.
    """

    async def read_range(self, path: Path, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes starting at byte ``offset`` (fewer at end of file)."""
        ...


@attrs.frozen
class ShellResult:
    exit_code: int | None  # None when killed by a signal
    signal: int | None
    output: str  # combined stdout and stderr, possibly head+tail truncated
    timed_out: bool = False
    cancelled: bool = False
    truncated: bool = False
    full_output_path: Path | None = None  # where the whole output was spilled, if truncated
    terminal_id: str | None = None


OutputSink = Callable[[str], Awaitable[None]]


@runtime_checkable
class ShellBackend(Protocol):
    async def run(
        self,
        command: str,
        *,
        cwd: Path,
        timeout_s: float,
        env: Mapping[str, str] | None = None,
        on_output: OutputSink | None = None,
        on_start: Callable[[str], Awaitable[None]] | None = None,
    ) -> ShellResult:
        """Run ``command`` with ``sh -c`` in its own process group.

        On timeout or cancellation the whole group is killed (grandchildren
        included). ``on_start`` receives a terminal id when the backend has one.
        """
        ...
