"""Fixtures for the secret-handling tests: a workspace, a state directory, a
fake home with secret stores, and the agent's environment as an injected mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from secrets_support import agent_env


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path.resolve()


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def home(work: Path) -> Path:
    """A home directory inside the workspace: without hiding, its secrets would be readable (and writable)."""
    path = work / "home"
    (path / ".ssh").mkdir(parents=True)
    (path / ".ssh" / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n")
    (path / ".netrc").write_text("machine example.com login me password hunter2hunter2\n")
    return path


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    return agent_env(home)
