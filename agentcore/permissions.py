"""The permission gate: modes, explicit rules and interactive asks.

Evaluation of one tool call, in order:

1. explicit rules matching the tool name and its main argument ("subject"):
   deny beats ask beats allow;
2. otherwise the mode's default for the tool's safety class.

``read-only`` mode is a ceiling (a non-read-only tool never runs, whatever the
rules say), and deny rules hold in every mode, ``yolo`` included.

An ask emits :class:`PermissionRequested` and waits for a frontend to call
:meth:`DefaultPermissionGate.resolve`. Cancelling the turn resolves pending
asks as cancelled. An unattended session (``interactive=False``) turns every
ask into a deny with a message telling the model why.
"""

from __future__ import annotations

import enum
import re
import shlex
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs
import pathspec
import trio

from agentcore.events import AgentEvent, PermissionRequested, PermissionResolved
from agentcore.messages import new_id
from agentcore.tools.base import Safety, ToolDescription, ToolKind
from agentcore.tools.workspace import Workspace


class PermissionMode(enum.Enum):
    READ_ONLY = "read-only"
    ASK = "ask"
    ACCEPT_EDITS = "accept-edits"
    YOLO = "yolo"

    @property
    def description(self) -> str:
        return _MODE_DESCRIPTIONS[self]


_MODE_DESCRIPTIONS = {
    PermissionMode.READ_ONLY: "Only read-only tools run; everything else is refused.",
    PermissionMode.ASK: "Read-only tools run; everything else asks first.",
    PermissionMode.ACCEPT_EDITS: "File edits in the workspace run without asking; shell and network ask.",
    PermissionMode.YOLO: "Every tool runs without asking (deny rules still hold).",
}


class PermissionOption(enum.Enum):
    ALLOW_ONCE = "allow_once"
    ALLOW_ALWAYS = "allow_always"
    REJECT_ONCE = "reject_once"
    REJECT_ALWAYS = "reject_always"

    @property
    def allows(self) -> bool:
        return self in (PermissionOption.ALLOW_ONCE, PermissionOption.ALLOW_ALWAYS)


class RuleAction(enum.Enum):
    ALLOW = "allow"
    ASK = "ask"
    DENY = "deny"


class Verdict(enum.Enum):
    ALLOW = "allow"
    ASK = "ask"
    DENY = "deny"


class RuleError(ValueError):
    pass


PATH_KINDS = frozenset({ToolKind.READ, ToolKind.EDIT, ToolKind.DELETE, ToolKind.MOVE, ToolKind.SEARCH})
_RULE_RE = re.compile(r"^\s*([A-Za-z0-9_*?\[\]-]+)\s*(?:\((.*)\))?\s*$", re.S)


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Shell-command globs: ``*`` matches any run of characters, ``/`` included."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.S)


@attrs.frozen
class Rule:
    """``tool`` or ``tool(subject-pattern)``, e.g. ``bash(git status*)``, ``read_file(**/.env)``.

    Tool patterns and path subjects are gitignore-style globs (pathspec);
    command and URL subjects use ``*`` as "anything".
    """

    action: RuleAction
    tool: str
    subject: str | None = None

    @classmethod
    def parse(cls, text: str, action: RuleAction) -> Rule:
        match = _RULE_RE.match(text)
        if not match:
            raise RuleError(f"bad permission rule {text!r}: expected tool or tool(pattern), e.g. bash(git status*)")
        tool, subject = match.group(1), match.group(2)
        if subject is not None and not subject.strip():
            raise RuleError(f"bad permission rule {text!r}: empty pattern in parentheses")
        return cls(action, tool, subject.strip() if subject is not None else None)

    def __str__(self) -> str:
        return self.tool if self.subject is None else f"{self.tool}({self.subject})"

    def matches(self, tool_name: str, subject: str | None, *, path_like: bool) -> bool:
        if not _tool_spec(self.tool).match_file(tool_name):
            return False
        if self.subject is None:
            return True
        if subject is None:
            return False
        if path_like:
            return _path_spec(self.subject).match_file(subject.removeprefix("./"))
        return _glob_regex(self.subject).fullmatch(subject) is not None


