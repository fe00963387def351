"""Hooks: user commands run at fixed points of a session.

Configured as ``[[hooks]]`` tables (``event``, ``command``, ``matcher``,
``timeout_s``; see docs/hooks.md). A hook is a real process (``sh -c``, own
process group, killed with its group on timeout) that receives the event as
JSON on stdin and may answer with JSON on stdout::

    {"decision": "allow" | "deny" | "ask", "reason": "...", "additional_context": "..."}

Exit code 2 means "deny", with stderr as the reason. Any other failure (other
exit codes, a timeout, a malformed answer) is reported as a :class:`Notice` and
the hook is skipped: a broken hook never breaks the session.

Events and what their answers do:

* ``session_start``: ``additional_context`` joins the system prompt.
* ``user_prompt_submit``: ``deny`` blocks the prompt (the turn ends with
  ``refusal``); ``additional_context`` follows the prompt as a ``CONTEXT`` message.
* ``pre_tool_use`` (matched on the tool name): ``deny`` stops the call (the
  model gets the reason); ``allow`` skips the permission ask (deny rules and
  read-only mode still hold); ``ask`` asks even where rules would allow.
* ``post_tool_use`` (matched on the tool name): ``additional_context`` (and a
  ``deny`` reason) is appended to the tool result the model sees.
* ``pre_compact``: ``additional_context`` is added to the summariser's instructions.
* ``stop``: ``deny`` sends the agent back to work with the reason as a
  ``CONTEXT`` message (at most ``STOP_HOOK_MAX_CONTINUATIONS`` times a turn).

Several hooks of one event run in parallel; any ``deny`` wins, then ``ask``,
then ``allow``; contexts are joined in configuration order.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import attrs
import pathspec
import trio

from agentcore.events import FanoutEmitter, MessageAppended, Notice
from agentcore.history import History
from agentcore.messages import MessageKind, StopReason, TextBlock, UserMessage, thaw_json
from agentcore.permissions import Decision, PermissionCheck, PermissionGate, Verdict
from agentcore.secrets import Redactor, ToolSecrets
from agentcore.tools.base import ToolResult
from agentcore.tools.lifeline import lifeline
from agentcore.tools.local import SHELL, terminate_group
from agentcore.tools.sandbox import ProcessConfinement, SandboxPolicy, SandboxUnavailable
from agentcore.tools.workspace import Workspace
from agentcore.turn.tool_calls import NoToolCallHooks, redact_result

if TYPE_CHECKING:
    from agentcore.config.settings import HookConfig
    from agentcore.session.base import SessionPolicy
    from agentcore.turn.runner import TurnOutcome, TurnRunner

log = logging.getLogger(__name__)

TOOL_EVENTS = frozenset({"pre_tool_use", "post_tool_use"})  # the events whose matcher applies
HOOK_OUTPUT_MAX_BYTES = 1024 * 1024  # of stdout and of stderr each; an answer is a small JSON object
DRAIN_AFTER_EXIT_S = 1.0  # how long to wait for a hook's pipes once its group is gone
READ_CHUNK_BYTES = 65536
REASON_MAX_CHARS = 2000  # of stderr used as a reason, and of failure details in a Notice
STOP_HOOK_MAX_CONTINUATIONS = 3  # stop hooks may send the agent back this often per turn; stops loops
BLOCKED_BY_EXIT_2 = "blocked by a hook (exit code 2)"


class HookDecision(enum.Enum):
    ALLOW = "allow"
    DENY = "deny"
    ASK = "ask"


@attrs.frozen
class HookAnswer:
    """What one hook said."""

    decision: HookDecision | None = None
    reason: str = ""
    additional_context: str = ""


@attrs.frozen
class HookFailure:
    """A hook that could not be run or did not answer properly; it is skipped."""

    reason: str


@attrs.frozen
class HookVerdict:
    """What every matching hook of an event said, combined."""

    decision: HookDecision | None = None
    reason: str = ""
    context: str = ""

    @classmethod
    def combine(cls, answers: Sequence[HookAnswer]) -> HookVerdict:
        for decision in (HookDecision.DENY, HookDecision.ASK, HookDecision.ALLOW):
            deciding = [a for a in answers if a.decision is decision]
            if deciding:
                reason = "; ".join(a.reason for a in deciding if a.reason)
                break
        else:
            decision, reason = None, ""
        context = "\n\n".join(a.additional_context for a in answers if a.additional_context)
        return cls(decision, reason, context)


@attrs.frozen
class PromptVerdict:
    blocked: bool = False
    reason: str = ""
    context: tuple[UserMessage, ...] = ()


@attrs.frozen
class ProcessOutcome:
    exit_code: int | None  # None when killed by a signal
    stdout: bytes
    stderr: bytes
    timed_out: bool


# ------------------------------------------------------------------ one hook process


async def run_hook_process(
    command: str,
    stdin: bytes,
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout_s: float,
    confinement: ProcessConfinement | None = None,
) -> ProcessOutcome:
    """Run ``sh -c command`` in its own process group, feeding ``stdin``. On
    timeout (or cancellation) the whole group is killed; processes the hook
    leaves behind are killed too (they would hold its pipes open), and so is the
    group when the agent dies (:mod:`agentcore.tools.lifeline`). ``env`` is
    the whole environment (already scrubbed of secrets by the caller);
    ``confinement`` runs the hook in the OS sandbox and raises
    :class:`SandboxUnavailable` when that cannot run."""
    argv, full_env = [SHELL, "-c", command], dict(env)
    if confinement is not None:
        argv, full_env = confinement.wrap(argv, cwd=cwd, env=full_env)
    proc = await trio.lowlevel.open_process(
        argv,
        cwd=str(cwd),
        env=full_env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    out, err = bytearray(), bytearray()
    drained = (trio.Event(), trio.Event())
    timed_out = False
    try:
        async with lifeline(proc.pid) as line, trio.open_nursery() as nursery:  # the hook dies with the agent
            nursery.start_soon(_feed, proc.stdin, stdin)
            nursery.start_soon(_drain, proc.stdout, out, drained[0])
            nursery.start_soon(_drain, proc.stderr, err, drained[1])
            with trio.move_on_after(timeout_s) as deadline:
                await proc.wait()
            timed_out = deadline.cancelled_caught
            await terminate_group(proc)
            await line.release()
            with trio.move_on_after(DRAIN_AFTER_EXIT_S):
                for event in drained:
                    await event.wait()
            nursery.cancel_scope.cancel()
    finally:
        with trio.CancelScope(shield=True):
            await terminate_group(proc)
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                await stream.aclose()
    code = proc.returncode
    return ProcessOutcome(code if code is not None and code >= 0 else None, bytes(out), bytes(err), timed_out)


async def _feed(stream: trio.abc.SendStream, data: bytes) -> None:
    try:
        await stream.send_all(data)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass  # the hook exited without reading its input; that is its right
    finally:
        try:
            await stream.aclose()
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass


async def _drain(stream: trio.abc.ReceiveStream, into: bytearray, done: trio.Event) -> None:
    try:
        while data := await stream.receive_some(READ_CHUNK_BYTES):
            room = HOOK_OUTPUT_MAX_BYTES - len(into)
            if room > 0:
                into += data[:room]
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    finally:
        done.set()


def parse_answer(outcome: ProcessOutcome, *, timeout_s: float) -> HookAnswer | HookFailure:
    """Turn a finished hook process into its answer (or why it has none)."""
    stderr = outcome.stderr.decode("utf-8", errors="replace").strip()
    if outcome.timed_out:
        return HookFailure(f"timed out after {timeout_s:g} s and was killed")
    if outcome.exit_code == 2:
        return HookAnswer(HookDecision.DENY, stderr[:REASON_MAX_CHARS] or BLOCKED_BY_EXIT_2)
    if outcome.exit_code != 0:
        status = "was killed by a signal" if outcome.exit_code is None else f"exited with code {outcome.exit_code}"
        return HookFailure(status + (f": {stderr[-REASON_MAX_CHARS:]}" if stderr else ""))
    stdout = outcome.stdout.decode("utf-8", errors="replace").strip()
    if not stdout.startswith("{"):
        return HookAnswer()  # no answer; plain output (a formatter's chatter) is not one
    try:
        data = json.loads(stdout)
    except json.JSONDecodeError as exc:
        return HookFailure(f"printed invalid JSON ({exc.msg} at character {exc.pos})")
    if not isinstance(data, dict):
        return HookFailure("answered with JSON that is not an object")
    decision = data.get("decision")
    reason = data.get("reason", "")
    context = data.get("additional_context", "")
    allowed = ", ".join(f'"{d.value}"' for d in HookDecision)
    if decision is not None and decision not in {d.value for d in HookDecision}:
        return HookFailure(f'answered "decision": {json.dumps(decision)}; expected one of {allowed} or no decision')
    if not isinstance(reason, str) or not isinstance(context, str):
        return HookFailure('"reason" and "additional_context" must be strings')
    return HookAnswer(HookDecision(decision) if decision is not None else None, reason, context)


# ------------------------------------------------------------------ a session's hooks


class HooksHost(Protocol):
    """What a session's hooks read from it."""

    workspace: Workspace
    policy: SessionPolicy
    extra_prompt_sections: dict[str, str]  # session_start context joins the system prompt

    @property
    def id(self) -> str: ...

    @property
    def cwd(self) -> Path: ...

    @property
    def history(self) -> History: ...

    @property
    def events(self) -> FanoutEmitter: ...


