"""Provider presets, configured providers, and choosing one (with a reason).

Selection order for the provider: ``--provider``, then ``AGENTCORE_PROVIDER``,
then the configured default; with none of those, the first available of
``ANTHROPIC_API_KEY``, ``OPENAI_API_KEY``, a local Ollama answering within
100 ms, and the offline ``echo`` provider. The model comes from ``--model``,
``AGENTCORE_MODEL``, the configured default, the provider's own default,
the catalog's default for a preset, or (Ollama) its first installed model.

Keys are read from the injected ``env`` mapping only, are handed to the
provider that needs them, and are never stored in a config value, a
selection or a message. A provider listed in ``withheld_keys`` (the loader's
verdict: a project layer chose its endpoint or its key variable, see
:func:`agentcore.config.project_key_problems`) is refused with
:class:`KeyWithheldError` before any key is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from typing import TYPE_CHECKING

import attrs
import trio

from agentcore.errors import AgentcoreError
from agentcore.llm.base import LlmProvider, ModelInfo, Pricing
from agentcore.llm.catalog import CatalogError, ModelCatalog, default_catalog, model_info_from_table

if TYPE_CHECKING:  # httpx costs ~100 ms to import; only real HTTP providers need it
    import httpx

    from agentcore.llm.transport import RetryPolicy, Timeouts

OPENAI_CHAT = "openai-chat"
OPENAI_RESPONSES = "openai-responses"
ANTHROPIC_MESSAGES = "anthropic-messages"
ECHO = "echo"
PROTOCOLS = frozenset({OPENAI_CHAT, OPENAI_RESPONSES, ANTHROPIC_MESSAGES, ECHO})

OLLAMA_DEFAULT_HOST = "127.0.0.1:11434"  # Ollama's documented default bind address
OLLAMA_PROBE_TIMEOUT_S = 0.1  # to connect: loopback accepts at once (the kernel answers); startup must not stall
OLLAMA_ANSWER_TIMEOUT_S = 1.0  # once something listens there, for its model list (a busy machine is slow)
ECHO_MODEL = "echo"

_PRESET_ONLY = frozenset({"route_by_api"})  # set by a preset, never by a settings table
_CONFIG_KEYS = frozenset(
    {"protocol", "base_url", "api_key_env", "headers", "models", "default_model", "max_tokens_field"}
)


class ProviderSelectionError(AgentcoreError):
    """The requested provider cannot be used (unknown, missing key, bad config)."""


class NoProviderError(ProviderSelectionError):
    """Nothing is configured or detected and the echo fallback is not allowed."""


class MissingKeyError(ProviderSelectionError):
    """The provider's key variable is not set; ``env_var`` names it."""

    def __init__(self, message: str, *, env_var: str) -> None:
        super().__init__(message)
        self.env_var = env_var


class KeyWithheldError(ProviderSelectionError):
    """The provider's key would go to an endpoint (or be read from a variable)
    that a project file chose; the message names the file, the key and the fix."""


@attrs.frozen
class ProviderConfig:
    """How to reach one provider. Holds the *name* of the key's env var, never the key."""

    name: str
    protocol: str
    base_url: str = ""
    api_key_env: str | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict, converter=lambda h: dict(h))
    # Models this provider offers: a name (limits from the catalog) or a
    # ModelInfo (explicit limits). The first one is the provider's default.
    models: tuple[str | ModelInfo, ...] = attrs.field(default=(), converter=tuple)
    default_model: str | None = None
    max_tokens_field: str = "max_tokens"
    first_byte_timeout_s: float | None = None  # None: the transport's default
    idle_timeout_s: float | None = None
    # openai-chat only: send a model whose catalog api is "responses" to /responses.
    # The openai preset at OpenAI's own URL only (compatible servers rarely have it).
    route_by_api: bool = False

    @property
    def model_overrides(self) -> tuple[ModelInfo, ...]:
        return tuple(m for m in self.models if isinstance(m, ModelInfo))

    @property
    def own_default_model(self) -> str | None:
        if self.default_model:
            return self.default_model
        if self.models:
            first = self.models[0]
            return first.id if isinstance(first, ModelInfo) else first
        return None


