"""The model catalog: lookups, fallbacks, cost."""

from __future__ import annotations

import logging

import pytest

from agentcore.llm.base import ModelInfo, Pricing
from agentcore.llm.catalog import CatalogError, ModelCatalog, cost_usd, default_catalog
from agentcore.messages import Usage


def test_shipped_catalog_loads_and_defaults_are_known() -> None:
    catalog = default_catalog()
    for provider in ("anthropic", "openai"):
        model = catalog.default_model(provider)
        assert model is not None and catalog.lookup(model).known
        assert catalog.provider_of(model) == provider
    sonnet = catalog.lookup("claude-sonnet-4-5")
    assert (sonnet.context_window, sonnet.max_output_tokens) == (200_000, 64_000)
    assert sonnet.pricing == Pricing(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75, web_search=10.0)


@pytest.mark.parametrize(
    ("spelling", "catalog_id"),
    [
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("openai/gpt-4o-mini", "gpt-4o-mini"),
        ("anthropic/claude-sonnet-4.5", "claude-sonnet-4-5"),
        ("llama3.1:8b", "llama3.1"),
        ("sonnet", "claude-sonnet-4-6"),
    ],
)
def test_usual_spellings_find_the_model(spelling: str, catalog_id: str) -> None:
    catalog = default_catalog()
    info = catalog.lookup(spelling)
    assert info.known and info.id == spelling
    assert info.context_window == catalog.lookup(catalog_id).context_window


def test_unknown_model_is_conservative_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    catalog = ModelCatalog.from_toml(
        "[unknown]\ncontext_window = 32_768\nmax_output_tokens = 4_096\n", source="t.toml"
    )
    with caplog.at_level(logging.WARNING, logger="agentcore.llm.catalog"):
        first = catalog.lookup("mystery-7b")
        second = catalog.lookup("mystery-7b")
    assert first == second == ModelInfo("mystery-7b", 32_768, 4_096, known=False)
    assert [r.getMessage() for r in caplog.records].count(
        "model 'mystery-7b' is not in the catalog; assuming a 32768-token window and 4096 output tokens"
    ) == 1


def test_cost_from_usage() -> None:
    info = default_catalog().lookup("claude-sonnet-4-5")
    usage = Usage(input_tokens=1_000_000, output_tokens=100_000, cache_read_tokens=2_000_000, cache_write_tokens=100_000)
    assert cost_usd(info, usage) == pytest.approx(3.0 + 1.5 + 0.6 + 0.375)
    assert cost_usd(default_catalog().lookup("llama3.3"), usage) == 0.0


def test_malformed_catalog_names_the_key() -> None:
    with pytest.raises(CatalogError, match=r"t.toml: models.'m' lacks 'max_output_tokens'"):
        ModelCatalog.from_toml('[models.m]\ncontext_window = 1\n', source="t.toml")
    with pytest.raises(CatalogError, match="unknown keys"):
        ModelCatalog.from_toml('[models.m]\ncontext_window = 1\nmax_output_tokens = 1\nprice = 3\n', source="t.toml")
    with pytest.raises(CatalogError, match="points at unknown model"):
        ModelCatalog.from_toml('[aliases]\nx = "nope"\n', source="t.toml")
