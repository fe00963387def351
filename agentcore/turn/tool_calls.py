"""Executing one assistant message's tool calls.

Per call: look the tool up, validate arguments, ``describe`` it, announce it
(:class:`ToolCallStarted`), ask the permission gate, ``execute``, cut an
oversized result (head + tail, the whole text spilled to a file) and announce
the result. Everything a model can get wrong is an error *result* it can read.

The exact values of the agent's own keys (:class:`agentcore.secrets.Redactor`)
are replaced in every result and progress report before anything is emitted,
capped, spilled or handed to ``post_tool_use`` hooks, so they reach neither the
model nor the journal, spill files or frontends.

Read-only calls run in parallel (bounded); anything that changes the world
runs alone, in the order the model asked, so two edits never race.
"""

from __future__ import annotations

import logging
import time
from types import MappingProxyType
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

import attrs
import trio

from agentcore.errors import AgentcoreError
from agentcore.events import AgentEvent, ToolCallFinished, ToolCallProgress, ToolCallStarted
from agentcore.messages import TextBlock, ToolResultBlock, ToolUseBlock, thaw_json
from agentcore.permissions import PATH_KINDS, Decision, PermissionCheck, PermissionGate
from agentcore.secrets import Redactor, context_redactor
from agentcore.tools.paths import resolved_subject
from agentcore.tools.args import format_problems, validate_args
from agentcore.tools.base import (
    DiffPreview,
    Safety,
    Tool,
    ToolContext,
    ToolDescription,
    ToolProgress,
    ToolResult,
)
from agentcore.tools.registry import ToolRegistry
from agentcore.tools.spill import cut_head_tail

log = logging.getLogger(__name__)

ContextFactory = Callable[[str, Callable[[ToolProgress], Awaitable[None]]], ToolContext]


def _parallel_safe(tool: Tool | None) -> bool:
    if tool is None:
        return True
    flag = getattr(tool, "parallel_safe", None)
    return bool(flag) if flag is not None else tool.safety is Safety.READ_ONLY


class ToolCallHooks(Protocol):
    """The hook points around one tool call (``agentcore.session.hooks``)."""

    async def pre_tool_use(self, check: PermissionCheck, gate: PermissionGate) -> Decision:
        """Decide the call (hooks may deny, allow without asking, or force an ask)."""
        ...

    async def post_tool_use(self, check: PermissionCheck, result: ToolResult, redactor: Redactor) -> ToolResult:
        """The result the model gets (hooks may add context)."""
        ...


class NoToolCallHooks:
    """No hooks: the gate decides, the result passes through unchanged."""

    async def pre_tool_use(self, check: PermissionCheck, gate: PermissionGate) -> Decision:
        return await gate.check(check)

    async def post_tool_use(self, check: PermissionCheck, result: ToolResult, redactor: Redactor) -> ToolResult:
        return result


class ToolCallWatcher(Protocol):
    """Sees each allowed call that is not read-only just before and after it runs
    (``agentcore.checkpoints`` snapshots the files it may change). Never blocks a call."""

    async def before_change(self, turn_id: str, check: PermissionCheck) -> None: ...

    async def after_change(self, turn_id: str, check: PermissionCheck) -> None: ...


class NoToolCallWatcher:
    async def before_change(self, turn_id: str, check: PermissionCheck) -> None:
        return None

    async def after_change(self, turn_id: str, check: PermissionCheck) -> None:
        return None


