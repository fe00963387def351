"""``read_file``: one page of a text file with line numbers, or an image."""

from __future__ import annotations

import base64
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from pathlib import Path
from typing import Any

from agentcore.messages import ImageBlock, TextBlock, freeze_json
from agentcore.tools.backends import FsBackend, RangeReader
from agentcore.tools.base import Location, Safety, ToolContext, ToolDescription, ToolKind, ToolResult
from agentcore.tools.common import BuiltinTool
from agentcore.tools.paths import path_subject, resolve_in_workspace
from agentcore.tools.textfile import IMAGE_SUFFIXES, SNIFF_BYTES, Page, looks_binary, read_page, sniff_image

READ_MAX_LINES = 2000  # lines per page; enough for most source files in one call
READ_MAX_BYTES = 256 * 1024  # bytes per page; bounds one result to ~64k tokens
READ_MAX_LINE_CHARS = 2000  # characters kept of one line (minified files, data dumps)
IMAGE_MAX_BYTES = 5 * 1024 * 1024  # the smallest per-image limit among the big providers
READ_CHUNK_BYTES = 128 * 1024  # one ranged read; a first page usually needs one

DESCRIPTION = f"""\
Read a file in the workspace. Text comes back with line numbers in `cat -n` style \
(right-aligned number, a tab, then the line), numbered from 1.

Usage:
- Use this instead of `cat`, `head`, `tail` or `sed -n` in bash.
- `path` is relative to the workspace root (an absolute path inside the workspace works too).
- By default up to {READ_MAX_LINES} lines (and at most {READ_MAX_BYTES // 1024} KiB) are returned. When a file \
is longer the result ends with a note giving the `offset` to continue from. For large files, find the \
region first (e.g. with `grep`, which prints line numbers), then read just that part with `offset` and `limit`.
- Lines longer than {READ_MAX_LINE_CHARS} characters are shortened.
- The line-number prefix is not part of the file: never copy it into `edit_file`'s `old_string`.
- Images (PNG, JPEG, GIF, WebP) are returned as images you can look at.
- Binary files are refused, and so are directories (use `glob` to list files).
- When you will need several files, read them in parallel rather than one at a time.
"""


