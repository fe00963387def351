"""Interop fixtures: each test gets a workspace, an AGENTCORE_HOME and a transcript path."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def interop_dirs(tmp_path: Path) -> dict[str, Path]:
    work = tmp_path / "work"
    work.mkdir()
    return {"work": work.resolve(), "home": tmp_path / "home", "transcript": tmp_path / "transcript.jsonl"}
