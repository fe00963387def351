"""``!command`` in chat: the person runs a shell command themselves.

Invariant: the command runs exactly as the ``bash`` tool's would — the
session's shell backend (its scrubbed environment, its OS sandbox when one is
configured, its process-group kill on cancel, output redacted as it streams)
in the workspace root — and only if no deny rule of the session refuses it.
It is the person's own command, so nothing asks: the permission mode and ask
rules limit the model, not the person at the keyboard; deny rules (and path
deny rules naming a file it mentions) hold, because "deny means deny in every
frontend". What it printed, bounded, becomes context for the model's next
prompt; the agent's own key values never reach it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

import attrs
import trio

from agentcore.errors import ToolError
from agentcore.messages import TextBlock, new_id
from agentcore.permissions import PermissionCheck, PermissionGate, Verdict
from agentcore.secrets import Redactor
from agentcore.tools import Safety, ShellBackend, ToolDescription, ToolKind, Workspace

SHELL_TOOL = "bash"  # the user's command is judged by the rules written for the shell tool
USER_COMMAND_TIMEOUT_S = 600.0  # ten minutes, as for the shell tool's longest; Ctrl-C stops it sooner
CONTEXT_OUTPUT_MAX_CHARS = 20_000  # of one command's output given to the model: head and tail kept
# Nothing can be typed into the command (stdin is not the terminal): no pager, no credential prompt.
USER_COMMAND_ENV: Mapping[str, str] = {"PAGER": "cat", "GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0"}


class ShellHost(Protocol):
    """What running a person's command reads of a session."""

    @property
    def workspace(self) -> Workspace: ...

    @property
    def shell(self) -> ShellBackend: ...

    @property
    def permissions(self) -> PermissionGate: ...

    @property
    def redactor(self) -> Redactor: ...


@attrs.frozen
class UserCommandRun:
    command: str
    output: str  # as shown (already redacted by the backend)
    exit_code: int | None
    status: str  # "exit 0", "cancelled", "killed by signal 9", "timed out", "not run: ..."

    def context_block(self, redactor: Redactor) -> TextBlock:
        """What the model gets: the command, its (bounded) output and how it ended."""
        output = redactor.redact(self.output)
        if len(output) > CONTEXT_OUTPUT_MAX_CHARS:
            half = CONTEXT_OUTPUT_MAX_CHARS // 2
            omitted = len(output) - 2 * half
            output = f"{output[:half]}\n[... {omitted:,} characters not included ...]\n{output[-half:]}"
        body = output.rstrip("\n") or "(no output)"
        return TextBlock(
            f"<user-shell-command>\nThe user ran this command in the workspace:\n$ {redactor.redact(self.command)}\n"
            f"{body}\n[{self.status}]\n</user-shell-command>"
        )


def denial(host: ShellHost, command: str) -> str | None:
    """Why a deny rule refuses ``command``; None when none does.

    The gate is asked about the command as a read-only call so that only what
    a person cannot lift by typing it themselves decides: deny rules and path
    deny rules. Mode limits and ask rules yield "ask" or "allow", which both run."""
    check = PermissionCheck(
        turn_id="",
        call_id=new_id("user_cmd"),
        tool_name=SHELL_TOOL,
        safety=Safety.READ_ONLY,
        subject=command,
        description=ToolDescription(title=command, kind=ToolKind.EXECUTE),
        raw_input={"command": command},
        workspace=host.workspace,
        shell=True,
    )
    verdict, reason = host.permissions.evaluate(check)
    return reason if verdict is Verdict.DENY else None


async def run_user_command(
    host: ShellHost, command: str, *, show: Callable[[str], Awaitable[None] | None], cancel_scope: trio.CancelScope
) -> UserCommandRun:
    """Run ``command``; ``show`` gets its output as it streams; cancelling
    ``cancel_scope`` (Ctrl-C) kills it and keeps what it printed so far."""
    printed: list[str] = []

    async def sink(text: str) -> None:
        printed.append(text)
        shown = show(text)
        if shown is not None:
            await shown

    result = None
    with cancel_scope:
        try:
            result = await host.shell.run(
                command, cwd=host.workspace.cwd, timeout_s=USER_COMMAND_TIMEOUT_S, env=USER_COMMAND_ENV, on_output=sink
            )
        except ToolError as exc:  # the backend refused to start it (e.g. the sandbox cannot run here)
            return UserCommandRun(command, "".join(printed), None, f"not run: {exc}")
    if result is None:
        return UserCommandRun(command, "".join(printed), None, "cancelled; the command was killed")
    if result.timed_out:
        status = f"timed out after {USER_COMMAND_TIMEOUT_S:g} s; the command was killed"
    elif result.cancelled:
        status = "cancelled; the command was killed"
    elif result.signal is not None:
        status = f"killed by signal {result.signal}"
    else:
        status = f"exit {result.exit_code}"
    return UserCommandRun(command, result.output if result.output else "".join(printed), result.exit_code, status)
