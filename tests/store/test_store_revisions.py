"""Transcript revisions: a manual compaction and a rollback each make a revision
(id, parent, reason, actor, time) journaled on their record and restored on
load; a fork starts from the revision it was cut from; a rewrite that names the
revision it expects fails with RevisionConflict when another writer rewrote the
transcript first — in the same process, or on disk for a stored session;
`agent sessions show --revisions` lists them; older journals get numbered
revisions for their rewrites."""

from __future__ import annotations

import io
import json

import pytest

from agentcore.cli.sessions_cmd import SessionsContext
from agentcore.cli.sessions_cmd import main as sessions_main
from agentcore.session import RevisionConflict
from agentcore.store import JournalStore
from agentcore.turn import TurnAbortedError
from fakes.llm_server import json_reply, sse_reply
from fakes.vendor_wire import oa_text_stream
from store_support import info, make_core, make_provider, text

LONG = "a long and detailed answer about the parser " * 40


async def test_revisions_are_made_journaled_restored_and_conflicts_refused(store, server, http_client, state_dir, work) -> None:
    server.enqueue(*(text(LONG) for _ in range(4)))
    server.enqueue(sse_reply(*oa_text_stream("the summary of it all")))
    server.enqueue(json_reply(400, {"error": {"message": "no", "type": "invalid_request_error"}}))
    core = make_core(store, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work)) as session:
        root = session.revision
        assert root.id == f"{session.id}.r0" and root.parent is None and root.reason == "created"
        for i in range(4):
            await session.run_turn(f"question {i} " + "with details " * 40)
        seen = session.revision.id  # what a client showing the transcript last saw
        assert await session.compact() is not None
        compacted = session.revision
        assert (compacted.parent, compacted.reason, compacted.actor) == (seen, "compaction", "user")

        with pytest.raises(RevisionConflict) as conflict:  # a second writer with the stale view
            await session.compact(expected_revision=seen)
        assert conflict.value.expected == seen and conflict.value.current == compacted.id
        with pytest.raises(RevisionConflict):
            store.fork_live(session, at=2, expected_revision=seen)
        with pytest.raises(RevisionConflict):
            session.claim_revision("rewind", expected=seen)
        assert session.revision == compacted  # a refused rewrite changes nothing

        with pytest.raises(TurnAbortedError):
            await session.run_turn("this one fails")  # rolled back: another revision
        rolled = session.revision
        assert (rolled.parent, rolled.reason, rolled.actor) == (compacted.id, "rollback", "agent")
        revisions = session.revisions
        fork_id = store.fork_live(session, expected_revision=rolled.id)

    loaded = JournalStore(store.sessions_dir).load(session.id)
    assert [(r.id, r.parent, r.reason, r.actor) for r in loaded.revisions] == [
        (r.id, r.parent, r.reason, r.actor) for r in revisions
    ]
    fork = JournalStore(store.sessions_dir).load(fork_id)
    assert fork.revisions[0].parent == rolled.id and fork.revisions[0].reason == "fork"
    with pytest.raises(RevisionConflict):  # the stored session moved on since `seen`
        store.fork_session(session.id, at=2, expected_revision=seen)
    assert store.fork_session(session.id, at=2, expected_revision=rolled.id)

    async with core.open_session(info(work, session_id=session.id)) as resumed:
        assert resumed.revision.id == rolled.id  # the live session knows where it is after a restart
        claimed = resumed.claim_revision("edit", actor="user", expected=rolled.id)
        assert claimed.parent == rolled.id and claimed.id == f"{session.id}.r3"

    out = io.StringIO()
    env = {"AGENTCORE_HOME": str(store.sessions_dir.parent.parent)}
    ctx = SessionsContext(work, env, out, io.StringIO(), width=200, color=False)
    assert JournalStore(store.sessions_dir) and store.sessions_dir.parent.name == "state"
    assert sessions_main(["show", session.id, "--revisions"], ctx) == 0
    lines = out.getvalue().splitlines()
    rows = [line.split() for line in lines if line.startswith(session.id)]
    assert [row[:4] for row in rows] == [
        [root.id, "-", "created", "system"], [compacted.id, seen, "compaction", "user"],
        [rolled.id, compacted.id, "rollback", "agent"],
    ]


async def test_an_older_journal_numbers_its_rewrites(store, server, http_client, state_dir, work) -> None:
    server.enqueue(text("ok"), json_reply(400, {"error": {"message": "no", "type": "invalid_request_error"}}))
    core = make_core(store, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work)) as session:
        await session.run_turn("hello")
        with pytest.raises(TurnAbortedError):
            await session.run_turn("fails")
    journal = store.sessions_dir / session.id / "journal.jsonl"
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [r["rev"]["reason"] for r in records if "rev" in r] == ["rollback"]
    for r in records:
        r.pop("rev", None)  # as an agentcore without revisions wrote it
    journal.write_text("".join(json.dumps(r) + "\n" for r in records))
    (store.sessions_dir / session.id / "meta.json").unlink()
    loaded = JournalStore(store.sessions_dir).load(session.id)
    assert [(r.id, r.parent, r.reason) for r in loaded.revisions] == [
        (f"{session.id}.r0", None, "created"), (f"{session.id}.r1", f"{session.id}.r0", "rollback"),
    ]