_SPEC_CACHE: dict[tuple[str, str], pathspec.PathSpec] = {}


def _tool_spec(pattern: str) -> pathspec.PathSpec:
    return _cached_spec("tool", pattern)


def _path_spec(pattern: str) -> pathspec.PathSpec:
    return _cached_spec("path", pattern)


def _cached_spec(kind: str, pattern: str) -> pathspec.PathSpec:
    key = (kind, pattern)
    spec = _SPEC_CACHE.get(key)
    if spec is None:
        spec = pathspec.PathSpec.from_lines("gitignore", [pattern])
        _SPEC_CACHE[key] = spec
    return spec


# Programs whose first argument is a subcommand ("git status" differs from "git push"),
# so an "always" answer should cover that subcommand only.
SUBCOMMAND_PROGRAMS = frozenset(
    "git npm pnpm yarn bun deno cargo go docker podman kubectl helm pip pip3 uv poetry "
    "gh apt apt-get brew make just npx terraform dotnet mvn gradle systemctl".split()
)


def suggest_always_rule(tool_name: str, subject: str | None, kind: ToolKind) -> Rule:
    """The rule an "allow always" answer adds: narrow enough to be safe, broad
    enough to stop repeated asks (a command prefix, an exact path, a URL host)."""
    if subject is None:
        return Rule(RuleAction.ALLOW, tool_name)
    if kind is ToolKind.EXECUTE:
        try:
            words = shlex.split(subject)
        except ValueError:
            words = subject.split()
        has_subcommand = words[0] in SUBCOMMAND_PROGRAMS and len(words) > 1 and not words[1].startswith("-")
        keep = words[:2] if has_subcommand else words[:1]
        return Rule(RuleAction.ALLOW, tool_name, " ".join(keep) + "*" if keep else subject)
    if kind is ToolKind.FETCH:
        match = re.match(r"^(https?://[^/]+)", subject)
        return Rule(RuleAction.ALLOW, tool_name, f"{match.group(1)}/*" if match else subject)
    return Rule(RuleAction.ALLOW, tool_name, subject)


@attrs.frozen
class PermissionCheck:
    """One tool call about to run."""

    turn_id: str
    call_id: str
    tool_name: str
    safety: Safety
    subject: str | None
    description: ToolDescription
    raw_input: Mapping[str, Any] = attrs.field(factory=dict)
    # The workspace root the call runs in: paths and redirections outside it, or
    # into protected places, are judged against it. None: nothing is "inside".
    workspace: Workspace | None = None


@attrs.frozen
class Decision:
    allowed: bool
    verdict: Verdict  # what evaluation said before any ask
    reason: str  # shown to the model when refused
    outcome: str = ""  # the option chosen when asked, or "cancelled"


@runtime_checkable
class PermissionGate(Protocol):
    @property
    def mode(self) -> PermissionMode: ...

    def set_mode(self, mode: PermissionMode) -> None: ...

    def evaluate(self, check: PermissionCheck) -> tuple[Verdict, str]: ...

    async def check(self, check: PermissionCheck) -> Decision: ...

    def resolve(self, request_id: str, option: PermissionOption) -> bool: ...

    def cancel_pending(self) -> None: ...

    def add_rule(self, rule: Rule) -> None: ...

    def path_denied(self, path: Path) -> str | None:
        """Why reading or writing the contents of ``path`` (absolute, resolved)
        is denied by a path deny rule, to any tool; None when it is not."""
        ...


Emit = Callable[[AgentEvent], Awaitable[None]]


