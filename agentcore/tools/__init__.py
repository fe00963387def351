"""The tools wing: the tool contract, registries, backends and the built-in tools.

- :mod:`~agentcore.tools.base` — ``Tool``, ``ToolContext``, ``ToolResult``, kinds and safety;
- :mod:`~agentcore.tools.registry` — static and composite registries, allowlists;
- :mod:`~agentcore.tools.backends` — the ``FsBackend`` / ``ShellBackend`` traits;
- :mod:`~agentcore.tools.local` — the local backends; :mod:`~agentcore.tools.workspace` — confinement;
- :mod:`~agentcore.tools.builtin` — the built-in tools (read/edit/write files, grep, glob, bash, fetch ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentcore._lazy import lazy_exports

_EXPORTS = {
    **dict.fromkeys(("Tool", "ToolContext", "ToolResult", "ToolDescription", "ToolKind", "Safety", "FunctionTool",
                     "DiffPreview", "Location"), "agentcore.tools.base"),
    **dict.fromkeys(("FsBackend", "ShellBackend", "FsError", "FileStat", "OutputSink", "ShellResult"),
                    "agentcore.tools.backends"),
    **dict.fromkeys(("ToolRegistry", "StaticToolRegistry", "CompositeRegistry", "ToolFilter"),
                    "agentcore.tools.registry"),
    **dict.fromkeys(("LocalFs", "LocalShell"), "agentcore.tools.local"),
    **dict.fromkeys(("Workspace", "WorkspaceError"), "agentcore.tools.workspace"),
    **dict.fromkeys(("walk_files",), "agentcore.tools.walk"),  # the .gitignore-aware walk (chat's @path completion)
}  # fmt: skip
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover - static names for type checkers and IDEs
    from agentcore.tools.backends import FileStat, FsBackend, FsError, OutputSink, ShellBackend, ShellResult  # noqa: F401
    from agentcore.tools.base import (  # noqa: F401
        DiffPreview,
        FunctionTool,
        Location,
        Safety,
        Tool,
        ToolContext,
        ToolDescription,
        ToolKind,
        ToolResult,
    )
    from agentcore.tools.local import LocalFs, LocalShell  # noqa: F401
    from agentcore.tools.registry import CompositeRegistry, StaticToolRegistry, ToolFilter, ToolRegistry  # noqa: F401
    from agentcore.tools.workspace import Workspace, WorkspaceError  # noqa: F401
    from agentcore.tools.walk import walk_files  # noqa: F401
