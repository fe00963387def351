"""Journal records of a session's durable state beside its history (format v3):
metadata, control state, suspended/continued turns, and the revision a
rewrite record carries.

Invariant: each builder here writes ``v = STATE_RECORD_VERSION``, so a journal
holding any of them is refused cleanly (``JournalVersionError``) by an older
agentcore instead of being misread; a journal without them keeps its older
versions and loads everywhere. Revisions ride on existing record types
(``compaction``, ``rollback``, ``fork``) as an extra ``rev`` field that older
readers ignore.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from agentcore.session.state import InterruptedCall, MetadataValue, Revision, check_metadata, check_tool_name

STATE_RECORD_VERSION = 3  # metadata, context, outcomes, tools, turn_suspended, turn_continued came in v3

METADATA = "metadata"  # key, value | removed: true
CONTEXT = "context"  # name, text (null: removed)
OUTCOMES = "outcomes"  # pending: the queue of background outcomes, whole
TOOLS = "tools"  # hidden: the tools hidden at run time, whole
TURN_SUSPENDED = "turn_suspended"  # turn, interrupted_tools: a cut-off turn parked on resume (now pending)
TURN_CONTINUED = "turn_continued"  # turn: the pending turn's messages are back in history, the turn goes on
STATE_TYPES = frozenset({METADATA, CONTEXT, OUTCOMES, TOOLS})


def _rec(kind: str, ts: float, **fields: Any) -> dict[str, Any]:
    return {"v": STATE_RECORD_VERSION, "type": kind, "ts": ts, **fields}


def metadata_record(ts: float, key: str, value: MetadataValue, *, removed: bool) -> dict[str, Any]:
    return _rec(METADATA, ts, key=key, removed=True) if removed else _rec(METADATA, ts, key=key, value=value)


def context_record(ts: float, name: str, text: str | None) -> dict[str, Any]:
    return _rec(CONTEXT, ts, name=name, text=text)


def outcomes_record(ts: float, pending: Sequence[str]) -> dict[str, Any]:
    return _rec(OUTCOMES, ts, pending=list(pending))


def tools_record(ts: float, hidden: Sequence[str]) -> dict[str, Any]:
    return _rec(TOOLS, ts, hidden=list(hidden))


def suspended_record(ts: float, turn: str, tools: Sequence[InterruptedCall]) -> dict[str, Any]:
    return _rec(TURN_SUSPENDED, ts, turn=turn, interrupted_tools=[attrs.asdict(t) for t in tools])


def continued_record(ts: float, turn: str) -> dict[str, Any]:
    return _rec(TURN_CONTINUED, ts, turn=turn)


def calls_from(values: Sequence[Mapping[str, Any]]) -> tuple[InterruptedCall, ...]:
    return tuple(
        InterruptedCall(str(v["call_id"]), str(v["name"]), str(v["command"]), bool(v.get("finished", False)))
        for v in values
    )


def revision_fields(revision: Revision) -> dict[str, Any]:
    """The ``rev`` field of a rewrite record (its ``ts`` is the record's)."""
    return {"id": revision.id, "parent": revision.parent, "reason": revision.reason, "actor": revision.actor,
            "detail": revision.detail}  # fmt: skip


def revision_from(fields: Mapping[str, Any], ts: float) -> Revision:
    parent = fields.get("parent")
    return Revision(
        str(fields["id"]), None if parent is None else str(parent), str(fields["reason"]), str(fields.get("actor", "")),
        float(ts), str(fields.get("detail", "")),
    )


@attrs.define
class ControlState:
    """Metadata and control state as a journal's records leave them."""

    metadata: dict[str, MetadataValue] = attrs.field(factory=dict)
    context_sections: dict[str, str] = attrs.field(factory=dict)
    pending_outcomes: tuple[str, ...] = ()
    hidden_tools: tuple[str, ...] = ()

    def apply(self, kind: str, rec: Mapping[str, Any]) -> None:
        if kind == METADATA:
            key = rec["key"]
            if rec.get("removed"):
                self.metadata.pop(key, None)
            else:
                check_metadata(key, rec["value"])  # a hand-edited value is an invalid record, not a crash later
                self.metadata[key] = rec["value"]
        elif kind == CONTEXT:
            name, text = str(rec["name"]), rec["text"]
            if text is None:
                self.context_sections.pop(name, None)
            else:
                self.context_sections[name] = str(text)
        elif kind == OUTCOMES:
            self.pending_outcomes = tuple(str(o) for o in rec["pending"])
        elif kind == TOOLS:
            self.hidden_tools = tuple(check_tool_name(n) for n in rec["hidden"])


def carried_state_records(ts: float, source: Any) -> list[dict[str, Any]]:
    """What a fork takes from its source beside the history (a ``SessionSnapshot``):
    metadata, durable context sections and hidden tools; not queued outcomes (the
    source's next turn gets those) and not a pending turn."""
    recs = [metadata_record(ts, key, value, removed=False) for key, value in source.metadata.items()]
    recs += [context_record(ts, name, text) for name, text in source.context_sections.items()]
    if source.hidden_tools:
        recs.append(tools_record(ts, source.hidden_tools))
    return recs
