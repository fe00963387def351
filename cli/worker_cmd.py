"""``agent worker --temporal HOST:PORT --queue Q``: run durable agent jobs.

The worker polls the shared queue and its own (``Q@ID``), clones each job's
repository under ``--workspaces`` and runs its turns with this process's
configuration (provider keys, ``AGENTCORE_HOME``: the session store every
worker and ``agent jobs show --follow`` must share). It prints ``ready`` on
stderr once polling, and stops on SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from agentcore.cli.jobs_cmd import (
    NEEDS_EXTRA,
    QUEUE_DEFAULT,
    add_temporal,
    exit_now,
    temporal_address,
)

EXIT_OK = 0
EXIT_ERROR = 1


def add_subparsers(subparsers: Any) -> None:
    worker = subparsers.add_parser("worker", help="run durable agent jobs from a Temporal queue")
    add_temporal(worker)
    worker.add_argument("--queue", default=QUEUE_DEFAULT, help=f"the shared task queue (default {QUEUE_DEFAULT})")
    worker.add_argument("--id", dest="worker_id", metavar="NAME", help="this worker's unique name (default host-pid)")
    worker.add_argument("--workspaces", metavar="DIR", help="where job workspaces are cloned (default: state dir/jobs)")
    worker.add_argument("--log-format", choices=("text", "json"), default="text",
                        help="stderr log lines: text, or one JSON object per line (ts, level, logger, msg, job_id, session_id)")
    worker.set_defaults(func=lambda args: exit_now(main(args)))


def _main(args: argparse.Namespace) -> int:
    from agentcore.config import resolve_paths
    from agentcore.errors import AgentcoreError
    from agentcore.jobs import (
        WorkerConfig,
        default_worker_id,
        run_worker,
        workspace_path,
    )
    from agentcore.logctx import configure

    env = dict(os.environ)
    configure(sys.stderr, args.log_format)
    worker_id = args.worker_id or default_worker_id()
    try:
        workspace_path(Path("/"), worker_id)  # the same character rules as job ids: it names a queue
        root = Path(args.workspaces) if args.workspaces else resolve_paths(env).state_dir / "jobs" / worker_id
        config = WorkerConfig(worker_id, args.queue, root.resolve(), env)
        address = temporal_address(args, env)
        asyncio.run(run_worker(address, config, ready=lambda: print(f"ready: worker {worker_id} on {args.queue}",
                                                                    file=sys.stderr, flush=True)))  # fmt: skip
    except AgentcoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def main(args: argparse.Namespace) -> int:
    try:
        return _main(args)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != "temporalio":
            raise
        print(NEEDS_EXTRA, file=sys.stderr)
        return EXIT_ERROR
