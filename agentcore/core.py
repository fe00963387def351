"""The root object: ``AgentCore`` holds the process-wide tools and configuration
and creates sessions. All wiring (which implementation goes where) happens in
:class:`AgentCoreBuilder`, never scattered through constructors.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs
import trio

from agentcore.background import BackgroundTasks
from agentcore.checkpoints.policy import TurnCheckpointer
from agentcore.checkpoints.rewind import checkpoints_dir
from agentcore.config.settings import AGENT_MAX_DEPTH_DEFAULT
from agentcore.events import FanoutEmitter, Notice
from agentcore.metrics import Metrics, MetricsObserver, process_metrics
from agentcore.history import History, VecHistory
from agentcore.llm.base import LlmProvider
from agentcore.llm.capabilities import capability_notices
from agentcore.llm.web_search import check_web_search, web_search_spec
from agentcore.llm.registry import ProviderSelectionError
from agentcore.messages import MediaStore, new_id
from agentcore.permissions import (
    DefaultPermissionGate,
    NonInteractiveGate,
    PermissionGate,
    Rule,
    resumed_mode,
)
from agentcore.protected_paths import ProtectedPaths
from agentcore.secrets import ToolSecrets
from agentcore.session.base import (  # SessionPolicy, ProviderSelection: re-exported, part of the core's surface
    ProviderSelection,
    Session,
    SessionCreateInfo,
    SessionPolicy,
)
from agentcore.session.compaction import Compactor, Thresholds
from agentcore.session.default import DefaultSession
from agentcore.session.hooks import HookPoints, NoHooks, SessionHooks
from agentcore.session.outcomes import OutcomeDelivery
from agentcore.session.persistence import (  # re-exported: part of the core's public surface
    MemorySessionStore,  # noqa: F401
    SessionLoader,
    SessionNotFound,
    SessionObserver,
    SessionSnapshot,
    SessionSummary,
)
from agentcore.session.state import StateObserver
from agentcore.session.subagents import SessionAgents, SpawnAgentTool, SubAgentGate
from agentcore.tools.base import Tool
from agentcore.tools.plan_mode import PlanModeTools
from agentcore.tools.registry import CompositeRegistry, StaticToolRegistry, ToolRegistry
from agentcore.tools.sandbox import BWRAP_PATH, ProcessConfinement, SandboxMode, SandboxPolicy
from agentcore.tools.workspace import Workspace
from agentcore.turn.tool_calls import NoToolCallWatcher, ToolCallWatcher

log = logging.getLogger(__name__)


@runtime_checkable
class SessionToolFactory(Protocol):
    """Makes a session's own tools (MCP servers). Returns a registry layered over
    the built-in tools; it may start tasks in ``nursery`` and change over time."""

    async def open(self, session: DefaultSession, nursery: trio.Nursery) -> ToolRegistry | None: ...


@runtime_checkable
class AgentCore(Protocol):
    @property
    def tools(self) -> StaticToolRegistry: ...

    def open_session(self, info: SessionCreateInfo) -> Any:
        """``async with core.open_session(info) as session: ...``"""
        ...

    async def start_session(self, info: SessionCreateInfo, nursery: trio.Nursery) -> Session: ...

    def list_sessions(self, *, cwd: Path | None = None) -> list[SessionSummary]: ...

    def delete_session(self, session_id: str) -> None: ...


PolicyResolver = Callable[[str | None, Path], SessionPolicy]
ProviderResolver = Callable[[str | None, str | None], Awaitable[ProviderSelection]]


class DefaultAgentCore:
    def __init__(
        self,
        *,
        tools: StaticToolRegistry,
        provider_resolver: ProviderResolver,
        policy_resolver: PolicyResolver,
        observers: Sequence[SessionObserver],
        tool_factories: Sequence[SessionToolFactory],
        loader: SessionLoader | None,
        state_dir: Path,
        on_always: Callable[[Rule, Path], None] | None,
        backends: Callable[[SessionCreateInfo], tuple[Any, Any]],
        tool_secrets: ToolSecrets | None = None,
        sandbox: SandboxPolicy = SandboxPolicy(),
        protected: ProtectedPaths | None = None,
        media: MediaStore | None = None,
        checkpoints: bool = True,
    ) -> None:
        self._tools = tools
        self.media = media  # where sessions' large images go (history holds references)
        self.checkpoints = checkpoints  # snapshot files around tool calls that may change them (rewind)
        self.provider_resolver = provider_resolver
        self.policy_resolver = policy_resolver
        self.observers = list(observers)
        self.tool_factories = list(tool_factories)
        self.loader = loader
        self.state_dir = state_dir
        self._on_always = on_always
        self._backends = backends
        # Tool processes (bash, background shells, hooks) start from tool_secrets.env,
        # their output is redacted with tool_secrets.redactor, and they run in `sandbox`.
        self.tool_secrets = tool_secrets if tool_secrets is not None else ToolSecrets.from_environment(os.environ)
        self.sandbox = sandbox
        # Writes here always ask, whatever the mode (the agent's and the shell's own configuration).
        self.protected = protected if protected is not None else ProtectedPaths()

    @property
    def tools(self) -> StaticToolRegistry:
        return self._tools

    @asynccontextmanager
    async def open_session(self, info: SessionCreateInfo) -> AsyncIterator[DefaultSession]:
        # Everything that can fail on bad input happens before the nursery opens,
        # so callers get the plain error (not an ExceptionGroup).
        prepared = await self._prepare(info)
        async with trio.open_nursery() as nursery:
            session = await self._create(prepared, nursery)
            try:
                yield session
            finally:
                with trio.CancelScope(shield=True):
                    await session.aclose()
                nursery.cancel_scope.cancel()

    async def start_session(self, info: SessionCreateInfo, nursery: trio.Nursery) -> DefaultSession:
        """Open a session whose lifetime is a task in ``nursery``; it ends at ``aclose()``."""

        async def hold(task_status: trio.TaskStatus[DefaultSession] = trio.TASK_STATUS_IGNORED) -> None:
            async with self.open_session(info) as session:
                closed = trio.Event()
                session.on_close(closed.set)
                task_status.started(session)
                await closed.wait()

        return await nursery.start(hold)

    def list_sessions(self, *, cwd: Path | None = None) -> list[SessionSummary]:
        return self.loader.list_sessions(cwd=cwd) if self.loader is not None else []

    def delete_session(self, session_id: str) -> None:
        if self.loader is None:
            raise SessionNotFound(f"no session store configured; cannot delete {session_id!r}")
        self.loader.delete(session_id)

    async def _prepare(self, info: SessionCreateInfo) -> _Prepared:
        from agentcore.tools.paths import check_additional_roots

        check_additional_roots(info.additional_dirs, self.protected)  # extra roots: absolute, real, not protected
        snapshot = self.loader.load(info.session_id) if info.session_id and self.loader is not None else None
        if info.session_id and snapshot is None:
            raise SessionNotFound(f"no session store configured; cannot load {info.session_id!r}")
        profile = info.profile or (snapshot.profile if snapshot else None)
        policy = self.policy_resolver(profile, info.cwd)
        policy.tool_filter.validate(self._tools.names(), source=f"profile {policy.profile!r}")
        selection = await self.provider_resolver(
            info.provider or (snapshot.provider if snapshot else None) or policy.provider,
            info.model or (snapshot.model if snapshot else None) or policy.model,
        )
        web_search = web_search_spec(policy.settings)
        check_web_search(selection.provider, selection.model, web_search)  # required but unavailable: no session
        if web_search != policy.turn.web_search:
            policy = attrs.evolve(policy, turn=attrs.evolve(policy.turn, web_search=web_search))
        return _Prepared(info, snapshot, policy, selection)

    async def _create(self, prepared: _Prepared, nursery: trio.Nursery) -> DefaultSession:
        info, snapshot, policy, selection = prepared.info, prepared.snapshot, prepared.policy, prepared.selection
        emitter = FanoutEmitter()
        session_id = snapshot.id if snapshot else (info.session_id or new_id("sess"))
        workspace = Workspace(info.cwd, info.additional_dirs)
        mode, mode_notice = (info.mode, None) if info.mode else resumed_mode(snapshot.mode if snapshot else None, policy.mode)
        project_root = workspace.cwd

        def on_always(rule: Rule) -> None:
            if self._on_always is not None:
                self._on_always(rule, project_root)

        gate: PermissionGate = DefaultPermissionGate(
            mode=mode, rules=policy.rules, emit=emitter.emit, on_always=on_always, protected=self.protected,
            answer_timeout_s=policy.permission_answer_timeout_s,
        )
        if info.parent is not None:  # a sub-agent: nobody to ask; the parent's rules decide asks
            gate = SubAgentGate(gate, parent=info.parent.permissions)
        elif not info.interactive:
            gate = NonInteractiveGate(gate)
        fs, shell = self._backends(info)
        if snapshot is not None and snapshot.history is not None:
            history: History = snapshot.history.fork()
        else:
            history = VecHistory(
                snapshot.messages if snapshot else (), token_counts=snapshot.token_counts if snapshot else None,
                media=self.media,
            )
        session = DefaultSession(
            session_id=session_id,
            info=info,
            workspace=workspace,
            provider=selection.provider,
            provider_name=selection.provider_name,
            model=selection.model,
            history=history,
            registry=CompositeRegistry([self._tools], tool_filter=policy.tool_filter),
            gate=gate,
            emitter=emitter,
            policy=policy,
            fs=fs,
            shell=shell,
            spill_dir=self.state_dir / "spills" / session_id,
            nursery=nursery,
            background=BackgroundTasks(nursery),
            provider_resolver=self.provider_resolver,
            title=snapshot.title if snapshot else None,
            plan=snapshot.plan if snapshot else (),
            redactor=self.tool_secrets.redactor,
        )
        session.selection = selection
        session.checkpoints = self._checkpointer(session, gate, nursery)
        if snapshot is not None:
            session.usage, session.cost_usd = snapshot.usage, snapshot.cost_usd
            session.restore_state(snapshot)  # metadata, control state, a pending turn, revisions
        session.startup_notices = [Notice("warning", _echo_banner())] if selection.is_echo else []
        if (sandbox_problem := self.sandbox.problem()) is not None:
            session.startup_notices.append(Notice("error", f"{sandbox_problem} Shell commands and hooks will not run."))
        session.startup_notices += [Notice("warning", text) for text in policy.notices]
        if mode_notice is not None:
            session.startup_notices.append(Notice("warning", mode_notice))
        if not selection.is_echo:  # configured parameters the model does not take: said once, not sent
            session.startup_notices += [Notice("info", text) for text in capability_notices(
                selection.provider.model_info(selection.model),
                temperature=policy.turn.temperature, reasoning_effort=policy.turn.reasoning_effort)]
        # Sub-agent sessions are part of their parent's work, not sessions to list or resume.
        for observer in self.observers if info.parent is None else ():
            observer.session_opened(session)
            emitter.add_observer(lambda ev, o=observer: o.on_event(session, ev))
            if isinstance(observer, StateObserver):  # durable state changes (metadata, control state)
                session.add_state_listener(lambda change, o=observer: o.on_state_change(session, change))
            session.on_close(lambda o=observer: o.session_closed(session))
        for factory in self.tool_factories:
            layer = await factory.open(session, nursery)
            if layer is not None:
                session.registry.push_layer(layer)
        if info.parent is None:  # the plan tool, while in plan mode; a sub-agent never presents plans
            session.registry.push_layer(PlanModeTools(lambda: gate.mode))
        await self._attach_satellites(session, policy)
        return session

    async def _attach_satellites(self, session: DefaultSession, policy: SessionPolicy) -> None:
        """Hooks, compaction, background outcomes and sub-agents: built here, each
        reading the session through its own narrow protocol, then handed to it."""
        settings = policy.settings
        hooks = self._hooks(session, settings)
        outcomes = OutcomeDelivery(session, autonomous=_setting(settings, "background", "autonomous_turns", True))
        session.on_idle(outcomes.turn_finished)
        session.on_close(outcomes.close)
        if session.background is not None and session.background.on_finished is None:
            session.background.on_finished = outcomes.task_finished
        agents = SessionAgents(
            self, session, outcomes=outcomes, max_depth=_setting(settings, "agents", "max_depth", AGENT_MAX_DEPTH_DEFAULT)
        )
        session.attach(core=self, compaction=_compactor(session, settings, hooks), hooks=hooks, agents=agents)
        if agents.can_spawn:
            session.registry.push_layer(StaticToolRegistry.of([SpawnAgentTool(agents.spawnable)]))
        await hooks.session_start(_start_source(session.info))

    def _checkpointer(self, session: DefaultSession, gate: PermissionGate, nursery: trio.Nursery) -> ToolCallWatcher:
        """Snapshots around file changes, kept beside the session's journal (a
        sub-agent's changes go to its parent's turn); paths deny rules cover are never stored."""
        parent = getattr(session.info.parent, "checkpoints", None)
        if parent is not None:
            return parent
        if not self.checkpoints:
            return NoToolCallWatcher()
        workspace = session.workspace
        copy = getattr(self.loader, "checkpoint_copy", None)  # a shared store (PostgreSQL) keeps a copy
        checkpointer = TurnCheckpointer(
            checkpoints_dir(self.loader, self.state_dir, session.id), workspace.cwd,
            refuse=lambda path: gate.path_denied(path, workspace=workspace),
            start_soon=nursery.start_soon,
            mirror=copy(session.id) if callable(copy) else None,
        )
        session.events.add_observer(checkpointer.observe)
        session.on_close(checkpointer.aclose)
        return checkpointer

    def _hooks(self, session: DefaultSession, settings: Any) -> HookPoints:
        """The session's ``[[hooks]]``, run like bash (scrubbed environment, sandbox); a no-op without any."""
        configured = tuple(getattr(settings, "hooks", None) or ())
        if not configured:
            return NoHooks()
        return SessionHooks(session, configured, secrets=self.tool_secrets, sandbox=self.sandbox)


