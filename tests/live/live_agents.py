"""A voice test core whose sessions may start sub-agents: profiles resolved in
memory, every text request answered by a loopback OpenAI-wire LLM routed by
the profile's marker in the system prompt."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
import httpx
from fakes.llm_server import FakeServer, RecordedRequest, Reply, open_fake_server

from agentcore import AgentCoreBuilder, SessionPolicy
from agentcore.config.settings import AgentsSettings, Settings
from agentcore.llm.base import ModelInfo, Pricing
from agentcore.llm.openai_chat import OpenAiChatProvider
from agentcore.llm.transport import RetryPolicy
from agentcore.permissions import PermissionMode
from agentcore.tools.registry import ToolFilter

MODEL = "voice-model"
PRICING = Pricing(input=1.0, output=2.0)  # USD per million tokens: a child's charge is visible
NO_RETRY = RetryPolicy(max_attempts=1, base_delay_s=0.001, max_delay_s=0.002)


def marker(profile: str) -> str:
    return f"ROLE-MARKER:{profile}"


def profile_policy(profile: str, *, spawn: tuple[str, ...] = ()) -> SessionPolicy:
    return SessionPolicy(
        profile=profile,
        prompt=f"You are the {profile} agent. {marker(profile)}",
        inherit_project_prompt=False,
        tool_filter=ToolFilter(allow=("*",)),
        mode=PermissionMode.ASK,
        spawn=spawn,
        settings=Settings(agents=AgentsSettings(max_depth=1)),
    )


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(part.get("text", "") for part in content or [] if isinstance(part, dict))


@attrs.define
class RoutedLlm:
    server: FakeServer
    routes: dict[str, Callable[[dict[str, Any]], Reply]] = attrs.field(factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = attrs.field(factory=list)  # (profile, request body)

    def _respond(self, request: RecordedRequest) -> Reply | None:
        body = request.json()
        system = text_of(body["messages"][0]["content"]) if body["messages"][0]["role"] == "system" else ""
        for profile, responder in self.routes.items():
            if marker(profile) in system:
                self.calls.append((profile, body))
                return responder(body)
        raise AssertionError(f"no route for a request with system prompt {system[:200]!r}")

    def calls_of(self, profile: str) -> list[dict[str, Any]]:
        return [body for who, body in self.calls if who == profile]


@asynccontextmanager
async def agents_core(tmp_path: Path, policies: Mapping[str, SessionPolicy]) -> AsyncIterator[tuple[RoutedLlm, Any]]:
    async with open_fake_server() as server, httpx.AsyncClient(trust_env=False) as client:
        provider = OpenAiChatProvider(
            name="openai",
            base_url=f"{server.url}/v1",
            api_key="sk-test-voice-agents",
            api_key_env="OPENAI_API_KEY",
            http_client=client,
            retry=NO_RETRY,
            models=(ModelInfo(MODEL, 100_000, 4_000, pricing=PRICING),),
        )
        llm = RoutedLlm(server)
        server.respond_with(llm._respond)

        def resolve(profile: str | None, cwd: Path) -> SessionPolicy:
            return policies[profile or "voice"]

        core = (
            AgentCoreBuilder()
            .with_provider(provider, MODEL)
            .without_builtin_tools()
            .with_state_dir(tmp_path / "state")
            .with_policy_resolver(resolve)
            .build()
        )
        yield llm, core
