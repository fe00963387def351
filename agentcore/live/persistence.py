"""Where a live session's snapshot is kept: the :class:`SessionPersistence`
protocol and its in-memory implementation (the file one is
:class:`~agentcore.live.snapshot.FileSnapshotStore`).

Invariant: every implementation stores the snapshot's JSON form
(:func:`~agentcore.live.snapshot.snapshot_to_json`), so a snapshot that
round-trips through memory round-trips through a file too, and a loaded
snapshot is never the caller's object (changing one cannot change the other).
"""

from __future__ import annotations

import json
from typing import Protocol, runtime_checkable

from agentcore.live.snapshot import FileSnapshotStore, LiveSnapshot, snapshot_from_json, snapshot_to_json

__all__ = ["FileSnapshotStore", "MemorySnapshotStore", "SessionPersistence"]


@runtime_checkable
class SessionPersistence(Protocol):
    def save(self, snapshot: LiveSnapshot) -> None: ...

    def load(self, session_id: str | None = None) -> LiveSnapshot | None:
        """The snapshot of ``session_id`` (None: whatever this store holds for its session)."""
        ...


class MemorySnapshotStore:
    """Snapshots in memory, one per session (tests, embedders with their own storage)."""

    def __init__(self) -> None:
        self._saved: dict[str, str] = {}
        self._last: str | None = None

    def save(self, snapshot: LiveSnapshot) -> None:
        self._saved[snapshot.session_id] = json.dumps(snapshot_to_json(snapshot), default=str)
        self._last = snapshot.session_id

    def load(self, session_id: str | None = None) -> LiveSnapshot | None:
        key = session_id if session_id is not None else self._last
        text = self._saved.get(key) if key is not None else None
        return None if text is None else snapshot_from_json(json.loads(text), f"memory snapshot {key}")

    @property
    def sessions(self) -> tuple[str, ...]:
        return tuple(self._saved)