@attrs.frozen
class _Prepared:
    info: SessionCreateInfo
    snapshot: SessionSnapshot | None
    policy: SessionPolicy
    selection: ProviderSelection


def _compactor(session: DefaultSession, settings: Any, hooks: HookPoints) -> Compactor:
    context = getattr(settings, "context", None)
    if context is None:
        return Compactor(session, hooks=hooks)
    return Compactor(
        session, Thresholds(context.micro, context.soft, context.hard), auto=context.auto_compact, hooks=hooks
    )


def _setting(settings: Any, section: str, key: str, default: Any) -> Any:
    return getattr(getattr(settings, section, None), key, default)


def _start_source(info: SessionCreateInfo) -> str:
    """What a session_start hook is told about how the session began."""
    if info.parent is not None:
        return "sub_agent"
    if info.session_id is not None:
        return "resume"
    return "startup"


def _echo_banner() -> str:
    from agentcore.llm.echo import ECHO_BANNER

    return ECHO_BANNER


@attrs.frozen
class LocalBackends:
    """Makes a session's local backends (unless ``info`` brings its own): a shell
    that starts from the scrubbed environment, redacts the agent's keys from what
    it prints, spills privately under the state directory and, when configured,
    runs in the OS sandbox confined to the session's workspace roots."""

    secrets: ToolSecrets
    sandbox: SandboxPolicy
    spill_dir: Path

    def __call__(self, info: SessionCreateInfo) -> tuple[Any, Any]:
        from agentcore.tools.local import LocalFs, LocalShell

        confinement = None
        if self.sandbox.enabled:
            confinement = ProcessConfinement(self.sandbox, Workspace(info.cwd, info.additional_dirs).roots)
        shell = info.shell or LocalShell(secrets=self.secrets, confinement=confinement, spill_dir=self.spill_dir)
        return info.fs or LocalFs(), shell


