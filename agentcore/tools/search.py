"""``glob`` and ``grep``: find files by name and lines by content.

Both respect ``.gitignore`` and run on ripgrep when it is installed, on pure
Python otherwise, with the same results (see :mod:`search_engine`).
Output is sorted by path, so the same tree always gives the same answer.
Files whose contents a permission rule denies (``ToolContext.path_denied``,
e.g. ``read_file(**/.env)``) are neither listed nor searched; the result says
how many were skipped.
"""

from __future__ import annotations

import enum
import re
import shutil
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import trio

from agentcore.messages import freeze_json
from agentcore.tools.base import Safety, ToolContext, ToolKind, ToolResult
from agentcore.tools.common import BuiltinTool
from agentcore.tools.paths import path_subject, resolve_in_workspace
from agentcore.tools.search_engine import (
    DeniedFilter,
    GrepFile,
    GrepHits,
    GrepQuery,
    RegexRejected,
    SearchError,
    python_files,
    python_grep,
    ripgrep_files,
    ripgrep_grep,
    without_denied,
)
from agentcore.tools.spill import cut_head_tail
from agentcore.tools.walk import glob_to_regex

GLOB_MAX_RESULTS = 500  # paths listed; more is noise, narrowing the pattern is better
GREP_DEFAULT_RESULTS = 200  # matching lines shown unless the model asks for more
GREP_MAX_RESULTS = 2000  # hard ceiling for max_results
GREP_MAX_CONTEXT = 10  # lines of context either side
GREP_LINE_CHARS = 500  # characters shown of one matching line (minified files)
SEARCH_OUTPUT_CHARS = 30_000  # whole result; the rest is spilled to a file

T = TypeVar("T")


class SearchEngine(enum.Enum):
    AUTO = "auto"  # ripgrep when on PATH, else Python
    RIPGREP = "ripgrep"  # ripgrep or an error
    PYTHON = "python"  # never ripgrep


class _SearchTool(BuiltinTool):
    safety = Safety.READ_ONLY
    kind = ToolKind.SEARCH

    def __init__(self, *, engine: SearchEngine = SearchEngine.AUTO, rg_path: str | None = None) -> None:
        self._engine = engine
        self._rg_path = rg_path

    def permission_subject(self, args: Mapping[str, Any]) -> str | None:
        return path_subject(args, default=".")

    def ripgrep(self) -> str | None:
        """The ripgrep to use, None for Python; SearchError when forced but absent."""
        match self._engine:
            case SearchEngine.PYTHON:
                return None
            case SearchEngine.AUTO:
                return self._rg_path or shutil.which("rg")
            case SearchEngine.RIPGREP:
                found = self._rg_path or shutil.which("rg")
                if found is None:
                    raise SearchError("ripgrep (rg) is required by the configuration but is not on PATH")
                return found

    def _directory(self, args: Mapping[str, Any], ctx: ToolContext) -> tuple[Path, str]:
        path = resolve_in_workspace(ctx, args.get("path") or ".")
        shown = ctx.workspace.relative(path)
        return path, "" if shown == "." else shown.rstrip("/") + "/"


def denied_under(ctx: ToolContext, base: Path) -> DeniedFilter | None:
    """Paths relative to ``base`` (resolved; the walkers follow no symlinks, so
    ``base / rel`` is resolved too) -> True when their contents are denied."""
    path_denied = ctx.path_denied
    if path_denied is None:
        return None
    return lambda rel: path_denied(base / rel) is not None


def skipped_note(count: int) -> str:
    """The line telling the model that denied files were left out, or ""."""
    if count == 0:
        return ""
    if count == 1:
        return "1 file was skipped: a permission rule denies it."
    return f"{count:,} files were skipped: a permission rule denies them."


def _with_note(text: str, skipped: int) -> str:
    note = skipped_note(skipped)
    return f"{text}\n\n[{note}]" if note else text


async def _in_thread(fn: Callable[[Callable[[], bool]], T]) -> T:
    """Run blocking search work in a thread; on cancellation ask it to stop and
    return at once rather than waiting for it."""
    stop = threading.Event()
    try:
        return await trio.to_thread.run_sync(fn, stop.is_set, abandon_on_cancel=True)
    finally:
        stop.set()


GLOB_DESCRIPTION = f"""\
Find files by name with a glob pattern. Returns matching file paths (relative to the workspace \
root), sorted by path. Files ignored by .gitignore and the .git directory are skipped.

Usage:
- Use this to find files by name or extension; to find files by their content, use `grep`.
- Pattern syntax: `*` matches within one directory level, `**` matches any number of levels, \
`?` one character, `[abc]` a character class, `{{a,b}}` alternatives. The pattern is matched \
against the whole path relative to `path`, so `*.py` only matches files directly in `path`; \
use `**/*.py` to search all subdirectories.
- Examples: `**/*.py`, `src/**/*.{{ts,tsx}}`, `**/test_*.py`, `**/Dockerfile`, `docs/*.md`.
- `path` (default: the workspace root) is the directory to search in.
- At most {GLOB_MAX_RESULTS} paths are listed; when there are more, the result says how many \
and you should narrow the pattern or the path.
- Only files are listed, not directories.
"""


