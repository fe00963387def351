"""A loopback OpenAI-wire LLM shared by parent and child sessions, and helpers
to route its requests by the session's role marker (in the system prompt)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
import httpx
import trio

from agentcore import AgentCoreBuilder, SessionPolicy
from agentcore.events import AgentEvent
from agentcore.llm.base import ModelInfo, Pricing
from agentcore.llm.openai_chat import OpenAiChatProvider
from agentcore.llm.transport import RetryPolicy
from agentcore.permissions import PermissionMode
from agentcore.config.settings import AgentsSettings, BackgroundSettings, HookConfig, Settings
from agentcore.tools.base import Tool
from agentcore.tools.registry import ToolFilter
from fakes.llm_server import FakeServer, RecordedRequest, Reply, open_fake_server, sse_reply
from fakes.vendor_wire import oa_text_stream, oa_tool_stream

WAIT_S = 10.0  # a guard against hangs; every wait below ends on an observable condition
FAST_RETRY = RetryPolicy(base_delay_s=0.001, max_delay_s=0.002)
MAIN_PRICING = Pricing(input=1.0, output=2.0)  # USD per million tokens
CHILD_PRICING = Pricing(input=100.0, output=200.0)  # dearer, so a roll-up is visible


def role_marker(profile: str) -> str:
    return f"ROLE-MARKER:{profile}"


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(part.get("text", "") for part in content or [] if isinstance(part, dict))


@attrs.frozen
class Call:
    """One chat-completions request as the fake server saw it."""

    body: Mapping[str, Any]
    request: RecordedRequest = attrs.field(eq=False)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body["messages"])

    @property
    def system(self) -> str:
        first = self.messages[0]
        return text_of(first["content"]) if first["role"] == "system" else ""

    @property
    def last(self) -> dict[str, Any]:
        return self.messages[-1]

    @property
    def last_text(self) -> str:
        return text_of(self.last.get("content"))

    @property
    def model(self) -> str:
        return self.body["model"]

    @property
    def tool_names(self) -> list[str]:
        return [t["function"]["name"] for t in self.body.get("tools", [])]

    def tool_schema(self, name: str) -> dict[str, Any]:
        return next(t["function"]["parameters"] for t in self.body["tools"] if t["function"]["name"] == name)

    def user_texts(self) -> list[str]:
        return [text_of(m["content"]) for m in self.messages if m["role"] == "user"]

    def tool_results(self) -> list[str]:
        return [text_of(m["content"]) for m in self.messages if m["role"] == "tool"]


def text(answer: str, *, prompt: int = 1000, completion: int = 100) -> Reply:
    return sse_reply(*oa_text_stream(answer, prompt=prompt, completion=completion))


def tools(*calls: tuple[str, str, dict[str, Any]], prompt: int = 1000, completion: int = 100) -> Reply:
    return sse_reply(*oa_tool_stream(*((i, n, json.dumps(a)) for i, n, a in calls), prompt=prompt, completion=completion))


Responder = Callable[[Call], Reply | None]


@attrs.define
class Llm:
    server: FakeServer
    provider: OpenAiChatProvider
    tmp: Path
    routes: dict[str, Responder] = attrs.field(factory=dict)
    calls: list[Call] = attrs.field(factory=list)

    def route(self, profile: str, responder: Responder) -> None:
        """Answer requests of sessions of ``profile`` with ``responder``."""
        self.routes[role_marker(profile)] = responder

    def route_system(self, marker: str, responder: Responder) -> None:
        """Answer requests whose system prompt contains ``marker`` (e.g. the summariser's)."""
        self.routes[marker] = responder

    def calls_of(self, profile: str) -> list[Call]:
        return [c for c in self.calls if role_marker(profile) in c.system]

    def _respond(self, request: RecordedRequest) -> Reply | None:
        call = Call(request.json(), request)
        self.calls.append(call)
        for marker, responder in self.routes.items():
            if marker in call.system:
                return responder(call)
        raise AssertionError(f"no route for a request with system prompt {call.system[:200]!r}")

    def core(
        self,
        policies: Mapping[str, SessionPolicy],
        *,
        extra_tools: Iterable[Tool] = (),
        env: Mapping[str, str] | None = None,
        store: Any = None,
    ) -> Any:
        """``env``: the environment the core sees (its redactor's secrets);
        ``store``: a session store, so sessions are journaled and resumable."""

        def resolve(profile: str | None, cwd: Path) -> SessionPolicy:
            return policies[profile or "main"]  # KeyError: an unknown profile, as a loader would refuse it

        builder = (
            AgentCoreBuilder()
            .with_provider(self.provider, "main-model")
            .without_builtin_tools()
            .with_tools(extra_tools)
            .with_state_dir(self.tmp / "state")
            .with_policy_resolver(resolve)
        )
        if env is not None:
            builder = builder.with_env(env)
        if store is not None:
            builder = builder.with_session_store(store)
        return builder.build()


def policy(
    profile: str,
    *,
    allow: tuple[str, ...] | None = ("*",),
    spawn: tuple[str, ...] = (),
    mode: PermissionMode = PermissionMode.ASK,
    rules: tuple[Any, ...] = (),
    model: str | None = None,
    autonomous: bool = True,
    max_depth: int = 1,
    hooks: tuple[HookConfig, ...] = (),
) -> SessionPolicy:
    settings = Settings(
        background=BackgroundSettings(autonomous_turns=autonomous),
        agents=AgentsSettings(max_depth=max_depth),
        hooks=hooks,
    )
    return SessionPolicy(
        profile=profile,
        prompt=f"You are the {profile} agent. {role_marker(profile)}",
        inherit_project_prompt=False,
        tool_filter=ToolFilter(allow=allow),
        mode=mode,
        rules=rules,
        model=model,
        spawn=spawn,
        settings=settings,
    )


@asynccontextmanager
async def open_llm(tmp: Path) -> AsyncIterator[Llm]:
    async with open_fake_server() as server, httpx.AsyncClient() as client:
        provider = OpenAiChatProvider(
            name="openai",
            base_url=f"{server.url}/v1",
            api_key="sk-test-agents",
            api_key_env="OPENAI_API_KEY",
            http_client=client,
            retry=FAST_RETRY,
            models=(
                ModelInfo("main-model", 100_000, 4_000, MAIN_PRICING),
                ModelInfo("child-model", 100_000, 4_000, CHILD_PRICING),
            ),
        )
        llm = Llm(server, provider, tmp)
        server.respond_with(llm._respond)
        yield llm


class EventLog:
    """Records a session's events; ``wait_for`` returns once one matches."""

    def __init__(self, emitter: Any) -> None:
        self.events: list[AgentEvent] = []
        self._changed = trio.Event()
        emitter.add_observer(self._on_event)

    def _on_event(self, event: AgentEvent) -> None:
        self.events.append(event)
        changed, self._changed = self._changed, trio.Event()
        changed.set()

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    async def wait_for(self, predicate: Callable[[AgentEvent], bool], *, count: int = 1) -> list[AgentEvent]:
        with trio.fail_after(WAIT_S):
            while True:
                found = [e for e in self.events if predicate(e)]
                if len(found) >= count:
                    return found
                await self._changed.wait()