BUILTIN_PRESETS: Mapping[str, ProviderConfig] = {
    "anthropic": ProviderConfig(
        name="anthropic",
        protocol=ANTHROPIC_MESSAGES,
        base_url="https://api.anthropic.com",
        api_key_env="ANTHROPIC_API_KEY",
    ),
    "openai": ProviderConfig(
        name="openai",
        protocol=OPENAI_CHAT,
        base_url="https://api.openai.com/v1",
        api_key_env="OPENAI_API_KEY",
        max_tokens_field="max_completion_tokens",
        route_by_api=True,
    ),
    "ollama": ProviderConfig(name="ollama", protocol=OPENAI_CHAT, base_url=f"http://{OLLAMA_DEFAULT_HOST}/v1"),
    "echo": ProviderConfig(name="echo", protocol=ECHO, default_model=ECHO_MODEL),
}


@attrs.frozen
class Selection:
    provider: LlmProvider
    provider_name: str
    model: str
    reason: str  # why this provider, e.g. "ANTHROPIC_API_KEY is set"
    model_reason: str = ""  # why this model, e.g. "the anthropic default"

    @property
    def is_echo(self) -> bool:
        return self.provider_name == "echo" or getattr(self.provider, "name", None) == "echo"

    def describe(self) -> str:
        return f"{self.provider_name} / {self.model} ({self.reason}; model: {self.model_reason})"


# ------------------------------------------------------------------ config


def _model_entry(entry: Any, where: str) -> str | ModelInfo:
    if isinstance(entry, str):
        return entry
    if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
        raise ProviderSelectionError(f"{where}: each model is a name or a table with an 'id'")
    try:
        return model_info_from_table(
            entry["id"], entry, where=f"{where}: model {entry['id']!r}", also_allowed=frozenset({"id"})
        )
    except CatalogError as exc:
        raise ProviderSelectionError(str(exc)) from None


def parse_provider_configs(tables: Mapping[str, Any], *, source: str) -> dict[str, ProviderConfig]:
    """Parse ``[providers.NAME]`` tables; a table named like a preset
    overrides only the keys it sets. Errors name ``source`` and the key."""
    out: dict[str, ProviderConfig] = {}
    for name, table in tables.items():
        where = f"{source}: providers.{name}"
        if not isinstance(table, Mapping):
            raise ProviderSelectionError(f"{where} must be a table")
        extra = set(table) - _CONFIG_KEYS
        if extra:
            raise ProviderSelectionError(f"{where}: unknown keys {sorted(extra)}")
        base = BUILTIN_PRESETS.get(name)
        fields: dict[str, Any] = attrs.asdict(base, recurse=False) if base else {"name": name}
        fields.update({k: v for k, v in table.items() if k != "models"})
        if "models" in table:
            if not isinstance(table["models"], list):
                raise ProviderSelectionError(f"{where}.models must be a list")
            fields["models"] = tuple(_model_entry(m, f"{where}.models") for m in table["models"])
        protocol = fields.get("protocol")
        if protocol not in PROTOCOLS:
            raise ProviderSelectionError(
                f"{where}.protocol must be one of {sorted(PROTOCOLS)}, not {protocol!r}"
            )
        if protocol != ECHO and not fields.get("base_url"):
            raise ProviderSelectionError(f"{where}.base_url is required")
        headers = fields.get("headers", {})
        if not isinstance(headers, Mapping) or not all(isinstance(v, str) for v in headers.values()):
            raise ProviderSelectionError(f"{where}.headers must be a table of strings")
        out[name] = ProviderConfig(**fields)
    return out


def ollama_base_url(env: Mapping[str, str]) -> str:
    """The Ollama OpenAI-compatible URL, honouring ``OLLAMA_HOST`` like the Ollama CLI."""
    host = env.get("OLLAMA_HOST", "").strip() or OLLAMA_DEFAULT_HOST
    if "://" not in host:
        host = f"http://{host}"
    scheme, rest = host.split("://", 1)
    hostport = rest.rstrip("/")
    if hostport.startswith("0.0.0.0"):  # a bind-all address; connect over loopback
        hostport = "127.0.0.1" + hostport[len("0.0.0.0") :]
    if ":" not in hostport.rsplit("]", 1)[-1]:
        hostport += ":" + OLLAMA_DEFAULT_HOST.rsplit(":", 1)[1]
    return f"{scheme}://{hostport}/v1"