class ReadFileTool(BuiltinTool):
    name = "read_file"
    description = DESCRIPTION
    safety = Safety.READ_ONLY
    kind = ToolKind.READ
    parameters = freeze_json(
        {
            "type": "object",
            "properties": {
                "path": {"type": "string", "minLength": 1, "description": "The file to read."},
                "offset": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "1-based line number to start reading from. Default 1.",
                },
                "limit": {
                    "type": "integer",
                    "minimum": 1,
                    "description": f"Maximum number of lines to return. Default {READ_MAX_LINES}.",
                },
            },
            "required": ["path"],
            "additionalProperties": False,
        }
    )

    def __init__(
        self,
        *,
        max_lines: int = READ_MAX_LINES,
        max_bytes: int = READ_MAX_BYTES,
        max_line_chars: int = READ_MAX_LINE_CHARS,
        image_max_bytes: int = IMAGE_MAX_BYTES,
    ) -> None:
        self._max_lines = max_lines
        self._max_bytes = max_bytes
        self._max_line_chars = max_line_chars
        self._image_max_bytes = image_max_bytes

    def permission_subject(self, args: Mapping[str, Any]) -> str | None:
        return path_subject(args)

    def title(self, args: Mapping[str, Any]) -> str:
        subject = self.permission_subject(args) or "file"
        offset = args.get("offset")
        return f"Read {subject}" + (f" from line {offset}" if isinstance(offset, int) else "")

    async def describe(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolDescription:
        locations: tuple[Location, ...] = ()
        raw = args.get("path")
        if isinstance(raw, str) and ctx.workspace.contains(Path(raw)):
            offset = args.get("offset")
            line = offset if isinstance(offset, int) else 1
            locations = (Location(str(ctx.workspace.resolve(raw)), line),)
        return ToolDescription(title=self.title(args), kind=self.kind, locations=locations)

    async def run(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        path = resolve_in_workspace(ctx, args["path"], allow_spill=True)
        shown = ctx.workspace.relative(path)
        stat = await ctx.fs.stat(path)
        if stat is None:
            return ToolResult.error(f"{shown} does not exist. Use glob to find the right path.")
        if stat.is_dir:
            return ToolResult.error(f"{shown} is a directory, not a file. Use glob to list its files.")
        offset = int(args.get("offset", 1))
        limit = min(int(args.get("limit", self._max_lines)), self._max_lines)
        fs = ctx.fs
        if isinstance(fs, RangeReader):
            head = await fs.read_range(path, 0, SNIFF_BYTES)
            chunks = _ranged_chunks(fs, path, head)
        else:
            # Delegated backends give the editor's buffer (unsaved edits included).
            if path.suffix.lower() in IMAGE_SUFFIXES:
                head = await fs.read_bytes(path)
                chunks = _one_chunk(head)
            else:
                text = await fs.read_text(path)
                head = text[:SNIFF_BYTES].encode("utf-8", errors="replace")
                chunks = _one_chunk(text.encode("utf-8"))
        media_type = sniff_image(head)
        async with aclosing(chunks) as stream:
            if media_type is not None:
                return await self._image(fs, path, shown, media_type, stat.size)
            if looks_binary(head):
                return ToolResult.error(
                    f"{shown} is a binary file ({stat.size:,} bytes); read_file shows text only. "
                    "Inspect it with bash instead (e.g. `file`, or `xxd | head`)."
                )
            page = await read_page(
                stream, offset=offset, limit=limit, max_bytes=self._max_bytes, max_line_chars=self._max_line_chars
            )
        return self._format(page, shown, stat.size)

    async def _image(self, fs: FsBackend, path: Path, shown: str, media_type: str, size: int) -> ToolResult:
        if size > self._image_max_bytes:
            return ToolResult.error(
                f"{shown} is a {media_type} image of {size:,} bytes, over the {self._image_max_bytes:,}-byte "
                "limit for images. Make a smaller copy (e.g. with ImageMagick via bash) and read that."
            )
        data = await fs.read_bytes(path)
        return ToolResult(
            content=(
                TextBlock(f"Image {shown} ({media_type}, {len(data):,} bytes)"),
                ImageBlock(media_type, base64.b64encode(data).decode("ascii")),
            ),
            raw_output={"path": shown, "media_type": media_type, "bytes": len(data)},
        )

    def _format(self, page: Page, shown: str, size: int) -> ToolResult:
        if page.total_lines == 0:
            return ToolResult.text(f"[{shown} is empty.]")
        if not page.lines:
            return ToolResult.error(
                f"offset {page.first_line} is past the end of {shown}, which has {page.total_lines:,} lines."
            )
        width = max(6, len(str(page.first_line + len(page.lines))))
        body = "\n".join(f"{n:>{width}}\t{line}" for n, line in enumerate(page.lines, start=page.first_line))
        last = page.first_line + len(page.lines) - 1
        notes: list[str] = []
        if page.more:
            why = f"the {self._max_bytes // 1024} KiB page limit" if page.cut_by_bytes else "the line limit"
            notes.append(
                f"Showing lines {page.first_line}-{last} (stopped at {why}; the file is {size:,} bytes and continues). "
                f"To read more, call read_file with offset={last + 1}."
            )
        elif page.first_line > 1:
            notes.append(f"Showing lines {page.first_line}-{last} of {page.total_lines:,}.")
        if page.long_lines:
            notes.append(f"{page.long_lines} line(s) longer than {self._max_line_chars} characters were shortened.")
        if page.lossy:
            notes.append("The file is not valid UTF-8; undecodable bytes are shown as \ufffd.")
        text = body + "".join(f"\n\n[{note}]" for note in notes)
        return ToolResult.text(
            text,
            raw_output={"path": shown, "first_line": page.first_line, "last_line": last, "more": page.more},
        )


async def _ranged_chunks(fs: RangeReader, path: Path, head: bytes) -> AsyncGenerator[bytes, None]:
    yield head
    position = len(head)
    while len(head) == SNIFF_BYTES:  # a short head means the whole file was in it
        data = await fs.read_range(path, position, READ_CHUNK_BYTES)
        if not data:
            return
        yield data
        position += len(data)


async def _one_chunk(data: bytes) -> AsyncGenerator[bytes, None]:
    yield data
