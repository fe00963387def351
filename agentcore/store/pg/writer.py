"""The PostgreSQL store's writer: one thread that commits queued records in order.

The observer interface is synchronous and runs on the session's trio task, so
it never talks to the database on the hot path: a record becomes a
:class:`_Append` on a queue (a JSON encode and a ``put``, microseconds), and
this thread takes everything queued, writes it in one transaction and commits.

Invariants:

* order: one thread, one FIFO queue, one transaction per batch in queue order,
  so what the database holds for a session is always a prefix of what its
  recorder wrote (records carry their per-session ``seq``, assigned when
  queued) — the same crash contract as a journal file, whose tail may be torn
  but never has a hole;
* durability: :meth:`RecordWriter.barrier` returns once everything queued
  before it is committed (``synchronous_commit`` as the server has it); the
  recorder calls it at turn end, as the journal fsyncs at turn end;
* idempotent retries: every insert is ``ON CONFLICT DO NOTHING``, so a batch
  retried after a connection dropped between commit and acknowledgement
  writes nothing twice;
* failure: a batch that still fails after :data:`WRITE_ATTEMPTS` marks its
  sessions failed; their later records are dropped (never written after a
  gap) and their next write or barrier raises :class:`PgWriteError`, which
  the recorder reports as "no longer saving", like a full disk;
* leases: the thread renews this owner's session leases every third of the
  lease time, also while idle; each batch checks (``FOR SHARE``, in its
  transaction) that this owner still holds the lease of every session it
  appends to — a session another server took over after a stall is failed
  here, never written by two servers (fencing).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from agentcore.store.format import JournalWriteError
from agentcore.store.pg.leases import count_renewal

log = logging.getLogger(__name__)

WRITE_ATTEMPTS = 3
RETRY_BACKOFF_S = (0.05, 0.5)  # waits between attempts
BARRIER_TIMEOUT_S = 30.0  # a turn end waits at most this long for its commit
MAX_BATCH_OPS = 500


class PgWriteError(JournalWriteError):
    """Writing a session's records to PostgreSQL failed (the database is gone or refused)."""

    def __init__(self, session_id: str, reason: str) -> None:
        Exception.__init__(self, f"cannot write session {session_id} to the database: {reason}")
        self.path = Path(session_id)
        self.errno = None
        self.reason = reason


@attrs.frozen
class _Create:
    session_id: str
    cwd: str
    created: float
    parent_id: str | None = None
    parent_seq: int | None = None
    parent_at: int | None = None


@attrs.frozen
class _Append:
    session_id: str
    first_seq: int
    bodies: tuple[str, ...]
    fenced: bool = True  # written only while this owner holds the session's lease (a fork's first records: not yet leased)


@attrs.frozen
class _Meta:
    session_id: str
    meta: Mapping[str, Any]
    last_seq: int


@attrs.define(eq=False)
class _Barrier:
    done: threading.Event = attrs.field(factory=threading.Event)
    errors: dict[str, str] = attrs.field(factory=dict)


_STOP = object()


