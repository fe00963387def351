"""A durable job whose session lives in PostgreSQL (``[store] url``): the worker
holding it is SIGKILLed mid-turn, its lease on the session outlives it, and the
other worker waits for the lease to lapse, then finishes the job from the
database alone. The two workers have different state directories (as on two
machines): the first turn's file changes come back from the checkpoints the
database holds. Real PostgreSQL (tests/fakes/pg_server.py), real Temporal dev
server, real workers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import trio

pytest.importorskip("temporalio", reason="the temporalio SDK is not installed (the temporal extra)")

from fakes.pg_server import PgServer, pg_server_fixture
from jobs_support import (
    STEP_COMMAND,
    PlanModel,
    WorkerProc,
    outcome,
    run_cli,
    start_worker,
    state_when,
    submit,
    temporal,
    worker_env,
)

from agentcore.jobs import client as jobs

LEASE_S = 10  # the killed worker's hold on the session lapses after this: later than the job moves (~5 s)


@pytest.fixture(scope="module")
def pg_server() -> Iterator[PgServer]:
    yield from pg_server_fixture()


@pytest.fixture
def env(tmp_path: Path, server, pg_server: PgServer) -> dict[str, str]:
    """The workers' environment with the session store in a fresh database."""
    return {
        **worker_env(tmp_path / "home", server),
        "AGENTCORE_STORE_URL": pg_server.create_database(f"jobs{tmp_path.name[-12:].lower().replace('-', '_')}"),
        "AGENTCORE_STORE_LEASE_S": str(LEASE_S),
    }


def home_of(tmp_path: Path, worker: str) -> Path:
    return tmp_path / f"home-{worker}"


@pytest.fixture
async def workers(tmp_path: Path, temporal_server, queue: str, env: dict[str, str]) -> AsyncIterator[list[WorkerProc]]:
    """Two workers on one queue and one database, each with a state directory of its own."""
    started: list[WorkerProc] = []
    try:
        for name in ("wa", "wb"):
            own = {**env, "AGENTCORE_HOME": str(home_of(tmp_path, name))}
            started.append(await start_worker(name, temporal_server.address, queue, own, tmp_path))
        yield started
    finally:
        for worker in started:
            worker.stop()


async def test_a_job_in_postgresql_survives_its_worker(temporal_server, workers, queue, repo, env, server, tmp_path) -> None:
    model = PlanModel(hang_after_tool=True)
    server.respond_with(model)
    job_id = await submit(temporal_server, queue, repo, env, "--mode", "yolo", "--heartbeat-timeout", "2", "--failover-after", "2")
    with trio.fail_after(60):
        await model.hung.wait()
    state = await state_when(temporal_server, job_id, lambda status, st: st.worker is not None and st.session_id is not None)
    holder = next(w for w in workers if w.name == state.worker)
    other = next(w for w in workers if w is not holder)
    holder.kill()
    result = await outcome(temporal_server, job_id)
    assert result.reached and result.failovers == 1
    _, state = await temporal(temporal_server.address, jobs.describe, job_id)
    assert state.worker == other.name
    # The first turn's file, written on the dead worker, rebuilt from the database's checkpoints (not run again).
    assert (Path(state.workspace) / "log.txt").read_text() == "step\n"
    assert list(home_of(tmp_path, holder.name).rglob("checkpoints.jsonl"))  # the local copy stayed there
    assert not list(home_of(tmp_path, other.name).rglob("checkpoints.jsonl"))
    claims = [r["msg"] for r in other.log_records() if "files replayed" in r["msg"]]
    assert claims and "(1 files replayed)" in claims[-1]
    waits = [r for r in other.log_records() if r["msg"].startswith("waiting for the session")]
    assert waits and "already open for writing" in waits[0]["msg"]  # the dead worker's lease, waited out
    # The session is in the database: --follow (reading the configured store) shows the whole run.
    shown = await run_cli("jobs", "show", job_id, "--follow", "--temporal", temporal_server.address, env=env)
    out = shown.stdout.decode()
    assert STEP_COMMAND in out and "goal_done" in out, shown.stderr.decode()
