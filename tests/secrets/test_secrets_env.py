"""Tool processes (bash, background shells, hooks) start without the agent's
keys or anything that looks like a secret, through the real core and real processes."""

from __future__ import annotations

from pathlib import Path

from agentcore.secrets import ToolSecrets, looks_secret_value, tool_environment
from agentcore.config.settings import HookConfig
from secrets_support import (
    PASSED_TOKEN,
    SECRETS,
    env_lines,
    info,
    make_core,
    text,
    tool_call,
    tool_results,
)


def assert_scrubbed(seen: dict[str, str], env: dict[str, str]) -> None:
    for name, value in SECRETS.items():
        assert name not in seen, f"{name} reached the tool process"
        assert value not in "\n".join(seen.values()), f"{name}'s value reached the tool process"
    for name in ("PATH", "HOME", "LANG", "LS_COLORS"):
        assert seen.get(name) == env[name], f"{name} did not survive"
    assert seen.get("MY_SERVICE_TOKEN") == PASSED_TOKEN  # allow-listed by [shell] env_passthrough


async def test_env_through_the_bash_tool_shows_no_key(server, http_client, env, state_dir, work):
    server.enqueue(tool_call("c1", "bash", {"command": "env"}), text("done"))
    core = make_core(server, http_client, env, state_dir)
    async with core.open_session(info(work)) as session:
        await session.run_turn("show the environment")
    [result] = tool_results(server.requests[1].json())
    assert_scrubbed(env_lines(result), env)


async def test_a_background_shell_starts_from_the_same_scrubbed_environment(server, http_client, env, state_dir, work):
    server.enqueue(tool_call("c1", "bash", {"command": "env", "run_in_background": True}), text("started"))
    core = make_core(server, http_client, env, state_dir)
    async with core.open_session(info(work)) as session:
        await session.run_turn("start it")
        [task] = session.background.snapshot()
        done = await session.background.wait(task.id)
        log = Path(done.output_path).read_text()
    assert "exit code 0" in done.outcome
    assert_scrubbed(env_lines(log), env)


async def test_hooks_start_from_the_same_scrubbed_environment(server, http_client, env, state_dir, work):
    hook = HookConfig(event="session_start", command="env > hook-env.txt")
    core = make_core(server, http_client, env, state_dir, hooks=[hook])
    async with core.open_session(info(work)):
        pass
    seen = env_lines((work / "hook-env.txt").read_text())
    assert_scrubbed(seen, env)
    assert seen["AGENTCORE_HOOK_EVENT"] == "session_start"


def test_name_and_value_patterns_keep_ordinary_variables():
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "PYTHONPATH": "/opt/lib/python3.11/site-packages",
        "GIT_COMMIT": "3f5ef3a0c1d2e3f4a5b6c7d8e9f00112233445566",  # hex: not a key
        "INVOCATION_ID": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "RUN_UUID": "123e4567-e89b-12d3-a456-426614174000",
        "TOKENIZERS_PARALLELISM": "false",
        "SSH_AUTH_SOCK": "/tmp/ssh-XXXX/agent.1",
        "DATABASE_URL": "postgres://app:s3cr3t-pass@db:5432/app",  # a password in a URL
        "PLAIN_DB_URL": "postgres://db:5432/app",  # no password
        "SIGNING_CERT": "-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----\n",
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "WEIRD": "AKIAIOSFODNN7EXAMPLE",
        "SLACK": "xoxb-1234567890-abcdefghij",
        "RANDOM_BLOB": "q8Zr2Lx0Vn7Tb4Wc9Ym1Ks6Hd3Jf5Gp8",
        "MY_PAT": "x",
        "NPM_TOKEN": "x",
    }
    kept = tool_environment(env)
    assert set(kept) == {"PATH", "PYTHONPATH", "GIT_COMMIT", "INVOCATION_ID", "RUN_UUID", "TOKENIZERS_PARALLELISM",
                         "SSH_AUTH_SOCK", "PLAIN_DB_URL"}
    assert not looks_secret_value("--color=auto --group-directories-first --time-style=long-iso")
    assert tool_environment({"MY_PAT": "x"}, passthrough=("my_*",)) == {"MY_PAT": "x"}  # globs, any case


async def test_a_bare_repository_the_model_wrote_is_not_run_by_plain_git(server, http_client, env, state_dir, work):
    """A model can write HEAD + config (core.fsmonitor, core.pager ...) into a folder;
    with safe.bareRepository=explicit a plain `git -C evil ...` refuses to use it."""
    command = "git init -q --bare evil && git -C evil rev-parse --git-dir; echo exit=$?"
    server.enqueue(tool_call("c1", "bash", {"command": command}), text("done"))
    core = make_core(server, http_client, env, state_dir)
    async with core.open_session(info(work)) as session:
        await session.run_turn("make a bare repository and use it")
    [result] = tool_results(server.requests[1].json())
    assert "cannot use bare repository" in result and "exit=128" in result


def test_git_hardening_is_appended_to_the_users_own_git_config_entries():
    user = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "user.name", "GIT_CONFIG_VALUE_0": "me", "PATH": "/bin"}
    out = ToolSecrets.from_environment(user).env
    assert out["GIT_CONFIG_COUNT"] == "2"
    assert (out["GIT_CONFIG_KEY_0"], out["GIT_CONFIG_VALUE_0"]) == ("user.name", "me")
    assert (out["GIT_CONFIG_KEY_1"], out["GIT_CONFIG_VALUE_1"]) == ("safe.bareRepository", "explicit")
