"""Sessions in PostgreSQL (opt-in: ``[store] url = "postgresql://..."``, the ``pg`` extra).

- :mod:`~agentcore.store.pg.store` — ``PgSessionStore``: the journal store's API over a database;
- :mod:`~agentcore.store.pg.writer` — the thread committing records in order;
- :mod:`~agentcore.store.pg.recorder` — the journal recorder, writing there;
- :mod:`~agentcore.store.pg.schema` — tables and versioned migrations;
- :mod:`~agentcore.store.pg.leases` — which server may write a session;
- :mod:`~agentcore.store.pg.blobs` — images (and checkpointed file contents) in a table;
- :mod:`~agentcore.store.pg.checkpoints` — checkpoint records copied in, for other machines;
- :mod:`~agentcore.store.pg.migrate` — copying journal sessions in.

psycopg is imported only when a store is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentcore._lazy import lazy_exports

_EXPORTS = {
    "PgSessionStore": "agentcore.store.pg.store",
    "StoreUnavailable": "agentcore.store.pg.store",
    "LEASE_S_DEFAULT": "agentcore.store.pg.store",
    "PgStoreError": "agentcore.store.pg.schema",
    "SchemaTooNew": "agentcore.store.pg.schema",
    "SCHEMA_VERSION": "agentcore.store.pg.schema",
    "PgWriteError": "agentcore.store.pg.writer",
    "migrate_sessions": "agentcore.store.pg.migrate",
    "MigrationReport": "agentcore.store.pg.migrate",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from agentcore.store.pg.migrate import *  # noqa: F403
    from agentcore.store.pg.schema import *  # noqa: F403
    from agentcore.store.pg.store import *  # noqa: F403
    from agentcore.store.pg.writer import *  # noqa: F403
