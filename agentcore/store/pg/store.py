"""Sessions in PostgreSQL: :class:`PgSessionStore`, a ``SessionLoader`` and a
``SessionObserver`` with the journal store's API (load, scan, show, fork, delete).

Invariants:

* the records are the journal's records (:mod:`agentcore.store.format`) and a
  session loads by replaying them with the journal's own replay code, so a
  crash leaves the same states a journal file would (an unfinished turn is
  rolled back or pending, never half-applied);
* a session is open for writing on one store at a time: ``session_opened``
  takes a lease row (owner, expiry) that the writer thread renews and
  ``session_closed`` deletes; a lease whose owner died expires after
  ``lease_s`` and can then be taken;
* a fork copies no records: its row names the parent, the parent's last
  record at fork time and how many of the parent's live messages it
  inherits; a deleted parent stays (hidden) while a fork needs its records;
* all database I/O here is short synchronous queries on a pool connection
  (the loader trait is synchronous, like the journal's file reads); the
  per-message path only queues (see :mod:`agentcore.store.pg.writer`).
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from agentcore.core import SessionNotFound, SessionSnapshot, SessionSummary
from agentcore.events import AgentEvent
from agentcore.history import History, safe_cut
from agentcore.messages import Message
from agentcore.session.persistence import ObservedSession
from agentcore.session.state import RevisionConflict, StateChange
from agentcore.store.blobs import SWEEP_GRACE_S, SessionBlobs, blob_ids_in
from agentcore.store.format import (
    JournalError,
    Replay,
    SessionLocked,
    replay_journal_bytes,
)
from agentcore.store.fork_records import fork_start
from agentcore.store.journal import SessionScan, StoredSession
from agentcore.store.pg.blobs import PgBlobs
from agentcore.store.pg.checkpoints import PgCheckpoints
from agentcore.store.pg.leases import Leases, SessionLeased
from agentcore.store.pg.recorder import LEASE_HELD_BY_STORE, PgRecorder
from agentcore.store.pg.schema import PgStoreError, migrate
from agentcore.store.pg.writer import RecordWriter, create_op, encode_json
from agentcore.store.recorder import (
    Reservation,
    meta_from_replay,
    server_names,
    snapshot_from_replay,
)

LEASE_S_DEFAULT = 30.0  # a dead server's sessions can be taken over this long after its last renewal
POOL_MAX_SIZE = 8
CONNECT_TIMEOUT_S = 10.0  # connecting, or waiting for a pooled connection; a turn end waits at most 3x this
_NO_LIMIT = 2**62  # a seq bound above every record


class StoreUnavailable(PgStoreError):
    """The session database cannot be reached (or refused the connection)."""


def describe_url(url: str) -> str:
    """The database a URL names, without its password (for messages and logs)."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        parts = conninfo_to_dict(url)
    except Exception:  # psycopg.ProgrammingError for a malformed URL: say nothing of its text
        return "the configured database"
    host = parts.get("host") or "localhost"
    return f"{parts.get('dbname') or '?'} on {host}:{parts.get('port') or 5432}"


def _label(session_id: str) -> Path:
    return Path(f"postgresql:{session_id}")  # names a session's records in JournalCorrupt


