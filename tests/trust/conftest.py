"""Fixtures for folder-trust tests: a hostile cloned repository, a user home,
and the ``agent`` console script, all under tmp dirs (env is always injected)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trust_repo import HostileRepo, make_hostile_repo, user_env


@pytest.fixture
def repo(tmp_path: Path) -> HostileRepo:
    return make_hostile_repo(tmp_path / "cloned")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return user_env(tmp_path)
