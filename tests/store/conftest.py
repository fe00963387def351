"""Fixtures for the session-store tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentcore.store import JournalStore
from fakes.pg_server import PgServer, pg_server_fixture
from store_support import ticking_clock




@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


BACKENDS = ("journal", "postgresql")
_databases = itertools.count()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "traits: runs against every session store backend (journal, PostgreSQL)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test marked ``traits`` goes through the loader and observer traits only:
    it runs against the journal files and against PostgreSQL (tests/pg)."""
    if metafunc.definition.get_closest_marker("traits") and "store" in metafunc.fixturenames:
        metafunc.parametrize("store", BACKENDS, indirect=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    yield from pg_server_fixture()


@pytest.fixture
def store(request: pytest.FixtureRequest, state_dir: Path) -> Iterator[Any]:
    backend = getattr(request, "param", "journal")
    if backend == "journal":
        yield JournalStore(state_dir / "sessions", clock=ticking_clock())
        return
    from agentcore.store.pg import PgSessionStore

    url = request.getfixturevalue("pg_server").create_database(f"store{next(_databases)}")
    opened: list[Any] = []

    def open_again() -> Any:  # what another process would open over the same database
        again = PgSessionStore(url)
        opened.append(again)
        return again

    first = PgSessionStore(url, clock=ticking_clock())
    first.open_again = open_again  # type: ignore[attr-defined]  # read by store_support.reopen
    yield first
    for each in (first, *opened):
        each.close()


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path.resolve()
