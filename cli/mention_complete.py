"""Tab completion of ``@path`` mentions over the workspace's files.

Invariant: completion never blocks the prompt on a walk of the tree except the
very first time (when nothing is known yet); after that it answers from a
cached index of the files ``.gitignore`` does not hide (the same walk as
``grep``/``glob``) and a stale index is rebuilt in a worker thread while the
old one keeps answering. Names only, never contents; paths a deny rule covers
are left out. A match is ranked: the path starts with what was typed, then the
file name does, then the path contains it, then its letters appear in order.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import trio

from agentcore.tools import walk_files

INDEX_MAX_AGE_S = 5.0  # an index older than this is rebuilt (in the background) on the next Tab
COMPLETIONS_MAX = 50  # candidates offered at once; more typing narrows them
# The @word being typed at the cursor: an open quote may hold spaces (`@"my dir/no`).
MENTION_TOKEN = re.compile(r"""(?:(?<=\s)|^)@(?:"([^"\n]*)|([^\s"]*))$""")

Walk = Callable[[Path], Iterable[str]]


class FileIndex:
    """The workspace's file and directory paths (POSIX, relative), lower-cased beside them."""

    def __init__(self, root: Path, *, walk: Walk = walk_files, max_age_s: float = INDEX_MAX_AGE_S) -> None:
        self.root = root
        self._walk = walk
        self.max_age_s = max_age_s
        self.paths: list[str] = []
        self._lowered: list[str] = []
        self._names: list[str] = []  # lower-cased last component of each path
        self.built_at: float | None = None
        self._building = False

    def build(self) -> None:
        """Walk the tree now (blocking)."""
        files = list(self._walk(self.root))
        dirs: set[str] = set()
        for rel in files:
            parts = rel.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                dirs.add("/".join(parts[:depth]) + "/")
        paths = sorted([*files, *dirs], key=lambda p: (p.count("/") - p.endswith("/"), p))
        lowered = [p.lower() for p in paths]
        # One assignment each, so a reader on another thread never sees half an index.
        self.paths, self._lowered = paths, lowered
        self._names = [p.rstrip("/").rsplit("/", 1)[-1] for p in lowered]
        self.built_at = time.monotonic()

    @property
    def stale(self) -> bool:
        return self.built_at is None or time.monotonic() - self.built_at > self.max_age_s

    async def rebuild(self) -> None:
        """Rebuild in a worker thread unless a rebuild is already running."""
        if self._building:
            return
        self._building = True
        try:
            await trio.to_thread.run_sync(self.build, abandon_on_cancel=True)
        finally:
            self._building = False

    def matches(self, query: str, *, limit: int = COMPLETIONS_MAX) -> list[str]:
        """Paths for ``query``, best first."""
        q = query.lower()
        paths, lowered, names = self.paths, self._lowered, self._names
        if not q:
            return [p for p in paths if p.count("/") - p.endswith("/") == 0][:limit]
        ranks: tuple[list[str], list[str], list[str]] = ([], [], [])
        for path, low, name in zip(paths, lowered, names):
            if low.startswith(q):
                ranks[0].append(path)
            elif name.startswith(q):
                ranks[1].append(path)
            elif q in low:
                ranks[2].append(path)
        found = [*ranks[0], *ranks[1], *ranks[2]]
        if len(found) < limit:
            fuzzy = re.compile(".*?".join(map(re.escape, q)))
            seen = set(found)
            found += [p for p, low in zip(paths, lowered) if p not in seen and fuzzy.search(low)][: limit - len(found)]
        return found[:limit]


def _quoted(path: str) -> str:
    """A path with spaces in quotes; a folder's quote stays open so Tab can go on into it."""
    if " " not in path:
        return path
    return f'"{path}' if path.endswith("/") else f'"{path}"'


class MentionCompleter:
    """Completions for an ``@`` word at the end of the text before the cursor
    (whole replacements of that text, as the line editor wants them)."""

    def __init__(self, index: FileIndex, *, denied: Callable[[Path], bool], refresh: Callable[[], None]) -> None:
        self.index = index
        self._denied = denied
        self._refresh = refresh  # starts a background rebuild

    def __call__(self, before: str) -> Sequence[str]:
        match = MENTION_TOKEN.search(before)
        if match is None:
            return []
        if self.index.built_at is None:
            self.index.build()  # the first Tab waits for one walk; later ones never do
        elif self.index.stale:
            self._refresh()
        head = before[: match.start()]
        query = match.group(1) if match.group(1) is not None else match.group(2)
        options = []
        for path in self.index.matches(query):
            if self._denied(self.index.root / path.rstrip("/")):
                continue
            options.append(f"{head}@{_quoted(path)}")
        return options
