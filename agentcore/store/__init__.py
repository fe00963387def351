"""The store wing: sessions that survive a crash, on disk.

- :mod:`~agentcore.store.journal` — ``JournalStore``: load, list, fork, delete;
- :mod:`~agentcore.store.recorder` — the observer writing a session's events;
- :mod:`~agentcore.store.format` — the journal's record format (the truth);
- :mod:`~agentcore.store.files` — locks, metadata and atomic file writes.
- :mod:`~agentcore.store.blobs` — images kept out of the journals (content-addressed, shared).
- :mod:`~agentcore.store.pg` — ``PgSessionStore``: the same records in PostgreSQL (``[store] url``).

Frontends and embedders import from here; the modules are internal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentcore._lazy import lazy_exports

_JOURNAL = "agentcore.store.journal"
_EXPORTS = {
    name: _JOURNAL
    for name in (
        "ForkOrigin", "JournalCorrupt", "JournalError", "JournalStore", "JournalVersionError", "MessageFate",
        "RunningTool", "SessionLocked", "SessionScan", "StoredSession", "TranscriptEntry",
    )
}  # fmt: skip
# Sessions in PostgreSQL ([store] url): psycopg is imported only when one is built.
_EXPORTS.update({"PgSessionStore": "agentcore.store.pg.store", "migrate_sessions": "agentcore.store.pg.migrate"})
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover - static names for type checkers and IDEs
    from agentcore.store.journal import *  # noqa: F403
