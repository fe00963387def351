"""Rewind and edit-and-retry: what ``/rewind``, ``agent rewind``, ``/edit`` and the
ACP extension methods share.

Invariants:

* Turns are numbered by the prompts in the session's current history (1 = the
  oldest still there). Rewinding to turn N means "as it was just before prompt N
  was sent".
* Restoring code undoes every checkpointed tool call from turn N's first one on
  (:mod:`agentcore.checkpoints.restore` says which files it touches and which it
  keeps). Rewinding the conversation never rewrites a journal: it is a fork at
  prompt N (``reason: "rewind"``), and the original session stays as it was.
* Edit-and-retry is a fork at prompt N (``reason: "edit"``, the replaced message's
  id recorded) plus the new prompt, which the caller sends as the fork's first turn.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import attrs

from agentcore.checkpoints.gitstore import MODE_LINK, PrivateGitStore
from agentcore.checkpoints.records import CHECKPOINTS_DIR, CallRecord, CheckpointLog, TurnRow, turn_rows
from agentcore.checkpoints.restore import PathPlan, RestoreReport, plan_paths, restore
from agentcore.errors import SessionError
from agentcore.messages import Message, MessageKind, TextBlock, UserMessage

DIFF_CONTEXT_LINES = 3
DIFF_MAX_FILE_BYTES = 1024 * 1024  # larger (or binary) files are named, not diffed


class RewindError(SessionError):
    """A rewind or an edit that cannot be done (no such turn, no store to fork in)."""


class RewindScope(enum.Enum):
    CODE = "code"
    CONVERSATION = "conversation"
    BOTH = "both"

    @property
    def code(self) -> bool:
        return self is not RewindScope.CONVERSATION

    @property
    def conversation(self) -> bool:
        return self is not RewindScope.CODE


@attrs.frozen
class RewindResult:
    turn: TurnRow
    report: RestoreReport | None  # None: code was not asked for
    session_id: str | None  # the fork holding the conversation up to the turn; None: not asked for


@attrs.frozen
class EditedFork:
    """A fork ending just before the replaced prompt; run ``prompt`` in it to continue."""

    session_id: str
    prompt: UserMessage
    replaced: TurnRow


class Forks(Protocol):
    """The journal store's fork functions (``JournalStore``)."""

    def fork_session(self, source_id: str, *, at: int | None = None, reason: str | None = None,
                     replaced: str | None = None) -> str: ...

    def fork_live(self, session: Any, *, at: int | None = None, reason: str | None = None,
                  replaced: str | None = None) -> str: ...


def checkpoints_dir(loader: Any, state_dir: Path, session_id: str) -> Path:
    """Where a session's checkpoints live: beside its journal when the store has
    session directories, else under the state directory."""
    session_dir = getattr(loader, "session_dir", None)
    if callable(session_dir):
        return Path(session_dir(session_id)) / CHECKPOINTS_DIR
    return Path(state_dir) / CHECKPOINTS_DIR / session_id


def prompts_of(messages: Sequence[Message]) -> list[tuple[int, str, str]]:
    """(history index, id, text) of each prompt a person typed, in order."""
    return [
        (i, m.id, m.text) for i, m in enumerate(messages)
        if isinstance(m, UserMessage) and m.kind is MessageKind.PROMPT
    ]