class HookPoints(Protocol):
    """The points of a session where hooks run (:class:`SessionHooks`, or
    :class:`NoHooks` for a session without any, so no caller checks for None)."""

    async def session_start(self, source: str) -> None: ...

    async def user_prompt_submit(self, turn_id: str, message: UserMessage) -> PromptVerdict: ...

    async def pre_tool_use(self, check: PermissionCheck, gate: PermissionGate) -> Decision: ...

    async def post_tool_use(self, check: PermissionCheck, result: ToolResult, redactor: Redactor) -> ToolResult: ...

    async def pre_compact(self, turn_id: str | None, trigger: str, focus: str | None) -> str | None: ...

    async def stop(self, turn_id: str, runner: TurnRunner, outcome: TurnOutcome) -> TurnOutcome: ...


class NoHooks(NoToolCallHooks):
    """A session without hooks: every hook point passes through unchanged."""

    async def session_start(self, source: str) -> None:
        return None

    async def user_prompt_submit(self, turn_id: str, message: UserMessage) -> PromptVerdict:
        return PromptVerdict()

    async def pre_compact(self, turn_id: str | None, trigger: str, focus: str | None) -> str | None:
        return focus

    async def stop(self, turn_id: str, runner: TurnRunner, outcome: TurnOutcome) -> TurnOutcome:
        return outcome


