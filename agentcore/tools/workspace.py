"""Workspace confinement: every path a tool touches must resolve inside a root.

Resolution follows symlinks (``Path.resolve``), so a link pointing outside the
workspace is refused just like ``../``. Refusals are :class:`WorkspaceError`,
which tools turn into error results for the model.
"""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from agentcore.errors import ToolError


class WorkspaceError(ToolError):
    pass


@attrs.frozen
class Workspace:
    cwd: Path = attrs.field(converter=lambda p: Path(p).resolve())
    additional: tuple[Path, ...] = attrs.field(
        default=(), converter=lambda ps: tuple(Path(p).resolve() for p in ps)
    )

    @property
    def roots(self) -> tuple[Path, ...]:
        return (self.cwd, *self.additional)

    def resolve(self, path: str | os.PathLike[str]) -> Path:
        """Absolute, symlink-free path inside a root, or :class:`WorkspaceError`."""
        raw = Path(os.path.expanduser(os.fspath(path)))
        candidate = raw if raw.is_absolute() else self.cwd / raw
        resolved = candidate.resolve()  # strict=False: the file may not exist yet
        for root in self.roots:
            if resolved == root or resolved.is_relative_to(root):
                return resolved
        roots = ", ".join(str(r) for r in self.roots)
        raise WorkspaceError(
            f"{path} resolves to {resolved}, outside the workspace ({roots}); "
            "only files inside the workspace can be accessed"
        )

    def relative(self, path: Path) -> str:
        """A display path: relative to cwd when inside it, else absolute."""
        try:
            return path.relative_to(self.cwd).as_posix() or "."
        except ValueError:
            return str(path)

    def contains(self, path: Path) -> bool:
        try:
            self.resolve(path)
        except WorkspaceError:
            return False
        return True