def from_settings(config: Any, catalog: ModelCatalog | None = None) -> ProviderConfig:
    """Adapt a provider table from the configuration layer (any object with
    ``name, protocol, base_url, api_key_env, headers`` and ``models`` mapping
    ids to entries with ``context_window, max_output, input_price,
    output_price, cache_read_price, cache_write_price``, all optional).
    Missing limits and prices come from the catalog."""
    if isinstance(config, ProviderConfig):
        return config
    catalog = catalog or default_catalog()
    models: list[str | ModelInfo] = []
    for model_id, entry in (getattr(config, "models", None) or {}).items():
        values = {f: getattr(entry, f, None) for f in (
            "context_window", "max_output", "input_price", "output_price", "cache_read_price", "cache_write_price")}
        if all(v is None for v in values.values()):
            models.append(model_id)
            continue
        known = catalog.lookup(model_id)

        def pick(value: Any, fallback: Any) -> Any:
            return fallback if value is None else value

        models.append(
            ModelInfo(
                id=model_id,
                context_window=int(pick(values["context_window"], known.context_window)),
                max_output_tokens=int(pick(values["max_output"], known.max_output_tokens)),
                pricing=Pricing(
                    input=float(pick(values["input_price"], known.pricing.input)),
                    output=float(pick(values["output_price"], known.pricing.output)),
                    cache_read=float(pick(values["cache_read_price"], known.pricing.cache_read)),
                    cache_write=float(pick(values["cache_write_price"], known.pricing.cache_write)),
                    web_search=known.pricing.web_search,
                ),
                capabilities=known.capabilities,
            )
        )
    return ProviderConfig(
        name=config.name,
        protocol=config.protocol,
        base_url=config.base_url or "",
        api_key_env=config.api_key_env,
        headers=dict(config.headers or {}),
        models=tuple(models),
        first_byte_timeout_s=getattr(config, "first_byte_timeout_s", None),
        idle_timeout_s=getattr(config, "idle_timeout_s", None),
    )


def effective_providers(
    env: Mapping[str, str], configured: Mapping[str, Any] | None
) -> dict[str, ProviderConfig]:
    """Presets with env base-URL overrides, then configured providers on top.

    For a configured provider named like a preset, only the fields that differ
    from the preset override it, so a configuration layer that merely repeats
    the built-in table does not undo ``OPENAI_BASE_URL`` and the like.
    """
    presets = dict(BUILTIN_PRESETS)
    for name, var in (("openai", "OPENAI_BASE_URL"), ("anthropic", "ANTHROPIC_BASE_URL")):
        if env.get(var):
            presets[name] = attrs.evolve(presets[name], base_url=env[var])
    if env.get("OLLAMA_HOST"):
        presets["ollama"] = attrs.evolve(presets["ollama"], base_url=ollama_base_url(env))
    for name, raw in (configured or {}).items():
        config = from_settings(raw)
        builtin = BUILTIN_PRESETS.get(name)
        if builtin is None:
            presets[name] = config
            continue
        changed = {
            f.name: getattr(config, f.name)
            for f in attrs.fields(ProviderConfig)
            if f.name not in _PRESET_ONLY
            and getattr(config, f.name) != getattr(builtin, f.name) and getattr(config, f.name) not in ("", None, (), {})
        }
        presets[name] = attrs.evolve(presets[name], **changed)
    for name, config in presets.items():
        builtin = BUILTIN_PRESETS.get(name)
        if config.route_by_api and builtin is not None and config.base_url != builtin.base_url:
            # Another endpoint (OPENAI_BASE_URL, a gateway) rarely has /responses: chat
            # completions only, unless its table says protocol = "openai-responses".
            presets[name] = attrs.evolve(config, route_by_api=False)
    return presets


# --------------------------------------------------------------- building


