"""The PostgreSQL store's own guarantees: concurrent writers on one database,
migrating journal files in (idempotent), a newer schema refused, an unreachable
database named in one line without its password."""

from __future__ import annotations

import psycopg
import pytest
import trio
from pg_support import (
    ECHO_TOOL,
    info,
    make_core,
    make_provider,
    text,
    ticking_clock,
    tool_call,
)

from agentcore.messages import message_to_dict
from agentcore.store import JournalStore, SessionLocked
from agentcore.store.pg import (
    SCHEMA_VERSION,
    PgSessionStore,
    SchemaTooNew,
    StoreUnavailable,
    migrate_sessions,
)

SESSIONS_PER_STORE = 3
TURNS = 3


async def test_two_stores_write_many_sessions_at_once(pg_url, server, http_client, state_dir, work):
    stores = [PgSessionStore(pg_url), PgSessionStore(pg_url)]
    server.enqueue(*[text(f"answer {i}") for i in range(len(stores) * SESSIONS_PER_STORE * TURNS)])
    ids: list[str] = []
    try:
        async def one(store: PgSessionStore, n: int) -> None:
            core = make_core(store, make_provider(server, http_client), state_dir)
            async with core.open_session(info(work)) as session:
                ids.append(session.id)
                for turn in range(TURNS):
                    await session.run_turn(f"session {n} turn {turn}")
                    await trio.lowlevel.checkpoint()

        async with trio.open_nursery() as nursery:
            for s, store in enumerate(stores):
                for i in range(SESSIONS_PER_STORE):
                    nursery.start_soon(one, store, s * SESSIONS_PER_STORE + i)
    finally:
        for store in stores:
            store.close()
    with PgSessionStore(pg_url) as reader:
        assert len(reader.list_sessions()) == len(ids) == len(stores) * SESSIONS_PER_STORE
        for sid in ids:
            snap = reader.load(sid)
            prompts = [m.text for m in snap.messages[::2]]
            n = prompts[0].split()[1]
            assert prompts == [f"session {n} turn {t}" for t in range(TURNS)]  # in order, none lost
            assert all(m.text.startswith("answer ") for m in snap.messages[1::2])


async def test_a_second_server_cannot_open_a_leased_session(pg_url, server, http_client, state_dir, work):
    server.enqueue(text("one"), text("two"))
    with PgSessionStore(pg_url) as a, PgSessionStore(pg_url) as b:
        core_a = make_core(a, make_provider(server, http_client), state_dir)
        core_b = make_core(b, make_provider(server, http_client), state_dir)
        async with core_a.open_session(info(work)) as session:
            await session.run_turn("hello")
            with pytest.raises(SessionLocked, match=a.owner):
                b.load(session.id)
            assert b.lease_owner(session.id) == a.owner
        async with core_b.open_session(info(work, session_id=session.id)) as again:
            await again.run_turn("hello again")
        assert a.lease_owner(session.id) is None
        assert len(a.load(session.id).messages) == 4


async def test_migrate_copies_journal_sessions_once(pg_url, server, http_client, state_dir, work, tmp_path):
    files = JournalStore(tmp_path / "sessions", clock=ticking_clock())
    server.enqueue(tool_call("c1", "echo", '{"text": "x"}'), text("done"), text("second"))
    core = make_core(files, make_provider(server, http_client), state_dir, tools=[ECHO_TOOL])
    async with core.open_session(info(work)) as session:
        await session.run_turn("first")
        session.set_metadata("team", "blue")
    async with core.open_session(info(work)) as other:
        await other.run_turn("another")
    forked = files.fork_session(session.id, at=1)
    with PgSessionStore(pg_url) as db:
        report = migrate_sessions(files, db)
        assert sorted(report.copied) == sorted([session.id, other.id, forked])
        assert report.failed == ()
        for sid in report.copied:
            want, got = files.load(sid), db.load(sid)
            assert [message_to_dict(m) for m in got.messages] == [message_to_dict(m) for m in want.messages]
            assert (got.title, got.metadata, got.cost_usd, got.revisions) == (want.title, want.metadata, want.cost_usd, want.revisions)
        assert {r.id for r in db.list_sessions(cwd=work)} == set(report.copied)
        again = migrate_sessions(files, db)
        assert again.copied == () and sorted(again.skipped) == sorted(report.copied)