class SessionToolExecutor:
    def __init__(
        self,
        *,
        registry: ToolRegistry,
        gate: PermissionGate,
        make_context: ContextFactory,
        emit: Callable[[AgentEvent], Awaitable[None]],
        concurrency: int,
        max_result_chars: int,
        spill_dir: Path,
        hooks: ToolCallHooks = NoToolCallHooks(),
        redactor: Redactor | None = None,
        watcher: ToolCallWatcher = NoToolCallWatcher(),
    ) -> None:
        self.registry = registry
        self.gate = gate
        self.make_context = make_context
        self.emit = emit
        self.limiter = trio.CapacityLimiter(concurrency)
        self.max_result_chars = max_result_chars
        self.spill_dir = spill_dir
        self.hooks = hooks
        self.watcher = watcher
        # None: the redactor each call's context carries (see context_redactor).
        self.redactor = redactor

    async def run_calls(
        self, turn_id: str, calls: tuple[ToolUseBlock, ...], invalid: Mapping[str, str]
    ) -> list[ToolResultBlock]:
        results: dict[str, ToolResultBlock] = {}
        batch: list[ToolUseBlock] = []

        async def run_batch() -> None:
            async with trio.open_nursery() as nursery:
                for call in batch:
                    nursery.start_soon(self._run_into, turn_id, call, invalid, results)
            batch.clear()

        for call in calls:
            if _parallel_safe(self.registry.get(call.name)):
                batch.append(call)
                continue
            await run_batch()
            await self._run_into(turn_id, call, invalid, results)
        await run_batch()
        return [results[c.id] for c in calls]

    async def _run_into(
        self, turn_id: str, call: ToolUseBlock, invalid: Mapping[str, str], out: dict[str, ToolResultBlock]
    ) -> None:
        async with self.limiter:
            out[call.id] = await self.run_one(turn_id, call, invalid.get(call.id))

    async def run_one(self, turn_id: str, call: ToolUseBlock, invalid: str | None) -> ToolResultBlock:
        started = time.monotonic()
        args: dict[str, Any] = thaw_json(call.input)
        tool = self.registry.get(call.name)

        redactor = self.redactor

        async def progress(p: ToolProgress) -> None:
            text = redactor.redact(p.text) if redactor is not None else p.text
            step = redactor.redact(p.step) if redactor is not None and p.step else p.step
            await self.emit(ToolCallProgress(turn_id, call.id, text, p.terminal_id, step))

        ctx = self.make_context(call.id, progress)
        if redactor is None:
            redactor = context_redactor(ctx)
        description = ToolDescription(title=call.name)
        if tool is not None and invalid is None:
            description = await self._describe(tool, args, ctx)
            if description.diff is not None:
                description = attrs.evolve(description, diff=_redact_diff(redactor, description.diff))
        if redactor:  # what frontends and the journal see; the call itself runs with ``args``
            description = attrs.evolve(description, title=redactor.redact(description.title))
        await self.emit(
            ToolCallStarted(
                turn_id=turn_id,
                call_id=call.id,
                name=call.name,
                title=description.title,
                kind=description.kind,
                raw_input=_redact_json(redactor, args) if redactor else args,
                locations=description.locations,
                diff=description.diff,
            )
        )
        result = await self._decide_and_execute(turn_id, call, tool, args, ctx, description, invalid, redactor)
        result = self._cap(redact_result(redactor, result), call.name)
        await self.emit(ToolCallFinished(turn_id, call.id, call.name, result, time.monotonic() - started))
        return ToolResultBlock(call.id, result.content, result.is_error)

    async def _decide_and_execute(
        self,
        turn_id: str,
        call: ToolUseBlock,
        tool: Tool | None,
        args: dict[str, Any],
        ctx: ToolContext,
        description: ToolDescription,
        invalid: str | None,
        redactor: Redactor,
    ) -> ToolResult:
        if invalid is not None:
            return ToolResult.error(invalid)
        if tool is None:
            names = ", ".join(self.registry.names())
            return ToolResult.error(f"There is no tool named {call.name!r}. Available tools: {names}.")
        problems = validate_args(tool.parameters, args)
        if problems:
            return ToolResult.error(format_problems(tool.name, problems))
        subject = tool.permission_subject(args)
        if subject is not None and description.kind in PATH_KINDS:
            # Rules see the real file: a symlink named "notes" pointing at .env is ".env".
            subject = resolved_subject(ctx.workspace, subject)
        check = PermissionCheck(
            turn_id=turn_id,
            call_id=call.id,
            tool_name=tool.name,
            safety=tool.safety,
            subject=subject,
            description=description,
            raw_input=args,
            workspace=ctx.workspace,
            shell=bool(getattr(tool, "subject_is_shell_command", False)),
        )
        decision = await self.hooks.pre_tool_use(check, self.gate)
        if not decision.allowed:
            return ToolResult.error(decision.reason)
        changes = tool.safety is not Safety.READ_ONLY
        if changes:
            await self.watcher.before_change(turn_id, check)
        try:
            try:
                result = await tool.execute(args, ctx)
            finally:  # a failed or cancelled call may have changed files too
                if changes:
                    with trio.CancelScope(shield=True):
                        await self.watcher.after_change(turn_id, check)
        except trio.Cancelled:
            raise
        except AgentcoreError as exc:  # a known condition (an editor that fell silent, ...): no traceback
            log.info("tool %s failed: %s", tool.name, exc)
            return ToolResult.error(f"{tool.name} failed: {exc}")
        except Exception as exc:  # a tool bug must not end the turn; the model sees what failed
            log.exception("tool %s failed", tool.name)
            return ToolResult.error(f"{tool.name} failed unexpectedly: {type(exc).__name__}: {exc}")
        if not isinstance(result, ToolResult):
            log.error("tool %s returned %r instead of a ToolResult", tool.name, type(result))
            return ToolResult.error(f"{tool.name} returned no result (a bug in the tool).")
        return await self.hooks.post_tool_use(check, result, redactor)

    async def _describe(self, tool: Tool, args: dict[str, Any], ctx: ToolContext) -> ToolDescription:
        try:
            return await tool.describe(args, ctx)
        except trio.Cancelled:
            raise
        except Exception:  # describe only decorates the UI; never let it block the call
            log.debug("describe failed for %s", tool.name, exc_info=True)
            return ToolDescription(title=tool.name)

    def _cap(self, result: ToolResult, name: str) -> ToolResult:
        blocks = []
        changed = False
        for block in result.content:
            if isinstance(block, TextBlock) and len(block.text) > self.max_result_chars:
                cut = cut_head_tail(block.text, self.max_result_chars, spill_dir=self.spill_dir, label=name)
                blocks.append(TextBlock(cut.text))
                changed = True
            else:
                blocks.append(block)
        if not changed:
            return result
        return ToolResult(tuple(blocks), result.is_error, result.diff, result.raw_output, result.terminal_id)


def redact_result(redactor: Redactor, result: ToolResult) -> ToolResult:
    """``result`` with the redactor's secrets replaced in its text, diff and raw output."""
    if not redactor:
        return result
    content = tuple(TextBlock(redactor.redact(b.text)) if isinstance(b, TextBlock) else b for b in result.content)
    diff = _redact_diff(redactor, result.diff) if result.diff is not None else None
    raw = _redact_json(redactor, result.raw_output) if result.raw_output is not None else None
    return ToolResult(content, result.is_error, diff, raw, result.terminal_id)


def _redact_diff(redactor: Redactor, diff: DiffPreview) -> DiffPreview:
    old = redactor.redact(diff.old_text) if diff.old_text is not None else None
    return DiffPreview(diff.path, old, redactor.redact(diff.new_text))


def _redact_json(redactor: Redactor, value: Any) -> Any:
    if isinstance(value, str):
        return redactor.redact(value)
    if isinstance(value, Mapping | MappingProxyType):
        return {k: _redact_json(redactor, v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_redact_json(redactor, v) for v in value]
    return value
