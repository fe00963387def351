"""Path arguments of the file tools: permission subjects and confinement.

``permission_subject`` works on the argument alone (rules like
``read_file(**/.env)`` match it), so it normalises the path as written:
``./src/../src/.env`` becomes ``src/.env``. ``resolved_subject`` additionally
follows symlinks and makes the path relative to the workspace cwd, so a
permission gate that has the workspace can match what will really be touched.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agentcore.tools.base import ToolContext
from agentcore.tools.workspace import Workspace, WorkspaceError


def normalise_subject(raw: Any) -> str | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    normal = posixpath.normpath(raw.strip().replace("\\", "/"))
    return "." if normal == "" else normal


def path_subject(args: Mapping[str, Any], key: str = "path", *, default: str | None = None) -> str | None:
    return normalise_subject(args.get(key, default))


def resolved_subject(workspace: Workspace, raw: Any) -> str | None:
    """The path as the workspace resolves it, relative to cwd (absolute when outside)."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        return workspace.relative(workspace.resolve(raw.strip()))
    except WorkspaceError:
        return normalise_subject(raw)


def resolve_in_workspace(ctx: ToolContext, raw: str, *, allow_spill: bool = False) -> Path:
    """Resolve a tool's path argument, or raise :class:`WorkspaceError`.

    With ``allow_spill`` files in the session's spill directory are allowed
    too: tools point the model at them to page through oversized outputs.
    """
    if not raw.strip():
        raise WorkspaceError("the path is empty")
    try:
        return ctx.workspace.resolve(raw.strip())
    except WorkspaceError:
        if not allow_spill:
            raise
        spill = ctx.spill_dir.resolve()
        candidate = Path(raw.strip()).expanduser()
        resolved = (candidate if candidate.is_absolute() else ctx.cwd / candidate).resolve()
        if resolved.is_relative_to(spill):
            return resolved
        raise
