"""The two search engines behind ``glob`` and ``grep``: ripgrep and pure Python.

Both produce the same values from the same rules (see :mod:`walk`): ripgrep
is run with flags that switch off every ignore source the Python walker does
not read, and both sort results by path components. ripgrep is faster by an
order of magnitude on big trees; Python needs nothing installed. The only
intended difference is the regex dialect at the edges: ripgrep refuses
look-around and backreferences, so in automatic mode such patterns are run by
Python instead.

Files whose contents a permission rule denies are left out by both engines
before anything is read, and counted (``GrepHits.skipped``). The count covers
every denied file the search would have walked, matching or not, so it says
nothing about what those files contain.
"""

from __future__ import annotations

import json
import re
import subprocess
from base64 import b64decode
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import trio

from agentcore.errors import ToolError
from agentcore.tools.walk import Override, glob_override, sort_key, walk_files

MAX_FILE_BYTES = 10 * 1024 * 1024  # larger files are skipped: logs and dumps, not code
COLLECT_CAP = 20_000  # matching lines gathered at most; far past what a model can read
RG_READ_BYTES = 64 * 1024
# Denied files also passed to ripgrep as exclusion globs, so it never reads them
# (their hits are dropped from its output in any case); past this many the
# command line would grow too long, and output filtering alone holds.
RG_EXCLUDE_GLOBS_MAX = 200

# A root-relative path -> True when a permission rule denies its contents.
DeniedFilter = Callable[[str], bool]


class SearchError(ToolError):
    """The search could not run: a bad pattern, or ripgrep failing."""


class RegexRejected(SearchError):
    """ripgrep's regex dialect refused the pattern (Python's may accept it)."""


@attrs.frozen
class GrepQuery:
    pattern: str
    case_insensitive: bool = False
    context: int = 0
    glob: str | None = None
    max_file_bytes: int = MAX_FILE_BYTES
    collect_cap: int = COLLECT_CAP


@attrs.frozen
class GrepLine:
    number: int
    text: str
    is_match: bool


@attrs.frozen
class GrepFile:
    path: str  # relative to the search root
    lines: tuple[GrepLine, ...]

    @property
    def match_count(self) -> int:
        return sum(1 for line in self.lines if line.is_match)


@attrs.frozen
class GrepHits:
    files: tuple[GrepFile, ...]
    capped: bool = False  # collection stopped at ``collect_cap`` matching lines
    skipped: int = 0  # files left unsearched because a permission rule denies their contents


def _finish(files: dict[str, list[GrepLine]], capped: bool, skipped: int = 0) -> GrepHits:
    ordered = sorted(files, key=sort_key)
    return GrepHits(
        tuple(GrepFile(p, tuple(sorted(files[p], key=lambda ln: ln.number))) for p in ordered), capped, skipped
    )


def without_denied(names: list[str], denied: DeniedFilter | None) -> tuple[list[str], int]:
    """``names`` minus the denied ones, and how many those were."""
    if denied is None:
        return names, 0
    kept = [name for name in names if not denied(name)]
    return kept, len(names) - len(kept)


# ---------------------------------------------------------------- pure Python


def python_files(
    root: Path, *, override: Override | None = None, should_stop: Callable[[], bool] = lambda: False
) -> list[str]:
    return sorted(walk_files(root, override=override, should_stop=should_stop), key=sort_key)


def compile_pattern(query: GrepQuery) -> re.Pattern[str]:
    flags = re.MULTILINE | (re.IGNORECASE if query.case_insensitive else 0)
    try:
        return re.compile(query.pattern, flags)
    except re.error as exc:
        raise SearchError(f"invalid regular expression {query.pattern!r}: {exc}") from None


def python_grep(
    target: Path,
    query: GrepQuery,
    *,
    should_stop: Callable[[], bool] = lambda: False,
    denied: DeniedFilter | None = None,
) -> GrepHits:
    """Search ``target`` (a directory under which files are walked, or one file).
    ``denied`` gets paths relative to that directory (or to the file's parent)."""
    rx = compile_pattern(query)
    if target.is_file():
        candidates = [target.name]
        base = target.parent
    else:
        candidates = python_files(target, override=glob_override(query.glob), should_stop=should_stop)
        base = target
    candidates, skipped = without_denied(candidates, denied)
    files: dict[str, list[GrepLine]] = {}
    total = 0
    for rel in candidates:
        if should_stop() or total >= query.collect_cap:
            break
        lines = _grep_file(base / rel, rx, query)
        if lines:
            kept: list[GrepLine] = []
            for line in lines:
                if line.is_match:
                    if total >= query.collect_cap:
                        break
                    total += 1
                kept.append(line)
            files[rel] = kept
    return _finish(files, capped=total >= query.collect_cap, skipped=skipped)


def _grep_file(path: Path, rx: re.Pattern[str], query: GrepQuery) -> list[GrepLine]:
    try:
        with path.open("rb") as f:
            data = f.read(query.max_file_bytes + 1)
    except OSError:
        return []
    if len(data) > query.max_file_bytes or b"\x00" in data:
        return []
    text = data.decode("utf-8", errors="replace")
    if rx.search(text) is None:  # one pass over the file rules most files out
        return []
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    matches = [i for i, line in enumerate(lines) if rx.search(line)]
    wanted: set[int] = set()
    for i in matches:
        wanted.update(range(max(0, i - query.context), min(len(lines), i + query.context + 1)))
    matched = set(matches)
    return [GrepLine(i + 1, lines[i].removesuffix("\r"), i in matched) for i in sorted(wanted)]


