"""Fixtures for the permission-gate tests: a workspace with a victim file, and
gates built from rule texts (helpers live in perm_support.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentcore.tools.workspace import Workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    root = tmp_path / "work"
    root.mkdir()
    return Workspace(root)
