"""The session trait and the values that describe one: how to create it
(:class:`SessionCreateInfo`), what its profile decides (:class:`SessionPolicy`),
which provider serves it (:class:`ProviderSelection`) and what ``run_turn``
does when busy (:class:`WhenBusy`).

Frontends speak to a session through :class:`Session` only; the default
implementation is :class:`agentcore.session.default.DefaultSession`.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from agentcore.errors import InputError, SessionError
from agentcore.events import FanoutEmitter, Notice
from agentcore.frontend import Frontend
from agentcore.history import ContextStatus, History
from agentcore.llm.base import LlmProvider
from agentcore.messages import ImageBlock, TextBlock, UserMessage
from agentcore.permissions import PermissionGate, PermissionMode, Rule
from agentcore.tools.backends import FsBackend, ShellBackend
from agentcore.tools.registry import ToolFilter
from agentcore.turn.runner import TurnConfig, TurnOutcome

if TYPE_CHECKING:
    from agentcore.session.compaction import CompactionReport

Prompt = str | UserMessage | Sequence[TextBlock | ImageBlock]


@attrs.frozen
class SessionCreateInfo:
    """How to create (or resume) a session. Everything is optional but ``cwd``."""

    cwd: Path = attrs.field(converter=Path)
    frontend: Frontend = Frontend.library()
    profile: str | None = None
    provider: str | None = None
    model: str | None = None
    mode: PermissionMode | None = None
    additional_dirs: tuple[Path, ...] = attrs.field(default=(), converter=lambda ds: tuple(Path(d) for d in ds))
    fs: FsBackend | None = None
    shell: ShellBackend | None = None
    mcp_servers: tuple[Any, ...] = ()  # agentcore.mcp.McpServerSpec values, the last layer of the session's servers
    session_id: str | None = None  # set to resume a stored session
    interactive: bool = True  # False: asks become denies (headless runs, sub-agents)
    # The session that spawned this one as a sub-agent (agentcore.session.subagents); None for top-level sessions.
    parent: Any = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class SessionPolicy:
    """What a profile decides for a session: prompt, tools, permissions, limits, model."""

    profile: str = "default"
    prompt: str = ""
    inherit_project_prompt: bool = True
    tool_filter: ToolFilter = ToolFilter()
    mode: PermissionMode = PermissionMode.ASK
    rules: tuple[Rule, ...] = ()
    permission_answer_timeout_s: float | None = None  # None: a permission request waits for ever
    turn: TurnConfig = TurnConfig()
    provider: str | None = None
    model: str | None = None
    spawn: tuple[str, ...] = ()  # profiles this one may start as sub-agents
    settings: Any = None  # the effective agentcore.config.Settings, when loaded from config
    notices: tuple[str, ...] = ()  # warnings to show when a session starts (e.g. ignored project configuration)


@attrs.frozen
class ProviderSelection:
    provider: LlmProvider
    provider_name: str
    model: str
    reason: str = ""  # why this provider was picked, shown by every frontend
    is_echo: bool = False


class PromptTooLarge(InputError):
    """The prompt alone would not fit the model's context window: refused before
    it enters history, so it is never sent, never summarised, never stored."""


class SessionClosed(SessionError, RuntimeError):
    """The session was closed; it runs no more turns."""


class WhenBusy(enum.Enum):
    """What ``run_turn`` does when another turn is running."""

    RAISE = "raise"  # TurnInProgress (the default: callers must not race by accident)
    WAIT = "wait"  # run after it ends
    PREEMPT = "preempt"  # cancel it, then run (ACP: a new prompt replaces the running one)


@runtime_checkable
class Session(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def cwd(self) -> Path: ...

    @property
    def history(self) -> History: ...

    @property
    def events(self) -> FanoutEmitter: ...

    @property
    def permissions(self) -> PermissionGate: ...

    @property
    def mode(self) -> PermissionMode: ...

    @property
    def model(self) -> str: ...

    @property
    def provider_name(self) -> str: ...

    @property
    def title(self) -> str | None: ...

    @property
    def turn_running(self) -> bool:
        """A turn (a frontend's or an autonomous one) is running now."""
        ...

    @property
    def selection(self) -> ProviderSelection | None:
        """Which provider and model the session uses, and why."""
        ...

    @property
    def saving_problem(self) -> str | None:
        """Why a store stopped recording this session (a full disk ...); None while it is saved."""
        ...

    @property
    def startup_notices(self) -> Sequence[Notice]:
        """Notices for frontends to show once when the session opens (e.g. the echo banner)."""
        ...

    async def run_turn(self, prompt: Prompt, *, when_busy: WhenBusy = ...) -> TurnOutcome: ...

    def cancel(self) -> None: ...

    def context_status(self) -> ContextStatus: ...

    async def compact(self, *, focus: str | None = None, reason: str = "manual") -> CompactionReport | None:
        """Summarise the head of history now (``/compact``); None when there is nothing to cut."""
        ...

    async def set_mode(self, mode: PermissionMode) -> None: ...

    async def set_model(self, *, model: str, provider: str | None = None) -> None: ...

    async def aclose(self) -> None: ...
