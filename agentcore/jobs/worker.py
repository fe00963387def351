"""``agent worker``: poll the shared queue (job workflows, workspace claims) and
this worker's own queue (the turns of the jobs whose workspace it holds).

Invariant: one process, one asyncio loop for Temporal; each turn runs on trio in
its own thread (:mod:`agentcore.jobs.activities`). The worker id names its own
queue, so it must be unique among live workers (default: host and pid).
Stopping the worker (SIGTERM, Ctrl-C) ends polling and lets running activities
see cancellation; a worker that dies instead is noticed through heartbeats and
its jobs move on (docs/scale.md).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio.worker import Worker

from agentcore.jobs.activities import JobActivities, WorkerConfig
from agentcore.jobs.client import connect
from agentcore.jobs.workflow import AgentJobWorkflow

MAX_CONCURRENT_TURNS = 16  # turns one worker runs at once (each holds a thread and a session)
# A job's workflow tasks stick to the worker that ran the last one; when that worker
# is gone they move to the shared queue after this long (Temporal's default is 10 s).
# Shorter means faster recovery from a dead worker, at the cost of replaying a job's
# (short) history elsewhere when a live worker is merely slow.
STICKY_TIMEOUT = timedelta(seconds=3)


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


async def run_worker(address: str, config: WorkerConfig, *, ready: Callable[[], None] | None = None,
                     stop: Callable[[], Awaitable[None]] | None = None) -> None:  # fmt: skip
    """Serve until SIGINT/SIGTERM (or ``stop`` returns)."""
    client = await connect(address)
    config.workspaces.mkdir(parents=True, exist_ok=True)
    acts = JobActivities(config, client)
    shared = Worker(client, task_queue=config.queue, workflows=[AgentJobWorkflow], activities=[acts.claim_workspace],
                    sticky_queue_schedule_to_start_timeout=STICKY_TIMEOUT)  # fmt: skip
    own = Worker(client, task_queue=config.own_queue, activities=[acts.run_turn],
                 max_concurrent_activities=MAX_CONCURRENT_TURNS)  # fmt: skip
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopped.set)
    async with shared, own:
        if ready is not None:
            ready()
        if stop is not None:
            waiter = asyncio.ensure_future(stop())
            waiter.add_done_callback(lambda _f: stopped.set())
        await stopped.wait()
