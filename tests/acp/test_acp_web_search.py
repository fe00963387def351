"""Hosted web search in ACP: an answer's sources go to the client as
``resource_link`` chunks of the same message (live and on session/load, valid
under both schemas), and a session that requires web search on a provider
without it is refused at session/new with -32602 naming WebSearchUnavailable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from acp_fakes import acp_connection
from acp_schema import validate_definition
from agentcore import AgentCoreBuilder, SessionPolicy
from agentcore.acp.project import ClientFeatures, SessionProjector, replay_updates
from agentcore.config import Settings, ToolSettings
from agentcore.events import AssistantTextDelta, MessageAppended
from agentcore.llm.echo import EchoProvider
from agentcore.messages import AssistantMessage, Citation, TextBlock

NYT = Citation("https://www.nytimes.com/weather", "NYC weather", "Sunny")
BARE = Citation("https://example.org/page")


def valid(update: dict[str, Any]) -> dict[str, Any]:
    for which in ("schema.json", "schema.unstable.json"):
        validate_definition("SessionNotification", {"sessionId": "sess_1", "update": update}, which)
    return update


def answer() -> AssistantMessage:
    return AssistantMessage((TextBlock("Sunny ", (NYT,)), TextBlock("today.", (NYT, BARE))))


def test_sources_follow_the_answer_as_resource_links_of_the_same_message() -> None:
    p = SessionProjector(features=ClientFeatures(), config_options=lambda: [])
    [text] = [valid(u) for u in p.project(AssistantTextDelta("t1", "Sunny today."))]
    links = [valid(u) for u in p.project(MessageAppended("t1", answer()))]
    assert [u["content"] for u in links] == [
        {"type": "resource_link", "uri": NYT.url, "name": NYT.title, "title": NYT.title},
        {"type": "resource_link", "uri": BARE.url, "name": BARE.url},  # each source once
    ]
    assert {u["messageId"] for u in links} == {text["messageId"]}
    assert p.project(MessageAppended("t1", AssistantMessage((TextBlock("no sources"),)))) == []


def test_a_loaded_session_shows_the_sources_again() -> None:
    message = answer()
    updates = [valid(u) for u in replay_updates([message])]
    assert [u["content"]["type"] for u in updates] == ["text", "text", "resource_link", "resource_link"]
    assert {u["messageId"] for u in updates} == {message.id}


async def test_required_web_search_without_a_provider_for_it_refuses_session_new(
    tmp_path: Path, workspace: Path
) -> None:
    policy = SessionPolicy(settings=Settings(tools=ToolSettings(web_search="required")))
    core = (AgentCoreBuilder().with_env({}).with_provider(EchoProvider(), "echo").with_policy(policy)
            .with_state_dir(tmp_path / "state").build())  # fmt: skip
    async with acp_connection(core, workspace) as acp:
        await acp.initialize()
        reply = await acp.peer.request("session/new", {"cwd": str(workspace), "mcpServers": []})
    assert reply["error"]["code"] == -32602
    assert reply["error"]["data"]["type"] == "WebSearchUnavailable"
    assert "web search is required" in reply["error"]["message"] and "\n" not in reply["error"]["message"]
