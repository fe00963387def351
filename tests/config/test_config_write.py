"""Writing configuration: `config set`, remembered permission rules, `init`."""

from __future__ import annotations

import tomllib

import pytest

from agentcore.config import load_settings
from agentcore.config.schema import ConfigError
from agentcore.config.write import init_user_config, persist_permission_rule, set_config_value


def read(path):
    return tomllib.loads(path.read_text(encoding="utf-8"))


def test_set_keeps_other_content(layout):
    layout.write(layout.user_config, 'model = "m"\n[permissions]\nallow = ["bash(ls*)"]\n'
                 '[providers.local]\nprotocol = "openai-chat"\nbase_url = "http://127.0.0.1:1/v1"\n')
    before = read(layout.user_config)
    result = set_config_value(layout.user_config, "turn.request_limit", "12")
    assert result.changed and result.backup is None
    after = read(layout.user_config)
    assert after["turn"] == {"request_limit": 12}
    del after["turn"]
    assert after == before
    assert load_settings(cwd=layout.project, env=layout.env).settings.turn.request_limit == 12


@pytest.mark.parametrize(
    "key, text, path, expected",
    [
        ("context.auto_compact", "false", ["context", "auto_compact"], False),
        ("context.soft", "0.75", ["context", "soft"], 0.75),
        ("permissions.allow", '["bash(git *)", "read_file"]', ["permissions", "allow"], ["bash(git *)", "read_file"]),
        ("model", "claude-sonnet-4-5", ["model"], "claude-sonnet-4-5"),  # not TOML: a plain string
        ("model", "42", ["model"], "42"),  # a string key keeps digits as text
        ("model", '"quoted"', ["model"], "quoted"),
        ("providers.local.headers", '{ X-Team = "a" }', ["providers", "local", "headers"], {"X-Team": "a"}),
        ('providers."my.host".protocol', "openai-chat", ["providers", "my.host", "protocol"], "openai-chat"),
    ],
)
def test_set_parses_toml_literals_else_strings(layout, key, text, path, expected):
    set_config_value(layout.project_config, key, text)
    node = read(layout.project_config)
    for part in path:
        node = node[part]
    assert node == expected


def test_set_creates_missing_file_and_dirs(tmp_path):
    target = tmp_path / "new" / ".agent" / "config.toml"
    set_config_value(target, "permissions.mode", "yolo")
    assert read(target) == {"permissions": {"mode": "yolo"}}


@pytest.mark.parametrize(
    "key, value, problem",
    [
        ("turn.request_limt", "3", "unknown key"),
        ("permissions", "3", "is a table"),
        ("permissions.mode", "maybe", "not an allowed value"),
        ("turn.request_limit", "lots", "expected an integer"),
        ("permissions.allow", "bash(ls)", "expected a list of strings"),
        ("turn..x", "1", "not a valid dotted key"),
    ],
)
def test_bad_set_leaves_the_file_untouched(layout, key, value, problem):
    original = 'model = "keep"\n'
    layout.write(layout.user_config, original)
    with pytest.raises(ConfigError, match=problem) as info:
        set_config_value(layout.user_config, key, value)
    assert str(layout.user_config) in str(info.value)
    assert layout.user_config.read_text() == original


def test_unknown_key_error_lists_the_section(layout):
    with pytest.raises(ConfigError) as info:
        set_config_value(layout.user_config, "turn.request_limt", "3")
    assert info.value.allowed == "max_tool_result_chars, request_limit, tool_concurrency"
    assert not layout.user_config.exists()


