"""The records that open a forked session, for every store (journal files, PostgreSQL).

Invariant: a fork's records are its own ``session`` header, then a ``fork``
record naming the source, the cut and the revision that starts the fork's
history (its parent: the source's latest revision), then the kept messages —
left out only by a store that shares the parent's records instead — then the
source's durable state, title and plan. Images go through ``media``, so a
fork names the same blobs as its source and never copies their bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from agentcore.messages import MediaStore, Message, new_id
from agentcore.session.persistence import SessionSnapshot
from agentcore.session.state import Revision, revision_id
from agentcore.store.format import RecordType, message_record, plan_entry_to_dict, record
from agentcore.store.state_records import carried_state_records, revision_fields


@attrs.frozen
class ForkStart:
    session_id: str
    header: dict[str, Any]
    records: list[dict[str, Any]]  # the header first
    revision: Revision  # the fork's first revision


def fork_start(
    source: SessionSnapshot,
    messages: Sequence[Message],
    servers: Sequence[str],
    *,
    now: float,
    reason: str | None,
    replaced: str | None,
    media: MediaStore | None,
    copy_messages: bool = True,
) -> ForkStart:
    """The records of a new session forked from ``source`` keeping ``messages``."""
    session_id = new_id("sess")
    parent = source.revisions[-1].id if source.revisions else None
    revision = Revision(revision_id(session_id, 0), parent, reason or "fork", "user", now)
    header = record(
        RecordType.SESSION, now, id=session_id, cwd=str(source.cwd), created=now, profile=source.profile,
        provider=source.provider, model=source.model, mode=source.mode.value if source.mode else None,
        mcp_servers=list(servers),
    )  # fmt: skip
    recs = [
        header,
        record(
            RecordType.FORK, now, source_id=source.id, at=len(messages), source_title=source.title,
            **({"reason": reason} if reason else {}), **({"replaced": replaced} if replaced else {}),
            rev=revision_fields(revision),
        ),  # fmt: skip
        *(message_record(now, None, m, media=media) for m in (messages if copy_messages else ())),
        *carried_state_records(now, source),  # metadata and durable control state go with the fork
    ]
    if source.title:
        recs.append(record(RecordType.TITLE, now, title=source.title))
    if source.plan:
        recs.append(record(RecordType.PLAN, now, entries=[plan_entry_to_dict(e) for e in source.plan]))
    return ForkStart(session_id, header, recs, revision)
