"""Fixtures for the PostgreSQL store tests: one real server per test run
(tests/fakes/pg_server.py), a fresh database per test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.pg_server import PgServer, find_pg_bin, running_pg

_databases = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        pytest.skip("psycopg 3 is not installed (pip install -e '.[test]' or '.[pg]')")
    bin_dir, why = find_pg_bin()
    if bin_dir is None:
        pytest.skip(why)
    with running_pg(bin_dir) as server:
        yield server


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """The URL of a new, empty database (tests never share one)."""
    return pg_server.create_database(f"t{next(_databases)}")


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path.resolve()