def test_a_schema_newer_than_the_code_is_refused(pg_url):
    PgSessionStore(pg_url).close()  # migrated to SCHEMA_VERSION
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO agentcore_schema (version) VALUES (%s)", (SCHEMA_VERSION + 1,))
    with pytest.raises(SchemaTooNew, match=rf"schema version {SCHEMA_VERSION + 1}, newer than this agentcore knows \({SCHEMA_VERSION}\)"):
        PgSessionStore(pg_url)


def test_migrations_are_applied_once_and_recorded(pg_url):
    PgSessionStore(pg_url).close()
    PgSessionStore(pg_url).close()
    with psycopg.connect(pg_url) as conn:
        assert [r[0] for r in conn.execute("SELECT version FROM agentcore_schema ORDER BY version")] == list(
            range(1, SCHEMA_VERSION + 1)
        )


def test_an_unreachable_database_is_one_line_without_the_password(pg_server):
    url = f"postgresql://agentcore:hunter2-secret@127.0.0.1:{pg_server.port}/no_such_database"
    with pytest.raises(StoreUnavailable) as caught:
        PgSessionStore(url)
    message = str(caught.value)
    assert "no_such_database on 127.0.0.1" in message
    assert "hunter2" not in message and "\n" not in message


def test_an_older_schema_is_migrated_on_start_keeping_its_data(pg_url):
    from agentcore.store.pg.schema import migrate

    with psycopg.connect(pg_url) as conn:
        assert migrate(conn, known=1) == 1  # a database an older agentcore made
        conn.execute("INSERT INTO agentcore_leases (session_id, owner, expires_at) VALUES ('s1', 'old', now())")
        conn.commit()
    with PgSessionStore(pg_url) as store:
        assert store.schema_version == SCHEMA_VERSION
        store.advertise("http://127.0.0.1:9/acp")
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT session_id, owner, url FROM agentcore_leases").fetchall() == [("s1", "old", None)]


async def test_a_session_whose_lease_was_taken_over_stops_saving(pg_url, server, http_client, state_dir, work):
    server.enqueue(text("one"), text("two"))
    with PgSessionStore(pg_url) as store:
        core = make_core(store, make_provider(server, http_client), state_dir)
        async with core.open_session(info(work)) as session:
            await session.run_turn("first")
            with psycopg.connect(pg_url, autocommit=True) as conn:  # a stall outlived the lease: B took it
                conn.execute("UPDATE agentcore_leases SET owner = 'server-b' WHERE session_id = %s", (session.id,))
            await session.run_turn("second")
            assert "server-b" in (store.writer.failure(session.id) or "")
    with psycopg.connect(pg_url) as conn:
        bodies = [r[0] for r in conn.execute("SELECT body FROM agentcore_records WHERE session_id = %s", (session.id,))]
    assert any('"first"' in b for b in bodies) and not any('"second"' in b for b in bodies)  # never two writers


async def test_a_database_that_goes_away_stops_saving_without_failing_the_session(
    server, http_client, state_dir, work
):
    from fakes.pg_server import find_pg_bin, running_pg

    bin_dir, _ = find_pg_bin()
    server.enqueue(text("saved"), text("not saved"))
    with running_pg(bin_dir) as pg:
        store = PgSessionStore(pg.create_database("gone"), timeout_s=1.0)
        core = make_core(store, make_provider(server, http_client), state_dir)
        async with core.open_session(info(work)) as session:
            await session.run_turn("first")
            assert session.saving_problem is None
            pg.stop()  # the database is gone mid-session
            outcome = await session.run_turn("second")  # the turn itself is unaffected
            assert outcome.text == "not saved"
            assert "to the database" in (session.saving_problem or "")  # and it says it is no longer saved
        store.close()
