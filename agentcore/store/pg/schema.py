"""The PostgreSQL store's schema: versioned migrations applied on start.

Invariant: ``agentcore_schema`` holds one row per applied migration; the
database is at the highest version there. :func:`migrate` applies the missing
ones in order, each in its own transaction, under a transaction-level advisory
lock (two servers starting at once apply each migration once). A database at a
version newer than :data:`SCHEMA_VERSION` is refused with
:class:`SchemaTooNew` before anything is read or written: an older agentcore
never guesses at a newer layout.

Tables (all prefixed ``agentcore_``):

* ``sessions`` — one row per session: the listing columns, ``meta`` (the
  journal store's meta.json dict: never secrets), ``last_seq`` (the record the
  listing was computed at; a listing older than the records is rebuilt by
  replay) and the fork origin (``parent_id``, ``parent_seq``, ``parent_at``:
  the parent's records up to ``parent_seq`` replayed, its first ``parent_at``
  live messages inherited, nothing copied). ``deleted`` hides a session whose
  records a fork still needs.
* ``records`` — the journal's records (agentcore/store/format.py), one JSON
  text per row, append-only, ``seq`` counting from 0 (the ``session`` header).
* ``blobs`` — images kept out of the records and the file contents of
  checkpoints (content-addressed).
* ``leases`` — which server has a session open for writing, until when, and
  the URL it serves on (v2; null outside ``agent serve``).
* ``checkpoints`` — each session's checkpoint call records, ``seq`` from 0, the
  bytes they name in ``blobs`` (v3; :mod:`agentcore.store.pg.checkpoints`).
"""

from __future__ import annotations

from typing import Any

from agentcore.store.format import JournalError

SCHEMA_VERSION = 3  # the newest migration this code knows
_LOCK_KEY = 0x61676E74  # pg_advisory_xact_lock key serialising migrations ("agnt")

MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE agentcore_sessions (
            id text PRIMARY KEY,
            cwd text NOT NULL,
            created double precision NOT NULL,
            updated double precision NOT NULL,
            title text,
            message_count integer NOT NULL DEFAULT 0,
            cost_usd double precision NOT NULL DEFAULT 0,
            meta jsonb NOT NULL DEFAULT '{}'::jsonb,
            last_seq bigint NOT NULL DEFAULT -1,
            parent_id text REFERENCES agentcore_sessions (id),
            parent_seq bigint,
            parent_at integer,
            deleted boolean NOT NULL DEFAULT false
        )""",
        "CREATE INDEX agentcore_sessions_cwd ON agentcore_sessions (cwd, updated DESC)",
        "CREATE INDEX agentcore_sessions_parent ON agentcore_sessions (parent_id)",
        """CREATE TABLE agentcore_records (
            session_id text NOT NULL REFERENCES agentcore_sessions (id) ON DELETE CASCADE,
            seq bigint NOT NULL,
            body text NOT NULL,
            PRIMARY KEY (session_id, seq)
        )""",
        """CREATE TABLE agentcore_blobs (
            id text PRIMARY KEY,
            size bigint NOT NULL,
            data bytea NOT NULL,
            created timestamptz NOT NULL DEFAULT now()
        )""",
        """CREATE TABLE agentcore_leases (
            session_id text PRIMARY KEY,
            owner text NOT NULL,
            expires_at timestamptz NOT NULL
        )""",
    ),
    # 2: a lease names where its owner serves (agent serve's /acp URL), so another server can send clients there.
    2: ("ALTER TABLE agentcore_leases ADD COLUMN url text",),
    # 3: checkpoints in the database, so a job that moves to another machine gets its file changes back.
    3: (
        """CREATE TABLE agentcore_checkpoints (
            session_id text NOT NULL,
            seq bigint NOT NULL,
            record text NOT NULL,
            PRIMARY KEY (session_id, seq)
        )""",
    ),
}


class PgStoreError(JournalError):
    """The PostgreSQL session store cannot do what was asked."""


class SchemaTooNew(PgStoreError):
    """The database was migrated by a newer agentcore than this one."""

    def __init__(self, found: int, known: int) -> None:
        super().__init__(
            f"the session database is at schema version {found}, newer than this agentcore knows ({known}); "
            "upgrade agentcore (an older one never writes to a newer layout)"
        )
        self.found = found
        self.known = known


def migrate(conn: Any, *, known: int = SCHEMA_VERSION) -> int:
    """Bring the database to ``known``; the version it is at now. Raises :class:`SchemaTooNew`."""
    conn.execute("CREATE TABLE IF NOT EXISTS agentcore_schema (version integer PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())")
    conn.commit()
    while True:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            row = conn.execute("SELECT coalesce(max(version), 0) FROM agentcore_schema").fetchone()
            current = int(row[0])
            if current > known:
                raise SchemaTooNew(current, known)
            if current == known:
                return current
            step = current + 1
            for statement in MIGRATIONS[step]:
                conn.execute(statement)
            conn.execute("INSERT INTO agentcore_schema (version) VALUES (%s)", (step,))
