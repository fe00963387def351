"""Fixtures for the MCP tests: cores wired with McpToolFactory, an HTTP server."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import trio

from agentcore import AgentCoreBuilder, SessionCreateInfo, SessionPolicy
from agentcore.mcp import McpToolFactory, RestartPolicy
from agentcore.mcp.spec import McpServerSpec

from mcp_fakes import SERVER_SCRIPT, EventLog, ScriptedProvider

NO_BACKOFF = RestartPolicy(backoff_s=0.0)  # tests restart at once; the backoff itself is unit-tested


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def make_core(tmp_path: Path):
    """``make_core(specs, scripts=..., policy=...)`` -> (core, provider, events)."""

    def build(
        specs: Sequence[McpServerSpec],
        *,
        scripts: Sequence[Any] = (),
        policy: SessionPolicy | None = None,
        restart_policy: RestartPolicy = NO_BACKOFF,
    ):
        provider = ScriptedProvider(scripts)
        events = EventLog()
        factory = McpToolFactory(lambda session: specs, restart_policy=restart_policy)
        builder = (
            AgentCoreBuilder()
            .with_provider(provider, "scripted")
            .without_builtin_tools()
            .with_state_dir(tmp_path / "state")
            .with_observer(events)
            .with_session_tool_factory(factory)
        )
        if policy is not None:
            builder = builder.with_policy(policy)
        return builder.build(), provider, events

    return build


@pytest.fixture
def info(work: Path) -> SessionCreateInfo:
    return SessionCreateInfo(cwd=work)


@pytest.fixture
async def http_server():
    """The demo server over streamable HTTP on 127.0.0.1; yields its URL.

    The test binds the port and hands the listening socket to the server, so
    the URL is valid before the server has even finished importing."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    process = await trio.lowlevel.open_process(
        [sys.executable, str(SERVER_SCRIPT), "--name", "web", "--fd", str(listener.fileno())],
        pass_fds=(listener.fileno(),),
        stderr=subprocess.DEVNULL,
    )
    listener.close()
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.kill()
        await process.wait()
