"""Background agents for the reactor's ``DispatchAgent`` effects, run as
sub-agents of the voice session.

:class:`SessionBackgroundAgents` implements the controller's
:class:`~agentcore.live.controller.BackgroundAgents` over the session's own
sub-agent machinery (``session.agents``, a
:class:`~agentcore.session.subagents.SessionAgents`): each task is one turn of
a child session opened through the same core, with the profile's model,
prompt and tools, unattended, its permission gate capped at the voice
session's, and its usage and cost charged to the voice session (journaled as
``UsageCharged`` with source ``sub-agent``), exactly as ``spawn_agent`` runs a
child.

Invariants: only profiles the session's profile may spawn (``agents.spawn``)
run, and the nesting limit (``agents.max_depth``) holds, as for
``spawn_agent``; the answer is redacted with the session's redactor before it
is returned (it goes into the model's context and state); a child that fails
or cannot start raises :class:`BackgroundAgentError`, which the controller
reports as a failed ``AgentFinished``, never into the conversation.
"""

from __future__ import annotations

from typing import Any, Protocol

from agentcore.errors import VoiceError
from agentcore.secrets import NO_REDACTION, Redactor


class BackgroundAgentError(VoiceError, RuntimeError):
    """A background agent could not run (no profile allowed, too deep) or failed."""


class ChildReportLike(Protocol):
    text: str
    error: str | None


class ChildRunner(Protocol):
    """What this module uses of ``session.agents`` (:class:`~agentcore.session.subagents.SessionAgents`)."""

    depth: int
    max_depth: int

    @property
    def spawnable(self) -> tuple[str, ...]: ...

    async def run_child(self, profile: str, task: str, sink: Any, *, interval_s: float = ...) -> ChildReportLike: ...


async def _discard(_text: str, _step: str | None) -> None:
    return None  # nobody watches a voice session's background agent step by step


class SessionBackgroundAgents:
    """Runs ``DispatchAgent`` tasks as sub-agents of ``session`` (through ``agents``)."""

    def __init__(self, agents: ChildRunner, *, redactor: Redactor = NO_REDACTION, default_profile: str | None = None) -> None:
        self._agents = agents
        self._redactor = redactor
        self.default_profile = default_profile
        self.runs = 0  # tasks started (diagnostics)

    def profile_for(self, profile: str | None) -> str:
        allowed = self._agents.spawnable
        chosen = profile or self.default_profile or (allowed[0] if allowed else None)
        if chosen is None:
            raise BackgroundAgentError("no background agent profile: the session's profile lists none under agents.spawn")
        if chosen not in allowed:
            raise BackgroundAgentError(f"profile {chosen!r} may not be started from this session (agents.spawn: {', '.join(allowed) or 'none'})")
        if self._agents.depth >= self._agents.max_depth:
            raise BackgroundAgentError(f"sub-agents may nest at most {self._agents.max_depth} level(s) deep; this session cannot start one")
        return chosen

    async def run(self, task: str, *, profile: str | None = None) -> str:
        chosen = self.profile_for(profile)
        self.runs += 1
        report = await self._agents.run_child(chosen, task, _discard, interval_s=0.0)
        if report.error is not None:
            raise BackgroundAgentError(self._redactor.redact(f"the {chosen} agent failed: {report.error}"))
        return self._redactor.redact(report.text.strip())


def session_agents(session: Any) -> SessionBackgroundAgents | None:
    """The background agents of ``session`` when it has sub-agents (every session
    the core opens does), else None (DispatchAgent effects then fail as telemetry)."""
    agents = getattr(session, "agents", None)
    if agents is None or not hasattr(agents, "run_child"):
        return None
    redactor = getattr(session, "redactor", None)
    return SessionBackgroundAgents(agents, redactor=redactor if isinstance(redactor, Redactor) else NO_REDACTION)
