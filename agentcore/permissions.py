"""The permission gate: modes, explicit rules and interactive asks.

Evaluation of one tool call, in order:

1. explicit rules matching the tool name and its main argument ("subject"):
   deny beats ask beats allow;
2. otherwise the mode's default for the tool's safety class.

``read-only`` mode is a ceiling (a non-read-only tool never runs, whatever the
rules say), and deny rules hold in every mode, ``yolo`` included. ``plan`` mode
is the same ceiling with two exceptions: a shell command that
:mod:`agentcore.shell_readonly` knows only reads runs, and the plan tool
(``exit_plan_mode``) always asks; approving the plan is what leaves the mode.

An ask emits :class:`PermissionRequested` and waits for a frontend to call
:meth:`DefaultPermissionGate.resolve`. Cancelling the turn resolves pending
asks as cancelled. An unattended session (``interactive=False``) turns every
ask into a deny with a message telling the model why.
"""

from __future__ import annotations

import enum
import math
import os
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs
import pathspec
import trio

from agentcore.errors import InputError
from agentcore.command_rules import SUBCOMMAND_PROGRAMS as SUBCOMMAND_PROGRAMS  # re-exported
from agentcore.command_rules import CommandPattern, always_patterns, path_words, subject_hits
from agentcore.events import AgentEvent, ModeChanged, PermissionRequested, PermissionResolved
from agentcore.messages import new_id
from agentcore.protected_paths import (
    ProtectedPaths,
    denied_by_patterns,
    HardLinkIndex,
    judge_mentions,
    judge_writes,
    path_candidates,
)
from agentcore.shell_readonly import not_read_only
from agentcore.shell_syntax import ShellAnalysis, analyse_command
from agentcore.tools.base import Safety, ToolDescription, ToolKind
from agentcore.tools.workspace import Workspace


class PermissionMode(enum.Enum):
    READ_ONLY = "read-only"
    ASK = "ask"
    ACCEPT_EDITS = "accept-edits"
    YOLO = "yolo"
    PLAN = "plan"

    @property
    def description(self) -> str:
        return _MODE_DESCRIPTIONS[self]

    @property
    def read_only_ceiling(self) -> bool:
        """Nothing that is not read-only runs, whatever the rules say."""
        return self in (PermissionMode.READ_ONLY, PermissionMode.PLAN)

    @property
    def bypasses_permissions(self) -> bool:
        """Runs tools without asking (only deny rules and protected paths still hold)."""
        return self is PermissionMode.YOLO

    @property
    def latitude(self) -> int:
        """How much runs without a question: read-only 0, plan 1, ask 2, accept-edits 3, yolo 4."""
        return _LATITUDE[self]


def resumed_mode(stored: PermissionMode | None, default: PermissionMode) -> tuple[PermissionMode, str | None]:
    """The mode a reopened session starts in when nobody chose one now: the mode
    it was in, unless that lets more run without a question than ``default``
    (the configured mode). Such a mode was a grant for the invocation that chose
    it, not for every later one; the text says what happened."""
    if stored is None or stored.latitude <= default.latitude:
        return stored or default, None
    return default, (
        f"The session was in {stored.value} mode; it continues in {default.value} mode "
        f"(a mode that asks less is not carried over: choose it again with --mode {stored.value} or /mode)."
    )


_LATITUDE = {
    PermissionMode.READ_ONLY: 0,
    PermissionMode.PLAN: 1,
    PermissionMode.ASK: 2,
    PermissionMode.ACCEPT_EDITS: 3,
    PermissionMode.YOLO: 4,
}