def _timeouts_for(config: ProviderConfig, timeouts: Timeouts | None) -> Timeouts | None:
    """The caller's timeouts with the provider's configured ones on top."""
    if config.first_byte_timeout_s is None and config.idle_timeout_s is None:
        return timeouts
    from agentcore.llm.transport import Timeouts as TransportTimeouts

    base = timeouts or TransportTimeouts()
    return attrs.evolve(
        base,
        first_byte_s=config.first_byte_timeout_s if config.first_byte_timeout_s is not None else base.first_byte_s,
        idle_s=config.idle_timeout_s if config.idle_timeout_s is not None else base.idle_s,
    )


def build_provider(
    config: ProviderConfig,
    *,
    env: Mapping[str, str],
    http_client: httpx.AsyncClient | None = None,
    timeouts: Timeouts | None = None,
    retry: RetryPolicy | None = None,
    catalog: ModelCatalog | None = None,
) -> LlmProvider:
    """An :class:`LlmProvider` for ``config``, its key taken from ``env``."""
    timeouts = _timeouts_for(config, timeouts)
    if config.protocol == ECHO:
        from agentcore.llm.echo import EchoProvider  # the lead's module; keep import lazy

        return EchoProvider()
    api_key = None
    if config.api_key_env:
        api_key = env.get(config.api_key_env) or None
        if api_key is None:
            raise MissingKeyError(
                f"provider {config.name!r} needs {config.api_key_env} set in the environment",
                env_var=config.api_key_env,
            )
    common: dict[str, Any] = {
        "name": config.name,
        "base_url": config.base_url,
        "api_key": api_key,
        "api_key_env": config.api_key_env,
        "headers": config.headers,
        "http_client": http_client,
        "timeouts": timeouts,
        "retry": retry,
        "catalog": catalog,
        "models": config.model_overrides,
    }
    if config.protocol == ANTHROPIC_MESSAGES:
        from agentcore.llm.anthropic import AnthropicProvider

        return AnthropicProvider(**common)
    if config.protocol == OPENAI_RESPONSES:
        from agentcore.llm.openai_responses import OpenAiResponsesProvider

        return OpenAiResponsesProvider(**common)
    if config.protocol == OPENAI_CHAT:
        from agentcore.llm.openai_chat import OpenAiChatProvider

        chat = OpenAiChatProvider(max_tokens_field=config.max_tokens_field, **common)
        if not config.route_by_api:
            return chat
        from agentcore.llm.openai_responses import OpenAiResponsesProvider
        from agentcore.llm.openai_router import OpenAiApiRouter

        # the Responses side borrows the chat side's client (closed once, by the router)
        return OpenAiApiRouter(chat, OpenAiResponsesProvider(**{**common, "http_client": chat.http_client}))
    raise ProviderSelectionError(f"provider {config.name!r} has unknown protocol {config.protocol!r}")


async def probe_openai_models(base_url: str, client: httpx.AsyncClient | None) -> list[str] | None:
    """Model ids from ``GET {base_url}/models``, or None when nothing listens
    there (checked within :data:`OLLAMA_PROBE_TIMEOUT_S`) or it does not answer
    within :data:`OLLAMA_ANSWER_TIMEOUT_S`."""
    if not await _port_open(base_url):
        return None  # the usual case (no local server): no HTTP client, no TLS set-up
    import httpx

    own = client is None
    http = client or httpx.AsyncClient(trust_env=False)
    try:
        with trio.move_on_after(OLLAMA_ANSWER_TIMEOUT_S):
            try:
                response = await http.get(f"{base_url}/models", timeout=OLLAMA_ANSWER_TIMEOUT_S)
                data = response.json() if response.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                return None
            if not isinstance(data, Mapping):
                return None
            items = data.get("data") or []
            return [m["id"] for m in items if isinstance(m, Mapping) and isinstance(m.get("id"), str)]
        return None
    finally:
        if own:
            await http.aclose()


async def _port_open(base_url: str) -> bool:
    """Whether something accepts TCP connections at the URL's host and port."""
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    if not parts.hostname:
        return False
    port = parts.port or (443 if parts.scheme == "https" else 80)
    with trio.move_on_after(OLLAMA_PROBE_TIMEOUT_S):
        try:
            stream = await trio.open_tcp_stream(parts.hostname, port)
        except OSError:
            return False
        await stream.aclose()
        return True
    return False


# -------------------------------------------------------------- selection


