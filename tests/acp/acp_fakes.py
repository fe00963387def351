"""A scripted provider and an in-process ACP harness for the server tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import trio
import trio.testing

from agentcore.acp.agent import AgentSetup
from agentcore.acp.hub import serve_acp
from acp_peer import Peer
from acp_schema import AgentTranscriptChecker
from agentcore.core import AgentCoreBuilder, MemorySessionStore, SessionPolicy
from agentcore.llm.base import (
    ModelInfo,
    Pricing,
    ProviderStop,
    StopChunk,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    UsageChunk,
)
from agentcore.messages import Usage
from agentcore.permissions import PermissionMode


def text_reply(*pieces: str, thinking: str = "") -> list[Any]:
    chunks: list[Any] = [ThinkingDelta(thinking)] if thinking else []
    chunks += [TextDelta(p) for p in pieces]
    return chunks + [UsageChunk(Usage(input_tokens=120, output_tokens=12)), StopChunk(ProviderStop.END_TURN)]


def tool_reply(call_id: str, name: str, args: dict[str, Any]) -> list[Any]:
    raw = json.dumps(args)
    return [
        ToolCallStart(0, call_id, name),
        ToolCallDelta(0, raw),
        ToolCallEnd(0),
        UsageChunk(Usage(input_tokens=150, output_tokens=20)),
        StopChunk(ProviderStop.TOOL_USE),
    ]


class Pause:
    """A point in a script where the provider waits (until cancelled or opened)."""

    def __init__(self) -> None:
        self.reached = trio.Event()
        self.opened = trio.Event()


class ScriptedProvider:
    name = "scripted"

    def __init__(self, scripts: Sequence[Any] = ()) -> None:
        self.scripts = list(scripts)
        self.requests: list[Any] = []

    def add(self, *scripts: Any) -> None:
        self.scripts.extend(scripts)

    async def complete(self, request: Any) -> AsyncIterator[Any]:
        self.requests.append(request)
        if not self.scripts:
            raise AssertionError("scripted provider ran out of scripts")
        script = self.scripts.pop(0)
        if isinstance(script, BaseException):
            raise script
        for item in script:
            if isinstance(item, Pause):
                item.reached.set()
                await item.opened.wait()
            else:
                yield item

    async def list_models(self) -> list[ModelInfo]:
        return [self.model_info("scripted-1")]

    def model_info(self, model: str) -> ModelInfo:
        return ModelInfo(model, 200_000, 4096, Pricing(input=3.0, output=15.0))


def make_core(provider: ScriptedProvider, state_dir: Path, *, mode: PermissionMode = PermissionMode.ASK) -> Any:
    store = MemorySessionStore()
    return (
        AgentCoreBuilder()
        .with_env({})
        .with_provider(provider, "scripted-1")
        .with_policy(SessionPolicy(mode=mode))
        .with_session_store(store)
        .with_state_dir(state_dir)
        .build()
    )


class AcpHarness:
    """A client peer connected to an in-process agent; every agent line is schema-checked."""

    def __init__(self, peer: Peer, workspace: Path) -> None:
        self.peer = peer
        self.workspace = workspace

    async def initialize(self, caps: dict[str, Any] | None = None) -> dict[str, Any]:
        reply = await self.peer.request("initialize", {"protocolVersion": 1, "clientCapabilities": caps or {}})
        return reply["result"]

    async def new_session(self, **extra: Any) -> str:
        reply = await self.peer.request("session/new", {"cwd": str(self.workspace), "mcpServers": [], **extra})
        assert "result" in reply, reply
        # The commands follow the answer; a notice (an MCP server now ready) may come first.
        while True:
            message = await self.peer.receive()
            if message.get("params", {}).get("update", {}).get("sessionUpdate") == "available_commands_update":
                return reply["result"]["sessionId"]
            assert message.get("method") == "session/update", message
            self.peer.notifications.append(message)

    async def prompt(self, session_id: str, text: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Run a prompt that needs no client answers; return (response, updates)."""
        self.peer.notifications.clear()
        reply = await self.peer.request("session/prompt", {"sessionId": session_id, "prompt": [{"type": "text", "text": text}]})
        updates = [n["params"]["update"] for n in self.peer.notifications]
        return reply, updates


@asynccontextmanager
async def acp_connection(core: Any, workspace: Path, **setup: Any) -> AsyncIterator[AcpHarness]:
    agent_side, client_side = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve_acp, agent_side, agent_side, lambda: AgentSetup(core=core, **setup))
        yield AcpHarness(Peer(client_side, checker=AgentTranscriptChecker()), workspace)
        await client_side.send_eof()
        nursery.cancel_scope.cancel()


def texts(updates: list[dict[str, Any]], kind: str = "agent_message_chunk") -> str:
    return "".join(u["content"]["text"] for u in updates if u["sessionUpdate"] == kind)
