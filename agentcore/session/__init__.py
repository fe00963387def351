"""The session wing: one conversation and the satellites around it.

- :mod:`~agentcore.session.base` — the ``Session`` trait and the values describing one
  (``SessionCreateInfo``, ``SessionPolicy``, ``ProviderSelection``, ``WhenBusy``);
- :mod:`~agentcore.session.default` — ``DefaultSession``: turns, history, events;
- :mod:`~agentcore.session.persistence` — loader and observer traits, snapshots;
- satellites, each reading the session through its own small protocol and wired
  by the core: :mod:`~agentcore.session.compaction`, :mod:`~agentcore.session.hooks`,
  :mod:`~agentcore.session.outcomes`, :mod:`~agentcore.session.subagents`;
- :mod:`~agentcore.session.goal` — the goal loop over a session.

Frontends and embedders import from here (or from ``agentcore``); the modules are internal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentcore._lazy import lazy_exports

_EXPORTS = {
    **{
        name: "agentcore.session.base"
        for name in ("Prompt", "ProviderSelection", "Session", "PromptTooLarge", "SessionClosed", "SessionCreateInfo", "SessionPolicy", "WhenBusy")
    },
    **{name: "agentcore.session.default" for name in ("DefaultSession", "NoPendingTurn", "TITLE_MAX_CHARS", "make_title")},
    **{
        name: "agentcore.session.state"
        for name in (
            "InterruptedCall", "MetadataError", "MetadataValue", "PendingTurn", "Revision", "RevisionConflict",
            "ToolVisibilityError", "metadata_text",
        )
    },
    **{
        name: "agentcore.session.persistence"
        for name in (
            "MemorySessionStore", "ObservedSession", "SessionLoader", "SessionNotFound", "SessionObserver",
            "SessionSnapshot", "SessionSummary",
        )
    },
    **{name: "agentcore.session.compaction" for name in ("CompactionReport", "Compactor", "Thresholds")},
    **{name: "agentcore.session.goal" for name in ("GoalError", "GoalOutcome", "GoalStop", "run_goal")},
}  # fmt: skip
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover - static names for type checkers and IDEs
    from agentcore.session.base import *  # noqa: F403
    from agentcore.session.compaction import CompactionReport, Compactor, Thresholds  # noqa: F401
    from agentcore.session.default import TITLE_MAX_CHARS, DefaultSession, NoPendingTurn, make_title  # noqa: F401
    from agentcore.session.state import (  # noqa: F401
        InterruptedCall, MetadataError, MetadataValue, PendingTurn, Revision, RevisionConflict, ToolVisibilityError,
        metadata_text,
    )
    from agentcore.session.goal import GoalError, GoalOutcome, GoalStop, run_goal  # noqa: F401
    from agentcore.session.persistence import *  # noqa: F403
