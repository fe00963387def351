"""Lease renewals in the process metrics (``/metrics``): the PostgreSQL store's
writer counts the leases it renews while a session is open, and a renewal
round that fails (here: the lease table is briefly gone) as a failure."""

from __future__ import annotations

import psycopg
import trio
from pg_support import info, make_core, make_provider

from agentcore.metrics import process_metrics
from agentcore.store.pg import PgSessionStore
from agentcore.store.pg.leases import RENEWAL_FAILED, RENEWED

LEASE_S = 0.3  # renewed every 0.1 s
WAIT_S = 10.0


async def _until_counted(name: str, above: float) -> float:
    """The counter's value once it has grown past ``above`` (polled: the writer thread counts)."""
    metrics = process_metrics()
    with trio.fail_after(WAIT_S):
        while metrics.get(name) <= above:
            await trio.sleep(0.02)
    return metrics.get(name)


async def test_renewals_and_failed_renewals_are_counted(pg_url, server, http_client, state_dir, work) -> None:
    metrics = process_metrics()
    store = PgSessionStore(pg_url, lease_s=LEASE_S)
    try:
        core = make_core(store, make_provider(server, http_client), state_dir)
        async with core.open_session(info(work)):
            renewed = await _until_counted(RENEWED, metrics.get(RENEWED))
            failed_before = metrics.get(RENEWAL_FAILED)
            with psycopg.connect(pg_url, autocommit=True) as conn:
                conn.execute("ALTER TABLE agentcore_leases RENAME TO agentcore_leases_away")
                try:
                    await _until_counted(RENEWAL_FAILED, failed_before)
                finally:
                    conn.execute("ALTER TABLE agentcore_leases_away RENAME TO agentcore_leases")
            await _until_counted(RENEWED, renewed)  # renewing again once the table is back
    finally:
        store.close()
    text = metrics.render()
    assert "# TYPE agentcore_lease_renewals_total counter" in text
    assert "# TYPE agentcore_lease_renewal_failures_total counter" in text
