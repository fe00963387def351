from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from agentcore import AgentCoreBuilder, SessionCreateInfo, SessionPolicy
from agentcore.tools.base import Tool

from core_fakes import ScriptedProvider


@pytest.fixture
def make_core(tmp_path: Path):
    """Build a core around a scripted provider; returns (core, provider)."""

    def build(scripts: Sequence[Any], *, tools: Sequence[Tool] = (), policy: SessionPolicy | None = None, builtin: bool = False, window: int = 100_000):
        provider = ScriptedProvider(scripts, window=window)
        builder = AgentCoreBuilder().with_provider(provider, "scripted").with_tools(tools).with_state_dir(tmp_path / "state")
        if not builtin:
            builder = builder.without_builtin_tools()
        if policy is not None:
            builder = builder.with_policy(policy)
        return builder.build(), provider

    return build


@pytest.fixture
def info(tmp_path: Path) -> SessionCreateInfo:
    work = tmp_path / "work"
    work.mkdir()
    return SessionCreateInfo(cwd=work)
