"""Fixtures for configuration tests: every path is a tmp dir, env is a dict."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from agentcore.config.paths import AgentPaths, resolve_paths
from agentcore.trust import TrustStore


@attrs.frozen
class Layout:
    home: Path  # AGENTCORE_HOME: user config and state
    project: Path  # a project root (holds .agent/)
    env: dict[str, str]
    paths: AgentPaths

    @property
    def user_config(self) -> Path:
        return self.home / "config.toml"

    @property
    def project_config(self) -> Path:
        return self.project / ".agent" / "config.toml"

    @property
    def local_config(self) -> Path:
        return self.project / ".agent" / "config.local.toml"

    @property
    def user_profiles(self) -> Path:
        return self.home / "profiles"

    @property
    def project_profiles(self) -> Path:
        return self.project / ".agent" / "profiles"

    def write(self, path: Path, text: str) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    home = tmp_path / "home"
    project = tmp_path / "project"
    (project / ".agent").mkdir(parents=True)
    env = {"AGENTCORE_HOME": str(home)}
    paths = resolve_paths(env)
    # The user trusts this project, as `agent trust` would record it; untrusted folders are tests/trust's.
    TrustStore.of(paths).trust(project, home=None)
    return Layout(home=home, project=project, env=env, paths=paths)
