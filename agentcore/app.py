"""Wiring an :class:`AgentCore` from layered configuration, for the frontends.

``build_app`` is what ``agent chat``, ``agent run``, ``agent acp`` and
``agent voice`` call first: it loads the configuration (defaults < user <
project < local < env < flags), and builds a core whose sessions resolve their
profile and provider per session (an ACP client may open sessions in several
directories, each with its own ``.agent/`` configuration).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from agentcore.errors import AgentcoreError
from agentcore.config import LoadedConfig, load_settings
from agentcore.config.schema import ConfigError
from agentcore.core import AgentCoreBuilder, DefaultAgentCore, ProviderSelection, SessionPolicy
from agentcore.frontend import Frontend, FrontendKind
from agentcore.llm.base import ReasoningEffort
from agentcore.config.paths import AgentPaths
from agentcore.permissions import PermissionMode, Rule, RuleAction
from agentcore.config.profiles import Profile, apply_profile, load_profile
from agentcore.session import SessionCreateInfo
from agentcore.config.settings import Settings
from agentcore.tools.registry import ToolFilter
from agentcore.trust import ProjectTrust
from agentcore.turn import TurnConfig

if TYPE_CHECKING:  # annotations only; the functions that build them import them
    from agentcore.tools.builtin import ToolSettings

log = logging.getLogger(__name__)

FLAG_KEYS = {
    "profile": "profile",
    "provider": "provider",
    "model": "model",
    "mode": "permissions.mode",
    "trust": "trust.project_config",  # --trust: apply this run's untrusted project configuration
}


class AppError(AgentcoreError):
    """A user-facing start-up problem (bad configuration, unknown profile)."""


@attrs.define
class AppContext:
    core: DefaultAgentCore
    loaded: LoadedConfig
    cwd: Path
    env: Mapping[str, str]
    flags: Mapping[str, Any]
    frontend: Frontend
    store: Any = None

    @property
    def settings(self) -> Settings:
        return self.loaded.settings

    @property
    def paths(self) -> AgentPaths:
        return self.loaded.paths

    def session_info(self, **overrides: Any) -> SessionCreateInfo:
        """A create-info for ``cwd`` with the frontend and flags filled in."""
        mode = self.flags.get("mode")
        base: dict[str, Any] = {
            "cwd": self.cwd,
            "frontend": self.frontend,
            "profile": self.flags.get("profile"),
            "provider": self.flags.get("provider"),
            "model": self.flags.get("model"),
            "mode": PermissionMode(mode) if mode else None,
        }
        base.update(overrides)
        return SessionCreateInfo(**base)


def _flag_layer(flags: Mapping[str, Any]) -> dict[str, Any]:
    return {FLAG_KEYS[k]: v for k, v in flags.items() if k in FLAG_KEYS and v is not None}


def _rules(settings: Settings) -> tuple[Rule, ...]:
    p = settings.permissions
    return tuple(
        Rule.parse(text, action)
        for action, texts in ((RuleAction.ALLOW, p.allow), (RuleAction.ASK, p.ask), (RuleAction.DENY, p.deny))
        for text in texts
    )


def policy_from_profile(profile: Profile, settings: Settings) -> SessionPolicy:
    """The session policy of ``profile`` under ``settings`` (which already has
    the profile layered in, under env and flags)."""
    effort = settings.reasoning_effort or profile.reasoning_effort
    return SessionPolicy(
        profile=profile.name,
        prompt=profile.prompt or "",
        inherit_project_prompt=profile.inherit_project_prompt,
        tool_filter=ToolFilter(allow=profile.effective_tools_allow, deny=profile.tools_deny),
        mode=PermissionMode(settings.permissions.mode),
        rules=_rules(settings),
        permission_answer_timeout_s=settings.permissions.answer_timeout_s or None,
        turn=TurnConfig(
            request_limit=settings.turn.request_limit,
            tool_concurrency=settings.turn.tool_concurrency,
            max_tool_result_chars=settings.turn.max_tool_result_chars,
            max_tokens=profile.max_tokens,
            temperature=profile.temperature,
            reasoning_effort=ReasoningEffort(effort) if effort else None,
        ),
        provider=settings.provider,
        model=settings.model,
        spawn=profile.spawn,
        settings=settings,
    )


def build_app(
    *,
    cwd: Path,
    env: Mapping[str, str],
    flags: Mapping[str, Any] | None = None,
    frontend: Frontend,
    allow_echo: bool = True,
    http_client: Any = None,
    user_config_dir: Path | None = None,
    on_untrusted_project: Callable[[ProjectTrust], None] | None = None,
) -> AppContext:
    """``on_untrusted_project`` is told once per project root whose configuration
    was ignored because the folder is not trusted (default: a warning in the log,
    which goes to stderr); a session in every directory is judged on its own."""
    flags = dict(flags or {})
    flag_layer = _flag_layer(flags)
    try:
        loaded = load_settings(cwd=cwd, env=env, flags=flag_layer, user_config_dir=user_config_dir)
    except ConfigError as exc:
        raise AppError(str(exc)) from exc
    paths = loaded.paths
    announced: set[Path] = set()

    def announce(trust: ProjectTrust) -> None:
        if trust.ignored is not None and trust.root not in announced:
            announced.add(trust.root)
            (on_untrusted_project or _log_untrusted)(trust)

    def session_config(session_cwd: Path, profile_name: str | None) -> tuple[Profile, LoadedConfig]:
        at_cwd = loaded if session_cwd == cwd else load_settings(cwd=session_cwd, env=env, flags=flag_layer, paths=paths)
        announce(at_cwd.trust)
        profile = load_profile(profile_name or at_cwd.settings.profile, cwd=session_cwd, paths=paths,
                               project_trusted=at_cwd.trust.trusted)  # fmt: skip
        return profile, apply_profile(at_cwd, profile)

    def resolve_policy(profile_name: str | None, session_cwd: Path) -> SessionPolicy:
        profile, effective = session_config(session_cwd, profile_name)
        policy = policy_from_profile(profile, effective.settings)
        notice = effective.trust.notice()
        if notice is not None and frontend.kind is FrontendKind.ACP:
            # An editor shows the agent's stderr in a log at best (and through the
            # bridge it is the server's): the session itself says what was ignored.
            policy = attrs.evolve(policy, notices=(notice,))
        return policy

    async def resolve_provider(provider: str | None, model: str | None) -> ProviderSelection:
        from agentcore.llm.registry import select_provider

        # A value that came from a flag (`--model`, or the bridge's hello) outranks the
        # environment's AGENTCORE_MODEL / AGENTCORE_PROVIDER, as it does in the settings.
        selection = await select_provider(
            flag_provider=provider if provider is not None and provider == flags.get("provider") else None,
            flag_model=model if model is not None and model == flags.get("model") else None,
            default_provider=provider,
            default_model=model,
            env=env,
            configured=loaded.settings.providers,
            withheld_keys=loaded.withheld_keys,
            allow_echo=allow_echo,
            http_client=http_client,
        )
        reason = selection.reason
        if reason == "configured default provider":
            reason = f"provider set by {loaded.origins.get('provider', 'the session')}"
        return ProviderSelection(
            selection.provider,
            selection.provider_name,
            selection.model,
            reason,
            is_echo=selection.provider_name == "echo",
        )

    def persist_rule(rule: Rule, project_root: Path) -> None:
        from agentcore.config.write import persist_permission_rule

        at_root = loaded if project_root == loaded.project.root else None
        if at_root is not None and not at_root.trust.trusted:
            log.warning("%s is not trusted: the rule %s is saved to its .agent/config.local.toml but applies "
                        "in later sessions only once you trust the folder (agent trust)", project_root, rule)

        try:
            persist_permission_rule(str(rule), scope="project", paths=paths, cwd=project_root)
        except (ConfigError, OSError) as exc:  # remembering is best effort; the session rule still applies
            log.warning("could not save permission rule %s: %s", rule, exc)

    builder = (
        AgentCoreBuilder()
        .with_env(env)
        .with_user_config_dir(paths.config_dir)
        .with_shell_settings(loaded.settings.shell, provider_key_vars=_provider_key_vars(loaded.settings))
        .with_state_dir(paths.state_dir)
        .with_tool_settings(_tool_settings(loaded.settings))
        .with_policy_resolver(resolve_policy)
        .with_provider_resolver(resolve_provider)
        .with_always_rule_sink(persist_rule)
    )
    store = open_session_store(loaded.settings, paths)
    builder = builder.with_session_store(store)
    for factory in _session_tool_factories(loaded, env, paths):
        builder = builder.with_session_tool_factory(factory)
    return AppContext(builder.build(), loaded, cwd, env, flags, frontend, store)


def _log_untrusted(trust: ProjectTrust) -> None:
    log.warning("%s", trust.notice())


def _provider_key_vars(settings: Settings) -> tuple[str, ...]:
    """Every configured provider's key variable: kept out of tool processes, its value redacted."""
    return tuple(dict.fromkeys(p.api_key_env for p in settings.providers.values() if p.api_key_env))


