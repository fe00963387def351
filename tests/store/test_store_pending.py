"""Resumable turns at the library level. A "crash image" is a copy of a
session's directory taken while a turn runs (every record is flushed as it is
written, so the copy is what a SIGKILL would leave): opening it finds the turn
pending; ``run_pending`` continues it on the wire with an "interrupted" result
for the tool call cut off; ``discard_pending`` (or a new prompt) drops it from
the history but never from the journal; a failed continuation leaves it pending."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import trio

from agentcore import FunctionTool
from agentcore.messages import StopReason
from agentcore.session import NoPendingTurn
from agentcore.store import JournalStore, MessageFate
from agentcore.turn import TurnAbortedError
from fakes.llm_server import json_reply
from store_support import info, make_core, make_provider, text, tool_call, wire_texts

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


async def crash_image(store: JournalStore, image: Path, server, http_client, state_dir: Path, work: Path) -> str:
    """Run a turn until its tool blocks, copy the session directory to ``image``, stop."""
    entered = trio.Event()
    server.enqueue(text("First answer."), tool_call("call_b", "block", json.dumps({"command": BLOCK_COMMAND})))
    core = make_core(store, make_provider(server, http_client), state_dir, tools=[blocking_tool(entered)])
    async with core.open_session(info(work)) as session:
        await session.run_turn("first prompt")
        async with trio.open_nursery() as nursery:
            nursery.start_soon(session.run_turn, "second prompt")
            await entered.wait()
            shutil.copytree(store.sessions_dir / session.id, image / session.id, ignore=NO_CHECKPOINTS)
            session.cancel()
    return session.id


@pytest.fixture
def image(tmp_path: Path) -> Path:
    return tmp_path / "image"


async def test_run_pending_continues_the_cut_off_turn_on_the_wire(store, image, server, http_client, state_dir, work) -> None:
    sid = await crash_image(store, image, server, http_client, state_dir, work)
    crashed = JournalStore(image)
    pending = crashed.load(sid).pending_turn
    assert pending is not None and [m.text for m in pending.messages] == ["second prompt", ""]
    assert [(c.name, c.command, c.finished) for c in pending.interrupted_tools] == [("block", BLOCK_COMMAND, False)]

    server.enqueue(text("Done after all."))
    core = make_core(crashed, make_provider(server, http_client), state_dir, tools=[blocking_tool(trio.Event())])
    async with core.open_session(info(work, session_id=sid)) as session:
        assert [m.text for m in session.history] == ["first prompt", "First answer."]  # not in history until continued
        assert session.pending_turn is not None
        assert any("/continue" in n.text and "agent run --continue" in n.text for n in session.startup_notices)
        outcome = await session.run_pending()
        assert outcome.stop_reason is StopReason.END_TURN and outcome.text == "Done after all."
        assert session.pending_turn is None
    sent = wire_texts(server.requests[-1].json())
    assert [t for _, t in sent][:3] == ["first prompt", "First answer.", "second prompt"]
    assert sent[-1][0] == "tool" and f"interrupted: {BLOCK_COMMAND}" in sent[-1][1] and "may have done part of its work" in sent[-1][1]

    reloaded = JournalStore(image).open_read_only(sid)
    assert reloaded.snapshot.pending_turn is None and reloaded.interrupted_turn is None
    texts = [m.text for m in reloaded.snapshot.messages]
    assert texts[:3] == ["first prompt", "First answer.", "second prompt"] and texts[-1] == "Done after all."
    assert all(e.fate is MessageFate.LIVE for e in reloaded.transcript)
    records = [json.loads(line) for line in (image / sid / "journal.jsonl").read_text().splitlines()]
    kinds = [r["type"] for r in records]
    assert kinds.count("turn_suspended") == 1 and kinds.count("turn_continued") == 1
    assert [r["message"]["id"] for r in records if r["type"] == "message"].count(pending.messages[0].id) == 1


async def test_a_failed_continuation_leaves_the_turn_pending(store, image, server, http_client, state_dir, work) -> None:
    sid = await crash_image(store, image, server, http_client, state_dir, work)
    server.enqueue(json_reply(400, {"error": {"message": "bad request", "type": "invalid_request_error"}}))
    core = make_core(JournalStore(image), make_provider(server, http_client), state_dir)
    async with core.open_session(info(work, session_id=sid)) as session:
        with pytest.raises(TurnAbortedError):
            await session.run_pending()
        assert session.pending_turn is not None and len(session.history) == 2
    assert JournalStore(image).load(sid).pending_turn is not None  # still there after a restart

    server.enqueue(text("Second try worked."))
    core = make_core(JournalStore(image), make_provider(server, http_client), state_dir)
    async with core.open_session(info(work, session_id=sid)) as session:
        assert (await session.run_pending()).text == "Second try worked."


async def test_discarding_keeps_the_turn_in_the_journal(store, image, server, http_client, state_dir, work) -> None:
    sid = await crash_image(store, image, server, http_client, state_dir, work)
    core = make_core(JournalStore(image), make_provider(server, http_client), state_dir)
    async with core.open_session(info(work, session_id=sid)) as session:
        assert await session.discard_pending() is True
        assert await session.discard_pending() is False
        with pytest.raises(NoPendingTurn):
            await session.run_pending()
    reloaded = JournalStore(image).open_read_only(sid)
    assert reloaded.snapshot.pending_turn is None
    dropped = [e.message.text for e in reloaded.transcript if e.fate is MessageFate.INTERRUPTED]
    assert dropped[0] == "second prompt"
    aborted = [json.loads(line) for line in (image / sid / "journal.jsonl").read_text().splitlines()][-1]
    assert aborted["type"] == "turn_aborted" and aborted["discarded"] is True
    assert aborted["interrupted_tools"][0]["call_id"] == "call_b"


async def test_a_turn_cut_off_after_its_answer_ends_without_another_call(store, server, http_client, state_dir, work) -> None:
    server.enqueue(text("The whole answer."))
    core = make_core(store, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work)) as session:
        await session.run_turn("a question")
    journal = store.sessions_dir / session.id / "journal.jsonl"
    lines = journal.read_text().splitlines(keepends=True)
    cut = max(i for i, line in enumerate(lines) if '"type":"turn_ended"' in line)
    journal.write_text("".join(lines[:cut]))  # killed between the answer and the turn's end
    (store.sessions_dir / session.id / "meta.json").unlink()

    requests = len(server.requests)
    core = make_core(JournalStore(store.sessions_dir), make_provider(server, http_client), state_dir)
    async with core.open_session(info(work, session_id=session.id)) as resumed:
        outcome = await resumed.run_pending()
    assert outcome.text == "The whole answer." and len(server.requests) == requests
    assert [m.text for m in JournalStore(store.sessions_dir).load(session.id).messages] == ["a question", "The whole answer."]
