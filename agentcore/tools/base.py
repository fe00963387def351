"""The tool contract.

A tool has a name, a description written for the model, a JSON-schema for its
arguments and a :class:`Safety` class that the permission gate reasons about.
``describe`` may do I/O (read the old file to build a diff for the permission
prompt) and sees the arguments as the model sent them; ``execute`` gets them
only after the session's executor has checked them against the schema, does
the work and returns exactly one :class:`ToolResult`. Failures the model can act on (bad path, no match) are *results* with
``is_error=True``, never exceptions. An exception escaping ``execute`` is a bug
in the tool; the turn runner still turns it into an error result.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from agentcore.messages import ImageBlock, TextBlock, freeze_json

if TYPE_CHECKING:
    from agentcore.tools.backends import FsBackend, ShellBackend
    from agentcore.tools.workspace import Workspace


class Safety(enum.Enum):
    READ_ONLY = "read_only"
    MUTATING = "mutating"
    DESTRUCTIVE = "destructive"
    NETWORK = "network"


class ToolKind(enum.Enum):
    """The ACP tool-call kinds; frontends pick icons and layouts from these."""

    READ = "read"
    EDIT = "edit"
    DELETE = "delete"
    MOVE = "move"
    SEARCH = "search"
    EXECUTE = "execute"
    FETCH = "fetch"
    THINK = "think"
    OTHER = "other"


@attrs.frozen
class Location:
    path: str
    line: int | None = None


@attrs.frozen
class DiffPreview:
    """Old and new text of one file. ``old_text`` is None for a new file."""

    path: str
    old_text: str | None
    new_text: str


@attrs.frozen
class ToolDescription:
    """What a call is about to do, for permission prompts and tool-call UIs."""

    title: str
    kind: ToolKind = ToolKind.OTHER
    locations: tuple[Location, ...] = ()
    diff: DiffPreview | None = None


@attrs.frozen
class ToolResult:
    content: tuple[TextBlock | ImageBlock, ...]
    is_error: bool = False
    # Structured extras for frontends (diffs, exit codes, terminal ids). Never sent to the model.
    diff: DiffPreview | None = None
    raw_output: Mapping[str, Any] | None = attrs.field(default=None, converter=freeze_json)
    terminal_id: str | None = None

    @classmethod
    def text(cls, text: str, *, is_error: bool = False, **extra: Any) -> ToolResult:
        return cls(content=(TextBlock(text),), is_error=is_error, **extra)

    @classmethod
    def error(cls, text: str, **extra: Any) -> ToolResult:
        return cls(content=(TextBlock(text),), is_error=True, **extra)

    @property
    def text_content(self) -> str:
        return "\n".join(b.text for b in self.content if isinstance(b, TextBlock))


@attrs.frozen
class ToolProgress:
    """A progress report from a running tool: text to show, optionally a terminal id,
    and what the tool is doing now (``step``: replaces the last one; None keeps it)."""

    text: str = ""
    terminal_id: str | None = None
    step: str | None = None


ProgressSink = Callable[[ToolProgress], Awaitable[None]]


async def _no_progress(_: ToolProgress) -> None:
    return None


@attrs.define
class ToolContext:
    """Everything a running tool may touch. Tools reach files and processes only
    through ``fs`` and ``shell`` so the same tool works locally and delegated."""

    session_id: str
    workspace: Workspace
    fs: FsBackend
    shell: ShellBackend
    spill_dir: Path  # where oversized outputs are written in full
    tool_call_id: str = ""
    progress: ProgressSink = _no_progress
    # Session services, typed loosely to keep this module free of import cycles.
    background: Any = None  # agentcore.background.BackgroundTasks
    # Emits an AgentEvent on the session's stream (e.g. update_plan -> PlanUpdated).
    emit: Callable[[Any], Awaitable[None]] | None = None
    # {"session": the session making the call, "redactor": its Redactor} (empty outside
    # a session): spawn_agent reaches the sub-agents through the first, context_redactor
    # (bash's background logs) the second.
    services: Mapping[str, Any] = attrs.field(factory=dict)
    # Why a permission rule denies the contents of a file (resolved absolute path),
    # None when it does not: tools that read many files at once (grep, glob) skip those.
    path_denied: Callable[[Path], str | None] | None = None

    @property
    def cwd(self) -> Path:
        return self.workspace.cwd

    async def report(self, text: str = "", *, terminal_id: str | None = None, step: str | None = None) -> None:
        await self.progress(ToolProgress(text=text, terminal_id=terminal_id, step=step))


@runtime_checkable
class Tool(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def parameters(self) -> Mapping[str, Any]:
        """A JSON schema (type object) for the arguments."""
        ...

    @property
    def safety(self) -> Safety: ...

    def permission_subject(self, args: Mapping[str, Any]) -> str | None:
        """The main argument permission rules match on: a path for file tools,
        the command for ``bash``, the URL for ``fetch``; None when there is none.

        A tool whose subject is a shell command line sets the class attribute
        ``subject_is_shell_command = True`` (optional, read with getattr): its
        rules are then judged per simple command, not as a glob of the text."""
        ...

    async def describe(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolDescription: ...

    async def execute(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolResult: ...


@attrs.frozen
class FunctionTool:
    """A tool made from an async function; handy for embedding and tests.

    ``subject_arg`` names the argument that permission rules match on;
    ``subject_is_shell_command`` says that argument is a shell command line.
    """

    name: str
    description: str
    parameters: Mapping[str, Any] = attrs.field(converter=freeze_json)
    fn: Callable[[Mapping[str, Any], ToolContext], Awaitable[ToolResult | str]] = attrs.field(kw_only=True)
    safety: Safety = attrs.field(default=Safety.READ_ONLY, kw_only=True)
    kind: ToolKind = attrs.field(default=ToolKind.OTHER, kw_only=True)
    subject_arg: str | None = attrs.field(default=None, kw_only=True)
    subject_is_shell_command: bool = attrs.field(default=False, kw_only=True)

    def permission_subject(self, args: Mapping[str, Any]) -> str | None:
        if self.subject_arg is None:
            return None
        value = args.get(self.subject_arg)
        return None if value is None else str(value)

    async def describe(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolDescription:
        subject = self.permission_subject(args)
        return ToolDescription(title=f"{self.name} {subject}" if subject else self.name, kind=self.kind)

    async def execute(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        out = await self.fn(args, ctx)
        if out is None:
            return ToolResult.text("(no output)")
        return ToolResult.text(out) if isinstance(out, str) else out