class GlobTool(_SearchTool):
    name = "glob"
    description = GLOB_DESCRIPTION
    parameters = freeze_json(
        {
            "type": "object",
            "properties": {
                "pattern": {"type": "string", "minLength": 1, "description": "Glob pattern, e.g. `**/*.py`."},
                "path": {"type": "string", "description": "Directory to search in. Default: the workspace root."},
            },
            "required": ["pattern"],
            "additionalProperties": False,
        }
    )

    def title(self, args: Mapping[str, Any]) -> str:
        where = self.permission_subject(args)
        return f"Find {args.get('pattern', '')}" + ("" if where in (None, ".") else f" in {where}")

    async def run(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        root, prefix = self._directory(args, ctx)
        if not root.is_dir():
            return ToolResult.error(f"{prefix.rstrip('/') or '.'} is not a directory; glob searches directories.")
        pattern: str = args["pattern"]
        if pattern.startswith("/"):
            return ToolResult.error(
                "The pattern must be relative (e.g. `**/*.py`); put the directory to search in `path`."
            )
        try:
            rx = glob_to_regex(pattern)
        except re.error as exc:  # a malformed class such as [z-a]
            return ToolResult.error(f"Invalid glob pattern {pattern!r}: {exc}")
        try:
            rg = self.ripgrep()
            files = (
                await ripgrep_files(rg, root)
                if rg
                else await _in_thread(lambda stop: python_files(root, should_stop=stop))
            )
        except SearchError as exc:
            return ToolResult.error(str(exc))
        kept, skipped = without_denied([f for f in files if rx.match(f)], denied_under(ctx, root))
        matched = [prefix + f for f in kept]
        where = prefix.rstrip("/") or "the workspace root"
        if not matched:
            text = _with_note(f"No files match {pattern} in {where}.", skipped)
            return ToolResult.text(text, raw_output={"count": 0, "skipped": skipped})
        shown = matched[:GLOB_MAX_RESULTS]
        text = "\n".join(shown)
        if len(matched) > len(shown):
            text += (
                f"\n\n[Showing the first {len(shown)} of {len(matched):,} matching files. "
                "Narrow the pattern or the path to see the rest.]"
            )
        raw = {"count": len(matched), "truncated": len(matched) > len(shown), "skipped": skipped}
        return ToolResult.text(_with_note(text, skipped), raw_output=raw)


GREP_DESCRIPTION = f"""\
Search file contents with a regular expression. Returns matching lines grouped by file, each as \
`line_number:text` (context lines as `line_number-text`), files sorted by path. Files ignored by \
.gitignore, binary files and files over 10 MiB are skipped.

Usage:
- Use this instead of running `grep` or `rg` in bash.
- `pattern` is a regular expression (Rust/Python syntax, e.g. `def \\w+_handler`, `TODO|FIXME`, \
`import .* from ['"]react['"]`). Escape regex characters to search for literal text: \
`foo\\(` finds `foo(`, `\\.env` finds `.env`. Patterns match within one line.
- `path` is a directory (default: the workspace root) or a single file.
- `glob` limits which files are searched, with .gitignore syntax: `*.py` matches Python files at \
any depth, `src/**/*.ts` only under src, `*.{{ts,tsx}}` alternatives, `!*.min.js` excludes. Files \
matching `glob` are searched even if .gitignore would skip them (e.g. `*.log`).
- `context` adds that many lines before and after each match (max {GREP_MAX_CONTEXT}).
- `output_mode`: `content` (default) shows the lines; `files` lists only the matching files with \
their match counts, which is the cheap way to see where something is used.
- At most `max_results` matching lines are shown (default {GREP_DEFAULT_RESULTS}, max {GREP_MAX_RESULTS}); \
when there are more, the result gives the total so you can narrow the search.
- The line numbers work with `read_file`'s `offset` to read around a match.
"""


class GrepTool(_SearchTool):
    name = "grep"
    description = GREP_DESCRIPTION
    parameters = freeze_json(
        {
            "type": "object",
            "properties": {
                "pattern": {"type": "string", "minLength": 1, "description": "Regular expression to search for."},
                "path": {"type": "string", "description": "Directory or file to search. Default: the workspace root."},
                "glob": {"type": "string", "description": "Only search files matching this glob, e.g. `*.py`."},
                "case_insensitive": {"type": "boolean", "description": "Ignore case. Default false."},
                "context": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": GREP_MAX_CONTEXT,
                    "description": "Lines of context before and after each match. Default 0.",
                },
                "max_results": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": GREP_MAX_RESULTS,
                    "description": f"Maximum matching lines (or files) to show. Default {GREP_DEFAULT_RESULTS}.",
                },
                "output_mode": {
                    "type": "string",
                    "enum": ["content", "files"],
                    "description": "`content` (matching lines) or `files` (paths with match counts).",
                },
            },
            "required": ["pattern"],
            "additionalProperties": False,
        }
    )

    def title(self, args: Mapping[str, Any]) -> str:
        where = self.permission_subject(args)
        return f"Search /{args.get('pattern', '')}/" + ("" if where in (None, ".") else f" in {where}")

    async def search(self, target: Path, query: GrepQuery, *, denied: DeniedFilter | None = None) -> GrepHits:
        rg = self.ripgrep()
        if rg is not None:
            try:
                return await ripgrep_grep(rg, target, query, denied=denied)
            except RegexRejected:
                if self._engine is SearchEngine.RIPGREP:
                    raise
                # Look-around and backreferences: Python's dialect has them.
        return await _in_thread(lambda stop: python_grep(target, query, should_stop=stop, denied=denied))

    async def run(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        target, _ = self._directory(args, ctx)
        if not target.exists():
            return ToolResult.error(f"{ctx.workspace.relative(target)} does not exist.")
        base = target if target.is_dir() else target.parent
        shown_base = ctx.workspace.relative(base)
        prefix = "" if shown_base == "." else shown_base + "/"
        query = GrepQuery(
            pattern=args["pattern"],
            case_insensitive=bool(args.get("case_insensitive", False)),
            context=int(args.get("context", 0)),
            glob=args.get("glob") or None,
        )
        try:
            hits = await self.search(target, query, denied=denied_under(ctx, base))
        except SearchError as exc:
            return ToolResult.error(str(exc))
        limit = int(args.get("max_results", GREP_DEFAULT_RESULTS))
        mode = args.get("output_mode", "content")
        text = format_hits(hits, prefix, limit, context=query.context, files_only=mode == "files")
        if not hits.files:
            where = ctx.workspace.relative(target)
            text = f"No matches for /{query.pattern}/ in {'the workspace root' if where == '.' else where}."
        cut = cut_head_tail(_with_note(text, hits.skipped), SEARCH_OUTPUT_CHARS, spill_dir=ctx.spill_dir, label="grep")
        matches = sum(f.match_count for f in hits.files)
        raw = {"matches": matches, "files": len(hits.files), "skipped": hits.skipped}
        return ToolResult.text(cut.text, raw_output=raw)


def _clip(text: str) -> str:
    extra = len(text) - GREP_LINE_CHARS
    return text if extra <= 0 else f"{text[:GREP_LINE_CHARS]}... [+{extra:,} chars]"


def format_hits(hits: GrepHits, prefix: str, limit: int, *, context: int, files_only: bool) -> str:
    """Render hits: a block per file, or one ``path (count)`` line per file."""
    total = sum(f.match_count for f in hits.files)
    if files_only:
        rows = [f"{prefix}{f.path} ({f.match_count})" for f in hits.files[:limit]]
        shown_files, shown = len(rows), sum(f.match_count for f in hits.files[:limit])
        body = "\n".join(rows)
    else:
        blocks, shown, shown_files = _content_blocks(hits.files, prefix, limit, context)
        body = "\n\n".join(blocks)
    capped = "+" if hits.capped else ""
    header = f"Found {total:,}{capped} matching lines in {len(hits.files):,}{capped} files."
    if shown < total or hits.capped:
        header += (
            f" Showing {shown:,} lines in {shown_files:,} files; narrow the search (path, glob, a more "
            "specific pattern) or raise max_results to see more."
        )
    return f"{header}\n\n{body}"


def _content_blocks(files: tuple[GrepFile, ...], prefix: str, limit: int, context: int) -> tuple[list[str], int, int]:
    blocks: list[str] = []
    shown = 0
    for grep_file in files:
        if shown >= limit:
            break
        rows = [f"{prefix}{grep_file.path}"]
        previous: int | None = None
        last_match = 0
        for line in grep_file.lines:
            if shown >= limit and (line.is_match or line.number > last_match + context):
                break
            if previous is not None and line.number > previous + 1:
                rows.append("--")
            rows.append(f"{line.number}{':' if line.is_match else '-'}{_clip(line.text)}")
            previous = line.number
            if line.is_match:
                shown += 1
                last_match = line.number
        blocks.append("\n".join(rows))
    return blocks, shown, len(blocks)
