"""Checkpoint budgets: snapshot a 5,000-file workspace before a turn, rewind a turn.

``python -m bench checkpoints``. The workspace is a git repository of 5,000
files (~1 KB each, 50 folders). "Before a turn" is the workspace scan a shell
call costs when the session has snapshotted before (the private index caches
every unchanged file's stat, the usual case); the first scan of a session,
which stores every blob once, is shown beside it, and so is what the first
call that changes files waits for when the first prompt has warmed the store
while a (fast, 300 ms) model replied. "Rewind" restores a turn
that edited 50 files and created 10 (log read, current-state check, blob
reads, writes), through the same code ``/rewind`` runs.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from agentcore.checkpoints.gitstore import PrivateGitStore
from agentcore.checkpoints.records import CallRecord, CheckpointLog
from agentcore.checkpoints.rewind import Checkpoints
from agentcore.messages import TextBlock, UserMessage

AREA = "checkpoints"
FILES = 5_000
FOLDERS = 50
SNAPSHOT_BUDGET_MS = 150.0
REWIND_BUDGET_MS = 300.0
RUNS = 7  # medians of this many
MODEL_REPLY_S = 0.3  # a fast model's time to its first tool call
EDITED = 50  # files a rewound turn changed
CREATED = 10  # files it created


def _workspace(root: Path) -> Path:
    work = root / "work"
    for d in range(FOLDERS):
        folder = work / f"pkg{d}"
        folder.mkdir(parents=True)
        for f in range(FILES // FOLDERS):
            (folder / f"mod{f}.py").write_text(f"# module {d}.{f}\n" + "x = 1\n" * 150)
    env = {"PATH": "/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(root), "GIT_AUTHOR_NAME": "b",
           "GIT_AUTHOR_EMAIL": "b@example.com", "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.com"}  # fmt: skip
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=work, env=env, check=True, capture_output=True)
    return work


def _ms(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def run() -> list[tuple[str, str, str, str]]:
    root = Path(tempfile.mkdtemp(prefix="bench-checkpoints-"))
    try:
        work = _workspace(root)
        cold, warm, rewind = [], [], []
        for i in range(RUNS):
            store = PrivateGitStore(root / f"store{i}", work)
            cold.append(_ms(store.snapshot_workspace))
            warm.append(_ms(store.snapshot_workspace))
        # The session's first prompt warms the store in a worker while the model thinks
        # (TurnCheckpointer._warm); the first call that changes files then waits for
        # what is left of that scan plus its own warm scan.
        first_call = []
        for i in range(RUNS):
            store = PrivateGitStore(root / f"first{i}", work)
            warmer = threading.Thread(target=store.snapshot_workspace)
            warmer.start()
            time.sleep(MODEL_REPLY_S)  # the model's first reply (time to first tool call)
            start = time.perf_counter()
            warmer.join()
            store.snapshot_workspace()
            first_call.append((time.perf_counter() - start) * 1000)
        store = PrivateGitStore(root / "rewind", work)
        log = CheckpointLog(root / "rewind")
        prompt = UserMessage((TextBlock("edit many files"),))
        for _ in range(RUNS):
            before = store.snapshot_workspace()
            edited = [work / f"pkg{n % FOLDERS}" / f"mod{n}.py" for n in range(EDITED)]
            for path in edited:
                path.write_text(path.read_text() + "y = 2\n")
            for n in range(CREATED):
                (work / f"new{n}.txt").write_text("created by the turn\n")
            after = store.snapshot_workspace()
            log.append(CallRecord("turn_b", prompt.id, "edit many files", "bash", 0.0, tuple(store.changes(before.tree, after.tree))))
            checkpoints = Checkpoints(root / "rewind", work)
            rewind.append(_ms(lambda: checkpoints.restore_code([prompt], 1, refuse=None)))
            log.path.unlink()
            assert not (work / "new0.txt").exists()
        return [
            (AREA, f"checkpoint before a turn, {FILES} files (median)", f"{statistics.median(warm):.1f} ms", f"≤ {SNAPSHOT_BUDGET_MS:.0f} ms"),
            (AREA, "first checkpoint of a session (stores every blob)", f"{statistics.median(cold):.1f} ms", ""),
            (AREA, f"first call's checkpoint, model reply {MODEL_REPLY_S * 1000:.0f} ms (store warmed meanwhile)", f"{statistics.median(first_call):.1f} ms", f"≤ {SNAPSHOT_BUDGET_MS:.0f} ms"),
            (AREA, f"rewind a turn ({EDITED} edited, {CREATED} created)", f"{statistics.median(rewind):.1f} ms", f"≤ {REWIND_BUDGET_MS:.0f} ms"),
        ]
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    for row in run():
        print(*row, sep="  ")
