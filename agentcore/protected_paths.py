"""Paths no permission mode may write on its own, and paths deny rules hide.

Two questions the permission gate asks about a file:

* :meth:`ProtectedPaths.reason` — is writing it a way to change what the
  agent or the user's shell will do next (the agent's own configuration, git
  internals and hooks, shell start-up files)? Such writes always ask, whatever
  the mode, unless a rule names the path explicitly.
* :func:`denied_by_patterns` / :func:`hard_link_denial` — does a path deny
  rule cover it, written relative to a workspace root or as an absolute path,
  or is it a hard link to a file a rule covers?

Both work on absolute, already symlink-resolved paths; only the hard-link
check does I/O, and only for files with more than one link.
"""

from __future__ import annotations

import functools
import os
import re
import stat
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs
import pathspec

from agentcore.shell_syntax import ShellAnalysis, WriteTarget, program_basename
from agentcore.tools.workspace import Workspace

# Directory and file names inside a workspace that steer the agent or git.
PROTECTED_COMPONENTS = frozenset({".agent", ".git"})
PROTECTED_NAMES = frozenset({".mcp.json", ".envrc"})
# Files in the home directory that run code when a shell, git or ssh starts.
HOME_STARTUP_FILES = (
    ".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile", ".zshrc", ".zshenv",
    ".zprofile", ".zlogin", ".zlogout", ".kshrc", ".mkshrc", ".inputrc", ".pam_environment", ".gitconfig",
)
HOME_STARTUP_DIRS = (".config/fish", ".config/git", ".config/environment.d", ".ssh")
# Writes to these are output, not files: never protected, never "outside".
DEVICE_SINKS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty"})
HARD_LINK_SCAN_ENTRIES = 20_000  # files looked at per hard-link walk; bounds the cost in a huge tree
HARD_LINK_CACHE_S = 2.0  # how long one walk's answer is reused: one search, not a session


@attrs.frozen
class ProtectedPaths:
    """Where writes always ask. ``home`` and ``user_config_dir`` are injected
    so tests (and embedders) never depend on the real home directory."""

    home: Path = attrs.field(factory=Path.home, converter=lambda p: Path(p).expanduser())
    user_config_dir: Path | None = attrs.field(default=None, converter=lambda p: None if p is None else Path(p))

    def reason(self, path: Path, workspace: Workspace | None) -> str | None:
        """Why writing ``path`` (absolute) must be confirmed; None when it needs not."""
        inside = _relative_to_roots(path, workspace)
        parts = inside.parts if inside is not None else path.parts
        # Lower case: on a case-insensitive file system (macOS, Windows) `.GIT/config` is `.git/config`.
        if PROTECTED_COMPONENTS.intersection(p.lower() for p in parts):
            return f"{path} is agent or git configuration"
        if path.name.lower() in PROTECTED_NAMES:
            return f"{path} configures the agent or the shell"
        text = str(path)
        files, folders = _home_places(str(self.home))
        if self.user_config_dir is not None and _under_text(text, str(self.user_config_dir)):
            return f"{path} is in the user configuration directory"
        if text in files or any(_under_text(text, folder) for folder in folders):
            return f"{path} runs when a shell, git or ssh starts"
        return None


@functools.lru_cache(maxsize=8)
def _home_places(home: str) -> tuple[frozenset[str], tuple[str, ...]]:
    base = Path(home)
    return frozenset(str(base / n) for n in HOME_STARTUP_FILES), tuple(str(base / d) for d in HOME_STARTUP_DIRS)


