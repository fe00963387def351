"""The model catalog: context windows, output limits, prices and capabilities.

The data lives in ``models.toml`` beside this file. Lookups forgive the usual
spellings of one model: a dated snapshot (``claude-sonnet-4-5-20250929``,
``gpt-4o-2024-08-06``), a router prefix (``openai/gpt-4o``), an Ollama tag
(``llama3.1:8b``) or dotted Claude versions (``claude-sonnet-4.5``). A model
that is still unknown gets conservative limits with ``known=False`` and one
logged warning, so context management errs on the safe side; its capabilities
are those of the longest ``[families]`` prefix its name starts with (e.g. any
``claude-`` model takes no temperature), else the ``[unknown]`` profile.

Capabilities (:class:`~agentcore.llm.base.Capabilities`) come from a named
``[capabilities.NAME]`` profile (``capabilities = "NAME"`` in a model's
table) with the model's own capability keys on top.
"""

from __future__ import annotations

import functools
import logging
import re
import tomllib
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

import attrs

from agentcore.config.schema import loads_toml
from agentcore.errors import InputError
from agentcore.llm.base import Capabilities, ModelInfo, Pricing
from agentcore.llm.capabilities import CAPABILITY_KEYS, CapabilityError, capabilities_from_table

log = logging.getLogger(__name__)

CATALOG_FILE = "models.toml"
# The keys of one model's limits and prices (USD per million tokens; web_search: USD per
# thousand hosted searches), wherever a model table is written.
MODEL_LIMIT_KEYS = frozenset(
    {"context_window", "max_output_tokens", "input", "output", "cache_read", "cache_write", "web_search"}
)
_TOP_KEYS = frozenset({"unknown", "default_models", "aliases", "models", "capabilities", "families"})
PROFILE_KEY = "capabilities"  # a model's named capability profile
_DATE_SUFFIX = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2})$")


class CatalogError(InputError):
    """The catalog file is malformed (names the file and the key)."""


def model_info_from_table(
    model_id: str,
    table: Mapping[str, Any],
    *,
    where: str,
    also_allowed: frozenset[str] = frozenset(),
    profiles: Mapping[str, Capabilities] | None = None,
    base: Capabilities | None = None,
) -> ModelInfo:
    """One model's limits, prices and capabilities from a TOML table (the catalog's
    ``[models.ID]``, a provider's ``models = [{id = ...}]``). Raises :class:`CatalogError`
    saying ``where`` (file and key) for an unknown key or a missing limit; prices default
    to 0, capabilities to ``base`` (else the conservative profile)."""
    unknown = set(table) - MODEL_LIMIT_KEYS - CAPABILITY_KEYS - {PROFILE_KEY} - also_allowed
    if unknown:
        raise CatalogError(f"{where} has unknown keys {sorted(unknown)}")
    profile_name = table.get(PROFILE_KEY)
    if profile_name is not None:
        if profile_name not in (profiles or {}):
            raise CatalogError(f"{where}.{PROFILE_KEY}: no capability profile {profile_name!r}")
        base = (profiles or {})[profile_name]
    try:
        caps = capabilities_from_table(table, where=where, base=base or Capabilities())
    except CapabilityError as exc:
        raise CatalogError(str(exc)) from None
    try:
        return ModelInfo(
            id=model_id,
            context_window=int(table["context_window"]),
            max_output_tokens=int(table["max_output_tokens"]),
            pricing=Pricing(
                input=float(table.get("input", 0.0)),
                output=float(table.get("output", 0.0)),
                cache_read=float(table.get("cache_read", 0.0)),
                cache_write=float(table.get("cache_write", 0.0)),
                web_search=float(table.get("web_search", 0.0)),
            ),
            capabilities=caps,
        )
    except KeyError as exc:
        raise CatalogError(f"{where} lacks {exc.args[0]!r}") from None


