"""The recording half of the journal store: one :class:`LiveJournal` per
session open for writing, fed synchronously from the session's events.

Hot path: ``on_event`` for a ``MessageAppended`` is one O(1) consistency
check, one encoded record, one write and one flush. Everything O(history)
(the full comparison that catches rewrites) runs at turn boundaries only.

A new session is written lazily: its directory, lock and journal appear with
the first record worth keeping (a message, a tool call, usage, metadata ...),
so a session that never got one leaves nothing behind.
"""

from __future__ import annotations

import errno
import logging
import shutil
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import attrs

from agentcore.core import SessionSnapshot
from agentcore.events import (
    AgentEvent,
    ContextCompressed,
    HistoryRolledBack,
    LlmCallFinished,
    MessageAppended,
    ModeChanged,
    ModelChanged,
    PlanUpdated,
    TitleChanged,
    ToolCallFinished,
    ToolCallStarted,
    TurnAborted,
    TurnEnded,
    TurnStarted,
    UsageCharged,
)
from agentcore.messages import MediaStore, Message, Usage, usage_from_dict, usage_to_dict
from agentcore.permissions import PermissionMode
from agentcore.session.persistence import ObservedSession
from agentcore.session.state import (
    ContextSectionChanged,
    MetadataChanged,
    OutcomesChanged,
    PendingTurn,
    PendingTurnResolved,
    StateChange,
    ToolVisibilityChanged,
)
from agentcore.store import state_records as sr
from agentcore.private_files import private_dir
from agentcore.store.blobs import SessionBlobs
from agentcore.store.files import DIR_MODE, JournalWriter, SessionLock, sync_dir, write_meta
from agentcore.store.format import (
    JOURNAL_FILE,
    LOCK_FILE,
    META_FILE,
    META_VERSION,
    ForkOrigin,
    InvalidRecord,
    JournalWriteError,
    RecordType,
    Replay,
    RunningTool,
    apply_compaction,
    message_dict,
    message_record,
    plan_entry_to_dict,
    tool_finished_record,
    tool_started_record,
    read_journal,
    record,
)

log = logging.getLogger(__name__)

INTERRUPTED_ERROR = "the process ended before the turn finished"
CLOSED_ERROR = "the session was closed before the turn finished"


@attrs.frozen
class Reservation:
    """A loaded session whose ``session_opened`` has not come yet (saves a
    second replay; discarded if the journal changed in between)."""

    snapshot: SessionSnapshot
    meta: dict[str, Any]
    open_turn: str | None = None
    valid_bytes: int = 0
    torn: bytes = b""
    interrupted_tools: tuple[RunningTool, ...] = ()
    media_problems: tuple[str, ...] = ()  # images whose blobs are missing or corrupt (placeholders now)


@attrs.define
class LiveJournal:
    """Bookkeeping for one session open for writing in this process."""

    dir: Path
    writer: JournalWriter
    lock: SessionLock
    meta: dict[str, Any]
    ids: list[str]  # the journal's view of the live history, to detect rewrites
    turn: str | None = None
    turn_mark: int = 0
    saving_stopped: bool = False  # a write failed: the journal keeps its last whole record, nothing more
    outcomes: tuple[str, ...] = ()  # the queue of background outcomes as last journaled


@attrs.define
class Unsaved:
    """A new session with nothing worth a journal yet (nothing on disk)."""

    path: Path
    turn: str | None = None  # a turn started before anything worth saving
    failed: bool = False  # creating the journal failed (reported once)


# Events that make a new session worth saving (the others only change what the header records).
_WORTH_SAVING = (
    MessageAppended, ContextCompressed, PlanUpdated, ToolCallStarted, LlmCallFinished, UsageCharged,
)  # fmt: skip