def _under_text(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def judge_writes(
    analysis: ShellAnalysis, workspace: Workspace | None, protected: ProtectedPaths
) -> tuple[str | None, str | None]:
    """(why a write must always ask, why a write is outside the workspace) for
    the files a command's redirections and ``tee`` write; None where fine.

    A write that cannot be resolved (an expansion in the path, or a relative
    path after a ``cd`` to somewhere unknown) might be protected, so it asks.
    """
    outside: str | None = None
    for target in analysis.writes:
        if target.known and is_device_sink(target.path):
            continue
        paths = _write_paths(target, workspace, analysis.directories, protected.home)
        if paths is None:
            return f"writes to {target.path!r}, a path only known when the command runs", None
        for path in paths:
            reason = protected.reason(path, workspace)
            if reason is not None:
                return f"writes {reason}", None
            if outside is None and _relative_to_roots(path, workspace) is None:
                outside = f"writes {path}, outside the workspace"
    return None, outside


def _write_paths(
    target: WriteTarget, workspace: Workspace | None, directories: Sequence[str], home: Path
) -> list[Path] | None:
    if not target.known:
        return None
    raw = Path(_expand_home(target.path, home))
    if raw.is_absolute():
        return [raw.resolve()]
    if workspace is None:
        return [Path("/", raw)]  # nothing is inside: outside, and protected only by its name
    if any(d == "" for d in directories):
        return None
    bases = [workspace.cwd, *(workspace.cwd / _expand_home(d, home) for d in directories)]
    return [(base / raw).resolve() for base in bases]


def _expand_home(text: str, home: Path) -> str:
    """``~`` and ``~/x`` as the session's home (the gate's, not this process's); ``~user`` as the system says."""
    if text == "~" or text.startswith("~/"):
        return str(home) + text[1:]
    return os.path.expanduser(text)


_FD_SINK = re.compile(r"/dev/fd/\d+")


def is_device_sink(path: str) -> bool:
    """Output streams, not files; ``/dev/fd/../..`` is a path like any other."""
    return path in DEVICE_SINKS or _FD_SINK.fullmatch(path) is not None


# Programs that only read the files they name: naming a protected path is fine.
READING_PROGRAMS = frozenset(
    "cat head tail less more grep egrep fgrep rg ag wc ls stat file diff cmp md5sum sha1sum sha256sum sha512sum "
    "b2sum cksum readlink realpath basename dirname test [ [[ echo printf cd pushd popd find tree du df jq bat "
    "nl tac od hexdump strings column".split()
)
# Pieces of a word that may be a path: split at quotes, white space, `=`, `:` and
# brackets, so a script (`sed 'w .git/config'`, `python -c "open('.git/x','w')"`)
# or an option (`--output=.git/config`, `-o.git/config`) gives up the path it names.
_PATH_PIECES = re.compile(r"[^\s'\"=:,;()<>|{}`]+")
_MENTION_HINT = re.compile(r"\.(git|agent|mcp\.json|envrc)|~|/|\.[a-z]*(rc|profile|login|logout|env|config)", re.I)


def judge_mentions(analysis: ShellAnalysis, workspace: Workspace | None, protected: ProtectedPaths) -> str | None:
    """Why a command that names a protected path, in any argument of a program
    that does not only read, must ask; None when none does.

    The backstop behind the write tables: a program this analysis knows nothing
    about (``curl -o``, ``sort -o``, ``git log --output``, an awk or sed script,
    ``ln -s .git/hooks h``) may write a file it names, so naming a protected
    path is taken as writing it. Literal text only: a path computed when the
    command runs is what the write checks and the sandbox are for.
    """
    bases = _mention_bases(workspace, analysis.directories, protected.home)
    for command in analysis.commands:
        if program_basename(command.program) in READING_PROGRAMS:
            continue
        for word in command.words[1:]:
            if not _MENTION_HINT.search(word):
                continue
            for piece in _pieces(word):
                raw = Path(_expand_home(piece, protected.home))
                for base in ([Path("/")] if raw.is_absolute() else bases):
                    reason = protected.reason(Path(os.path.normpath(base / raw)), workspace)
                    if reason is not None:
                        return f"names {reason}"
    return None


def _pieces(word: str) -> Iterator[str]:
    yield word
    if word.startswith("-") and not word.startswith("--") and len(word) > 2:
        yield word[2:]  # a glued short option value: -o.git/config
    yield from _PATH_PIECES.findall(word)


def _mention_bases(workspace: Workspace | None, directories: Sequence[str], home: Path) -> list[Path]:
    if workspace is None:
        return [Path("/")]
    return [workspace.cwd, *(workspace.cwd / _expand_home(d, home) for d in directories if d)]


def path_candidates(path: Path, workspace: Workspace | None) -> tuple[str, ...]:
    """The forms a path rule may be written against: relative to the workspace
    root that holds it, and absolute (without the leading slash, as pathspec wants)."""
    forms = [path.as_posix().lstrip("/")]
    inside = _relative_to_roots(path, workspace)
    if inside is not None and inside.parts:
        forms.insert(0, inside.as_posix())
    return tuple(forms)


def denied_by_patterns(path: Path, workspace: Workspace | None, specs: Sequence[pathspec.PathSpec]) -> int | None:
    """The index of the first spec matching ``path`` in any of its forms."""
    forms = path_candidates(path, workspace)
    for index, spec in enumerate(specs):
        if any(spec.match_file(form) for form in forms):
            return index
    return None


class HardLinkIndex:
    """Finds denied files that a path is a hard link to.

    Only a file with more than one link costs more than one ``stat``: then the
    workspace is walked once (bounded by :data:`HARD_LINK_SCAN_ENTRIES`) for the
    identities of the files the deny patterns match, and the answer is reused
    for :data:`HARD_LINK_CACHE_S`, so a search over many linked files (a pnpm
    store) walks once, not once per file.
    """

    def __init__(self) -> None:
        self._key: tuple[object, ...] | None = None
        self._expires = 0.0
        self._denied: dict[tuple[int, int], Path] = {}

    def denial(self, path: Path, workspace: Workspace | None, specs: Sequence[pathspec.PathSpec]) -> Path | None:
        """A denied file in the workspace that ``path`` is a hard link to, if any."""
        if workspace is None or not specs:
            return None
        try:
            info = path.stat()
        except OSError:
            return None
        if info.st_nlink <= 1 or not stat.S_ISREG(info.st_mode):
            return None
        linked = self._index(workspace, specs).get((info.st_dev, info.st_ino))
        return linked if linked is not None and linked != path else None

    def _index(self, workspace: Workspace, specs: Sequence[pathspec.PathSpec]) -> dict[tuple[int, int], Path]:
        key = (workspace.roots, tuple(id(s) for s in specs))
        now = time.monotonic()
        if key == self._key and now < self._expires:
            return self._denied
        denied: dict[tuple[int, int], Path] = {}
        for candidate in _bounded_files(workspace.roots):
            if denied_by_patterns(candidate, workspace, specs) is None:
                continue
            try:
                other = candidate.stat()
            except OSError:
                continue
            denied[(other.st_dev, other.st_ino)] = candidate
        self._key, self._expires, self._denied = key, now + HARD_LINK_CACHE_S, denied
        return denied


def _bounded_files(roots: Sequence[Path]) -> Iterator[Path]:
    seen = 0
    for root in roots:
        for folder, _dirs, files in os.walk(root):
            for name in files:
                seen += 1
                if seen > HARD_LINK_SCAN_ENTRIES:
                    return
                yield Path(folder) / name


def _relative_to_roots(path: Path, workspace: Workspace | None) -> Path | None:
    if workspace is None:
        return None
    text = str(path)
    for root in workspace.roots:
        if _under_text(text, str(root)):
            return path.relative_to(root)
    return None


def _under(path: Path, folder: Path) -> bool:
    return _under_text(str(path), str(folder))
