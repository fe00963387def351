"""``@file`` completion in ``agent chat``: one Tab over a 20,000-file workspace.

The index is built once in a worker thread (the cold walk is reported, not
budgeted: the chat starts it in the background) and a Tab answers from it:
prefix, file-name, substring and in-order-letters matches, each candidate
checked against the session's path deny rules. The budget is the median of a
Tab for several kinds of query.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

FILES = 20_000
DIRS = 200  # 100 files per folder, in two levels
RUNS = 30
COMPLETION_BUDGET_MS = 50.0  # one Tab, from the budget
QUERIES = {
    "prefix": "@pkg_07/mod_3",
    "file name": "@file_0042",
    "substring": "@le_004",
    "in-order letters (fuzzy)": "@p7m3f42",
}


def _tree(root: Path) -> None:
    per_dir = FILES // DIRS
    for d in range(DIRS):
        folder = root / f"pkg_{d // 20:02d}" / f"mod_{d % 20}"
        folder.mkdir(parents=True)
        for f in range(per_dir):
            (folder / f"file_{d * per_dir + f:05d}.py").touch()
    (root / ".gitignore").write_text("build/\n")
    (root / "build").mkdir()
    for f in range(1000):
        (root / "build" / f"out_{f}.o").touch()  # ignored: never indexed


def run() -> list[tuple[str, str, str, str]]:
    from agentcore.permissions import DefaultPermissionGate, Rule, RuleAction
    from agentcore.tools import Workspace
    from agentcore.cli.mention_complete import FileIndex, MentionCompleter

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _tree(root)
        workspace = Workspace(root)
        gate = DefaultPermissionGate(rules=(Rule.parse("read_file(**/.env)", RuleAction.DENY),))
        index = FileIndex(workspace.cwd)
        start = time.perf_counter()
        index.build()
        walk_ms = (time.perf_counter() - start) * 1000
        assert sum(1 for p in index.paths if not p.endswith("/")) == FILES + 1  # and the .gitignore
        complete = MentionCompleter(
            index, denied=lambda p: gate.path_denied(p, workspace) is not None, refresh=lambda: None
        )
        rows.append(("mentions", f"index walk, {FILES:,} files (background, once per {index.max_age_s:g} s)",
                     f"{walk_ms:.0f} ms", "-"))  # fmt: skip
        for label, query in QUERIES.items():
            assert complete(f"look at {query}"), label
            times = []
            for _ in range(RUNS):
                start = time.perf_counter()
                complete(f"look at {query}")
                times.append((time.perf_counter() - start) * 1000)
            rows.append(("mentions", f"Tab after {query} ({label}), median", f"{statistics.median(times):.1f} ms",
                         f"≤ {COMPLETION_BUDGET_MS:g} ms"))  # fmt: skip
    return rows
