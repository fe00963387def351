"""Torn, truncated and corrupted journals: a torn last line is ignored, anything
else is an error naming the file and line, never a silent empty session."""

from __future__ import annotations

import json

import pytest

from agentcore.store import JournalCorrupt, JournalStore, JournalVersionError
from agentcore.store.format import JOURNAL_FILE, JOURNAL_VERSION, read_journal
from store_support import info, make_core, make_provider, text


@pytest.fixture
async def recorded(store, server, http_client, state_dir, work):
    """A stored session of two turns; returns (store, id, journal path)."""
    server.enqueue(text("answer one"), text("answer two"))
    core = make_core(store, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work)) as session:
        await session.run_turn("question one")
        await session.run_turn("question two")
    return store, session.id, store.sessions_dir / session.id / JOURNAL_FILE


ALL = ["question one", "answer one", "question two", "answer two"]


async def test_torn_last_line_is_ignored_and_cut_off_before_appending(recorded, server, http_client, state_dir, work):
    store, sid, journal = recorded
    torn = b'{"v":1,"type":"message","ts":1,"turn":"turn_x","message":{"role":"user","id":"m'
    with journal.open("ab") as f:
        f.write(torn)
    assert [m.text for m in JournalStore(store.sessions_dir).load(sid).messages] == ALL

    server.enqueue(text("answer three"))
    core = make_core(JournalStore(store.sessions_dir), make_provider(server, http_client), state_dir)
    async with core.open_session(info(work, session_id=sid)) as session:
        await session.run_turn("question three")
    assert [m.text for m in read_journal(journal).live] == [*ALL, "question three", "answer three"]
    assert journal.with_name(JOURNAL_FILE + ".torn").read_bytes() == torn + b"\n"  # kept, not lost


async def test_every_truncation_loads_the_completed_turns(recorded):
    """Cut the file anywhere: the result is always the turns that had ended by then."""
    _, _, journal = recorded
    data = journal.read_bytes()
    lines = data.split(b"\n")
    ended_after: dict[int, list[str]] = {}  # line count -> live texts once that many lines are present
    live: list[str] = []
    pending: list[str] = []
    for count, line in enumerate(lines[:-1], start=1):
        rec = json.loads(line)
        if rec["type"] == "message":
            pending.append(rec["message"]["content"][0]["text"])
        elif rec["type"] == "turn_ended":
            live, pending = live + pending, []
        ended_after[count] = list(live)
    cut_journal = journal.with_name("cut.jsonl")
    header_end = data.index(b"\n") + 1
    # Around every line end (torn by one byte, complete, one byte into the next) and mid-line.
    ends = [i + 1 for i, byte in enumerate(data) if byte == ord("\n")]
    offsets = {o for e in ends for o in (e - 1, e, e + 1)} | {(a + b) // 2 for a, b in zip(ends, ends[1:])}
    for offset in sorted(o for o in offsets if header_end <= o <= len(data)):
        cut_journal.write_bytes(data[:offset])
        complete_lines = data[:offset].count(b"\n")
        assert [m.text for m in read_journal(cut_journal).live] == ended_after[complete_lines], offset


async def test_a_corrupt_line_is_an_error_naming_file_and_line(recorded, server, http_client, state_dir, work):
    store, sid, journal = recorded
    lines = journal.read_bytes().split(b"\n")
    lines[3] = b'{"v":1,"type":"message","ts":1,"turn":null,"message":{"role":"user"'  # a complete but broken line
    journal.write_bytes(b"\n".join(lines))
    with pytest.raises(JournalCorrupt, match=rf"{journal}:4: invalid record") as caught:
        JournalStore(store.sessions_dir).load(sid)
    assert (caught.value.path, caught.value.line) == (journal, 4)
    core = make_core(JournalStore(store.sessions_dir), make_provider(server, http_client), state_dir)
    for _ in range(2):  # the failed load released its lock: the second try fails the same way
        with pytest.raises(JournalCorrupt):
            async with core.open_session(info(work, session_id=sid)):
                pass
    scan = store.scan()
    assert scan.sessions == () and [p.line for p in scan.problems] == [4]  # listed as a problem, not hidden


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"v":1,"type":"message","ts":1}', "missing field 'message'"),
        (b'{"v":1,"type":"bogus","ts":1}', "unknown record type 'bogus'"),
        (b'{"type":"title","ts":1,"title":"x"}', "missing or invalid record version"),
        (b'["not", "an", "object"]', "must be a JSON object"),
        (b'{"v":1,"type":"rollback","ts":1,"turn":"t","length":99}', "rollback to 99 messages"),
        (b'{"v":1,"type":"compaction","ts":1,"turn":null,"replaced":["msg_x"],"messages":[]}', "not in history: msg_x"),
        (b'{"v":1,"type":"mode","ts":1,"mode":"reckless"}', "reckless"),
        # Nested past what the parser or the loader could walk: named, never a RecursionError.
        (b'{"v":1,"type":"title","ts":1,"title":' + b"[" * 5_000 + b"]" * 5_000 + b"}", "not JSON"),
        (b'{"v":1,"type":"plan","ts":1,"entries":' + b"[" * 500 + b"]" * 500 + b"}", "invalid record"),
    ],
)
async def test_invalid_records_are_named(recorded, line, reason):
    _, sid, journal = recorded
    with journal.open("ab") as f:
        f.write(line + b"\n")
    count = journal.read_bytes().count(b"\n")
    with pytest.raises(JournalCorrupt, match=rf":{count}: .*{reason}"):
        read_journal(journal)


async def test_a_journal_from_a_newer_version_is_refused(recorded):
    _, _, journal = recorded
    with journal.open("ab") as f:
        f.write(b'{"v":%d,"type":"shiny","ts":1}\n' % (JOURNAL_VERSION + 1))
    with pytest.raises(JournalVersionError, match="written by a newer agentcore"):
        read_journal(journal)


def test_an_empty_journal_is_an_error_not_an_empty_session(store):
    path = store.sessions_dir / "sess_empty"
    path.mkdir(parents=True)
    (path / JOURNAL_FILE).write_bytes(b"")
    with pytest.raises(JournalCorrupt, match="journal is empty"):
        store.load("sess_empty")
    (path / JOURNAL_FILE).write_bytes(b'{"v":1,"type":"title","ts":1,"title":"x"}\n')
    with pytest.raises(JournalCorrupt, match=":1: the journal does not start with a session record"):
        store.load("sess_empty")