def test_set_into_a_broken_file_refuses(layout):
    layout.write(layout.user_config, "model = \n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        set_config_value(layout.user_config, "model", "x")
    assert layout.user_config.read_text() == "model = \n"


def test_set_that_would_break_cross_key_rules_is_caught_by_the_loader(layout):
    set_config_value(layout.project_config, "context.micro", "0.95")
    with pytest.raises(ConfigError, match="out of order"):
        load_settings(cwd=layout.project, env=layout.env)


def test_comments_are_backed_up_not_lost(layout):
    original = '# my settings\nmodel = "m" # inline\n[ui]\ntheme = "#dark"\n'
    layout.write(layout.user_config, original)
    result = set_config_value(layout.user_config, "ui.color", "never")
    assert result.backup == layout.user_config.with_name("config.toml.bak")
    assert result.backup.read_text() == original
    assert read(layout.user_config) == {"model": "m", "ui": {"theme": "#dark", "color": "never"}}
    # hash inside a string is not a comment: no second backup needed
    result.backup.unlink()
    assert set_config_value(layout.user_config, "ui.color", "auto").backup is None


def test_setting_the_same_value_reports_no_change(layout):
    set_config_value(layout.user_config, "model", "m")
    assert not set_config_value(layout.user_config, "model", "m").changed


def test_persist_rule_then_reload_sees_it_and_twice_adds_nothing(layout):
    layout.write(layout.local_config, '[permissions]\nallow = ["bash(ls*)"]\nmode = "ask"\n')
    first = persist_permission_rule("bash(npm test*)", scope="project", paths=layout.paths, cwd=layout.project)
    assert first.changed and first.path == layout.local_config
    second = persist_permission_rule("bash(npm test*)", scope="project", paths=layout.paths, cwd=layout.project)
    assert not second.changed
    assert read(layout.local_config)["permissions"] == {"allow": ["bash(ls*)", "bash(npm test*)"], "mode": "ask"}
    settings = load_settings(cwd=layout.project, env=layout.env).settings
    assert settings.permissions.allow == ("bash(ls*)", "bash(npm test*)")


def test_persist_rule_from_a_subdirectory_goes_to_the_project(layout):
    deep = layout.project / "a" / "b"
    deep.mkdir(parents=True)
    result = persist_permission_rule("edit_file(src/*)", scope="project", paths=layout.paths, cwd=deep)
    assert result.path == layout.local_config


def test_persist_rule_user_scope(layout):
    result = persist_permission_rule("fetch(https://docs.python.org/*)", scope="user", paths=layout.paths,
                                     cwd=layout.project)
    assert result.path == layout.user_config
    other_project = layout.home.parent / "other"
    other_project.mkdir()
    settings = load_settings(cwd=other_project, env=layout.env).settings
    assert settings.permissions.allow == ("fetch(https://docs.python.org/*)",)


def test_persist_rejects_malformed_rules(layout):
    with pytest.raises(ConfigError, match="tool\\(pattern\\)"):
        persist_permission_rule("bash(oops", scope="project", paths=layout.paths, cwd=layout.project)
    assert not layout.local_config.exists()


def test_init_detects_key_names_and_writes_provider(layout):
    secret = "sk-test-SECRET-value"
    env = {**layout.env, "OPENAI_API_KEY": secret}
    report = init_user_config(env=env, paths=layout.paths)
    assert report.found_key_vars == ("OPENAI_API_KEY",)
    assert report.provider == "openai"
    assert read(layout.user_config) == {"provider": "openai"}
    assert secret not in report.message and secret not in layout.user_config.read_text()


def test_init_prefers_the_first_builtin_and_respects_existing(layout):
    env = {**layout.env, "OPENAI_API_KEY": "x", "ANTHROPIC_API_KEY": "y"}
    assert init_user_config(env=env, paths=layout.paths).provider == "anthropic"
    again = init_user_config(env={**layout.env, "OPENAI_API_KEY": "x"}, paths=layout.paths)
    assert again.result is None and "--force" in again.message
    assert read(layout.user_config)["provider"] == "anthropic"
    forced = init_user_config(env={**layout.env, "OPENAI_API_KEY": "x"}, paths=layout.paths, force=True)
    assert forced.provider == "openai" and read(layout.user_config)["provider"] == "openai"


def test_init_without_keys_writes_nothing(layout):
    report = init_user_config(env=layout.env, paths=layout.paths)
    assert report.provider is None and report.result is None
    assert "ANTHROPIC_API_KEY" in report.message
    assert not layout.user_config.exists()


def test_init_explicit_provider_and_model(layout):
    layout.write(layout.user_config, '[providers.local]\nprotocol = "openai-chat"\nbase_url = "http://127.0.0.1:1"\n'
                 'api_key_env = "LOCAL_KEY"\n')
    report = init_user_config(env={**layout.env, "LOCAL_KEY": "k"}, paths=layout.paths, provider="local",
                              model="small")
    assert report.found_key_vars == ("LOCAL_KEY",)
    doc = read(layout.user_config)
    assert (doc["provider"], doc["model"], doc["providers"]["local"]["api_key_env"]) == ("local", "small", "LOCAL_KEY")
    with pytest.raises(ConfigError, match='unknown provider "nope"'):
        init_user_config(env=layout.env, paths=layout.paths, provider="nope")
