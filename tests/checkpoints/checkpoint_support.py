"""Helpers for the checkpoint tests: a real `agent` process against a loopback
model, git repositories built with a hermetic environment, and a fingerprint of
everything git keeps about a repository (index bytes, refs, stash, HEAD, status)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import trio

from agentcore.config.paths import resolve_paths
from agentcore.trust import TrustStore
from fakes.llm_server import FakeServer, sse_reply
from fakes.vendor_wire import OA_DONE, OA_ROLE, oa_chunk, oa_tool_args, oa_tool_start, oa_usage

AGENT = Path(sys.executable).parent / "agent"
WAIT_S = 60.0
FAKE_KEY = "sk-test-checkpoints-0123456789"


def text_reply(text: str):
    return sse_reply(OA_ROLE, oa_chunk({"content": text}), oa_chunk({}, finish="stop"), oa_usage(100, 5), OA_DONE)


def tool_reply(call_id: str, name: str, args: dict):
    return sse_reply(oa_chunk({"role": "assistant", "content": None}), oa_tool_start(0, call_id, name),
                     oa_tool_args(0, json.dumps(args)), oa_chunk({}, finish="tool_calls"), oa_usage(150, 3), OA_DONE)  # fmt: skip


def agent_env(tmp_path: Path, server: FakeServer) -> dict[str, str]:
    return {"AGENTCORE_HOME": str(tmp_path / "home"), "HOME": str(tmp_path), "PATH": os.environ.get("PATH", ""),
            "OPENAI_API_KEY": FAKE_KEY, "OPENAI_BASE_URL": f"{server.url}/v1", "LANG": "C.UTF-8",
            "AGENTCORE_MODEL": "gpt-4o-mini"}  # fmt: skip  (a chat-completions model: the loopback speaks that wire)


def trust(tmp_path: Path, work: Path) -> None:
    TrustStore.of(resolve_paths({"AGENTCORE_HOME": str(tmp_path / "home")})).trust(work, home=None)


async def agent(work: Path, env: dict[str, str], *args: str) -> trio.Process:
    with trio.fail_after(WAIT_S):
        return await trio.run_process([str(AGENT), *args], cwd=work, env=env, capture_stdout=True,
                                      capture_stderr=True, check=False)  # fmt: skip


def git_env(tmp_path: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip


def git(work: Path, env: dict[str, str], *args: str) -> str:
    return subprocess.run(["git", *args], cwd=work, env=env, capture_output=True, text=True, check=True).stdout


def git_fingerprint(work: Path, env: dict[str, str]) -> dict[str, str]:
    """Everything a checkpoint must never change in the user's repository."""
    dot = work / ".git"
    index = hashlib.sha256((dot / "index").read_bytes()).hexdigest()
    quiet = {**env, "GIT_OPTIONAL_LOCKS": "0"}  # `git status` must not refresh the index it is checking
    return {
        "index": index,
        "status": git(work, quiet, "status", "--porcelain", "--untracked-files=all", "--ignored"),
        "head": (dot / "HEAD").read_text(),
        "refs": git(work, env, "for-each-ref"),
        "stash": git(work, env, "stash", "list"),
        "config": (dot / "config").read_text(),
        "hooks": " ".join(sorted(p.name for p in (dot / "hooks").iterdir())) if (dot / "hooks").is_dir() else "",
    }


def files_of(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``root`` but .git: bytes and permission bits."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] == ".git" or not path.is_file() or path.is_symlink():
            continue
        out[rel.as_posix()] = (path.read_bytes(), path.stat().st_mode & 0o777)
    return out
