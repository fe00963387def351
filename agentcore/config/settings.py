"""The configuration schema and the typed :class:`Settings` it produces.

``CONFIG_KEYS`` is the one table of every configuration key (dotted name, kind,
default, allowed values, doc); validation, defaults, ``agent config set`` and
the key table in docs/configuration.md all come from it. The ``Settings``
sections take their defaults from the same table, so ``Settings()`` is the
built-in configuration. Loading the layers lives in :mod:`agentcore.config`.

Importing this module stays cheap (no trio, httpx or rich): ``agent --version``
and ``agent acp`` start-up read configuration.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from agentcore.config.schema import ConfigError, Key, Kind, Merge, Schema

# ------------------------------------------------------------------ defaults

PERMISSION_MODES = ("read-only", "ask", "accept-edits", "yolo", "plan")
REASONING_EFFORTS = ("low", "medium", "high")
PROTOCOLS = ("openai-chat", "openai-responses", "anthropic-messages", "echo")
MCP_TRANSPORTS = ("stdio", "http", "sse")
HOOK_EVENTS = ("session_start", "user_prompt_submit", "pre_tool_use", "post_tool_use", "pre_compact", "stop")
COLOR_CHOICES = ("auto", "always", "never")
SANDBOX_MODES = ("off", "workspace-write")
WEB_SEARCH_MODES = ("off", "auto", "required")
VOICE_WARMTH = ("cool", "neutral", "warm")
VOICE_FORMALITY = ("casual", "neutral", "formal")

DEFAULT_PROFILE = "default"
REQUEST_LIMIT_DEFAULT = 64  # model requests in one turn; stops runaway tool loops
TOOL_CONCURRENCY_DEFAULT = 8  # tool calls of one response run in parallel up to this many
MAX_TOOL_RESULT_CHARS_DEFAULT = 30_000  # ~7.5k tokens: one result must not swamp the context
BASH_TIMEOUT_DEFAULT_S = 120.0  # matches common agents
BASH_MAX_TIMEOUT_S = 600.0  # the most a model may ask for in one call
PERMISSION_ANSWER_TIMEOUT_S = 1800.0  # half an hour: a person away from the screen, not a dead turn for ever
MICRO_DEFAULT = 0.60  # context fraction at which old tool results are trimmed
SOFT_DEFAULT = 0.70  # ... at which a background compaction starts
HARD_DEFAULT = 0.85  # ... at which the turn waits for compaction
MCP_STARTUP_TIMEOUT_S = 30.0  # some servers install packages on first start
MCP_TOOL_TIMEOUT_S = 120.0
HOOK_TIMEOUT_S = 10.0  # seconds; hooks sit on the turn's critical path, so a stuck one must not stall it long
AGENT_MAX_DEPTH_DEFAULT = 1  # sub-agents may not spawn further sub-agents

# Providers known without any configuration; users may override any field.
BUILTIN_PROVIDERS: dict[str, dict[str, Any]] = {
    "anthropic": {
        "protocol": "anthropic-messages",
        "base_url": "https://api.anthropic.com",
        "api_key_env": "ANTHROPIC_API_KEY",
    },
    "openai": {
        "protocol": "openai-chat",
        "base_url": "https://api.openai.com/v1",
        "api_key_env": "OPENAI_API_KEY",
    },
    # Offline provider that echoes its input: tests, demos, no key needed.
    "echo": {"protocol": "echo"},
}

_RULE_SHAPE = re.compile(r"^\s*[A-Za-z0-9_*?\[\]-]+\s*(\((.*\S.*)\))?\s*$", re.S)


def check_rule(text: str) -> str | None:
    """Error text if ``text`` is not ``tool`` or ``tool(pattern)``."""
    if _RULE_SHAPE.match(text):
        return None
    return f'bad permission rule "{text}": expected tool or tool(pattern), e.g. bash(git status *)'


_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+(?:/\S*)?$")


def check_domain(text: str) -> str | None:
    """Error text if ``text`` is not a domain for a web search filter (``example.com``, ``docs.python.org``)."""
    if _DOMAIN.match(text):
        return None
    return f'bad domain "{text}": expected a name such as example.com (no scheme, no spaces)'


def _rules(name: str, doc: str) -> Key:
    return Key(name, Kind.STR_LIST, (), doc, merge=Merge.APPEND, item_check=check_rule)


_HOOK_FIELDS = (
    Key("event", Kind.STR, None, "when the hook runs", choices=HOOK_EVENTS),
    Key("matcher", Kind.STR, "*", "tool-name glob the hook applies to (tool events)"),
    Key("command", Kind.STR, None, "shell command to run"),
    Key("timeout_s", Kind.FLOAT, HOOK_TIMEOUT_S, "seconds before the hook is killed", minimum=0),
)

CONFIG_KEYS: tuple[Key, ...] = (
    Key("provider", Kind.STR, None, "provider to use (a name under [providers])", nullable=True,
        env="AGENTCORE_PROVIDER", flag="--provider"),
    Key("model", Kind.STR, None, "model id for the provider", nullable=True, env="AGENTCORE_MODEL", flag="--model"),
    Key("reasoning_effort", Kind.STR, None, "reasoning effort for models that think", choices=REASONING_EFFORTS,
        nullable=True, env="AGENTCORE_REASONING_EFFORT"),
    Key("profile", Kind.STR, DEFAULT_PROFILE, "profile used when none is given", env="AGENTCORE_PROFILE",
        flag="--profile"),
    Key("providers.*.protocol", Kind.STR, None, "wire protocol", choices=PROTOCOLS, nullable=True),
    Key("providers.*.base_url", Kind.STR, None, "API base URL", nullable=True),
    Key("providers.*.api_key_env", Kind.STR, None, "environment variable holding the API key", nullable=True),
    Key("providers.*.headers", Kind.STR_TABLE, {}, "extra HTTP headers", secret=True),
    Key("providers.*.first_byte_timeout_s", Kind.FLOAT, None, "seconds from a request to the first byte of its answer "
        "before it is retried (default 30)", nullable=True, minimum=0),
    Key("providers.*.idle_timeout_s", Kind.FLOAT, None, "seconds of silence inside a streaming answer before it "
        "fails (default 60)", nullable=True, minimum=0),
    Key("providers.*.models", Kind.MODELS, {}, "models offered, optionally with context_window, max_output and "
        "prices (input_price, output_price, cache_read_price, cache_write_price in USD per million tokens)"),
    Key("permissions.mode", Kind.STR, "ask", "permission mode", choices=PERMISSION_MODES, env="AGENTCORE_MODE",
        flag="--mode"),
    Key("permissions.answer_timeout_s", Kind.FLOAT, PERMISSION_ANSWER_TIMEOUT_S, "seconds a permission request waits "
        "for an answer before the call is refused as unanswered (0: wait for ever)", minimum=0),
    _rules("permissions.allow", "rules that run without asking, e.g. \"bash(git status *)\""),
    _rules("permissions.ask", "rules that always ask"),
    _rules("permissions.deny", "rules that never run (hold in every mode)"),
    Key("tools.fetch_allow_private", Kind.BOOL, False, "let fetch reach private and loopback addresses"),
    Key("tools.bash_timeout_s", Kind.FLOAT, BASH_TIMEOUT_DEFAULT_S, "default bash timeout in seconds", minimum=0),
    Key("tools.bash_max_timeout_s", Kind.FLOAT, BASH_MAX_TIMEOUT_S, "largest bash timeout a call may ask for",
        minimum=0),
    Key("tools.web_search", Kind.STR, "off", "hosted web search by the model's vendor (Anthropic, OpenAI Responses): "
        "off, auto (when the model has it) or required (a session without it does not start)",
        choices=WEB_SEARCH_MODES),
    Key("tools.web_search_allowed_domains", Kind.STR_LIST, (), "web search finds pages of these domains only",
        item_check=check_domain),
    Key("tools.web_search_blocked_domains", Kind.STR_LIST, (), "web search never finds pages of these domains "
        "(Anthropic only; not together with allowed domains)", item_check=check_domain),
    Key("shell.env_passthrough", Kind.STR_LIST, (), "environment variables passed to tool processes even though "
        "they look like secrets (names; * globs allowed)", merge=Merge.APPEND),
    Key("shell.sandbox", Kind.STR, "off", "run bash, background shells and hooks in an OS sandbox (Linux, "
        "bubblewrap): the workspace writable, the rest read-only, secrets hidden", choices=SANDBOX_MODES),
    Key("shell.sandbox_network", Kind.BOOL, False, "let sandboxed commands use the network"),
    Key("trust.project_config", Kind.BOOL, False, "apply the configuration of folders you have not trusted "
        "(user config, env or flag only; a project cannot trust itself)", env="AGENTCORE_TRUST_PROJECT",
        flag="--trust"),
    Key("context.micro", Kind.FLOAT, MICRO_DEFAULT, "context fraction that trims old tool results",
        minimum=0, maximum=1),
    Key("context.soft", Kind.FLOAT, SOFT_DEFAULT, "context fraction that starts compaction", minimum=0, maximum=1),
    Key("context.hard", Kind.FLOAT, HARD_DEFAULT, "context fraction that blocks until compacted",
        minimum=0, maximum=1),
    Key("context.auto_compact", Kind.BOOL, True, "compact automatically at the thresholds"),
    Key("turn.request_limit", Kind.INT, REQUEST_LIMIT_DEFAULT, "model requests per turn", minimum=1),
    Key("turn.tool_concurrency", Kind.INT, TOOL_CONCURRENCY_DEFAULT, "tool calls run in parallel", minimum=1),
    Key("turn.max_tool_result_chars", Kind.INT, MAX_TOOL_RESULT_CHARS_DEFAULT,
        "longest tool result sent to the model (the rest is spilled to a file)", minimum=1),
    Key("mcp.servers.*.command", Kind.STR, None, "executable of a stdio server", nullable=True),
    Key("mcp.servers.*.args", Kind.STR_LIST, (), "its arguments"),
    Key("mcp.servers.*.env", Kind.STR_TABLE, {}, "extra environment for it", secret=True),
    Key("mcp.servers.*.url", Kind.STR, None, "URL of an HTTP or SSE server", nullable=True),
    Key("mcp.servers.*.headers", Kind.STR_TABLE, {}, "HTTP headers for it", secret=True),
    Key("mcp.servers.*.transport", Kind.STR, None, "transport (default: stdio with command, http with url)",
        choices=MCP_TRANSPORTS, nullable=True),
    Key("mcp.servers.*.enabled", Kind.BOOL, True, "start this server"),
    Key("mcp.servers.*.startup_timeout_s", Kind.FLOAT, MCP_STARTUP_TIMEOUT_S, "seconds to wait for start-up",
        minimum=0),
    Key("mcp.servers.*.trust_annotations", Kind.BOOL, False, "believe the server's readOnlyHint annotations "
        "(otherwise every tool of it counts as mutating; .mcp.json and ACP clients cannot set it)"),
    Key("mcp.servers.*.tool_timeout_s", Kind.FLOAT, MCP_TOOL_TIMEOUT_S, "seconds one tool call may take", minimum=0),
    Key("hooks", Kind.TABLE_LIST, (), "commands run on events: [[hooks]] tables with event, matcher, command, "
        "timeout_s", merge=Merge.APPEND, item_schema=_HOOK_FIELDS),
    Key("background.autonomous_turns", Kind.BOOL, True, "start a turn when a background task finishes while idle"),
    Key("agents.max_depth", Kind.INT, AGENT_MAX_DEPTH_DEFAULT, "how deep sub-agents may nest", minimum=0),
    Key("ui.color", Kind.STR, "auto", "terminal colour", choices=COLOR_CHOICES, env="AGENTCORE_COLOR"),
    Key("ui.theme", Kind.STR, "default", "terminal colour theme"),
    Key("voice.stt_model", Kind.STR, None, "directory of a CTranslate2 Whisper model for the offline cascade "
        "(default: the voice extra's tiny.en; pocketsphinx when neither is there)", nullable=True),
    Key("voice.voice", Kind.STR, None, "voice of the realtime backend (e.g. marin for OpenAI, Puck for Gemini)",
        nullable=True),
    Key("voice.espeak_voice", Kind.STR, "en-us", "espeak-ng voice of the offline cascade"),
    Key("voice.pace", Kind.FLOAT, 1.0, "speaking pace, a multiple of normal", minimum=0.5, maximum=1.5),
    Key("voice.warmth", Kind.STR, "neutral", "how warm the voice sounds", choices=VOICE_WARMTH),
    Key("voice.formality", Kind.STR, "neutral", "how formal the spoken language is", choices=VOICE_FORMALITY),
    Key("store.url", Kind.STR, None, "where sessions are kept: unset for journal files in the state directory, or "
        "postgresql://user@host/db for a database several servers share (the pg extra; docs/scale.md)",
        nullable=True, secret=True, env="AGENTCORE_STORE_URL"),
    Key("store.lease_s", Kind.FLOAT, 30.0, "seconds a server's hold on an open session lasts without renewal "
        "(a database store: a dead server's sessions move on after this)", minimum=1, env="AGENTCORE_STORE_LEASE_S"),
)  # fmt: skip

CONFIG_SCHEMA = Schema(CONFIG_KEYS)
_BY_NAME = {k.name: k for k in CONFIG_KEYS}


def _d(name: str) -> Any:
    return _BY_NAME[name].default


# ------------------------------------------------------------------ settings


@attrs.frozen
class ModelEntry:
    context_window: int | None = None
    max_output: int | None = None
    input_price: float | None = None  # USD per million tokens
    output_price: float | None = None
    cache_read_price: float | None = None
    cache_write_price: float | None = None


@attrs.frozen
class ProviderConfig:
    name: str
    protocol: Literal["openai-chat", "anthropic-messages", "echo"]
    base_url: str | None = None
    api_key_env: str | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    models: Mapping[str, ModelEntry] = attrs.field(factory=dict)
    first_byte_timeout_s: float | None = None
    idle_timeout_s: float | None = None


@attrs.frozen
class PermissionSettings:
    mode: Literal["read-only", "ask", "accept-edits", "yolo", "plan"] = _d("permissions.mode")
    answer_timeout_s: float = _d("permissions.answer_timeout_s")
    allow: tuple[str, ...] = ()
    ask: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()


@attrs.frozen
class ToolSettings:
    fetch_allow_private: bool = _d("tools.fetch_allow_private")
    bash_timeout_s: float = _d("tools.bash_timeout_s")
    bash_max_timeout_s: float = _d("tools.bash_max_timeout_s")
    web_search: Literal["off", "auto", "required"] = _d("tools.web_search")
    web_search_allowed_domains: tuple[str, ...] = ()
    web_search_blocked_domains: tuple[str, ...] = ()


@attrs.frozen
class ShellSettings:
    env_passthrough: tuple[str, ...] = ()
    sandbox: Literal["off", "workspace-write"] = _d("shell.sandbox")
    sandbox_network: bool = _d("shell.sandbox_network")


@attrs.frozen
class TrustSettings:
    project_config: bool = _d("trust.project_config")


@attrs.frozen
class ContextSettings:
    micro: float = _d("context.micro")
    soft: float = _d("context.soft")
    hard: float = _d("context.hard")
    auto_compact: bool = _d("context.auto_compact")


@attrs.frozen
class TurnSettings:
    request_limit: int = _d("turn.request_limit")
    tool_concurrency: int = _d("turn.tool_concurrency")
    max_tool_result_chars: int = _d("turn.max_tool_result_chars")


@attrs.frozen
class McpServerConfig:
    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = attrs.field(factory=dict)
    url: str | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    transport: Literal["stdio", "http", "sse"] = "stdio"
    enabled: bool = True
    startup_timeout_s: float = MCP_STARTUP_TIMEOUT_S
    tool_timeout_s: float = MCP_TOOL_TIMEOUT_S
    trust_annotations: bool = False


@attrs.frozen
class McpSettings:
    servers: Mapping[str, McpServerConfig] = attrs.field(factory=dict)


@attrs.frozen
class HookConfig:
    event: str
    command: str
    matcher: str = "*"
    timeout_s: float = HOOK_TIMEOUT_S


@attrs.frozen
class BackgroundSettings:
    autonomous_turns: bool = _d("background.autonomous_turns")


@attrs.frozen
class AgentsSettings:
    max_depth: int = _d("agents.max_depth")


@attrs.frozen
class UiSettings:
    color: Literal["auto", "always", "never"] = _d("ui.color")
    theme: str = _d("ui.theme")


@attrs.frozen
class VoiceSettings:
    stt_model: str | None = _d("voice.stt_model")
    voice: str | None = _d("voice.voice")
    espeak_voice: str = _d("voice.espeak_voice")
    pace: float = _d("voice.pace")
    warmth: Literal["cool", "neutral", "warm"] = _d("voice.warmth")
    formality: Literal["casual", "neutral", "formal"] = _d("voice.formality")


@attrs.frozen
class StoreSettings:
    url: str | None = _d("store.url")
    lease_s: float = _d("store.lease_s")


def _builtin_provider_configs() -> dict[str, ProviderConfig]:
    return {name: ProviderConfig(name=name, **fields) for name, fields in BUILTIN_PROVIDERS.items()}


@attrs.frozen
class Settings:
    """The effective configuration. ``Settings()`` is the built-in defaults."""

    provider: str | None = None
    model: str | None = None
    reasoning_effort: Literal["low", "medium", "high"] | None = None
    profile: str = DEFAULT_PROFILE
    providers: Mapping[str, ProviderConfig] = attrs.field(factory=_builtin_provider_configs)
    permissions: PermissionSettings = PermissionSettings()
    tools: ToolSettings = ToolSettings()
    shell: ShellSettings = ShellSettings()
    trust: TrustSettings = TrustSettings()
    context: ContextSettings = ContextSettings()
    turn: TurnSettings = TurnSettings()
    mcp: McpSettings = McpSettings()
    hooks: tuple[HookConfig, ...] = ()
    background: BackgroundSettings = BackgroundSettings()
    agents: AgentsSettings = AgentsSettings()
    ui: UiSettings = UiSettings()
    voice: VoiceSettings = VoiceSettings()
    store: StoreSettings = StoreSettings()

    def provider_config(self, name: str | None = None) -> ProviderConfig:
        """The named (default: the selected) provider, or a :class:`ConfigError` listing the known ones."""
        name = name or self.provider
        if name is None or name not in self.providers:
            raise ConfigError(
                f'unknown provider "{name}"' if name else "no provider selected",
                source="configuration",
                key="provider",
                allowed=", ".join(sorted(self.providers)),
            )
        return self.providers[name]


def check_thresholds(values: Mapping[str, Any], *, source: str, prefix: str = "") -> None:
    """Compaction thresholds must satisfy 0 < micro <= soft < hard <= 1."""
    micro, soft, hard = values["micro"], values["soft"], values["hard"]
    if not (0 < micro <= soft < hard <= 1):
        raise ConfigError(
            f"thresholds micro={micro:g}, soft={soft:g}, hard={hard:g} are out of order",
            source=source,
            key=f"{prefix}micro/soft/hard",
            allowed="0 < micro <= soft < hard <= 1",
        )

