"""``write_file``: create or replace a whole file, keeping its line endings."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agentcore.messages import freeze_json
from agentcore.tools.backends import FsBackend, FsError
from agentcore.tools.base import DiffPreview, Location, Safety, ToolContext, ToolDescription, ToolKind, ToolResult
from agentcore.tools.common import BuiltinTool
from agentcore.tools.paths import path_subject, resolve_in_workspace
from agentcore.tools.textfile import LineEnding, detect_line_ending, to_lf, with_line_ending
from agentcore.tools.workspace import WorkspaceError

BOM = "\ufeff"

DESCRIPTION = """\
Create a file, or replace an existing file's entire content. Parent directories are created as needed.

Usage:
- To change part of an existing file, use `edit_file` instead: it is safer (it fails instead of \
silently dropping content) and far cheaper than resending the whole file.
- Before overwriting an existing file, read it with `read_file` so you don't lose content you haven't seen.
- `content` is the complete new file. Write it with plain "\\n" line breaks: an existing file's line \
endings (e.g. Windows CRLF) and UTF-8 byte-order mark are kept automatically.
- Do not create files nobody asked for (notes, summaries, README files) unless the task needs them.
"""


async def read_existing(fs: FsBackend, path: Path) -> str | None:
    """The current text of ``path``, or None when it does not exist."""
    stat = await fs.stat(path)
    if stat is None:
        return None
    if stat.is_dir:
        raise FsError(f"{path}: is a directory")
    return await fs.read_text(path)


class WriteFileTool(BuiltinTool):
    name = "write_file"
    description = DESCRIPTION
    safety = Safety.MUTATING
    kind = ToolKind.EDIT
    parameters = freeze_json(
        {
            "type": "object",
            "properties": {
                "path": {"type": "string", "minLength": 1, "description": "The file to write."},
                "content": {"type": "string", "description": "The complete new content of the file."},
            },
            "required": ["path", "content"],
            "additionalProperties": False,
        }
    )

    def permission_subject(self, args: Mapping[str, Any]) -> str | None:
        return path_subject(args)

    def title(self, args: Mapping[str, Any]) -> str:
        return f"Write {self.permission_subject(args) or 'file'}"

    async def describe(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolDescription:
        raw, content = args.get("path"), args.get("content")
        if not isinstance(raw, str) or not isinstance(content, str):
            return ToolDescription(title=self.title(args), kind=self.kind)
        try:
            path = resolve_in_workspace(ctx, raw)
            old = await read_existing(ctx.fs, path)
        except (WorkspaceError, FsError):
            return ToolDescription(title=self.title(args), kind=self.kind)
        diff = DiffPreview(str(path), None if old is None else to_lf(old), to_lf(content))
        return ToolDescription(title=self.title(args), kind=self.kind, locations=(Location(str(path)),), diff=diff)

    async def run(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        path = resolve_in_workspace(ctx, args["path"])
        shown = ctx.workspace.relative(path)
        content: str = args["content"]
        stat = await ctx.fs.stat(path)
        if stat is not None and stat.is_dir:
            return ToolResult.error(f"{shown} is a directory; give a file path.")
        old: str | None = None
        if stat is not None:
            try:
                old = await ctx.fs.read_text(path)
            except FsError:
                pass  # not UTF-8 text: replaced as a whole, there are no line endings to keep
        new = content
        if old is not None:
            new = with_line_ending(content, detect_line_ending(old))
            if old.startswith(BOM) and not new.startswith(BOM):
                new = BOM + new
        await ctx.fs.write_text(path, new)
        lines = to_lf(new).count("\n") + (0 if new.endswith("\n") or not new else 1)
        if stat is None:
            summary = f"Created {shown} ({lines:,} lines)."
        else:
            crlf = old is not None and detect_line_ending(old) is LineEnding.CRLF
            summary = f"Replaced {shown} ({lines:,} lines){' (kept CRLF line endings)' if crlf else ''}."
        return ToolResult.text(
            summary,
            diff=DiffPreview(str(path), None if old is None else to_lf(old), to_lf(new)),
            raw_output={"path": shown, "created": stat is None, "lines": lines},
        )
