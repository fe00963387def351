"""The checkpoints wing: file changes a session can undo.

- :mod:`~agentcore.checkpoints.gitstore` — a private git object store snapshotting
  the workspace (never the user's repository);
- :mod:`~agentcore.checkpoints.records` — the per-session log of changed files;
- :mod:`~agentcore.checkpoints.policy` — ``TurnCheckpointer``: snapshots around
  each tool call that may change files (wired by the core);
- :mod:`~agentcore.checkpoints.restore` — putting files back, safely;
- :mod:`~agentcore.checkpoints.rewind` — rewind, ``/diff`` and edit-and-retry forks;
- :mod:`~agentcore.checkpoints.service` — the same on a live or a stored session, for frontends.

Frontends and embedders import from here; the modules are internal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentcore._lazy import lazy_exports

_EXPORTS = {
    **{name: "agentcore.checkpoints.gitstore" for name in ("CheckpointError", "MAX_FILE_BYTES")},
    **{name: "agentcore.checkpoints.records" for name in ("TurnRow", "CallRecord")},
    **{name: "agentcore.checkpoints.policy" for name in ("TurnCheckpointer",)},
    **{name: "agentcore.checkpoints.restore" for name in ("RestoreReport",)},
    **{
        name: "agentcore.checkpoints.service"
        for name in ("LiveRewind", "StoredRewind", "refuse_for", "result_to_json", "turn_to_json")
    },
    **{
        name: "agentcore.checkpoints.rewind"
        for name in (
            "Checkpoints", "EditedFork", "FileDiff", "RewindError", "RewindResult", "RewindScope",
            "checkpoints_dir", "edit_fork", "fork_replacing", "prompts_of", "rewind_fork",
        )
    },
}  # fmt: skip
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover - static names for type checkers and IDEs
    from agentcore.checkpoints.gitstore import MAX_FILE_BYTES, CheckpointError  # noqa: F401
    from agentcore.checkpoints.policy import TurnCheckpointer  # noqa: F401
    from agentcore.checkpoints.records import CallRecord, TurnRow  # noqa: F401
    from agentcore.checkpoints.restore import RestoreReport  # noqa: F401
    from agentcore.checkpoints.rewind import *  # noqa: F403
    from agentcore.checkpoints.service import *  # noqa: F403
