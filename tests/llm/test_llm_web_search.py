"""Hosted web search on the wire: the Anthropic server tool and the Responses
``web_search`` tool, against loopback servers speaking each vendor's exact
stream (every event checked against the SDK's types as it is built; every
request body against the SDK's params type by this folder's ``server``).
Citations reach the assembled message, searches reach usage and cost."""

from __future__ import annotations

import attrs
import httpx
import pytest

from agentcore.llm.base import (
    CitationDelta,
    LlmRequest,
    Pricing,
    ToolSpec,
    ProviderStop,
    RetryNotice,
    StopChunk,
    TextDelta,
    UsageChunk,
    WebSearch,
)
from agentcore.llm.anthropic import AnthropicProvider
from agentcore.llm.echo import EchoProvider
from agentcore.llm.openai_chat import OpenAiChatProvider
from agentcore.llm.errors import ServerError
from agentcore.llm.openai_responses import OpenAiResponsesProvider
from agentcore.llm.openai_router import OpenAiApiRouter
from agentcore.llm.web_search import WebSearchUnavailable, check_web_search, request_web_search, web_search_problem
from agentcore.messages import (
    AssistantMessage,
    Citation,
    TextBlock,
    Usage,
    UserMessage,
    message_from_dict,
    message_to_dict,
    usage_from_dict,
    usage_to_dict,
)
from agentcore.turn.stream import StreamAssembler
from fakes.llm_server import FakeServer, sse_reply
from fakes.vendor_wire import RsStream, an_error_after_text, an_web_search_message, rs_usage
from llm_helpers import FAST_RETRY, OPENAI_KEY, collect, collect_until_error, make_anthropic

NYT = ("https://www.nytimes.com/weather", "NYC weather", "Sunny, 21 degrees")
WIKI = ("https://en.wikipedia.org/wiki/New_York_City", "New York City - Wikipedia", "the most populous city")


def ask(model: str, web_search: WebSearch | None) -> LlmRequest:
    return LlmRequest(model=model, system="Be brief.", messages=(UserMessage((TextBlock("weather in NYC?"),)),),
                      web_search=web_search)  # fmt: skip


def responses(server: FakeServer, client: httpx.AsyncClient) -> OpenAiResponsesProvider:
    return OpenAiResponsesProvider(name="openai", base_url=f"{server.url}/v1", api_key=OPENAI_KEY,
                                   api_key_env="OPENAI_API_KEY", http_client=client, retry=FAST_RETRY)  # fmt: skip


def assemble(chunks: list) -> AssistantMessage:
    assembler = StreamAssembler()
    for chunk in chunks:
        assembler.feed(chunk)
    message = assembler.finish("m", complete=True)
    assert message is not None
    return message


