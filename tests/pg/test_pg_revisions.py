"""Rewrites on both backends: a compaction and a rollback each make a revision
restored on load; a fork starts from its revision; a stale expected revision is
refused for live and stored sessions; a compaction summary's cost survives a
resume."""

from __future__ import annotations

import pytest

from agentcore.session import RevisionConflict
from agentcore.turn import TurnAbortedError
from fakes.llm_server import json_reply, sse_reply
from fakes.vendor_wire import oa_text_stream
from pg_support import info, make_core, make_provider, text

LONG = "a long and detailed answer about the parser " * 40


async def test_revisions_are_recorded_restored_and_conflicts_refused(open_store, server, http_client, state_dir, work):
    store = open_store()
    server.enqueue(*(text(LONG) for _ in range(4)))
    server.enqueue(sse_reply(*oa_text_stream("the summary of it all", prompt=50_000, completion=900)))
    server.enqueue(json_reply(400, {"error": {"message": "no", "type": "invalid_request_error"}}))
    core = make_core(store, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work)) as session:
        for i in range(4):
            await session.run_turn(f"question {i} " + "with details " * 40)
        seen = session.revision.id
        assert await session.compact() is not None
        compacted = session.revision
        assert (compacted.parent, compacted.reason) == (seen, "compaction")
        with pytest.raises(RevisionConflict):
            store.fork_live(session, at=2, expected_revision=seen)
        with pytest.raises(TurnAbortedError):
            await session.run_turn("this one fails")  # rolled back: another revision
        rolled = session.revision
        assert (rolled.parent, rolled.reason) == (compacted.id, "rollback")
        revisions = session.revisions
        totals = (session.usage, session.cost_usd)
        messages = [m.id for m in session.history]
        fork_id = store.fork_live(session, expected_revision=rolled.id)

    loaded = open_store().load(session.id)
    assert [(r.id, r.parent, r.reason, r.actor) for r in loaded.revisions] == [
        (r.id, r.parent, r.reason, r.actor) for r in revisions
    ]
    assert [m.id for m in loaded.messages] == messages  # the compacted history, not the original
    assert (loaded.usage, loaded.cost_usd) == totals  # the summary's model call is counted
    fork = open_store().load(fork_id)
    assert fork.revisions[0].parent == rolled.id and fork.revisions[0].reason == "fork"
    assert [m.id for m in fork.messages] == messages
    with pytest.raises(RevisionConflict):
        open_store().fork_session(session.id, at=2, expected_revision=seen)
    assert open_store().fork_session(session.id, at=2, expected_revision=rolled.id)

    core = make_core(open_store(), make_provider(server, http_client), state_dir)
    async with core.open_session(info(work, session_id=session.id)) as resumed:
        assert resumed.revision.id == rolled.id
        assert (resumed.usage, resumed.cost_usd) == totals