class SessionRecorder:
    """Writes the journals of the sessions open for writing in this process."""

    def __init__(self, sessions_dir: Path, clock: Callable[[], float], *, media: MediaStore | None = None) -> None:
        self.sessions_dir = sessions_dir
        self._clock = clock
        self.media = media  # where a message's large images go instead of the journal
        self.live: dict[str, LiveJournal] = {}
        self.unsaved: dict[str, Unsaved] = {}

    def make_dir(self, path: Path) -> Path:
        private_dir(self.sessions_dir)  # and the state directory above it, when new
        path.mkdir(mode=DIR_MODE)  # never exist_ok: a new id must be new
        return path

    def begin(self, session: ObservedSession, path: Path) -> None:
        """A new session: its journal is created with its first record worth
        keeping. Raises now if the state directory cannot hold sessions at all."""
        private_dir(self.sessions_dir)
        if not self.sessions_dir.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "Not a directory", str(self.sessions_dir))
        self.unsaved[session.id] = Unsaved(path)

    def _start_lazily(self, session: ObservedSession, unsaved: Unsaved, pending: Message | None) -> LiveJournal | None:
        try:
            self.start(session, unsaved.path, pending=pending, turn=unsaved.turn)
        except (JournalWriteError, OSError) as exc:
            unsaved.failed = True
            reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__
            log.warning("session %s cannot be saved: %s", session.id, reason)
            session.report_not_saving(f"cannot save sessions in {self.sessions_dir}: {reason}", opening=False)
            return None
        del self.unsaved[session.id]
        return self.live[session.id]

    def start(self, session: ObservedSession, path: Path, *, pending: Message | None = None, turn: str | None = None) -> None:
        """Create the session's journal. If the disk refuses, nothing is left
        behind (no half-made session to list) and the error rises."""
        self.make_dir(path)
        try:
            self._start(session, path, pending, turn)
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise

    def _start(self, session: ObservedSession, path: Path, pending: Message | None, turn: str | None) -> None:
        lock = SessionLock.acquire(path / LOCK_FILE, session.id)
        try:
            live = self._first_records(session, path, lock, pending, turn)
        except BaseException:
            lock.release()
            raise
        self.live[session.id] = live

    def _first_records(
        self, session: ObservedSession, path: Path, lock: SessionLock, pending: Message | None = None, turn: str | None = None
    ) -> LiveJournal:
        now = self._clock()
        header = record(
            RecordType.SESSION, now, id=session.id, cwd=str(session.cwd), created=now,
            profile=session.policy.profile, provider=session.provider_name, model=session.model,
            mode=session.mode.value, mcp_servers=server_names(session.info.mcp_servers),
        )
        messages = session.history.snapshot()
        if pending is not None and messages and messages[-1].id == pending.id:
            messages = messages[:-1]  # the event being recorded writes it
        recs = [header, *(message_record(now, None, m, media=self.media) for m in messages)]
        if session.title:
            recs.append(record(RecordType.TITLE, now, title=session.title))
        if turn is not None:
            recs.append(record(RecordType.TURN_STARTED, now, turn=turn))
        writer = self._create_writer(path)
        try:
            writer.write_many(recs)
            writer.sync()
            self._sync_new_session()
            snapshot = SessionSnapshot(
                id=session.id, cwd=session.cwd, messages=messages, mode=session.mode, provider=session.provider_name,
                model=session.model, title=session.title, profile=session.policy.profile, updated=now,
            )
            live = LiveJournal(path, writer, lock, meta_for(header, snapshot), [m.id for m in messages])
            if turn is not None:
                live.turn, live.turn_mark = turn, len(live.ids)
            self._save_meta(live, sync=True)
        except BaseException:
            with suppress(JournalWriteError, OSError):
                writer.close()
            raise
        return live

    # Where records go: a journal file here; another store (agentcore.store.pg) overrides these.
    def _create_writer(self, path: Path) -> Any:
        return JournalWriter.create(path / JOURNAL_FILE)

    def _reopen_writer(self, path: Path, res: Reservation) -> Any:
        return JournalWriter.reopen(path / JOURNAL_FILE, valid_bytes=res.valid_bytes, torn=res.torn)

    def _sync_new_session(self) -> None:
        sync_dir(self.sessions_dir)

    def resume(self, session: ObservedSession, path: Path, res: Reservation, lock: SessionLock) -> None:
        writer = self._reopen_writer(path, res)
        live = LiveJournal(path, writer, lock, dict(res.meta), [m.id for m in res.snapshot.messages])
        now = self._clock()
        recs = []
        pending = res.snapshot.pending_turn
        if res.open_turn is not None and pending is not None and pending.turn_id == res.open_turn:
            recs.append(sr.suspended_record(now, pending.turn_id, pending.interrupted_tools))  # pending until decided
        elif res.open_turn is not None:  # it had no messages: nothing to continue
            tools = [attrs.asdict(tool) for tool in res.interrupted_tools]
            recs.append(record(RecordType.TURN_ABORTED, now, turn=res.open_turn, error=INTERRUPTED_ERROR,
                               error_type="Interrupted", interrupted_tools=tools))
            if res.interrupted_tools:
                session.report_on_open("warning", interrupted_tools_notice(res.interrupted_tools))
        if pending is not None:
            session.report_on_open("warning", pending_turn_notice(pending))
        live.outcomes = tuple(res.snapshot.pending_outcomes)
        for problem in res.media_problems:
            session.report_on_open("warning", f"{problem}; the conversation shows a placeholder in its place")
        snap = res.snapshot
        if snap.mode is not session.mode:
            recs.append(record(RecordType.MODE, now, mode=session.mode.value))
        if (snap.provider, snap.model) != (session.provider_name, session.model):
            recs.append(record(RecordType.MODEL, now, provider=session.provider_name, model=session.model))
        if session.title and session.title != snap.title:
            recs.append(record(RecordType.TITLE, now, title=session.title))
        if recs:
            writer.write_many(recs)
        live.meta.update(mode=session.mode.value, provider=session.provider_name, model=session.model, title=session.title)
        self._sync_history(session, live, strategy="resync")
        self._save_meta(live, sync=bool(recs))
        self.live[session.id] = live

    def on_event(self, session: ObservedSession, event: AgentEvent) -> None:
        live = self.live.get(session.id)
        if live is None:
            unsaved = self.unsaved.get(session.id)
            if unsaved is None or unsaved.failed:
                return  # closed (a cancelled turn may still be unwinding), or cannot be saved
            if isinstance(event, TurnStarted):
                unsaved.turn = event.turn_id
                return
            if isinstance(event, TurnEnded | TurnAborted):
                unsaved.turn = None
                return
            if not isinstance(event, _WORTH_SAVING):
                return  # the header records mode, model and title as they are when it is written
            live = self._start_lazily(session, unsaved, event.message if isinstance(event, MessageAppended) else None)
            if live is None:
                return
        if live.saving_stopped:
            return  # no longer saving
        try:
            self._record(session, live, event)
        except (JournalWriteError, OSError) as exc:
            self._stop_saving(session, live, exc)

    def on_state_change(self, session: ObservedSession, change: StateChange) -> None:
        """Metadata, control state and the pending turn's fate, journaled at once."""
        live = self.live.get(session.id)
        if live is None:
            unsaved = self.unsaved.get(session.id)
            if unsaved is None or unsaved.failed:
                return
            if isinstance(change, OutcomesChanged) and not change.pending:
                return  # an empty queue is what a new session has anyway
            live = self._start_lazily(session, unsaved, None)
            if live is None:
                return
        if live.saving_stopped:
            return
        try:
            self._record_state(session, live, change)
        except (JournalWriteError, OSError) as exc:
            self._stop_saving(session, live, exc)

    def _record_state(self, session: ObservedSession, live: LiveJournal, change: StateChange) -> None:
        now = self._clock()
        match change:
            case MetadataChanged(key=key, value=value, removed=removed):
                live.writer.write(sr.metadata_record(now, key, value, removed=removed))
                live.meta["metadata"] = dict(session.metadata)
                self._save_meta(live, sync=False)  # `sessions list --meta` sees it at once
            case ContextSectionChanged(name=name, text=text):
                live.writer.write(sr.context_record(now, name, text))
            case OutcomesChanged(pending=queued):
                if queued != live.outcomes:
                    live.writer.write(sr.outcomes_record(now, queued))
                    live.outcomes = queued
            case ToolVisibilityChanged(hidden=hidden):
                live.writer.write(sr.tools_record(now, hidden))
            case PendingTurnResolved(turn_id=turn, continued=True, message_ids=ids):
                live.writer.write(sr.continued_record(now, turn))
                live.turn, live.turn_mark = turn, len(live.ids)  # its TurnStarted writes nothing more
                live.ids.extend(ids)
                live.meta["pending_turn"] = None
            case PendingTurnResolved(turn_id=turn, continued=False, interrupted_tools=tools):
                live.writer.write(record(RecordType.TURN_ABORTED, now, turn=turn, error=INTERRUPTED_ERROR,
                                         error_type="Interrupted", discarded=True,
                                         interrupted_tools=[attrs.asdict(t) for t in tools]))  # fmt: skip
                live.writer.sync()
                live.meta["pending_turn"] = None
            case _:
                pass

    def _stop_saving(self, session: ObservedSession, live: LiveJournal, exc: Exception) -> None:
        """The disk refused a write: the journal ends on its last whole record (and
        still loads); nothing more is written for this session, and it says so."""
        reason = str(exc) if isinstance(exc, JournalWriteError) else f"cannot write {live.dir}: {exc}"
        live.saving_stopped = True
        log.warning("session %s is no longer being saved: %s", session.id, reason)
        session.report_not_saving(reason, opening=False)

    def _record(self, session: ObservedSession, live: LiveJournal, event: AgentEvent) -> None:
        now = self._clock()
        match event:
            case MessageAppended(turn_id=turn, message=message):
                history = session.history
                known = len(live.ids)
                # history may hold the message with its images moved to blobs: same id, not the same object
                if not (len(history) == known + 1 and (history[known] is message or history[known].id == message.id)):
                    self._sync_history(session, live, strategy="resync", pending=message)
                    if not len(history) or history[len(history) - 1] is not message:
                        return  # not (or no longer) in history: nothing to replay
                message = history[len(history) - 1]
                live.writer.write(
                    message_record(now, turn, message, tokens=history.message_tokens(len(history) - 1), media=self.media)
                )
                live.ids.append(message.id)
            case TurnStarted(turn_id=turn):
                if live.turn == turn:
                    return  # a continued pending turn: turn_continued opened it again
                live.turn, live.turn_mark = turn, len(live.ids)
                live.writer.write(record(RecordType.TURN_STARTED, now, turn=turn))
            case TurnEnded(turn_id=turn, stop_reason=reason, usage=usage):
                self._sync_history(session, live, strategy="resync")
                live.writer.write(record(RecordType.TURN_ENDED, now, turn=turn, stop_reason=reason.value, usage=usage_to_dict(usage)))
                self._end_turn(live)
            case TurnAborted(turn_id=turn, error=error, error_type=error_type):
                self._sync_history(session, live, strategy="resync")
                live.writer.write(record(RecordType.TURN_ABORTED, now, turn=turn, error=error, error_type=error_type))
                self._end_turn(live)
            case HistoryRolledBack(turn_id=turn, length=length):
                live.writer.write(record(RecordType.ROLLBACK, now, turn=turn, length=length, **_rev(session)))
                del live.ids[length:]
            case ContextCompressed():
                self._record_compaction(session, live, event)
            case ModeChanged(mode=mode):
                live.writer.write(record(RecordType.MODE, now, mode=mode))
                live.meta["mode"] = mode
            case ModelChanged(provider=provider, model=model):
                live.writer.write(record(RecordType.MODEL, now, provider=provider, model=model))
                live.meta.update(provider=provider, model=model)
            case TitleChanged(title=title):
                live.writer.write(record(RecordType.TITLE, now, title=title))
                live.meta["title"] = title
                self._save_meta(live, sync=False)  # lists show the title even if the first turn never ends
            case PlanUpdated(entries=entries):
                live.writer.write(record(RecordType.PLAN, now, entries=[plan_entry_to_dict(e) for e in entries]))
            case ToolCallStarted(turn_id=turn, call_id=call, name=name):
                live.writer.write(tool_started_record(now, turn, call, name, tool_command(event)))
            case ToolCallFinished(turn_id=turn, call_id=call):
                live.writer.write(tool_finished_record(now, turn, call))
            case LlmCallFinished(turn_id=turn, model=model, usage=usage, cost_usd=cost):
                live.writer.write(record(RecordType.LLM_CALL, now, turn=turn, model=model, usage=usage_to_dict(usage), cost_usd=cost))
                self._add_cost(live, usage, cost)
            case UsageCharged(turn_id=turn, source=source, model=model, usage=usage, cost_usd=cost):
                live.writer.write(record(RecordType.LLM_CALL, now, turn=turn, model=model, usage=usage_to_dict(usage),
                                         cost_usd=cost, source=source))  # fmt: skip
                self._add_cost(live, usage, cost)
            case _:
                pass  # deltas, tool progress, permissions: not part of the session's state

    @staticmethod
    def _add_cost(live: LiveJournal, usage: Usage, cost: float) -> None:
        live.meta["usage"] = usage_to_dict(usage_from_dict(live.meta["usage"]) + usage)
        live.meta["cost_usd"] = float(live.meta["cost_usd"]) + cost

    def _sync_media(self) -> None:
        """Blobs written this turn reach the disk before the journal records naming them."""
        sync = getattr(self.media, "sync", None)
        if sync is not None:
            sync()

    def _end_turn(self, live: LiveJournal) -> None:
        live.turn = None
        self._sync_media()
        live.writer.sync()
        # meta.json is a cache checked against the journal's size: no fsync needed.
        self._save_meta(live, sync=False)

    def _record_compaction(self, session: ObservedSession, live: LiveJournal, event: ContextCompressed) -> None:
        if not event.replaced_ids:
            self._sync_history(session, live, strategy=event.strategy, summary=event.summary, rev=_rev(session))
            return
        try:
            ids = apply_compaction(live.ids, event.replaced_ids, [m.id for m in event.replacement], str)
        except InvalidRecord:
            ids = None  # the journal lost track of history: record it whole instead
        if ids is not None:
            live.writer.write(
                record(
                    RecordType.COMPACTION, self._clock(), turn=event.turn_id, strategy=event.strategy,
                    replaced=list(event.replaced_ids), messages=[message_dict(m, self.media) for m in event.replacement],
                    summary=event.summary, tokens_before=event.tokens_before, tokens_after=event.tokens_after,
                    **_rev(session),
                )
            )
            live.ids = ids
        self._sync_history(session, live, strategy="resync")

    def _sync_history(
        self, session: ObservedSession, live: LiveJournal, *, strategy: str, summary: str = "", pending: Message | None = None,
        rev: Mapping[str, Any] | None = None,
    ) -> None:
        """Make the journal's view equal the session's history (minus ``pending``,
        the message about to be recorded) with one compaction record. Catches any
        rewrite that came without a ContextCompressed carrying its ids."""
        current = list(session.history.snapshot())
        if pending is not None and current and current[-1] is pending:
            current.pop()
        current_ids = [m.id for m in current]
        if current_ids == live.ids:
            return
        now = self._clock()
        known = len(live.ids)
        if current_ids[:known] == live.ids:  # only appended: record them as messages
            live.writer.write_many([message_record(now, live.turn, m, media=self.media) for m in current[known:]])
            live.ids = current_ids
            return
        kept = set(current_ids) & set(live.ids)
        replaced = [i for i in live.ids if i not in kept]
        added = [m for m in current if m.id not in kept]
        try:
            predicted = apply_compaction(live.ids, replaced, [m.id for m in added], str)
        except InvalidRecord:  # pragma: no cover - replaced ids come from live.ids
            predicted = None
        if predicted != current_ids:  # reordered or edited in place: replace everything
            replaced, added = list(live.ids), current
        live.writer.write(
            record(
                RecordType.COMPACTION, now, turn=live.turn, strategy=strategy, replaced=replaced,
                messages=[message_dict(m, self.media) for m in added], summary=summary, **(rev or {}),
            )
        )
        live.ids = current_ids

    def close(self, session: ObservedSession) -> None:
        self.unsaved.pop(session.id, None)  # never worth a journal: nothing was written
        live = self.live.pop(session.id, None)
        if live is None:
            return
        try:
            if not live.saving_stopped:
                try:
                    self._finish(session, live)
                except (JournalWriteError, OSError) as exc:  # the journal keeps its last whole record
                    log.warning("session %s: closing its journal failed: %s", session.id, exc)
            with suppress(JournalWriteError, OSError):
                live.writer.close()
        finally:
            live.lock.release()

    def _finish(self, session: ObservedSession, live: LiveJournal) -> None:
        if live.turn is not None:
            # aclose() cancels without waiting for the turn to unwind: roll it back.
            live.writer.write(
                record(RecordType.TURN_ABORTED, self._clock(), turn=live.turn, error=CLOSED_ERROR, error_type="SessionClosed")
            )
            del live.ids[live.turn_mark :]
            live.turn = None
        else:
            self._sync_history(session, live, strategy="resync")
        self._sync_media()
        live.writer.sync()
        self._save_meta(live, sync=True)

    def _save_meta(self, live: LiveJournal, *, sync: bool) -> None:
        live.meta["updated"] = self._clock()
        live.meta["message_count"] = len(live.ids)
        live.meta["journal_bytes"] = (live.dir / JOURNAL_FILE).stat().st_size
        write_meta(live.dir / META_FILE, live.meta, sync=sync)


