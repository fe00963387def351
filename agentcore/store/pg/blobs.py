"""Images kept out of the records and checkpointed file contents, in the
``agentcore_blobs`` table.

Invariant: the row ``id`` holds exactly the bytes whose SHA-256 is the id
(``sha256:`` + 64 hex, checked before any query), verified on every read; a
blob is written (committed) before the record naming it is queued, so a
committed record never names a blob the database lacks. A blob is kept while
a session record or a checkpoint record (:mod:`agentcore.store.pg.checkpoints`)
names it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from agentcore.messages import BLOB_ID
from agentcore.store.blobs import BlobCorrupt, BlobMissing, InvalidBlobId, blob_id_of


class PgBlobs:
    """A :class:`~agentcore.messages.MediaStore` over a connection pool."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @staticmethod
    def _check_id(blob_id: str) -> None:
        if not isinstance(blob_id, str) or not BLOB_ID.fullmatch(blob_id):
            raise InvalidBlobId(f"{str(blob_id)[:80]!r} is not a blob id")

    def write_blob(self, data: bytes) -> str:
        blob_id = blob_id_of(data)
        try:
            with self._pool.connection() as conn:
                conn.execute(
                    "INSERT INTO agentcore_blobs (id, size, data) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                    (blob_id, len(data), data),
                )
        except Exception as exc:  # MediaStore.write_blob's contract: OSError
            raise OSError(f"cannot store an image in the session database: {exc}") from exc
        return blob_id

    def read_blob(self, blob_id: str) -> bytes:
        self._check_id(blob_id)
        with self._pool.connection() as conn:
            row = conn.execute("SELECT data FROM agentcore_blobs WHERE id = %s", (blob_id,)).fetchone()
        if row is None:
            raise BlobMissing(f"blob {blob_id} is not in the session database")
        data = bytes(row[0])
        if "sha256:" + hashlib.sha256(data).hexdigest() != blob_id:
            raise BlobCorrupt(f"blob {blob_id} does not match its id")
        return data

    def check_blob(self, blob_id: str, size: int) -> None:
        self._check_id(blob_id)
        with self._pool.connection() as conn:
            row = conn.execute("SELECT size FROM agentcore_blobs WHERE id = %s", (blob_id,)).fetchone()
        if row is None:
            raise BlobMissing(f"blob {blob_id} is not in the session database")
        if int(row[0]) != size:
            raise BlobCorrupt(f"blob {blob_id} holds {row[0]} bytes, not {size}")

    def ids(self) -> list[str]:
        with self._pool.connection() as conn:
            return [r[0] for r in conn.execute("SELECT id FROM agentcore_blobs")]

    def remove_unreferenced(self, candidates: set[str] | None = None, *, min_age_s: float = 0.0) -> list[str]:
        """Delete blobs no record names (of ``candidates``, or all older than ``min_age_s``)."""
        sql = (
            "DELETE FROM agentcore_blobs b WHERE {where} AND NOT EXISTS "
            "(SELECT 1 FROM agentcore_records r WHERE strpos(r.body, b.id) > 0) AND NOT EXISTS "
            "(SELECT 1 FROM agentcore_checkpoints c WHERE strpos(c.record, b.id) > 0) RETURNING b.id"
        )
        with self._pool.connection() as conn:
            if candidates is not None:
                if not candidates:
                    return []
                rows = conn.execute(sql.format(where="b.id = ANY(%s)"), (sorted(candidates),)).fetchall()
            else:
                rows = conn.execute(sql.format(where="b.created < now() - make_interval(secs => %s)"),
                                    (min_age_s,)).fetchall()  # fmt: skip
        return [r[0] for r in rows]
