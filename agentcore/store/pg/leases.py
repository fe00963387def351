"""Who may write a session: lease rows in ``agentcore_leases``.

Invariant: a session is open for writing under at most one owner whose lease
has not expired. :meth:`Leases.acquire` takes a free or expired lease (or
renews its own) in one statement, so two servers racing for a session cannot
both win; the store's writer thread renews the owner's leases and fences its
writes against them (agentcore.store.pg.writer); :meth:`Leases.release` gives
one back when its session closes. A lease names its owner
(``host:pid:random``) and, once ``agent serve`` listens, the URL it serves on.
Each renewal round is counted in the process metrics (:func:`count_renewal`:
leases renewed, rounds that failed), which ``/metrics`` exposes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from agentcore.metrics import process_metrics
from agentcore.store.format import JournalError, SessionLocked

log = logging.getLogger(__name__)

Query = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]
RENEWED = "lease_renewals_total"
RENEWAL_FAILED = "lease_renewal_failures_total"


def count_renewal(renewed: int | None) -> None:
    """Count one renewal round of a store's writer: ``renewed`` lease rows, or None when it failed."""
    metrics = process_metrics()
    metrics.declare(RENEWED, "counter", "Session leases renewed (PostgreSQL store).")
    metrics.declare(RENEWAL_FAILED, "counter", "Lease renewal rounds that failed (every lease of the server left to lapse).")
    if renewed is None:
        metrics.inc(RENEWAL_FAILED)
    elif renewed > 0:
        metrics.inc(RENEWED, renewed)


def leased_text(owner: str, seconds_left: Any, url: str | None) -> str:
    """The detail of a SessionLocked for a session another server holds."""
    where = f" at {url}" if url else ""
    return f"leased by {owner}{where} for {float(seconds_left):.0f} s more"


class SessionLeased(SessionLocked):
    """A :class:`SessionLocked` for a session another server holds a live lease on:
    ``holder`` is that lease's owner id, ``owner`` the URL it serves the session on
    (None when it named none), so a client can be sent there (``data.owner`` of
    the JSON-RPC error, docs/scale.md)."""

    def __init__(self, session_id: str, holder: str, seconds_left: Any, url: str | None) -> None:
        super().__init__(session_id, leased_text(holder, seconds_left, url))
        self.holder = holder
        self.owner = url


class Leases:
    """One store's leases (see the module docstring)."""

    def __init__(self, query: Query, *, owner: str, lease_s: float) -> None:
        self._query = query
        self.owner = owner
        self.lease_s = lease_s
        self.held: set[str] = set()
        self.url: str | None = None  # where this owner serves sessions (agent serve)

    def advertise(self, url: str) -> None:
        self.url = url
        self._query("UPDATE agentcore_leases SET url = %s WHERE owner = %s", (url, self.owner))

    def check(self, session_id: str) -> None:
        """:class:`SessionLocked` when another owner holds a live lease on the session."""
        rows = self._query(
            "SELECT owner, extract(epoch FROM expires_at - now()), url FROM agentcore_leases WHERE session_id = %s",
            (session_id,),
        )
        if rows and rows[0][0] != self.owner and float(rows[0][1]) > 0:
            raise SessionLeased(session_id, *rows[0])

    def acquire(self, session_id: str) -> None:
        if session_id in self.held:
            raise SessionLocked(session_id, "it is already open in this process")
        rows = self._query(
            "INSERT INTO agentcore_leases AS l (session_id, owner, expires_at, url) "
            "VALUES (%s, %s, now() + make_interval(secs => %s), %s) ON CONFLICT (session_id) DO UPDATE "
            "SET owner = excluded.owner, expires_at = excluded.expires_at, url = excluded.url "
            "WHERE l.expires_at < now() OR l.owner = excluded.owner RETURNING owner",
            (session_id, self.owner, self.lease_s, self.url),
        )
        if not rows:
            self.check(session_id)
            raise SessionLocked(session_id, "leased by another server")
        self.held.add(session_id)

    def release(self, session_id: str) -> None:
        self.held.discard(session_id)
        try:
            self._query("DELETE FROM agentcore_leases WHERE session_id = %s AND owner = %s", (session_id, self.owner))
        except JournalError as exc:  # the database is gone: the lease expires on its own
            log.warning("could not give back the lease of session %s: %s", session_id, exc)

    def release_all(self) -> None:
        for session_id in list(self.held):
            self.release(session_id)

    def owner_url(self, session_id: str) -> str | None:
        rows = self._query(
            "SELECT url FROM agentcore_leases WHERE session_id = %s AND owner <> %s AND expires_at > now()",
            (session_id, self.owner),
        )
        return rows[0][0] if rows else None

    def owner_of(self, session_id: str) -> str | None:
        rows = self._query(
            "SELECT owner FROM agentcore_leases WHERE session_id = %s AND expires_at > now()", (session_id,)
        )
        return rows[0][0] if rows else None
