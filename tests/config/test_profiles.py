"""Profiles: shipped ones, precedence, formats, validation, applying over config."""

from __future__ import annotations

import pytest

from agentcore.config import load_settings
from agentcore.config.schema import ConfigError
from agentcore.config.profiles import SAFE_READ_ONLY_TOOLS, ProfileError, apply_profile, list_profiles, load_profile


def profile(layout, name):
    return load_profile(name, cwd=layout.project, paths=layout.paths)


def test_shipped_profiles_load_and_validate(layout):
    default, coder, reviewer = (profile(layout, n) for n in ("default", "coder", "reviewer"))
    assert {p.origin for p in (default, coder, reviewer)} == {"shipped"}
    for offered in (default, coder):
        # every built-in tool and every MCP tool is offered; the gate decides each call
        allow = offered.effective_tools_allow
        assert allow == ("*",)
        assert offered.mode is None and offered.rules_allow == () and offered.tools_deny == ()
    assert coder.spawn == ("reviewer",)
    assert coder.prompt and "software engineer" in coder.prompt
    assert reviewer.effective_tools_allow == SAFE_READ_ONLY_TOOLS
    assert reviewer.mode == "read-only"
    assert reviewer.prompt and "review" in reviewer.prompt
    assert all(p.description for p in (default, coder, reviewer))
    assert all(p.provider is None and p.model is None for p in (default, coder, reviewer))


def test_safe_read_only_set_when_tools_allow_is_omitted(layout):
    layout.write(layout.user_profiles / "plain.toml", 'description = "no tools listed"\n')
    plain = profile(layout, "plain")
    assert plain.tools_allow is None
    assert plain.effective_tools_allow == ("read_file", "glob", "grep", "update_plan")
    assert "bash" not in plain.effective_tools_allow and "fetch" not in plain.effective_tools_allow


def test_project_beats_user_beats_shipped(layout):
    layout.write(layout.user_profiles / "coder.toml", 'description = "user coder"\n')
    assert profile(layout, "coder").description == "user coder"
    assert profile(layout, "coder").origin == "user"
    layout.write(layout.project_profiles / "coder.md", '+++\ndescription = "project coder"\n+++\nProject prompt.\n')
    chosen = profile(layout, "coder")
    assert (chosen.description, chosen.origin, chosen.prompt) == ("project coder", "project", "Project prompt.")
    infos = {i.name: i for i in list_profiles(cwd=layout.project, paths=layout.paths)}
    assert infos["coder"].origin == "project"
    assert len(infos["coder"].shadows) == 2
    assert infos["reviewer"].origin == "shipped" and infos["reviewer"].shadows == ()


def test_markdown_front_matter_profile(layout):
    layout.write(layout.project_profiles / "refactor.md", """+++
description = "Careful refactoring"
provider = "anthropic"
model = "claude-x"
request_limit = 100
inherit_project_prompt = false

[tools]
allow = ["read_file", "edit_file", "bash"]
deny = ["fetch"]

[permissions]
mode = "accept-edits"
allow = ["bash(pytest*)"]
deny = ["bash(git push*)"]

[sampling]
temperature = 0.2
max_tokens = 4096
reasoning_effort = "high"

[context]
soft = 0.6
hard = 0.8
micro = 0.5
+++

You refactor in small steps.
Run the tests after each one.
""")
    p = profile(layout, "refactor")
    assert p.prompt == "You refactor in small steps.\nRun the tests after each one."
    assert (p.provider, p.model, p.request_limit, p.inherit_project_prompt) == ("anthropic", "claude-x", 100, False)
    assert p.tools_allow == ("read_file", "edit_file", "bash") and p.tools_deny == ("fetch",)
    assert (p.mode, p.rules_allow, p.rules_deny) == ("accept-edits", ("bash(pytest*)",), ("bash(git push*)",))
    assert (p.temperature, p.max_tokens, p.reasoning_effort) == (0.2, 4096, "high")
    assert (p.micro, p.soft, p.hard) == (0.5, 0.6, 0.8)


def test_prompt_file_is_relative_to_the_profile(layout):
    layout.write(layout.user_profiles / "prompts" / "ops.md", "Operate carefully.\n")
    layout.write(layout.user_profiles / "ops.toml", 'prompt_file = "prompts/ops.md"\n')
    assert profile(layout, "ops").prompt == "Operate carefully.\n"


def test_missing_prompt_file_names_profile_and_key(layout):
    path = layout.write(layout.user_profiles / "ops.toml", 'prompt_file = "nope.md"\n')
    with pytest.raises(ProfileError) as info:
        profile(layout, "ops")
    assert info.value.source == str(path) and info.value.key == "prompt_file" and "nope.md" in str(info.value)


def test_prompt_given_twice_is_an_error(layout):
    layout.write(layout.user_profiles / "twice.md", '+++\nprompt = "inline"\n+++\nbody\n')
    with pytest.raises(ProfileError, match="given twice"):
        profile(layout, "twice")


def test_unknown_profile_lists_the_available_ones(layout):
    layout.write(layout.user_profiles / "mine.toml", "")
    with pytest.raises(ProfileError) as info:
        profile(layout, "codr")
    assert 'unknown profile "codr"' in str(info.value)
    assert info.value.allowed == "coder, default, mine, reviewer"
    assert isinstance(info.value, ConfigError)