def reserve(session_id: str, path: Path, blobs: SessionBlobs | None = None) -> Reservation:
    replay = read_journal(path / JOURNAL_FILE, blobs=blobs)
    return Reservation(
        snapshot_from_replay(session_id, replay), meta_from_replay(session_id, replay), replay.open_turn,
        replay.valid_bytes, replay.torn, replay.interrupted_tools,
        media_problems=tuple(blobs.problems) if blobs is not None else (),
    )


def tool_command(event: ToolCallStarted) -> str:
    """What to keep of a running tool call: its command, or its title."""
    command = event.raw_input.get("command")
    return command if isinstance(command, str) else event.title


def _rev(session: ObservedSession) -> dict[str, Any]:
    """The ``rev`` field of a rewrite record: the revision the session made for it."""
    revision = getattr(session, "revision", None)
    return {} if revision is None else {"rev": sr.revision_fields(revision)}


def pending_turn_notice(pending: PendingTurn) -> str:
    """What a person resuming a session with a cut-off turn is told (every frontend)."""
    running = [call for call in pending.interrupted_tools if not call.finished]
    tools = ""
    if running:
        tools = (" A tool was running when it stopped (" + "; ".join(f"{c.name}: {c.command}" for c in running)
                 + "): it may have done part of its work; check before running it again.")  # fmt: skip
    return (
        f"The last turn was cut off when the agent process ended ({len(pending.messages)} messages kept).{tools} "
        "Continue it with /continue (in agent chat or an editor) or `agent run --continue` / `agent run --resume ID` without a "
        "prompt; a new prompt discards it (the journal keeps it: `agent sessions show --full`)."
    )


