"""What the end-to-end tests of the ``agent`` process share: a trusted folder,
the environment a child ``agent`` gets, and a headless run with a deadline.

Invariant: a child ``agent`` sees only what ``agent_env`` builds — its home
under the test's own folder, its model the loopback ``FakeServer`` with the
test file's fake key — never the developer's home, keys or a real provider
(only PATH is taken from the running process)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

import trio

from agentcore.config.paths import resolve_paths
from agentcore.trust import TrustStore
from fakes.llm_server import FakeServer
from pty_driver import AGENT

WAIT_S = 60.0  # for a headless run; a pass takes a second or two


def trust(home: Path, folder: Path) -> None:
    """Trust ``folder`` for the agent whose AGENTCORE_HOME is ``home``, as `agent trust` records it."""
    TrustStore.of(resolve_paths({"AGENTCORE_HOME": str(home)})).trust(folder, home=None)


def agent_env(root: Path, server: FakeServer | None = None, key: str | None = None, *, terminal: bool = False) -> dict[str, str]:
    """AGENTCORE_HOME is ``root/home`` and HOME is ``root``; with ``server`` the
    OpenAI provider talks to it with ``key``; ``terminal`` adds TERM and LANG
    for a pseudo-terminal."""
    env = {"AGENTCORE_HOME": str(root / "home"), "HOME": str(root), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    if terminal:
        env |= {"TERM": "xterm-256color", "LANG": "C.UTF-8"}
    if server is not None:
        if key is None:
            raise TypeError("agent_env: a server needs the test file's fake key")
        env |= {"OPENAI_API_KEY": key, "OPENAI_BASE_URL": f"{server.url}/v1"}
    return env


async def run_agent(
    cwd: Path, env: Mapping[str, str], *args: str, stdin: bytes | int = b"", timeout: float = WAIT_S
) -> subprocess.CompletedProcess[bytes]:
    """``agent *args`` to the end, its output captured; a run past ``timeout`` fails the test."""
    with trio.fail_after(timeout):
        return await trio.run_process([str(AGENT), *args], cwd=cwd, env=dict(env), stdin=stdin, capture_stdout=True,
                                      capture_stderr=True, check=False)  # fmt: skip
