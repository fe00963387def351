"""``edit_file``: exact string replacements, all applied or none.

Matching happens on the file's text with CRLF normalised to LF (what
``read_file`` shows), and the result is written back with the file's own line
endings. A failed match is explained with the closest lines in the file, so
the model can fix its ``old_string`` without re-reading blindly.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from agentcore.messages import freeze_json
from agentcore.tools.args import validate_args
from agentcore.tools.backends import FsError
from agentcore.tools.base import DiffPreview, Location, Safety, ToolContext, ToolDescription, ToolKind, ToolResult
from agentcore.tools.common import BuiltinTool
from agentcore.tools.paths import path_subject, resolve_in_workspace
from agentcore.tools.spill import cut_head_tail
from agentcore.tools.textfile import LineEnding, detect_line_ending, to_lf, unified_diff, with_line_ending
from agentcore.tools.workspace import WorkspaceError

MAX_LOCATIONS_SHOWN = 10  # match positions listed for an ambiguous old_string
CANDIDATES_SHOWN = 3  # closest regions shown when old_string is not found
CANDIDATE_CUTOFF = 0.6  # difflib similarity below which a line is no candidate
DIFF_RESULT_CHARS = 20_000  # diff text returned to the model; the preview has it all
# read_file's line prefix ("    12\t"); models sometimes copy it into old_string.
_LINE_PREFIX = re.compile(r"^\s*\d+\t", re.MULTILINE)

DESCRIPTION = """\
Edit a file by replacing exact text. Each edit replaces `old_string` with `new_string`; \
several edits to one file go in one call and are applied in order, each to the result of the \
previous one. Either every edit applies or none does (the file is left untouched).

