"""Old module paths, kept importable for one release.

The flat modules moved into wings (``agentcore.compaction`` is now
``agentcore.session.compaction``, ``agentcore.store_format`` is
``agentcore.store.format``, ...). Importing an old path still works: one finder
on ``sys.meta_path`` (installed by ``agentcore/__init__``) answers for every
name in :data:`MOVED` with the module at its new path — the same object, so
``isinstance`` and monkeypatching keep working — and a ``DeprecationWarning``.
The finder sits at the end of ``sys.meta_path``: it only sees names nothing
else could import, so ordinary imports never pay for it.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import warnings
from collections.abc import Mapping, Sequence
from types import ModuleType

# old module name -> the module that replaced it
MOVED: Mapping[str, str] = {
    "agentcore.agents": "agentcore.session.subagents",
    "agentcore.compaction": "agentcore.session.compaction",
    "agentcore.goal": "agentcore.session.goal",
    "agentcore.hooks": "agentcore.session.hooks",
    "agentcore.outcomes": "agentcore.session.outcomes",
    "agentcore.persistence": "agentcore.session.persistence",
    "agentcore.turn_request": "agentcore.turn.request",
    "agentcore.turn_tools": "agentcore.turn.tool_calls",
    "agentcore.config_doc": "agentcore.config.doc",
    "agentcore.config_schema": "agentcore.config.schema",
    "agentcore.config_write": "agentcore.config.write",
    "agentcore.paths": "agentcore.config.paths",
    "agentcore.profiles": "agentcore.config.profiles",
    "agentcore.settings": "agentcore.config.settings",
    "agentcore.mcp_server": "agentcore.mcp.connection",
    "agentcore.mcp_spec": "agentcore.mcp.spec",
    "agentcore.mcp_state": "agentcore.mcp.state",
    "agentcore.mcp_stdio": "agentcore.mcp.stdio",
    "agentcore.mcp_tools": "agentcore.mcp.tools",
    "agentcore.store_files": "agentcore.store.files",
    "agentcore.store_format": "agentcore.store.format",
    "agentcore.store_recorder": "agentcore.store.recorder",
}


class _Alias:
    """Loads an old name as the module at its new name (an importlib Loader by
    protocol; subclassing importlib.abc would cost every start-up ~7 ms)."""

    def __init__(self, new: str) -> None:
        self.new = new
        self._own_spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        warnings.warn(
            f"{spec.name} is deprecated and will be removed in the next release; import {self.new}",
            DeprecationWarning,
            stacklevel=2,  # the import machinery's frames are skipped: this names the importing line
        )
        module = importlib.import_module(self.new)
        self._own_spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The import system stamped the old name's spec on the module; it keeps its own.
        module.__spec__ = self._own_spec


class MovedModuleFinder:
    """A meta path finder (by protocol) for the names in :data:`MOVED`."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        new = MOVED.get(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Alias(new))


def install() -> None:
    """Put the finder on ``sys.meta_path`` (once)."""
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(MovedModuleFinder())
