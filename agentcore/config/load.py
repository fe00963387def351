"""Layered configuration: read every layer, merge, check, and remember origins.

Layers, later beats earlier:

1. built-in defaults (the schema in :mod:`agentcore.config.settings`, plus the built-in providers);
2. the user ``config.toml`` (platformdirs config dir for ``agentcore``, or ``$AGENTCORE_HOME``);
3. the project's ``.agent/config.toml``;
4. the project's ``.agent/config.local.toml`` (personal, e.g. remembered permissions);
   3 and 4 apply only when the folder is trusted (:mod:`agentcore.trust`), and
   never set ``trust.*``: a project cannot trust itself;
5. environment variables (``AGENTCORE_PROVIDER``, ``AGENTCORE_MODEL``, ``AGENTCORE_MODE``, ...);
6. command-line flags.

Scalars and named tables merge key by key; permission rule lists and hooks
accumulate across layers. Every effective value remembers where it came from
(``LoadedConfig.origins``), which ``agent config show --origin`` prints.
``LoadedConfig.trust`` says whether the project's files applied and, when they
did not, what they would have configured. ``LoadedConfig.withheld_keys`` names
providers whose key must not be sent because a project layer chose their
endpoint or key variable (see :func:`project_key_problems`).

This module is the public entry point: it re-exports the schema and the
``Settings`` types. Like them it imports nothing heavy (no trio, httpx, rich).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from agentcore.config.schema import (
    WILDCARD,
    ConfigError,
    KeyPath,
    Kind,
    Merge,
    check_value,
    format_key,
    loads_toml,
    parse_key,
    parse_text_value,
)
from agentcore.config.paths import AgentPaths, ProjectPaths, find_project, resolve_paths
from agentcore.trust import ProjectTrust, TrustStore, judge_project
from agentcore.config.settings import (
    BUILTIN_PROVIDERS,
    CONFIG_KEYS,
    CONFIG_SCHEMA,
    PROTOCOLS,
    AgentsSettings,
    BackgroundSettings,
    ContextSettings,
    HookConfig,
    McpServerConfig,
    McpSettings,
    ModelEntry,
    PermissionSettings,
    ProviderConfig,
    Settings,
    ShellSettings,
    ToolSettings,
    TrustSettings,
    TurnSettings,
    UiSettings,
    StoreSettings,
    VoiceSettings,
    check_thresholds,
)

__all__ = [
    "LoadedConfig",
    "build_mcp_server",
    "load_settings",
    "overlay",
    "project_key_problems",
    "read_toml_file",
]


@attrs.frozen
class LoadedConfig:
    """Settings plus where each value came from and which files were read."""

    settings: Settings
    # format_key(path) -> "default" | file path | "env AGENTCORE_X" | "flag --x" (joined by " + " for lists)
    origins: Mapping[str, str]
    values: Mapping[KeyPath, Any]  # the flat effective values, for `config show`
    files: tuple[Path, ...]
    paths: AgentPaths
    project: ProjectPaths
    trust: ProjectTrust
    # provider name -> why its key is not sent (a project chose its endpoint or key variable)
    withheld_keys: Mapping[str, str] = attrs.field(factory=dict)


# ------------------------------------------------------------------- loading


def read_toml_file(path: Path) -> dict[str, Any] | None:
    """The parsed file, None if it does not exist; a :class:`ConfigError` if it is not TOML."""
    import tomllib

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", source=str(path)) from None
    try:
        return loads_toml(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", source=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", source=str(path)) from None


def load_settings(
    *,
    cwd: Path,
    env: Mapping[str, str],
    flags: Mapping[str, Any] | None = None,
    user_config_dir: Path | None = None,
    paths: AgentPaths | None = None,
) -> LoadedConfig:
    """Read every layer for a session in ``cwd`` and return the effective settings.

    ``flags`` maps dotted keys (``"model"``, ``"permissions.mode"``) to values;
    ``None`` values (flags not given) are skipped. Raises :class:`ConfigError`.
    """
    if paths is None:
        paths = resolve_paths(env, user_config_dir=user_config_dir)
    project = find_project(cwd)
    values: dict[KeyPath, Any] = {}
    origins: dict[KeyPath, str] = {}
    _apply(values, origins, CONFIG_SCHEMA.defaults(), "default")
    builtin = {("providers", name, field): v for name, fs in BUILTIN_PROVIDERS.items() for field, v in fs.items()}
    _apply(values, origins, builtin, "default")
    files: list[Path] = []
    user_layer: Mapping[KeyPath, Any] = {}
    user_doc = read_toml_file(paths.user_config_file)
    if user_doc is not None:
        files.append(paths.user_config_file)
        user_layer = CONFIG_SCHEMA.validate(user_doc, source=str(paths.user_config_file))
        _apply(values, origins, user_layer, str(paths.user_config_file))
    trust = _judge_trust(project, values, origins, env, flags or {}, paths)
    project_sources = (project.config_file, project.local_config_file) if trust.trusted else ()
    for path in project_sources:
        doc = read_toml_file(path)
        if doc is not None:
            files.append(path)
            layer = CONFIG_SCHEMA.validate(doc, source=str(path))
            _apply(values, origins, {p: v for p, v in layer.items() if p[0] != TRUST_SECTION}, str(path))
    _apply_env(values, origins, env)
    _apply_flags(values, origins, flags or {})
    _fill_wildcard_defaults(values, origins)
    settings = _build_settings(values, origins)
    return LoadedConfig(
        settings=settings,
        origins={format_key(p): o for p, o in sorted(origins.items())},
        values=dict(sorted(values.items())),
        files=tuple(files),
        paths=paths,
        project=project,
        trust=trust,
        withheld_keys=project_key_problems(
            values, origins, user_layer, project_files={str(p) for p in project_sources}, user_file=paths.user_config_file
        ),
    )


TRUST_SECTION = "trust"  # keys only the user's own layers (user config, env, flags) may set


def _judge_trust(
    project: ProjectPaths,
    values: Mapping[KeyPath, Any],
    origins: Mapping[KeyPath, str],
    env: Mapping[str, str],
    flags: Mapping[str, Any],
    paths: AgentPaths,
) -> ProjectTrust:
    """The verdict for ``project`` from the layers read so far (defaults and user
    config) plus env and flags, which are applied to a scratch copy: they are
    the user's too, and their final place is above the project layers."""
    scratch, scratch_origins = dict(values), dict(origins)
    _apply_env(scratch, scratch_origins, env)
    _apply_flags(scratch, scratch_origins, flags)
    path = (TRUST_SECTION, "project_config")
    return judge_project(project, setting=bool(scratch[path]), setting_origin=scratch_origins[path],
                         store=TrustStore.of(paths))  # fmt: skip


