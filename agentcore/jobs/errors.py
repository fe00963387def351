"""Errors of durable jobs (one family in the error tree).

Invariant: every known job failure a person can cause or see (no Temporal
server, an unknown job, a bad approval, a repository that cannot be cloned)
is a :class:`JobError`, shown as one line.
"""

from __future__ import annotations

from agentcore.errors import AgentcoreError, InputError


class JobError(AgentcoreError):
    """A durable job could not be submitted, found, run or answered."""


class TemporalUnavailable(JobError):
    """No Temporal server answers at the given address."""


class JobNotFound(JobError, LookupError):
    """No job with that id."""


class ApprovalError(JobError, InputError):
    """An approval answer that cannot be used (unknown call, already answered, bad decision)."""


class WorkspaceError(JobError):
    """The job's workspace cannot be built (clone failed, checkpoint data missing)."""
