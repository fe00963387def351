"""Fixtures for the PostgreSQL store tests: one real server per test run
(tests/fakes/pg_server.py), a fresh database per test."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.pg_server import PgServer, pg_server_fixture
from pg_support import ticking_clock

_databases = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    yield from pg_server_fixture()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """The URL of a new, empty database (tests never share one)."""
    return pg_server.create_database(f"t{next(_databases)}")


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path.resolve()


@pytest.fixture(params=["journal", "postgresql"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """A factory of stores over one backing (a sessions directory, or one
    database): each call is a new store object, as a new process would have."""
    opened: list[Any] = []
    if request.param == "journal":
        from agentcore.store import JournalStore

        def factory(**kwargs: Any) -> Any:
            return JournalStore(tmp_path / "sessions", clock=ticking_clock())
    else:
        from agentcore.store.pg import PgSessionStore

        url = request.getfixturevalue("pg_url")
        factory_url = url

        def factory(**kwargs: Any) -> Any:
            store = PgSessionStore(url, clock=ticking_clock(), **kwargs)
            opened.append(store)
            return store

    factory.kind = request.param  # type: ignore[attr-defined]
    factory.url = factory_url if request.param == "postgresql" else None  # type: ignore[attr-defined]
    yield factory
    for store in opened:
        store.close()


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"
