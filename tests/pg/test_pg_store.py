"""The session store traits (load, list, fork, delete, resume) behave the same on
journal files and on PostgreSQL: every test here runs against both backends."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from pg_support import (
    ECHO_TOOL,
    info,
    make_core,
    make_provider,
    text,
    tool_call,
    wire_texts,
)

from agentcore import SessionNotFound
from agentcore.events import PlanEntry, PlanUpdated
from agentcore.messages import message_to_dict
from agentcore.permissions import PermissionMode
from agentcore.store import MessageFate, SessionLocked


def store_url(open_store) -> str:
    return open_store.url


async def record_two_turns(store, server, client, state_dir: Path, work: Path) -> str:
    server.enqueue(tool_call("call_1", "echo", '{"text": "hi"}'), text("The tool said hi."), text("Second answer."))
    core = make_core(store, make_provider(server, client), state_dir, tools=[ECHO_TOOL])
    async with core.open_session(info(work)) as session:
        await session.run_turn("Please echo hi for me")
        await session.set_mode(PermissionMode.ACCEPT_EDITS)
        await session.events.emit(PlanUpdated((PlanEntry("write tests", "in_progress", "high"),)))
        await session.run_turn("And now a second question")
        await session.set_model(model="gpt-4o")
        session.set_metadata("ticket", "T-7")
        return session.id


async def test_load_restores_everything_recorded(open_store, server, http_client, state_dir, work):
    sid = await record_two_turns(open_store(), server, http_client, state_dir, work)
    snap = open_store().load(sid)
    assert [type(m).__name__ for m in snap.messages] == [
        "UserMessage", "AssistantMessage", "ToolResultMessage", "AssistantMessage", "UserMessage", "AssistantMessage",
    ]
    assert snap.messages[2].results[0].text == "echo: hi"
    assert snap.title == "Please echo hi for me"
    assert snap.mode is PermissionMode.ACCEPT_EDITS
    assert (snap.provider, snap.model) == ("openai", "gpt-4o")
    assert snap.plan == (PlanEntry("write tests", "in_progress", "high"),)
    assert snap.usage.input_tokens == 30 and snap.usage.output_tokens == 15
    assert snap.cost_usd > 0
    assert snap.metadata == {"ticket": "T-7"}
    assert snap.cwd == work
    assert snap.pending_turn is None


async def test_resume_sends_the_prior_conversation_and_appends(open_store, server, http_client, state_dir, work):
    sid = await record_two_turns(open_store(), server, http_client, state_dir, work)
    store2 = open_store()
    server.enqueue(text("Resumed fine."))
    core = make_core(store2, make_provider(server, http_client), state_dir, tools=[ECHO_TOOL])
    async with core.open_session(info(work, session_id=sid)) as session:
        await session.run_turn("Third question")
    sent = wire_texts(server.requests[-1].json())
    assert sent[0] == ("user", "Please echo hi for me")
    assert sent[-1] == ("user", "Third question")
    snap = open_store().load(sid)
    assert len(snap.messages) == 8
    assert snap.messages[-1].text == "Resumed fine."
    assert snap.metadata == {"ticket": "T-7"}


async def test_list_resolve_show_and_delete(open_store, server, http_client, state_dir, work):
    store = open_store()
    sid = await record_two_turns(store, server, http_client, state_dir, work)
    other = open_store()
    rows = other.list_sessions(cwd=work)
    assert [r.id for r in rows] == [sid]
    assert rows[0].message_count == 6 and rows[0].title == "Please echo hi for me"
    assert rows[0].metadata == {"ticket": "T-7"}
    assert other.list_sessions(cwd=work / "elsewhere") == []
    assert other.resolve(sid[:9]) == sid
    shown = other.open_read_only(sid)
    assert [e.fate for e in shown.transcript] == [MessageFate.LIVE] * 6
    assert shown.interrupted_turn is None
    other.delete(sid)
    with pytest.raises(SessionNotFound):
        open_store().load(sid)
    assert open_store().list_sessions() == []


async def test_fork_takes_history_up_to_a_cut_and_survives_its_parent(open_store, server, http_client, state_dir, work):
    store = open_store()
    sid = await record_two_turns(store, server, http_client, state_dir, work)
    new = store.fork_session(sid, at=4, reason="rewind")
    snap = open_store().load(new)
    parent = open_store().load(sid)
    assert [message_to_dict(m) for m in snap.messages] == [message_to_dict(m) for m in parent.messages[:4]]
    assert snap.metadata == {"ticket": "T-7"}
    assert snap.revisions[0].reason == "rewind"
    assert snap.revisions[0].parent == parent.revisions[-1].id
    assert snap.cost_usd == 0.0
    shown = open_store().open_read_only(new)
    assert shown.fork is not None and shown.fork.source_id == sid and shown.fork.at == 4
    open_store().delete(sid)
    again = open_store().load(new)  # the parent's records it inherits are kept for it
    assert [m.id for m in again.messages] == [m.id for m in snap.messages]
    assert [r.id for r in open_store().list_sessions()] == [new]


async def test_a_session_open_for_writing_is_locked_for_another_store(open_store, server, http_client, state_dir, work):
    sid = await record_two_turns(open_store(), server, http_client, state_dir, work)
    writer = open_store()
    core = make_core(writer, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work, session_id=sid)):
        with pytest.raises(SessionLocked):
            open_store().load(sid)
        with pytest.raises(SessionLocked):
            open_store().delete(sid)
    assert len(open_store().load(sid).messages) == 6  # closed: free again


async def test_fork_live_shares_the_open_sessions_history(open_store, server, http_client, state_dir, work):
    store = open_store()
    server.enqueue(text("first answer"), text("second answer"), text("forked answer"))
    core = make_core(store, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work)) as session:
        await session.run_turn("first question")
        await session.run_turn("second question")
        new = store.fork_live(session, at=2, reason="rewind")
        async with core.open_session(info(work, session_id=new)) as forked:
            assert [m.text for m in forked.history] == ["first question", "first answer"]
            await forked.run_turn("a different second question")
    snap = open_store().load(new)
    assert [m.text for m in snap.messages] == [
        "first question", "first answer", "a different second question", "forked answer",
    ]
    assert len(open_store().load(session.id).messages) == 4  # the source is unchanged
    if open_store.kind == "postgresql":  # the fork inherited the records instead of copying them
        with psycopg.connect(store_url(open_store)) as conn:
            bodies = [r[0] for r in conn.execute("SELECT body FROM agentcore_records WHERE session_id = %s", (new,))]
            parent = conn.execute("SELECT parent_id, parent_at FROM agentcore_sessions WHERE id = %s", (new,)).fetchone()
        assert parent == (session.id, 2)
        messages = [json.loads(b)["message"] for b in bodies if json.loads(b)["type"] == "message"]
        assert len(messages) == 2  # only the fork's own turn


async def test_a_nul_character_is_recorded_and_loads(open_store, server, http_client, state_dir, work):
    server.enqueue(text("got it"))
    core = make_core(open_store(), make_provider(server, http_client), state_dir)
    async with core.open_session(info(work)) as session:
        await session.run_turn("before\x00after")
    snap = open_store().load(session.id)
    assert snap.messages[0].text == "before\x00after"
    assert [r.id for r in open_store().list_sessions(cwd=work)] == [session.id]