def _default_policy(profile: str | None, cwd: Path) -> SessionPolicy:
    return SessionPolicy(profile=profile or "default")


class AgentCoreBuilder:
    """Wires an :class:`AgentCore`. Every ``with_*`` returns the builder."""

    def __init__(self) -> None:
        self._tools: list[Tool] = []
        self._builtin = True
        self._tool_settings: Any = None
        self._env: Mapping[str, str] | None = None
        self._fixed: ProviderSelection | None = None
        self._provider_resolver: ProviderResolver | None = None
        self._policy_resolver: PolicyResolver = _default_policy
        self._observers: list[SessionObserver] = []
        self._metrics: Metrics | None = process_metrics()  # /metrics of agent serve (agentcore/metrics.py)
        self._factories: list[SessionToolFactory] = []
        self._loader: SessionLoader | None = None
        self._media: MediaStore | None = None
        self._checkpoints = True
        self._state_dir: Path | None = None
        self._on_always: Callable[[Rule, Path], None] | None = None
        self._settings: Any = None
        self._shell_settings: Any = None
        self._provider_key_vars: tuple[str, ...] = ()
        self._private_dirs: tuple[Path, ...] = ()
        self._user_config_dir: Path | None = None
        self._bwrap = BWRAP_PATH

    def with_env(self, env: Mapping[str, str]) -> AgentCoreBuilder:
        """Where API keys and ``AGENTCORE_*`` settings are read from (default: os.environ).
        Tool processes start from it, scrubbed of secrets (:mod:`agentcore.secrets`)."""
        self._env = env
        return self

    def with_shell_settings(
        self,
        shell: Any,
        *,
        provider_key_vars: Iterable[str] = (),
        private_dirs: Iterable[Path] = (),
        bwrap: Path = BWRAP_PATH,
    ) -> AgentCoreBuilder:
        """``[shell]`` settings (``env_passthrough``, ``sandbox``, ``sandbox_network``)
        and what they need: the ``api_key_env`` of every configured provider (stripped
        from tool processes, their values redacted), the agent's own directories to
        hide in the sandbox (the user config directory; the state directory always
        is) and where bubblewrap lives. Without this call tool processes are still
        scrubbed (well-known keys, name and value patterns) and run unsandboxed."""
        self._shell_settings = shell
        self._provider_key_vars = tuple(provider_key_vars)
        self._private_dirs = tuple(Path(p) for p in private_dirs)
        self._bwrap = Path(bwrap)
        return self

    def with_user_config_dir(self, path: Path) -> AgentCoreBuilder:
        """The user's agentcore configuration directory: writes to it always ask,
        and the sandbox hides it from tool processes."""
        self._user_config_dir = Path(path)
        return self

    def with_provider(self, provider: LlmProvider, model: str, *, name: str | None = None) -> AgentCoreBuilder:
        """Use exactly this provider for every session."""
        self._fixed = ProviderSelection(provider, name or provider.name, model, "set by the embedding program")
        return self

    def with_provider_resolver(self, resolver: ProviderResolver) -> AgentCoreBuilder:
        self._provider_resolver = resolver
        return self

    def with_tools(self, tools: Iterable[Tool]) -> AgentCoreBuilder:
        self._tools.extend(tools)
        return self

    def without_builtin_tools(self) -> AgentCoreBuilder:
        self._builtin = False
        return self

    def with_tool_settings(self, settings: Any) -> AgentCoreBuilder:
        self._tool_settings = settings
        return self

    def with_policy_resolver(self, resolver: PolicyResolver) -> AgentCoreBuilder:
        self._policy_resolver = resolver
        return self

    def with_policy(self, policy: SessionPolicy) -> AgentCoreBuilder:
        self._policy_resolver = lambda _profile, _cwd: policy
        return self

    def with_metrics(self, metrics: Metrics | None) -> AgentCoreBuilder:
        """Feed ``metrics`` (default: the process registry); None feeds none."""
        self._metrics = metrics
        return self

    def with_observer(self, observer: SessionObserver) -> AgentCoreBuilder:
        self._observers.append(observer)
        return self

    def with_session_tool_factory(self, factory: SessionToolFactory) -> AgentCoreBuilder:
        self._factories.append(factory)
        return self

    def with_session_store(self, store: SessionLoader) -> AgentCoreBuilder:
        """Load sessions from ``store``; if it is also an observer, it records them;
        if it is also a :class:`MediaStore`, sessions keep their large images there."""
        self._loader = store
        if isinstance(store, SessionObserver) and store not in self._observers:
            self._observers.append(store)
        if isinstance(store, MediaStore) and self._media is None:
            self._media = store
        return self

    def with_media_store(self, media: MediaStore | None) -> AgentCoreBuilder:
        """Where sessions keep images over the inline threshold (history holds
        references read back for each request); ``None`` keeps them inline."""
        self._media = media
        return self

    def without_checkpoints(self) -> AgentCoreBuilder:
        """Do not snapshot files around tool calls (no rewind of code, no /diff)."""
        self._checkpoints = False
        return self

    def with_state_dir(self, path: Path) -> AgentCoreBuilder:
        self._state_dir = Path(path)
        return self

    def with_always_rule_sink(self, sink: Callable[[Rule, Path], None]) -> AgentCoreBuilder:
        """Called with (rule, project root) when a user answers "allow always"."""
        self._on_always = sink
        return self

    def build(self) -> DefaultAgentCore:
        builder = StaticToolRegistry.builder()
        if self._builtin:
            from agentcore.tools.builtin import builtin_tools
            from agentcore.tools.tasks import background_task_tools

            for tool in (*builtin_tools(self._tool_settings), *background_task_tools()):
                builder.add(tool)
        for tool in self._tools:
            builder.add(tool)
        state_dir = self._state_dir or Path(tempfile.gettempdir()) / "agentcore-state"
        secrets, sandbox = self._tool_processes(state_dir)
        return DefaultAgentCore(
            tools=builder.build(),
            provider_resolver=self._resolver(),
            policy_resolver=self._policy_resolver,
            observers=[*self._observers, *([MetricsObserver(self._metrics)] if self._metrics is not None else [])],
            tool_factories=self._factories,
            loader=self._loader,
            state_dir=state_dir,
            on_always=self._on_always,
            backends=LocalBackends(secrets, sandbox, state_dir / "spills" / "shell"),
            tool_secrets=secrets,
            sandbox=sandbox,
            protected=self._protected_paths(),
            media=self._media,
            checkpoints=self._checkpoints,
        )

    def _protected_paths(self) -> ProtectedPaths:
        env = self._env if self._env is not None else os.environ
        home = env.get("HOME")
        return ProtectedPaths(home=Path(home) if home else Path.home(), user_config_dir=self._user_config_dir)

    def _tool_processes(self, state_dir: Path) -> tuple[ToolSecrets, SandboxPolicy]:
        """The scrubbed environment and redactor, and the sandbox, of tool processes."""
        env = self._env if self._env is not None else os.environ
        shell = self._shell_settings
        secrets = ToolSecrets.from_environment(
            env,
            passthrough=tuple(getattr(shell, "env_passthrough", ())),
            provider_key_vars=self._provider_key_vars,
        )
        home = env.get("HOME")
        sandbox = SandboxPolicy(
            mode=SandboxMode(getattr(shell, "sandbox", SandboxMode.OFF.value)),
            network=bool(getattr(shell, "sandbox_network", False)),
            bwrap=self._bwrap,
            home=Path(home) if home else None,
            private_dirs=tuple(
                dict.fromkeys(d for d in (state_dir, self._user_config_dir, *self._private_dirs) if d is not None)
            ),
        )
        return secrets, sandbox

    def _resolver(self) -> ProviderResolver:
        if self._fixed is not None:
            fixed = self._fixed

            async def fixed_resolver(provider: str | None, model: str | None) -> ProviderSelection:
                if provider not in (None, fixed.provider_name):
                    raise ProviderSelectionError(f"this agent is fixed to provider {fixed.provider_name!r}")
                return attrs.evolve(fixed, model=model or fixed.model)

            return fixed_resolver
        if self._provider_resolver is not None:
            return self._provider_resolver
        return _echo_only_resolver


async def _echo_only_resolver(provider: str | None, model: str | None) -> ProviderSelection:
    """Used until a real resolver is wired (the CLI wires config-driven selection)."""
    from agentcore.llm.echo import ECHO_MODEL, EchoProvider

    if provider not in (None, "echo"):
        raise ProviderSelectionError(f"no provider resolver configured for {provider!r}")
    return ProviderSelection(EchoProvider(), "echo", model or ECHO_MODEL, "no provider configured", is_echo=True)
