"""Sub-agents: ``spawn_agent`` starts a child session for one task.

A child is an ordinary session opened through the same :class:`AgentCore`,
with a fresh history and the child profile's model, prompt and tools. It runs
unattended: its permission gate (:class:`SubAgentGate`) never asks anyone and
never exceeds the parent's: a call runs only if the parent session would allow
it without asking and the child's own rules do not deny it; whatever either
denies stays denied, and the child's mode is capped at the parent's. The child's
progress — a :class:`~agentcore.session.child_activity.ChildActivity`: its
current step, its tool calls, its streamed text, all redacted — is shown on the
parent's tool call (``ToolCallProgress`` text and ``step``); its final answer is
the tool result (or, with ``run_in_background``, a background outcome delivered
later, while the task's handle peeks at the activity), and its usage and cost
are added to the parent's and journaled there (``UsageCharged``).

Nesting is limited by ``settings.agents.max_depth`` (default 1: children may
not spawn). Only profiles the parent's profile lists under ``agents.spawn``
may be started, and the tool's schema enumerates them, so the tool is made
per session (a registry layer) rather than shared.

The core wires a :class:`SessionAgents` into every session it opens; this
module reads the session only through :class:`SubAgentHost`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import attrs
import trio

from agentcore.background import TaskHandle, TaskKind
from agentcore.errors import SessionError
from agentcore.events import FanoutEmitter, UsageCharged
from agentcore.messages import StopReason, Usage, assert_never, freeze_json
from agentcore.permissions import (
    Decision,
    NonInteractiveGate,
    PermissionCheck,
    PermissionGate,
    PermissionMode,
    Verdict,
)
from agentcore.secrets import context_redactor
from agentcore.session.base import Session, SessionCreateInfo, SessionPolicy
from agentcore.session.child_activity import ChildActivity
from agentcore.session.outcomes import OutcomeDelivery
from agentcore.tools.backends import FsBackend, ShellBackend
from agentcore.tools.base import Safety, ToolContext, ToolDescription, ToolKind, ToolResult
from agentcore.tools.common import BuiltinTool
from agentcore.tools.registry import SPAWN_AGENT
from agentcore.turn.runner import TurnAbortedError

if TYPE_CHECKING:
    from agentcore.tools.workspace import Workspace

PROGRESS_INTERVAL_S = 0.5  # at most two progress reports a second on the parent's tool call
PROGRESS_MAX_CHARS = 4000  # of new child output per report
LABEL_TASK_CHARS = 60  # of the task shown in a background task's label
# Permission modes from strictest to most permissive: a child's mode is capped at its parent's.
MODE_ORDER = (
    PermissionMode.READ_ONLY, PermissionMode.PLAN, PermissionMode.ASK, PermissionMode.ACCEPT_EDITS, PermissionMode.YOLO
)

DESCRIPTION = """\
Start a sub-agent: a separate agent with its own fresh context, the given profile's \
model, instructions and tools, to do one self-contained task and report back.

Usage:
- Use it for work that is independent and well defined (a review, an investigation, a \
focused change), especially to keep large intermediate output out of your own context.
- The sub-agent sees nothing of this conversation: `task` must hold everything it needs \
(goal, relevant paths, constraints, what to report back).
- It cannot ask the user anything. A tool call it would need approval for runs only if \
this session would run it without asking; otherwise it is refused.
- Several spawn_agent calls in one response run in parallel.
- With `run_in_background` true you get a task id at once and the answer arrives as a \
message when it finishes; inspect_background_task shows progress, cancel_background_task \
stops it. Otherwise you wait for the answer.
"""


class SubAgentHost(Protocol):
    """What the sub-agent side reads from its (parent) session."""

    info: SessionCreateInfo  # its frontend, and its own parent (for the depth)
    policy: SessionPolicy  # which profiles it may spawn
    workspace: Workspace
    fs: FsBackend
    shell: ShellBackend
    usage: Usage  # a child's usage and cost are added here
    cost_usd: float

    @property
    def cwd(self) -> Path: ...

    @property
    def events(self) -> FanoutEmitter:
        """Where the charge for a child's run is announced (and journaled)."""
        ...


class ChildSession(Session, Protocol):
    """A sub-agent's session as its parent sees it."""

    usage: Usage
    cost_usd: float


