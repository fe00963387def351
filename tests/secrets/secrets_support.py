"""Helpers for the secret-handling tests: the agent's environment (with keys),
a core on the loopback OpenAI-wire server, and a way to run scripted tool calls."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from agentcore import AgentCoreBuilder, DefaultAgentCore, SessionCreateInfo
from agentcore.core import SessionPolicy
from agentcore.llm.openai_chat import OpenAiChatProvider
from agentcore.llm.transport import RetryPolicy
from agentcore.permissions import PermissionMode
from agentcore.config.settings import BackgroundSettings, HookConfig, Settings, ShellSettings
from agentcore.store import JournalStore
from fakes.llm_server import FakeServer, Reply, sse_reply
from fakes.vendor_wire import oa_text_stream, oa_tool_stream

MODEL = "gpt-4o-mini"
OPENAI_KEY = "sk-proj-secretsTest0123456789abcdefABCDEF"
ANTHROPIC_KEY = "sk-ant-api03-secretsTest0123456789abcdef"
CUSTOM_KEY = "custom-llm-key-0f1e2d3c4b5a"  # a configured provider's api_key_env, no known shape
FOO_PASSWORD = "correct-horse-battery-staple"
GITHUB_TOKEN = "plain-looking-github-token-value"
INNOCENT_VALUE = "ghp_" + "A1b2C3d4E5" * 4  # a GitHub token under a name that says nothing
PASSED_TOKEN = "passthrough-token-value-123"  # named like a secret but allow-listed
SECRETS = {
    "OPENAI_API_KEY": OPENAI_KEY,
    "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
    "CUSTOM_LLM_KEY": CUSTOM_KEY,
    "FOO_PASSWORD": FOO_PASSWORD,
    "GITHUB_TOKEN": GITHUB_TOKEN,
    "BUILD_MARKER": INNOCENT_VALUE,
}
PASSTHROUGH = ("MY_SERVICE_*",)
FAST_RETRY = RetryPolicy(base_delay_s=0.001, max_delay_s=0.002)
BWRAP = shutil.which("bwrap")
NEEDS_BWRAP_REASON = "bubblewrap (bwrap) is not installed; the sandbox cannot be tested here"


def agent_env(home: Path) -> dict[str, str]:
    """What the agent process would see: ordinary variables plus its keys."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "LS_COLORS": "rs=0:di=01;34:ln=01;36",
        "MY_SERVICE_TOKEN": PASSED_TOKEN,
        **SECRETS,
    }


def make_provider(server: FakeServer, client: httpx.AsyncClient) -> OpenAiChatProvider:
    return OpenAiChatProvider(
        name="openai", base_url=f"{server.url}/v1", api_key=OPENAI_KEY, api_key_env="OPENAI_API_KEY",
        http_client=client, retry=FAST_RETRY,
    )


def make_core(
    server: FakeServer,
    client: httpx.AsyncClient,
    env: Mapping[str, str],
    state_dir: Path,
    *,
    shell: ShellSettings = ShellSettings(env_passthrough=PASSTHROUGH),
    hooks: Sequence[HookConfig] = (),
    bwrap: Path | None = None,
    store: bool = True,
    tools: Sequence[Any] = (),
) -> DefaultAgentCore:
    settings = Settings(shell=shell, hooks=tuple(hooks), background=BackgroundSettings(autonomous_turns=False))
    builder = (
        AgentCoreBuilder()
        .with_env(env)
        .with_provider(make_provider(server, client), MODEL)
        .with_policy(SessionPolicy(mode=PermissionMode.YOLO, settings=settings))
        .with_state_dir(state_dir)
        .with_shell_settings(shell, provider_key_vars=("CUSTOM_LLM_KEY",), bwrap=bwrap or Path(BWRAP or "/usr/bin/bwrap"))
        .with_tools(tools)
    )
    if store:
        builder = builder.with_session_store(JournalStore(state_dir / "sessions"))
    return builder.build()


def info(cwd: Path) -> SessionCreateInfo:
    return SessionCreateInfo(cwd=cwd, mode=PermissionMode.YOLO)


def text(answer: str) -> Reply:
    return sse_reply(*oa_text_stream(answer))


def tool_call(call_id: str, name: str, args: Mapping[str, Any]) -> Reply:
    return sse_reply(*oa_tool_stream((call_id, name, json.dumps(args))))


def tool_results(body: Mapping[str, Any]) -> list[str]:
    """The tool-result texts of an OpenAI request body, in order."""
    out = []
    for m in body["messages"]:
        if m["role"] == "tool":
            content = m.get("content") or ""
            out.append(content if isinstance(content, str) else " ".join(p.get("text", "") for p in content))
    return out


def env_lines(text: str) -> dict[str, str]:
    """``env`` output as a mapping (single-line values only)."""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def assert_no_secret(text: str, where: str) -> None:
    for name, value in SECRETS.items():
        assert value not in text, f"{name}'s value found in {where}"