class PgSessionStore:
    """Sessions in a PostgreSQL database (see the module docstring)."""

    def __init__(
        self, url: str, *, clock: Callable[[], float] = time.time, lease_s: float = LEASE_S_DEFAULT,
        owner: str | None = None, pool_max_size: int = POOL_MAX_SIZE, timeout_s: float = CONNECT_TIMEOUT_S,
    ) -> None:
        try:
            import psycopg_pool
        except ImportError:
            raise PgStoreError("[store] url needs PostgreSQL support: pip install 'agentcore[pg]'") from None
        self.url_label = describe_url(url)
        self._clock = clock
        self.lease_s = lease_s
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        import psycopg

        try:  # one direct connection first: its error says why (the pool would only time out)
            with psycopg.connect(url, connect_timeout=max(int(timeout_s), 1)) as conn:
                self.schema_version = migrate(conn)
        except PgStoreError:
            raise
        except psycopg.Error as exc:  # one line naming the database, never the password
            raise StoreUnavailable(f"cannot use the session database {self.url_label}: {_first_line(exc)}") from None
        self._pool = psycopg_pool.ConnectionPool(
            url, min_size=1, max_size=pool_max_size, open=False, timeout=timeout_s, name="agentcore-store"
        )
        try:
            self._pool.open(wait=True, timeout=timeout_s)
        except Exception as exc:  # PoolTimeout
            self._pool.close()
            raise StoreUnavailable(f"cannot use the session database {self.url_label}: {_first_line(exc)}") from None
        self.blobs = PgBlobs(self._pool)
        self.writer = RecordWriter(self._pool, owner=self.owner, lease_s=lease_s, barrier_timeout_s=3 * timeout_s)
        self._recorder = PgRecorder(self.writer, clock, media=self.blobs)
        self._reserved: dict[str, tuple[Reservation, int]] = {}
        self.leases = Leases(self._query, owner=self.owner, lease_s=lease_s)

    def close(self) -> None:
        """Commit what is queued, give back leases, close the pool."""
        self.writer.close()
        self.leases.release_all()
        self._pool.close()

    def __enter__(self) -> PgSessionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One statement on a pooled connection (committed); a database that went
        away is a :class:`StoreUnavailable` naming it in one line."""
        import psycopg
        import psycopg_pool

        try:
            with self._pool.connection() as conn:
                cur = conn.execute(sql, params)
                return cur.fetchall() if cur.description else []
        except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as exc:
            raise StoreUnavailable(f"the session database {self.url_label} is unavailable: {_first_line(exc)}") from None

    # ------------------------------------------------------------ lookup

    def resolve(self, id_or_prefix: str) -> str:
        rows = self._query(
            "SELECT id FROM agentcore_sessions WHERE NOT deleted AND left(id, length(%s)) = %s ORDER BY id LIMIT 6",
            (id_or_prefix, id_or_prefix),
        ) if id_or_prefix else []  # fmt: skip
        ids = [r[0] for r in rows]
        if id_or_prefix in ids:
            return id_or_prefix
        if len(ids) == 1:
            return ids[0]
        if ids:
            raise SessionNotFound(f"{id_or_prefix!r} matches {len(ids)} sessions: {', '.join(ids[:5])}")
        raise SessionNotFound(f"no session {id_or_prefix!r} in {self.url_label}")

    def _row(self, session_id: str) -> tuple[Any, ...]:
        rows = self._query(
            "SELECT parent_id, parent_seq, parent_at, deleted FROM agentcore_sessions WHERE id = %s", (session_id,)
        )
        if not rows or rows[0][3]:
            raise SessionNotFound(f"no session {session_id!r} in {self.url_label}")
        return rows[0]

    def _replay(self, session_id: str, *, keep_transcript: bool = False, upto: int | None = None,
                blobs: SessionBlobs | None = None, row: tuple[Any, ...] | None = None) -> tuple[Replay, int]:  # fmt: skip
        """The session's state from its records (a fork's parent's first); with the last seq read."""
        if row is None:
            rows = self._query(
                "SELECT parent_id, parent_seq, parent_at, deleted FROM agentcore_sessions WHERE id = %s", (session_id,)
            )
            if not rows:
                raise SessionNotFound(f"no session {session_id!r} in {self.url_label}")
            row = rows[0]
        parent_id, parent_seq, parent_at, _ = row
        # One text value, the records as journal lines in order: no per-row work in Python.
        recs = self._query(
            "SELECT string_agg(body, E'\\n' ORDER BY seq), max(seq) FROM agentcore_records "
            "WHERE session_id = %s AND seq <= %s", (session_id, _NO_LIMIT if upto is None else upto),
        )  # fmt: skip
        if not recs or recs[0][0] is None:
            raise SessionNotFound(f"session {session_id!r} has no records in {self.url_label}")
        inherited = None
        if parent_id is not None:
            inherited, _ = self._replay(parent_id, upto=parent_seq, blobs=blobs)
            inherited.live[:] = inherited.live[: int(parent_at)]
        data = (recs[0][0] + "\n").encode()
        replay = replay_journal_bytes(
            _label(session_id), data, keep_transcript=keep_transcript, blobs=blobs, inherited=inherited
        )
        return replay, int(recs[0][1])

    def _last_seq(self, session_id: str) -> int:
        rows = self._query("SELECT max(seq) FROM agentcore_records WHERE session_id = %s", (session_id,))
        return -1 if not rows or rows[0][0] is None else int(rows[0][0])

    def _reserve(self, session_id: str, *, row: tuple[Any, ...] | None = None) -> tuple[Reservation, int]:
        if row is None:
            row = self._row(session_id)
        blobs = self.session_blobs(session_id)
        replay, last = self._replay(session_id, blobs=blobs, row=row)
        meta = meta_from_replay(session_id, replay)
        meta.pop("journal_bytes", None)
        reservation = Reservation(
            snapshot_from_replay(session_id, replay), meta, replay.open_turn, 0, b"", replay.interrupted_tools,
            media_problems=tuple(blobs.problems),
        )
        return reservation, last

    # ----------------------------------------------------- SessionLoader

    def load(self, session_id: str) -> SessionSnapshot:
        """Load a session to resume it: :class:`SessionNotFound`, :class:`SessionLocked`
        (open for writing here or on another server whose lease has not expired)."""
        if session_id in self._recorder.live or session_id in self.leases.held:
            raise SessionLocked(session_id, "it is already open in this process")
        rows = self._query(
            "SELECT s.parent_id, s.parent_seq, s.parent_at, s.deleted, l.owner, "
            "extract(epoch FROM l.expires_at - now()), (SELECT max(seq) FROM agentcore_records r WHERE r.session_id = s.id), "
            "l.url "
            "FROM agentcore_sessions s LEFT JOIN agentcore_leases l ON l.session_id = s.id WHERE s.id = %s",
            (session_id,),
        )  # one round trip: the row, its lease, its last record
        if not rows or rows[0][3]:
            raise SessionNotFound(f"no session {session_id!r} in {self.url_label}")
        row = rows[0]
        owner, left, last = row[4], row[5], row[6]
        if owner is not None and owner != self.owner and float(left) > 0:
            raise SessionLeased(session_id, owner, left, row[7])
        reserved = self._reserved.get(session_id)
        if reserved is None or reserved[1] != last:
            reserved = self._reserve(session_id, row=row[:4])
            self._reserved[session_id] = reserved
        return reserved[0].snapshot

    def list_sessions(self, *, cwd: Path | None = None) -> list[SessionSummary]:
        return list(self.scan(cwd=cwd).sessions)

    def scan(self, *, cwd: Path | None = None) -> SessionScan:
        """Sessions (in ``cwd`` or everywhere), newest first, and unreadable ones."""
        sql = (
            "SELECT s.id, s.cwd, s.title, s.updated, s.message_count, s.cost_usd, s.meta, s.last_seq, "
            "(SELECT max(seq) FROM agentcore_records r WHERE r.session_id = s.id) "
            "FROM agentcore_sessions s WHERE NOT s.deleted"
        )
        params: tuple[Any, ...] = ()
        if cwd is not None:
            sql += " AND s.cwd = %s"
            params = (str(Path(cwd).resolve()),)
        rows: list[SessionSummary] = []
        problems: list[JournalError] = []
        for sid, scwd, title, updated, count, cost, meta, last_seq, max_seq in self._query(sql, params):
            if max_seq is None:
                continue  # created, first records not committed (a crash in between): nothing to list
            if last_seq != max_seq or not meta:  # the listing lags the records: recompute it
                try:
                    replay, _ = self._replay(sid)
                except JournalError as exc:
                    problems.append(exc)
                    continue
                meta = meta_from_replay(sid, replay)
                title, updated, count, cost = meta["title"], meta["updated"], meta["message_count"], meta["cost_usd"]
            rows.append(SessionSummary(sid, Path(scwd), title, float(updated), int(count), float(cost),
                                       dict(meta.get("metadata") or {})))  # fmt: skip
        rows.sort(key=lambda r: r.updated, reverse=True)
        return SessionScan(tuple(rows), tuple(problems))

    def latest_for_cwd(self, cwd: Path) -> str | None:
        sessions = self.scan(cwd=cwd).sessions
        return sessions[0].id if sessions else None

    def delete(self, session_id: str) -> None:
        """Remove the session; its records stay (hidden) while a fork inherits them.
        Images only it named go too. Refuses while it is open for writing."""
        self._row(session_id)
        if session_id in self._recorder.live or session_id in self.leases.held:
            raise SessionLocked(session_id, "it is open in this process")
        self.leases.check(session_id)
        self._reserved.pop(session_id, None)
        with self._pool.connection() as conn:
            bodies = conn.execute("SELECT body FROM agentcore_records WHERE session_id = %s", (session_id,)).fetchall()
            bodies += conn.execute(
                "DELETE FROM agentcore_checkpoints WHERE session_id = %s RETURNING record", (session_id,)
            ).fetchall()  # the session's files go with it (a fork has checkpoints of its own)
            conn.execute("UPDATE agentcore_sessions SET deleted = true WHERE id = %s", (session_id,))
            while conn.execute(
                "DELETE FROM agentcore_sessions s WHERE s.deleted AND NOT EXISTS "
                "(SELECT 1 FROM agentcore_sessions c WHERE c.parent_id = s.id)"
            ).rowcount:
                pass  # a chain of deleted forks goes link by link
        candidates = blob_ids_in("\n".join(b for (b,) in bodies).encode())
        self.blobs.remove_unreferenced(candidates)

    def sweep_blobs(self, *, min_age_s: float = SWEEP_GRACE_S) -> list[str]:
        return self.blobs.remove_unreferenced(None, min_age_s=min_age_s)

    def session_blobs(self, session_id: str) -> SessionBlobs:
        return SessionBlobs(self.blobs, session_id)  # type: ignore[arg-type]  # the same read/check shape

    def write_blob(self, data: bytes) -> str:
        return self.blobs.write_blob(data)

    def read_blob(self, blob_id: str) -> bytes:
        return self.blobs.read_blob(blob_id)

    def check_blob(self, blob_id: str, size: int) -> None:
        self.blobs.check_blob(blob_id, size)

    def checkpoint_copy(self, session_id: str) -> PgCheckpoints:
        """The session's checkpoints in the database: written by its checkpointer
        (``save``), read to rebuild its workspace on another machine."""
        return PgCheckpoints(self._pool, self.blobs, session_id)

    def open_read_only(self, session_id: str) -> StoredSession:
        self._row(session_id)
        replay, _ = self._replay(session_id, keep_transcript=True, blobs=self.session_blobs(session_id))
        return StoredSession(
            snapshot=snapshot_from_replay(session_id, replay),
            created=float(replay.header.get("created", replay.header["ts"])),
            transcript=replay.transcript or (),
            fork=replay.fork,
            mcp_servers=tuple(replay.header.get("mcp_servers", ())),
            journal=_label(session_id),
            interrupted_turn=replay.open_turn,
            interrupted_tools=replay.interrupted_tools,
        )

    # -------------------------------------------------------------- leases

    def advertise(self, url: str) -> None:
        """Name ``url`` (a server's ACP endpoint) in this store's leases, from now on
        and in those it holds, so other servers can send clients there."""
        self.leases.advertise(url)

    def owner_url(self, session_id: str) -> str | None:
        """The URL of the other server holding a live lease on the session, if it named one."""
        return self.leases.owner_url(session_id)

    def lease_owner(self, session_id: str) -> str | None:
        """Who holds a live lease on the session (None: nobody, or it expired)."""
        return self.leases.owner_of(session_id)

    # -------------------------------------------------------------- forks

    def fork_session(
        self, source_id: str, *, at: int | None = None, reason: str | None = None, replaced: str | None = None,
        expected_revision: str | None = None,
    ) -> str:
        """A new session starting from ``source_id``'s history (up to message ``at``,
        moved back to a complete tool_use/result boundary), copying none of its records."""
        self._row(source_id)
        self.writer.barrier()  # the source's queued records first: the cut names a committed seq
        replay, last = self._replay(source_id)
        _check_revision(expected_revision, replay.revisions[-1].id)
        cut = len(replay.live) if at is None else safe_cut(replay.live, at)
        source = snapshot_from_replay(source_id, replay)
        servers = tuple(replay.header.get("mcp_servers", ()))
        new, _ = self._write_fork(source, (source_id, last, cut), replay.live[:cut], servers, reason, replaced)
        return new.snapshot.id

    def fork_live(
        self, session: ObservedSession, *, at: int | None = None, reason: str | None = None, replaced: str | None = None,
        expected_revision: str | None = None,
    ) -> str:
        """Fork an open session (history shared copy-on-write when opened here); a
        running turn is left out. Inherits the parent's records when they hold
        exactly that history, else (nothing recorded yet) copies the messages."""
        _check_revision(expected_revision, session.revision.id)
        live = self._recorder.live.get(session.id)
        history = session.history
        limit = live.turn_mark if live is not None and live.turn is not None else len(history)
        cut = limit if at is None else safe_cut(history.snapshot()[:limit], at)
        forked: History = history.fork() if cut >= len(history) else history.fork_at(cut)
        messages = forked.snapshot()
        parent = None
        if live is not None and not live.saving_stopped:
            live.writer.sync()
            last = live.writer.next_seq - 1
            replay, _ = self._replay(session.id, upto=last)
            if [m.id for m in replay.live[:cut]] == [m.id for m in messages]:
                parent = (session.id, last, cut)
        source = SessionSnapshot(
            id=session.id, cwd=session.cwd, messages=(), mode=session.mode, provider=session.provider_name,
            model=session.model, title=session.title, plan=session.plan, profile=session.policy.profile,
            metadata=dict(session.metadata), context_sections=dict(session.durable_context_sections),
            hidden_tools=session.hidden_tools, revisions=(session.revision,),
        )
        new = self._write_fork(source, parent, messages, server_names(session.info.mcp_servers), reason, replaced)
        reservation, last_seq = new
        self._reserved[reservation.snapshot.id] = (
            attrs.evolve(reservation, snapshot=attrs.evolve(reservation.snapshot, history=forked)), last_seq
        )
        return reservation.snapshot.id

    def _write_fork(
        self, source: SessionSnapshot, parent: tuple[str, int, int] | None, messages: Sequence[Message],
        servers: Sequence[str], reason: str | None, replaced: str | None,
    ) -> Any:
        start = fork_start(source, messages, servers, now=self._clock(), reason=reason, replaced=replaced,
                           media=self.blobs, copy_messages=parent is None)  # a child shares its parent's records
        new_session, header, recs = start.session_id, start.header, start.records
        fields = {} if parent is None else dict(zip(("parent_id", "parent_seq", "parent_at"), parent, strict=True))
        self.writer.create(create_op(new_session, header, **fields))
        self.writer.append(new_session, 0, tuple(encode_json(r) for r in recs), fenced=False)  # new: nobody holds it
        self.writer.barrier(new_session)
        return self._reserve(new_session)  # replayed as any load would (cheap: the parent's history is shared)

    # --------------------------------------------------- SessionObserver

    def session_opened(self, session: ObservedSession) -> None:
        self.leases.acquire(session.id)
        try:
            reserved = self._reserved.pop(session.id, None)
            last = self._last_seq(session.id)
            if last < 0:
                self._recorder.begin(session, Path(session.id))  # rows appear with the first record worth keeping
                return
            if reserved is None or reserved[1] != last:
                reserved = self._reserve(session.id)
            self._recorder.next_seq[session.id] = reserved[1] + 1
            self._recorder.resume(session, Path(session.id), reserved[0], LEASE_HELD_BY_STORE)
        except BaseException:
            self.leases.release(session.id)
            raise

    def on_event(self, session: ObservedSession, event: AgentEvent) -> None:
        self._recorder.on_event(session, event)

    def on_state_change(self, session: ObservedSession, change: StateChange) -> None:
        self._recorder.on_state_change(session, change)

    def session_closed(self, session: ObservedSession) -> None:
        try:
            self._recorder.close(session)
        finally:
            self.leases.release(session.id)


def _check_revision(expected: str | None, current: str) -> None:
    if expected is not None and expected != current:
        raise RevisionConflict(expected, current)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