class SessionOpener(Protocol):
    """Opens the child sessions (the :class:`agentcore.core.AgentCore`)."""

    def open_session(self, info: SessionCreateInfo) -> AbstractAsyncContextManager[ChildSession]: ...


def agent_depth(session: SubAgentHost) -> int:
    """0 for a top-level session, 1 for its sub-agents, and so on."""
    parent = session.info.parent
    return 0 if parent is None else 1 + agent_depth(parent)


# ------------------------------------------------------------------ permissions


class SubAgentGate(NonInteractiveGate):
    """A sub-agent's gate: the child never exceeds its parent.

    Each call is judged by both gates and the stricter verdict wins
    (deny < ask < allow): the parent's deny rules and read-only mode hold, the
    child's own deny rules hold, and a child allow (a rule, or a more permissive
    mode such as ``yolo``) stands only where the parent would also allow the
    call without asking. Nobody can be asked, so what is left at "ask" is
    refused; an ask of the child's own is settled by the parent's allow.
    """

    def __init__(self, inner: PermissionGate, *, parent: PermissionGate) -> None:
        super().__init__(inner)
        self.parent = parent

    @property
    def mode(self) -> PermissionMode:
        """The child's mode, capped at its parent's."""
        return min(self.inner.mode, self.parent.mode, key=MODE_ORDER.index)

    def path_denied(self, path: Path, workspace: Workspace | None = None) -> str | None:
        """Denied to the child when its own rules or its parent's deny it."""
        return self.inner.path_denied(path, workspace=workspace) or self.parent.path_denied(path, workspace=workspace)

    def evaluate(self, check: PermissionCheck) -> tuple[Verdict, str]:
        parent_verdict, parent_why = self.parent.evaluate(check)
        if parent_verdict is Verdict.DENY:
            return Verdict.DENY, f"{parent_why} (in the session that started this sub-agent)"
        verdict, why = self.inner.evaluate(check)
        if verdict is Verdict.DENY:
            return verdict, why
        if parent_verdict is Verdict.ASK:
            # The child's own allow (a rule, yolo) cannot lift what its parent would ask about.
            return Verdict.ASK, f"{parent_why} (in the session that started this sub-agent)"
        if verdict is Verdict.ASK:
            return Verdict.ALLOW, f"{parent_why} (in the session that started this sub-agent)"
        return Verdict.ALLOW, why

    async def check(self, check: PermissionCheck) -> Decision:
        verdict, why = self.evaluate(check)
        match verdict:
            case Verdict.ALLOW:
                return Decision(True, verdict, why)
            case Verdict.DENY:
                return Decision(False, verdict, f"Permission denied: {why}.")
            case Verdict.ASK:
                return self._unanswerable(why)
            case _:
                assert_never(verdict)

    async def ask(self, check: PermissionCheck, reason: str) -> Decision:
        verdict, why = self.evaluate(check)
        if verdict is Verdict.DENY:
            return Decision(False, verdict, f"Permission denied: {why}.")
        return self._unanswerable(reason)

    def _unanswerable(self, why: str) -> Decision:
        self.unattended_denials += 1
        return Decision(
            False,
            Verdict.ASK,
            f"Permission denied: {why}. You are a sub-agent and cannot ask the user; only calls "
            "the parent session already allows without asking can run. Do not retry this call: "
            "continue without it, or finish and report which permission you needed.",
            outcome="unattended",
        )


# ------------------------------------------------------------------ running a child


@attrs.frozen
class ChildReport:
    """How a sub-agent's run ended."""

    profile: str
    text: str
    stop_reason: StopReason | None  # None when the turn was aborted by an error
    usage: Usage
    cost_usd: float
    requests: int
    error: str | None = None

    def render(self) -> str:
        """The answer as the parent model receives it, with a footer on cost."""
        if self.error is not None:
            head = f"The {self.profile} sub-agent failed: {self.error}"
        else:
            head = self.text.strip() or "(The sub-agent ended its turn without a final answer.)"
        stop = self.stop_reason.value if self.stop_reason is not None else "error"
        return (
            f"{head}\n\n[{self.profile} sub-agent: {stop} · {self.requests} model requests · "
            f"{self.usage.prompt_tokens:,} tokens in, {self.usage.output_tokens:,} out · ${self.cost_usd:.4f}]"
        )


Sink = Callable[[str, "str | None"], Awaitable[None]]  # (new transcript text, the step if it changed)


