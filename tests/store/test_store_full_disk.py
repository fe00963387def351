"""A full disk never destroys a session: a failed journal write is cut back to
the last whole record, the session stops saving and says so, nothing is ever
glued onto a torn line once space returns, and the journal still loads. A state
directory that cannot be written at start runs the session unsaved, in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from agentcore.store import JournalStore
from store_proc import spawn_child
from store_support import text, tool_call

AGENT = Path(sys.executable).parent / "agent"
FIRST_TURN = ["first prompt", "", "echo: hi", "The tool said hi."]


async def test_a_disk_that_fills_mid_turn_leaves_a_loadable_journal(store, server, state_dir, work, tmp_path):
    server.enqueue(tool_call("call_1", "echo", '{"text": "hi"}'), text("The tool said hi."),
                   text("an answer that does not fit on the disk " * 20), text("third answer"))
    child = await spawn_child(tmp_path, "fullsize", str(store.sessions_dir), str(state_dir), str(work), server.url)
    sid = (await child.wait_for_line("SESSION ")).split()[1]
    await child.wait_for_line("TURN1 DONE")
    stopped = await child.wait_for_line("SAVING_STOPPED ")
    assert "cannot write" in stopped and "journal.jsonl" in stopped
    await child.wait_for_line("TURN3 DONE")  # the conversation went on
    assert await child.process.wait() == 0

    journal = store.sessions_dir / sid / "journal.jsonl"
    raw = journal.read_bytes()
    assert raw.endswith(b"\n")  # cut back to a record boundary, nothing glued on after space returned
    assert all(json.loads(line) for line in raw.splitlines())
    stored = JournalStore(store.sessions_dir).open_read_only(sid)
    assert [m.text for m in stored.snapshot.messages] == FIRST_TURN  # the unsaved turns are not half there
    assert "third prompt" not in raw.decode()


def test_agent_run_with_a_state_directory_it_cannot_write_answers_unsaved(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "state").mkdir(parents=True)
    (home / "state" / "sessions").write_text("not a directory")  # works as root too, unlike a chmod
    work = tmp_path / "work"
    work.mkdir()
    env = {"AGENTCORE_HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AGENTCORE_PROVIDER": "echo"}
    done = subprocess.run([str(AGENT), "run", "-p", "hello", "--format", "json"], cwd=work, env=env,
                          capture_output=True, timeout=60)
    stderr = done.stderr.decode()
    assert done.returncode == 8, stderr  # answered, but not saved
    assert "Traceback" not in stderr and "ExceptionGroup" not in stderr
    assert "will not be saved" in stderr and "cannot save sessions" in stderr
    result = json.loads(done.stdout)
    assert result["saved"] is False and result["text"]
