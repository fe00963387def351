"""Fixtures for the end-to-end ``agent`` tests in this folder.

A test file whose assertions name its fake key overrides ``fake_key``; a file
that needs more in its folder or another ``agent chat`` command line overrides
``workdir`` or ``spawn`` by requesting the fixture of the same name."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cli_support import agent_env, trust
from fakes.llm_server import FakeServer
from pty_driver import PtyAgent


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The agent's AGENTCORE_HOME (``agent_env`` uses the same path)."""
    return tmp_path / "home"


@pytest.fixture
def fake_key() -> str:
    return "sk-test-cli-0123456789"


@pytest.fixture
def workdir(tmp_path: Path, home: Path) -> Path:
    """A trusted project: its ``.git`` makes it the project root ("allow always"
    rules go to its .agent/), and trust lets a remembered rule apply in later processes."""
    work = tmp_path / "project"
    work.mkdir()
    (work / ".git").mkdir()
    trust(home, work)
    return work


@pytest.fixture
def work(tmp_path: Path, home: Path) -> Path:
    """A trusted folder for headless runs (no project root of its own)."""
    path = tmp_path / "work"
    path.mkdir()
    trust(home, path)
    return path


@pytest.fixture
def spawn(request: pytest.FixtureRequest, tmp_path: Path, server: FakeServer, fake_key: str) -> Iterator[Callable[..., PtyAgent]]:
    """``spawn(*args, cwd=workdir, cols=120)`` starts ``agent chat *args`` on a
    pseudo-terminal; every agent started is closed at the end of the test."""
    agents: list[PtyAgent] = []

    def start(*args: str, cwd: Path | None = None, cols: int = 120) -> PtyAgent:
        folder = request.getfixturevalue("workdir") if cwd is None else cwd  # asked for only when used
        agent = PtyAgent(["chat", *args], env=agent_env(tmp_path, server, fake_key, terminal=True), cwd=folder, cols=cols)
        agents.append(agent)
        return agent

    yield start
    for agent in agents:
        agent.close()