def test_unknown_profile_key_names_file_and_key(layout):
    path = layout.write(layout.project_profiles / "bad.toml", '[tools]\nalow = ["*"]\n')
    with pytest.raises(ConfigError) as info:
        profile(layout, "bad")
    assert info.value.source == str(path) and info.value.key == "tools.alow"
    assert info.value.allowed == "allow, deny, web_search, web_search_allowed_domains, web_search_blocked_domains"


def test_wrong_type_in_profile(layout):
    layout.write(layout.project_profiles / "bad.toml", '[sampling]\ntemperature = "hot"\n')
    with pytest.raises(ConfigError, match="sampling.temperature: expected a number"):
        profile(layout, "bad")


def test_profile_thresholds_are_validated(layout):
    path = layout.write(layout.project_profiles / "t.toml", "[context]\nmicro = 0.9\nsoft = 0.8\nhard = 0.95\n")
    with pytest.raises(ConfigError) as info:
        profile(layout, "t")
    assert info.value.source == str(path) and "micro <= soft < hard" in str(info.value)
    # a partial set is checked against the defaults (soft 0.70 < hard 0.85)
    layout.write(layout.project_profiles / "t.toml", "[context]\nhard = 0.65\n")
    with pytest.raises(ConfigError, match="hard=0.65"):
        profile(layout, "t")


def test_spawn_must_name_existing_profiles(layout):
    path = layout.write(layout.project_profiles / "lead.toml", '[agents]\nspawn = ["reviewer", "ghost"]\n')
    with pytest.raises(ProfileError) as info:
        profile(layout, "lead")
    assert info.value.source == str(path) and 'unknown profile "ghost"' in str(info.value)
    assert "reviewer" in info.value.allowed


def test_markdown_without_front_matter_is_an_error(layout):
    layout.write(layout.project_profiles / "x.md", "just text\n")
    with pytest.raises(ProfileError, match=r"starts with a \+\+\+ line"):
        profile(layout, "x")
    layout.write(layout.project_profiles / "x.md", "+++\ndescription = 'x'\nno closing fence\n")
    with pytest.raises(ProfileError, match="no closing"):
        profile(layout, "x")


def test_toml_and_md_of_the_same_name_in_one_place_is_an_error(layout):
    layout.write(layout.project_profiles / "dup.toml", "")
    layout.write(layout.project_profiles / "dup.md", "+++\n+++\n")
    with pytest.raises(ProfileError, match="keep one"):
        profile(layout, "dup")


def test_list_reports_broken_profiles_without_failing(layout):
    layout.write(layout.project_profiles / "broken.toml", "description = \n")
    infos = {i.name: i for i in list_profiles(cwd=layout.project, paths=layout.paths)}
    assert infos["broken"].error and "invalid TOML" in infos["broken"].error
    assert infos["default"].error is None


def test_profile_mcp_servers(layout):
    layout.write(layout.project_profiles / "m.toml", '[mcp.servers.docs]\nurl = "http://127.0.0.1:7/mcp"\n')
    server = profile(layout, "m").mcp_servers["docs"]
    assert (server.transport, server.enabled, server.tool_timeout_s) == ("http", True, 120.0)


def test_apply_profile_overlays_files_but_not_env_or_flags(layout):
    layout.write(layout.user_config, 'model = "configured"\n[permissions]\nallow = ["bash(ls*)"]\n'
                 "[turn]\nrequest_limit = 10\n")
    layout.write(layout.project_profiles / "p.toml", 'provider = "openai"\nmodel = "profile-model"\n'
                 'request_limit = 99\n[permissions]\nmode = "accept-edits"\nallow = ["bash(pytest*)"]\n'
                 "[context]\nsoft = 0.65\n[mcp.servers.s]\ncommand = \"srv\"\n")
    p = profile(layout, "p")
    loaded = load_settings(cwd=layout.project, env=layout.env)
    applied = apply_profile(loaded, p).settings
    assert (applied.provider, applied.model, applied.turn.request_limit) == ("openai", "profile-model", 99)
    assert applied.permissions.mode == "accept-edits"
    assert applied.permissions.allow == ("bash(ls*)", "bash(pytest*)")
    assert applied.context.soft == 0.65 and applied.mcp.servers["s"].command == "srv"
    origins = apply_profile(loaded, p).origins
    assert origins["model"] == f"profile p ({p.path})"
    assert origins["permissions.allow"] == f"{layout.user_config} + profile p ({p.path})"

    explicit = load_settings(cwd=layout.project, env={**layout.env, "AGENTCORE_MODE": "ask"},
                             flags={"model": "flag-model"})
    applied = apply_profile(explicit, p).settings
    assert applied.model == "flag-model" and applied.permissions.mode == "ask"
    assert applied.provider == "openai"


def test_apply_profile_with_unknown_provider_names_the_profile(layout):
    layout.write(layout.project_profiles / "p.toml", 'provider = "nowhere"\n')
    p = profile(layout, "p")
    loaded = load_settings(cwd=layout.project, env=layout.env)
    with pytest.raises(ProfileError) as info:
        apply_profile(loaded, p)
    assert str(p.path) in info.value.source and "anthropic" in info.value.allowed


def test_shipped_reviewer_applied_is_read_only(layout):
    loaded = load_settings(cwd=layout.project, env=layout.env)
    applied = apply_profile(loaded, profile(layout, "reviewer"))
    assert applied.settings.permissions.mode == "read-only"
    assert apply_profile(loaded, profile(layout, "coder")).settings.permissions.mode == "ask"
