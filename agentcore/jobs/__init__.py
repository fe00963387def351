"""The jobs wing: durable agent jobs on Temporal (``agent jobs``, ``agent worker``).

- :mod:`~agentcore.jobs.spec` — the values passed through Temporal (stdlib only);
- :mod:`~agentcore.jobs.workflow` — the job workflow (Temporal's asyncio loop, sandboxed);
- :mod:`~agentcore.jobs.activities` — claim a workspace, run a turn (trio in a thread);
- :mod:`~agentcore.jobs.turn_host` — one goal-loop turn, idempotent over the session journal;
- :mod:`~agentcore.jobs.workspace` — clone plus replay of the session's checkpoints;
- :mod:`~agentcore.jobs.worker` — the worker process; :mod:`~agentcore.jobs.client` — submit, list, show, cancel, approve;
- :mod:`~agentcore.jobs.serve_ext` — the same list and approve as ACP methods of ``agent serve``.

Needs the ``temporal`` extra (``temporalio``). docs/scale.md explains the design.
Frontends import from here; the modules are internal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentcore._lazy import lazy_exports

_EXPORTS = {
    **{name: "agentcore.jobs.errors" for name in ("ApprovalError", "JobError", "JobNotFound", "TemporalUnavailable",
                                                   "WorkspaceError")},
    **{name: "agentcore.jobs.spec" for name in ("DECISIONS", "JobOutcome", "JobSpec", "JobState")},
    **{name: "agentcore.jobs.client" for name in ("DEFAULT_ADDRESS", "JobSummary", "approve", "cancel", "connect",
                                                   "describe", "list_jobs", "new_job_id", "result", "submit",
                                                   "wait_closed")},
    **{name: "agentcore.jobs.activities" for name in ("WorkerConfig",)},
    **{name: "agentcore.jobs.serve_ext" for name in ("JOBS_APPROVE_METHOD", "JOBS_LIST_METHOD", "answer_approve",
                                                      "answer_list")},
    **{name: "agentcore.jobs.worker" for name in ("default_worker_id", "run_worker")},
    **{name: "agentcore.jobs.workspace" for name in ("workspace_path",)},
}  # fmt: skip
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover - static names for type checkers and IDEs
    from agentcore.jobs.activities import WorkerConfig  # noqa: F401
    from agentcore.jobs.client import *
    from agentcore.jobs.errors import (  # noqa: F401
        ApprovalError,
        JobError,
        JobNotFound,
        TemporalUnavailable,
        WorkspaceError,
    )
    from agentcore.jobs.serve_ext import (  # noqa: F401
        JOBS_APPROVE_METHOD,
        JOBS_LIST_METHOD,
        answer_approve,
        answer_list,
    )
    from agentcore.jobs.spec import DECISIONS, JobOutcome, JobSpec, JobState  # noqa: F401
    from agentcore.jobs.worker import default_worker_id, run_worker  # noqa: F401
    from agentcore.jobs.workspace import workspace_path  # noqa: F401
