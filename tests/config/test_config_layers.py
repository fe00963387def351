"""Layering: defaults < user < project < local < env < flags, with origins."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentcore.config import Settings, load_settings
from agentcore.config.schema import ConfigError
from agentcore.config.paths import find_project, resolve_paths


def load(layout, env=None, flags=None, cwd=None):
    return load_settings(cwd=cwd or layout.project, env={**layout.env, **(env or {})}, flags=flags)


def test_defaults_when_no_files(layout):
    loaded = load(layout)
    assert loaded.settings == Settings()
    assert loaded.files == ()
    assert loaded.settings.permissions.mode == "ask"
    assert loaded.settings.turn.request_limit == 64
    assert loaded.settings.context.soft == 0.70
    assert set(loaded.settings.providers) == {"anthropic", "openai", "echo"}
    assert all(origin == "default" for origin in loaded.origins.values())


def test_each_layer_beats_the_one_before_and_origins_say_which(layout):
    layout.write(layout.user_config, 'model = "user-model"\nprovider = "openai"\n[turn]\nrequest_limit = 10\n'
                 '[ui]\ntheme = "dark"\n')
    layout.write(layout.project_config, 'model = "project-model"\n[turn]\nrequest_limit = 20\n')
    layout.write(layout.local_config, '[turn]\nrequest_limit = 30\n')
    loaded = load(layout)
    s = loaded.settings
    assert (s.provider, s.model, s.turn.request_limit, s.ui.theme) == ("openai", "project-model", 30, "dark")
    assert loaded.origins["provider"] == str(layout.user_config)
    assert loaded.origins["model"] == str(layout.project_config)
    assert loaded.origins["turn.request_limit"] == str(layout.local_config)
    assert loaded.origins["turn.tool_concurrency"] == "default"
    assert loaded.files == (layout.user_config, layout.project_config, layout.local_config)


def test_env_beats_files_and_flags_beat_env(layout):
    layout.write(layout.project_config, 'model = "file-model"\n[permissions]\nmode = "ask"\n')
    loaded = load(layout, env={"AGENTCORE_MODEL": "env-model", "AGENTCORE_MODE": "yolo",
                               "AGENTCORE_PROVIDER": "anthropic"})
    assert loaded.settings.model == "env-model"
    assert loaded.settings.permissions.mode == "yolo"
    assert loaded.origins["model"] == "env AGENTCORE_MODEL"
    assert loaded.origins["permissions.mode"] == "env AGENTCORE_MODE"

    loaded = load(layout, env={"AGENTCORE_MODEL": "env-model"},
                  flags={"model": "flag-model", "permissions.mode": "read-only", "profile": None})
    assert loaded.settings.model == "flag-model"
    assert loaded.origins["model"] == "flag --model"
    assert loaded.settings.permissions.mode == "read-only"
    assert loaded.origins["permissions.mode"] == "flag --mode"
    assert loaded.origins["profile"] == "default"  # a None flag is "not given"


def test_env_profile_and_empty_env_value(layout):
    loaded = load(layout, env={"AGENTCORE_PROFILE": "coder", "AGENTCORE_MODEL": ""})
    assert loaded.settings.profile == "coder"
    assert loaded.settings.model is None


def test_flag_values_given_as_text_are_parsed(layout):
    loaded = load(layout, flags={"turn.request_limit": "5", "context.auto_compact": "false"})
    assert loaded.settings.turn.request_limit == 5
    assert loaded.settings.context.auto_compact is False
    assert loaded.origins["turn.request_limit"] == "flag --turn.request_limit"


def test_agentcore_home_holds_config_and_state(tmp_path):
    home = tmp_path / "portable"
    paths = resolve_paths({"AGENTCORE_HOME": str(home)})
    assert paths.config_dir == home
    assert paths.user_config_file == home / "config.toml"
    assert paths.user_profiles_dir == home / "profiles"
    assert paths.state_dir == home / "state"
    assert paths.sessions_dir == home / "state" / "sessions"
    assert paths.input_history_file == home / "state" / "input_history"
    assert paths.spill_dir == home / "state" / "spills"
    assert paths.logs_dir == home / "state" / "logs"
    (home).mkdir()
    (home / "config.toml").write_text('model = "portable"\n')
    loaded = load_settings(cwd=tmp_path, env={"AGENTCORE_HOME": str(home)})
    assert loaded.settings.model == "portable"


def test_explicit_user_config_dir_beats_agentcore_home(tmp_path):
    elsewhere = tmp_path / "cfg"
    elsewhere.mkdir()
    (elsewhere / "config.toml").write_text('model = "explicit"\n')
    loaded = load_settings(cwd=tmp_path, env={"AGENTCORE_HOME": str(tmp_path / "h")}, user_config_dir=elsewhere)
    assert loaded.settings.model == "explicit"
    assert loaded.origins["model"] == str(elsewhere / "config.toml")


def test_project_root_is_found_from_a_subdirectory(layout):
    layout.write(layout.project_config, 'model = "from-root"\n')
    deep = layout.project / "src" / "pkg"
    deep.mkdir(parents=True)
    assert find_project(deep).root == layout.project.resolve()
    assert load(layout, cwd=deep).settings.model == "from-root"


def test_project_root_without_markers_is_cwd(tmp_path):
    bare = tmp_path / "bare"
    bare.mkdir()
    assert find_project(bare).root == bare.resolve()
    (bare / "sub").mkdir()
    (bare / ".git").mkdir()
    assert find_project(bare / "sub").root == bare.resolve()


def test_permission_rules_add_up_across_layers(layout):
    layout.write(layout.user_config, '[permissions]\nallow = ["bash(git status*)"]\ndeny = ["read_file(**/.env)"]\n')
    layout.write(layout.project_config, '[permissions]\nallow = ["bash(npm test*)", "bash(git status*)"]\n')
    layout.write(layout.local_config, '[permissions]\nallow = ["bash(make*)"]\n')
    loaded = load(layout)
    assert loaded.settings.permissions.allow == ("bash(git status*)", "bash(npm test*)", "bash(make*)")
    assert loaded.settings.permissions.deny == ("read_file(**/.env)",)
    assert loaded.origins["permissions.allow"] == (
        f"{layout.user_config} + {layout.project_config} + {layout.local_config}"
    )


def test_provider_tables_merge_field_by_field(layout):
    layout.write(layout.user_config, '[providers.openai]\nbase_url = "http://127.0.0.1:9/v1"\n'
                 '[providers.local]\nprotocol = "openai-chat"\nbase_url = "http://127.0.0.1:8/v1"\n'
                 'models = ["small", "large"]\nheaders = { X-Team = "a" }\n'
                 '[providers.anthropic.models."claude-x"]\ncontext_window = 200000\ninput_price = 3\n')
    loaded = load(layout, env={"AGENTCORE_PROVIDER": "local"})
    providers = loaded.settings.providers
    assert providers["openai"].base_url == "http://127.0.0.1:9/v1"
    assert providers["openai"].api_key_env == "OPENAI_API_KEY"  # kept from the built-in
    assert loaded.origins["providers.openai.api_key_env"] == "default"
    assert loaded.origins["providers.openai.base_url"] == str(layout.user_config)
    local = loaded.settings.provider_config()
    assert (local.name, local.protocol, tuple(local.models), local.headers) == (
        "local", "openai-chat", ("small", "large"), {"X-Team": "a"})
    claude = providers["anthropic"].models["claude-x"]
    assert (claude.context_window, claude.input_price, claude.max_output) == (200000, 3, None)
    assert loaded.origins["providers.local.api_key_env"] == "default"


def test_new_provider_without_protocol_is_an_error(layout):
    layout.write(layout.user_config, '[providers.mine]\nbase_url = "http://127.0.0.1:1"\n')
    with pytest.raises(ConfigError) as info:
        load(layout)
    assert info.value.key == "providers.mine.protocol"
    assert str(layout.user_config) in str(info.value)
    assert "anthropic-messages" in str(info.value)


def test_unknown_selected_provider_lists_the_known_ones(layout):
    layout.write(layout.project_config, 'provider = "antropic"\n')
    with pytest.raises(ConfigError) as info:
        load(layout)
    message = str(info.value)
    assert str(layout.project_config) in message and "provider" in message
    assert "anthropic, echo, openai" in message


def test_mcp_servers_get_defaults_and_inferred_transport(layout):
    layout.write(layout.user_config, '[mcp.servers.files]\ncommand = "npx"\nargs = ["-y", "srv"]\n'
                 '[mcp.servers.remote]\nurl = "http://127.0.0.1:5/mcp"\ntransport = "sse"\ntool_timeout_s = 5\n')
    layout.write(layout.project_config, '[mcp.servers.files]\nenabled = false\n')
    loaded = load(layout)
    servers = loaded.settings.mcp.servers
    assert servers["files"].transport == "stdio"
    assert servers["files"].args == ("-y", "srv")
    assert servers["files"].enabled is False
    assert servers["files"].startup_timeout_s == 30.0
    assert servers["remote"].transport == "sse"
    assert servers["remote"].tool_timeout_s == 5.0
    assert loaded.origins["mcp.servers.files.enabled"] == str(layout.project_config)
    assert loaded.origins["mcp.servers.files.command"] == str(layout.user_config)


@pytest.mark.parametrize(
    "table, problem",
    [
        ('command = "x"\nurl = "http://127.0.0.1:1"', "exactly one of command or url"),
        ("enabled = true", "exactly one of command or url"),
        ('url = "http://127.0.0.1:1"\ntransport = "stdio"', 'transport "stdio" does not fit url'),
    ],
)
def test_bad_mcp_server_tables(layout, table, problem):
    layout.write(layout.user_config, f"[mcp.servers.s]\n{table}\n")
    with pytest.raises(ConfigError, match=problem) as info:
        load(layout)
    assert "mcp.servers.s" in str(info.value)
    assert str(layout.user_config) in str(info.value)


def test_hooks_are_checked_and_add_up(layout):
    layout.write(layout.user_config, '[[hooks]]\nevent = "post_tool_use"\nmatcher = "edit_file"\ncommand = "fmt"\n')
    layout.write(layout.project_config, '[[hooks]]\nevent = "session_start"\ncommand = "echo hi"\ntimeout_s = 5\n')
    hooks = load(layout).settings.hooks
    assert [(h.event, h.matcher, h.command, h.timeout_s) for h in hooks] == [
        ("post_tool_use", "edit_file", "fmt", 10.0),
        ("session_start", "*", "echo hi", 5.0),
    ]


def test_settings_default_constructor_matches_loaded_defaults(tmp_path):
    empty = load_settings(cwd=tmp_path, env={"AGENTCORE_HOME": str(tmp_path / "none")})
    assert empty.settings == Settings()
    assert isinstance(empty.paths.state_dir, Path)
