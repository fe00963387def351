"""``agent serve``'s job methods over ACP: ``_agentcore/jobs/list`` (jobs, their
phase and pending approvals) and ``_agentcore/jobs/approve`` (answer one), so
any ACP client — the web page too — can answer a job's approval, not only
``agent jobs approve``.

Invariants:

* An answer goes through the same workflow update as ``agent jobs approve``
  (:func:`agentcore.jobs.client.approve`), validated in the workflow: an
  unknown call, a call already answered or one whose approval timed out is
  refused with one line — the timeout still fails closed, whoever answers.
* The Temporal address is ``AGENTCORE_TEMPORAL`` of the server's environment;
  unset, or without the ``temporal`` extra, both methods are refused with one
  line (:class:`~agentcore.jobs.errors.JobError`).
* The Temporal SDK runs on its own asyncio loop in a worker thread, bounded by
  :data:`CALL_TIMEOUT_S`; the server's trio loop never waits on it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import trio

from agentcore.jobs.errors import ApprovalError, JobError

JOBS_LIST_METHOD = "_agentcore/jobs/list"
JOBS_APPROVE_METHOD = "_agentcore/jobs/approve"
TEMPORAL_ENV = "AGENTCORE_TEMPORAL"  # as /ready reads it (acp/remote/ops.py)
CALL_TIMEOUT_S = 30.0


def _address(env: Mapping[str, str] | None) -> str:
    address = (os.environ if env is None else env).get(TEMPORAL_ENV)
    if not address:
        raise JobError(f"this server has no Temporal configured: start agent serve with {TEMPORAL_ENV}=HOST:PORT")
    return address


def _text(params: Mapping[str, Any], key: str) -> str:
    value = params.get(key)
    if not isinstance(value, str) or not value:
        raise ApprovalError(f"{key} must be a non-empty string")
    return value


async def _on_asyncio(call: Callable[[Any], Awaitable[Any]], address: str) -> Any:
    """``call(client)`` with a Temporal client for ``address``, on an asyncio loop in a thread."""
    try:
        from agentcore.jobs import client as jobs_client
    except ImportError:
        raise JobError("durable jobs need the temporal extra on the server: pip install 'agentcore[temporal]'") from None

    async def run() -> Any:
        return await call(await jobs_client.connect(address))

    with trio.fail_after(CALL_TIMEOUT_S):
        return await trio.to_thread.run_sync(asyncio.run, run(), abandon_on_cancel=True)


async def answer_list(params: Mapping[str, Any], *, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``{"jobs": [{jobId, status, started, goal?, phase?, turn?, sessionId?, pending?: [{callId, tool, title}]}]}``;
    ``jobId`` in ``params``: that job only. A running job's phase and pending approvals come from its workflow."""
    address = _address(env)
    only = params.get("jobId")

    async def call(client: Any) -> dict[str, Any]:
        from agentcore.jobs import client as jobs_client

        summaries = [s for s in await jobs_client.list_jobs(client) if only is None or s.job_id == only]
        jobs = []
        for summary in summaries:
            entry: dict[str, Any] = {"jobId": summary.job_id, "status": summary.status, "started": summary.started}
            if summary.status == "running":
                _, state = await jobs_client.describe(client, summary.job_id)
                entry.update(goal=state.goal, phase=state.phase, turn=state.turn, sessionId=state.session_id,
                             pending=[{"callId": p.call_id, "tool": p.tool, "title": p.title} for p in state.pending])  # fmt: skip
            jobs.append(entry)
        return {"jobs": jobs}

    return await _bounded(call, address)


async def answer_approve(params: Mapping[str, Any], *, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Answer a pending approval: ``{jobId, callId, decision: "allow" | "deny"}`` → the same, once accepted."""
    job_id, call_id, decision = _text(params, "jobId"), _text(params, "callId"), _text(params, "decision")
    address = _address(env)

    async def call(client: Any) -> dict[str, Any]:
        from agentcore.jobs import client as jobs_client

        await jobs_client.approve(client, job_id, call_id, decision)
        return {"jobId": job_id, "callId": call_id, "decision": decision}

    return await _bounded(call, address)


async def _bounded(call: Callable[[Any], Awaitable[Any]], address: str) -> Any:
    try:
        return await _on_asyncio(call, address)
    except trio.TooSlowError:
        raise JobError(f"Temporal at {address} did not answer within {CALL_TIMEOUT_S:g}s") from None
