"""``agent sessions migrate --to postgresql://…``: copy journal sessions into the database.

Invariant: a session is copied whole in one transaction (its row, every
complete record of its journal in order, its listing) after the images its
records name, or not at all; a session already in the database (same id) is
skipped, so running the migration again copies only what is new. A session
open for writing (its lock held) is skipped and reported; the journal files
are never changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from agentcore.store.blobs import BlobError, blob_ids_in
from agentcore.store.files import SessionLock
from agentcore.store.format import JOURNAL_FILE, LOCK_FILE, JournalError, read_journal
from agentcore.store.pg.writer import listing_fields
from agentcore.store.recorder import meta_from_replay


@attrs.frozen
class MigrationReport:
    copied: tuple[str, ...]
    skipped: tuple[str, ...]  # already in the database
    failed: tuple[tuple[str, str], ...]  # (session id, why)


def migrate_sessions(source: Any, target: Any) -> MigrationReport:
    """Copy every session of ``source`` (a JournalStore) into ``target`` (a PgSessionStore)."""
    copied: list[str] = []
    skipped: list[str] = []
    failed: list[tuple[str, str]] = []
    for path in sorted(source._session_dirs(), key=lambda p: p.name):
        session_id = path.name
        if target._query("SELECT 1 FROM agentcore_sessions WHERE id = %s", (session_id,)):
            skipped.append(session_id)
            continue
        try:
            lock = SessionLock.acquire(path / LOCK_FILE, session_id)
        except JournalError as exc:
            failed.append((session_id, str(exc)))
            continue
        try:
            _copy(source, target, session_id, path)
            copied.append(session_id)
        except (JournalError, BlobError, OSError) as exc:
            failed.append((session_id, str(exc)))
        finally:
            lock.release()
    return MigrationReport(tuple(copied), tuple(skipped), tuple(failed))


def _copy(source: Any, target: Any, session_id: str, path: Path) -> None:
    journal = path / JOURNAL_FILE
    replay = read_journal(journal)  # refuses a corrupt or newer journal before anything is written
    data = journal.read_bytes()[: replay.valid_bytes]
    lines = [line for line in data.decode("utf-8").split("\n") if line and not line.isspace()]
    for blob_id in sorted(blob_ids_in(data)):
        try:
            target.blobs.write_blob(source.blobs.read_blob(blob_id))
        except BlobError:
            pass  # missing or corrupt in the files too: the session loads with a placeholder there and here
    meta = meta_from_replay(session_id, replay)
    meta.pop("journal_bytes", None)
    header = replay.header
    title, meta_json = listing_fields(meta)
    with target._pool.connection() as conn, conn.transaction():
        conn.execute(
            "INSERT INTO agentcore_sessions (id, cwd, created, updated, title, message_count, cost_usd, meta, last_seq) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s)",
            (session_id, str(header["cwd"]), float(header.get("created", header["ts"])), float(meta["updated"]),
             title, int(meta["message_count"]), float(meta["cost_usd"]), meta_json, len(lines) - 1),
        )  # fmt: skip
        conn.cursor().executemany(
            "INSERT INTO agentcore_records (session_id, seq, body) VALUES (%s, %s, %s)",
            [(session_id, seq, line) for seq, line in enumerate(lines)],
        )