def _tool_settings(settings: Settings) -> ToolSettings:
    from agentcore.tools.builtin import ToolSettings

    names = {f.name for f in attrs.fields(ToolSettings)}
    values = {k: v for k, v in attrs.asdict(settings.tools).items() if k in names}
    return ToolSettings(**values)


def open_session_store(settings: Settings, paths: AgentPaths) -> Any:
    """The session store configuration asks for: journal files under the state
    directory, or a PostgreSQL database (``[store] url``; docs/scale.md). A bad
    URL or an unreachable database is an :class:`AppError` in one line."""
    url = settings.store.url
    if not url:
        from agentcore.store import JournalStore

        return JournalStore(paths.sessions_dir)
    if not url.startswith(("postgresql://", "postgres://")):
        raise AppError("[store] url must be a postgresql:// URL (or unset for session files)")
    from agentcore.store import JournalError
    from agentcore.store.pg import PgSessionStore

    try:
        return PgSessionStore(url, lease_s=settings.store.lease_s)
    except JournalError as exc:
        raise AppError(str(exc)) from None


def _session_tool_factories(loaded: LoadedConfig, env: Mapping[str, str], paths: AgentPaths) -> list[Any]:
    # Always present: ACP clients pass servers per session. The SDK is imported
    # only when a session actually has servers.
    from agentcore.mcp import McpToolFactory
    from agentcore.mcp.spec import session_specs

    def specs(session: Any) -> Any:
        return session_specs(session, env=env, project_trusted=project_trusted(session, paths))

    return [McpToolFactory(specs)]


def project_trusted(session: Any, paths: AgentPaths) -> bool:
    """Whether the project of ``session.cwd`` is trusted (its ``.mcp.json`` may start servers).

    ``trust.project_config`` in the session's settings comes from the user's own
    layers only (the loader never takes ``trust.*`` from a project)."""
    from agentcore.config.paths import find_project
    from agentcore.trust import TrustStore

    settings = getattr(session.policy, "settings", None)
    if settings is not None and settings.trust.project_config:
        return True
    return TrustStore.of(paths).covering(find_project(session.cwd).root) is not None