async def test_anthropic_search_citations_and_billed_searches(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(sse_reply(*an_web_search_message(
        "weather NYC today", [(NYT[1], NYT[0]), (WIKI[1], WIKI[0])],
        [("It is sunny ", NYT), ("in the most populous city", WIKI), (" today.", None)], searches=2)))  # fmt: skip
    provider = make_anthropic(server, http_client)
    chunks = await collect(provider, ask("claude-sonnet-4-6", WebSearch(blocked_domains=("pinterest.com",))))
    body = server.requests[0].json()
    assert body["tools"] == [{"type": "web_search_20250305", "name": "web_search", "blocked_domains": ["pinterest.com"],
                              "cache_control": {"type": "ephemeral"}}]  # fmt: skip
    assert "tool_choice" not in body  # no function tools: nothing to choose among
    assert [c for c in chunks if isinstance(c, CitationDelta)] == [CitationDelta(Citation(*NYT)), CitationDelta(Citation(*WIKI))]
    # The search blocks are the vendor's own: no tool call for the runner, no text of theirs.
    assert "".join(c.text for c in chunks if isinstance(c, TextDelta)) == (
        "I'll search for that.It is sunny in the most populous city today.")
    [usage] = [c.usage for c in chunks if isinstance(c, UsageChunk)]
    assert usage.web_search_requests == 2 and chunks[-1] == StopChunk(ProviderStop.END_TURN)
    message = assemble(chunks)
    assert message.citations == (Citation(*NYT), Citation(*WIKI)) and not message.tool_uses
    info = provider.model_info("claude-sonnet-4-6")
    assert info.pricing.cost(usage) == pytest.approx(Pricing(input=3.0, output=15.0, cache_read=0.3,
                                                             cache_write=3.75).cost(usage) + 2 * 10.0 / 1000)  # fmt: skip


async def test_anthropic_allowed_domains_and_function_tools(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(sse_reply(*an_web_search_message("q", [], [("no results", None)])))
    read = ToolSpec("read_file", "Read a file", {"type": "object", "properties": {}})
    request = ask("claude-sonnet-4-6", WebSearch(allowed_domains=("docs.python.org",)))
    await collect(make_anthropic(server, http_client), attrs.evolve(request, tools=(read,)))
    body = server.requests[0].json()
    assert [t.get("type", "function") for t in body["tools"]] == ["function", "web_search_20250305"]
    assert body["tools"][1]["allowed_domains"] == ["docs.python.org"] and "blocked_domains" not in body["tools"][1]
    assert body["tool_choice"] == {"type": "auto"}


@pytest.mark.parametrize("annotation_events", [True, False])
async def test_responses_search_citations_and_billed_searches(
    server: FakeServer, http_client: httpx.AsyncClient, annotation_events: bool
) -> None:
    server.enqueue(sse_reply(*(
        RsStream().created()
        .web_search("ws_1", "weather NYC today")
        .message("msg_1", "Sunny ", "today.", citations=((NYT[0], NYT[1]), (WIKI[0], WIKI[1])),
                 annotation_events=annotation_events)
        .completed(rs_usage(900, 40))
    )))  # fmt: skip
    chunks = await collect(responses(server, http_client), ask("gpt-5", WebSearch(allowed_domains=("nytimes.com",))))
    body = server.requests[0].json()
    assert body["tools"] == [{"type": "web_search", "filters": {"allowed_domains": ["nytimes.com"]}}]
    assert "tool_choice" not in body
    cited = [c.citation for c in chunks if isinstance(c, CitationDelta)]
    assert cited == [Citation(NYT[0], NYT[1]), Citation(WIKI[0], WIKI[1])]  # once each, whichever way they came
    [usage] = [c.usage for c in chunks if isinstance(c, UsageChunk)]
    assert usage == Usage(input_tokens=900, output_tokens=40, web_search_requests=1)
    assert chunks[-1] == StopChunk(ProviderStop.END_TURN)  # a hosted call is no tool call of ours
    assert assemble(chunks).citations == (Citation(NYT[0], NYT[1]), Citation(WIKI[0], WIKI[1]))


async def test_a_failed_responses_call_keeps_its_searches(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(sse_reply(*RsStream().created().web_search("ws_1", "q").failed("server_error", "boom")))
    server.enqueue(sse_reply(*RsStream().created().web_search("ws_2", "q").failed("invalid_prompt", "no")))
    chunks, error = await collect_until_error(responses(server, http_client), ask("gpt-5", WebSearch()))
    [retry] = [c for c in chunks if isinstance(c, RetryNotice)]
    assert retry.usage == Usage(web_search_requests=1)  # the retried attempt's searches are billed: reported
    assert error.usage == Usage(web_search_requests=1)  # and the final one's


async def test_anthropic_error_event_keeps_partial_usage(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(sse_reply(*an_error_after_text("Partial", input_tokens=300, output_tokens=7)))
    chunks, error = await collect_until_error(make_anthropic(server, http_client), ask("claude-sonnet-4-6", None))
    assert TextDelta("Partial") in chunks
    assert isinstance(error.__cause__, ServerError) or isinstance(error, ServerError)
    assert error.usage == Usage(input_tokens=300, output_tokens=7)


async def test_which_providers_can_search(http_client: httpx.AsyncClient) -> None:
    spec = WebSearch(required=True)
    chat = OpenAiChatProvider(name="openai", base_url="http://127.0.0.1:9/v1", api_key=OPENAI_KEY,
                              api_key_env="OPENAI_API_KEY", http_client=http_client)  # fmt: skip
    resp = OpenAiResponsesProvider(name="openai", base_url="http://127.0.0.1:9/v1", api_key=OPENAI_KEY,
                                   api_key_env="OPENAI_API_KEY", http_client=http_client)  # fmt: skip
    router = OpenAiApiRouter(chat, resp)
    assert web_search_problem(router, "gpt-5", spec) is None
    assert "chat completions" in (web_search_problem(router, "gpt-4o", spec) or "")
    assert "chat completions" in (web_search_problem(chat, "gpt-5", spec) or "")  # a gateway: no hosted tools
    assert web_search_problem(resp, "o3", spec) is None
    assert "only allowed domains" in (web_search_problem(resp, "gpt-5", WebSearch(blocked_domains=("a.com",))) or "")
    assert "no hosted web search" in (web_search_problem(EchoProvider(), "echo", spec) or "")
    with pytest.raises(WebSearchUnavailable, match=r"web search is required .* echo / echo cannot provide it"):
        check_web_search(EchoProvider(), "echo", spec)
    check_web_search(EchoProvider(), "echo", WebSearch())  # auto: no error ...
    assert request_web_search(EchoProvider(), "echo", WebSearch()) is None  # ... and not sent
    assert request_web_search(router, "gpt-5", spec) == spec
    assert request_web_search(router, "gpt-5", None) is None  # off


async def test_unknown_models_cannot_search(http_client: httpx.AsyncClient) -> None:
    provider = AnthropicProvider(name="gateway", base_url="http://127.0.0.1:9", api_key="k", api_key_env="K",
                                 http_client=http_client)  # fmt: skip
    assert web_search_problem(provider, "claude-sonnet-4-6", WebSearch()) is None
    assert web_search_problem(provider, "claude-next-9", WebSearch()) is None  # the claude- family searches
    assert "not in the model catalog" in (web_search_problem(provider, "mystery-model-x", WebSearch()) or "")


def test_citations_survive_the_journal_codec_and_usage_counts_searches() -> None:
    message = AssistantMessage((TextBlock("Sunny.", (Citation(*NYT), Citation(WIKI[0]))), TextBlock("plain")))
    data = message_to_dict(message)
    assert data["content"][0]["citations"] == [{"url": NYT[0], "title": NYT[1], "cited_text": NYT[2]}, {"url": WIKI[0]}]
    assert "citations" not in data["content"][1]  # only blocks that cite carry the key
    assert message_from_dict(data) == message
    assert usage_to_dict(Usage(input_tokens=1)) == {"input_tokens": 1, "output_tokens": 0, "cache_read_tokens": 0,
                                                    "cache_write_tokens": 0, "reasoning_tokens": 0}  # fmt: skip
    searched = Usage(output_tokens=2, web_search_requests=3)
    assert usage_from_dict(usage_to_dict(searched)) == searched
    assert (searched + searched).web_search_requests == 6