class DefaultPermissionGate:
    def __init__(
        self,
        *,
        mode: PermissionMode = PermissionMode.ASK,
        rules: tuple[Rule, ...] = (),
        emit: Emit | None = None,
        on_always: Callable[[Rule], None] | None = None,
    ) -> None:
        self._mode = mode
        self.rules: list[Rule] = list(rules)
        self._emit = emit
        self._on_always = on_always
        self._pending: dict[str, _Pending] = {}
        self.unattended_denials = 0  # asks refused because nobody can answer (headless exit code 4)

    @property
    def mode(self) -> PermissionMode:
        return self._mode

    def set_mode(self, mode: PermissionMode) -> None:
        self._mode = mode

    def add_rule(self, rule: Rule) -> None:
        if rule not in self.rules:
            self.rules.append(rule)

    def path_denied(self, path: Path) -> str | None:
        for rule in self.rules:
            if rule.action is RuleAction.DENY and rule.subject is not None and _path_spec(rule.subject).match_file(
                str(path).lstrip("/")
            ):
                return f"{path} is denied by the rule {rule}"
        return None

    def evaluate(self, check: PermissionCheck) -> tuple[Verdict, str]:
        path_like = check.description.kind in PATH_KINDS
        matched = {
            r.action
            for r in self.rules
            if r.matches(check.tool_name, check.subject, path_like=path_like)
        }
        what = f"{check.tool_name}({check.subject})" if check.subject else check.tool_name
        if RuleAction.DENY in matched:
            return Verdict.DENY, f"{what} is denied by a permission rule"
        if self._mode is PermissionMode.READ_ONLY and check.safety is not Safety.READ_ONLY:
            return Verdict.DENY, f"{check.tool_name} is not read-only and the session is in read-only mode"
        if RuleAction.ASK in matched and self._mode is not PermissionMode.YOLO:
            return Verdict.ASK, f"{what} needs approval (an ask rule matches)"
        if RuleAction.ALLOW in matched:
            return Verdict.ALLOW, f"{what} is allowed by a permission rule"
        return self._mode_default(check)

    def _mode_default(self, check: PermissionCheck) -> tuple[Verdict, str]:
        if check.safety is Safety.READ_ONLY:
            return Verdict.ALLOW, "read-only tools run without asking"
        match self._mode:
            case PermissionMode.YOLO:
                return Verdict.ALLOW, "yolo mode allows every tool"
            case PermissionMode.ACCEPT_EDITS if (
                check.safety is Safety.MUTATING and check.description.kind is ToolKind.EDIT
            ):
                return Verdict.ALLOW, "accept-edits mode allows file edits in the workspace"
            case PermissionMode.READ_ONLY:
                return Verdict.DENY, "read-only mode"
            case _:
                return Verdict.ASK, f"{check.tool_name} ({check.safety.value}) needs approval"

    async def check(self, check: PermissionCheck) -> Decision:
        verdict, reason = self.evaluate(check)
        if verdict is Verdict.ALLOW:
            return Decision(True, verdict, reason)
        if verdict is Verdict.DENY:
            return Decision(False, verdict, f"Permission denied: {reason}.")
        if self._emit is None:
            self.unattended_denials += 1
            return unattended_denial(reason)
        return await self._ask(check, verdict)

    async def ask(self, check: PermissionCheck, reason: str) -> Decision:
        """Ask even where rules and mode would allow (a hook wants a person to
        confirm); what evaluation denies stays denied."""
        verdict, why = self.evaluate(check)
        if verdict is Verdict.DENY:
            return Decision(False, verdict, f"Permission denied: {why}.")
        if self._emit is None:
            self.unattended_denials += 1
            return unattended_denial(reason)
        return await self._ask(check, Verdict.ASK)

    async def _ask(self, check: PermissionCheck, verdict: Verdict) -> Decision:
        assert self._emit is not None
        request_id = new_id("perm")
        pending = _Pending()
        self._pending[request_id] = pending
        always = suggest_always_rule(check.tool_name, check.subject, check.description.kind)
        try:
            await self._emit(
                PermissionRequested(
                    turn_id=check.turn_id,
                    request_id=request_id,
                    call_id=check.call_id,
                    tool_name=check.tool_name,
                    title=check.description.title,
                    kind=check.description.kind,
                    subject=check.subject,
                    raw_input=check.raw_input,
                    diff=check.description.diff,
                    always_rule=str(always),
                )
            )
            await pending.done.wait()
        finally:
            self._pending.pop(request_id, None)
            if pending.option is None:
                pending.cancelled = True
        option = pending.option
        outcome = "cancelled" if pending.cancelled or option is None else option.value
        allowed = option is not None and option.allows and not pending.cancelled
        with trio.CancelScope(shield=True):
            await self._emit(PermissionResolved(check.turn_id, request_id, check.call_id, outcome, allowed))
        if option is PermissionOption.ALLOW_ALWAYS:
            self.add_rule(always)
            if self._on_always is not None:
                self._on_always(always)
        elif option is PermissionOption.REJECT_ALWAYS:
            self.add_rule(attrs.evolve(always, action=RuleAction.DENY))
        if allowed:
            return Decision(True, verdict, "approved by the user", outcome)
        if outcome == "cancelled":
            return Decision(False, verdict, "The permission request was cancelled.", outcome)
        return Decision(
            False,
            verdict,
            "The user declined this tool call. Do not retry it; ask the user how to proceed if needed.",
            outcome,
        )

    def resolve(self, request_id: str, option: PermissionOption) -> bool:
        """Answer a pending ask. Returns False if it is unknown or already settled."""
        pending = self._pending.get(request_id)
        if pending is None or pending.done.is_set():
            return False
        pending.option = option
        pending.done.set()
        return True

    def cancel_pending(self) -> None:
        for pending in self._pending.values():
            if not pending.done.is_set():
                pending.cancelled = True
                pending.done.set()

    @property
    def pending_requests(self) -> tuple[str, ...]:
        return tuple(self._pending)


