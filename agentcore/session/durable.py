"""The durable-state half of :class:`~agentcore.session.default.DefaultSession`:
metadata, control state (durable context sections, queued background
outcomes, hidden tools) and transcript revisions.

Invariant: every change is announced synchronously to the state listeners
(the journal) as a :data:`~agentcore.session.state.StateChange` before the
method that made it returns; a value that fails validation raises and changes
nothing. The session's own attributes this mixin uses are listed in
:meth:`DurableState._init_durable_state` (and ``registry``, ``policy``,
``extra_prompt_sections``, ``id``, set by the session).
"""

from __future__ import annotations

import time
import types
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from agentcore.events import AgentEvent, CompactionStarted, ContextCompressed, HistoryRolledBack
from agentcore.session.state import (
    METADATA_MAX_KEYS,
    ContextSectionChanged,
    MetadataChanged,
    MetadataError,
    MetadataValue,
    OutcomeQueue,
    OutcomesChanged,
    PendingTurn,
    Revision,
    RevisionConflict,
    StateChange,
    StateListener,
    ToolVisibilityChanged,
    check_metadata,
    check_tool_name,
    revision_id,
    revision_number,
)
from agentcore.tools.registry import ToolFilter

if TYPE_CHECKING:
    from agentcore.session.persistence import SessionSnapshot


