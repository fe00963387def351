"""Model capabilities: requests carry only what the model takes (bodies checked
against the vendor SDKs by this folder's ``server`` fixture), unknown models get
the conservative profile, and a configured parameter that is dropped is said once."""

from __future__ import annotations

import argparse
import io
import json

import httpx
import pytest

from agentcore import AgentCoreBuilder, SessionCreateInfo
from agentcore.llm.base import API_CHAT, API_MESSAGES, API_RESPONSES, Capabilities, LlmRequest, ReasoningEffort
from agentcore.llm.capabilities import capability_notices, fit_request, nearest_effort
from agentcore.llm.catalog import CatalogError, ModelCatalog, default_catalog
from agentcore.messages import TextBlock, UserMessage
from agentcore.session.base import SessionPolicy
from agentcore.turn.runner import TurnConfig
from agentcore.cli import models_cmd
from fakes.llm_server import FakeServer, sse_reply
from fakes.vendor_wire import an_text_message, oa_text_stream
from llm_helpers import collect, make_anthropic, make_openai

HI = (UserMessage((TextBlock("hi"),)),)


def _request(model: str, **fields) -> LlmRequest:
    return LlmRequest(model=model, system="s", messages=HI, **fields)


@pytest.mark.parametrize("model", ["gpt-5", "gpt-5-mini", "gpt-5-nano-2025-08-07", "o3", "o4-mini"])
async def test_no_temperature_to_gpt5_family_and_o_series(model, server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(sse_reply(*oa_text_stream("ok")))
    await collect(make_openai(server, http_client), _request(model, temperature=0.7, reasoning_effort=ReasoningEffort.HIGH))
    body = server.requests[0].json()
    assert "temperature" not in body and "top_p" not in body
    assert body["reasoning_effort"] == "high"


@pytest.mark.parametrize("model", ["claude-sonnet-4-6", "claude-opus-4-6", "claude-haiku-4-5", "claude-opus-9-20300101"])
async def test_no_temperature_to_claude_models(model, server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(sse_reply(*an_text_message("ok")))
    await collect(make_anthropic(server, http_client), _request(model, temperature=0.2))
    assert "temperature" not in server.requests[0].json()


async def test_no_reasoning_effort_to_models_without_reasoning(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.enqueue(sse_reply(*oa_text_stream("ok")), sse_reply(*oa_text_stream("ok")))
    provider = make_openai(server, http_client)
    await collect(provider, _request("gpt-4o", temperature=0.3, reasoning_effort=ReasoningEffort.LOW))
    await collect(provider, _request("some-local-model", temperature=0.3, reasoning_effort=ReasoningEffort.LOW))
    for request in server.requests:
        body = request.json()
        assert "reasoning_effort" not in body
        assert body["temperature"] == 0.3  # both take sampling parameters


def test_unknown_models_get_the_conservative_profile_or_their_family() -> None:
    catalog = default_catalog()
    unknown = catalog.lookup("totally-new-model")
    assert not unknown.known and unknown.capabilities == Capabilities()
    assert not unknown.capabilities.reasoning_efforts and not unknown.capabilities.hosted_tools
    claude = catalog.lookup("claude-opus-9")
    assert not claude.known and claude.capabilities.api == API_MESSAGES and not claude.capabilities.temperature
    assert catalog.lookup("gpt-5.9-pro").capabilities.api == API_RESPONSES
    assert catalog.lookup("gpt-4.1").capabilities.api == API_CHAT


def test_fit_request_names_what_it_drops() -> None:
    caps = Capabilities(temperature=False)
    fitted, dropped = fit_request(_request("m", temperature=0.5, reasoning_effort=ReasoningEffort.MEDIUM), caps)
    assert fitted.temperature is None and fitted.reasoning_effort is None
    assert dropped == ("temperature", "reasoning_effort")
    plain = _request("m")
    assert fit_request(plain, caps) == (plain, ())


def test_nearest_effort_level() -> None:
    assert nearest_effort("high", Capabilities(reasoning_efforts=("low", "medium", "high"))) == "high"
    assert nearest_effort("low", Capabilities(reasoning_efforts=("medium", "high"))) == "medium"
    assert nearest_effort("high", Capabilities(reasoning_efforts=("minimal", "low"))) == "low"
    assert nearest_effort("high", Capabilities()) is None


def test_catalog_rejects_bad_capability_tables() -> None:
    base = "[unknown]\ncontext_window = 1000\nmax_output_tokens = 100\n"
    model = '[models.m]\ncontext_window = 1\nmax_output_tokens = 1\n'
    with pytest.raises(CatalogError, match="api"):
        ModelCatalog.from_toml(base + model + 'api = "grpc"\n')
    with pytest.raises(CatalogError, match="no capability profile 'nope'"):
        ModelCatalog.from_toml(base + model + 'capabilities = "nope"\n')
    with pytest.raises(CatalogError, match="reasoning_efforts"):
        ModelCatalog.from_toml(base + model + 'reasoning_efforts = ["turbo"]\n')
    with pytest.raises(CatalogError, match="unknown keys"):
        ModelCatalog.from_toml(base + "[capabilities.x]\ntemprature = false\n")
    with pytest.raises(CatalogError, match="families"):
        ModelCatalog.from_toml(base + '[families]\n"x-" = "missing"\n')


def test_a_model_table_overrides_its_profile() -> None:
    text = (
        "[unknown]\ncontext_window = 1000\nmax_output_tokens = 100\n"
        '[capabilities.p]\napi = "responses"\ntemperature = false\nreasoning_efforts = ["low", "high"]\n'
        '[models.m]\ncapabilities = "p"\ncontext_window = 10\nmax_output_tokens = 5\ntemperature = true\n'
    )
    caps = ModelCatalog.from_toml(text).lookup("m").capabilities
    assert caps == Capabilities(api="responses", temperature=True, reasoning_efforts=("low", "high"))


def test_notices_name_each_configured_parameter_the_model_ignores() -> None:
    catalog = default_catalog()
    notes = capability_notices(catalog.lookup("gpt-5"), temperature=0.4, reasoning_effort=ReasoningEffort.LOW)
    assert notes == ["gpt-5 does not take temperature; the configured value is not sent"]
    assert capability_notices(catalog.lookup("gpt-4o"), temperature=0.4, reasoning_effort=None) == []
    [unknown] = capability_notices(catalog.lookup("brand-new"), temperature=None, reasoning_effort=ReasoningEffort.HIGH)
    assert "reasoning_effort" in unknown and "conservative profile" in unknown


async def test_session_start_says_once_what_is_not_sent(server: FakeServer, http_client: httpx.AsyncClient, tmp_path) -> None:
    server.enqueue(sse_reply(*oa_text_stream("one")), sse_reply(*oa_text_stream("two")))
    policy = SessionPolicy(turn=TurnConfig(temperature=0.9))
    core = (
        AgentCoreBuilder().with_provider(make_openai(server, http_client), "gpt-5").with_policy(policy)
        .without_builtin_tools().with_state_dir(tmp_path / "state").build()
    )  # fmt: skip
    async with core.open_session(SessionCreateInfo(cwd=tmp_path)) as session:
        await session.run_turn("first")
        await session.run_turn("second")
        notices = [n.text for n in session.startup_notices]
    assert [n for n in notices if "temperature" in n] == ["gpt-5 does not take temperature; the configured value is not sent"]
    assert all("temperature" not in r.json() for r in server.requests)


def test_models_list_shows_the_capability_table() -> None:
    out = io.StringIO()
    assert models_cmd.run(argparse.Namespace(json=False), stdout=out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:3] == ["model", "provider", "api"]
    row = next(line.split() for line in lines if line.startswith("gpt-5 "))
    assert row[1:3] == ["openai", "responses"] and "minimal,low,medium,high" in row
    out = io.StringIO()
    models_cmd.run(argparse.Namespace(json=True), stdout=out)
    records = {r["id"]: r for r in map(json.loads, out.getvalue().splitlines())}
    assert records["claude-sonnet-4-6"]["temperature"] is False
    assert records["gpt-4o"]["reasoning_efforts"] == [] and records["gpt-4o"]["temperature"] is True
