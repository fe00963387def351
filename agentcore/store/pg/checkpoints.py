"""A session's checkpoints copied into the database, so another machine can
rebuild its workspace (a durable job that moves to another worker).

Invariants:

* A row of ``agentcore_checkpoints`` is one checkpoint call record (the JSON
  of :func:`~agentcore.checkpoints.records.record_to_json`) plus ``blobs``, a
  map from each git blob id of an *after* state to the ``agentcore_blobs`` id
  holding those bytes. The blobs and the record are written in one
  transaction, blobs first: a committed record never names bytes the database
  lacks. Rows of a session count ``seq`` from 0 in the order the calls ran
  (one writer per session: it holds the session's lease).
* What arrives here was already filtered by the checkpointer (paths a deny rule
  covers never reach this module); only *after* states carry bytes.
* A read checks each blob twice: its SHA-256 against its id
  (:class:`~agentcore.store.pg.blobs.PgBlobs`) and its git id against the
  record's, so a row can never restore other bytes than the session wrote.

Everything here is synchronous (pool connections); callers run it in a worker thread.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from agentcore.checkpoints.gitstore import CheckpointError, blob_sha
from agentcore.checkpoints.records import CallRecord, record_from_json, record_to_json
from agentcore.store.blobs import blob_id_of


class PgCheckpoints:
    """One session's checkpoint copy: ``save`` (the checkpointer's mirror) and the
    reads a workspace rebuild needs (``records``, ``read_blobs``)."""

    def __init__(self, pool: Any, blobs: Any, session_id: str) -> None:
        self._pool = pool
        self._blobs = blobs  # PgBlobs: reads verify the SHA-256
        self.session_id = session_id
        self._ids: dict[str, str] = {}  # git blob id -> blob table id, from the records read

    def save(self, record: CallRecord, contents: Mapping[str, bytes]) -> None:
        """Store ``record`` and ``contents`` (git blob id -> bytes of its after states)."""
        body = record_to_json(record)
        ids = {sha: blob_id_of(data) for sha, data in contents.items()}
        body["blobs"] = ids
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        with self._pool.connection() as conn, conn.transaction():
            for sha, data in contents.items():
                conn.execute(
                    "INSERT INTO agentcore_blobs (id, size, data) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                    (ids[sha], len(data), data),
                )
            conn.execute(
                "INSERT INTO agentcore_checkpoints (session_id, seq, record) SELECT %s, coalesce(max(seq) + 1, 0), %s "
                "FROM agentcore_checkpoints WHERE session_id = %s",
                (self.session_id, text, self.session_id),
            )

    def _rows(self) -> list[dict[str, Any]]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT record FROM agentcore_checkpoints WHERE session_id = %s ORDER BY seq", (self.session_id,)
            ).fetchall()
        out = []
        for (text,) in rows:
            try:
                out.append(json.loads(text))
            except ValueError:
                continue  # a damaged row loses that call's checkpoint, not the others (as in the log file)
        return out

    def records(self) -> list[CallRecord]:
        out = []
        for body in self._rows():
            try:
                out.append(record_from_json(body))
            except (ValueError, KeyError, TypeError, IndexError):
                continue
            self._ids.update({str(k): str(v) for k, v in dict(body.get("blobs") or {}).items()})
        return out

    def read_blobs(self, shas: Iterable[str]) -> dict[str, bytes]:
        """The bytes of each git blob id (after :meth:`records`), verified."""
        out = {}
        for sha in dict.fromkeys(shas):
            blob_id = self._ids.get(sha)
            if blob_id is None:
                raise CheckpointError(f"checkpoint blob {sha} is not in the session database")
            data = self._blobs.read_blob(blob_id)
            if blob_sha(data) != sha:
                raise CheckpointError(f"checkpoint blob {sha} in the session database does not match its id")
            out[sha] = data
        return out
