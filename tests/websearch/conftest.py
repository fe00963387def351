"""Hosted web search end to end: the real app (configuration, core, journal,
headless frontend) against a loopback server speaking the vendor's wire. Every
request body is checked against the vendor SDK's params type on teardown."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agentcore.config.paths import resolve_paths
from agentcore.trust import TrustStore
from fakes.llm_server import FakeServer, open_fake_server
from fakes.vendor_sdk import check_request


@pytest.fixture
async def server() -> AsyncIterator[FakeServer]:
    async with open_fake_server() as srv:
        yield srv
        for request in srv.requests:
            if request.method == "POST" and request.body:
                check_request(request.path, json.loads(request.body))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def work(tmp_path: Path, home: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    (path / ".git").mkdir()
    TrustStore.of(resolve_paths({"AGENTCORE_HOME": str(home)})).trust(path, home=None)
    return path
