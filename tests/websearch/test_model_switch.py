"""A mid-session model switch (``/model``, ACP ``set_config_option``) says
what the new model does not take, as start-up does, and cannot drop a
required web search."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from agentcore import AgentCoreBuilder, SessionCreateInfo, SessionPolicy
from agentcore.config import Settings, ToolSettings
from agentcore.events import ModelChanged, Notice
from agentcore.llm.openai_chat import OpenAiChatProvider
from agentcore.llm.openai_responses import OpenAiResponsesProvider
from agentcore.llm.openai_router import OpenAiApiRouter
from agentcore.llm.web_search import WebSearchUnavailable
from agentcore.turn.runner import TurnConfig

UNUSED_URL = "http://127.0.0.1:9/v1"  # nothing is sent in these tests


def router(client: httpx.AsyncClient) -> OpenAiApiRouter:
    common = {"name": "openai", "base_url": UNUSED_URL, "api_key": "sk-x", "api_key_env": "OPENAI_API_KEY",
              "http_client": client}  # fmt: skip
    return OpenAiApiRouter(OpenAiChatProvider(**common), OpenAiResponsesProvider(**common))


def core(client: httpx.AsyncClient, model: str, policy: SessionPolicy, state: Path):
    return AgentCoreBuilder().with_env({}).with_provider(router(client), model).with_policy(policy) \
        .with_state_dir(state).build()  # fmt: skip


async def test_switching_to_a_model_without_temperature_says_so(tmp_path: Path, http_client: httpx.AsyncClient) -> None:
    policy = SessionPolicy(turn=TurnConfig(temperature=0.4))
    async with core(http_client, "gpt-4o", policy, tmp_path / "state").open_session(SessionCreateInfo(cwd=tmp_path)) as s:
        assert not any("temperature" in n.text for n in s.startup_notices)  # gpt-4o takes it
        seen: list[object] = []
        s.events.add_observer(seen.append)
        await s.set_model(model="gpt-5")
        notices = [e.text for e in seen if isinstance(e, Notice)]
        assert notices == ["gpt-5 does not take temperature; the configured value is not sent"]
        assert isinstance(seen[0], ModelChanged)  # the switch first, then what it means
        seen.clear()
        await s.set_model(model="gpt-4o")
        assert not [e for e in seen if isinstance(e, Notice)]


async def test_a_required_search_refuses_a_model_that_cannot_search(tmp_path: Path, http_client: httpx.AsyncClient) -> None:
    policy = SessionPolicy(settings=Settings(tools=ToolSettings(web_search="required")))
    async with core(http_client, "gpt-5", policy, tmp_path / "state").open_session(SessionCreateInfo(cwd=tmp_path)) as s:
        assert s.turn_config.web_search is not None and s.turn_config.web_search.required
        with pytest.raises(WebSearchUnavailable, match="gpt-4o is served through chat completions"):
            await s.set_model(model="gpt-4o")
        assert s.model == "gpt-5"
        await s.set_model(model="o3")  # searches too
        assert s.model == "o3"


async def test_acp_set_config_option_refuses_it_as_invalid_params(tmp_path: Path, http_client: httpx.AsyncClient) -> None:
    """The editor's model picker gets -32602 naming the reason, not an internal error."""
    from agentcore.acp.jsonrpc import InvalidParams
    from agentcore.acp.options import set_config_option

    policy = SessionPolicy(settings=Settings(tools=ToolSettings(web_search="required")))
    async with core(http_client, "gpt-5", policy, tmp_path / "state").open_session(SessionCreateInfo(cwd=tmp_path)) as s:
        with pytest.raises(InvalidParams) as refused:
            await set_config_option(s, "model", "gpt-4o")
        assert refused.value.code == -32602 and refused.value.data["type"] == "WebSearchUnavailable"
        assert s.model == "gpt-5"