_ENDPOINT_FIELDS = ("base_url", "api_key_env")


def project_key_problems(
    values: Mapping[KeyPath, Any],
    origins: Mapping[KeyPath, str],
    user_layer: Mapping[KeyPath, Any],
    *,
    project_files: set[str],
    user_file: Path,
) -> dict[str, str]:
    """Providers whose credentials must not be sent, with the reason.

    Invariant: a project layer (even a trusted one) never attaches a credential
    of the user's to an endpoint the user did not choose. A provider is listed
    when a project file set its ``base_url`` to something other than the
    built-in default and the user-config value while a key variable or
    user-configured headers would go with it, or set its ``api_key_env`` to
    anything but the built-in variable or the user-config value. Pure.
    """
    problems: dict[str, str] = {}
    names = sorted({p[1] for p in values if len(p) == 3 and p[0] == "providers"})
    for name in names:
        for field in _ENDPOINT_FIELDS:
            path = ("providers", name, field)
            value, source = values.get(path), origins.get(path, "default")
            if source not in project_files or value is None:
                continue
            if value == BUILTIN_PROVIDERS.get(name, {}).get(field) or value == user_layer.get(path):
                continue
            key_env = values.get(("providers", name, "api_key_env"))
            user_headers = str(user_file) in origins.get(("providers", name, "headers"), "")
            if field == "base_url" and not key_env and not user_headers:
                continue  # nothing of the user's goes there
            key = format_key(path)
            what = (f"the key in {key_env}" if key_env else "") + (" and " if key_env and user_headers else "") + (
                "the headers from your user config" if user_headers else "")
            if field == "api_key_env":
                what = f"the environment variable {value} as the key"
            problems[name] = (
                f'{source} sets {key} = "{value}"; agentcore does not send {what} for provider "{name}" '
                f"to a place a project chose. To allow it, set {key} in your user config ({user_file}), "
                "or remove it from the project file"
            )
            break
    return problems


