"""The session journal's on-disk format: record types, versions and replay.

A journal is UTF-8 JSON Lines, one record per line, appended and never
rewritten. Every record carries ``v`` (the record format version), ``type``
and ``ts`` (wall-clock seconds). The first record is ``session``; the rest
replay, in order, everything that changed the session's state. See
``docs/sessions.md`` for the record table.

Replay rules (the crash-safety contract):

* an unterminated last line is a torn write: it is ignored (and the writer
  truncates it before appending, keeping the bytes in a side file);
* a turn with no ``turn_ended`` / ``turn_aborted`` is *pending*: its complete
  messages leave the restored history but are kept (``Replay.pending``) so the
  session can continue the turn (``turn_continued``) or discard it
  (``turn_aborted``); a resume parks it with ``turn_suspended``. Either way its
  messages stay in the journal (``show --full`` prints them);
* any other line that fails to parse is a :class:`JournalCorrupt` naming the
  file and the line. A journal never silently loads as an empty session.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import attrs

from agentcore.bounded_json import loads_bounded
from agentcore.errors import StoreError
from agentcore.gc_pause import gc_paused
from agentcore.events import PlanEntry
from agentcore.messages import (
    ToolResultMessage,
    BlobReader, MediaStore, Message, Usage, externalize_media, message_from_dict, message_to_dict, usage_from_dict,
    usage_to_dict,
)
from agentcore.permissions import PermissionMode
from agentcore.session.state import InterruptedCall, PendingTurn, Revision, revision_id, revision_number
from agentcore.store import state_records as sr

JOURNAL_FILE = "journal.jsonl"
META_FILE = "meta.json"
LOCK_FILE = "lock"
TORN_SUFFIX = ".torn"  # torn tails cut off a journal are kept beside it under this suffix
JOURNAL_VERSION = 3  # the newest "v" this code writes and reads; a reader accepts any v <= its own
_READABLE_VERSIONS = frozenset(range(1, JOURNAL_VERSION + 1))
TOOL_RECORD_VERSION = 2  # tool_started / tool_finished came in v2; every other record is still written as v1
META_VERSION = 2  # "format" of meta.json (2: metadata)


class RecordType(enum.StrEnum):
    SESSION = "session"  # first record: id, cwd, created, profile, provider, model, mode, mcp_servers
    FORK = "fork"  # this session was forked: source_id, at (messages copied), source_title
    TURN_STARTED = "turn_started"
    MESSAGE = "message"  # a complete message entered history (turn is null outside turns)
    TURN_ENDED = "turn_ended"  # stop_reason, usage
    TURN_ABORTED = "turn_aborted"  # error, error_type; the turn's messages leave history
    ROLLBACK = "rollback"  # history was truncated to length
    COMPACTION = "compaction"  # messages with ids `replaced` were replaced by `messages`
    MODE = "mode"
    MODEL = "model"
    TITLE = "title"
    PLAN = "plan"
    LLM_CALL = "llm_call"  # usage and cost of one provider call (for totals)
    TOOL_STARTED = "tool_started"  # turn, call, name, command: a tool began running (v2)
    TOOL_FINISHED = "tool_finished"  # turn, call: it ended (its result is the next tool message) (v2)


class MessageFate(enum.Enum):
    """What became of a journaled message (shown by ``agent sessions show --full``)."""

    LIVE = "live"  # in the restored history
    SUMMARISED = "summarised"  # replaced by a compaction summary
    ROLLED_BACK = "rolled back"  # its turn failed and was rolled back
    INTERRUPTED = "interrupted"  # its turn never finished (the process ended) and was discarded
    PENDING = "pending"  # its turn was cut off and can still be continued


# ----------------------------------------------------------------- errors


# Levels of nesting a record may have: messages are bounded when they are built
# (tool arguments at 100), so anything deeper was written by hand or by a bug.
JOURNAL_MAX_DEPTH = 200

class JournalError(StoreError):
    """Base of the store's errors about session files."""


