"""Fixtures for the session-store tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from agentcore.store import JournalStore
from fakes.llm_server import FakeServer, open_fake_server
from store_support import ticking_clock


@pytest.fixture
async def server() -> AsyncIterator[FakeServer]:
    async with open_fake_server() as srv:
        yield srv


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    # trust_env=False: a proxy configured on the machine must not see loopback tests.
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


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