async def relay_activity(activity: ChildActivity, sink: Sink, interval_s: float) -> None:
    """Pass what is new in ``activity`` to ``sink`` until cancelled, at most once
    per ``interval_s`` (what arrives meanwhile waits for the next report);
    the caller sends the last of it with :func:`flush_activity`."""
    while True:
        await activity.wait_changed()
        await flush_activity(activity, sink)
        if interval_s > 0:
            await trio.sleep(interval_s)  # throttle, not synchronisation


async def flush_activity(activity: ChildActivity, sink: Sink) -> None:
    text, step = activity.take()
    if text or step is not None:
        await sink(text[-PROGRESS_MAX_CHARS:], step)


class SessionAgents:
    """A session's sub-agent side (``session.agents``): its depth, what it may
    spawn, and the delivery of background outcomes."""

    def __init__(
        self, core: SessionOpener, session: SubAgentHost, *, outcomes: OutcomeDelivery, max_depth: int
    ) -> None:
        self.core = core
        self.session = session
        self.outcomes = outcomes
        self.max_depth = max_depth
        self.depth = agent_depth(session)

    @property
    def spawnable(self) -> tuple[str, ...]:
        return tuple(self.session.policy.spawn)

    @property
    def can_spawn(self) -> bool:
        return bool(self.spawnable) and self.session.policy.tool_filter.allows_spawn and self.depth < self.max_depth

    async def spawn(self, profile: str, task: str, *, background: bool, ctx: ToolContext) -> ToolResult:
        if self.depth >= self.max_depth:
            return ToolResult.error(
                f"Sub-agents may nest at most {self.max_depth} level(s) deep; this session cannot start another."
            )
        if profile not in self.spawnable:
            allowed = ", ".join(self.spawnable) or "none"
            return ToolResult.error(f"Profile {profile!r} may not be spawned from here. Allowed: {allowed}.")
        if background:
            return self._spawn_in_background(profile, task, ctx)

        async def show(text: str, step: str | None) -> None:
            await ctx.report(text, step=step)

        try:
            report = await self.run_child(profile, task, show, ctx=ctx, interval_s=PROGRESS_INTERVAL_S)
        except (ValueError, LookupError) as exc:  # the child profile or its provider does not load
            return ToolResult.error(f"Could not start the {profile} sub-agent: {exc}")
        return ToolResult.text(report.render(), is_error=report.error is not None, raw_output=_raw(report))

    def _spawn_in_background(self, profile: str, task: str, ctx: ToolContext) -> ToolResult:
        tasks = ctx.background
        if tasks is None:
            return ToolResult.error("Background tasks are not available in this session; spawn the sub-agent without run_in_background.")
        first_line = " ".join(context_redactor(ctx).redact(task).split())  # the label is shown everywhere
        label = f"{profile}: {first_line[:LABEL_TASK_CHARS]}" + ("…" if len(first_line) > LABEL_TASK_CHARS else "")

        async def job(handle: TaskHandle) -> str:
            async def sink(text: str, step: str | None) -> None:
                if text:
                    handle.append_output(text)  # the table throttles what reaches the tool call

            report = await self.run_child(profile, task, sink, ctx=ctx, interval_s=0.0, on_start=handle.attach_peek)
            # The outcome reaches the model and every frontend without passing a tool
            # result's redaction, so it is redacted here.
            rendered = context_redactor(ctx).redact(report.render())
            if report.error is not None:
                raise SubAgentFailed(rendered)
            return rendered

        handle = tasks.start(label, TaskKind.SUB_AGENT, job)
        return ToolResult.text(
            f"Started the {profile} sub-agent in the background as task {handle.id}. Its answer will "
            "arrive as a message when it finishes; meanwhile continue with other work or end your turn. "
            "inspect_background_task shows its progress; cancel_background_task stops it.",
            raw_output={"task_id": handle.id, "profile": profile},
        )

    async def run_child(
        self,
        profile: str,
        task: str,
        sink: Sink,
        *,
        ctx: ToolContext | None = None,
        interval_s: float = PROGRESS_INTERVAL_S,
        on_start: Callable[[ChildActivity], None] | None = None,
    ) -> ChildReport:
        """Open a child session, run ``task`` as its one turn, close it.

        A :class:`ChildActivity` watches the child (redacting with the calling
        tool's redactor); its transcript and step go to ``sink`` (throttled to
        ``interval_s``), and ``on_start`` receives it before the turn starts
        (a background task attaches it as its peek). Usage and cost roll up
        into the parent."""
        parent = self.session
        info = SessionCreateInfo(
            cwd=parent.cwd,
            frontend=parent.info.frontend,
            profile=profile,
            additional_dirs=parent.workspace.additional,
            fs=parent.fs,
            shell=parent.shell,
            interactive=False,
            parent=parent,
        )
        async with self.core.open_session(info) as child:
            activity = ChildActivity(profile, child.model, redactor=context_redactor(ctx))
            if on_start is not None:
                on_start(activity)
            outcome, error = None, None
            remove = child.events.add_observer(activity.observe)
            try:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(relay_activity, activity, sink, interval_s)
                    try:
                        outcome = await child.run_turn(task)
                    except TurnAbortedError as exc:
                        error = str(exc)
                    finally:
                        nursery.cancel_scope.cancel()
                        if outcome is not None:
                            activity.finish(f"finished ({outcome.stop_reason.value})")
                        else:
                            activity.finish("cancelled" if error is None else f"failed: {error}")
                        remove()
                if outcome is not None or error is not None:
                    await flush_activity(activity, sink)  # the last of it (not after a cancellation)
            finally:
                # Whatever the child spent counts, also when it was cancelled, and is
                # journaled with the parent, so its cost is the same after a resume.
                parent.usage = parent.usage + child.usage
                parent.cost_usd += child.cost_usd
                if child.usage != Usage():
                    with trio.CancelScope(shield=True):
                        await parent.events.emit(
                            UsageCharged(None, "sub-agent", child.model, child.usage, child.cost_usd)
                        )
            return ChildReport(
                profile=profile,
                text=outcome.text if outcome is not None else "",
                stop_reason=outcome.stop_reason if outcome is not None else None,
                usage=child.usage,
                cost_usd=child.cost_usd,
                requests=outcome.requests if outcome is not None else 0,
                error=error,
            )