class JournalCorrupt(JournalError):
    """A journal line that is not a valid record. Names the file and line."""

    def __init__(self, path: Path, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


class JournalVersionError(JournalCorrupt):
    """The journal was written by a newer agentcore than this one."""


class JournalWriteError(JournalError):
    """Writing the journal failed (a full disk, an I/O error, a read-only file
    system). The journal was cut back to its last whole record, so it still loads."""

    def __init__(self, path: Path, exc: OSError) -> None:
        reason = exc.strerror or type(exc).__name__
        super().__init__(f"cannot write {path}: {reason}")
        self.path = path
        self.errno = exc.errno
        self.reason = reason


class SessionLocked(JournalError):
    """Another writer holds the session (a second process, or already open here)."""

    def __init__(self, session_id: str, detail: str) -> None:
        super().__init__(
            f"session {session_id} is already open for writing ({detail}); "
            "close it there first, or open it read-only"
        )
        self.session_id = session_id


class InvalidRecord(StoreError):
    """A record that parses as JSON but is not a valid record (becomes JournalCorrupt)."""


# ---------------------------------------------------------------- writing


def encode(record: Mapping[str, Any]) -> bytes:
    """One journal line. Compact separators keep big sessions small."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def record(kind: RecordType, ts: float, *, v: int = 1, **fields: Any) -> dict[str, Any]:
    """A record as written. ``v`` is the format version the record type needs, so a
    journal without the newer types stays readable by older agentcore versions."""
    return {"v": v, "type": kind.value, "ts": ts, **fields}


# The command of an interrupted tool call kept in the journal, at most (a
# `write_file` has no command: its title is kept instead).
TOOL_COMMAND_MAX_CHARS = 2000


@attrs.frozen
class RunningTool:
    """A tool call journaled as started and never as finished."""

    call_id: str
    name: str
    command: str


def tool_started_record(ts: float, turn: str, call_id: str, name: str, command: str) -> dict[str, Any]:
    return record(
        RecordType.TOOL_STARTED, ts, v=TOOL_RECORD_VERSION, turn=turn, call=call_id, name=name,
        command=command[:TOOL_COMMAND_MAX_CHARS],
    )


def tool_finished_record(ts: float, turn: str, call_id: str) -> dict[str, Any]:
    return record(RecordType.TOOL_FINISHED, ts, v=TOOL_RECORD_VERSION, turn=turn, call=call_id)


def message_record(
    ts: float, turn: str | None, message: Message, *, tokens: int | None = None, media: MediaStore | None = None
) -> dict[str, Any]:
    """A message record; ``tokens`` (optional, since format 1) saves recounting on resume.
    With ``media``, images over the inline threshold are stored there and the record
    names their blobs instead of carrying base64."""
    if tokens is None:
        return record(RecordType.MESSAGE, ts, turn=turn, message=message_dict(message, media))
    return record(RecordType.MESSAGE, ts, turn=turn, message=message_dict(message, media), tokens=tokens)


def message_dict(message: Message, media: MediaStore | None) -> dict[str, Any]:
    """A message as journaled: large images as blob references when there is a ``media`` store."""
    return message_to_dict(message if media is None else externalize_media(message, media))


def usage_fields(usage: Usage) -> dict[str, int]:
    return usage_to_dict(usage)


def plan_entry_to_dict(entry: PlanEntry) -> dict[str, str]:
    return {"content": entry.content, "status": entry.status, "priority": entry.priority}


def plan_entry_from_dict(d: Mapping[str, Any]) -> PlanEntry:
    return PlanEntry(str(d["content"]), str(d.get("status", "pending")), str(d.get("priority", "medium")))


# ------------------------------------------------------------- compaction

T = TypeVar("T")


def apply_compaction(
    history: Sequence[T], replaced: Sequence[str], replacement: Sequence[T], id_of: Callable[[T], str]
) -> list[T]:
    """The history after a ``compaction`` record.

    A replacement whose id is in ``replaced`` takes that message's place
    (micro elision keeps ids); the other replacements (a summary) go where the
    first other replaced message stood, or at the end if there is none; the
    other replaced messages are removed. Raises :class:`InvalidRecord` when a replaced id
    is not in ``history``.
    """
    gone = set(replaced)
    in_place = {id_of(m): m for m in replacement if id_of(m) in gone}
    inserted = [m for m in replacement if id_of(m) not in gone]
    out: list[T] = []
    found: set[str] = set()
    placed = False
    for item in history:
        key = id_of(item)
        if key not in gone:
            out.append(item)
            continue
        found.add(key)
        if key in in_place:
            out.append(in_place[key])
        elif not placed:
            out.extend(inserted)
            placed = True
    if len(found) != len(gone):
        missing = sorted(gone - found)[:3]
        raise InvalidRecord(f"compaction replaces messages not in history: {', '.join(missing)}")
    if not placed:
        out.extend(inserted)
    return out


def _message_id(message: Message) -> str:
    return message.id


# ----------------------------------------------------------------- replay


@attrs.frozen
class TranscriptEntry:
    """One journaled message and what became of it."""

    message: Message
    turn_id: str | None
    fate: MessageFate


@attrs.frozen
class ForkOrigin:
    source_id: str
    at: int  # how many of the source's messages were copied
    source_title: str | None = None


@attrs.define
class Replay:
    """The state a journal describes, rebuilt record by record."""

    path: Path
    header: dict[str, Any] = attrs.field(factory=dict)
    live: list[Message] = attrs.field(factory=list)
    title: str | None = None
    mode: str | None = None
    provider: str | None = None
    model: str | None = None
    plan: tuple[PlanEntry, ...] = ()
    usage: Usage = Usage()
    cost_usd: float = 0.0
    updated: float = 0.0
    fork: ForkOrigin | None = None
    open_turn: str | None = None  # a turn the journal never closed (pending now, or dropped if it had no messages)
    interrupted_tools: tuple[RunningTool, ...] = ()  # tools of the open turn still running when it ended
    pending: PendingTurn | None = None  # a cut-off turn to continue or discard (not in ``live``)
    control: sr.ControlState = attrs.field(factory=sr.ControlState)  # metadata and control state
    revisions: list[Revision] = attrs.field(factory=list)  # the transcript's revisions, oldest first
    valid_bytes: int = 0  # length of the journal up to its last complete line
    torn: bytes = b""  # an unterminated last line, if any
    transcript: tuple[TranscriptEntry, ...] | None = None  # only when asked for
    # Recorded token counts by message object identity (the objects stay alive in
    # ``live``), so a resumed history need not run the tokenizer again.
    token_of: dict[int, int] = attrs.field(factory=dict, repr=False)

    def token_counts(self) -> tuple[int | None, ...]:
        return tuple(self.token_of.get(id(m)) for m in self.live)


@attrs.define
class _TurnState:
    turn_id: str
    mark: int  # history length when the turn started
    saved: list[Message] | None = None  # full history at turn start, once a rewrite needed it
    rolled_back: bool = False
    running: dict[str, RunningTool] = attrs.field(factory=dict)  # tool_started without tool_finished
    started: dict[str, RunningTool] = attrs.field(factory=dict)  # every tool_started of the turn
    message_ids: list[str] = attrs.field(factory=list)  # the messages the turn added
    resumed: PendingTurn | None = None  # continued from this pending turn (re-parked if it aborts)


class _Replayer:
    def __init__(self, replay: Replay, *, keep_transcript: bool, blobs: BlobReader | None = None) -> None:
        self.r = replay
        self.blobs = blobs  # resolves images journaled as blobs (None: they stay unreadable references)
        self.turn: _TurnState | None = None
        self.keep = keep_transcript
        self.entries: list[tuple[Message, str | None]] = []
        self.entry_ids: set[str] = set()
        self.usage_totals = dict.fromkeys(attrs.fields_dict(Usage), 0)
        self.summarised: set[str] = set()
        self.interrupted: set[str] = set()
        self.parked: dict[str, PendingTurn] = {}  # cut-off turns set aside by turn_suspended

    def apply(self, rec: dict[str, Any]) -> None:
        kind = rec["type"]
        r = self.r
        ts = rec["ts"]
        if ts > r.updated:
            r.updated = ts
        if kind == "message":  # the common case first: most records are messages
            message = message_from_dict(rec["message"], blobs=self.blobs)
            r.live.append(message)
            tokens = rec.get("tokens")
            if type(tokens) is int:
                r.token_of[id(message)] = tokens
            if self.turn is not None:
                self.turn.message_ids.append(message.id)
            if self.keep:
                self.entries.append((message, rec["turn"]))
                self.entry_ids.add(message.id)
        elif kind == "turn_started":
            if self.turn is not None:
                self._interrupt()
            self.turn = _TurnState(rec["turn"], len(r.live))
        elif kind == "turn_ended":
            self.turn = None
        elif kind == "turn_aborted":
            if rec["turn"] in self.parked:  # a pending turn discarded
                del self.parked[rec["turn"]]
                self.interrupted.add(rec["turn"])
            elif self.turn is not None:
                if not self.turn.rolled_back:
                    self._restore()
                if self.turn.resumed is not None:  # continuing it failed: pending again
                    self.parked[self.turn.turn_id] = self.turn.resumed
                self.turn = None
        elif kind == "rollback":
            length = rec["length"]
            if not 0 <= length <= len(r.live):
                raise InvalidRecord(f"rollback to {length} messages, but history holds {len(r.live)}")
            self._save_turn_start()
            del r.live[length:]
            if self.turn is not None:
                self.turn.rolled_back = True
            self._revision(rec, "rollback", f"to {length} messages")
        elif kind == "compaction":
            self._save_turn_start()
            self._compact(rec["replaced"], [message_from_dict(m, blobs=self.blobs) for m in rec["messages"]])
            if rec.get("strategy") != "resync" or "rev" in rec:
                self._revision(rec, "compaction", f"{rec.get('strategy', 'summary')}: {len(rec['replaced'])} messages")
        elif kind in sr.STATE_TYPES:
            r.control.apply(kind, rec)
        elif kind == sr.TURN_SUSPENDED:
            if self.turn is not None and self.turn.turn_id == rec["turn"]:
                self._park(sr.calls_from(rec.get("interrupted_tools", ())))
        elif kind == sr.TURN_CONTINUED:
            self._continue(rec["turn"])
        elif kind == "tool_started":
            if self.turn is not None:
                call = rec["call"]
                self.turn.running[call] = self.turn.started[call] = RunningTool(call, rec["name"], rec["command"])
        elif kind == "tool_finished":
            if self.turn is not None:
                self.turn.running.pop(rec["call"], None)
        elif kind == "llm_call":
            totals = self.usage_totals
            for key, value in rec["usage"].items():  # summed as ints; one Usage at the end
                if key in totals:
                    totals[key] += int(value)
            r.cost_usd += float(rec["cost_usd"])
        elif kind == "title":
            r.title = rec["title"]
        elif kind == "mode":
            r.mode = PermissionMode(rec["mode"]).value
        elif kind == "model":
            r.provider, r.model = rec["provider"], rec["model"]
        elif kind == "plan":
            r.plan = tuple(plan_entry_from_dict(e) for e in rec["entries"])
        elif kind == "fork":
            r.fork = ForkOrigin(rec["source_id"], int(rec["at"]), rec.get("source_title"))
            if isinstance(rec.get("rev"), dict):  # the fork is the session's first revision
                r.revisions[:] = [sr.revision_from(rec["rev"], ts)]
        elif kind == "session":
            raise InvalidRecord("a second session record")
        else:
            raise InvalidRecord(f"unknown record type {kind!r}")

    def inherit(self, parent: Replay) -> None:
        """Start from a fork parent's live history (messages shared, not re-read)."""
        self.r.live.extend(parent.live)
        self.r.token_of.update(parent.token_of)
        if self.keep:
            for message in parent.live:
                self.entries.append((message, None))
                self.entry_ids.add(message.id)

    def _save_turn_start(self) -> None:
        # A rewrite makes "truncate back to the mark" wrong, so copy the turn's
        # starting history once, before the first rewrite (rare: compaction, rollback).
        # Until then only appends happened, so live[:mark] is still that history.
        if self.turn is not None and self.turn.saved is None:
            self.turn.saved = self.r.live[: self.turn.mark]

    def _restore(self) -> None:
        turn = self.turn
        assert turn is not None
        if turn.saved is not None:
            self.r.live[:] = turn.saved
        else:
            del self.r.live[turn.mark :]

    def _interrupt(self) -> None:
        assert self.turn is not None
        self.interrupted.add(self.turn.turn_id)
        self._restore()
        self.turn = None

    def _park(self, tools: tuple[InterruptedCall, ...] | None = None) -> None:
        """Set the open turn aside as pending: its messages leave history (kept)."""
        turn = self.turn
        assert turn is not None
        ids = set(turn.message_ids)
        messages = tuple(m for m in self.r.live if m.id in ids)
        if tools is None:
            tools = _cut_off_calls(turn, messages)
        self._restore()
        self.parked.pop(turn.turn_id, None)
        self.parked[turn.turn_id] = PendingTurn(turn.turn_id, messages, tools)
        self.turn = None

    def _continue(self, turn_id: str) -> None:
        pending = self.parked.pop(turn_id, None)
        if pending is None:
            raise InvalidRecord(f"turn_continued for {turn_id!r}, which is not pending")
        if self.turn is not None:
            self._interrupt()
        self.turn = _TurnState(turn_id, len(self.r.live), resumed=pending, message_ids=[m.id for m in pending.messages])
        self.r.live.extend(pending.messages)

    def _revision(self, rec: dict[str, Any], reason: str, detail: str) -> None:
        revisions = self.r.revisions
        if isinstance(rec.get("rev"), dict):
            revisions.append(sr.revision_from(rec["rev"], rec["ts"]))
            return
        parent = revisions[-1].id  # an older journal: number it as the live session would have
        revisions.append(Revision(revision_id(self.r.header["id"], revision_number(parent) + 1), parent, reason,
                                  "agent", float(rec["ts"]), detail))  # fmt: skip

    def _compact(self, replaced: Sequence[str], messages: list[Message]) -> None:
        self.r.live[:] = apply_compaction(self.r.live, replaced, messages, _message_id)
        self.summarised |= set(replaced) - {m.id for m in messages}
        if self.keep:  # a summary enters the transcript where it entered history
            turn = self.turn.turn_id if self.turn is not None else None
            for message in messages:
                if message.id not in self.entry_ids:
                    self.entries.append((message, turn))
                    self.entry_ids.add(message.id)

    def finish(self) -> None:
        self.r.usage = usage_from_dict(self.usage_totals)
        if self.turn is not None:
            self.r.open_turn = self.turn.turn_id
            self.r.interrupted_tools = tuple(self.turn.running.values())
            if self.turn.message_ids:
                self._park()
            else:  # nothing of it reached history: nothing to continue
                self._interrupt()
        if self.parked:
            *older, newest = self.parked
            self.r.pending = self.parked[newest]
            self.interrupted.update(older)  # only one turn can be pending; a journal never has more
        if self.keep:
            self.r.transcript = tuple(self._fates())

    def _fates(self) -> list[TranscriptEntry]:
        live_ids = {m.id for m in self.r.live}
        out = []
        for message, turn in self.entries:
            if message.id in live_ids:
                fate = MessageFate.LIVE
            elif message.id in self.summarised:
                fate = MessageFate.SUMMARISED
            elif self.r.pending is not None and turn == self.r.pending.turn_id:
                fate = MessageFate.PENDING
            elif turn in self.interrupted:
                fate = MessageFate.INTERRUPTED
            else:
                fate = MessageFate.ROLLED_BACK
            out.append(TranscriptEntry(message, turn, fate))
        return out


def read_journal(path: Path, *, keep_transcript: bool = False, blobs: BlobReader | None = None) -> Replay:
    """Replay the journal at ``path``. Raises :class:`JournalCorrupt` (naming the
    line) for anything but a torn last line, and ``FileNotFoundError`` if absent.
    ``blobs`` checks and later reads the images journaled as blobs (a missing or
    corrupt one becomes a placeholder); without it they load unchecked and unreadable."""
    with gc_paused():  # replay frees nothing: collecting while it runs is wasted time
        return _read_journal(path, keep_transcript=keep_transcript, blobs=blobs)


def replay_journal_bytes(
    path: Path, data: bytes, *, keep_transcript: bool = False, blobs: BlobReader | None = None,
    inherited: Replay | None = None,
) -> Replay:
    """Replay journal lines held in memory (a database store's records, in order);
    ``path`` names them in errors. ``inherited``: a fork's parent replayed up to
    the fork point, whose live history the session starts with (its records are
    not copied into the fork's); the fork's own records follow the header."""
    with gc_paused():
        return _read_journal(path, keep_transcript=keep_transcript, blobs=blobs, data=data, inherited=inherited)


def _read_journal(
    path: Path, *, keep_transcript: bool, blobs: BlobReader | None = None, data: bytes | None = None,
    inherited: Replay | None = None,
) -> Replay:
    if data is None:
        data = path.read_bytes()
    replay = Replay(path)
    # split() leaves b"" after a final newline; anything else there is a torn write.
    complete, _, torn = data.rpartition(b"\n")
    replay.torn = torn
    replay.valid_bytes = len(data) - len(torn)
    numbered = _parse_lines(path, complete)
    if not numbered:
        raise JournalCorrupt(path, 1, "the journal is empty (the session was never written)")
    replayer = _Replayer(replay, keep_transcript=keep_transcript, blobs=blobs)
    for index, (number, rec) in enumerate(numbered):
        try:
            if not isinstance(rec, dict):
                raise InvalidRecord("a record must be a JSON object")
            version = rec.get("v")
            if version not in _READABLE_VERSIONS:
                _check_version(path, number, version)
            if index == 0:
                _read_header(replay, rec)
                if inherited is not None:
                    replayer.inherit(inherited)
            else:
                replayer.apply(rec)
        except JournalError:
            raise
        except InvalidRecord as exc:
            raise JournalCorrupt(path, number, str(exc)) from None
        except RecursionError:
            raise JournalCorrupt(path, number, "invalid record (nested too deeply)") from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            # bad enum values, missing fields, wrong shapes
            reason = f"missing field {exc}" if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}"
            raise JournalCorrupt(path, number, f"invalid record ({reason})") from exc
    replay.mode = replay.mode or replay.header.get("mode")
    replay.provider = replay.provider or replay.header.get("provider")
    replay.model = replay.model or replay.header.get("model")
    replayer.finish()
    return replay


