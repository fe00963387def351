"""A process recording into PostgreSQL is SIGKILLed mid-tool: the completed turn
survives, the unfinished one is pending (as with a journal file), the dead
process's lease expires and another store resumes the session."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import trio
from fakes.modules import load_module
from pg_support import (
    ECHO_TOOL,
    info,
    make_core,
    make_provider,
    text,
    tool_call,
    wire_texts,
)

from agentcore.store import MessageFate, SessionLocked
from agentcore.store.pg import PgSessionStore

CHILD = Path(__file__).resolve().parent / "pg_child.py"
# the store tests' child watcher (reads its stdout lines, fails with its stderr)
_store_proc = load_module("store_proc", Path(__file__).resolve().parent.parent / "store" / "store_proc.py")
CHILD_TIMEOUT_S = 60
CHILD_LEASE_S = 1.0
FIRST_TURN = ["first prompt", "", "echo: hi", "The tool said hi."]


def _wait_for_lease_expiry(store: PgSessionStore, sid: str) -> None:
    deadline = time.monotonic() + CHILD_LEASE_S * 10
    while store.lease_owner(sid) is not None:  # an observable condition: the row's expiry passing
        assert time.monotonic() < deadline, "the dead process's lease never expired"
        time.sleep(0.05)


async def test_sigkill_mid_tool_keeps_the_completed_turn_and_the_next_server_resumes(
    pg_url, server, http_client, state_dir, work, tmp_path
):
    server.enqueue(tool_call("call_1", "echo", '{"text": "hi"}'), text("The tool said hi."), tool_call("call_2", "block", "{}"))
    stderr_path = tmp_path / "child.stderr"
    with stderr_path.open("wb") as stderr:
        process = await trio.lowlevel.open_process(
            [sys.executable, str(CHILD), pg_url, str(state_dir), str(work), server.url, str(CHILD_LEASE_S)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr,
        )
    child = _store_proc.Child(process, stderr_path)
    try:
        sid = (await child.wait_for_line("SESSION ")).split()[1]
        await child.wait_for_line("TURN1 DONE")
        await child.wait_for_line("TOOL STARTED")
    finally:
        process.kill()
        with trio.fail_after(CHILD_TIMEOUT_S):
            assert await process.wait() == -signal.SIGKILL

    store = PgSessionStore(pg_url)
    try:
        stored = store.open_read_only(sid)
        assert [m.text for m in stored.snapshot.messages] == FIRST_TURN
        assert stored.interrupted_turn is not None
        assert [t.name for t in stored.interrupted_tools] == ["block"]
        unfinished = [e for e in stored.transcript if e.fate is MessageFate.PENDING]
        assert unfinished[0].message.text == "second prompt"
        pending = stored.snapshot.pending_turn
        assert pending is not None and [m.id for m in pending.messages] == [e.message.id for e in unfinished]

        try:  # the dead process's lease still names it until it expires
            store.load(sid)
            locked = False
        except SessionLocked:
            locked = True
        _wait_for_lease_expiry(store, sid)
        if locked:
            store.load(sid)

        server.enqueue(text("Back after the crash."))
        core = make_core(store, make_provider(server, http_client), state_dir, tools=[ECHO_TOOL])
        async with core.open_session(info(work, session_id=sid)) as session:
            assert [m.text for m in session.history] == FIRST_TURN
            await session.run_turn("third prompt")
        assert [t for _, t in wire_texts(server.requests[-1].json())] == [*FIRST_TURN, "third prompt"]
        reloaded = store.open_read_only(sid)
        assert [m.text for m in reloaded.snapshot.messages] == [*FIRST_TURN, "third prompt", "Back after the crash."]
        assert reloaded.interrupted_turn is None and reloaded.snapshot.pending_turn is None
        assert [e.message.text for e in reloaded.transcript if e.fate is MessageFate.INTERRUPTED][0] == "second prompt"
    finally:
        store.close()
