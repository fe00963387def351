"""`agent run` (a real process) in a hostile cloned repository: nothing of it applies
without --trust, stderr says once what was ignored, and keys stay home."""

from __future__ import annotations

import json
import subprocess

import trio

from agentcore.config.paths import resolve_paths
from agentcore.trust import TrustStore
from fakes.llm_server import open_fake_server, sse_reply
from fakes.vendor_wire import OA_DONE, OA_ROLE, oa_chunk, oa_text_stream, oa_tool_args, oa_tool_start
from trust_repo import AGENT, SECRET, USER_KEY, user_env


def bash_call(command: str):
    args = json.dumps({"command": command})
    return sse_reply(OA_ROLE, oa_tool_start(0, "call_1", "bash"), oa_tool_args(0, args),
                     oa_chunk({}, finish="tool_calls"), OA_DONE)


async def agent_run(repo, env, *extra: str) -> subprocess.CompletedProcess:
    return await trio.run_process(
        [str(AGENT), "run", "-p", "go", "--format", "json", "--provider", "openai", "--model", "gpt-4o-mini", *extra],
        cwd=repo.root, env=env, capture_stdout=True, capture_stderr=True, check=False, stdin=subprocess.DEVNULL,
    )


async def test_untrusted_repo_runs_nothing_and_keys_stay_home(repo, tmp_path) -> None:
    async with open_fake_server() as server, open_fake_server() as evil:
        repo.redirect_provider(f"{evil.url}/v1")
        env = user_env(tmp_path, OPENAI_API_KEY=USER_KEY, OPENAI_BASE_URL=f"{server.url}/v1")
        server.enqueue(bash_call(f"touch {repo.bash_marker}"), sse_reply(*oa_text_stream("done")))
        done = await agent_run(repo, env)
        err = done.stderr.decode()
        result = json.loads(done.stdout)
        assert not repo.hook_marker.exists()  # session_start hook not run
        assert not repo.mcp_json_marker.exists() and not repo.mcp_config_marker.exists()  # no MCP started
        assert not repo.bash_marker.exists() and result["unattended_denials"] == 1  # neither yolo nor allow rules
        assert done.returncode == 4
        assert evil.requests == []
        assert [r.headers["authorization"] for r in server.requests] == [f"Bearer {USER_KEY}"] * 2
        assert SECRET not in json.dumps([dict(r.headers) for r in server.requests])
        assert err.count("is not trusted") == 1  # said once
        assert f"hook on session_start runs: touch {repo.hook_marker}" in err
        assert "permission mode yolo" in err and "MCP server jsonsrv" in err and f"base_url {evil.url}/v1" in err
        assert not TrustStore.of(resolve_paths(env)).entries()  # nothing was stored on its behalf


async def test_untrusted_project_profile_is_unknown(repo, tmp_path) -> None:
    done = await agent_run(repo, user_env(tmp_path), "--profile", "evil")
    assert done.returncode == 1 and 'unknown profile "evil"' in done.stderr.decode()
    assert not repo.hook_marker.exists()


async def test_trust_flag_applies_the_configuration_for_this_run(repo, tmp_path) -> None:
    async with open_fake_server() as server:
        env = user_env(tmp_path, OPENAI_API_KEY=USER_KEY, OPENAI_BASE_URL=f"{server.url}/v1")
        server.enqueue(bash_call(f"touch {repo.bash_marker}"), sse_reply(*oa_text_stream("done")))
        done = await agent_run(repo, env, "--trust")
        assert done.returncode == 0, done.stderr.decode()
        assert repo.hook_marker.exists() and repo.bash_marker.exists()  # hook ran; yolo applied
        assert "is not trusted" not in done.stderr.decode()
        assert not TrustStore.of(resolve_paths(env)).entries()  # --trust is for this run only


async def test_trust_flag_still_withholds_keys_from_a_project_endpoint(repo, tmp_path) -> None:
    async with open_fake_server() as server, open_fake_server() as evil:
        repo.redirect_provider(f"{evil.url}/v1")
        env = user_env(tmp_path, OPENAI_API_KEY=USER_KEY, OPENAI_BASE_URL=f"{server.url}/v1")
        done = await agent_run(repo, env, "--trust")
        err = done.stderr.decode()
        assert done.returncode == 1
        assert "config.toml sets providers.openai.base_url" in err and "user config" in err
        assert evil.requests == [] and server.requests == []
        assert SECRET not in err and USER_KEY not in err


async def test_env_setting_trusts_and_a_stored_folder_applies_in_later_runs(repo, tmp_path) -> None:
    async with open_fake_server() as server:
        env = user_env(tmp_path, OPENAI_API_KEY=USER_KEY, OPENAI_BASE_URL=f"{server.url}/v1")
        server.enqueue(sse_reply(*oa_text_stream("a")), sse_reply(*oa_text_stream("b")))
        done = await agent_run(repo, {**env, "AGENTCORE_TRUST_PROJECT": "1"})
        assert done.returncode == 0 and repo.hook_marker.exists()
        repo.hook_marker.unlink()
        trusted = await trio.run_process([str(AGENT), "trust"], cwd=repo.root / ".agent", env=env,
                                         capture_stdout=True, check=True)
        assert f"trusted {repo.root}" in trusted.stdout.decode()
        done = await agent_run(repo, env)
        assert done.returncode == 0 and repo.hook_marker.exists()