def _first(*pairs: tuple[str | None, str]) -> tuple[str | None, str]:
    for value, why in pairs:
        if value:
            return value, why
    return None, ""


async def select_provider(
    *,
    flag_provider: str | None = None,
    flag_model: str | None = None,
    env: Mapping[str, str],
    configured: Mapping[str, Any] | None = None,
    withheld_keys: Mapping[str, str] | None = None,
    default_provider: str | None = None,
    default_model: str | None = None,
    allow_echo: bool = True,
    http_client: httpx.AsyncClient | None = None,
    timeouts: Timeouts | None = None,
    retry: RetryPolicy | None = None,
    catalog: ModelCatalog | None = None,
) -> Selection:
    """Pick a (provider, model) pair and say why. See the module docstring
    for the order. Raises :class:`ProviderSelectionError` (or
    :class:`NoProviderError` when ``allow_echo`` is False and nothing is
    available)."""
    catalog = catalog or default_catalog()
    providers = effective_providers(env, configured)
    model, model_why = _first(
        (flag_model, "--model flag"),
        (env.get("AGENTCORE_MODEL"), "AGENTCORE_MODEL is set"),
        (default_model, "configured default model"),
    )
    name, why = _first(
        (flag_provider, "--provider flag"),
        (env.get("AGENTCORE_PROVIDER"), "AGENTCORE_PROVIDER is set"),
        (default_provider, "configured default provider"),
    )
    probed: list[str] | None = None
    if name is None:
        name, why, probed = await _detect(
            model=model, env=env, providers=providers, catalog=catalog, http_client=http_client
        )
        if name is None:
            if not allow_echo:
                raise NoProviderError(
                    "no LLM provider is available: set ANTHROPIC_API_KEY or OPENAI_API_KEY, "
                    "start a local Ollama, or choose one with --provider / AGENTCORE_PROVIDER"
                )
            name, why = "echo", "no API key is set and no local Ollama answered; using the offline echo provider"
            model, model_why = ECHO_MODEL, "the echo provider's model"  # a named model needs a real provider
    config = providers.get(name)
    if config is None:
        raise ProviderSelectionError(f"unknown provider {name!r}; known: {', '.join(sorted(providers))}")
    if name in (withheld_keys or {}):
        raise KeyWithheldError((withheld_keys or {})[name])
    if config.protocol == ECHO:
        model, model_why = model or ECHO_MODEL, model_why or "the echo provider's model"
    if model is None:
        model, model_why = config.own_default_model, f"the {name} provider's configured default"
    if model is None:
        model, model_why = catalog.default_model(name), f"the {name} default"
    if model is None and config.protocol in (OPENAI_CHAT, OPENAI_RESPONSES):
        if probed is None:
            probed = await probe_openai_models(config.base_url, http_client)
        if probed:
            model, model_why = probed[0], f"the first model {name} lists"
    if model is None:
        raise ProviderSelectionError(
            f"no model known for provider {name!r}: pass --model or set AGENTCORE_MODEL"
        )
    model = catalog.resolve_alias(model)
    provider = build_provider(
        config, env=env, http_client=http_client, timeouts=timeouts, retry=retry, catalog=catalog
    )
    return Selection(provider=provider, provider_name=name, model=model, reason=why, model_reason=model_why)


async def _detect(
    *,
    model: str | None,
    env: Mapping[str, str],
    providers: Mapping[str, ProviderConfig],
    catalog: ModelCatalog,
    http_client: httpx.AsyncClient | None,
) -> tuple[str | None, str, list[str] | None]:
    """Auto-detection: (provider name or None, reason, models Ollama listed)."""
    keyed = [("anthropic", "ANTHROPIC_API_KEY"), ("openai", "OPENAI_API_KEY")]
    if model is not None:
        vendor = catalog.provider_of(model)
        for name, var in keyed:
            if vendor == name and env.get(var):
                return name, f"{model} is a {name} model and {var} is set", None
    for name, var in keyed:
        if env.get(var):
            return name, f"{var} is set", None
    ollama = providers["ollama"]
    probed = await probe_openai_models(ollama.base_url, http_client)
    if probed is not None:
        return "ollama", f"a local Ollama answered at {ollama.base_url}", probed
    return None, "", None