def unattended_denial(reason: str) -> Decision:
    return Decision(
        False,
        Verdict.ASK,
        f"Permission denied: {reason}, and this session is running unattended so nobody can "
        "approve it. Do not retry this call; continue without it, or finish and say what "
        "permission is needed (e.g. a rule in .agent/config.toml or a more permissive --mode).",
        outcome="unattended",
    )


class NonInteractiveGate:
    """Wraps a gate for unattended use (headless runs, sub-agents): every ask
    becomes a deny with a message to the model; allows and denies pass through."""

    def __init__(self, inner: PermissionGate) -> None:
        self.inner = inner
        self.unattended_denials = 0  # asks turned into denies (headless exit code 4)

    @property
    def mode(self) -> PermissionMode:
        return self.inner.mode

    def set_mode(self, mode: PermissionMode) -> None:
        self.inner.set_mode(mode)

    def evaluate(self, check: PermissionCheck) -> tuple[Verdict, str]:
        return self.inner.evaluate(check)

    async def check(self, check: PermissionCheck) -> Decision:
        verdict, reason = self.inner.evaluate(check)
        if verdict is Verdict.ASK:
            self.unattended_denials += 1
            return unattended_denial(reason)
        return await self.inner.check(check)

    async def ask(self, check: PermissionCheck, reason: str) -> Decision:
        verdict, why = self.inner.evaluate(check)
        if verdict is Verdict.DENY:
            return Decision(False, verdict, f"Permission denied: {why}.")
        self.unattended_denials += 1
        return unattended_denial(reason)

    def resolve(self, request_id: str, option: PermissionOption) -> bool:
        return self.inner.resolve(request_id, option)

    def cancel_pending(self) -> None:
        self.inner.cancel_pending()

    def add_rule(self, rule: Rule) -> None:
        self.inner.add_rule(rule)

    def path_denied(self, path: Path) -> str | None:
        return self.inner.path_denied(path)


@attrs.define
class _Pending:
    done: trio.Event = attrs.field(factory=trio.Event)
    option: PermissionOption | None = None
    cancelled: bool = False