def interrupted_tools_notice(tools: Sequence[RunningTool]) -> str:
    """What a person resuming the session is told about work that may have half-run."""
    running = "; ".join(f"{tool.name}: {tool.command}" for tool in tools)
    return (
        f"The last turn ended while a tool was running ({running}). It was stopped with the "
        "agent, but it may have done part of its work: check before running it again."
    )


def unchanged(path: Path, reservation: Reservation) -> bool:
    """The journal is still the one the reservation was read from (append-only: same size)."""
    return (path / JOURNAL_FILE).stat().st_size == reservation.valid_bytes + len(reservation.torn)


def server_names(servers: Sequence[Any]) -> list[str]:
    """MCP server names only: their configs carry env vars and headers (tokens)."""
    names = []
    for server in servers:
        if isinstance(server, str):
            name: Any = server
        elif isinstance(server, Mapping):
            name = server.get("name")
        else:
            name = getattr(server, "name", None)
        if isinstance(name, str):
            names.append(name)
    return names


def snapshot_from_replay(session_id: str, replay: Replay) -> SessionSnapshot:
    return SessionSnapshot(
        id=session_id,
        cwd=Path(replay.header["cwd"]),
        messages=tuple(replay.live),
        token_counts=replay.token_counts(),
        mode=PermissionMode(replay.mode) if replay.mode else None,
        provider=replay.provider,
        model=replay.model,
        title=replay.title,
        plan=replay.plan,
        usage=replay.usage,
        cost_usd=replay.cost_usd,
        profile=replay.header.get("profile"),
        updated=replay.updated,
        metadata=dict(replay.control.metadata),
        context_sections=dict(replay.control.context_sections),
        pending_outcomes=replay.control.pending_outcomes,
        hidden_tools=replay.control.hidden_tools,
        pending_turn=replay.pending,
        revisions=tuple(replay.revisions),
    )


