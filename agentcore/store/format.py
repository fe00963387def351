"""The session journal's on-disk format: record types, versions and replay.

A journal is UTF-8 JSON Lines, one record per line, appended and never
rewritten. Every record carries ``v`` (the record format version), ``type``
and ``ts`` (wall-clock seconds). The first record is ``session``; the rest
replay, in order, everything that changed the session's state. See
``docs/sessions.md`` for the record table.

Replay rules (the crash-safety contract):

* an unterminated last line is a torn write: it is ignored (and the writer
  truncates it before appending, keeping the bytes in a side file);
* a turn with no ``turn_ended`` / ``turn_aborted`` is rolled back: its
  messages stay in the journal (``show --full`` prints them) but not in the
  restored history;
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
from agentcore.messages import Message, Usage, message_from_dict, message_to_dict, usage_from_dict, usage_to_dict
from agentcore.permissions import PermissionMode

JOURNAL_FILE = "journal.jsonl"
META_FILE = "meta.json"
LOCK_FILE = "lock"
TORN_SUFFIX = ".torn"  # torn tails cut off a journal are kept beside it under this suffix
JOURNAL_VERSION = 2  # the newest "v" this code writes and reads; a reader accepts any v <= its own
_READABLE_VERSIONS = frozenset(range(1, JOURNAL_VERSION + 1))
TOOL_RECORD_VERSION = 2  # tool_started / tool_finished came in v2; every other record is still written as v1
META_VERSION = 1  # "format" of meta.json


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
    INTERRUPTED = "interrupted"  # its turn never finished (the process ended)


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


def message_record(ts: float, turn: str | None, message: Message, *, tokens: int | None = None) -> dict[str, Any]:
    """A message record; ``tokens`` (optional, since format 1) saves recounting on resume."""
    if tokens is None:
        return record(RecordType.MESSAGE, ts, turn=turn, message=message_to_dict(message))
    return record(RecordType.MESSAGE, ts, turn=turn, message=message_to_dict(message), tokens=tokens)


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
    open_turn: str | None = None  # a turn the journal never closed (rolled back here)
    interrupted_tools: tuple[RunningTool, ...] = ()  # tools of the open turn still running when it ended
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


class _Replayer:
    def __init__(self, replay: Replay, *, keep_transcript: bool) -> None:
        self.r = replay
        self.turn: _TurnState | None = None
        self.keep = keep_transcript
        self.entries: list[tuple[Message, str | None]] = []
        self.entry_ids: set[str] = set()
        self.usage_totals = dict.fromkeys(attrs.fields_dict(Usage), 0)
        self.summarised: set[str] = set()
        self.interrupted: set[str] = set()

    def apply(self, rec: dict[str, Any]) -> None:
        kind = rec["type"]
        r = self.r
        ts = rec["ts"]
        if ts > r.updated:
            r.updated = ts
        if kind == "message":  # the common case first: most records are messages
            message = message_from_dict(rec["message"])
            r.live.append(message)
            tokens = rec.get("tokens")
            if type(tokens) is int:
                r.token_of[id(message)] = tokens
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
            if self.turn is not None and not self.turn.rolled_back:
                self._restore()
            self.turn = None
        elif kind == "rollback":
            length = rec["length"]
            if not 0 <= length <= len(r.live):
                raise InvalidRecord(f"rollback to {length} messages, but history holds {len(r.live)}")
            self._save_turn_start()
            del r.live[length:]
            if self.turn is not None:
                self.turn.rolled_back = True
        elif kind == "compaction":
            self._save_turn_start()
            self._compact(rec["replaced"], [message_from_dict(m) for m in rec["messages"]])
        elif kind == "tool_started":
            if self.turn is not None:
                call = rec["call"]
                self.turn.running[call] = RunningTool(call, rec["name"], rec["command"])
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
        elif kind == "session":
            raise InvalidRecord("a second session record")
        else:
            raise InvalidRecord(f"unknown record type {kind!r}")

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
            self._interrupt()
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
            elif turn in self.interrupted:
                fate = MessageFate.INTERRUPTED
            else:
                fate = MessageFate.ROLLED_BACK
            out.append(TranscriptEntry(message, turn, fate))
        return out


def read_journal(path: Path, *, keep_transcript: bool = False) -> Replay:
    """Replay the journal at ``path``. Raises :class:`JournalCorrupt` (naming the
    line) for anything but a torn last line, and ``FileNotFoundError`` if absent."""
    with gc_paused():  # replay frees nothing: collecting while it runs is wasted time
        return _read_journal(path, keep_transcript=keep_transcript)


def _read_journal(path: Path, *, keep_transcript: bool) -> Replay:
    data = path.read_bytes()
    replay = Replay(path)
    # split() leaves b"" after a final newline; anything else there is a torn write.
    complete, _, torn = data.rpartition(b"\n")
    replay.torn = torn
    replay.valid_bytes = len(data) - len(torn)
    numbered = _parse_lines(path, complete)
    if not numbered:
        raise JournalCorrupt(path, 1, "the journal is empty (the session was never written)")
    replayer = _Replayer(replay, keep_transcript=keep_transcript)
    for index, (number, rec) in enumerate(numbered):
        try:
            if not isinstance(rec, dict):
                raise InvalidRecord("a record must be a JSON object")
            version = rec.get("v")
            if version not in _READABLE_VERSIONS:
                _check_version(path, number, version)
            if index == 0:
                _read_header(replay, rec)
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


def _read_header(replay: Replay, rec: dict[str, Any]) -> None:
    if rec.get("type") != RecordType.SESSION:
        raise InvalidRecord("the journal does not start with a session record")
    if rec.get("mode") is not None:
        PermissionMode(rec["mode"])
    str(rec["id"]), str(rec["cwd"])  # required fields
    replay.header = rec
    replay.updated = float(rec["ts"])