# ------------------------------------------------------------------- ripgrep

_RG_COMMON = (
    "--no-config",
    "--hidden",
    "--no-require-git",
    "--no-ignore-dot",
    "--no-ignore-global",
    "--no-ignore-exclude",
)
_RG_SKIP_GIT = ("--glob", "!.git")  # last, because later globs win in ripgrep


def _rg_text(value: dict[str, Any]) -> str:
    if "text" in value:
        return value["text"]
    return b64decode(value.get("bytes", "")).decode("utf-8", errors="replace")


async def _run_rg(args: list[str], cwd: Path, on_stdout: Callable[[bytes | bytearray], bool]) -> tuple[int | None, str]:
    """Run ripgrep, feeding stdout to ``on_stdout`` until it returns False.
    Returns the exit code (None when stopped early) and stderr."""
    proc = await trio.lowlevel.open_process(
        args, cwd=str(cwd), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    errors = bytearray()
    stopped = False
    try:
        async with trio.open_nursery() as nursery:

            async def read_stderr() -> None:
                assert proc.stderr is not None
                while chunk := await proc.stderr.receive_some(RG_READ_BYTES):
                    errors.extend(chunk)

            nursery.start_soon(read_stderr)
            while chunk := await proc.stdout.receive_some(RG_READ_BYTES):
                if not on_stdout(chunk):
                    stopped = True
                    proc.kill()
                    break
    finally:
        with trio.CancelScope(shield=True):
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
            await proc.stdout.aclose()
            await proc.stderr.aclose()
    return (None if stopped else proc.returncode), errors.decode("utf-8", errors="replace")


def _glob_literal(rel: str) -> str:
    """A root-anchored ripgrep glob matching exactly the path ``rel``."""
    return "/" + re.sub(r"([\\*?\[\]{}])", r"\\\1", rel)


async def ripgrep_files(rg: str, root: Path, *, glob: str | None = None) -> list[str]:
    buffer = bytearray()

    def collect(chunk: bytes | bytearray) -> bool:
        buffer.extend(chunk)
        return True

    args = [rg, "--files", "--null", *_RG_COMMON]
    if glob:
        args.extend(["--glob", glob])
    code, errors = await _run_rg([*args, *_RG_SKIP_GIT, "--", "."], root, collect)
    if code not in (0, 1) and not buffer:
        raise SearchError(f"ripgrep failed: {errors.strip()}")
    names = (p.decode("utf-8", errors="replace").removeprefix("./") for p in bytes(buffer).split(b"\0") if p)
    return sorted(names, key=sort_key)


async def _denied_names(rg: str, target: Path, query: GrepQuery, denied: DeniedFilter) -> set[str]:
    """The files a grep of ``target`` would walk that are denied (relative to its directory)."""
    names = [target.name] if target.is_file() else await ripgrep_files(rg, target, glob=query.glob)
    return {name for name in names if denied(name)}


async def ripgrep_grep(rg: str, target: Path, query: GrepQuery, *, denied: DeniedFilter | None = None) -> GrepHits:
    """Search ``target`` with ripgrep; ``denied`` as for :func:`python_grep`."""
    if target.is_file():
        cwd, where = target.parent, target.name
    else:
        cwd, where = target, "."
    skipped = await _denied_names(rg, target, query, denied) if denied is not None else set()
    if target.is_file() and skipped:
        return GrepHits((), skipped=1)
    args = [rg, "--json", *_RG_COMMON, "--max-filesize", str(query.max_file_bytes)]
    if query.glob:
        args.extend(["--glob", query.glob])  # ripgrep expands {a,b} itself
    if len(skipped) <= RG_EXCLUDE_GLOBS_MAX:
        for rel in sorted(skipped):  # after the user's glob: later globs win
            args.extend(["--glob", "!" + _glob_literal(rel)])
    args.extend(_RG_SKIP_GIT)
    if query.case_insensitive:
        args.append("--ignore-case")
    if query.context:
        args.extend(["--context", str(query.context)])
    args.extend(["--regexp", query.pattern, "--", where])

    files: dict[str, list[GrepLine]] = {}
    pending = bytearray()
    total = 0
    judged: dict[str, bool] = {}  # path -> denied; a file created after the listing is judged here

    def is_denied(rel: str) -> bool:
        if denied is None:
            return False
        if rel not in judged:
            judged[rel] = rel in skipped or denied(rel)
            if judged[rel]:
                skipped.add(rel)
        return judged[rel]

    def feed(chunk: bytes | bytearray) -> bool:
        nonlocal total
        pending.extend(chunk)
        *complete, rest = bytes(pending).split(b"\n")
        pending[:] = rest
        for raw in complete:
            if not raw:
                continue
            message = json.loads(raw)
            kind = message["type"]
            if kind not in ("match", "context"):
                continue
            data = message["data"]
            rel = _rg_text(data["path"]).removeprefix("./")
            if is_denied(rel):
                continue
            is_match = kind == "match"
            if is_match:
                if total >= query.collect_cap:
                    return False
                total += 1
            text = _rg_text(data["lines"]).removesuffix("\n").removesuffix("\r")
            files.setdefault(rel, []).append(GrepLine(data["line_number"], text, is_match))
        return True

    code, errors = await _run_rg(args, cwd, feed)
    if code == 2 and not files:
        message = errors.strip()
        if "regex parse error" in message or "error parsing regex" in message or "look-around" in message:
            raise RegexRejected(f"ripgrep rejected the pattern: {message}")
        raise SearchError(f"ripgrep failed: {message}")
    return _finish(files, capped=code is None, skipped=len(skipped))
