"""The recording half of the PostgreSQL store: the journal store's recorder with
its records going to :class:`~agentcore.store.pg.writer.RecordWriter` instead
of a file.

Invariant: every decision about *what* to record (turn boundaries, rewrites as
compaction records, pending turns, the close of a running turn) is the journal
recorder's own code (:class:`~agentcore.store.recorder.SessionRecorder`); this
module only replaces where records go (:class:`PgJournal`, a per-session
sequence), the writer lock (a lease row) and the listing cache (the
``agentcore_sessions`` row instead of meta.json).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from agentcore.messages import MediaStore, Message
from agentcore.session.persistence import ObservedSession
from agentcore.store.format import RecordType
from agentcore.store.pg.writer import PgWriteError, RecordWriter, create_op, encode_json
from agentcore.store.recorder import LiveJournal, Reservation, SessionRecorder, Unsaved


class PgJournal:
    """A session's records as the recorder writes them (the JournalWriter shape):
    numbered and queued; ``sync`` waits for the commit."""

    def __init__(self, writer: RecordWriter, session_id: str, next_seq: int) -> None:
        self._writer = writer
        self.session_id = session_id
        self.next_seq = next_seq

    def write(self, rec: Mapping[str, Any]) -> None:
        self.write_many([rec])

    def write_many(self, recs: Sequence[Mapping[str, Any]]) -> None:
        if not recs:
            return
        if (reason := self._writer.failure(self.session_id)) is not None:
            raise PgWriteError(self.session_id, reason)
        if self.next_seq == 0 and recs[0].get("type") == RecordType.SESSION:
            self._writer.create(create_op(self.session_id, recs[0]))
        bodies = tuple(encode_json(r) for r in recs)
        self._writer.append(self.session_id, self.next_seq, bodies)
        self.next_seq += len(bodies)

    def sync(self) -> None:
        self._writer.barrier(self.session_id)

    def close(self) -> None:
        pass  # the writer thread belongs to the store


class _StoreHeldLease:
    """The writer lock of a recorded session: the store's lease, which the store
    takes in ``session_opened`` and gives back after ``session_closed``."""

    def release(self) -> None:
        pass


LEASE_HELD_BY_STORE: Any = _StoreHeldLease()


class PgRecorder(SessionRecorder):
    """:class:`SessionRecorder` writing through a :class:`RecordWriter`."""

    def __init__(
        self, writer: RecordWriter, clock: Callable[[], float], *, media: MediaStore | None,
    ) -> None:
        super().__init__(Path("postgresql"), clock, media=media)
        self.writer = writer
        self.next_seq: dict[str, int] = {}  # set by the store before resume()

    def begin(self, session: ObservedSession, path: Path) -> None:
        self.unsaved[session.id] = Unsaved(path)

    def start(self, session: ObservedSession, path: Path, *, pending: Message | None = None, turn: str | None = None) -> None:
        self.live[session.id] = self._first_records(session, path, LEASE_HELD_BY_STORE, pending, turn)

    def _create_writer(self, path: Path) -> PgJournal:
        return PgJournal(self.writer, path.name, 0)

    def _reopen_writer(self, path: Path, res: Reservation) -> PgJournal:
        return PgJournal(self.writer, path.name, self.next_seq.pop(path.name))

    def _sync_new_session(self) -> None:
        pass  # the commit in sync() made it durable

    def _save_meta(self, live: LiveJournal, *, sync: bool) -> None:
        live.meta["updated"] = self._clock()
        live.meta["message_count"] = len(live.ids)
        journal: PgJournal = live.writer
        self.writer.meta(journal.session_id, {k: v for k, v in live.meta.items() if k != "journal_bytes"},
                         journal.next_seq - 1)  # fmt: skip
        if sync:
            journal.sync()
