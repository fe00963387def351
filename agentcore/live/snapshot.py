"""Persistence of a live voice session's snapshot, so a dropped connection
(or a restarted process) resumes where it was: phase, state, a short
transcript summary and the backend's resumption handle.

The file is JSON, written atomically (temp file + rename) so a crash never
leaves half a snapshot. It holds no secrets: the handle is the provider's
opaque session token for resumption, not an API key.

Version 2 adds the recent turns as values (:class:`TranscriptTurn`) and the
phase transition history (from, to, trigger, time); a version 1 file still
loads. :class:`FileSnapshotStore` is one :class:`SessionPersistence`
(``agentcore.live.persistence`` has the protocol and an in-memory one); both
go through :func:`snapshot_to_json` / :func:`snapshot_from_json`, so what one
keeps the other keeps too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs

from agentcore.errors import VoiceError
from agentcore.live.phases import PhaseTransition
from agentcore.live.transcript import TranscriptTurn
from agentcore.private_files import replace_private_text

SNAPSHOT_VERSION = 2
READABLE_VERSIONS = (1, 2)
SUMMARY_LINES = 12  # recent transcript lines kept; enough to show where the talk was
SNAPSHOT_TURNS = 6  # recent turns kept as values
SNAPSHOT_TRANSITIONS = 100  # phase transitions kept (the latest)


class SnapshotError(VoiceError, ValueError):
    pass


@attrs.frozen
class LiveSnapshot:
    session_id: str
    backend: str
    phase: str | None = None
    state: str = "listening"
    transcript: tuple[str, ...] = ()  # "user: ..." / "assistant: ..." lines, most recent last
    resumption_handle: str | None = None
    store: dict[str, Any] = attrs.field(factory=dict)  # the phase machine's watched state (JSON values)
    updated: float = 0.0
    turns: tuple[TranscriptTurn, ...] = ()  # the latest turns, oldest first
    transitions: tuple[PhaseTransition, ...] = ()  # phase changes, oldest first


def snapshot_to_json(snapshot: LiveSnapshot) -> dict[str, Any]:
    data = {"version": SNAPSHOT_VERSION, **attrs.asdict(snapshot, recurse=False)}
    data["transcript"] = list(snapshot.transcript[-SUMMARY_LINES:])
    data["turns"] = [t.to_json() for t in snapshot.turns[-SNAPSHOT_TURNS:]]
    data["transitions"] = [attrs.asdict(t) for t in snapshot.transitions[-SNAPSHOT_TRANSITIONS:]]
    return data


def snapshot_from_json(data: dict[str, Any], where: str) -> LiveSnapshot:
    """A snapshot from its JSON form; :class:`SnapshotError` names ``where`` when it is not one."""
    if not isinstance(data, dict):
        raise SnapshotError(f"{where}: not a live snapshot (not a JSON object)")
    data = dict(data)
    if data.pop("version", None) not in READABLE_VERSIONS:
        raise SnapshotError(f"{where}: unsupported snapshot version")
    fields = attrs.fields_dict(LiveSnapshot)
    unknown = set(data) - set(fields)
    if unknown:
        raise SnapshotError(f"{where}: unknown keys {sorted(unknown)}")
    try:
        data["transcript"] = tuple(data.get("transcript", ()))
        data["turns"] = tuple(TranscriptTurn.from_json(t) for t in data.get("turns", ()))
        data["transitions"] = tuple(PhaseTransition(**t) for t in data.get("transitions", ()))
        return LiveSnapshot(**data)
    except (TypeError, ValueError, AttributeError) as exc:
        raise SnapshotError(f"{where}: not a live snapshot ({exc})") from exc


class FileSnapshotStore:
    """One session's snapshot in one JSON file (owner-only, replaced atomically)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def save(self, snapshot: LiveSnapshot) -> None:
        text = json.dumps(snapshot_to_json(snapshot), indent=2, default=str)
        replace_private_text(self.path, text)  # a transcript: owner-only

    def load(self, session_id: str | None = None) -> LiveSnapshot | None:
        """The saved snapshot (of ``session_id`` when given; another session's is None)."""
        if not self.path.exists():
            return None
        try:
            data = json.loads(self.path.read_text())
        except ValueError as exc:
            raise SnapshotError(f"{self.path}: not a live snapshot ({exc})") from exc
        snapshot = snapshot_from_json(data, str(self.path))
        return snapshot if session_id is None or snapshot.session_id == session_id else None


SnapshotStore = FileSnapshotStore  # the name callers already use