_MODE_DESCRIPTIONS = {
    PermissionMode.READ_ONLY: "Only read-only tools run; everything else is refused.",
    PermissionMode.ASK: "Read-only tools run; everything else asks first.",
    PermissionMode.ACCEPT_EDITS: "File edits in the workspace run without asking; shell and network ask.",
    PermissionMode.YOLO: "Every tool runs without asking (deny rules still hold).",
    PermissionMode.PLAN: "Research only (read-only tools and shell commands); the model presents a plan for your approval before any change.",
}
# The plan tool: offered only in plan mode, always asks; its approval leaves the mode.
EXIT_PLAN_MODE = "exit_plan_mode"
PLAN_REJECTED = (
    "The user did not approve the plan. The session stays in plan mode (read-only). Do not call "
    f"{EXIT_PLAN_MODE} again now: end your turn with one short sentence; the user will say what to change, "
    "then revise the plan and present it again."
)
PLAN_UNATTENDED = (
    "The plan was recorded for the user to review later; nobody is here to approve it, so the session "
    "stays in plan mode and nothing may be changed. Stop now: end your turn with a one-line summary of the plan."
)
PLAN_UNATTENDED_OUTCOME = "plan_recorded"  # Decision.outcome of an unattended plan (not an unattended denial)


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


class RuleError(InputError):
    pass


TIMED_OUT_OUTCOME = "timed_out"  # PermissionResolved.outcome when nobody answered in time
PATH_KINDS = frozenset({ToolKind.READ, ToolKind.EDIT, ToolKind.DELETE, ToolKind.MOVE, ToolKind.SEARCH})
_RULE_RE = re.compile(r"^\s*([A-Za-z0-9_*?\[\]-]+)\s*(?:\((.*)\))?\s*$", re.S)


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Shell-command globs: ``*`` matches any run of characters, ``/`` included."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.S)


