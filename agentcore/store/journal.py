"""Sessions that survive: a crash-safe journal per session, resume, fork, list.

``JournalStore`` is both a :class:`~agentcore.core.SessionLoader` and a
:class:`~agentcore.core.SessionObserver`, so one object records and loads::

    store = JournalStore(paths.sessions_dir)
    core = AgentCoreBuilder().with_session_store(store).build()
    sid = store.latest_for_cwd(cwd)                 # --continue
    async with core.open_session(SessionCreateInfo(cwd, session_id=sid)) as s: ...
    store.list_sessions(cwd=cwd)                    # newest first
    store.open_read_only(sid)                       # snapshot + full transcript, no lock
    new = store.fork_session(sid, at=None)          # a copy that records its origin
    new = store.fork_live(session)                  # same for an open session (shares history)
    store.delete(sid)

Each session lives in ``<sessions_dir>/<id>/``: ``journal.jsonl`` (the truth,
append-only, see :mod:`agentcore.store.format`), ``meta.json`` (a listing
cache, never secrets) and ``lock`` (held while the session is open for
writing). ``load`` is the resume path: it checks the writer lock, so a
second writer fails with :class:`SessionLocked` *before* the core starts the
session; ``session_opened`` then takes the lock for the session's lifetime.

The observer runs synchronously on the emitting task: each record is one
buffered write plus a flush; ``fsync`` happens at turn end only.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from agentcore.core import SessionNotFound, SessionSnapshot, SessionSummary
from agentcore.events import AgentEvent
from agentcore.history import History, safe_cut
from agentcore.messages import Message, Usage
from agentcore.session.persistence import ObservedSession
from agentcore.session.state import RevisionConflict, StateChange
from agentcore.store.blobs import BLOBS_DIR, SWEEP_GRACE_S, BlobStore, SessionBlobs, blob_ids_in
from agentcore.store.fork_records import fork_start
from agentcore.store.files import JournalWriter, SessionLock, read_meta, sync_dir, write_meta
from agentcore.store.format import (
    JOURNAL_FILE,
    LOCK_FILE,
    META_FILE,
    META_VERSION,
    ForkOrigin,
    JournalCorrupt,
    JournalError,
    JournalVersionError,
    JournalWriteError,
    MessageFate,
    RunningTool,
    SessionLocked,
    TranscriptEntry,
    read_journal,
)
from agentcore.store.recorder import (
    Reservation,
    SessionRecorder,
    meta_for,
    meta_from_replay,
    reserve,
    server_names,
    snapshot_from_replay,
    unchanged,
)

__all__ = [
    "JournalCorrupt",
    "JournalError",
    "JournalStore",
    "JournalVersionError",
    "MessageFate",
    "SessionLocked",
    "SessionScan",
    "StoredSession",
    "TranscriptEntry",
    "ForkOrigin",
]

# Ids become directory names: letters, digits, "_", "-" and "." (not leading), so
# an id from a command line or a protocol peer can never point outside the store.
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


@attrs.frozen
class StoredSession:
    """A session read from disk without taking its lock (``agent sessions show``)."""

    snapshot: SessionSnapshot
    created: float
    transcript: tuple[TranscriptEntry, ...]
    fork: ForkOrigin | None
    mcp_servers: tuple[str, ...]
    journal: Path
    interrupted_turn: str | None  # the last turn never finished (crash, or still running)
    interrupted_tools: tuple[RunningTool, ...] = ()  # tools that turn had running when it stopped


@attrs.frozen
class SessionScan:
    """``list`` plus the sessions that could not be read (shown, never hidden)."""

    sessions: tuple[SessionSummary, ...]
    problems: tuple[JournalError, ...]


class JournalStore:
    """Sessions on disk under ``sessions_dir`` (see the module docstring)."""

    def __init__(self, sessions_dir: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.sessions_dir = Path(sessions_dir)
        self._clock = clock  # wall-clock seconds; injectable so tests order sessions deterministically
        self.blobs = BlobStore(self.sessions_dir / BLOBS_DIR)  # images, shared by every session here
        self._recorder = SessionRecorder(self.sessions_dir, clock, media=self.blobs)
        self._reserved: dict[str, Reservation] = {}

    # ------------------------------------------------------------ lookup

    def session_dir(self, session_id: str) -> Path:
        if not _SAFE_ID.fullmatch(session_id):
            raise SessionNotFound(f"{session_id!r} is not a session id")
        return self.sessions_dir / session_id

    def _require(self, session_id: str) -> Path:
        path = self.session_dir(session_id)
        if not (path / JOURNAL_FILE).is_file():
            raise SessionNotFound(f"no session {session_id!r} in {self.sessions_dir}")
        return path

    def resolve(self, id_or_prefix: str) -> str:
        """The id of the one session whose id is or starts with ``id_or_prefix``."""
        try:
            self._require(id_or_prefix)
            return id_or_prefix
        except SessionNotFound:
            pass
        matches = [p.name for p in self._session_dirs() if p.name.startswith(id_or_prefix)] if id_or_prefix else []
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise SessionNotFound(f"{id_or_prefix!r} matches {len(matches)} sessions: {', '.join(sorted(matches)[:5])}")
        raise SessionNotFound(f"no session {id_or_prefix!r} in {self.sessions_dir}")

    def _session_dirs(self) -> list[Path]:
        if not self.sessions_dir.is_dir():
            return []
        return [p for p in self.sessions_dir.iterdir() if (p / JOURNAL_FILE).is_file()]

    # ----------------------------------------------------- SessionLoader

    def load(self, session_id: str) -> SessionSnapshot:
        """Load a session to resume it. Raises :class:`SessionNotFound`,
        :class:`SessionLocked` (open for writing elsewhere: use
        :meth:`open_read_only`) or :class:`JournalCorrupt`."""
        path = self._require(session_id)
        if session_id in self._recorder.live:
            raise SessionLocked(session_id, "it is already open in this process")
        SessionLock.acquire(path / LOCK_FILE, session_id).release()  # fail now, not inside the session's nursery
        reservation = self._reserved.get(session_id)
        if reservation is None or not unchanged(path, reservation):
            reservation = reserve(session_id, path, self.session_blobs(session_id))
            self._reserved[session_id] = reservation
        return reservation.snapshot

    def list_sessions(self, *, cwd: Path | None = None) -> list[SessionSummary]:
        return list(self.scan(cwd=cwd).sessions)

    def scan(self, *, cwd: Path | None = None) -> SessionScan:
        """Sessions (in ``cwd`` or everywhere), newest first, and unreadable ones."""
        wanted = str(Path(cwd).resolve()) if cwd is not None else None
        rows: list[SessionSummary] = []
        problems: list[JournalError] = []
        for path in self._session_dirs():
            try:
                meta = self._current_meta(path)
            except JournalError as exc:
                problems.append(exc)
                continue
            if wanted is not None and meta["cwd"] != wanted:
                continue
            rows.append(
                SessionSummary(
                    id=meta["id"],
                    cwd=Path(meta["cwd"]),
                    title=meta.get("title"),
                    updated=float(meta["updated"]),
                    message_count=int(meta["message_count"]),
                    cost_usd=float(meta.get("cost_usd", 0.0)),
                    metadata=dict(meta.get("metadata") or {}),
                )
            )
        rows.sort(key=lambda r: r.updated, reverse=True)
        return SessionScan(tuple(rows), tuple(problems))

    def _current_meta(self, path: Path) -> dict[str, Any]:
        """meta.json when it matches the journal, else rebuilt from the journal."""
        meta = read_meta(path / META_FILE)
        journal = path / JOURNAL_FILE
        if (
            meta is not None
            and meta.get("format") == META_VERSION
            and meta.get("id") == path.name
            and meta.get("journal_bytes") == journal.stat().st_size
        ):
            return meta
        return meta_from_replay(path.name, read_journal(journal))

    def latest_for_cwd(self, cwd: Path) -> str | None:
        """The most recently updated session in ``cwd`` (``--continue``), if any."""
        sessions = self.scan(cwd=cwd).sessions
        return sessions[0].id if sessions else None

    def delete(self, session_id: str) -> None:
        """Remove the session's directory, and the images only it named (a blob
        another journal names, a fork's or a summarised record's, stays).
        Refuses while it is open for writing."""
        path = self._require(session_id)
        if session_id in self._recorder.live:
            raise SessionLocked(session_id, "it is open in this process")
        self._reserved.pop(session_id, None)
        lock = SessionLock.acquire(path / LOCK_FILE, session_id)
        try:
            candidates = blob_ids_in((path / JOURNAL_FILE).read_bytes())
            shutil.rmtree(path)
        finally:
            lock.release()
        if candidates or self.blobs.root.is_dir():
            referenced = self._referenced_blobs()
            self.blobs.remove(candidates - referenced)  # only this session named them
            # and, while every journal has been read anyway, images no session names
            # (an unsaved sub-agent's, a crash between storing one and journaling it)
            self.blobs.remove([b for b in self.blobs.ids() if b not in referenced], min_age_s=SWEEP_GRACE_S)

    def _referenced_blobs(self) -> set[str]:
        """The blob ids any journal here names (in any record: live, summarised, forked)."""
        found: set[str] = set()
        for path in self._session_dirs():
            try:
                found |= blob_ids_in((path / JOURNAL_FILE).read_bytes())
            except FileNotFoundError:
                continue  # deleted meanwhile
        return found

    def sweep_blobs(self, *, min_age_s: float = SWEEP_GRACE_S) -> list[str]:
        """Remove the blobs no journal names (left by a crash between storing an
        image and journaling it, or by an unsaved session), older than ``min_age_s``."""
        referenced = self._referenced_blobs()
        self.blobs.remove_stale_temps(min_age_s=min_age_s)
        return self.blobs.remove([b for b in self.blobs.ids() if b not in referenced], min_age_s=min_age_s)

    def session_blobs(self, session_id: str) -> SessionBlobs:
        """The blob store as ``session_id``'s journal reads it (errors name the session)."""
        return SessionBlobs(self.blobs, session_id)

    # ------------------------------------------------- MediaStore (images)

    def write_blob(self, data: bytes) -> str:
        return self.blobs.write_blob(data)

    def read_blob(self, blob_id: str) -> bytes:
        return self.blobs.read_blob(blob_id)

    def check_blob(self, blob_id: str, size: int) -> None:
        self.blobs.check_blob(blob_id, size)

    def open_read_only(self, session_id: str) -> StoredSession:
        """Read a session without locking it (it may be open elsewhere: then the
        turn still running there shows as interrupted)."""
        path = self._require(session_id)
        replay = read_journal(path / JOURNAL_FILE, keep_transcript=True, blobs=self.session_blobs(session_id))
        return StoredSession(
            snapshot=snapshot_from_replay(session_id, replay),
            created=float(replay.header.get("created", replay.header["ts"])),
            transcript=replay.transcript or (),
            fork=replay.fork,
            mcp_servers=tuple(replay.header.get("mcp_servers", ())),
            journal=path / JOURNAL_FILE,
            interrupted_turn=replay.open_turn,
            interrupted_tools=replay.interrupted_tools,
        )

    # -------------------------------------------------------------- forks

    def fork_session(
        self, source_id: str, *, at: int | None = None, reason: str | None = None, replaced: str | None = None,
        expected_revision: str | None = None,
    ) -> str:
        """Copy a stored session's history (all of it, or up to message ``at``,
        moved back to a complete tool_use/result boundary) into a new session
        whose journal starts with its origin. Open it with ``session_id=<new id>``.
        ``reason`` ("rewind", "edit", ...) and ``replaced`` (the id of the message an
        edit replaces) go into the fork record; the source is never changed."""
        path = self._require(source_id)
        replay = read_journal(path / JOURNAL_FILE)
        _check_revision(expected_revision, replay.revisions[-1].id)  # `at` counts messages of that revision
        messages = replay.live if at is None else replay.live[: safe_cut(replay.live, at)]
        source = snapshot_from_replay(source_id, replay)
        servers = tuple(replay.header.get("mcp_servers", ()))
        return self._write_fork(source, tuple(messages), servers, reason=reason, replaced=replaced).snapshot.id

    def fork_live(
        self, session: ObservedSession, *, at: int | None = None, reason: str | None = None, replaced: str | None = None,
        expected_revision: str | None = None,
    ) -> str:
        """Fork an open session. The new session shares the history copy-on-write
        (O(1) in memory, no token recount) when opened with ``session_id=<new id>``
        on a core using this store; a running turn is left out of the fork.
        ``at`` is moved back to a complete tool_use/result boundary."""
        _check_revision(expected_revision, session.revision.id)
        live = self._recorder.live.get(session.id)
        history = session.history
        limit = live.turn_mark if live is not None and live.turn is not None else len(history)
        cut = limit if at is None else safe_cut(history.snapshot()[:limit], at)
        forked: History = history.fork() if cut >= len(history) else history.fork_at(cut)
        source = SessionSnapshot(
            id=session.id, cwd=session.cwd, messages=(), mode=session.mode, provider=session.provider_name,
            model=session.model, title=session.title, plan=session.plan, profile=session.policy.profile,
            metadata=dict(session.metadata), context_sections=dict(session.durable_context_sections),
            hidden_tools=session.hidden_tools, revisions=(session.revision,),
        )
        new = self._write_fork(
            source, forked.snapshot(), server_names(session.info.mcp_servers), reason=reason, replaced=replaced
        )
        self._reserved[new.snapshot.id] = attrs.evolve(new, snapshot=attrs.evolve(new.snapshot, history=forked))
        return new.snapshot.id

    def _write_fork(
        self, source: SessionSnapshot, messages: tuple[Message, ...], servers: Sequence[str], *,
        reason: str | None = None, replaced: str | None = None,
    ) -> Reservation:
        now = self._clock()
        start = fork_start(source, messages, servers, now=now, reason=reason, replaced=replaced, media=self.blobs)
        self.blobs.sync()  # images it moved out of line are on disk before the journal naming them
        new_session, header, recs, fork_revision = start.session_id, start.header, start.records, start.revision
        path = self._recorder.make_dir(self.session_dir(new_session))
        writer = JournalWriter.create(path / JOURNAL_FILE)
        try:
            writer.write_many(recs)
        finally:
            writer.close()
        sync_dir(self.sessions_dir)
        snapshot = attrs.evolve(source, id=new_session, messages=messages, usage=Usage(), cost_usd=0.0, updated=now,
                                pending_outcomes=(), pending_turn=None, revisions=(fork_revision,))  # fmt: skip
        meta = meta_for(header, snapshot, fork=ForkOrigin(source.id, len(messages), source.title))
        meta["journal_bytes"] = (path / JOURNAL_FILE).stat().st_size
        write_meta(path / META_FILE, meta, sync=True)
        return Reservation(snapshot, meta, valid_bytes=meta["journal_bytes"])

    # --------------------------------------------------- SessionObserver

    def session_opened(self, session: ObservedSession) -> None:
        reservation = self._reserved.pop(session.id, None)
        path = self.session_dir(session.id)
        if not (path / JOURNAL_FILE).is_file():
            try:
                self._recorder.begin(session, path)  # the journal appears with its first record worth keeping
            except (JournalWriteError, OSError) as exc:  # a full or read-only state directory
                session.report_not_saving(f"cannot save sessions in {self.sessions_dir}: {_reason(exc)}", opening=True)
            return
        lock = SessionLock.acquire(path / LOCK_FILE, session.id)
        try:
            if reservation is None or not unchanged(path, reservation):
                # resumed through another loader, or changed since
                reservation = reserve(session.id, path, self.session_blobs(session.id))
            self._recorder.resume(session, path, reservation, lock)
        except BaseException:
            lock.release()
            raise

    def on_event(self, session: ObservedSession, event: AgentEvent) -> None:
        self._recorder.on_event(session, event)

    def on_state_change(self, session: ObservedSession, change: StateChange) -> None:
        self._recorder.on_state_change(session, change)

    def session_closed(self, session: ObservedSession) -> None:
        self._recorder.close(session)


def _check_revision(expected: str | None, current: str) -> None:
    if expected is not None and expected != current:
        raise RevisionConflict(expected, current)


def _reason(exc: Exception) -> str:
    return getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__
