"""Fixtures for the built-in tool tests: a real workspace in a tmp dir and a
ToolContext over the local backends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentcore.tools.base import ToolContext
from agentcore.tools.local import LocalFs, LocalShell
from agentcore.tools.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


@pytest.fixture
def make_ctx(tmp_path: Path, ws: Path) -> Callable[..., ToolContext]:
    def make(**overrides: Any) -> ToolContext:
        values: dict[str, Any] = {
            "session_id": "test-session",
            "workspace": Workspace(ws),
            "fs": LocalFs(),
            "shell": LocalShell(),
            "spill_dir": tmp_path / "spill",
        }
        values.update(overrides)
        return ToolContext(**values)

    return make


@pytest.fixture
def ctx(make_ctx: Callable[..., ToolContext]) -> ToolContext:
    return make_ctx()
