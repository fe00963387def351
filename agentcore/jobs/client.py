"""Submit, list, show, cancel and answer jobs: the client side of ``agent jobs``.

Invariant: everything a person sees about a job comes from the workflow (its
status, query state and result) or from the job's session journal (progress);
every failure a person can cause is a :class:`~agentcore.jobs.errors.JobError`
with a one-line message. Runs on asyncio (the Temporal SDK's loop).
"""

from __future__ import annotations

import secrets
from typing import Any

import attrs
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import CancelledError
from temporalio.service import RPCError, RPCStatusCode

from agentcore.jobs import spec as s
from agentcore.jobs.errors import (
    ApprovalError,
    JobError,
    JobNotFound,
    TemporalUnavailable,
)
from agentcore.jobs.workflow import AgentJobWorkflow

__all__ = [
    "DEFAULT_ADDRESS", "JobSummary", "approve", "cancel", "connect", "describe", "list_jobs", "new_job_id", "result",
    "submit", "wait_closed",
]  # fmt: skip

DEFAULT_ADDRESS = "127.0.0.1:7233"
LIST_LIMIT = 100


@attrs.frozen
class JobSummary:
    job_id: str
    status: str  # running, completed, failed, canceled, terminated, timed_out
    started: str


async def connect(address: str) -> Client:
    try:
        return await Client.connect(address)
    except Exception as exc:  # noqa: BLE001 - the SDK raises plain RuntimeErrors for a refused connection
        raise TemporalUnavailable(f"cannot reach Temporal at {address}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None


def new_job_id() -> str:
    return f"job-{secrets.token_hex(6)}"


async def submit(client: Client, spec: s.JobSpec) -> str:
    await client.start_workflow(AgentJobWorkflow.run, spec, id=spec.job_id, task_queue=spec.queue)
    return spec.job_id


def _status(value: Any) -> str:
    return value.name.lower() if isinstance(value, WorkflowExecutionStatus) else "unknown"


async def list_jobs(client: Client) -> list[JobSummary]:
    out = []
    async for wf in client.list_workflows(f'WorkflowType = "{s.WORKFLOW_NAME}"', limit=LIST_LIMIT):
        out.append(JobSummary(wf.id, _status(wf.status), wf.start_time.isoformat(timespec="seconds")))
    return out


async def describe(client: Client, job_id: str) -> tuple[str, s.JobState]:
    handle = client.get_workflow_handle(job_id)
    try:
        desc = await handle.describe()
        if desc.workflow_type != s.WORKFLOW_NAME:
            raise JobNotFound(f"{job_id} is not an agent job")
        state = await handle.query(s.QUERY_STATE, result_type=s.JobState)
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            raise JobNotFound(f"no job {job_id}") from None
        raise JobError(f"cannot read job {job_id}: {exc.message}") from None
    return _status(desc.status), state


async def result(client: Client, job_id: str) -> s.JobOutcome:
    try:
        return await client.get_workflow_handle(job_id, result_type=s.JobOutcome).result()
    except WorkflowFailureError as exc:
        cause = exc.cause
        if isinstance(cause, CancelledError):
            raise JobError(f"job {job_id} was cancelled") from None
        raise JobError(f"job {job_id} failed: {_innermost(cause)}") from None


def _innermost(error: BaseException | None) -> str:
    """The message at the bottom of a Temporal failure chain (the activity's own error)."""
    while error is not None and getattr(error, "cause", None) is not None:
        error = error.cause  # type: ignore[attr-defined]
    return (getattr(error, "message", None) or str(error)).splitlines()[0] if error is not None else "unknown failure"


async def cancel(client: Client, job_id: str) -> None:
    await describe(client, job_id)
    await client.get_workflow_handle(job_id).cancel()


async def approve(client: Client, job_id: str, call_id: str, decision: str) -> None:
    if decision not in s.DECISIONS:
        raise ApprovalError(f"decision must be allow or deny, not {decision!r}")
    await describe(client, job_id)
    try:
        await client.get_workflow_handle(job_id).execute_update(
            s.UPDATE_APPROVE, s.ApprovalAnswer(call_id, decision), result_type=str
        )
    except WorkflowUpdateFailedError as exc:
        raise ApprovalError(getattr(exc.cause, "message", None) or str(exc.cause)) from None
    except RPCError as exc:  # the job ended meanwhile (an approval that timed out failed it closed)
        raise ApprovalError(f"job {job_id} is not waiting for approvals: {exc.message}") from None


async def wait_closed(client: Client, job_id: str) -> None:
    """Return when the job's workflow has closed, however it ended (for --follow)."""
    try:
        await client.get_workflow_handle(job_id).result()
    except Exception:  # noqa: BLE001, S110 - any ending ends the follow; show reports it
        pass
