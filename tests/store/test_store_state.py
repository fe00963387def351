"""Durable state beside the history: session metadata (set, remove, backfill,
limits, restored, carried into forks, listed and filtered by `agent sessions`)
and control state — durable context sections, queued background outcomes,
hidden tools — each across a clean restart and a crash image; the records are
v3 so an older agentcore refuses them cleanly; empty sessions leave nothing."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from agentcore.cli.sessions_cmd import SessionsContext
from agentcore.cli.sessions_cmd import main as sessions_main
from agentcore.session import MetadataError, ToolVisibilityError
from agentcore.store import JournalStore
from agentcore.store.format import JOURNAL_VERSION
from store_support import ECHO_TOOL, info, make_core, make_provider, text, wire_texts

# A crash image is the journal; the checkpoint store may be mid-scan (its index.lock
# comes and goes) and is not part of what these tests replay.
NO_CHECKPOINTS = shutil.ignore_patterns("checkpoints")


def sessions(store: JournalStore, work: Path, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = {"AGENTCORE_HOME": str(store.sessions_dir.parent.parent)}
    code = sessions_main(list(argv), SessionsContext(work, env, out, err, width=200, color=False))
    return code, out.getvalue(), err.getvalue()


async def test_metadata_is_durable_listed_filtered_and_forked(tmp_path, server, http_client, work) -> None:
    state = tmp_path / "home" / "state"
    store = JournalStore(state / "sessions")
    server.enqueue(text("ok"), text("ok again"))
    core = make_core(store, make_provider(server, http_client), state)
    async with core.open_session(info(work)) as session:
        session.set_metadata("ticket", "ABC-1")
        session.set_metadata("attempt", 2)
        session.set_metadata("draft", True)
        assert session.backfill_metadata({"ticket": "other", "owner": "ci"}) == ("owner",)
        assert session.remove_metadata("draft") is True and session.remove_metadata("draft") is False
        with pytest.raises(MetadataError, match="at most 4,096"):
            session.set_metadata("big", "x" * 5000)
        with pytest.raises(MetadataError, match="must be a string, number"):
            session.set_metadata("obj", {"a": 1})  # type: ignore[arg-type]
        with pytest.raises(MetadataError):  # one bad value: backfill sets nothing
            session.backfill_metadata({"fine": 1, "bad": [1]})  # type: ignore[dict-item]
        with pytest.raises(TypeError):
            session.metadata["x"] = 1  # type: ignore[index]
        await session.run_turn("hello")
    expected = {"ticket": "ABC-1", "attempt": 2, "owner": "ci"}
    assert dict(JournalStore(store.sessions_dir).load(session.id).metadata) == expected

    async with core.open_session(info(work, session_id=session.id)) as resumed:
        assert dict(resumed.metadata) == expected
        fork_id = store.fork_live(resumed)
    forked = JournalStore(store.sessions_dir).load(fork_id)
    assert dict(forked.metadata) == expected and forked.revisions[0].parent == resumed.revision.id
    assert dict(JournalStore(store.sessions_dir).load(store.fork_session(session.id)).metadata) == expected

    code, out, _ = sessions(store, work, "list", "--json", "--meta", "ticket=ABC-1", "--meta", "attempt=2")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == 3 and {session.id, fork_id} <= {r["id"] for r in rows}  # and the stored fork
    assert rows[0]["metadata"] == expected
    _, out, _ = sessions(store, work, "list", "--json", "--meta", "attempt=3")
    assert out == ""
    code, _, err = sessions(store, work, "list", "--meta", "nonsense")
    assert code == 1 and "--meta wants KEY=VALUE" in err
    _, shown, _ = sessions(store, work, "show", session.id)
    assert "meta ticket  ABC-1" in shown and "meta attempt  2" in shown


async def test_control_state_survives_a_restart_and_a_crash(store, server, http_client, state_dir, work, tmp_path) -> None:
    core = make_core(store, make_provider(server, http_client), state_dir, tools=[ECHO_TOOL])
    async with core.open_session(info(work)) as session:
        session.set_context_section("team", "Always answer in haiku.")
        session.set_context_section("gone", "removed again")
        assert session.remove_context_section("gone") is True
        session.set_tool_visible("echo", False)
        session.pending_outcomes.append("[Background task shell_1 completed]")  # as OutcomeDelivery queues one
        with pytest.raises(ToolVisibilityError):
            session.set_tool_visible("mcp__*", False)
    crash = tmp_path / "crash"
    shutil.copytree(store.sessions_dir / session.id, crash / session.id, ignore=NO_CHECKPOINTS)  # what a SIGKILL right now would leave

    for sessions_dir in (store.sessions_dir, crash):
        server.enqueue(text("noted"))
        core = make_core(JournalStore(sessions_dir), make_provider(server, http_client), state_dir, tools=[ECHO_TOOL])
        async with core.open_session(info(work, session_id=session.id)) as resumed:
            assert resumed.durable_context_sections == {"team": "Always answer in haiku."}
            assert resumed.hidden_tools == ("echo",) and resumed.registry.get("echo") is None
            assert list(resumed.pending_outcomes) == ["[Background task shell_1 completed]"]
            await resumed.run_turn("go on")
            assert list(resumed.pending_outcomes) == []  # the turn took it
        body = server.requests[-1].json()
        system = body["messages"][0]["content"]
        assert "Always answer in haiku." in system and "removed again" not in system
        assert "echo" not in [t["function"]["name"] for t in body.get("tools", [])]
        assert [t for _, t in wire_texts(body)][:2] == ["[Background task shell_1 completed]", "go on"]

    core = make_core(JournalStore(store.sessions_dir), make_provider(server, http_client), state_dir, tools=[ECHO_TOOL])
    async with core.open_session(info(work, session_id=session.id)) as resumed:
        assert list(resumed.pending_outcomes) == []  # taken, and that was journaled too
        resumed.set_tool_visible("echo", True)
    assert JournalStore(store.sessions_dir).load(session.id).hidden_tools == ()


async def test_state_records_are_v3_and_other_records_keep_older_versions(store, server, http_client, state_dir, work) -> None:
    server.enqueue(text("ok"))
    core = make_core(store, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work)) as session:
        await session.run_turn("plain")
    records = [json.loads(line) for line in (store.sessions_dir / session.id / "journal.jsonl").read_text().splitlines()]
    assert max(r["v"] for r in records) == 1  # a journal without the new records loads in older agentcore
    async with core.open_session(info(work, session_id=session.id)) as resumed:
        resumed.set_metadata("k", "v")
    records = [json.loads(line) for line in (store.sessions_dir / session.id / "journal.jsonl").read_text().splitlines()]
    assert [r["v"] for r in records if r["type"] == "metadata"] == [3] == [JOURNAL_VERSION]
    # a newer record than this agentcore knows is refused with a clear error, not misread
    journal = store.sessions_dir / session.id / "journal.jsonl"
    journal.write_text(journal.read_text() + json.dumps({"v": JOURNAL_VERSION + 1, "type": "future", "ts": 1.0}) + "\n")
    (store.sessions_dir / session.id / "meta.json").unlink()
    from agentcore.store import JournalVersionError

    with pytest.raises(JournalVersionError, match="newer agentcore"):
        JournalStore(store.sessions_dir).load(session.id)


async def test_an_empty_session_leaves_nothing_behind(store, server, http_client, state_dir, work) -> None:
    core = make_core(store, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work)) as empty:
        from agentcore.permissions import PermissionMode

        await empty.set_mode(PermissionMode.ASK)  # changes nothing worth a journal
    assert not (store.sessions_dir / empty.id).exists()
    assert store.list_sessions() == []
    server.enqueue(text("hi"))
    async with core.open_session(info(work)) as used:
        assert not (store.sessions_dir / used.id).exists()  # not yet: nothing worth keeping
        await used.run_turn("hello")
        assert (store.sessions_dir / used.id / "lock").exists()
    async with core.open_session(info(work)) as tagged:
        tagged.set_metadata("kind", "tagged only")  # metadata alone is worth keeping
    assert {s.id for s in store.list_sessions()} == {used.id, tagged.id}
    assert dict(store.load(tagged.id).metadata) == {"kind": "tagged only"}