def _parse_lines(path: Path, complete: bytes) -> list[tuple[int, Any]]:
    """(line number, parsed JSON) of every non-empty complete line.

    Parses all lines in one ``json.loads`` call (a big share of load time is
    per-call overhead); if that fails, parses line by line to name the bad one.
    """
    try:
        lines = complete.decode("utf-8").split("\n") if complete else []
    except UnicodeDecodeError as exc:
        raise JournalCorrupt(path, complete.count(b"\n", 0, exc.start) + 1, "invalid UTF-8") from None
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if line and not line.isspace()]
    try:
        values = json.loads("[" + ",".join(line for _, line in numbered) + "]")
    except (ValueError, RecursionError):
        values = None
    if values is not None and len(values) == len(numbered):
        return [(n, value) for (n, _), value in zip(numbered, values, strict=True)]
    out = []
    for number, line in numbered:
        try:
            out.append((number, loads_bounded(line, max_depth=JOURNAL_MAX_DEPTH)))
        except ValueError as exc:
            raise JournalCorrupt(path, number, f"invalid record (not JSON: {exc})") from None
    return out


def _check_version(path: Path, number: int, version: Any) -> None:
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InvalidRecord(f"missing or invalid record version {version!r}")
    if version > JOURNAL_VERSION:
        raise JournalVersionError(
            path, number, f"record format v{version} was written by a newer agentcore (this one reads up to v{JOURNAL_VERSION})"
        )


def _cut_off_calls(turn: _TurnState, messages: Sequence[Message]) -> tuple[InterruptedCall, ...]:
    """The turn's tool calls whose results never reached history: still running
    when it ended, or finished with their result lost."""
    answered = {b.tool_use_id for m in messages if isinstance(m, ToolResultMessage) for b in m.results}
    return tuple(
        InterruptedCall(call.call_id, call.name, call.command, finished=call.call_id not in turn.running)
        for call in turn.started.values()
        if call.call_id not in answered
    )


def _read_header(replay: Replay, rec: dict[str, Any]) -> None:
    if rec.get("type") != RecordType.SESSION:
        raise InvalidRecord("the journal does not start with a session record")
    if rec.get("mode") is not None:
        PermissionMode(rec["mode"])
    str(rec["id"]), str(rec["cwd"])  # required fields
    replay.header = rec
    replay.updated = float(rec["ts"])
    replay.revisions.append(Revision(revision_id(str(rec["id"]), 0), None, "created", "system", float(rec["ts"])))
