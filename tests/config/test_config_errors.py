"""Bad configuration fails loudly, naming the file, the key and what is allowed."""

from __future__ import annotations

import pytest

from agentcore.config import load_settings
from agentcore.config.schema import ConfigError


def load(layout, env=None, flags=None):
    return load_settings(cwd=layout.project, env={**layout.env, **(env or {})}, flags=flags)


def error_for(layout, text: str, *, file=None) -> ConfigError:
    layout.write(file or layout.project_config, text)
    with pytest.raises(ConfigError) as info:
        load(layout)
    return info.value


def test_unknown_top_level_key(layout):
    err = error_for(layout, 'modle = "x"\n')
    assert err.source == str(layout.project_config)
    assert err.key == "modle"
    message = str(err)
    assert str(layout.project_config) in message and "modle" in message and "unknown key" in message
    for allowed in ("model", "provider", "permissions", "providers"):
        assert allowed in err.allowed


def test_unknown_key_in_a_section_lists_that_section(layout):
    err = error_for(layout, "[turn]\nrequest_limt = 3\n", file=layout.user_config)
    assert err.key == "turn.request_limt"
    assert err.source == str(layout.user_config)
    assert err.allowed == "max_tool_result_chars, request_limit, tool_concurrency"


def test_unknown_key_in_a_named_table(layout):
    err = error_for(layout, '[mcp.servers.x]\ncomand = "npx"\n')
    assert err.key == "mcp.servers.x.comand"
    assert "command" in err.allowed and "url" in err.allowed


def test_wrong_type(layout):
    err = error_for(layout, '[turn]\nrequest_limit = "many"\n')
    assert err.key == "turn.request_limit"
    assert 'expected an integer, got string "many"' in str(err)
    assert "integer >= 1" in err.allowed


def test_wrong_choice(layout):
    err = error_for(layout, '[permissions]\nmode = "maybe"\n')
    assert err.key == "permissions.mode"
    assert '"read-only" | "ask" | "accept-edits" | "yolo"' in str(err)


def test_out_of_range(layout):
    err = error_for(layout, "[context]\nsoft = 1.5\n")
    assert err.key == "context.soft" and "out of range" in str(err) and "[0, 1]" in str(err)


def test_scalar_where_a_table_belongs(layout):
    err = error_for(layout, "permissions = 3\n")
    assert err.key == "permissions" and "expected a table" in str(err) and "mode" in err.allowed


def test_bad_permission_rule(layout):
    err = error_for(layout, '[permissions]\ndeny = ["bash(git push"]\n')
    assert err.key == "permissions.deny"
    assert "bash(git push" in str(err) and "tool(pattern)" in str(err)


def test_bool_is_not_a_number(layout):
    err = error_for(layout, "[turn]\ntool_concurrency = true\n")
    assert "expected an integer, got boolean true" in str(err)


def test_bad_model_entry(layout):
    err = error_for(layout, '[providers.openai.models.gpt]\ncontext_windw = 5\n')
    assert err.key == "providers.openai.models" and "context_windw" in str(err) and "context_window" in err.allowed


def test_bad_hook(layout):
    err = error_for(layout, '[[hooks]]\nevent = "on_save"\ncommand = "x"\n')
    assert err.key == "hooks.1.event" and "pre_tool_use" in err.allowed
    err = error_for(layout, '[[hooks]]\nevent = "stop"\n')
    assert "missing 'command'" in str(err)


def test_invalid_toml_names_the_file(layout):
    err = error_for(layout, "model = \n", file=layout.local_config)
    assert err.source == str(layout.local_config) and "invalid TOML" in str(err)


def test_thresholds_out_of_order(layout):
    err = error_for(layout, "[context]\nmicro = 0.8\nsoft = 0.7\n")
    assert err.source == str(layout.project_config)
    assert "micro=0.8, soft=0.7, hard=0.85" in str(err)
    assert "0 < micro <= soft < hard <= 1" in str(err)
    err = error_for(layout, "[context]\nsoft = 0.9\nhard = 0.9\n")
    assert "out of order" in str(err)


def test_micro_may_equal_soft(layout):
    layout.write(layout.project_config, "[context]\nmicro = 0.7\nsoft = 0.7\n")
    assert load(layout).settings.context.micro == 0.7


def test_bash_timeout_above_max(layout):
    err = error_for(layout, "[tools]\nbash_timeout_s = 900\n")
    assert err.key == "tools.bash_timeout_s" and "larger than bash_max_timeout_s" in str(err)


def test_bad_env_value_names_the_variable(layout):
    with pytest.raises(ConfigError) as info:
        load(layout, env={"AGENTCORE_MODE": "reckless"})
    assert info.value.source == "env AGENTCORE_MODE" and "yolo" in str(info.value)


def test_unknown_flag_key(layout):
    with pytest.raises(ConfigError) as info:
        load(layout, flags={"turn.speed": 3})
    assert info.value.source == "command line" and info.value.key == "turn.speed"


def test_flag_with_wrong_type(layout):
    with pytest.raises(ConfigError) as info:
        load(layout, flags={"turn.request_limit": "lots"})
    assert info.value.source == "flag --turn.request_limit" and '"lots" is not a integer' in str(info.value)
