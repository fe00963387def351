"""A real PostgreSQL server for tests, from the Debian packages (``postgresql``).

Invariant: the cluster lives in a fresh temporary directory, listens on
127.0.0.1 only (a free port, trust authentication, no unix socket outside
that directory) and is stopped (``pg_ctl stop -m immediate``) and removed when
the context exits. As root it runs as ``nobody`` (``initdb`` refuses root).
:func:`find_pg_bin` says why not when the binaries are missing, so a fixture
can skip with that reason.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

PG_USER = "agentcore"
START_TIMEOUT_S = 60.0
_UNPRIVILEGED = "nobody"


def find_pg_bin() -> tuple[Path | None, str]:
    """The newest Debian PostgreSQL bin directory, or None and why."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not candidates:
        found = shutil.which("initdb")
        if found is None:
            return None, "PostgreSQL is not installed (apt-get install postgresql; scripts/test does it as root)"
        return Path(found).parent, ""
    return Path(candidates[-1]).parent, ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@attrs.frozen
class PgServer:
    port: int
    data_dir: Path
    stop: Any = attrs.field(eq=False, repr=False)  # stops the server now (immediate shutdown); idempotent

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        """A fresh empty database; its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def running_pg(bin_dir: Path, *, durable: bool = False) -> Iterator[PgServer]:
    """``durable``: fsync on, as in production (the bench); tests run with it off."""
    root = Path(tempfile.mkdtemp(prefix="agentcore-pg-"))
    as_root = os.geteuid() == 0
    prefix: list[str] = ["runuser", "-u", _UNPRIVILEGED, "--"] if as_root else []
    data = root / "data"
    port = _free_port()
    if as_root:
        os.chown(root, _uid(_UNPRIVILEGED), -1)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    started = False
    try:
        subprocess.run(
            [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", PG_USER, "--auth=trust", "-E", "UTF8",
             "--no-sync"],
            check=True, capture_output=True, env=env, timeout=START_TIMEOUT_S,
        )  # fmt: skip
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c max_connections=200"
        if not durable:
            options += " -c fsync=off"
        subprocess.run(
            [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w",
             "-t", str(int(START_TIMEOUT_S)), "start"],
            check=True, capture_output=True, env=env, timeout=START_TIMEOUT_S + 5,
        )  # fmt: skip
        started = True

        def stop() -> None:
            subprocess.run(
                [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                capture_output=True, env=env, timeout=START_TIMEOUT_S, check=False,
            )  # fmt: skip

        yield PgServer(port, data, stop)
    finally:
        if started:
            stop()
        shutil.rmtree(root, ignore_errors=True)


def _uid(name: str) -> int:
    import pwd

    return pwd.getpwnam(name).pw_uid


def pg_server_fixture() -> Iterator[PgServer]:
    """Body of a session-scoped ``pg_server`` fixture: skips with the reason when
    psycopg or the PostgreSQL binaries are missing."""
    import pytest

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
