"""Record a session through the real event stream, then load, resume, list and delete it."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import httpx
import pytest

from agentcore import SessionNotFound, TurnAbortedError
from agentcore.events import ContextCompressed, PlanEntry, PlanUpdated
from agentcore.messages import MessageKind, TextBlock, UserMessage, message_to_dict
from agentcore.permissions import PermissionMode
from agentcore.store import JournalStore, MessageFate
from fakes.llm_server import FakeServer, json_reply
from store_support import ECHO_TOOL, MODEL, info, make_core, make_provider, reopen, text, tool_call, wire_texts


async def _record_two_turns(store: JournalStore, server: FakeServer, client: httpx.AsyncClient, state_dir: Path, work: Path) -> str:
    server.enqueue(
        tool_call("call_1", "echo", '{"text": "hi"}'),
        text("The tool said hi."),
        text("Second answer."),
    )
    core = make_core(store, make_provider(server, client), state_dir, tools=[ECHO_TOOL])
    async with core.open_session(info(work)) as session:
        await session.run_turn("Please echo hi for me")
        await session.set_mode(PermissionMode.ACCEPT_EDITS)
        await session.events.emit(PlanUpdated((PlanEntry("write tests", "in_progress", "high"),)))
        await session.run_turn("And now a second question")
        await session.set_model(model="gpt-4o")
        return session.id


@pytest.mark.traits
async def test_load_restores_history_mode_model_title_plan_and_cost(store, server, http_client, state_dir, work):
    sid = await _record_two_turns(store, server, http_client, state_dir, work)
    recorded = reopen(store).open_read_only(sid).snapshot

    snap = reopen(store).load(sid)
    assert [type(m).__name__ for m in snap.messages] == [
        "UserMessage", "AssistantMessage", "ToolResultMessage", "AssistantMessage", "UserMessage", "AssistantMessage",
    ]
    assert snap.messages[2].results[0].text == "echo: hi"
    assert [message_to_dict(m) for m in snap.messages] == [message_to_dict(m) for m in recorded.messages]
    assert snap.title == "Please echo hi for me"
    assert snap.mode is PermissionMode.ACCEPT_EDITS
    assert (snap.provider, snap.model) == ("openai", "gpt-4o")
    assert snap.plan == (PlanEntry("write tests", "in_progress", "high"),)
    assert snap.usage.input_tokens == 30 and snap.usage.output_tokens == 15  # three calls of 10 + 5
    assert snap.cost_usd > 0
    assert snap.cwd == work


@pytest.mark.traits
async def test_resumed_session_sends_prior_conversation_on_the_wire(store, server, http_client, state_dir, work):
    sid = await _record_two_turns(store, server, http_client, state_dir, work)
    # A new store and core: nothing shared with the recording process but the directory.
    store2 = reopen(store)
    server.enqueue(text("Resumed fine."))
    core = make_core(store2, make_provider(server, http_client), state_dir, tools=[ECHO_TOOL])
    async with core.open_session(info(work, session_id=sid)) as session:
        assert session.id == sid and session.title == "Please echo hi for me"
        await session.run_turn("Third question after resume")
    body = server.requests[-1].json()
    assert body["model"] == "gpt-4o"  # the model chosen before the restart
    assert wire_texts(body) == [
        ("user", "Please echo hi for me"),
        ("assistant", ""),
        ("tool", "echo: hi"),
        ("assistant", "The tool said hi."),
        ("user", "And now a second question"),
        ("assistant", "Second answer."),
        ("user", "Third question after resume"),
    ]
    assert body["messages"][2]["tool_calls"][0]["id"] == "call_1"
    # The resumed turn was appended to the same journal.
    assert len(reopen(store).load(sid).messages) == 8


async def test_list_newest_first_with_title_count_cost_and_cwd_filter(store, server, http_client, state_dir, work, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    server.enqueue(text("one"), text("two"), text("three"))
    core = make_core(store, make_provider(server, http_client), state_dir)
    ids = []
    for cwd, prompt in ((work, "first session here"), (other, "elsewhere"), (work, "second session here")):
        async with core.open_session(info(cwd)) as session:
            await session.run_turn(prompt)
            ids.append(session.id)

    here = store.list_sessions(cwd=work)
    assert [s.id for s in here] == [ids[2], ids[0]]
    assert [s.title for s in here] == ["second session here", "first session here"]
    assert all(s.message_count == 2 and s.cost_usd > 0 for s in here)
    assert here[0].updated > here[1].updated
    assert [s.id for s in store.list_sessions()] == [ids[2], ids[1], ids[0]]
    assert store.latest_for_cwd(work) == ids[2]
    assert store.latest_for_cwd(tmp_path) is None

    store.delete(ids[2])
    assert not (store.sessions_dir / ids[2]).exists()
    assert store.latest_for_cwd(work) == ids[0]
    with pytest.raises(SessionNotFound, match=ids[2]):
        store.delete(ids[2])


async def test_listing_survives_a_missing_meta_file(store, server, http_client, state_dir, work):
    server.enqueue(text("ok"))
    core = make_core(store, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work)) as session:
        await session.run_turn("rebuild my listing")
    (store.sessions_dir / session.id / "meta.json").unlink()
    [row] = store.list_sessions(cwd=work)
    assert (row.title, row.message_count) == ("rebuild my listing", 2)


def test_missing_session_is_a_clear_error(store):
    with pytest.raises(SessionNotFound, match="no session 'sess_nope'"):
        store.load("sess_nope")
    with pytest.raises(SessionNotFound, match="not a session id"):
        store.load("../../etc")
    with pytest.raises(SessionNotFound):
        store.open_read_only("sess_nope")


async def test_opening_a_missing_session_through_the_core_fails_before_starting(store, server, http_client, state_dir, work):
    core = make_core(store, make_provider(server, http_client), state_dir)
    with pytest.raises(SessionNotFound):
        async with core.open_session(info(work, session_id="sess_missing")):
            pass
    assert not store.sessions_dir.exists() or not any(store.sessions_dir.iterdir())


@pytest.mark.traits
async def test_aborted_turn_is_rolled_back_but_kept_in_the_journal(store, server, http_client, state_dir, work):
    server.enqueue(text("fine"), json_reply(400, {"error": {"message": "bad request", "type": "invalid_request_error"}}))
    core = make_core(store, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work)) as session:
        await session.run_turn("good turn")
        with pytest.raises(TurnAbortedError):
            await session.run_turn("doomed turn")
    stored = store.open_read_only(session.id)
    assert [m.text for m in stored.snapshot.messages] == ["good turn", "fine"]
    fates = [(e.message.text, e.fate) for e in stored.transcript]
    assert fates == [("good turn", MessageFate.LIVE), ("fine", MessageFate.LIVE), ("doomed turn", MessageFate.ROLLED_BACK)]


@pytest.mark.traits
async def test_compaction_is_replayed_and_show_full_keeps_the_originals(store, server, http_client, state_dir, work):
    server.enqueue(text("a1"), text("a2"), text("a3"))
    core = make_core(store, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work)) as session:
        await session.run_turn("q1")
        await session.run_turn("q2")
        head = session.history.snapshot()[:2]
        summary = UserMessage((TextBlock("Summary: asked q1, got a1."),), kind=MessageKind.SUMMARY)
        session.history.splice_prefix(2, [summary])
        await session.events.emit(
            ContextCompressed(None, 100, 40, 2, 0.1, summary=summary.text, replaced_ids=tuple(m.id for m in head), replacement=(summary,))
        )
        await session.run_turn("q3")
        live_view = [m.text for m in session.history]

    reloaded = reopen(store).load(session.id)
    assert [m.text for m in reloaded.messages] == live_view == ["Summary: asked q1, got a1.", "q2", "a2", "q3", "a3"]
    assert reloaded.messages[0].kind is MessageKind.SUMMARY
    full = store.open_read_only(session.id).transcript
    assert [(e.message.text, e.fate) for e in full if e.fate is MessageFate.SUMMARISED] == [
        ("q1", MessageFate.SUMMARISED), ("a1", MessageFate.SUMMARISED),
    ]
    # The request after compaction carried the summary, not the originals.
    assert [t for _, t in wire_texts(server.requests[-1].json())][:2] == ["Summary: asked q1, got a1.", "q2"]


@pytest.mark.traits
async def test_micro_elision_keeps_ids_and_positions(store, server, http_client, state_dir, work):
    server.enqueue(tool_call("c1", "echo", '{"text": "big"}'), text("done"), text("later"))
    core = make_core(store, make_provider(server, http_client), state_dir, tools=[ECHO_TOOL])
    async with core.open_session(info(work)) as session:
        await session.run_turn("use the tool")
        await session.run_turn("another")
        old = session.history[2]
        elided = attrs.evolve(old, results=(attrs.evolve(old.results[0], content=(TextBlock("[tool result elided]"),)),))
        session.history.replace(2, elided)
        await session.events.emit(ContextCompressed("t", 50, 10, 1, 0.0, strategy="micro", replaced_ids=(old.id,), replacement=(elided,)))
        expected = [message_to_dict(m) for m in session.history]
    reloaded = reopen(store).load(session.id)
    assert [message_to_dict(m) for m in reloaded.messages] == expected


@pytest.mark.traits
async def test_history_rewritten_without_ids_is_still_recorded(store, server, http_client, state_dir, work):
    """A rewrite announced without replaced_ids (or not at all) is caught by
    comparing the journal's view with the session's history."""
    server.enqueue(text("a1"), text("a2"))
    core = make_core(store, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work)) as session:
        await session.run_turn("q1")
        session.history.splice_prefix(2, [UserMessage((TextBlock("dropped q1"),), kind=MessageKind.SUMMARY)])
        await session.run_turn("q2")
        expected = [m.text for m in session.history]
    assert [m.text for m in reopen(store).load(session.id).messages] == expected


async def test_meta_has_the_listing_fields(store, server, http_client, state_dir, work):
    server.enqueue(text("ok"))
    core = make_core(store, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work, profile=None)) as session:
        await session.run_turn("what is in meta")
    meta = json.loads((store.sessions_dir / session.id / "meta.json").read_text())
    assert {k: meta[k] for k in ("id", "cwd", "title", "model", "provider", "message_count")} == {
        "id": session.id, "cwd": str(work), "title": "what is in meta", "model": MODEL, "provider": "openai", "message_count": 2,
    }
    assert meta["created"] <= meta["updated"]


async def test_resume_reuses_recorded_token_counts(tmp_path):
    """Message records carry their token counts, so resuming does not re-tokenize."""
    import json as _json

    from agentcore.history import VecHistory
    from agentcore.messages import user_text
    from agentcore.store.format import message_record

    rec = message_record(1.0, "turn_1", user_text("hello there"), tokens=1234)
    assert _json.loads(_json.dumps(rec))["tokens"] == 1234
    history = VecHistory([user_text("hello there"), user_text("again")], token_counts=[1234, None])
    assert history.message_tokens(0) == 1234
    assert history.message_tokens(1) > 0
    assert VecHistory([user_text("x")], token_counts=[1, 2]).message_tokens(0) != 1  # misaligned: ignored


@pytest.mark.traits
async def test_loaded_snapshot_carries_the_recorded_token_counts(store, server, http_client, state_dir, work):
    from agentcore import tokens

    sid = await _record_two_turns(store, server, http_client, state_dir, work)
    snap = reopen(store).load(sid)
    assert snap.token_counts == tuple(tokens.count_message(m) for m in snap.messages)