class SessionHooks:
    """The hooks of one session (``session.hooks``), called at each hook point."""

    def __init__(
        self,
        session: HooksHost,
        hooks: Sequence[HookConfig],
        *,
        secrets: ToolSecrets | None = None,
        sandbox: SandboxPolicy | None = None,
    ) -> None:
        self.session = session
        self.hooks = tuple(hooks)
        # Compiled once: a bad matcher fails when the session opens, not at the first tool call.
        self._matchers = {h.matcher: pathspec.PathSpec.from_lines("gitignore", [h.matcher]) for h in self.hooks}
        # Hooks start from the same scrubbed environment and sandbox as bash (the core passes them);
        # hooks made without them still never hand the process's secrets to a hook.
        self._secrets: ToolSecrets = secrets if secrets is not None else ToolSecrets.from_environment(os.environ)
        self._confinement = ProcessConfinement(sandbox, session.workspace.roots) if sandbox is not None else None

    def matching(self, event: str, tool_name: str | None = None) -> list[HookConfig]:
        return [
            h
            for h in self.hooks
            if h.event == event
            and (event not in TOOL_EVENTS or tool_name is None or self._matchers[h.matcher].match_file(tool_name))
        ]

    async def run(self, event: str, fields: Mapping[str, Any], *, tool_name: str | None = None) -> HookVerdict:
        """Run every hook matching ``event`` (in parallel) and combine their answers."""
        hooks = self.matching(event, tool_name)
        if not hooks:
            return HookVerdict()
        payload = {"event": event, "session_id": self.session.id, "cwd": str(self.session.cwd), **fields}
        stdin = json.dumps(payload, ensure_ascii=False).encode()
        env = {
            **self._secrets.env,
            "AGENTCORE_HOOK_EVENT": event,
            "AGENTCORE_SESSION_ID": self.session.id,
            "AGENTCORE_PROJECT_DIR": str(self.session.cwd),
        }
        results: list[HookAnswer | HookFailure] = [HookFailure("did not run")] * len(hooks)

        async def run_one(index: int, hook: HookConfig) -> None:
            try:
                outcome = await run_hook_process(
                    hook.command,
                    stdin,
                    cwd=self.session.cwd,
                    env=env,
                    timeout_s=hook.timeout_s,
                    confinement=self._confinement,
                )
            except OSError as exc:  # e.g. the working directory vanished
                results[index] = HookFailure(f"could not start: {exc}")
                return
            except SandboxUnavailable as exc:
                results[index] = HookFailure(f"was not run: {exc}")
                return
            results[index] = parse_answer(outcome, timeout_s=hook.timeout_s)

        async with trio.open_nursery() as nursery:
            for index, hook in enumerate(hooks):
                nursery.start_soon(run_one, index, hook)
        answers: list[HookAnswer] = []
        for hook, result in zip(hooks, results, strict=True):
            if isinstance(result, HookFailure):
                log.warning("%s hook %r failed: %s", event, hook.command, result.reason)
                await self.session.events.emit(
                    Notice("warning", f"The {event} hook `{hook.command}` {result.reason}; it was skipped.")
                )
            else:
                answers.append(result)
        return HookVerdict.combine(answers)

    # ------------------------------------------------------------ hook points

    async def session_start(self, source: str) -> None:
        verdict = await self.run("session_start", {"source": source, "profile": self.session.policy.profile})
        if verdict.context:
            self.session.extra_prompt_sections["hooks.session_start"] = (
                "## Context from session_start hooks\n\n" + verdict.context
            )

    async def user_prompt_submit(self, turn_id: str, message: UserMessage) -> PromptVerdict:
        if message.kind is not MessageKind.PROMPT:
            return PromptVerdict()  # background outcomes and continuations were not submitted by anyone
        verdict = await self.run("user_prompt_submit", {"turn_id": turn_id, "prompt": message.text})
        if verdict.decision is HookDecision.DENY:
            reason = verdict.reason or "no reason given"
            await self.session.events.emit(Notice("warning", f"A user_prompt_submit hook blocked the prompt: {reason}"))
            return PromptVerdict(blocked=True, reason=reason)
        if not verdict.context:
            return PromptVerdict()
        note = UserMessage(
            (TextBlock(f"[Context added by a user_prompt_submit hook]\n{verdict.context}"),), kind=MessageKind.CONTEXT
        )
        return PromptVerdict(context=(note,))

    async def pre_tool_use(self, check: PermissionCheck, gate: PermissionGate) -> Decision:
        verdict = await self.run("pre_tool_use", _tool_fields(check), tool_name=check.tool_name)
        match verdict.decision:
            case HookDecision.DENY:
                return Decision(
                    False, Verdict.DENY, f"Blocked by a pre_tool_use hook: {verdict.reason or 'no reason given'}"
                )
            case HookDecision.ALLOW:
                rules_verdict, _ = gate.evaluate(check)
                if rules_verdict is Verdict.DENY:
                    return await gate.check(check)  # deny rules and read-only mode hold anyway
                return Decision(True, Verdict.ALLOW, "allowed by a pre_tool_use hook")
            case HookDecision.ASK:
                ask = getattr(gate, "ask", None)
                reason = verdict.reason or "a pre_tool_use hook asks for confirmation"
                return await ask(check, reason) if ask is not None else await gate.check(check)
            case None:
                return await gate.check(check)

    async def post_tool_use(self, check: PermissionCheck, result: ToolResult, redactor: Redactor) -> ToolResult:
        """The hooks see (and the model gets) the result with the session's secrets redacted."""
        result = redact_result(redactor, result)
        fields = {
            **_tool_fields(check),
            "tool_response": {"content": result.text_content, "is_error": result.is_error},
        }
        verdict = await self.run("post_tool_use", fields, tool_name=check.tool_name)
        notes = []
        if verdict.decision is HookDecision.DENY and verdict.reason:
            notes.append(f"[A post_tool_use hook objected: {verdict.reason}]")
        if verdict.context:
            notes.append(f"[Context added by a post_tool_use hook]\n{verdict.context}")
        if not notes:
            return result
        return attrs.evolve(result, content=(*result.content, TextBlock("\n\n".join(notes))))

    async def pre_compact(self, turn_id: str | None, trigger: str, focus: str | None) -> str | None:
        verdict = await self.run("pre_compact", {"turn_id": turn_id, "trigger": trigger, "custom_instructions": focus})
        if not verdict.context:
            return focus
        return f"{focus}\n\n{verdict.context}" if focus else verdict.context

    async def stop(self, turn_id: str, runner: TurnRunner, outcome: TurnOutcome) -> TurnOutcome:
        """Run the stop hooks; while they deny (and the turn ended normally) the
        agent continues with their reason, up to ``STOP_HOOK_MAX_CONTINUATIONS``."""
        continuations = 0
        while True:
            verdict = await self.run(
                "stop",
                {
                    "turn_id": turn_id,
                    "stop_reason": outcome.stop_reason.value,
                    "last_assistant_message": outcome.text,
                    "stop_hook_active": continuations > 0,
                },
            )
            if verdict.decision is not HookDecision.DENY or outcome.stop_reason is not StopReason.END_TURN:
                return outcome
            if continuations >= STOP_HOOK_MAX_CONTINUATIONS:
                await self.session.events.emit(
                    Notice("warning", f"Stop hooks sent the agent back {continuations} times; the turn ends here.")
                )
                return outcome
            continuations += 1
            reason = verdict.reason or "a stop hook asks you to continue"
            note = UserMessage((TextBlock(f"[A stop hook asks you to keep working: {reason}]"),), kind=MessageKind.CONTEXT)
            self.session.history.append(note)
            await self.session.events.emit(MessageAppended(turn_id, note))
            outcome = await runner.run(turn_id)


def _tool_fields(check: PermissionCheck) -> dict[str, Any]:
    return {
        "turn_id": check.turn_id,
        "tool_call_id": check.call_id,
        "tool_name": check.tool_name,
        "tool_input": thaw_json(check.raw_input),
    }
