"""`agent trust` as a process, and `agent acp` in an untrusted folder: the notice
goes to stderr only, stdout stays protocol, and nothing of the folder runs."""

from __future__ import annotations

import json
import subprocess

import trio

from agentcore.config.paths import resolve_paths
from agentcore.trust import TrustStore
from trust_repo import AGENT


async def agent(*args: str, cwd, env) -> subprocess.CompletedProcess:
    return await trio.run_process([str(AGENT), *args], cwd=cwd, env=env, capture_stdout=True, capture_stderr=True,
                                  check=False)  # fmt: skip


async def test_trust_shows_what_the_folder_configures_and_stores_the_project_root(repo, env, tmp_path) -> None:
    done = await agent("trust", ".agent/profiles", cwd=repo.root, env=env)
    out = done.stdout.decode()
    assert done.returncode == 0
    assert f"hook on session_start runs: touch {repo.hook_marker}" in out and "MCP server jsonsrv" in out
    assert f"trusted {repo.root}" in out
    listed = (await agent("trust", "--list", cwd=tmp_path, env=env)).stdout.decode()
    assert f"{repo.root}  and its subfolders" in listed


async def test_trusting_home_covers_only_home(env, tmp_path) -> None:
    done = await agent("trust", cwd=tmp_path, env=env)  # HOME is tmp_path in these tests
    assert "this folder only" in done.stdout.decode()
    assert TrustStore.of(resolve_paths(env)).covering(tmp_path / "cloned") is None


async def test_revoke_says_when_an_ancestor_still_trusts(repo, env, tmp_path) -> None:
    store = TrustStore.of(resolve_paths(env))
    store.trust(tmp_path, home=None)
    done = await agent("trust", "--revoke", cwd=repo.root, env=env)
    assert "still trusted through" in done.stdout.decode()


def acp_session(repo, env, *flags: str) -> tuple[list[dict], str]:
    lines = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": 1}},
        {"jsonrpc": "2.0", "id": 2, "method": "session/new", "params": {"cwd": str(repo.root), "mcpServers": []}},
    ]
    # --no-bridge: this is the in-process agent (the bridge's own test is in tests/serve)
    proc = subprocess.Popen([str(AGENT), "acp", "--no-bridge", "--provider", "echo", *flags], cwd=repo.root.parent, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    replies = []
    for line in lines:
        proc.stdin.write((json.dumps(line) + "\n").encode())
        proc.stdin.flush()
        while True:
            message = json.loads(proc.stdout.readline())  # every stdout line is JSON-RPC
            replies.append(message)
            if message.get("id") == line["id"]:
                break
    proc.stdin.close()
    rest = proc.stdout.read().decode()
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.wait(timeout=30)
    replies += [json.loads(x) for x in rest.splitlines() if x.strip()]
    return replies, err


async def test_acp_session_in_an_untrusted_folder(repo, env) -> None:
    replies, err = await trio.to_thread.run_sync(acp_session, repo, env)
    new = next(r for r in replies if r.get("id") == 2)
    assert "sessionId" in new["result"]
    assert new["result"]["modes"]["currentModeId"] != "yolo"
    assert not repo.hook_marker.exists() and not repo.mcp_json_marker.exists()
    assert "is not trusted" in err and f"hook on session_start runs: touch {repo.hook_marker}" in err
    # ... and the session itself says so, where the editor shows it (no notices capability: a message line)
    said = [r["params"]["update"]["content"]["text"] for r in replies
            if r.get("method") == "session/update" and r["params"]["update"]["sessionUpdate"] == "agent_message_chunk"]
    assert any("**Warning:**" in text and "is not trusted" in text for text in said), said
    assert err.count("is not trusted") == 1


async def test_acp_session_in_a_trusted_folder(repo, env) -> None:
    TrustStore.of(resolve_paths(env)).trust(repo.root, home=None)
    replies, err = await trio.to_thread.run_sync(acp_session, repo, env)
    new = next(r for r in replies if r.get("id") == 2)
    assert new["result"]["modes"]["currentModeId"] == "yolo"
    assert repo.hook_marker.exists() and "is not trusted" not in err


async def test_acp_trust_flag_applies_untrusted_configuration(repo, env) -> None:
    replies, err = await trio.to_thread.run_sync(acp_session, repo, env, "--trust")
    new = next(r for r in replies if r.get("id") == 2)
    assert new["result"]["modes"]["currentModeId"] == "yolo" and repo.hook_marker.exists()
    assert TrustStore.of(resolve_paths(env)).entries() == ()
