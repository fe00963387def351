"""``bash``: run a shell command in the workspace, in the foreground or background."""

from __future__ import annotations

import math
import signal
from collections.abc import Mapping
from typing import Any

import trio

from agentcore.background import BackgroundTasks, TaskHandle, TaskKind
from agentcore.messages import freeze_json, new_id
from agentcore.private_files import open_private
from agentcore.secrets import context_redactor
from agentcore.tools.backends import ShellResult
from agentcore.tools.base import Safety, ToolContext, ToolKind, ToolResult
from agentcore.tools.common import BuiltinTool
from agentcore.tools.sandbox import SandboxUnavailable
from agentcore.tools.spill import cut_head_tail

BASH_TIMEOUT_DEFAULT_S = 120.0  # long enough for builds and test runs, short enough to notice a hang
BASH_TIMEOUT_MAX_S = 600.0  # ten minutes; longer work belongs in run_in_background
BASH_OUTPUT_CHARS = 30_000  # head + tail kept for the model; the whole output is spilled
PROGRESS_INTERVAL_S = 0.5  # at most two progress reports a second
PROGRESS_TAIL_CHARS = 4000  # at most this much new output per report
TITLE_CHARS = 80  # of the command shown as the tool-call title
# Keep commands from waiting on a pager or a credentials prompt nobody can answer.
NON_INTERACTIVE_ENV: Mapping[str, str] = {"PAGER": "cat", "GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0"}

