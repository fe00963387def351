"""Choosing a provider and model, with injected env and a loopback Ollama."""

from __future__ import annotations

import attrs
import httpx
import pytest
import trio

from agentcore.llm.anthropic import AnthropicProvider
from agentcore.llm.base import LlmProvider, ModelInfo, Pricing
from agentcore.llm.catalog import default_catalog
from agentcore.llm.openai_chat import OpenAiChatProvider
from agentcore.llm.openai_router import OpenAiApiRouter
from agentcore.llm.registry import (
    BUILTIN_PRESETS,
    NoProviderError,
    ProviderConfig,
    ProviderSelectionError,
    from_settings,
    ollama_base_url,
    parse_provider_configs,
    select_provider,
)
from fakes.llm_server import FakeServer, json_reply

ANT = "sk-ant-selection-secret"
OAI = "sk-openai-selection-secret"


async def closed_port() -> int:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    await listeners[0].aclose()
    return port


async def no_ollama_env(**extra: str) -> dict[str, str]:
    """An env whose Ollama address has nothing listening (never the real port)."""
    return {"OLLAMA_HOST": f"127.0.0.1:{await closed_port()}", **extra}


async def test_anthropic_key_wins_auto_detection(http_client: httpx.AsyncClient) -> None:
    env = await no_ollama_env(ANTHROPIC_API_KEY=ANT, OPENAI_API_KEY=OAI)
    sel = await select_provider(env=env, http_client=http_client)
    assert (sel.provider_name, sel.model) == ("anthropic", "claude-sonnet-4-6")
    assert sel.reason == "ANTHROPIC_API_KEY is set"
    assert isinstance(sel.provider, AnthropicProvider)
    for text in (repr(sel), sel.describe(), repr(sel.provider)):
        assert ANT not in text


async def test_openai_key_is_next_and_uses_max_completion_tokens(http_client: httpx.AsyncClient) -> None:
    sel = await select_provider(env=await no_ollama_env(OPENAI_API_KEY=OAI), http_client=http_client)
    assert (sel.provider_name, sel.model, sel.reason) == ("openai", "gpt-5-mini", "OPENAI_API_KEY is set")
    assert isinstance(sel.provider, OpenAiApiRouter)  # chat or Responses by the model's catalog api
    assert sel.provider.chat.max_tokens_field == "max_completion_tokens"
    assert sel.provider.api_for("gpt-5-mini") == "responses" and sel.provider.api_for("gpt-4o") == "chat"


async def test_model_naming_a_vendor_picks_that_vendor(http_client: httpx.AsyncClient) -> None:
    env = await no_ollama_env(ANTHROPIC_API_KEY=ANT, OPENAI_API_KEY=OAI)
    sel = await select_provider(env=env, flag_model="gpt-4o", http_client=http_client)
    assert sel.provider_name == "openai"
    assert sel.reason == "gpt-4o is a openai model and OPENAI_API_KEY is set"


