"""The `agent config|profiles|init` commands, run through their argparse wiring."""

from __future__ import annotations

import argparse
import io
import tomllib

import pytest

from agentcore.cli.config_cmds import ConfigCommandContext, add_subparsers


def run(layout, *argv, env=None, flags=None, cwd=None):
    parser = argparse.ArgumentParser(prog="agent")
    add_subparsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    out, err = io.StringIO(), io.StringIO()
    ctx = ConfigCommandContext(cwd=cwd or layout.project, env={**layout.env, **(env or {})}, stdout=out, stderr=err,
                               flags=flags or {})
    code = args.handler(args, ctx)
    return code, out.getvalue(), err.getvalue()


def origin_lines(text):
    """key -> (value text, origin) from `config show --origin` output."""
    rows = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        left, origin = line.rsplit("  # ", 1)
        key, value = left.split(" = ", 1)
        rows[key] = (value.strip(), origin)
    return rows


def test_config_show_origin_lists_every_value_with_its_source(layout):
    layout.write(layout.user_config, 'provider = "openai"\n[providers.openai]\nheaders = { Authorization = "tok" }\n')
    layout.write(layout.project_config, '[turn]\nrequest_limit = 7\n[permissions]\nallow = ["bash(ls*)"]\n')
    code, out, err = run(layout, "config", "show", "--origin", env={"AGENTCORE_MODEL": "m1"},
                         flags={"permissions.mode": "yolo"})
    assert code == 0 and err == ""
    rows = origin_lines(out)
    assert rows["provider"] == ('"openai"', str(layout.user_config))
    assert rows["model"] == ('"m1"', "env AGENTCORE_MODEL")
    assert rows["permissions.mode"] == ('"yolo"', "flag --mode")
    assert rows["turn.request_limit"] == ("7", str(layout.project_config))
    assert rows["permissions.allow"] == ('["bash(ls*)"]', str(layout.project_config))
    assert rows["turn.tool_concurrency"] == ("8", "default")
    assert rows["reasoning_effort"] == ("(not set)", "default")
    assert rows["providers.openai.headers"] == ('{Authorization = "***"}', str(layout.user_config))
    assert "tok" not in out
    from agentcore.config import CONFIG_KEYS

    plain_keys = {k.name for k in CONFIG_KEYS if "*" not in k.name}
    assert plain_keys <= set(rows)
    assert f"# files read: {layout.user_config}, {layout.project_config}" in out


def test_config_show_prints_loadable_toml(layout):
    layout.write(layout.project_config, 'model = "m"\n[mcp.servers.s]\ncommand = "srv"\nenv = { TOKEN = "t" }\n')
    code, out, _ = run(layout, "config", "show")
    assert code == 0
    doc = tomllib.loads(out)
    assert doc["model"] == "m"
    assert doc["turn"]["request_limit"] == 64
    assert doc["mcp"]["servers"]["s"]["env"] == {"TOKEN": "***"}
    assert "provider" not in doc  # unset values are left out


def test_config_show_reports_config_errors(layout):
    layout.write(layout.project_config, "[turn]\nrequest_limit = 0\n")
    code, out, err = run(layout, "config", "show")
    assert code == 1 and out == ""
    assert str(layout.project_config) in err and "turn.request_limit" in err and ">= 1" in err


@pytest.mark.parametrize("where, file_attr", [((), "user_config"), (("--project",), "project_config"),
                                              (("--local",), "local_config")])
def test_config_set_writes_the_chosen_file(layout, where, file_attr):
    code, out, _ = run(layout, "config", "set", "turn.request_limit", "9", *where)
    target = getattr(layout, file_attr)
    assert code == 0 and str(target) in out
    assert tomllib.loads(target.read_text())["turn"]["request_limit"] == 9
    code, out, _ = run(layout, "config", "show", "--origin")
    assert origin_lines(out)["turn.request_limit"] == ("9", str(target))