class ModelCatalog:
    """Known models plus the fallback for everything else."""

    def __init__(
        self,
        models: Iterable[ModelInfo],
        *,
        unknown_window: int,
        unknown_max_output: int,
        aliases: Mapping[str, str] | None = None,
        providers: Mapping[str, str] | None = None,
        default_models: Mapping[str, str] | None = None,
        unknown_capabilities: Capabilities = Capabilities(),
        families: Mapping[str, Capabilities] | None = None,
    ) -> None:
        self._models = {m.id: m for m in models}
        self._unknown_window = unknown_window
        self._unknown_max_output = unknown_max_output
        self._aliases = dict(aliases or {})
        self._providers = dict(providers or {})
        self._default_models = dict(default_models or {})
        self._unknown_caps = unknown_capabilities
        # Longest prefix first, so "gpt-5" wins over "gpt-".
        self._families = sorted((families or {}).items(), key=lambda kv: -len(kv[0]))
        self._warned: set[str] = set()

    @classmethod
    def from_toml(cls, text: str, *, source: str = CATALOG_FILE) -> ModelCatalog:
        try:
            data = loads_toml(text)
        except tomllib.TOMLDecodeError as exc:
            raise CatalogError(f"{source}: {exc}") from exc
        extra = set(data) - _TOP_KEYS
        if extra:
            raise CatalogError(f"{source}: unknown top-level keys {sorted(extra)}")
        unknown = data.get("unknown", {})
        for name, table in data.get("capabilities", {}).items():
            if set(table) - CAPABILITY_KEYS:
                raise CatalogError(f"{source}: capabilities.{name} has unknown keys {sorted(set(table) - CAPABILITY_KEYS)}")
        try:
            profiles = {
                name: capabilities_from_table(table, where=f"{source}: capabilities.{name}")
                for name, table in data.get("capabilities", {}).items()
            }
            unknown_caps = capabilities_from_table(
                {k: v for k, v in unknown.items() if k in CAPABILITY_KEYS}, where=f"{source}: unknown"
            )
        except CapabilityError as exc:
            raise CatalogError(str(exc)) from None
        families: dict[str, Capabilities] = {}
        for prefix, profile in data.get("families", {}).items():
            if profile not in profiles:
                raise CatalogError(f"{source}: families.{prefix!r} names unknown profile {profile!r}")
            families[prefix] = profiles[profile]
        models = [
            model_info_from_table(
                k, v, where=f"{source}: models.{k!r}", also_allowed=frozenset({"provider"}), profiles=profiles
            )
            for k, v in data.get("models", {}).items()
        ]
        providers = {
            k: v["provider"] for k, v in data.get("models", {}).items() if "provider" in v
        }
        aliases = data.get("aliases", {})
        for alias, target in aliases.items():
            if target not in {m.id for m in models}:
                raise CatalogError(f"{source}: aliases.{alias} points at unknown model {target!r}")
        return cls(
            models,
            unknown_window=int(unknown.get("context_window", 32_768)),
            unknown_max_output=int(unknown.get("max_output_tokens", 4_096)),
            aliases=aliases,
            providers=providers,
            default_models=data.get("default_models", {}),
            unknown_capabilities=unknown_caps,
            families=families,
        )

    @property
    def models(self) -> tuple[ModelInfo, ...]:
        return tuple(self._models.values())

    def resolve_alias(self, name: str) -> str:
        return self._aliases.get(name, name)

    def default_model(self, provider: str) -> str | None:
        return self._default_models.get(provider)

    def provider_of(self, model: str) -> str | None:
        """Which built-in vendor serves ``model`` (None for open models)."""
        found = self._find(self.resolve_alias(model))
        return self._providers.get(found.id) if found else None

    def _find(self, name: str) -> ModelInfo | None:
        for candidate in _spellings(name):
            if candidate in self._models:
                return self._models[candidate]
        return None

    def lookup(self, model: str) -> ModelInfo:
        """Limits and prices for ``model``; never raises."""
        found = self._find(self.resolve_alias(model))
        if found is not None:
            return found if found.id == model else _renamed(found, model)
        if model not in self._warned:
            self._warned.add(model)
            log.warning(
                "model %r is not in the catalog; assuming a %d-token window and %d output tokens",
                model,
                self._unknown_window,
                self._unknown_max_output,
            )
        return ModelInfo(
            id=model,
            context_window=self._unknown_window,
            max_output_tokens=self._unknown_max_output,
            known=False,
            capabilities=self.unknown_capabilities(model),
        )

    def unknown_capabilities(self, model: str) -> Capabilities:
        """The profile of a model not in the catalog: its family's, else the conservative one."""
        base = model.rsplit("/", 1)[-1]
        for prefix, caps in self._families:
            if base.startswith(prefix):
                return caps
        return self._unknown_caps


def _renamed(info: ModelInfo, model: str) -> ModelInfo:
    return attrs.evolve(info, id=model, known=True)


def _spellings(name: str) -> list[str]:
    """Candidate catalog keys for a model name, most specific first."""
    out = [name]
    base = name.rsplit("/", 1)[-1]  # router prefixes such as "openai/gpt-4o"
    for step in (base, base.split(":", 1)[0]):  # Ollama tags such as ":8b"
        out.append(step)
        undated = _DATE_SUFFIX.sub("", step)
        out.append(undated.removesuffix("-latest"))
        if step.startswith("claude"):
            out.append(_DATE_SUFFIX.sub("", step.replace(".", "-")))
    return list(dict.fromkeys(out))


@functools.cache
def default_catalog() -> ModelCatalog:
    """The catalog shipped with agentcore (parsed once per process)."""
    text = resources.files("agentcore.llm").joinpath(CATALOG_FILE).read_text(encoding="utf-8")
    return ModelCatalog.from_toml(text, source=f"agentcore/llm/{CATALOG_FILE}")


def cost_usd(info: ModelInfo, usage: Any) -> float:
    """Dollars for one call's usage (0 for unknown and local models)."""
    return info.pricing.cost(usage)
