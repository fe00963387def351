"""The checkpoint log of one session: ``checkpoints.jsonl`` beside its git store.

Invariant: the log is append-only and holds one record per tool call that
changed files, in the order the calls ran: the turn and the prompt it belongs
to and, per changed path, its state before and after the call. A torn last
line (a crash mid-write) is ignored. Reading the log never needs git: the
states name blobs, which only a restore reads.

The log lives in its own directory beside the session journal (or under the
state directory when no journal store is wired); it is created at the first
change, so a session that never changed a file has none.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs

from agentcore.checkpoints.gitstore import ABSENT, Change, FileState
from agentcore.private_files import open_private

LOG_FILE = "checkpoints.jsonl"
CHECKPOINTS_DIR = "checkpoints"  # inside the session's directory
RECORD_VERSION = 1
PROMPT_PREVIEW_CHARS = 200  # the prompt's first line kept in a record, for listings


@attrs.frozen
class CallRecord:
    """The files one tool call changed."""

    turn_id: str
    prompt_id: str | None
    prompt: str  # first line of the turn's prompt
    tool: str
    ts: float
    changes: tuple[Change, ...]
    skipped: tuple[str, ...] = ()  # too big to snapshot


def _state_to_json(state: FileState) -> list[str] | None:
    return None if not state.exists else [state.mode or "", state.sha or ""]


def _state_from_json(value: Any) -> FileState:
    return ABSENT if value is None else FileState(str(value[0]), str(value[1]))


def record_to_json(rec: CallRecord) -> dict[str, Any]:
    return {
        "v": RECORD_VERSION, "turn": rec.turn_id, "prompt_id": rec.prompt_id, "prompt": rec.prompt,
        "tool": rec.tool, "ts": rec.ts, "skipped": list(rec.skipped),
        "changes": [[c.path, _state_to_json(c.before), _state_to_json(c.after)] for c in rec.changes],
    }


def record_from_json(d: dict[str, Any]) -> CallRecord:
    return CallRecord(
        turn_id=str(d["turn"]), prompt_id=d.get("prompt_id"), prompt=str(d.get("prompt", "")),
        tool=str(d.get("tool", "")), ts=float(d.get("ts", 0.0)),
        changes=tuple(Change(str(p), _state_from_json(b), _state_from_json(a)) for p, b, a in d["changes"]),
        skipped=tuple(d.get("skipped", ())),
    )


class CheckpointLog:
    """Append and read ``checkpoints.jsonl`` in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / LOG_FILE

    def append(self, rec: CallRecord) -> None:
        with open_private(self.path, "a") as f:
            f.write(json.dumps(record_to_json(rec), ensure_ascii=False, separators=(",", ":")) + "\n")

    def read(self) -> list[CallRecord]:
        try:
            data = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        out = []
        complete, _, _torn = data.rpartition("\n")
        for line in complete.split("\n"):
            if not line.strip():
                continue
            try:
                out.append(record_from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError, IndexError):
                continue  # a damaged line loses that call's checkpoint, not the others
        return out


def first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:PROMPT_PREVIEW_CHARS]
    return ""


@attrs.frozen
class TurnRow:
    """One turn of a conversation as ``/rewind`` lists it."""

    number: int  # 1-based, among the prompts in the current history
    prompt_id: str
    message_index: int  # where the prompt stands in history: a conversation rewind keeps what is before
    prompt: str  # first line
    files: tuple[str, ...]  # files its tool calls changed


def turn_rows(prompts: Sequence[tuple[int, str, str]], records: Iterable[CallRecord]) -> list[TurnRow]:
    """Rows for ``prompts`` ((history index, message id, text) of each prompt, in order)."""
    files: dict[str, dict[str, None]] = {}
    for rec in records:
        if rec.prompt_id is not None:
            files.setdefault(rec.prompt_id, {}).update(dict.fromkeys(c.path for c in rec.changes))
    return [
        TurnRow(n, pid, index, first_line(text), tuple(files.get(pid, {})))
        for n, (index, pid, text) in enumerate(prompts, start=1)
    ]


def now() -> float:
    return time.time()