class DurableState:
    """Mixed into ``DefaultSession``; see the module docstring."""

    id: Any
    registry: Any
    policy: Any
    extra_prompt_sections: dict[str, str]

    def _init_durable_state(self, session_id: str) -> None:
        self._state_listeners: list[StateListener] = []
        self._metadata: dict[str, MetadataValue] = {}
        self._durable_sections: set[str] = set()  # names in extra_prompt_sections that persist
        self._outcomes = OutcomeQueue(on_change=self._outcomes_changed)  # background outcomes for the next turn
        self._hidden_tools: tuple[str, ...] = ()
        self._pending: PendingTurn | None = None
        self._revisions: list[Revision] = [Revision(revision_id(session_id, 0), None, "created", "system")]
        self._announced: Revision | None = None  # claimed by claim_revision for the next rewrite
        self._compaction_actor = "agent"

    def _observe_rewrite(self, event: AgentEvent) -> None:
        """Called from the session's own observer: rewrites of history become revisions."""
        if isinstance(event, CompactionStarted):
            self._compaction_actor = "user" if event.reason == "manual" else "agent"
        elif isinstance(event, ContextCompressed):
            detail = f"{event.strategy}: {len(event.replaced_ids) or event.messages_summarized} messages"
            self._new_revision("compaction", self._compaction_actor, detail)
            self._compaction_actor = "agent"
        elif isinstance(event, HistoryRolledBack):
            self._new_revision("rollback", "agent", f"to {event.length} messages")


    def add_state_listener(self, listener: StateListener) -> Callable[[], None]:
        self._state_listeners.append(listener)
        return lambda: self._state_listeners.remove(listener) if listener in self._state_listeners else None

    def _state_changed(self, change: StateChange) -> None:
        for listener in tuple(self._state_listeners):
            listener(change)

    def restore_state(self, snapshot: SessionSnapshot) -> None:
        """What a loaded snapshot holds beside the history (the core calls this
        before any listener is attached, so nothing is journaled again)."""
        self._metadata = dict(snapshot.metadata)
        for name, text in snapshot.context_sections.items():
            self.extra_prompt_sections[name] = text
            self._durable_sections.add(name)
        self._outcomes = OutcomeQueue(snapshot.pending_outcomes, on_change=self._outcomes_changed)
        self._apply_hidden(tuple(snapshot.hidden_tools))
        self._pending = snapshot.pending_turn
        if snapshot.revisions:
            self._revisions = list(snapshot.revisions)

    # --------------------------------------------------------------- metadata

    @property
    def metadata(self) -> Mapping[str, MetadataValue]:
        """The session's durable key/value map (read-only; change it with the methods below)."""
        return types.MappingProxyType(self._metadata)

    def set_metadata(self, key: str, value: MetadataValue) -> None:
        """Set one key (a string, number, boolean or null; sizes are limited, see
        :mod:`agentcore.session.state`). Raises :class:`MetadataError`."""
        check_metadata(key, value)
        if key not in self._metadata and len(self._metadata) >= METADATA_MAX_KEYS:
            raise MetadataError(f"a session holds at most {METADATA_MAX_KEYS} metadata keys")
        if key in self._metadata and self._metadata[key] == value and type(self._metadata[key]) is type(value):
            return
        self._metadata[key] = value
        self._state_changed(MetadataChanged(key, value))

    def remove_metadata(self, key: str) -> bool:
        """Remove ``key``; False when it was not set."""
        if key not in self._metadata:
            return False
        del self._metadata[key]
        self._state_changed(MetadataChanged(key, removed=True))
        return True

    def backfill_metadata(self, values: Mapping[str, MetadataValue]) -> tuple[str, ...]:
        """Set the keys of ``values`` that are not set yet (all checked first: one
        bad value sets nothing); returns the keys it set."""
        missing = {key: value for key, value in values.items() if key not in self._metadata}
        for key, value in missing.items():
            check_metadata(key, value)
        if len(self._metadata) + len(missing) > METADATA_MAX_KEYS:
            raise MetadataError(f"a session holds at most {METADATA_MAX_KEYS} metadata keys")
        for key, value in missing.items():
            self.set_metadata(key, value)
        return tuple(missing)

    # ---------------------------------------------------------- control state

    @property
    def durable_context_sections(self) -> Mapping[str, str]:
        return {name: self.extra_prompt_sections[name] for name in sorted(self._durable_sections)}

    def set_context_section(self, name: str, text: str) -> None:
        """Add (or replace) a context section that joins the system prompt and
        survives a restart. (MCP instructions, hook and voice sections are not
        durable: they are derived again each time the session opens.)"""
        if not isinstance(name, str) or not name.strip():
            raise MetadataError("a context section needs a name")
        self.extra_prompt_sections[name] = text
        self._durable_sections.add(name)
        self._state_changed(ContextSectionChanged(name, text))

    def remove_context_section(self, name: str) -> bool:
        if name not in self._durable_sections:
            return False
        self._durable_sections.discard(name)
        self.extra_prompt_sections.pop(name, None)
        self._state_changed(ContextSectionChanged(name, None))
        return True

    @property
    def pending_outcomes(self) -> list[str]:
        """Background outcomes the next turn receives (every change is journaled)."""
        return self._outcomes

    @pending_outcomes.setter
    def pending_outcomes(self, values: list[str]) -> None:
        self._outcomes.on_change = None  # whoever took the old list only reads it now
        self._outcomes = OutcomeQueue(values, on_change=self._outcomes_changed)
        self._outcomes_changed(tuple(self._outcomes))

    def _outcomes_changed(self, pending: tuple[str, ...]) -> None:
        self._state_changed(OutcomesChanged(pending))

    @property
    def hidden_tools(self) -> tuple[str, ...]:
        return self._hidden_tools

    def set_tool_visible(self, name: str, visible: bool) -> None:
        """Hide a tool from the model (it is not offered, and a call to it fails
        as unknown) or show it again; remembered across restarts."""
        check_tool_name(name)
        hidden = set(self._hidden_tools)
        hidden.discard(name) if visible else hidden.add(name)
        if tuple(sorted(hidden)) == self._hidden_tools:
            return
        self._apply_hidden(tuple(sorted(hidden)))
        self._state_changed(ToolVisibilityChanged(self._hidden_tools))

    def _apply_hidden(self, hidden: tuple[str, ...]) -> None:
        self._hidden_tools = hidden
        current = self.registry.filter
        self.registry.filter = ToolFilter(allow=current.allow, deny=(*self.policy.tool_filter.deny, *hidden))

    # -------------------------------------------------------------- revisions

    @property
    def revision(self) -> Revision:
        """The transcript's current revision."""
        return self._revisions[-1]

    @property
    def revisions(self) -> tuple[Revision, ...]:
        return tuple(self._revisions)

    def check_revision(self, expected: str | None) -> None:
        """Raise :class:`RevisionConflict` unless ``expected`` is None or the current revision."""
        if expected is not None and expected != self.revision.id:
            raise RevisionConflict(expected, self.revision.id)

    def claim_revision(self, reason: str, *, actor: str = "user", expected: str | None = None, detail: str = "") -> Revision:
        """Announce a rewrite about to happen (checked against ``expected`` with no
        await in between): the next rewrite event of this session becomes this
        revision. Callers rewriting history themselves (rewind, edit) use it."""
        self.check_revision(expected)
        revision = Revision(
            revision_id(self.id, revision_number(self.revision.id) + 1), self.revision.id, reason, actor, time.time(), detail
        )
        self._announced = revision
        return revision

    def _new_revision(self, reason: str, actor: str, detail: str) -> None:
        revision, self._announced = self._announced, None
        if revision is None or revision.parent != self.revision.id:
            revision = Revision(
                revision_id(self.id, revision_number(self.revision.id) + 1), self.revision.id, reason, actor,
                time.time(), detail,
            )
        self._revisions.append(revision)

