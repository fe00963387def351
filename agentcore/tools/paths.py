"""Path arguments of the file tools: permission subjects and confinement.

``permission_subject`` works on the argument alone (rules like
``read_file(**/.env)`` match it), so it normalises the path as written:
``./src/../src/.env`` becomes ``src/.env``. ``resolved_subject`` additionally
follows symlinks and makes the path relative to the workspace cwd, so a
permission gate that has the workspace can match what will really be touched.
``check_additional_roots`` vets the extra workspace roots a session is given
(ACP ``additionalDirectories``): each must be an absolute, existing directory
that neither is nor contains a protected place.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

HOME_PLACES = (".ssh", ".config", ".gnupg", ".aws")  # under the home: keys and configuration, never a root's content

from agentcore.errors import InputError
from agentcore.tools.base import ToolContext
from agentcore.tools.workspace import Workspace, WorkspaceError

if TYPE_CHECKING:
    from agentcore.protected_paths import ProtectedPaths


class WorkspaceRootRefused(InputError):
    """An additional workspace root that cannot be one (relative, missing, protected)."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


def check_additional_roots(roots: Sequence[Path], protected: ProtectedPaths) -> None:
    """Refuse a root that is relative or not a directory, that is (or resolves,
    through symlinks, to) a protected place such as ``~/.ssh``, a ``.git`` folder
    or the user configuration, or that contains one (``~``, ``/``): inside the
    workspace, its files could be read without asking."""
    guarded = [protected.home / d for d in HOME_PLACES] + ([protected.user_config_dir] if protected.user_config_dir else [])
    for root in roots:
        if not root.is_absolute():
            raise WorkspaceRootRefused(f"additional directory {root} must be an absolute path", path=str(root))
        resolved = root.resolve()
        if not resolved.is_dir():
            raise WorkspaceRootRefused(f"additional directory {root} is not a directory", path=str(root))
        why = protected.reason(resolved, None)
        inside = next((g for g in guarded if g.resolve().is_relative_to(resolved)), None)
        if why is None and inside is not None:
            why = f"{resolved} contains {inside}"
        if why is not None:
            raise WorkspaceRootRefused(f"additional directory {root} cannot be a workspace root: {why}", path=str(root))


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
