"""The configuration wing: layered TOML settings, profiles and where files live.

- :mod:`~agentcore.config.load` — read every layer (defaults < user < trusted
  project < local < env < flags), merge, check, remember origins;
- :mod:`~agentcore.config.schema` — keys, kinds, validation, ``ConfigError``;
- :mod:`~agentcore.config.settings` — the key table and the typed ``Settings``;
- :mod:`~agentcore.config.profiles` — profiles (prompt, tools, permissions, model);
- :mod:`~agentcore.config.paths` — user config, state and project directories;
- :mod:`~agentcore.config.write` — ``agent config set`` and remembered rules;
- :mod:`~agentcore.config.doc` — the key tables in docs/configuration.md.

Nothing here imports trio, httpx or rich: start-up reads configuration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentcore._lazy import lazy_exports

_LOAD = "agentcore.config.load"
_SCHEMA = "agentcore.config.schema"
_SETTINGS = "agentcore.config.settings"
_EXPORTS = {
    **dict.fromkeys(("LoadedConfig", "build_mcp_server", "load_settings", "overlay", "project_key_problems",
                     "read_toml_file"), _LOAD),
    **dict.fromkeys(("ConfigError", "KeyPath", "format_key", "parse_key"), _SCHEMA),
    **dict.fromkeys(("AgentPaths", "ProjectPaths", "find_project", "resolve_paths"), "agentcore.config.paths"),
    **dict.fromkeys(("Profile", "apply_profile", "list_profiles", "load_profile", "ProfileError"),
                    "agentcore.config.profiles"),
    **dict.fromkeys(("init_user_config", "set_config_value", "persist_permission_rule"), "agentcore.config.write"),
    **dict.fromkeys((
        "BUILTIN_PROVIDERS", "CONFIG_KEYS", "CONFIG_SCHEMA", "DEFAULT_PROFILE", "HARD_DEFAULT", "MICRO_DEFAULT",
        "PERMISSION_MODES", "PROTOCOLS", "REASONING_EFFORTS", "SOFT_DEFAULT", "AgentsSettings", "BackgroundSettings",
        "ContextSettings", "HookConfig", "McpServerConfig", "McpSettings", "ModelEntry", "PermissionSettings",
        "ProviderConfig", "Settings", "ShellSettings", "ToolSettings", "TrustSettings", "TurnSettings", "UiSettings",
        "VoiceSettings",
        "WEB_SEARCH_MODES", "check_domain", "check_rule", "check_thresholds",
    ), _SETTINGS),
}  # fmt: skip
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover - static names for type checkers and IDEs
    from agentcore.config.load import *  # noqa: F403
    from agentcore.config.paths import AgentPaths, ProjectPaths, find_project, resolve_paths  # noqa: F401
    from agentcore.config.profiles import Profile, ProfileError, apply_profile, list_profiles, load_profile  # noqa: F401
    from agentcore.config.schema import ConfigError, KeyPath, format_key, parse_key  # noqa: F401
    from agentcore.config.write import init_user_config, persist_permission_rule, set_config_value  # noqa: F401
    from agentcore.config.settings import *  # noqa: F403