def test_config_set_error_exit_code(layout):
    code, out, err = run(layout, "config", "set", "permissions.mode", "sometimes")
    assert code == 1 and "permissions.mode" in err and "accept-edits" in err
    assert not layout.user_config.exists()


def test_config_set_mentions_backup_of_comments(layout):
    layout.write(layout.user_config, "# hello\n")
    code, out, _ = run(layout, "config", "set", "model", "x")
    assert code == 0 and "config.toml.bak" in out


def test_profiles_list(layout):
    layout.write(layout.project_profiles / "reviewer.toml", 'description = "house reviewer"\n')
    code, out, _ = run(layout, "profiles", "list")
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert set(lines) == {"coder", "default", "reviewer"}
    assert "shipped" in lines["coder"] and "Software engineer" in lines["coder"]
    assert "project" in lines["reviewer"] and "house reviewer" in lines["reviewer"]
    assert "overrides 1 other" in lines["reviewer"]


def test_profiles_show(layout):
    code, out, _ = run(layout, "profiles", "show", "reviewer")
    assert code == 0
    assert 'permissions.mode = "read-only"' in out
    assert 'tools.allow = ["read_file", "glob", "grep", "update_plan"]' in out
    assert "--- prompt ---" in out and "reviewing code" in out
    code, out, _ = run(layout, "profiles", "show", "coder")
    assert 'agents.spawn = ["reviewer"]' in out


def test_profiles_show_unknown(layout):
    code, out, err = run(layout, "profiles", "show", "nobody")
    assert code == 1 and 'unknown profile "nobody"' in err and "coder, default, reviewer" in err


def test_init_prints_names_never_values(layout):
    code, out, _ = run(layout, "init", env={"ANTHROPIC_API_KEY": "sk-ant-VERYSECRET"})
    assert code == 0
    assert "ANTHROPIC_API_KEY" in out and "VERYSECRET" not in out
    assert f'wrote provider = "anthropic" to {layout.user_config}' in out
    assert "VERYSECRET" not in layout.user_config.read_text()


def test_init_with_model_and_without_keys(layout):
    code, out, _ = run(layout, "init")
    assert code == 1 and "no API key found" in out
    code, out, _ = run(layout, "init", "--provider", "echo", "--model", "echo-1")
    assert code == 0
    assert tomllib.loads(layout.user_config.read_text()) == {"provider": "echo", "model": "echo-1"}


def test_config_show_applies_the_selected_profile(layout):
    layout.write(layout.project_profiles / "strict.toml", '[permissions]\nmode = "read-only"\n'
                 '[context]\nsoft = 0.6\n')
    code, out, _ = run(layout, "config", "show", "--origin", flags={"profile": "strict"})
    assert code == 0
    rows = origin_lines(out)
    strict = layout.project_profiles / "strict.toml"
    assert rows["profile"] == ('"strict"', "flag --profile")
    assert rows["permissions.mode"] == ('"read-only"', f"profile strict ({strict.resolve()})")
    assert rows["context.soft"][0] == "0.6"
    code, _, err = run(layout, "config", "show", env={"AGENTCORE_PROFILE": "missing"})
    assert code == 1 and 'unknown profile "missing"' in err


def test_real_agent_command_end_to_end(layout):
    """`agent config set` then `agent config show --origin` through cli.main, in a child process."""
    import subprocess
    import sys

    child_env = {"PATH": "/usr/bin:/bin", **layout.env}

    def agent(*argv):
        return subprocess.run([sys.executable, "-m", "agentcore.cli.main", *argv], capture_output=True, text=True,
                              cwd=layout.project, env=child_env, timeout=60)

    result = agent("config", "set", "turn.request_limit", "21", "--project")
    assert result.returncode == 0, result.stderr
    result = agent("config", "show", "--origin")
    assert result.returncode == 0, result.stderr
    rows = origin_lines(result.stdout)
    assert rows["turn.request_limit"] == ("21", str(layout.project_config.resolve()))
    result = agent("profiles", "show", "nobody")
    assert result.returncode == 1 and 'unknown profile "nobody"' in result.stderr
