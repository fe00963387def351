"""Walking a tree the way ripgrep does: ``.gitignore`` respected, ``.git`` skipped.

The rules mirror ``rg --hidden --no-require-git --no-ignore-dot
--no-ignore-global --no-ignore-exclude`` so the pure-Python fallback lists
exactly the files ripgrep would:

* every ``.gitignore`` in the tree applies to its own directory and below,
  the deeper file winning, and the last matching line within a file winning
  (``!negation`` included);
* ``.gitignore`` files in the directories *above* the search root apply too,
  up to and including the first one that contains ``.git`` (the repository root);
* an ignored directory is not entered, so nothing inside it can be re-included
  (the same rule git has);
* hidden files are included; symbolic links are not followed (a link could
  lead outside the workspace);
* results sort by path components, so ``a/b`` comes before ``a-c``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pathspec

GITIGNORE = ".gitignore"
GIT_DIR = ".git"


@attrs.frozen
class _Level:
    """One ``.gitignore``; ``prefix`` turns a root-relative path into one
    relative to the directory holding the file."""

    prefix: str
    spec: pathspec.GitIgnoreSpec


def sort_key(rel: str) -> tuple[str, ...]:
    return tuple(rel.split("/"))


def _load(directory: Path) -> pathspec.GitIgnoreSpec | None:
    try:
        text = (directory / GITIGNORE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    spec = pathspec.GitIgnoreSpec.from_lines(text.splitlines())
    return spec if len(spec.patterns) else None


def _parent_levels(root: Path) -> list[_Level]:
    if (root / GIT_DIR).exists():
        return []
    levels: list[_Level] = []
    for ancestor in root.parents:
        spec = _load(ancestor)
        if spec is not None:
            prefix = root.relative_to(ancestor).as_posix() + "/"
            # The search root was asked for explicitly, so like ripgrep a
            # pattern that ignores it or a directory above it does not hide
            # what is inside (pathspec would extend it to every descendant).
            parts = prefix.rstrip("/").split("/")
            dirs = ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
            kept = [p for p in spec.patterns if not any(p.match_file(d) for d in dirs)]
            if kept:
                levels.append(_Level(prefix, pathspec.GitIgnoreSpec(kept)))
        if (ancestor / GIT_DIR).exists():
            break
    levels.reverse()  # shallowest first, like the levels found while walking
    return levels


def _ignored(levels: list[_Level], rel: str) -> bool:
    for level in reversed(levels):  # the deepest .gitignore decides first
        include = level.spec.check_file(level.prefix + rel).include
        if include is not None:
            return include
    return False


def walk_files(
    root: Path, *, override: Override | None = None, should_stop: Callable[[], bool] = lambda: False
) -> Iterator[str]:
    """Yield the root-relative POSIX paths of the files under ``root`` that are
    not ignored, in no particular order (callers sort with :func:`sort_key`).
    ``override`` is a :func:`glob_override` consulted before the ignore rules."""
    stack: list[tuple[Path, str, list[_Level]]] = [(root, "", _parent_levels(root))]
    while stack:
        if should_stop():
            return
        directory, rel_dir, levels = stack.pop()
        try:
            with os.scandir(directory) as entries:
                found = list(entries)
        except OSError:
            continue  # unreadable directory: skipped, as ripgrep does
        if any(entry.name == GITIGNORE for entry in found):
            spec = _load(directory)
            if spec is not None:
                levels = [*levels, _Level("", spec)]
        for entry in found:
            name = entry.name
            if name == GIT_DIR or entry.is_symlink():
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            rel = f"{rel_dir}{name}"
            decision = None if override is None else override(rel, is_dir)
            if decision is None:
                decision = not (levels and _ignored(levels, name + "/" if is_dir else name))
            if not decision:
                continue
            if is_dir:
                stack.append((Path(entry.path), rel + "/", _descend(levels, name)))
            else:
                yield rel


def _descend(levels: list[_Level], name: str) -> list[_Level]:
    """Levels as seen from the child directory ``name``: prefixes grow by it."""
    return [_Level(f"{level.prefix}{name}/", level.spec) for level in levels]


# ----------------------------------------------------------------- glob syntax


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """Compile a path glob: ``*`` and ``?`` stay within one path segment,
    ``**`` crosses directories, ``[abc]``/``[!abc]`` are classes and
    ``{a,b}`` alternatives (nesting allowed). Matches the whole path."""
    return re.compile(_translate(pattern.strip().removeprefix("./")) + r"\Z", re.DOTALL)


def _translate(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    depth = 0  # open { groups
    while i < n:
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] in ("!", "^") else i + 1)
            if end < 0:
                out.append(re.escape(c))
                i += 1
                continue
            body = pattern[i + 1 : end]
            if body[:1] in ("!", "^"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        elif c == "{":
            out.append("(?:")
            depth += 1
            i += 1
        elif c == "}" and depth:
            out.append(")")
            depth -= 1
            i += 1
        elif c == "," and depth:
            out.append("|")
            i += 1
        else:
            out.append(re.escape(c))
            i += 1
    out.extend(")" * depth)
    return "".join(out)


def expand_braces(pattern: str) -> list[str]:
    """``*.{ts,tsx}`` -> ``['*.ts', '*.tsx']`` (for gitignore-style globs)."""
    start = pattern.find("{")
    if start < 0:
        return [pattern]
    depth = 0
    for end in range(start, len(pattern)):
        if pattern[end] == "{":
            depth += 1
        elif pattern[end] == "}":
            depth -= 1
            if depth == 0:
                break
    else:
        return [pattern]
    body = pattern[start + 1 : end]
    options, depth, last = [], 0, 0
    for i, c in enumerate(body):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == "," and depth == 0:
            options.append(body[last:i])
            last = i + 1
    options.append(body[last:])
    head, tail = pattern[:start], pattern[end + 1 :]
    return [expanded for option in options for expanded in expand_braces(head + option + tail)]


Override = Callable[[str, bool], "bool | None"]


def glob_override(glob: str | None) -> Override | None:
    """ripgrep's ``-g`` rule as a function of (root-relative path, is_dir).

    The glob uses .gitignore syntax (no slash: any depth; a slash anchors it;
    ``!`` negates). Like ripgrep's overrides it *takes precedence over*
    .gitignore: True includes the path even if ignored, False excludes it, and
    None leaves the decision to the ignore rules. With a positive glob, files
    that do not match are excluded but directories are still entered.
    """
    if not glob:
        return None
    lines = expand_braces(glob)
    spec = pathspec.GitIgnoreSpec.from_lines(lines)
    has_whitelist = any(not line.startswith("!") for line in lines)

    def decide(rel: str, is_dir: bool) -> bool | None:
        include = spec.check_file(rel + "/" if is_dir else rel).include
        if include is None:
            return False if has_whitelist and not is_dir else None
        return include

    return decide
