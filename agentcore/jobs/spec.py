"""The values a durable job passes through Temporal: its spec, each turn's request
and result, approvals, and the job's state and outcome.

Invariant: these are plain frozen dataclasses of JSON-able fields (Temporal's
default data converter serialises dataclasses, not attrs classes), and this
module imports nothing but the standard library, so workflow code (which runs
in Temporal's sandbox on its own asyncio loop) can import it freely. Secrets
never travel here: the worker's environment holds keys; a spec holds only the
goal, the repository and limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WORKFLOW_NAME = "AgentJob"
CLAIM_ACTIVITY = "agentcore.claim_workspace"
TURN_ACTIVITY = "agentcore.run_turn"
SIGNAL_SESSION = "session_started"
UPDATE_REQUEST_APPROVAL = "request_approval"  # the worker asks; answered when a person decides or time runs out
UPDATE_APPROVE = "approve"  # a person decides (agent jobs approve)
QUERY_STATE = "state"

MAX_TURNS_DEFAULT = 20  # as agent run --goal
APPROVAL_TIMEOUT_S_DEFAULT = 600.0  # an unanswered approval denies the call and fails the job
HEARTBEAT_TIMEOUT_S_DEFAULT = 10.0  # a turn activity silent this long is presumed lost; cancel reaches a turn within 0.8 of it (heartbeat throttling)
FAILOVER_AFTER_S_DEFAULT = 30.0  # a turn queued this long on a worker's own queue: that worker is gone
TURN_TIMEOUT_S_DEFAULT = 3600.0  # one turn, start to close (the model and tools of one prompt)
MAX_FAILOVERS = 5  # workspaces rebuilt on another worker before the job gives up

ALLOW = "allow"
DENY = "deny"
TIMED_OUT = "timed_out"
DECISIONS = (ALLOW, DENY)

# GoalStop values (agentcore.session.goal) plus the job's own endings.
STOP_GOAL_DONE = "goal_done"
STOP_MAX_TURNS = "max_turns"
STOP_CANCELLED = "cancelled"
STOP_REFUSAL = "refusal"
STOP_APPROVAL_TIMED_OUT = "approval_timed_out"


@dataclass(frozen=True)
class JobSpec:
    job_id: str
    goal: str
    repo: str  # a local path or a git URL, cloned into each worker's workspace
    queue: str  # the shared task queue: workflow tasks and workspace claims
    profile: str | None = None
    mode: str | None = None  # a permission mode (ask, accept-edits, yolo, read-only)
    max_turns: int = MAX_TURNS_DEFAULT
    approval_timeout_s: float = APPROVAL_TIMEOUT_S_DEFAULT
    heartbeat_timeout_s: float = HEARTBEAT_TIMEOUT_S_DEFAULT
    failover_after_s: float = FAILOVER_AFTER_S_DEFAULT
    turn_timeout_s: float = TURN_TIMEOUT_S_DEFAULT


@dataclass(frozen=True)
class Claim:
    """A worker took the job's workspace: its own task queue runs the turns."""

    worker: str
    queue: str
    workspace: str
    replayed_files: int = 0  # files put back from the session's checkpoints


@dataclass(frozen=True)
class ClaimRequest:
    spec: JobSpec
    session_id: str | None = None


@dataclass(frozen=True)
class TurnRequest:
    spec: JobSpec
    turn: int  # 1-based; also the idempotency key with the job id
    workspace: str
    session_id: str | None = None


@dataclass(frozen=True)
class TurnResult:
    session_id: str
    stop: str  # end_turn, goal_done, cancelled, refusal, max_tokens, max_turn_requests, approval_timed_out
    text: str  # the goal_done summary, or the turn's last text
    resumed: bool = False  # continued a cut-off turn from its last recorded message
    replayed: bool = False  # the turn was already complete in the journal: nothing ran


@dataclass(frozen=True)
class ApprovalRequest:
    call_id: str
    tool: str
    title: str


@dataclass(frozen=True)
class ApprovalAnswer:
    call_id: str
    decision: str  # allow or deny


@dataclass(frozen=True)
class JobOutcome:
    reached: bool
    stop: str
    summary: str
    turns: int
    session_id: str | None
    failovers: int = 0


@dataclass
class JobState:
    """What ``agent jobs show`` reads through the workflow's query."""

    phase: str = "claiming"  # claiming, running, waiting_approval, done
    goal: str = ""  # the job's goal (what a list shows beside its id)
    turn: int = 0
    session_id: str | None = None
    worker: str | None = None
    workspace: str | None = None
    failovers: int = 0
    pending: list[ApprovalRequest] = field(default_factory=list)
    outcome: JobOutcome | None = None