class SubAgentFailed(SessionError):
    """A background sub-agent's turn was aborted (the task ends *failed*)."""


def _raw(report: ChildReport) -> Mapping[str, Any]:
    return freeze_json(
        {
            "profile": report.profile,
            "stop_reason": report.stop_reason.value if report.stop_reason is not None else None,
            "requests": report.requests,
            "input_tokens": report.usage.prompt_tokens,
            "output_tokens": report.usage.output_tokens,
            "cost_usd": report.cost_usd,
        }
    )


# ------------------------------------------------------------------ the tool


class SpawnAgentTool(BuiltinTool):
    name = SPAWN_AGENT
    description = DESCRIPTION
    # The spawn itself touches nothing; every call the child makes is gated
    # (by its own rules, capped by this session's).
    safety = Safety.READ_ONLY
    kind = ToolKind.OTHER
    parallel_safe = True  # several sub-agents of one response run side by side

    def __init__(self, profiles: tuple[str, ...]) -> None:
        self.profiles = profiles
        self.parameters = freeze_json(
            {
                "type": "object",
                "properties": {
                    "profile": {
                        "type": "string",
                        "enum": list(profiles),
                        "description": "Which kind of agent to start.",
                    },
                    "task": {
                        "type": "string",
                        "minLength": 1,
                        "description": "Complete, self-contained instructions; the sub-agent sees nothing else.",
                    },
                    "run_in_background": {
                        "type": "boolean",
                        "description": "Return at once and deliver the answer when it finishes. Default false.",
                    },
                },
                "required": ["profile", "task"],
                "additionalProperties": False,
            }
        )

    def permission_subject(self, args: Mapping[str, Any]) -> str | None:
        profile = args.get("profile")
        return profile if isinstance(profile, str) else None

    async def describe(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolDescription:
        task = args.get("task")
        first = " ".join(task.split())[:LABEL_TASK_CHARS] if isinstance(task, str) else ""
        return ToolDescription(title=f"{args.get('profile', 'sub')} agent: {first}".rstrip(": "), kind=self.kind)

    async def run(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        session = ctx.services.get("session")
        agents = getattr(session, "agents", None)
        if agents is None:
            return ToolResult.error("Sub-agents are not available in this session.")
        return await agents.spawn(
            args["profile"], args["task"], background=bool(args.get("run_in_background", False)), ctx=ctx
        )
