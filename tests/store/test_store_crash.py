"""A recording process is SIGKILLed mid-stream and mid-tool: every completed
turn survives, nothing half-written reaches the live history, and the session
resumes."""

from __future__ import annotations

import re
import socket

import signal

import pytest

from agentcore.store import JournalStore, MessageFate, SessionLocked
from fakes.llm_server import sse_reply
from fakes.vendor_wire import OA_ROLE, oa_chunk
from store_proc import spawn_child
from store_support import ECHO_TOOL, info, make_core, make_provider, text, tool_call, wire_texts

FIRST_TURN = ["first prompt", "", "echo: hi", "The tool said hi."]


def _first_turn_replies() -> list:
    return [tool_call("call_1", "echo", '{"text": "hi"}'), text("The tool said hi.")]


@pytest.mark.parametrize("scenario", ["stream", "tool"])
async def test_sigkill_keeps_completed_turns_and_drops_the_unfinished_one(scenario, store, server, http_client, state_dir, work, tmp_path):
    if scenario == "stream":
        stall = sse_reply(OA_ROLE, oa_chunk({"content": "partial answer"}), end="hang")
    else:
        stall = tool_call("call_2", "block", "{}")
    server.enqueue(*_first_turn_replies(), stall)

    child = await spawn_child(tmp_path, scenario, str(store.sessions_dir), str(state_dir), str(work), server.url)
    sid = (await child.wait_for_line("SESSION ")).split()[1]
    await child.wait_for_line("TURN1 DONE")
    await child.wait_for_line("DELTA" if scenario == "stream" else "TOOL STARTED")
    assert await child.kill() == -signal.SIGKILL

    stored = JournalStore(store.sessions_dir).open_read_only(sid)
    assert [m.text for m in stored.snapshot.messages] == FIRST_TURN
    assert stored.interrupted_turn is not None
    unfinished = [e for e in stored.transcript if e.fate is MessageFate.PENDING]
    # The unfinished turn's complete messages stay in the journal, out of the history, pending.
    assert unfinished[0].message.text == "second prompt"
    pending = stored.snapshot.pending_turn
    assert pending is not None and [m.id for m in pending.messages] == [e.message.id for e in unfinished]
    if scenario == "tool":
        assert [u.name for u in unfinished[1].message.tool_uses] == ["block"]
    assert all("partial answer" not in e.message.text for e in stored.transcript)  # never half a message

    # Resume after the crash: the lock died with the process, the prior turn goes on the wire.
    server.enqueue(text("Back after the crash."))
    core = make_core(JournalStore(store.sessions_dir), make_provider(server, http_client), state_dir, tools=[ECHO_TOOL])
    async with core.open_session(info(work, session_id=sid)) as session:
        assert [m.text for m in session.history] == FIRST_TURN
        await session.run_turn("third prompt")
    assert [t for _, t in wire_texts(server.requests[-1].json())] == [*FIRST_TURN, "third prompt"]
    reloaded = JournalStore(store.sessions_dir).open_read_only(sid)
    assert [m.text for m in reloaded.snapshot.messages] == [*FIRST_TURN, "third prompt", "Back after the crash."]
    assert reloaded.interrupted_turn is None and reloaded.snapshot.pending_turn is None  # the new prompt discarded it
    discarded = [e.message.text for e in reloaded.transcript if e.fate is MessageFate.INTERRUPTED]
    assert discarded[0] == "second prompt"  # still in the journal, marked


async def test_killed_writer_releases_its_lock_and_a_live_writer_blocks_a_second(store, server, http_client, state_dir, work, tmp_path):
    server.enqueue(text("hello"))
    core = make_core(store, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work)) as session:
        await session.run_turn("make a session")
    sid = session.id

    child = await spawn_child(tmp_path, "hold", str(store.sessions_dir), str(state_dir), str(work), server.url, sid)
    await child.wait_for_line("OPEN")
    second = JournalStore(store.sessions_dir)
    holder = rf"by process {child.process.pid} on {re.escape(socket.gethostname())} since \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d"
    with pytest.raises(SessionLocked, match=rf"session {sid} is already open for writing \({holder}\)"):
        second.load(sid)
    with pytest.raises(SessionLocked):  # through the core: a plain error, before the session starts
        async with make_core(second, make_provider(server, http_client), state_dir).open_session(info(work, session_id=sid)):
            pass
    with pytest.raises(SessionLocked):
        second.delete(sid)
    # Read-only access works while the other process writes.
    assert [m.text for m in second.open_read_only(sid).snapshot.messages] == ["make a session", "hello"]

    assert await child.kill() == -signal.SIGKILL
    assert [m.text for m in second.load(sid).messages] == ["make a session", "hello"]


async def test_same_session_twice_in_one_process_is_refused(store, server, http_client, state_dir, work):
    server.enqueue(text("hello"))
    core = make_core(store, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work)) as session:
        await session.run_turn("open me twice")
        with pytest.raises(SessionLocked, match="already open in this process"):
            store.load(session.id)
        with pytest.raises(SessionLocked):  # another store object over the same directory
            JournalStore(store.sessions_dir).load(session.id)
    assert store.load(session.id).title == "open me twice"  # free again once closed


def test_a_lock_that_looks_held_for_a_moment_is_taken_and_a_held_one_is_not(tmp_path, monkeypatch):
    """A child another thread forked (git for a checkpoint, a shell) holds a copy of a
    just-released lock's descriptor until it execs: acquiring retries briefly
    instead of reporting the session open elsewhere. A real holder still refuses."""
    import fcntl

    from agentcore.store import files

    real_flock = fcntl.flock
    busy = {"left": 3}

    def flock_busy_for_a_moment(fd: int, op: int) -> None:
        if busy["left"] and op & fcntl.LOCK_EX:
            busy["left"] -= 1
            raise BlockingIOError("held by a child that has not exec'd yet")
        real_flock(fd, op)

    monkeypatch.setattr(files.fcntl, "flock", flock_busy_for_a_moment)
    lock = files.SessionLock.acquire(tmp_path / "lock", "sess_x")
    assert lock.held and busy["left"] == 0
    with pytest.raises(SessionLocked):  # held for real: every try fails
        files.SessionLock.acquire(tmp_path / "lock", "sess_x")
    lock.release()
