"""The job's activities, as a worker runs them: claim a workspace (shared queue)
and run one turn (the worker's own queue).

Invariants:

* Activities are ``async`` on the worker's asyncio loop, which owns Temporal:
  heartbeats (every third of the heartbeat timeout, while the turn runs) and
  cancellation. The agent itself runs on trio in a dedicated thread per
  activity (``trio.run`` in the loop's executor); the two meet only through
  :class:`_ThreadBridge` (trio → asyncio: signals and approval updates, via
  ``run_coroutine_threadsafe``) and the session's ``cancel`` (asyncio → trio,
  via the run's trio token).
* A cancelled activity cancels the turn and waits for the trio thread to end
  (the session records the cancelled turn) before it reports cancellation.
* Known failures (bad repository, a turn aborted by the provider) are
  non-retryable ``JobError`` application errors; anything else is retried.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import logging
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any

import attrs
import trio
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from agentcore.errors import AgentcoreError
from agentcore.jobs import spec as s
from agentcore.jobs import workspace as ws
from agentcore.jobs.turn_host import run_job_turn
from agentcore.logctx import JOB_ID, SESSION_ID

log = logging.getLogger("agentcore.jobs")
HEARTBEAT_SHARE = 3  # heartbeats per heartbeat timeout


@attrs.frozen
class WorkerConfig:
    worker_id: str
    queue: str  # the shared one
    workspaces: Path
    env: Mapping[str, str]  # the worker's environment: provider keys, AGENTCORE_HOME (never sent to Temporal)

    @property
    def own_queue(self) -> str:
        return f"{self.queue}@{self.worker_id}"


def open_app(config: WorkerConfig, spec: s.JobSpec, cwd: Path) -> Any:
    from agentcore.app import build_app
    from agentcore.frontend import Frontend

    flags = {"profile": spec.profile, "mode": spec.mode}
    return build_app(cwd=cwd, env=config.env, flags={k: v for k, v in flags.items() if v}, frontend=Frontend.cli(),
                     allow_echo=True, on_untrusted_project=lambda trust: log.info("%s", trust.notice()))  # fmt: skip


def _job_error(exc: BaseException) -> ApplicationError:
    return ApplicationError(f"{type(exc).__name__}: {exc}", type="JobError", non_retryable=True)


class _ThreadBridge:
    """The trio thread's way to the workflow: each call hops to the worker's loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, client: Client, workflow_id: str) -> None:
        self._loop, self._handle = loop, client.get_workflow_handle(workflow_id)

    async def _on_loop(self, make: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        future = asyncio.run_coroutine_threadsafe(make(), self._loop)
        try:
            return await trio.to_thread.run_sync(future.result, abandon_on_cancel=True)
        finally:
            future.cancel()  # a no-op once done; stops the update's long poll when the turn is cancelled

    async def session_started(self, session_id: str) -> None:
        await self._on_loop(lambda: self._handle.signal(s.SIGNAL_SESSION, session_id))

    async def ask(self, request: s.ApprovalRequest) -> str:
        return await self._on_loop(lambda: self._handle.execute_update(s.UPDATE_REQUEST_APPROVAL, request, result_type=str))


class JobActivities:
    def __init__(self, config: WorkerConfig, client: Client) -> None:
        self.config, self.client = config, client

    @activity.defn(name=s.CLAIM_ACTIVITY)
    async def claim_workspace(self, request: s.ClaimRequest) -> s.Claim:
        spec = request.spec
        JOB_ID.set(spec.job_id)  # this activity's task: every log line names the job
        SESSION_ID.set(request.session_id)
        path = ws.workspace_path(self.config.workspaces, spec.job_id)
        beats = asyncio.ensure_future(_heartbeat(spec.heartbeat_timeout_s / HEARTBEAT_SHARE))
        try:
            await asyncio.to_thread(ws.clone, spec.repo, path)
            report = await asyncio.to_thread(self._replay, spec, request.session_id, path)
        except AgentcoreError as exc:
            raise _job_error(exc) from None
        finally:
            beats.cancel()
        for kept, why in report.kept:
            log.warning("job %s: %s not replayed: %s", spec.job_id, kept, why)
        log.info("job %s: workspace %s on %s (%d files replayed)", spec.job_id, path, self.config.worker_id,
                 len(report.changed))  # fmt: skip
        return s.Claim(self.config.worker_id, self.config.own_queue, str(path), len(report.changed))

    def _replay(self, spec: s.JobSpec, session_id: str | None, path: Path) -> Any:
        """The session's file changes onto the fresh clone, under the job's own deny
        rules and protected paths (as ``agent rewind`` restores a stored session)."""
        from agentcore.checkpoints import RestoreReport, checkpoints_dir, refuse_for
        from agentcore.permissions import DefaultPermissionGate
        from agentcore.tools import Workspace

        if session_id is None:
            return RestoreReport()
        core = open_app(self.config, spec, path).core
        policy = core.policy_resolver(spec.profile, path)
        gate = DefaultPermissionGate(rules=policy.rules, protected=core.protected)
        refuse = refuse_for(gate, core.protected, Workspace(path))
        copy = getattr(core.loader, "checkpoint_copy", None)  # PostgreSQL: written on whichever worker ran the turn
        shared = copy(session_id) if callable(copy) else None
        return ws.replay(checkpoints_dir(core.loader, core.state_dir, session_id), path, refuse, shared)

    @activity.defn(name=s.TURN_ACTIVITY)
    async def run_turn(self, request: s.TurnRequest) -> s.TurnResult:
        info = activity.info()
        JOB_ID.set(request.spec.job_id)
        SESSION_ID.set(request.session_id)
        loop = asyncio.get_running_loop()
        bridge = _ThreadBridge(loop, self.client, info.workflow_id)
        app = open_app(self.config, request.spec, Path(request.workspace))
        held: dict[str, Any] = {}

        def on_session(session: Any) -> None:
            held["session"], held["token"] = session, trio.lowlevel.current_trio_token()

        def in_thread() -> s.TurnResult:
            return trio.run(run_job_turn, app, request, bridge, on_session)

        log.info("job %s: turn %d (attempt %d) on %s", request.spec.job_id, request.turn, info.attempt,
                 self.config.worker_id)  # fmt: skip
        with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="agent-turn") as pool:
            running = loop.run_in_executor(pool, contextvars.copy_context().run, in_thread)  # the ids go along
            beats = asyncio.ensure_future(_heartbeat(request.spec.heartbeat_timeout_s / HEARTBEAT_SHARE))
            try:
                return await asyncio.shield(running)
            except asyncio.CancelledError:
                session, token = held.get("session"), held.get("token")
                if session is not None:
                    try:
                        trio.from_thread.run_sync(session.cancel, trio_token=token)
                    except trio.RunFinishedError:
                        pass
                try:
                    await running  # the session records the cancelled turn
                except Exception as exc:  # noqa: BLE001 - the turn is being cancelled; its error is not the news
                    log.debug("turn ended with %s while being cancelled", type(exc).__name__)
                raise
            except AgentcoreError as exc:
                raise _job_error(exc) from None
            finally:
                beats.cancel()


async def _heartbeat(every_s: float) -> None:
    while True:
        activity.heartbeat()
        await asyncio.sleep(every_s)