@attrs.frozen
class Rule:
    """``tool`` or ``tool(subject-pattern)``, e.g. ``bash(git status *)``, ``read_file(**/.env)``.

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
            raise RuleError(f"bad permission rule {text!r}: expected tool or tool(pattern), e.g. bash(git status *)")
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





def suggest_always_rule(
    tool_name: str, subject: str | None, kind: ToolKind, *, shell: bool | None = None
) -> tuple[Rule, ...]:
    """The rules an "allow always" answer adds: the narrowest that cover what
    was shown (one per simple command of a shell command, an exact path, a URL
    host); empty when nothing narrow can be said (an opaque shell command).
    ``shell``: the subject is a shell command line (default: any execute-kind subject)."""
    if subject is None:
        return (Rule(RuleAction.ALLOW, tool_name),)
    if kind is ToolKind.EXECUTE and shell is not False:
        patterns = always_patterns(analyse_command(subject))
        return tuple(Rule(RuleAction.ALLOW, tool_name, str(p)) for p in patterns)
    if kind is ToolKind.FETCH:
        match = re.match(r"^(https?://[^/]+)", subject)
        return (Rule(RuleAction.ALLOW, tool_name, f"{match.group(1)}/*" if match else subject),)
    return (Rule(RuleAction.ALLOW, tool_name, subject),)


def always_admits(rules: tuple[Rule, ...], kind: ToolKind, *, shell: bool | None = None) -> str:
    """What ``rules`` will let run, in plain words, for the permission prompt."""
    parts = []
    for rule in rules:
        if rule.subject is None:
            parts.append(f"`{rule.tool}` with any input")
        elif kind is ToolKind.EXECUTE and shell is not False:
            parts.append(CommandPattern.parse(rule.subject).admits)
        elif kind is ToolKind.FETCH:
            parts.append(f"`{rule.tool}` of URLs matching `{rule.subject}`")
        else:
            parts.append(f"`{rule.tool}` on `{rule.subject}`")
    return "; ".join(parts)


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
    # The subject is a shell command line, judged simple command by simple command.
    # None: any execute-kind subject is (the executor says so per tool, from
    # ``Tool.subject_is_shell_command``; other execute tools keep plain globs).
    shell: bool | None = None

    @property
    def is_shell_command(self) -> bool:
        if self.subject is None or self.description.kind is not ToolKind.EXECUTE:
            return False
        return self.shell is not False


@attrs.frozen
class Decision:
    allowed: bool
    verdict: Verdict  # what evaluation said before any ask
    reason: str  # shown to the model when refused
    outcome: str = ""  # the option chosen when asked, or "cancelled"


@runtime_checkable
class PermissionGate(Protocol):
    # Asks refused because nobody could answer them (agent run exits 4 when > 0).
    unattended_denials: int

    @property
    def mode(self) -> PermissionMode: ...

    def set_mode(self, mode: PermissionMode) -> None: ...

    def evaluate(self, check: PermissionCheck) -> tuple[Verdict, str]: ...

    async def check(self, check: PermissionCheck) -> Decision: ...

    def resolve(self, request_id: str, option: PermissionOption) -> bool: ...

    def cancel_pending(self) -> None: ...

    def add_rule(self, rule: Rule) -> None: ...

    def path_denied(self, path: Path, workspace: Workspace | None = None) -> str | None:
        """Why reading or writing the contents of ``path`` (absolute, resolved)
        is denied by a path deny rule, to any tool; None when it is not.
        ``workspace`` lets rules written relative to its roots match."""
        ...


Emit = Callable[[AgentEvent], Awaitable[None]]

# Tools whose path rules say "this file's contents are off limits": a deny rule
# for any of them (or a tool glob matching one) hides the file from every tool.
PATH_TOOL_NAMES = ("read_file", "write_file", "edit_file", "grep", "glob", "list_dir", "ls", "search")
# Argument names that hold a path in MCP tools, whose schemas we do not know.
PATH_ARGUMENT_NAMES = frozenset(
    "path paths file_path filepath filename file files destination dest target target_path source src "
    "new_path old_path output output_path directory dir".split()
)
_WRITE_KINDS = frozenset({ToolKind.EDIT, ToolKind.DELETE, ToolKind.MOVE})
_EVERY_PATH = frozenset({"*", "**", "**/*", "/**", "/*", "./**"})  # subjects that name no path in particular


class DefaultPermissionGate:
    def __init__(
        self,
        *,
        mode: PermissionMode = PermissionMode.ASK,
        rules: tuple[Rule, ...] = (),
        emit: Emit | None = None,
        on_always: Callable[[Rule], None] | None = None,
        protected: ProtectedPaths | None = None,
        answer_timeout_s: float | None = None,
    ) -> None:
        self._mode = mode
        self._answer_timeout_s = math.inf if answer_timeout_s is None else answer_timeout_s
        self.rules: list[Rule] = list(rules)
        self._emit = emit
        self._on_always = on_always
        self.protected = protected if protected is not None else ProtectedPaths()
        self._hard_links = HardLinkIndex()
        self._path_deny_cache: tuple[tuple[Rule, ...], list[Rule]] = ((), [])
        self._pending: dict[str, _Pending] = {}
        self.unattended_denials = 0  # asks refused because nobody can answer (headless exit code 4)
        # The mode an approved plan returns to ("allow once"); "allow always" picks accept-edits.
        self.mode_before_plan = PermissionMode.ASK

    @property
    def mode(self) -> PermissionMode:
        return self._mode

    def set_mode(self, mode: PermissionMode) -> None:
        if mode is PermissionMode.PLAN and self._mode is not PermissionMode.PLAN:
            self.mode_before_plan = self._mode
        self._mode = mode

    def mode_after_plan(self, option: PermissionOption) -> PermissionMode:
        """Where an approved plan leaves the session: accept-edits for "always", else the mode before plan."""
        if option is PermissionOption.ALLOW_ALWAYS:
            return PermissionMode.ACCEPT_EDITS
        return self.mode_before_plan if self.mode_before_plan is not PermissionMode.PLAN else PermissionMode.ASK

    def add_rule(self, rule: Rule) -> None:
        if rule not in self.rules:
            self.rules.append(rule)

    def path_denied(self, path: Path, workspace: Workspace | None = None) -> str | None:
        """Why reading or writing the contents of ``path`` is denied to any tool:
        a path deny rule matches it (relative to a workspace root, or absolute),
        or it is a hard link to a file in the workspace that one matches."""
        denying = self._path_deny_rules()
        if not denying:
            return None
        if not path.is_absolute() and workspace is not None:
            path = workspace.cwd / path
        specs = [_path_spec(r.subject or "") for r in denying]
        index = denied_by_patterns(path, workspace, specs)
        if index is not None:
            return f"{path} is denied by the rule {denying[index]}"
        linked = self._hard_links.denial(path, workspace, specs)
        if linked is not None:
            rule = denying[denied_by_patterns(linked, workspace, specs) or 0]
            return f"{path} is a hard link to {linked}, which is denied by the rule {rule}"
        return None

    def _path_deny_rules(self) -> list[Rule]:
        """The deny rules that hide file contents; worked out once per rule set
        (grep asks for every file it walks)."""
        current = tuple(self.rules)
        if self._path_deny_cache[0] != current:
            denying = [
                r
                for r in current
                if r.action is RuleAction.DENY
                and r.subject is not None
                and any(_tool_spec(r.tool).match_file(name) for name in PATH_TOOL_NAMES)
            ]
            self._path_deny_cache = (current, denying)
        return self._path_deny_cache[1]

    def evaluate(self, check: PermissionCheck) -> tuple[Verdict, str]:
        if check.is_shell_command:
            assert check.subject is not None
            return self._evaluate_command(check, analyse_command(check.subject))
        return self._evaluate_call(check)

    def _evaluate_call(self, check: PermissionCheck) -> tuple[Verdict, str]:
        kind = check.description.kind
        targets = list(_path_targets(check))
        path_like = kind in PATH_KINDS
        forms = tuple(f for t in targets for f in path_candidates(t, check.workspace)) if path_like else ()
        matched = {r.action for r in self.rules if self._rule_matches(r, check, forms, path_like=path_like)}
        what = f"{check.tool_name}({check.subject})" if check.subject else check.tool_name
        if RuleAction.DENY in matched:
            return Verdict.DENY, f"{what} is denied by a permission rule"
        for target in targets:
            why = self.path_denied(target, check.workspace)
            if why is not None:
                return Verdict.DENY, why
        if self._mode.read_only_ceiling and check.safety is not Safety.READ_ONLY:
            if self._mode is PermissionMode.PLAN and check.tool_name == EXIT_PLAN_MODE:
                return Verdict.ASK, "the plan needs the user's approval before any change"
            return Verdict.DENY, f"{check.tool_name} is not read-only and the session is in {self._mode.value} mode"
        if RuleAction.ASK in matched and self._mode is not PermissionMode.YOLO:
            return Verdict.ASK, f"{what} needs approval (an ask rule matches)"
        writes = kind in _WRITE_KINDS or (check.tool_name.startswith("mcp__") and check.safety is not Safety.READ_ONLY)
        protected = next((r for t in targets if writes and (r := self.protected.reason(t, check.workspace))), None)
        if protected is not None:
            if self._names_path(check, targets):
                return Verdict.ALLOW, f"{what} is allowed by a rule naming the path"
            return Verdict.ASK, f"{protected}; writes there always need approval"
        if RuleAction.ALLOW in matched:
            return Verdict.ALLOW, f"{what} is allowed by a permission rule"
        return self._mode_default(check)

    def _rule_matches(self, rule: Rule, check: PermissionCheck, forms: tuple[str, ...], *, path_like: bool) -> bool:
        if not path_like or rule.subject is None or not forms:
            return rule.matches(check.tool_name, check.subject, path_like=path_like)
        spec = _path_spec(rule.subject)
        return _tool_spec(rule.tool).match_file(check.tool_name) and any(spec.match_file(f) for f in forms)

    def _names_path(self, check: PermissionCheck, targets: list[Path]) -> bool:
        """An allow rule that names these paths (not ``*``): the one way past protection."""
        for rule in self.rules:
            if rule.action is not RuleAction.ALLOW or rule.subject is None or rule.subject.strip() in _EVERY_PATH:
                continue
            if not _tool_spec(rule.tool).match_file(check.tool_name):
                continue
            spec = _path_spec(rule.subject)
            if targets and all(any(spec.match_file(f) for f in path_candidates(t, check.workspace)) for t in targets):
                return True
        return False

    def _evaluate_command(self, check: PermissionCheck, analysis: ShellAnalysis) -> tuple[Verdict, str]:
        rules = [r for r in self.rules if _tool_spec(r.tool).match_file(check.tool_name)]
        what = f"{check.tool_name}({check.subject})"
        for rule in rules:
            if rule.action is RuleAction.DENY and subject_hits(rule.subject, analysis, outer_views=True):
                return Verdict.DENY, f"{what} is denied by the rule {rule}"
        why = self._command_path_denied(analysis, check.workspace)
        if why is not None:
            return Verdict.DENY, why
        if self._mode is PermissionMode.PLAN and check.safety is not Safety.READ_ONLY:
            why = not_read_only(analysis)
            if why is not None:
                return Verdict.DENY, f"{what} is not known to be read-only ({why}) and the session is in plan mode"
        elif self._mode is PermissionMode.READ_ONLY and check.safety is not Safety.READ_ONLY:
            return Verdict.DENY, f"{check.tool_name} is not read-only and the session is in read-only mode"
        if self._mode is not PermissionMode.YOLO and any(
            r.action is RuleAction.ASK and subject_hits(r.subject, analysis, outer_views=True) for r in rules
        ):
            return Verdict.ASK, f"{what} needs approval (an ask rule matches)"
        risky_write, outside_write = judge_writes(analysis, check.workspace, self.protected)
        risky_write = risky_write or judge_mentions(analysis, check.workspace, self.protected)
        if risky_write is not None:
            return Verdict.ASK, f"{what} {risky_write}; such writes always need approval"
        if self._mode is PermissionMode.PLAN:
            return Verdict.ALLOW, f"{what} only reads (plan mode)"
        if analysis.is_opaque:
            has_deny = any(r.action is RuleAction.DENY for r in rules)
            if self._mode is PermissionMode.YOLO and not has_deny:
                return Verdict.ALLOW, "yolo mode allows every tool"
            return Verdict.ASK, (
                f"{what} needs approval: {analysis.opaque[0]}, so no rule or mode can vouch for it"
            )
        allows = [r for r in rules if r.action is RuleAction.ALLOW]
        if analysis.commands and all(any(subject_hits(r.subject, c) for r in allows) for c in analysis.commands):
            if outside_write is None:
                return Verdict.ALLOW, f"{what} is allowed by permission rules"
            if self._mode is not PermissionMode.YOLO:
                return Verdict.ASK, f"{what} {outside_write}, which no rule vouches for"
        return self._mode_default(check)

    def _command_path_denied(self, analysis: ShellAnalysis, workspace: Workspace | None) -> str | None:
        """A path deny rule naming a file the command mentions (best effort: the
        OS sandbox, not this, is what keeps a shell away from secret files)."""
        denying = self._path_deny_rules()
        if not denying:
            return None
        specs = [_path_spec(r.subject or "") for r in denying]
        for word in path_words(analysis):
            path = Path(os.path.expanduser(word))
            if not path.is_absolute() and workspace is not None:
                path = workspace.cwd / path
            index = denied_by_patterns(Path(os.path.normpath(path)), workspace, specs)
            if index is not None:
                return f"{word} is denied by the rule {denying[index]}"
        return None

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
            case PermissionMode.READ_ONLY | PermissionMode.PLAN:
                return Verdict.DENY, f"{self._mode.value} mode"
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
        kind = check.description.kind
        plan = check.tool_name == EXIT_PLAN_MODE and self._mode is PermissionMode.PLAN
        # A plan's approval remembers no rule: the next plan asks again.
        always = () if plan else suggest_always_rule(check.tool_name, check.subject, kind, shell=check.is_shell_command)
        try:
            await self._emit(
                PermissionRequested(
                    turn_id=check.turn_id,
                    request_id=request_id,
                    call_id=check.call_id,
                    tool_name=check.tool_name,
                    title=check.description.title,
                    kind=kind,
                    subject=check.subject,
                    raw_input=check.raw_input,
                    diff=check.description.diff,
                    always_rule=", ".join(str(r) for r in always),
                    always_admits=always_admits(always, kind, shell=check.is_shell_command),
                )
            )
            with trio.move_on_after(self._answer_timeout_s):
                await pending.done.wait()
            if not pending.done.is_set():
                pending.timed_out = True  # nobody answered: refused, and every frontend withdraws the question
        finally:
            self._pending.pop(request_id, None)
            if pending.option is None:
                pending.cancelled = True
        option = pending.option
        if option is PermissionOption.ALLOW_ALWAYS and not always and not plan:
            option = PermissionOption.ALLOW_ONCE  # nothing narrow to remember: allow once only
        outcome = "cancelled" if pending.cancelled or option is None else option.value
        if pending.timed_out:
            outcome = TIMED_OUT_OUTCOME
        allowed = option is not None and option.allows and not pending.cancelled
        with trio.CancelScope(shield=True):
            await self._emit(PermissionResolved(check.turn_id, request_id, check.call_id, outcome, allowed))
        if option is PermissionOption.ALLOW_ALWAYS and allowed:
            for rule in always:
                self.add_rule(rule)
                if self._on_always is not None:
                    self._on_always(rule)
        elif option is PermissionOption.REJECT_ALWAYS and not pending.cancelled:
            for rule in self._reject_rules(check, always):
                self.add_rule(rule)
        if plan and allowed:
            assert option is not None
            self.set_mode(self.mode_after_plan(option))
            with trio.CancelScope(shield=True):
                await self._emit(ModeChanged(self._mode.value))
        if allowed:
            return Decision(True, verdict, "approved by the user", outcome)
        if plan and outcome not in ("cancelled", TIMED_OUT_OUTCOME):
            return Decision(False, verdict, PLAN_REJECTED, outcome)
        if outcome == "cancelled":
            return Decision(False, verdict, "The permission request was cancelled.", outcome)
        if outcome == TIMED_OUT_OUTCOME:
            waited = self._answer_timeout_s
            within = f"{waited / 60:g} minutes" if waited >= 60 else f"{waited:g} seconds"
            return Decision(
                False,
                verdict,
                f"Nobody answered the permission request within {within}, so the call was not run. "
                "Do not retry it; stop and tell the user what you were about to do.",
                outcome,
            )
        return Decision(
            False,
            verdict,
            "The user declined this tool call. Do not retry it; ask the user how to proceed if needed.",
            outcome,
        )

    def _reject_rules(self, check: PermissionCheck, always: tuple[Rule, ...]) -> tuple[Rule, ...]:
        """What "reject always" remembers. For a shell command: the exact words of
        each simple command no allow rule covers (never ``cd *`` for ``cd x && rm y``)."""
        if not check.is_shell_command or check.subject is None:
            return tuple(attrs.evolve(r, action=RuleAction.DENY) for r in always)
        analysis = analyse_command(check.subject)
        if analysis.is_opaque:
            return ()
        allows = [r for r in self.rules if r.action is RuleAction.ALLOW and _tool_spec(r.tool).match_file(check.tool_name)]
        return tuple(
            dict.fromkeys(
                Rule(RuleAction.DENY, check.tool_name, str(CommandPattern(c.words)))
                for c in analysis.commands
                if not any(subject_hits(r.subject, c) for r in allows)
            )
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


def _path_targets(check: PermissionCheck) -> Iterator[Path]:
    """The files a call touches: its path subject, or an MCP tool's path-like arguments."""
    raw: list[str] = []
    if check.description.kind in PATH_KINDS and check.subject:
        raw.append(check.subject)
    if check.tool_name.startswith("mcp__"):
        for key, value in check.raw_input.items():
            if key.lower() not in PATH_ARGUMENT_NAMES:
                continue
            values = value if isinstance(value, (list, tuple)) else [value]
            raw.extend(v for v in values if isinstance(v, str) and v.strip())
    for text in raw:
        path = Path(os.path.expanduser(text.strip()))
        if not path.is_absolute():
            if check.workspace is None:
                continue
            path = check.workspace.cwd / path
        yield path.resolve()


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
        if verdict is Verdict.ASK and check.tool_name == EXIT_PLAN_MODE and self.mode is PermissionMode.PLAN:
            # The plan is the run's result (its text is in the tool call); nothing leaves plan mode.
            return Decision(False, verdict, PLAN_UNATTENDED, PLAN_UNATTENDED_OUTCOME)
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

    def path_denied(self, path: Path, workspace: Workspace | None = None) -> str | None:
        return self.inner.path_denied(path, workspace)


@attrs.define
class _Pending:
    done: trio.Event = attrs.field(factory=trio.Event)
    option: PermissionOption | None = None
    cancelled: bool = False
    timed_out: bool = False
