"""The system prompt, rebuilt for every request so nothing in it is ever lost
to compaction: base -> environment -> AGENTS.md layers -> profile prompt.

AGENTS.md files are read from the repository root (nearest ``.git`` above the
cwd) down to the cwd, each under a heading naming its path, so a subproject's
instructions come after (and refine) the repository's; then the AGENTS.md at
the top of each additional workspace root, in the order given. Files are
re-read only when their modification time changes.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
from collections.abc import Sequence
from pathlib import Path

from agentcore.config.paths import GIT_DIR_NAME, nearest_ancestor_with
from agentcore.frontend import Frontend

AGENTS_FILE = "AGENTS.md"
LOOK_UP = object()  # "find the repository root yourself" (None means there is none)
AGENTS_MAX_CHARS = 64_000  # per file; a runaway AGENTS.md must not eat the context window

BASE_PROMPT = """\
You are agentcore, a capable software engineering agent. You work in the user's \
workspace through the tools you are given, and you finish what you start.

How to work:
- Understand before you change: read the relevant files and search the code first.
- Make focused, minimal changes that fit the existing style; keep the code working.
- Prefer the dedicated file tools (read_file, edit_file, write_file, glob, grep) over \
shell commands for reading and editing files.
- Use update_plan for multi-step work so the user can follow your progress.
- Verify your work (run the tests or the program) when you can.
- If a tool call is denied, do not retry it unchanged; adapt or ask the user.
- Be concise. Report what you did and anything the user must know; do not pad.
"""


def find_repo_root(cwd: Path) -> Path | None:
    """The nearest repository root (a folder holding ``.git``) at or above ``cwd``."""
    return nearest_ancestor_with(cwd, (GIT_DIR_NAME,))


_CACHE: dict[Path, tuple[int, str]] = {}


def _read_cached(path: Path) -> str | None:
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return None
    cached = _CACHE.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if len(text) > AGENTS_MAX_CHARS:
        text = text[:AGENTS_MAX_CHARS] + f"\n[... {path} was cut at {AGENTS_MAX_CHARS:,} characters ...]"
    _CACHE[path] = (mtime, text)
    return text


def agents_md_files(cwd: Path, *, repo: Path | None | object = LOOK_UP) -> list[Path]:
    """AGENTS.md paths from the repository root (or cwd) down to ``cwd``."""
    cwd = cwd.resolve()
    root = (find_repo_root(cwd) if repo is LOOK_UP else repo) or cwd
    chain = [cwd, *cwd.parents]
    dirs = list(reversed(chain[: chain.index(root) + 1]))
    return [d / AGENTS_FILE for d in dirs if (d / AGENTS_FILE).is_file()]


def load_project_prompt(
    cwd: Path, *, repo: Path | None | object = LOOK_UP, additional_dirs: Sequence[Path] = ()
) -> str:
    """Only the AGENTS.md layer (empty when there is none): cwd's chain, then each additional root's own file."""
    sections = []
    paths = agents_md_files(cwd, repo=repo)
    for root in additional_dirs:
        path = root.resolve() / AGENTS_FILE
        if path.is_file() and path not in paths:
            paths.append(path)
    for path in paths:
        text = _read_cached(path)
        if text and text.strip():
            sections.append(f"## Instructions from {path}\n\n{text.strip()}")
    if not sections:
        return ""
    return "# Project instructions (AGENTS.md)\n\n" + "\n\n".join(sections)


def environment_section(
    *,
    cwd: Path,
    frontend: Frontend,
    additional_dirs: Sequence[Path] = (),
    today: dt.date | None = None,
    repo: Path | None | object = LOOK_UP,
) -> str:
    today = today or dt.date.today()
    if repo is LOOK_UP:
        repo = find_repo_root(cwd)
    lines = [
        "# Environment",
        f"- Interface: {frontend.describe()}",
        f"- Operating system: {platform.system()} {platform.release()}",
        f"- Working directory: {cwd}",
        f"- Date: {today.isoformat()}",
        f"- Shell: {os.environ.get('SHELL', '/bin/sh')}",
    ]
    if additional_dirs:
        lines.append("- Additional directories: " + ", ".join(str(d) for d in additional_dirs))
    if repo is not None:
        lines.append(f"- Git repository root: {repo}")
    return "\n".join(lines)


def resolve_system_prompt(
    *,
    cwd: Path,
    frontend: Frontend,
    profile_prompt: str = "",
    inherit_project_prompt: bool = True,
    additional_dirs: Sequence[Path] = (),
    extra_sections: Sequence[str] = (),
    base: str = BASE_PROMPT,
    today: dt.date | None = None,
) -> str:
    repo = find_repo_root(cwd)  # once per prompt: both sections need it
    env = environment_section(cwd=cwd, frontend=frontend, additional_dirs=additional_dirs, today=today, repo=repo)
    parts = [base.strip(), env]
    if inherit_project_prompt:
        project = load_project_prompt(cwd, repo=repo, additional_dirs=additional_dirs)
        if project:
            parts.append(project)
    parts.extend(s.strip() for s in extra_sections if s.strip())
    if profile_prompt.strip():
        parts.append(profile_prompt.strip())
    return "\n\n".join(parts) + "\n"