def _apply(values: dict[KeyPath, Any], origins: dict[KeyPath, str], layer: Mapping[KeyPath, Any], origin: str) -> None:
    for path, value in layer.items():
        key = CONFIG_SCHEMA.lookup(path)
        assert key is not None
        previous = values.get(path)
        if key.merge is Merge.APPEND and previous:
            merged = tuple(previous) + tuple(v for v in value if v not in previous)
            values[path] = merged
            origins[path] = f"{origins[path]} + {origin}" if merged != tuple(previous) else origins[path]
        else:
            values[path] = value
            origins[path] = origin


def _apply_env(values: dict[KeyPath, Any], origins: dict[KeyPath, str], env: Mapping[str, str]) -> None:
    for key in CONFIG_KEYS:
        if key.env is None:
            continue
        text = env.get(key.env, "")
        if text.strip():
            source = f"env {key.env}"
            _apply(values, origins, {key.path: parse_text_value(key, text.strip(), source=source)}, source)


def _apply_flags(values: dict[KeyPath, Any], origins: dict[KeyPath, str], flags: Mapping[str, Any]) -> None:
    for name, value in flags.items():
        if value is None:
            continue
        path = parse_key(name, source="command line")
        key = CONFIG_SCHEMA.lookup(path)
        if key is None:
            raise ConfigError(
                "unknown key", source="command line", key=name, allowed=", ".join(k.name for k in CONFIG_KEYS)
            )
        source = f"flag {key.flag or '--' + name}"
        if isinstance(value, str) and key.kind is not Kind.STR:
            checked = parse_text_value(key, value, source=source)
        else:
            checked = check_value(key, value, source=source, path=path)
        _apply(values, origins, {path: checked}, source)


def _fill_wildcard_defaults(values: dict[KeyPath, Any], origins: dict[KeyPath, str]) -> None:
    """Give every named table (``providers.x``, ``mcp.servers.y``) all its keys."""
    instances = {path[:-1] for path in values if CONFIG_SCHEMA.lookup(path) and _is_wildcard_key(path)}
    for table in instances:
        for path, key in CONFIG_SCHEMA.wildcard_defaults(table).items():
            if path not in values:
                values[path] = key.default
                origins[path] = "default"


def _is_wildcard_key(path: KeyPath) -> bool:
    key = CONFIG_SCHEMA.lookup(path)
    return key is not None and WILDCARD in key.path


