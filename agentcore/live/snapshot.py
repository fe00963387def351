"""Persistence of a live voice session's snapshot, so a dropped connection
(or a restarted process) resumes where it was: phase, state, a short
transcript summary and the backend's resumption handle.

The file is JSON, written atomically (temp file + rename) so a crash never
leaves half a snapshot. It holds no secrets: the handle is the provider's
opaque session token for resumption, not an API key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs

from agentcore.errors import VoiceError
from agentcore.private_files import replace_private_text

SNAPSHOT_VERSION = 1
SUMMARY_LINES = 12  # recent transcript lines kept; enough to show where the talk was


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


class SnapshotStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def save(self, snapshot: LiveSnapshot) -> None:
        data = {"version": SNAPSHOT_VERSION, **attrs.asdict(snapshot)}
        data["transcript"] = list(snapshot.transcript[-SUMMARY_LINES:])
        replace_private_text(self.path, json.dumps(data, indent=2, default=str))  # a transcript: owner-only

    def load(self) -> LiveSnapshot | None:
        if not self.path.exists():
            return None
        try:
            data = json.loads(self.path.read_text())
        except ValueError as exc:
            raise SnapshotError(f"{self.path}: not a live snapshot ({exc})") from exc
        if data.pop("version", None) != SNAPSHOT_VERSION:
            raise SnapshotError(f"{self.path}: unsupported snapshot version")
        fields = attrs.fields_dict(LiveSnapshot)
        unknown = set(data) - set(fields)
        if unknown:
            raise SnapshotError(f"{self.path}: unknown keys {sorted(unknown)}")
        data["transcript"] = tuple(data.get("transcript", ()))
        return LiveSnapshot(**data)