class Checkpoints:
    """One session's checkpoints: its log and store, over its workspace."""

    def __init__(self, directory: Path, cwd: Path) -> None:
        self.log = CheckpointLog(directory)
        self.store = PrivateGitStore(directory, Path(cwd).resolve())

    def turns(self, messages: Sequence[Message]) -> list[TurnRow]:
        return turn_rows(prompts_of(messages), self.log.read())

    def turn(self, messages: Sequence[Message], number: int) -> TurnRow:
        rows = self.turns(messages)
        if not rows:
            raise RewindError("this session has no turns to rewind to")
        if not 1 <= number <= len(rows):
            raise RewindError(f"there is no turn {number}; choose 1 to {len(rows)}")
        return rows[number - 1]

    def records_from(self, messages: Sequence[Message], number: int) -> list[CallRecord]:
        """The checkpointed calls of turn ``number`` and everything after it."""
        later = {row.prompt_id for row in self.turns(messages)[number - 1 :]}
        records = self.log.read()
        for start, rec in enumerate(records):
            if rec.prompt_id in later:
                return records[start:]
        return []

    def restore_code(self, messages: Sequence[Message], number: int, *,
                     refuse: Callable[[Path], str | None] | None, force: bool = False) -> RestoreReport:
        self.turn(messages, number)  # a clear error for a bad number
        plans = plan_paths(self.records_from(messages, number))
        return restore(self.store, plans, refuse=refuse, force=force)

    def diff(self, *, refuse: Callable[[Path], str | None] | None = None) -> list[FileDiff]:
        """What the session changed: each file it touched, from before its first
        change to the workspace now (files back as they were are left out)."""
        plans = plan_paths(self.log.read())
        root = self.store.workspace
        blobs = self.store.read_blobs(p.target.sha for p in plans if p.target.sha is not None)
        out = []
        for plan in plans:
            if refuse is not None and refuse(root / plan.path) is not None:
                continue
            old = blobs.get(plan.target.sha or "") if plan.target.exists and plan.target.mode != MODE_LINK else None
            new = _read_now(root, plan)
            if old == new and (plan.target.exists == (root / plan.path).exists()):
                continue
            out.append(FileDiff.of(plan, old, new))
        return out


@attrs.frozen
class FileDiff:
    path: str
    status: str  # "added", "deleted", "modified"
    text: str  # a unified diff, or a one-line note for binary and big files

    @classmethod
    def of(cls, plan: PathPlan, old: bytes | None, new: bytes | None) -> FileDiff:
        status = "added" if not plan.target.exists else "deleted" if new is None else "modified"
        texts = [_text(b) for b in (old, new)]
        if any(t is None for t, b in zip(texts, (old, new), strict=True) if b is not None):
            return cls(plan.path, status, f"Binary or large file {plan.path} {status}\n")
        old_lines = (texts[0] or "").splitlines(keepends=True)
        new_lines = (texts[1] or "").splitlines(keepends=True)
        a = f"a/{plan.path}" if old is not None else "/dev/null"
        b = f"b/{plan.path}" if new is not None else "/dev/null"
        body = "".join(
            line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
            for line in difflib.unified_diff(old_lines, new_lines, a, b, n=DIFF_CONTEXT_LINES)
        )
        return cls(plan.path, status, body)


def _text(data: bytes | None) -> str | None:
    if data is None or len(data) > DIFF_MAX_FILE_BYTES or b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _read_now(root: Path, plan: PathPlan) -> bytes | None:
    path = root / plan.path
    if path.is_symlink() or not path.is_file():
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


# ---------------------------------------------------------------- forks


def rewind_fork(forks: Forks, *, live: Any | None, session_id: str, row: TurnRow) -> str:
    """Fork the conversation just before ``row``'s prompt (``reason: "rewind"``)."""
    if live is not None:
        return forks.fork_live(live, at=row.message_index, reason="rewind")
    return forks.fork_session(session_id, at=row.message_index, reason="rewind")


def edit_fork(forks: Forks, *, live: Any | None, session_id: str, row: TurnRow, prompt: UserMessage | str) -> EditedFork:
    """Fork just before ``row``'s prompt, to be continued with ``prompt`` (``reason: "edit"``)."""
    message = prompt if isinstance(prompt, UserMessage) else UserMessage((TextBlock(prompt),))
    if not message.text.strip():
        raise RewindError("the new prompt is empty")
    if live is not None:
        new = forks.fork_live(live, at=row.message_index, reason="edit", replaced=row.prompt_id)
    else:
        new = forks.fork_session(session_id, at=row.message_index, reason="edit", replaced=row.prompt_id)
    return EditedFork(new, message, row)


def fork_replacing(session: Any, turn: int, prompt: UserMessage | str) -> EditedFork:
    """``DefaultSession.fork_replacing``: the session's store must fork live sessions."""
    forks = getattr(getattr(session.core, "loader", None), "fork_live", None)
    if forks is None:
        raise RewindError("this session has no store to fork in")
    row = _turn_row(list(session.history), turn)
    return edit_fork(session.core.loader, live=session, session_id=session.id, row=row, prompt=prompt)


def _turn_row(messages: Sequence[Message], number: int) -> TurnRow:
    rows = turn_rows(prompts_of(messages), ())
    if not 1 <= number <= len(rows):
        raise RewindError(f"there is no turn {number}; choose 1 to {len(rows)}" if rows else "this session has no turns")
    return rows[number - 1]
