"""Closing a session stops its checkpoint store at once: a git still running (a
long first scan of a big folder) is killed, the lock it held on the store's own
index goes with it, and nothing touches the store afterwards — so deleting the
session right after never races a scan."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import trio

from agentcore.checkpoints.gitstore import CheckpointError, PrivateGitStore
from fakes.proc_util import wait_until


def _stuck_git(tmp_path: Path) -> Path:
    """A "git" that takes the index lock, says so, and never finishes."""
    script = tmp_path / "git"
    script.write_text(
        "#!/bin/sh\n"
        ': > "$GIT_INDEX_FILE.lock"\n'
        f': > "{tmp_path}/started"\n'
        "exec sleep 600\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


async def test_close_kills_a_running_scan_and_clears_its_index_lock(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    store = PrivateGitStore(tmp_path / "store", work, git=str(_stuck_git(tmp_path)))
    outcome: dict[str, BaseException] = {}

    async def scan() -> None:
        try:
            await trio.to_thread.run_sync(store.snapshot_workspace)
        except CheckpointError as exc:
            outcome["error"] = exc

    async with trio.open_nursery() as nursery:
        nursery.start_soon(scan)
        await wait_until(lambda: (tmp_path / "started").exists(), 30)
        assert (tmp_path / "store" / "index.lock").exists()
        store.close()
    assert "closed" in str(outcome["error"])
    assert not (tmp_path / "store" / "index.lock").exists()
    with pytest.raises(CheckpointError, match="closed"):  # and nothing runs afterwards
        store.snapshot_paths(["a.txt"])