def meta_for(header: Mapping[str, Any], snapshot: SessionSnapshot, *, fork: ForkOrigin | None = None) -> dict[str, Any]:
    """meta.json: what a listing needs, and never a secret (no env, no headers)."""
    return {
        "format": META_VERSION,
        "id": snapshot.id,
        "cwd": str(header["cwd"]),
        "created": float(header.get("created", header["ts"])),
        "updated": snapshot.updated,
        "title": snapshot.title,
        "profile": snapshot.profile,
        "provider": snapshot.provider,
        "model": snapshot.model,
        "mode": snapshot.mode.value if snapshot.mode else None,
        "mcp_servers": list(header.get("mcp_servers", ())),
        "message_count": len(snapshot.messages),
        "usage": usage_to_dict(snapshot.usage),
        "cost_usd": snapshot.cost_usd,
        "forked_from": attrs.asdict(fork) if fork else None,
        "metadata": dict(snapshot.metadata),
        "pending_turn": snapshot.pending_turn.turn_id if snapshot.pending_turn else None,
    }


def meta_from_replay(session_id: str, replay: Replay) -> dict[str, Any]:
    meta = meta_for(replay.header, snapshot_from_replay(session_id, replay), fork=replay.fork)
    meta["journal_bytes"] = replay.valid_bytes + len(replay.torn)
    return meta
