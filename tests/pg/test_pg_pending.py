"""Resumable turns on both backends: a "crash image" taken while a turn's tool
blocks (a copy of the session's directory; for the database, the writer stops
there, as if the process died: what is committed is all there is) opens with
the turn pending; run_pending continues it on the wire; discard_pending drops it
from the history but not from the records; a failed continuation stays pending."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import trio
from fakes.llm_server import json_reply
from pg_support import info, make_core, make_provider, text, tool_call, wire_texts

from agentcore import FunctionTool
from agentcore.messages import StopReason
from agentcore.store import JournalStore, MessageFate
from agentcore.turn import TurnAbortedError

# A crash image is the journal; the checkpoint store may be mid-scan (its index.lock
# comes and goes) and is not part of what these tests replay.
NO_CHECKPOINTS = shutil.ignore_patterns("checkpoints")

BLOCK_COMMAND = "wait for the other side"


def blocking_tool(entered: trio.Event) -> FunctionTool:
    async def block(args: Mapping[str, Any], ctx: Any) -> str:
        entered.set()
        await trio.sleep_forever()
        return "never"

    return FunctionTool("block", "blocks", {"type": "object", "properties": {"command": {"type": "string"}}}, fn=block)


async def crash_image(open_store, tmp_path: Path, server, http_client, state_dir: Path, work: Path) -> tuple[str, Any]:
    """Run a turn until its tool blocks, freeze what is stored, stop; the frozen store's opener."""
    store = open_store()
    entered = trio.Event()
    server.enqueue(text("First answer."), tool_call("call_b", "block", json.dumps({"command": BLOCK_COMMAND})))
    core = make_core(store, make_provider(server, http_client), state_dir, tools=[blocking_tool(entered)])
    image = tmp_path / "image"
    async with core.open_session(info(work)) as session:
        await session.run_turn("first prompt")
        async with trio.open_nursery() as nursery:
            nursery.start_soon(session.run_turn, "second prompt")
            await entered.wait()
            if open_store.kind == "journal":
                shutil.copytree(store.sessions_dir / session.id, image / session.id, ignore=NO_CHECKPOINTS)
            else:
                await trio.to_thread.run_sync(store.writer.barrier)
                store.writer._failed[session.id] = "the process died here"  # nothing more reaches the database
            session.cancel()
    if open_store.kind == "journal":
        return session.id, lambda: JournalStore(image)
    return session.id, open_store


async def test_run_pending_continues_the_cut_off_turn(open_store, tmp_path, server, http_client, state_dir, work):
    sid, reopen = await crash_image(open_store, tmp_path, server, http_client, state_dir, work)
    pending = reopen().load(sid).pending_turn
    assert pending is not None and [m.text for m in pending.messages] == ["second prompt", ""]
    assert [(c.name, c.command, c.finished) for c in pending.interrupted_tools] == [("block", BLOCK_COMMAND, False)]

    server.enqueue(text("Done after all."))
    core = make_core(reopen(), make_provider(server, http_client), state_dir, tools=[blocking_tool(trio.Event())])
    async with core.open_session(info(work, session_id=sid)) as session:
        assert [m.text for m in session.history] == ["first prompt", "First answer."]
        assert session.pending_turn is not None
        outcome = await session.run_pending()
        assert outcome.stop_reason is StopReason.END_TURN and outcome.text == "Done after all."
    sent = wire_texts(server.requests[-1].json())
    assert [t for _, t in sent][:3] == ["first prompt", "First answer.", "second prompt"]
    assert sent[-1][0] == "tool" and f"interrupted: {BLOCK_COMMAND}" in sent[-1][1]

    reloaded = reopen().open_read_only(sid)
    assert reloaded.snapshot.pending_turn is None and reloaded.interrupted_turn is None
    assert [m.text for m in reloaded.snapshot.messages][-1] == "Done after all."
    assert all(e.fate is MessageFate.LIVE for e in reloaded.transcript)


async def test_a_failed_continuation_leaves_the_turn_pending(open_store, tmp_path, server, http_client, state_dir, work):
    sid, reopen = await crash_image(open_store, tmp_path, server, http_client, state_dir, work)
    server.enqueue(json_reply(400, {"error": {"message": "bad request", "type": "invalid_request_error"}}))
    core = make_core(reopen(), make_provider(server, http_client), state_dir)
    async with core.open_session(info(work, session_id=sid)) as session:
        with pytest.raises(TurnAbortedError):
            await session.run_pending()
        assert session.pending_turn is not None and len(session.history) == 2
    assert reopen().load(sid).pending_turn is not None  # still there after a restart


async def test_discarding_keeps_the_turn_in_the_records(open_store, tmp_path, server, http_client, state_dir, work):
    sid, reopen = await crash_image(open_store, tmp_path, server, http_client, state_dir, work)
    core = make_core(reopen(), make_provider(server, http_client), state_dir)
    async with core.open_session(info(work, session_id=sid)) as session:
        assert await session.discard_pending() is True
    reloaded = reopen().open_read_only(sid)
    assert reloaded.snapshot.pending_turn is None
    assert [e.message.text for e in reloaded.transcript if e.fate is MessageFate.INTERRUPTED][0] == "second prompt"
