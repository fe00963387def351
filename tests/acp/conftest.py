"""Fixtures for the ACP frontend tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from acp_fakes import ScriptedProvider, make_core


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    return root


@pytest.fixture
def provider() -> ScriptedProvider:
    return ScriptedProvider()


@pytest.fixture
def core(provider: ScriptedProvider, tmp_path: Path):  # type: ignore[no-untyped-def]
    return make_core(provider, tmp_path / "state")
