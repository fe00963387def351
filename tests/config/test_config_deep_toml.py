"""TOML nested past the interpreter's recursion limit is a clear configuration
error everywhere it is read, never a RecursionError: the user's config, a
flag or env value, a profile, and the trust summary of a cloned repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentcore.config import ConfigError, load_settings
from agentcore.config.schema import loads_toml
from agentcore.trust import summarize_project_config

DEEP = "a = " + "[" * 5_000 + "]" * 5_000 + "\n"


def test_loads_toml_reports_deep_nesting_as_a_decode_error() -> None:
    import tomllib

    with pytest.raises(tomllib.TOMLDecodeError, match="nested too deeply"):
        loads_toml(DEEP)


def test_a_deep_user_config_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(DEEP)
    with pytest.raises(ConfigError, match=r"config\.toml: invalid TOML: nested too deeply"):
        load_settings(cwd=tmp_path, env={"AGENTCORE_HOME": str(home)})


def test_a_deep_env_value_is_a_config_error(tmp_path: Path) -> None:
    env = {"AGENTCORE_HOME": str(tmp_path), "AGENTCORE_MODE": "[" * 5_000}
    with pytest.raises(ConfigError):
        load_settings(cwd=tmp_path, env=env)


def test_the_trust_summary_of_a_hostile_repository_lists_its_deep_file_as_unreadable(tmp_path: Path) -> None:
    (tmp_path / ".agent").mkdir()
    config = tmp_path / ".agent" / "config.toml"
    config.write_text(DEEP)
    summary = summarize_project_config(tmp_path, (config,))
    assert summary.items == (".agent/config.toml: unreadable (TOMLDecodeError)",)