DESCRIPTION = f"""\
Run a shell command (`sh -c`) in the workspace root and return its combined stdout and stderr, \
exit code, and whether it was killed.

Usage:
- Use it for builds, tests, git, package managers and other programs. Do NOT use it to read, \
search or edit files: `read_file`, `grep`, `glob`, `edit_file` and `write_file` are faster, \
safer, and easier for the user to review.
- Every call starts a fresh shell in the workspace root: `cd`, variables and activated \
environments do not carry over. Chain dependent steps in one command (`cd sub && make test`) \
and prefer absolute or workspace-relative paths.
- Quote paths containing spaces ("my dir/file.txt"). Nothing can be typed into the command: \
stdin is empty, so pass flags that avoid prompts (`--yes`, `-y`, `--no-edit`, `--non-interactive`).
- `timeout_s` defaults to {BASH_TIMEOUT_DEFAULT_S:.0f} s and may be at most {BASH_TIMEOUT_MAX_S:.0f} s. \
On timeout the command and every process it started are killed.
- Processes the command leaves running when it exits are killed too. For servers, watchers or \
anything long-running set `run_in_background` to true: you get a task id at once and the output \
goes to a log file you can read with `read_file`.
- Output longer than {BASH_OUTPUT_CHARS:,} characters is cut to its beginning and end; the full \
output is saved to a file whose path is given, to page through with `read_file`.
- `description`: say in 5-10 words what the command does (e.g. "Run the unit tests"), shown to the user.
- Be careful with commands that delete or overwrite data, and never run destructive git \
commands (push --force, reset --hard, clean -f) unless the user asked for exactly that.
"""


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class BashTool(BuiltinTool):
    name = "bash"
    description = DESCRIPTION
    safety = Safety.DESTRUCTIVE
    kind = ToolKind.EXECUTE
    subject_is_shell_command = True  # rules judge every simple command of it (agentcore.shell_syntax)

    def __init__(
        self,
        *,
        default_timeout_s: float = BASH_TIMEOUT_DEFAULT_S,
        max_timeout_s: float = BASH_TIMEOUT_MAX_S,
        output_chars: int = BASH_OUTPUT_CHARS,
        env: Mapping[str, str] = NON_INTERACTIVE_ENV,
        progress_interval_s: float = PROGRESS_INTERVAL_S,
    ) -> None:
        self._default_timeout = default_timeout_s
        self._max_timeout = max_timeout_s
        self._output_chars = output_chars
        self._env = dict(env)
        self._progress_interval = progress_interval_s
        self.parameters = freeze_json(
            {
                "type": "object",
                "properties": {
                    "command": {"type": "string", "minLength": 1, "description": "The command to run."},
                    "timeout_s": {
                        "type": "number",
                        "minimum": 1,
                        "maximum": max_timeout_s,
                        "description": f"Seconds before the command is killed. Default {default_timeout_s:.0f}.",
                    },
                    "run_in_background": {
                        "type": "boolean",
                        "description": "Start it as a background task and return at once. Default false.",
                    },
                    "description": {
                        "type": "string",
                        "description": "What the command does, in 5-10 words, for the user.",
                    },
                },
                "required": ["command"],
                "additionalProperties": False,
            }
        )

    def permission_subject(self, args: Mapping[str, Any]) -> str | None:
        command = args.get("command")
        return command.strip() if isinstance(command, str) and command.strip() else None

    def title(self, args: Mapping[str, Any]) -> str:
        description = args.get("description")
        if isinstance(description, str) and description.strip():
            return description.strip()
        command = (self.permission_subject(args) or "").splitlines()
        first = command[0] if command else ""
        more = len(first) > TITLE_CHARS or len(command) > 1
        return first[:TITLE_CHARS] + ("..." if more else "") if first else "Run a command"

    async def run(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        command: str = args["command"]
        if args.get("run_in_background", False):
            return self._start_background(command, args, ctx)
        timeout = float(args.get("timeout_s", self._default_timeout))
        timeout = min(max(timeout, 0.0), self._max_timeout)
        reporter = _ProgressReporter(ctx, self._progress_interval)
        try:
            result = await ctx.shell.run(
                command,
                cwd=ctx.cwd,
                timeout_s=timeout,
                env=self._env,
                on_output=reporter.on_output,
                on_start=reporter.on_start,
            )
        except SandboxUnavailable as exc:
            return ToolResult.error(f"The command was not run: {exc}")
        return self._format(result, timeout, ctx, reporter.terminal_id)

    def _format(self, result: ShellResult, timeout: float, ctx: ToolContext, terminal_id: str | None) -> ToolResult:
        cut = cut_head_tail(
            result.output,
            self._output_chars,
            spill_dir=None if result.full_output_path else ctx.spill_dir,
            label="output",
            saved_at=result.full_output_path,
        )
        body = cut.text.rstrip("\n") or "(no output)"
        if result.timed_out:
            status = f"Timed out after {timeout:g} s; the command and its child processes were killed."
        elif result.cancelled:
            status = "Cancelled; the command and its child processes were killed."
        elif result.signal is not None:
            status = f"Killed by {_signal_name(result.signal)}."
        else:
            status = f"Exit code {result.exit_code}."
        failed = result.timed_out or result.cancelled or result.signal is not None or result.exit_code != 0
        return ToolResult.text(
            f"{body}\n\n[{status}]",
            is_error=failed,
            terminal_id=terminal_id or result.terminal_id,
            raw_output={
                "exit_code": result.exit_code,
                "signal": result.signal,
                "timed_out": result.timed_out,
                "truncated": cut.truncated or result.truncated,
                "output_path": str(cut.spill_path) if cut.spill_path else None,
            },
        )

    def _start_background(self, command: str, args: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        tasks: BackgroundTasks | None = ctx.background
        if tasks is None:
            return ToolResult.error("Background tasks are not available in this session; run the command normally.")
        log = ctx.spill_dir / f"bash-{new_id('bg')}.log"
        label = self.title(args)
        shell, env = ctx.shell, self._env
        # The local shell redacts as it streams; this catches other backends' output too.
        redactor = context_redactor(ctx).stream()

        async def job(handle: TaskHandle) -> str:
            file = await trio.to_thread.run_sync(open_private, log, "x")
            async with trio.wrap_file(file) as out:

                async def sink(text: str) -> None:
                    text = redactor.feed(text)
                    await out.write(text)
                    await out.flush()
                    handle.append_output(text)

                try:
                    result = await shell.run(command, cwd=ctx.cwd, timeout_s=math.inf, env=env, on_output=sink)
                except SandboxUnavailable as exc:
                    await out.write(f"The command was not run: {exc}\n")
                    raise  # the task fails with this reason
                finally:
                    with trio.CancelScope(shield=True):
                        if rest := redactor.flush():
                            await out.write(rest)
                            handle.append_output(rest)
            if result.signal is not None:
                return f"killed by {_signal_name(result.signal)}; output in {log}"
            return f"exit code {result.exit_code}; output in {log}"

        handle = tasks.start(label, TaskKind.SHELL, job, output_path=log)
        return ToolResult.text(
            f"Started in the background as task {handle.id}. Its output is written to {log} "
            "(read it with read_file). You will be told when it finishes.",
            raw_output={"task_id": handle.id, "output_path": str(log)},
        )


class _ProgressReporter:
    """Turns streamed output into throttled progress reports of the output that
    is new since the last report (a burst larger than the tail budget is cut to
    its end: progress is for watching, the result has everything)."""

    def __init__(self, ctx: ToolContext, interval_s: float) -> None:
        self._ctx = ctx
        self._interval = interval_s
        self._pending = ""
        self._last = -math.inf
        self.terminal_id: str | None = None

    async def on_start(self, terminal_id: str) -> None:
        self.terminal_id = terminal_id
        await self._ctx.report("", terminal_id=terminal_id)

    async def on_output(self, text: str) -> None:
        self._pending = (self._pending + text)[-PROGRESS_TAIL_CHARS:]
        now = trio.current_time()
        if now - self._last >= self._interval:
            self._last = now
            pending, self._pending = self._pending, ""
            await self._ctx.report(pending, terminal_id=self.terminal_id)
