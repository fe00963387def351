"""The running server's state file: who it is and where to reach it.

Written ``0600`` in the ``0700`` runtime directory once the server listens,
removed when it exits (only by the process it names, so a second server that
was refused never removes the first one's). ``agent serve status`` and
``stop`` read it.

Invariant: a state file names a live process or is stale; :func:`read_state`
reports stale ones as None (a pid that no longer runs, or runs something else).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import attrs

from agentcore.private_files import replace_private_text

PROC_DIR = Path("/proc")


@attrs.frozen
class ServerState:
    pid: int
    version: str
    url: str  # the /acp endpoint
    health_url: str
    socket: str | None
    started: str  # ISO 8601, UTC

    def to_json(self) -> str:
        return json.dumps(attrs.asdict(self), indent=2) + "\n"


def write_state(path: Path, state: ServerState) -> None:
    replace_private_text(path, state.to_json())


def remove_state(path: Path, *, pid: int) -> None:
    """Remove the file if it still names ``pid``."""
    current = _load(path)
    if current is not None and current.pid == pid:
        path.unlink(missing_ok=True)


def read_state(path: Path) -> ServerState | None:
    """The state of a running server, or None (no file, unreadable, or stale)."""
    state = _load(path)
    if state is None or not pid_runs_server(state.pid):
        return None
    return state


def _load(path: Path) -> ServerState | None:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        return ServerState(**{field.name: data[field.name] for field in attrs.fields(ServerState)})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def pid_runs_server(pid: int) -> bool:
    """True when ``pid`` is alive and (where /proc tells) is an ``agent serve``."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # another user's process reused the pid
    try:
        cmdline = (PROC_DIR / str(pid) / "cmdline").read_bytes()
        stat_text = (PROC_DIR / str(pid) / "stat").read_text()
    except OSError:
        return True  # no /proc: trust the signal probe
    if stat_text.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
        return False  # exited, not yet reaped
    return b"serve" in cmdline.split(b"\0")