Usage:
- Read the file with `read_file` first, and copy `old_string` exactly from it: same \
indentation (tabs vs spaces), same line breaks. Do NOT include the line-number prefix that \
`read_file` adds (the number and the tab before each line).
- `old_string` must match exactly once. If it matches several places, add surrounding lines \
to make it unique, or set `replace_all` to true to change every occurrence (handy for renaming).
- Keep `old_string` small but unique: usually 2-6 lines around the change.
- Line endings are handled for you: match and write with plain "\\n"; a CRLF file stays CRLF.
- On failure nothing is written and the error shows the closest lines in the file or where the \
ambiguous matches are; fix `old_string` and retry.
- To create a new file or rewrite one completely, use `write_file`.
- The result shows the unified diff of what changed.
"""


@attrs.frozen
class EditFailure:
    message: str


@attrs.frozen
class EditOutcome:
    old_text: str  # LF-normalised
    new_text: str  # LF-normalised
    replacements: int


def apply_edits(text: str, edits: Sequence[Mapping[str, Any]]) -> EditOutcome | EditFailure:
    """Apply ``edits`` to LF text in order, or explain the first that fails."""
    current = text
    replacements = 0
    for index, edit in enumerate(edits):
        old, new = to_lf(edit["old_string"]), to_lf(edit["new_string"])
        label = f"edit {index + 1} of {len(edits)}" if len(edits) > 1 else "the edit"
        if not old:
            return EditFailure(f"{label}: old_string is empty. To create or rewrite a file, use write_file.")
        if old == new:
            return EditFailure(f"{label}: old_string and new_string are identical; nothing would change.")
        count = current.count(old)
        if count == 0:
            return EditFailure(f"{label}: old_string was not found in the file.\n{_closest(current, old)}")
        if count > 1 and not edit.get("replace_all", False):
            return EditFailure(f"{label}: {_ambiguous(current, old, count)}")
        current = current.replace(old, new) if edit.get("replace_all", False) else current.replace(old, new, 1)
        replacements += count if edit.get("replace_all", False) else 1
    return EditOutcome(text, current, replacements)


def _ambiguous(text: str, old: str, count: int) -> str:
    lines: list[int] = []
    start = text.find(old)
    while start >= 0 and len(lines) < MAX_LOCATIONS_SHOWN:
        lines.append(text.count("\n", 0, start) + 1)
        start = text.find(old, start + 1)
    where = ", ".join(str(n) for n in lines) + (", ..." if count > len(lines) else "")
    return (
        f"old_string matches {count} places (starting at lines {where}). Include more surrounding "
        "lines to make it unique, or set replace_all to true to replace every occurrence."
    )


def _closest(text: str, old: str) -> str:
    hints: list[str] = []
    if _LINE_PREFIX.search(old) and all(_LINE_PREFIX.match(ln) for ln in old.splitlines() if ln.strip()):
        hints.append("old_string seems to include read_file's line-number prefixes; remove them.")
    file_lines = text.splitlines()
    old_lines = old.splitlines() or [old]
    anchor = next((ln for ln in old_lines if ln.strip()), old_lines[0])
    anchor_at = old_lines.index(anchor)
    stripped = [ln.strip() for ln in file_lines]
    close = difflib.get_close_matches(anchor.strip(), stripped, n=CANDIDATES_SHOWN * 3, cutoff=CANDIDATE_CUTOFF)
    starts: list[int] = []
    for candidate in close:
        for i, line in enumerate(stripped):
            start = max(0, i - anchor_at)
            if line == candidate and start not in starts:
                starts.append(start)
        if len(starts) >= CANDIDATES_SHOWN:
            break

    # Rank the regions by how much of the whole old_string they resemble.
    def score(start: int) -> float:
        window = "\n".join(file_lines[start : start + len(old_lines)])
        return difflib.SequenceMatcher(None, window, old, autojunk=False).ratio()

    best = sorted(starts, key=score, reverse=True)[:CANDIDATES_SHOWN]
    if not best:
        hints.append("No similar lines found; re-read the file with read_file to see its current content.")
        return "\n".join(hints)
    parts = ["The most similar part(s) of the file (line numbers for reference only):"]
    for start in sorted(best):
        window = file_lines[start : start + len(old_lines)]
        parts.append("\n".join(f"{n:>6}\t{line}" for n, line in enumerate(window, start=start + 1)))
    hints.append("Check whitespace, indentation and exact spelling against these lines.")
    return "\n---\n".join(parts) + "\n" + "\n".join(hints)


@attrs.frozen
class _Plan:
    path: Path
    shown: str
    outcome: EditOutcome | EditFailure
    ending: LineEnding = LineEnding.LF


class EditFileTool(BuiltinTool):
    name = "edit_file"
    description = DESCRIPTION
    safety = Safety.MUTATING
    kind = ToolKind.EDIT
    parameters = freeze_json(
        {
            "type": "object",
            "properties": {
                "path": {"type": "string", "minLength": 1, "description": "The file to edit."},
                "edits": {
                    "type": "array",
                    "minItems": 1,
                    "description": "Replacements to apply in order; all succeed or none is applied.",
                    "items": {
                        "type": "object",
                        "properties": {
                            "old_string": {"type": "string", "description": "Exact text to find (no line numbers)."},
                            "new_string": {"type": "string", "description": "Text to put in its place."},
                            "replace_all": {
                                "type": "boolean",
                                "description": "Replace every occurrence, not exactly one. Default false.",
                            },
                        },
                        "required": ["old_string", "new_string"],
                        "additionalProperties": False,
                    },
                },
            },
            "required": ["path", "edits"],
            "additionalProperties": False,
        }
    )

    def permission_subject(self, args: Mapping[str, Any]) -> str | None:
        return path_subject(args)

    def title(self, args: Mapping[str, Any]) -> str:
        return f"Edit {self.permission_subject(args) or 'file'}"

    async def _plan(self, args: Mapping[str, Any], ctx: ToolContext) -> _Plan:
        path = resolve_in_workspace(ctx, args["path"])
        shown = ctx.workspace.relative(path)
        stat = await ctx.fs.stat(path)
        if stat is None:
            return _Plan(path, shown, EditFailure(f"{shown} does not exist. To create it, use write_file."))
        if stat.is_dir:
            return _Plan(path, shown, EditFailure(f"{shown} is a directory, not a file."))
        try:
            raw = await ctx.fs.read_text(path)
        except FsError as exc:
            return _Plan(path, shown, EditFailure(f"{exc}. edit_file only edits UTF-8 text files."))
        if "\x00" in raw:
            return _Plan(path, shown, EditFailure(f"{shown} is a binary file; edit_file only edits text."))
        return _Plan(path, shown, apply_edits(to_lf(raw), args["edits"]), detect_line_ending(raw))

    async def describe(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolDescription:
        plain = ToolDescription(title=self.title(args), kind=self.kind)
        if validate_args(self.parameters, args):  # describe runs before the executor's check
            return plain
        try:
            plan = await self._plan(args, ctx)
        except (WorkspaceError, FsError):
            return plain
        path, outcome = plan.path, plan.outcome
        if isinstance(outcome, EditFailure):
            return attrs.evolve(plain, locations=(Location(str(path)),))
        line = _first_changed_line(outcome.old_text, outcome.new_text)
        return attrs.evolve(
            plain,
            locations=(Location(str(path), line),),
            diff=DiffPreview(str(path), outcome.old_text, outcome.new_text),
        )

    async def run(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        plan = await self._plan(args, ctx)
        path, shown, outcome = plan.path, plan.shown, plan.outcome
        if isinstance(outcome, EditFailure):
            prefix = "No changes were made. " if len(args["edits"]) > 1 else ""
            return ToolResult.error(f"{prefix}{shown}: {outcome.message}")
        await ctx.fs.write_text(path, with_line_ending(outcome.new_text, plan.ending))
        diff = unified_diff(outcome.old_text, outcome.new_text, shown)
        cut = cut_head_tail(diff, DIFF_RESULT_CHARS, spill_dir=ctx.spill_dir, label="diff")
        edits = len(args["edits"])
        summary = f"Edited {shown}: {edits} edit{'s' if edits != 1 else ''}, {outcome.replacements} replacement(s)."
        return ToolResult.text(
            f"{summary}\n\n{cut.text}",
            diff=DiffPreview(str(path), outcome.old_text, outcome.new_text),
            raw_output={"path": shown, "replacements": outcome.replacements},
        )


def _first_changed_line(old: str, new: str) -> int:
    for n, (a, b) in enumerate(zip(old.splitlines(), new.splitlines(), strict=False), start=1):
        if a != b:
            return n
    return min(len(old.splitlines()), len(new.splitlines())) + 1
