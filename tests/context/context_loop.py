"""A loopback OpenAI-wire LLM with a tiny context window, for compaction tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

from agentcore import AgentCoreBuilder, SessionCreateInfo, SessionPolicy
from agentcore.llm.base import ModelInfo
from agentcore.llm.openai_chat import OpenAiChatProvider
from agentcore.llm.transport import RetryPolicy
from fakes.llm_server import FakeServer, RecordedRequest, Reply, open_fake_server, sse_reply
from fakes.vendor_wire import oa_text_stream

WINDOW = 20_000  # micro 12k, soft 14k, hard 17k tokens with the default thresholds
FAST_RETRY = RetryPolicy(base_delay_s=0.001, max_delay_s=0.002)


def is_summary_request(request: RecordedRequest) -> bool:
    return "You compress a coding agent" in json.dumps(request.json().get("messages", [])[:1])


def request_text(request: RecordedRequest) -> str:
    return json.dumps(request.json(), ensure_ascii=False)


@attrs.define
class Loop:
    server: FakeServer
    core: Any
    info: SessionCreateInfo
    summaries: list[Reply] = attrs.field(factory=list)
    summary_requests: list[RecordedRequest] = attrs.field(factory=list)

    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.server.requests if not is_summary_request(r)]


@pytest.fixture
def loop_llm(tmp_path: Path) -> Callable[..., Any]:
    @asynccontextmanager
    async def open_loop(*, tools=(), policy: SessionPolicy | None = None, window: int = WINDOW) -> AsyncIterator[Loop]:
        async with open_fake_server() as server, httpx.AsyncClient() as client:
            provider = OpenAiChatProvider(
                name="openai",
                base_url=f"{server.url}/v1",
                api_key="sk-test-compaction",
                api_key_env="OPENAI_API_KEY",
                http_client=client,
                retry=FAST_RETRY,
                models=(ModelInfo("tiny", window, 1_000),),
            )
            core = (
                AgentCoreBuilder()
                .with_provider(provider, "tiny")
                .without_builtin_tools()
                .with_tools(tools)
                .with_state_dir(tmp_path / "state")
                .with_policy(policy or SessionPolicy())
                .build()
            )
            work = tmp_path / "work"
            work.mkdir(exist_ok=True)
            loop = Loop(server, core, SessionCreateInfo(cwd=work))

            def respond(request: RecordedRequest) -> Reply | None:
                if is_summary_request(request):
                    loop.summary_requests.append(request)
                    if loop.summaries:
                        return loop.summaries.pop(0)
                    return sse_reply(*oa_text_stream("## Goal\nsummarised", prompt=500, completion=50))
                return None

            server.respond_with(respond)
            yield loop

    return open_loop
