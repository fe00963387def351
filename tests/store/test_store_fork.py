"""Forks: a new id, a journal that records its origin, and full isolation
(appending to the fork never changes the parent)."""

from __future__ import annotations

import json

import pytest
import trio

from agentcore.store import ForkOrigin, JournalStore
from agentcore.store.format import JOURNAL_FILE
from fakes.llm_server import sse_reply
from fakes.vendor_wire import OA_ROLE
from store_support import ECHO_TOOL, info, make_core, make_provider, text, tool_call, wire_texts

PARENT = ["first prompt", "", "echo: hi", "tool said hi", "second prompt", "second answer"]


@pytest.fixture
async def parent(store, server, http_client, state_dir, work):
    server.enqueue(tool_call("call_1", "echo", '{"text": "hi"}'), text("tool said hi"), text("second answer"))
    core = make_core(store, make_provider(server, http_client), state_dir, tools=[ECHO_TOOL])
    async with core.open_session(info(work)) as session:
        await session.run_turn("first prompt")
        await session.run_turn("second prompt")
    return session.id


def _journal(store: JournalStore, sid: str) -> bytes:
    return (store.sessions_dir / sid / JOURNAL_FILE).read_bytes()


async def test_fork_session_is_isolated_from_its_parent(parent, store, server, http_client, state_dir, work):
    before = _journal(store, parent)
    fork = store.fork_session(parent)
    assert fork != parent

    records = [json.loads(line) for line in _journal(store, fork).splitlines()]
    assert [r["type"] for r in records[:2]] == ["session", "fork"]
    assert (records[0]["id"], records[1]["source_id"], records[1]["at"]) == (fork, parent, len(PARENT))
    stored = store.open_read_only(fork)
    assert stored.fork == ForkOrigin(parent, len(PARENT), "first prompt")
    assert stored.snapshot.title == "first prompt"

    server.enqueue(text("fork answer"))
    core = make_core(store, make_provider(server, http_client), state_dir, tools=[ECHO_TOOL])
    async with core.open_session(info(work, session_id=fork)) as session:
        await session.run_turn("only in the fork")
    assert [t for _, t in wire_texts(server.requests[-1].json())] == [*PARENT, "only in the fork"]

    assert _journal(store, parent) == before
    assert [m.text for m in store.load(parent).messages] == PARENT
    assert [m.text for m in store.load(fork).messages] == [*PARENT, "only in the fork", "fork answer"]
    assert {s.id for s in store.list_sessions(cwd=work)} == {parent, fork}


@pytest.mark.traits
@pytest.mark.parametrize(("at", "kept"), [(6, 6), (4, 4), (3, 3), (2, 1), (1, 1), (0, 0), (99, 6)])
async def test_fork_at_cuts_at_a_complete_boundary(parent, store, at, kept):
    fork = store.fork_session(parent, at=at)
    messages = store.load(fork).messages
    assert [m.text for m in messages] == PARENT[:kept]
    assert store.open_read_only(fork).fork.at == kept
    uses = {u.id for m in messages for u in getattr(m, "tool_uses", ())}
    results = {r.tool_use_id for m in messages for r in getattr(m, "results", ())}
    assert uses == results  # never a tool_use without its result


@pytest.mark.traits
async def test_fork_live_shares_history_and_diverges(store, server, http_client, state_dir, work):
    server.enqueue(text("parent answer"), text("fork answer"), text("parent again"))
    core = make_core(store, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work)) as parent:
        await parent.run_turn("shared prompt")
        fork_id = store.fork_live(parent)
        async with core.open_session(info(work, session_id=fork_id)) as fork:
            # Shared, not re-read from disk: the very same message objects (copy-on-write history).
            assert fork.history[0] is parent.history[0]
            await fork.run_turn("fork prompt")
            assert [m.text for m in parent.history] == ["shared prompt", "parent answer"]
            await parent.run_turn("parent prompt")
            assert [m.text for m in fork.history] == ["shared prompt", "parent answer", "fork prompt", "fork answer"]
    assert [m.text for m in store.load(parent.id).messages] == ["shared prompt", "parent answer", "parent prompt", "parent again"]
    assert [m.text for m in store.load(fork_id).messages] == ["shared prompt", "parent answer", "fork prompt", "fork answer"]
    assert store.open_read_only(fork_id).fork == ForkOrigin(parent.id, 2, "shared prompt")


@pytest.mark.traits
async def test_fork_live_leaves_out_a_running_turn(store, server, http_client, state_dir, work):
    server.enqueue(text("done"), sse_reply(OA_ROLE, end="hang"))
    core = make_core(store, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work)) as parent:
        await parent.run_turn("finished turn")
        async with trio.open_nursery() as nursery:
            nursery.start_soon(parent.run_turn, "running turn")
            await server.wait_for_requests(2)
            fork_id = store.fork_live(parent)
            parent.cancel()
    assert [m.text for m in store.load(fork_id).messages] == ["finished turn", "done"]