async def test_local_ollama_is_probed_on_loopback(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    server.route("GET", "/v1/models", json_reply(200, {"object": "list", "data": [
        {"id": "qwen3:8b", "object": "model", "created": 1, "owned_by": "library"}]}))
    env = {"OLLAMA_HOST": server.url}
    sel = await select_provider(env=env, http_client=http_client)
    assert sel.provider_name == "ollama"
    assert sel.reason == f"a local Ollama answered at {server.url}/v1"
    assert sel.model == "qwen3:8b" and "first model" in sel.model_reason
    assert isinstance(sel.provider, OpenAiChatProvider)
    assert "authorization" not in server.requests[0].headers


async def test_echo_is_the_last_resort(http_client: httpx.AsyncClient) -> None:
    sel = await select_provider(env=await no_ollama_env(AGENTCORE_MODEL="my-model"), http_client=http_client)
    assert (sel.provider_name, sel.model) == ("echo", "echo")
    assert "echo" in sel.reason and sel.is_echo
    assert isinstance(sel.provider, LlmProvider)


async def test_without_echo_the_error_names_the_env_vars(http_client: httpx.AsyncClient) -> None:
    with pytest.raises(NoProviderError) as info:
        await select_provider(env=await no_ollama_env(), allow_echo=False, http_client=http_client)
    message = str(info.value)
    assert "ANTHROPIC_API_KEY" in message and "OPENAI_API_KEY" in message


async def test_flags_beat_env_beat_config(http_client: httpx.AsyncClient) -> None:
    env = {"AGENTCORE_PROVIDER": "anthropic", "AGENTCORE_MODEL": "haiku", "ANTHROPIC_API_KEY": ANT,
           "OPENAI_API_KEY": OAI}
    sel = await select_provider(flag_provider="openai", flag_model="gpt-4o", env=env, http_client=http_client,
                                default_provider="echo", default_model="x")
    assert (sel.provider_name, sel.model, sel.reason, sel.model_reason) == (
        "openai", "gpt-4o", "--provider flag", "--model flag")
    sel = await select_provider(env=env, http_client=http_client, default_provider="echo")
    assert (sel.provider_name, sel.model) == ("anthropic", "claude-haiku-4-5")  # alias resolved
    assert sel.reason == "AGENTCORE_PROVIDER is set"
    sel = await select_provider(env={}, http_client=http_client, default_provider="echo", default_model="parrot")
    assert (sel.provider_name, sel.model, sel.reason) == ("echo", "parrot", "configured default provider")


async def test_explicit_provider_without_its_key_is_an_error(http_client: httpx.AsyncClient) -> None:
    with pytest.raises(ProviderSelectionError, match="needs OPENAI_API_KEY"):
        await select_provider(flag_provider="openai", env={}, http_client=http_client)
    with pytest.raises(ProviderSelectionError, match="unknown provider 'nope'"):
        await select_provider(flag_provider="nope", env={}, http_client=http_client)


async def test_configured_custom_provider(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    configured = parse_provider_configs(
        {
            "groq": {
                "protocol": "openai-chat",
                "base_url": f"{server.url}/openai/v1",
                "api_key_env": "GROQ_API_KEY",
                "headers": {"x-team": "core"},
                "models": ["llama-3.3-70b-versatile", {"id": "tiny", "context_window": 8192, "max_output_tokens": 1024}],
            }
        },
        source="config.toml",
    )
    sel = await select_provider(flag_provider="groq", env={"GROQ_API_KEY": "gsk_secret"}, configured=configured,
                                http_client=http_client)
    assert sel.model == "llama-3.3-70b-versatile"
    assert sel.provider.model_info("tiny") == ModelInfo("tiny", 8192, 1024)
    assert "gsk_secret" not in repr(configured) + repr(sel)


def test_config_errors_name_the_file_and_key() -> None:
    with pytest.raises(ProviderSelectionError, match=r"config.toml: providers.x: unknown keys \['api_key'\]"):
        parse_provider_configs({"x": {"protocol": "openai-chat", "base_url": "http://h", "api_key": "k"}},
                               source="config.toml")
    with pytest.raises(ProviderSelectionError, match="protocol must be one of"):
        parse_provider_configs({"x": {"protocol": "grpc", "base_url": "http://h"}}, source="config.toml")
    with pytest.raises(ProviderSelectionError, match="base_url is required"):
        parse_provider_configs({"x": {"protocol": "openai-chat"}}, source="config.toml")
    for model, problem in (({"id": "m", "context_window": 8}, "lacks 'max_output_tokens'"),
                           ({"id": "m", "context_window": 8, "max_output_tokens": 1, "window": 8},
                            r"has unknown keys \['window'\]")):
        with pytest.raises(ProviderSelectionError, match=rf"config.toml: providers.x.models: model 'm' {problem}"):
            parse_provider_configs({"x": {"protocol": "openai-chat", "base_url": "http://h", "models": [model]}},
                                   source="config.toml")


def test_preset_override_keeps_unset_fields() -> None:
    parsed = parse_provider_configs({"openai": {"base_url": "http://proxy/v1"}}, source="c.toml")
    assert parsed["openai"] == attrs.evolve(BUILTIN_PRESETS["openai"], base_url="http://proxy/v1")


async def test_base_url_env_vars_apply_to_presets(server: FakeServer, http_client: httpx.AsyncClient) -> None:
    env = {"ANTHROPIC_API_KEY": ANT, "ANTHROPIC_BASE_URL": server.url}
    # A configuration layer repeating the built-in table must not undo the env override.
    repeated = {"anthropic": ProviderConfig(name="anthropic", protocol="anthropic-messages",
                                            base_url="https://api.anthropic.com", api_key_env="ANTHROPIC_API_KEY")}
    sel = await select_provider(env=env, configured=repeated, http_client=http_client)
    assert sel.provider.base_url == server.url  # type: ignore[attr-defined]


def test_settings_tables_are_adapted() -> None:
    @attrs.frozen
    class Entry:
        context_window: int | None = None
        max_output: int | None = None
        input_price: float | None = None
        output_price: float | None = None
        cache_read_price: float | None = None
        cache_write_price: float | None = None

    @attrs.frozen
    class Table:
        name: str = "local"
        protocol: str = "openai-chat"
        base_url: str | None = "http://127.0.0.1:8080/v1"
        api_key_env: str | None = None
        headers: dict[str, str] = {}
        models: dict[str, Entry] = {"gpt-4o": Entry(input_price=0.0, output_price=0.0), "plain": Entry()}

    config = from_settings(Table())
    # Limits and the unset cache price come from the catalog; set prices win.
    known = default_catalog().lookup("gpt-4o")
    assert config.models[0] == ModelInfo(
        "gpt-4o", 128_000, 16_384, Pricing(0.0, 0.0, cache_read=1.25, cache_write=2.5), capabilities=known.capabilities
    )
    assert config.models[1] == "plain"


def test_ollama_host_forms() -> None:
    assert ollama_base_url({}) == "http://127.0.0.1:11434/v1"
    assert ollama_base_url({"OLLAMA_HOST": "0.0.0.0"}) == "http://127.0.0.1:11434/v1"
    assert ollama_base_url({"OLLAMA_HOST": "https://gpu.lan:8000/"}) == "https://gpu.lan:8000/v1"


async def test_openai_base_url_elsewhere_keeps_chat_completions(http_client: httpx.AsyncClient) -> None:
    # A gateway behind OPENAI_BASE_URL rarely has /responses: gpt-5 goes through chat completions there.
    env = await no_ollama_env(OPENAI_API_KEY=OAI, OPENAI_BASE_URL="http://127.0.0.1:9/v1")
    sel = await select_provider(env=env, flag_model="gpt-5", http_client=http_client)
    assert isinstance(sel.provider, OpenAiChatProvider)
    configured = {"openai": {"protocol": "openai-responses"}}
    sel = await select_provider(env=env, configured=parse_provider_configs(configured, source="t"), flag_model="gpt-5",
                                http_client=http_client)  # fmt: skip
    assert type(sel.provider).__name__ == "OpenAiResponsesProvider"  # unless the table asks for it