def _nested(values: Mapping[KeyPath, Any]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path, value in values.items():
        node = root
        for segment in path[:-1]:
            node = node.setdefault(segment, {})
        node[path[-1]] = value
    return root


def _build_settings(values: Mapping[KeyPath, Any], origins: Mapping[KeyPath, str]) -> Settings:
    tree = _nested(values)

    def origin(*path: str) -> str:
        """Where the value at ``path`` came from; for a table, every layer that set one of its keys."""
        if tuple(path) in origins:
            return origins[tuple(path)]
        layers = dict.fromkeys(o for p, o in origins.items() if p[: len(path)] == path and o != "default")
        return " + ".join(layers) or "default"

    providers = {}
    for name, fields in tree.get("providers", {}).items():
        if fields["protocol"] is None:
            raise ConfigError("a provider needs a protocol", source=origin("providers", name),
                              key=format_key(("providers", name, "protocol")), allowed=", ".join(PROTOCOLS))
        if fields["base_url"] is None and fields["protocol"] != "echo":
            raise ConfigError("a provider needs a base_url", source=origin("providers", name),
                              key=format_key(("providers", name, "base_url")))
        models = {m: ModelEntry(**entry) for m, entry in fields.pop("models").items()}
        providers[name] = ProviderConfig(name=name, models=models, **fields)
    servers = {}
    for name, fields in tree.get("mcp", {}).get("servers", {}).items():
        servers[name] = build_mcp_server(name, fields, origin)
    threshold_origins = [origin("context", n) for n in ("micro", "soft", "hard")]
    set_by = [o for o in threshold_origins if o != "default"]
    check_thresholds(tree["context"], source=set_by[-1] if set_by else "default", prefix="context.")
    tools = ToolSettings(**tree["tools"])
    if tools.bash_timeout_s > tools.bash_max_timeout_s:
        raise ConfigError(
            f"bash_timeout_s ({tools.bash_timeout_s:g}) is larger than bash_max_timeout_s "
            f"({tools.bash_max_timeout_s:g})", source=origin("tools", "bash_timeout_s"), key="tools.bash_timeout_s")
    settings = Settings(
        provider=tree["provider"],
        model=tree["model"],
        reasoning_effort=tree["reasoning_effort"],
        profile=tree["profile"],
        providers=providers,
        permissions=PermissionSettings(**tree["permissions"]),
        tools=tools,
        shell=ShellSettings(**tree["shell"]),
        trust=TrustSettings(**tree["trust"]),
        context=ContextSettings(**tree["context"]),
        turn=TurnSettings(**tree["turn"]),
        mcp=McpSettings(servers=servers),
        hooks=tuple(HookConfig(**hook) for hook in tree["hooks"]),
        background=BackgroundSettings(**tree["background"]),
        agents=AgentsSettings(**tree["agents"]),
        ui=UiSettings(**tree["ui"]),
        voice=VoiceSettings(**tree["voice"]),
        store=StoreSettings(**tree["store"]),
    )  # fmt: skip
    if settings.provider is not None and settings.provider not in providers:
        raise ConfigError(f'unknown provider "{settings.provider}"', source=origin("provider"), key="provider",
                          allowed=", ".join(sorted(providers)))  # fmt: skip
    return settings


def build_mcp_server(name: str, fields: dict[str, Any], origin: Any) -> McpServerConfig:
    key = format_key(("mcp", "servers", name))
    source = origin("mcp", "servers", name)
    if (fields["command"] is None) == (fields["url"] is None):
        raise ConfigError("an MCP server needs exactly one of command or url", source=source, key=key)
    transport = fields["transport"] or ("stdio" if fields["command"] else "http")
    if (transport == "stdio") != (fields["command"] is not None):
        raise ConfigError(f'transport "{transport}" does not fit {"command" if fields["command"] else "url"}',
                          source=origin("mcp", "servers", name, "transport"), key=f"{key}.transport",
                          allowed='"stdio" with command; "http" or "sse" with url')  # fmt: skip
    return McpServerConfig(name=name, **{**fields, "transport": transport})


# Origins of values the user chose for this run; a profile does not override them.
_EXPLICIT_ORIGINS = ("env ", "flag ")


def overlay(loaded: LoadedConfig, layer: Mapping[KeyPath, Any], origin: str) -> LoadedConfig:
    """Apply ``layer`` above the config files but below environment and flags.

    Used for profiles: ``--profile coder`` may set the model, yet an explicit
    ``--model`` or ``AGENTCORE_MODEL`` still wins. Values must already be checked.
    """
    values = dict(loaded.values)
    origins = {path: loaded.origins[format_key(path)] for path in values}
    for path, value in layer.items():
        key = CONFIG_SCHEMA.lookup(path)
        if key is None:
            raise ConfigError("unknown key", source=origin, key=format_key(path))
        if key.merge is Merge.REPLACE and origins.get(path, "").startswith(_EXPLICIT_ORIGINS):
            continue
        _apply(values, origins, {path: value}, origin)
    _fill_wildcard_defaults(values, origins)
    settings = _build_settings(values, origins)
    return attrs.evolve(
        loaded,
        settings=settings,
        origins={format_key(p): o for p, o in sorted(origins.items())},
        values=dict(sorted(values.items())),
    )
