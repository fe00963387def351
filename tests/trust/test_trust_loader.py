"""The loader ignores an untrusted folder's configuration, says what it ignored,
and applies it once the user trusts the folder (store, env, user config or flag)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from agentcore.config import load_settings
from agentcore.mcp.spec import session_specs
from agentcore.config.paths import resolve_paths
from agentcore.config.profiles import ProfileError, list_profiles, load_profile
from agentcore.trust import TrustStore


def test_untrusted_folder_configuration_is_ignored_and_listed(repo, env) -> None:
    loaded = load_settings(cwd=repo.root, env=env)
    s = loaded.settings
    assert not loaded.trust.trusted
    assert s.permissions.mode == "ask" and s.permissions.allow == ()
    assert s.hooks == () and dict(s.mcp.servers) == {}
    assert s.trust.project_config is False
    assert loaded.files == ()
    items = "\n".join(loaded.trust.ignored.items)
    assert f"hook on session_start runs: touch {repo.hook_marker}" in items
    assert "MCP server jsonsrv: runs sh -c touch" in items and "MCP server cfgsrv: runs sh" in items
    assert "permission mode yolo" in items and "allow rule bash(*)" in items and "allow rule bash(touch *)" in items
    assert "profile evil" in items
    notice = loaded.trust.notice()
    assert "agent trust" in notice and str(repo.root) in notice


def test_provider_endpoints_are_listed_without_secret_values(repo, env) -> None:
    repo.redirect_provider("http://127.0.0.1:1/v1")
    (repo.root / ".agent" / "config.toml").open("a").write('headers = { "x-token" = "hunter2" }\n')
    items = "\n".join(load_settings(cwd=repo.root, env=env).trust.ignored.items)
    assert "provider openai: base_url http://127.0.0.1:1/v1, api_key_env AWS_SECRET_ACCESS_KEY, headers x-token" in items
    assert "hunter2" not in items


@pytest.mark.parametrize("how", ["store", "env", "user config", "flag"])
def test_trusted_folder_configuration_applies(repo, env, how) -> None:
    flags = None
    if how == "store":
        TrustStore.of(resolve_paths(env)).trust(repo.root, home=None)
    elif how == "env":
        env = {**env, "AGENTCORE_TRUST_PROJECT": "1"}
    elif how == "user config":
        home = Path(env["AGENTCORE_HOME"])
        home.mkdir()
        (home / "config.toml").write_text("[trust]\nproject_config = true\n")
    else:
        flags = {"trust.project_config": True}
    loaded = load_settings(cwd=repo.root / ".agent", env=env, flags=flags)  # a subfolder: same project
    assert loaded.trust.trusted and loaded.trust.ignored is None
    assert loaded.settings.permissions.mode == "yolo"
    assert [h.event for h in loaded.settings.hooks] == ["session_start"]
    assert "cfgsrv" in loaded.settings.mcp.servers


def test_a_project_cannot_trust_itself(repo, env) -> None:
    loaded = load_settings(cwd=repo.root, env=env)
    assert not loaded.trust.trusted  # its [trust] project_config = true had no effect
    TrustStore.of(resolve_paths(env)).trust(repo.root, home=None)
    trusted = load_settings(cwd=repo.root, env=env)
    assert trusted.trust.trusted and trusted.origins["trust.project_config"] == "default"


def test_untrusted_project_profiles_are_not_loaded(repo, env) -> None:
    paths = resolve_paths(env)
    with pytest.raises(ProfileError, match='unknown profile "evil"'):
        load_profile("evil", cwd=repo.root, paths=paths)
    assert "evil" not in {p.name for p in list_profiles(cwd=repo.root, paths=paths)}
    assert load_profile("evil", cwd=repo.root, paths=paths, project_trusted=True).mode == "yolo"
    TrustStore.of(paths).trust(repo.root, home=None)
    assert load_profile("evil", cwd=repo.root, paths=paths).origin == "project"


def test_untrusted_mcp_json_is_not_read(repo, env) -> None:
    from agentcore.config.settings import Settings

    session = SimpleNamespace(cwd=repo.root, policy=SimpleNamespace(settings=Settings()),
                              info=SimpleNamespace(mcp_servers=()))
    assert session_specs(session, env=env) == ()
    assert [s.name for s in session_specs(session, env=env, project_trusted=True)] == ["jsonsrv"]


def test_a_folder_without_project_files_has_nothing_to_ignore(tmp_path: Path, env) -> None:
    (tmp_path / "plain" / ".git").mkdir(parents=True)
    loaded = load_settings(cwd=tmp_path / "plain", env=env)
    assert loaded.trust.ignored is None and loaded.trust.notice() is None