class RecordWriter:
    """The writer thread of one store (see the module docstring)."""

    def __init__(self, pool: Any, *, owner: str, lease_s: float, barrier_timeout_s: float = BARRIER_TIMEOUT_S) -> None:
        self._pool = pool
        self.barrier_timeout_s = barrier_timeout_s
        self.owner = owner
        self.lease_s = lease_s
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._failed: dict[str, str] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="agentcore-pg-writer", daemon=True)
        self._thread.start()

    # ------------------------------------------------ producer side (any thread)

    def failure(self, session_id: str) -> str | None:
        with self._lock:
            return self._failed.get(session_id)

    def create(self, op: _Create) -> None:
        self._queue.put(op)

    def append(self, session_id: str, first_seq: int, bodies: tuple[str, ...], *, fenced: bool = True) -> None:
        self._queue.put(_Append(session_id, first_seq, bodies, fenced))

    def meta(self, session_id: str, meta: Mapping[str, Any], last_seq: int) -> None:
        self._queue.put(_Meta(session_id, dict(meta), last_seq))

    def barrier(self, session_id: str | None = None, *, timeout_s: float | None = None) -> None:
        """Wait until everything queued so far is committed; :class:`PgWriteError`
        if ``session_id``'s records could not be (or the wait timed out)."""
        if timeout_s is None:
            timeout_s = self.barrier_timeout_s
        if session_id is not None and (reason := self.failure(session_id)) is not None:
            raise PgWriteError(session_id, reason)
        barrier = _Barrier()
        self._queue.put(barrier)
        if not barrier.done.wait(timeout_s):
            reason = f"no commit within {timeout_s:g} s"
            if session_id is not None:
                with self._lock:
                    self._failed.setdefault(session_id, reason)  # what is still queued for it is dropped
            raise PgWriteError(session_id or "?", reason)
        if session_id is not None and (reason := self.failure(session_id)) is not None:
            raise PgWriteError(session_id, reason)

    def close(self) -> None:
        """Commit what is queued, then stop the thread."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(self.barrier_timeout_s)

    # ------------------------------------------------------- the thread

    def _run(self) -> None:
        renew_every = max(self.lease_s / 3, 0.05)
        next_renewal = time.monotonic() + renew_every
        while True:
            try:
                first = self._queue.get(timeout=max(next_renewal - time.monotonic(), 0.0))
            except queue.Empty:
                first = None
            batch = [] if first is None else [first]
            while len(batch) < MAX_BATCH_OPS:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(op is _STOP for op in batch)
            ops = [op for op in batch if op is not _STOP and not isinstance(op, _Barrier)]
            if ops:
                self._write(ops)
            for op in batch:
                if isinstance(op, _Barrier):
                    op.done.set()
            if time.monotonic() >= next_renewal:
                self._renew_leases()
                next_renewal = time.monotonic() + renew_every
            if stop:
                return

    def _write(self, ops: list[Any]) -> None:
        with self._lock:
            ops = [op for op in ops if op.session_id not in self._failed]
        if not ops:
            return
        error: Exception | None = None
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self._pool.connection() as conn, conn.transaction():
                    lost = _fence(conn, ops, self.owner)
                    _apply(conn, [op for op in ops if op.session_id not in lost])
                if lost:
                    with self._lock:
                        for session_id, holder in lost.items():
                            self._failed.setdefault(session_id, f"another server ({holder}) took over the session")
                return
            except Exception as exc:  # psycopg.Error, a broken pool: retried, then reported per session
                error = exc
                log.warning("session store write failed (attempt %d): %s", attempt + 1, exc)
                if attempt < len(RETRY_BACKOFF_S):
                    time.sleep(RETRY_BACKOFF_S[attempt])
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        with self._lock:
            for op in ops:
                self._failed.setdefault(op.session_id, reason)

    def _renew_leases(self) -> None:
        try:
            with self._pool.connection() as conn:
                renewed = conn.execute(
                    "UPDATE agentcore_leases SET expires_at = now() + make_interval(secs => %s) WHERE owner = %s",
                    (self.lease_s, self.owner),
                ).rowcount
        except Exception as exc:  # the next renewal tries again; a lease that lapses can be taken over
            log.warning("renewing session leases failed: %s", exc)
            count_renewal(None)
            return
        count_renewal(renewed)  # /metrics (agentcore/store/pg/leases.py)


def _fence(conn: Any, ops: list[Any], owner: str) -> dict[str, str]:
    """The sessions of fenced appends whose lease this owner no longer holds (a
    stall outlived the lease and another server took it), with who holds it: none
    of their records are written, so two servers never write one session."""
    fenced = sorted({op.session_id for op in ops if isinstance(op, _Append) and op.fenced})
    if not fenced:
        return {}
    rows = conn.execute(
        "SELECT session_id, owner FROM agentcore_leases WHERE session_id = ANY(%s) FOR SHARE", (fenced,)
    ).fetchall()
    holders = dict(rows)
    return {sid: holders.get(sid) or "nobody" for sid in fenced if holders.get(sid) != owner}


def _apply(conn: Any, ops: list[Any]) -> None:
    cur = conn.cursor()
    rows: list[tuple[str, int, str]] = []

    def flush_rows() -> None:
        if rows:
            cur.executemany(
                "INSERT INTO agentcore_records (session_id, seq, body) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                rows,
            )
            rows.clear()

    for op in ops:
        if isinstance(op, _Append):
            rows.extend((op.session_id, op.first_seq + i, body) for i, body in enumerate(op.bodies))
            continue
        flush_rows()
        if isinstance(op, _Create):
            cur.execute(
                "INSERT INTO agentcore_sessions (id, cwd, created, updated, parent_id, parent_seq, parent_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (op.session_id, op.cwd, op.created, op.created, op.parent_id, op.parent_seq, op.parent_at),
            )
        elif isinstance(op, _Meta):
            meta = op.meta
            title, meta_json = listing_fields(meta)
            cur.execute(
                "UPDATE agentcore_sessions SET updated = %s, title = %s, message_count = %s, cost_usd = %s, "
                "meta = %s::jsonb, last_seq = greatest(last_seq, %s) WHERE id = %s",
                (float(meta.get("updated", 0.0)), title, int(meta.get("message_count", 0)),
                 float(meta.get("cost_usd", 0.0)), meta_json, op.last_seq,
                 op.session_id),
            )  # fmt: skip
    flush_rows()


def encode_json(value: Any) -> str:
    """A record or meta dict as stored: the journal line's JSON, without the newline."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def listing_fields(meta: Mapping[str, Any]) -> tuple[str | None, str]:
    """The title column and the ``meta`` jsonb text of a listing. Neither a text
    column nor jsonb holds NUL: it becomes U+FFFD there (the records keep it)."""
    title = meta.get("title")
    if isinstance(title, str):
        title = title.replace("\x00", "\ufffd")
    return title, encode_json(meta).replace("\\u0000", "\\ufffd")


def create_op(session_id: str, header: Mapping[str, Any], **parent: Any) -> _Create:
    return _Create(session_id, str(header["cwd"]), float(header.get("created", header["ts"])), **parent)
