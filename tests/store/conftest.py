"""Fixtures for the session-store tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentcore.store import JournalStore
from store_support import ticking_clock




@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def store(state_dir: Path) -> JournalStore:
    return JournalStore(state_dir / "sessions", clock=ticking_clock())


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path.resolve()
