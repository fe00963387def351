"""The job workflow: run goal-loop turns as activities until the goal is reached
or a limit is hit.

Invariants:

* This is Temporal workflow code: deterministic, on Temporal's own asyncio loop
  inside its sandbox. It imports only :mod:`agentcore.jobs.spec` and temporalio;
  it never touches files, the network, trio or a session (activities do).
* A turn runs on the task queue of the worker that holds the job's workspace
  (its :class:`~agentcore.jobs.spec.Claim`). When that worker stops answering
  (heartbeats lapse, then the retried turn is not picked up within
  ``failover_after_s``) the workflow claims a workspace again on the shared
  queue: another worker rebuilds it and the same turn number runs there,
  continuing from the session journal.
* An approval waits in the workflow (a durable timer), so it survives worker
  restarts; an unanswered one is denied (``timed_out``), and the job then fails
  closed: it ends with ``approval_timed_out`` and never runs the call.
* Cancelling the workflow cancels the running turn activity and waits for it
  to stop (the session records the turn as cancelled) before the job ends.
* Progress never goes through workflow history: the session journal carries it.
"""

from __future__ import annotations

import builtins
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    TimeoutError,
    TimeoutType,
)

with workflow.unsafe.imports_passed_through():
    from agentcore.jobs import spec as s

CLAIM_TIMEOUT = timedelta(minutes=10)  # a clone and a replay of the session's file changes
CLAIM_RETRY = RetryPolicy(maximum_attempts=3, initial_interval=timedelta(seconds=1))
TURN_ATTEMPTS = 3  # per worker; after that (or when the worker is gone) the job moves to another worker
TURN_RETRY = RetryPolicy(maximum_attempts=TURN_ATTEMPTS, initial_interval=timedelta(seconds=1),
                         non_retryable_error_types=["JobError"])  # fmt: skip
GOAL_ENDS = {
    s.STOP_GOAL_DONE: True,
    "cancelled": False,
    "refusal": False,
    s.STOP_APPROVAL_TIMED_OUT: False,
}


def _worker_lost(err: ActivityError) -> bool:
    cause = err.cause
    return isinstance(cause, TimeoutError) and cause.type in (TimeoutType.SCHEDULE_TO_START, TimeoutType.HEARTBEAT)


@workflow.defn(name=s.WORKFLOW_NAME)
class AgentJobWorkflow:
    def __init__(self) -> None:
        self.state = s.JobState()
        self.decisions: dict[str, str] = {}
        self.spec: s.JobSpec | None = None

    @workflow.run
    async def run(self, spec: s.JobSpec) -> s.JobOutcome:
        self.spec = spec
        self.state.goal = spec.goal
        claim: s.Claim | None = None
        last_text = ""
        turn = 1
        while turn <= spec.max_turns:
            if claim is None:
                claim = await self._claim(spec)
            self.state.phase, self.state.turn = "running", turn
            try:
                result = await workflow.execute_activity(
                    s.TURN_ACTIVITY,
                    s.TurnRequest(spec, turn, claim.workspace, self.state.session_id),
                    result_type=s.TurnResult,
                    task_queue=claim.queue,
                    schedule_to_start_timeout=timedelta(seconds=spec.failover_after_s),
                    start_to_close_timeout=timedelta(seconds=spec.turn_timeout_s),
                    heartbeat_timeout=timedelta(seconds=spec.heartbeat_timeout_s),
                    retry_policy=TURN_RETRY,
                    cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                )
            except ActivityError as err:
                if not _worker_lost(err) or self.state.failovers >= s.MAX_FAILOVERS:
                    raise
                self.state.failovers += 1
                workflow.logger.warning("job %s: worker %s lost; claiming another", spec.job_id, claim.worker)
                claim = None
                continue  # the same turn, on another worker
            self.state.session_id = result.session_id
            last_text = result.text or last_text
            if result.stop in GOAL_ENDS:
                return self._finish(GOAL_ENDS[result.stop], result.stop, last_text, turn)
            turn += 1
        return self._finish(False, s.STOP_MAX_TURNS, last_text, spec.max_turns)

    async def _claim(self, spec: s.JobSpec) -> s.Claim:
        self.state.phase = "claiming"
        claim = await workflow.execute_activity(
            s.CLAIM_ACTIVITY,
            s.ClaimRequest(spec, self.state.session_id),
            result_type=s.Claim,
            task_queue=spec.queue,
            start_to_close_timeout=CLAIM_TIMEOUT,
            heartbeat_timeout=timedelta(seconds=spec.heartbeat_timeout_s),  # a worker lost mid-clone: retried elsewhere
            retry_policy=CLAIM_RETRY,
        )
        self.state.worker, self.state.workspace = claim.worker, claim.workspace
        return claim

    def _finish(self, reached: bool, stop: str, summary: str, turns: int) -> s.JobOutcome:
        assert self.spec is not None
        outcome = s.JobOutcome(reached, stop, summary, turns, self.state.session_id, self.state.failovers)
        self.state.phase, self.state.outcome = "done", outcome
        if stop == s.STOP_APPROVAL_TIMED_OUT:  # fail closed: the job fails, the call never ran
            raise ApplicationError(f"an approval was not answered within {self.spec.approval_timeout_s:g}s; "
                                   "the call was denied and the job stopped", outcome,
                                   type="ApprovalTimedOut", non_retryable=True)  # fmt: skip
        return outcome

    @workflow.signal(name=s.SIGNAL_SESSION)
    def session_started(self, session_id: str) -> None:
        self.state.session_id = session_id

    @workflow.query(name=s.QUERY_STATE)
    def query_state(self) -> s.JobState:
        return self.state

    @workflow.update(name=s.UPDATE_REQUEST_APPROVAL)
    async def request_approval(self, request: s.ApprovalRequest) -> str:
        """A worker's tool call waits here for a person; returns allow, deny or timed_out."""
        assert self.spec is not None
        if request.call_id not in self.decisions and all(p.call_id != request.call_id for p in self.state.pending):
            self.state.pending.append(request)
        previous, self.state.phase = self.state.phase, "waiting_approval"
        try:
            await workflow.wait_condition(lambda: request.call_id in self.decisions,
                                          timeout=timedelta(seconds=self.spec.approval_timeout_s))  # fmt: skip
        except builtins.TimeoutError:
            self.decisions[request.call_id] = s.TIMED_OUT
        finally:
            self.state.pending = [p for p in self.state.pending if p.call_id != request.call_id]
            if self.state.phase == "waiting_approval" and not self.state.pending:
                self.state.phase = previous
        return self.decisions[request.call_id]

    @workflow.update(name=s.UPDATE_APPROVE)
    def approve(self, answer: s.ApprovalAnswer) -> str:
        self.decisions[answer.call_id] = answer.decision
        return answer.decision

    @approve.validator
    def _check_answer(self, answer: s.ApprovalAnswer) -> None:
        if answer.decision not in s.DECISIONS:
            raise ApplicationError(f"decision must be allow or deny, not {answer.decision!r}")
        if answer.call_id in self.decisions:
            raise ApplicationError(f"call {answer.call_id} was already answered ({self.decisions[answer.call_id]})")
        if all(p.call_id != answer.call_id for p in self.state.pending):
            waiting = ", ".join(p.call_id for p in self.state.pending) or "none"
            raise ApplicationError(f"job is not waiting for an approval of call {answer.call_id} (waiting: {waiting})")
