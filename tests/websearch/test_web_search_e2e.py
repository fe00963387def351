"""Hosted web search and billed usage through the real app: configuration
(``[tools] web_search``), the core's start-up check, the turn runner, the
journal and ``agent run`` (json and text), against a loopback Anthropic
server; plus partial usage of a stream that ends in an ``error`` event,
charged and still counted after a resume."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import httpx
import pytest

from agentcore.app import build_app
from agentcore.frontend import Frontend
from agentcore.cli.headless import EXIT_ERROR, EXIT_OK, run_prompt
from agentcore.messages import AssistantMessage, Citation, Usage
from fakes.llm_server import FakeServer, sse_reply
from fakes.vendor_wire import an_error_after_text, an_text_message, an_web_search_message, oa_text_stream

ANTHROPIC_KEY = "sk-ant-websearch-0123456789abcdef"
OPENAI_KEY = "sk-websearch-openai-0123456789"
NYT = ("https://www.nytimes.com/weather", "NYC weather", "Sunny, 21 degrees")
SEARCH_PRICE_USD = 10.0 / 1000  # the catalog's web_search price: $10 per thousand searches


def env_for(home: Path, server: FakeServer, vendor: str = "anthropic") -> dict[str, str]:
    env = {"AGENTCORE_HOME": str(home), "HOME": str(home.parent), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    if vendor == "anthropic":
        env |= {"ANTHROPIC_API_KEY": ANTHROPIC_KEY, "ANTHROPIC_BASE_URL": server.url}
    else:
        env |= {"OPENAI_API_KEY": OPENAI_KEY, "OPENAI_BASE_URL": f"{server.url}/v1"}
    return env


def configure(home: Path, toml: str) -> None:
    (home / "config.toml").write_text(toml, encoding="utf-8")


async def run(env: dict[str, str], work: Path, client: httpx.AsyncClient, fmt: str) -> tuple[int, str, str, object]:
    app = build_app(cwd=work, env=env, frontend=Frontend.cli(), http_client=client)
    out, err = io.StringIO(), io.StringIO()
    code = await run_prompt(app, "weather in NYC?", fmt=fmt, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue(), app


def search_reply():
    return sse_reply(*an_web_search_message("weather NYC", [(NYT[1], NYT[0])],
                                            [("It is sunny", NYT), (" today.", None)]))  # fmt: skip


async def test_required_search_runs_and_its_citations_are_kept_and_shown(
    home: Path, work: Path, server: FakeServer, http_client: httpx.AsyncClient
) -> None:
    configure(home, '[tools]\nweb_search = "required"\nweb_search_blocked_domains = ["pinterest.com"]\n')
    server.enqueue(search_reply())
    code, out, err, app = await run(env_for(home, server), work, http_client, "json")
    assert code == EXIT_OK, err
    result = json.loads(out)
    assert result["citations"] == [{"url": NYT[0], "title": NYT[1], "cited_text": NYT[2]}]
    assert result["usage"]["web_search_requests"] == 1
    [search_tool] = [t for t in server.requests[0].json()["tools"] if t.get("name") == "web_search"]
    assert search_tool["type"] == "web_search_20250305" and search_tool["blocked_domains"] == ["pinterest.com"]
    # Journaled: the resumed session has the citations in its history and the searches in its cost.
    async with app.core.open_session(app.session_info(session_id=result["session_id"])) as resumed:
        [answer] = [m for m in resumed.history.snapshot() if isinstance(m, AssistantMessage)]
        assert answer.citations == (Citation(*NYT),)
        assert resumed.usage.web_search_requests == 1
        assert resumed.cost_usd == pytest.approx(result["cost_usd"]) and resumed.cost_usd >= SEARCH_PRICE_USD


async def test_text_output_lists_the_sources_under_the_answer(
    home: Path, work: Path, server: FakeServer, http_client: httpx.AsyncClient
) -> None:
    configure(home, '[tools]\nweb_search = "auto"\n')
    server.enqueue(search_reply())
    code, out, _err, _app = await run(env_for(home, server), work, http_client, "text")
    assert code == EXIT_OK
    assert out == f"I'll search for that.It is sunny today.\n\nSources:\n[1] {NYT[1]} <{NYT[0]}>\n"


async def test_required_search_on_a_provider_without_it_fails_start_in_one_line(
    home: Path, work: Path, server: FakeServer, http_client: httpx.AsyncClient
) -> None:
    configure(home, '[tools]\nweb_search = "required"\n')
    code, out, err, _app = await run(env_for(home, server, "openai"), work, http_client, "json")
    assert code == EXIT_ERROR and server.requests == []  # nothing was sent
    [line] = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert "web search is required" in line and "chat completions" in line and "Traceback" not in err
    assert json.loads(out)["error"] in line


async def test_auto_search_is_left_out_where_the_model_cannot_search(
    home: Path, work: Path, server: FakeServer, http_client: httpx.AsyncClient
) -> None:
    configure(home, '[tools]\nweb_search = "auto"\n')
    server.enqueue(sse_reply(*oa_text_stream("no search here")))
    code, out, _err, _app = await run(env_for(home, server, "openai"), work, http_client, "json")
    assert code == EXIT_OK and json.loads(out)["text"] == "no search here"
    assert all(t.get("type") == "function" for t in server.requests[0].json().get("tools", []))


async def test_allowed_and_blocked_domains_together_are_a_config_error(
    home: Path, work: Path, server: FakeServer, http_client: httpx.AsyncClient
) -> None:
    configure(home, '[tools]\nweb_search = "auto"\nweb_search_allowed_domains = ["a.com"]\n'
                    'web_search_blocked_domains = ["b.com"]\n')  # fmt: skip
    code, _out, err, _app = await run(env_for(home, server), work, http_client, "json")
    assert code == EXIT_ERROR and "cannot both be set" in err and server.requests == []


async def test_a_bad_domain_is_refused_when_the_configuration_loads(home: Path, work: Path) -> None:
    from agentcore.app import AppError

    configure(home, '[tools]\nweb_search_allowed_domains = ["https://a.com"]\n')
    with pytest.raises(AppError, match="bad domain"):
        build_app(cwd=work, env={"AGENTCORE_HOME": str(home)}, frontend=Frontend.cli())


async def test_a_stream_ending_in_an_error_event_is_charged_and_counted_after_resume(
    home: Path, work: Path, server: FakeServer, http_client: httpx.AsyncClient
) -> None:
    server.enqueue(sse_reply(*an_error_after_text("Partial answ", input_tokens=3000, output_tokens=70)))
    code, out, err, app = await run(env_for(home, server), work, http_client, "json")
    result = json.loads(out)
    assert code == EXIT_ERROR and "Internal server error" in result["error"]
    expected_cost = (3000 * 3.0 + 70 * 15.0) / 1_000_000  # claude-sonnet-4-6 list prices
    assert result["cost_usd"] == pytest.approx(expected_cost)
    server.enqueue(sse_reply(*an_text_message("fine now", output_tokens=5)))
    async with app.core.open_session(app.session_info(session_id=result["session_id"])) as resumed:
        assert resumed.usage == Usage(input_tokens=3000, output_tokens=70)  # what /cost shows after a resume
        assert resumed.cost_usd == pytest.approx(expected_cost)
        await resumed.run_turn("again")
        assert resumed.usage.input_tokens == 3000 + 25 and resumed.usage.output_tokens == 75
