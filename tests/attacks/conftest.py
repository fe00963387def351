"""Fixtures for the attack tests: a fresh workspace per test (helpers live in
attack_support.py, the attack tables in attack_cases.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentcore.tools.workspace import Workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    root = tmp_path / "work"
    root.mkdir()
    return Workspace(root)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder
