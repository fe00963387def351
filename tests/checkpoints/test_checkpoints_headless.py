"""Checkpoints end to end through real `agent` processes and a loopback model:
a turn edits files with write_file/edit_file and with the shell (a real bash
process); `agent rewind --turn 1 --json` puts every file back byte for byte
(modes too), deletes what the session created, leaves a file the user changed
since alone, never touches the user's git state, and forks the conversation
(the original stays listed). Works in a folder that is not a git repository."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from checkpoint_support import (
    agent, agent_env, files_of, git, git_env, git_fingerprint, text_reply, tool_reply, trust,
)
from fakes.llm_server import FakeServer


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    env = git_env(tmp_path)
    git(work, env, "init", "-q", "-b", "main")
    (work / "a.txt").write_bytes(b"line one\r\nline two\n\x00binary tail")
    (work / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (work / "run.sh").chmod(0o755)
    (work / "gone.txt").write_text("the shell deletes me\n")
    (work / ".gitignore").write_text("build/\n")
    (work / "build").mkdir()
    (work / "build" / "out.o").write_bytes(b"ignored artefact")
    git(work, env, "add", "-A")
    git(work, env, "commit", "-qm", "init")
    git(work, env, "branch", "feature")
    (work / "a.txt").write_bytes(b"stashed edit\n")
    git(work, env, "stash", "-q")
    (work / "staged.txt").write_text("staged, not committed\n")
    git(work, env, "add", "staged.txt")
    (work / "untracked.txt").write_text("untracked\n")
    trust(tmp_path, work)
    return work


def script_turn(server: FakeServer) -> None:
    shell = "printf 'made by bash' > new.txt && rm gone.txt && chmod -x run.sh && echo more >> untracked.txt"
    server.enqueue(
        tool_reply("c1", "write_file", {"path": "a.txt", "content": "rewritten\n"}),
        tool_reply("c2", "edit_file", {"path": "staged.txt", "edits": [{"old_string": "staged", "new_string": "EDITED"}]}),
        tool_reply("c3", "bash", {"command": shell}),
        text_reply("done"),
    )


async def test_rewind_restores_tool_and_shell_edits_and_keeps_git_state(tmp_path, repo: Path, server: FakeServer) -> None:
    env = agent_env(tmp_path, server)
    genv = git_env(tmp_path)
    before_files = files_of(repo)
    before_git = git_fingerprint(repo, genv)
    script_turn(server)
    run = await agent(repo, env, "run", "-p", "change things", "--mode", "yolo", "--format", "json")
    assert run.returncode == 0, run.stderr.decode()
    sid = json.loads(run.stdout)["session_id"]
    assert (repo / "new.txt").read_bytes() == b"made by bash" and not (repo / "gone.txt").exists()
    assert (repo / "a.txt").read_text() == "rewritten\n"
    # a user edit to a file the session never touched, after the turn: must survive
    (repo / "mine.txt").write_text("the user's own file\n")

    listed = await agent(repo, env, "rewind", sid[:14], "--list", "--json")
    assert listed.returncode == 0, listed.stderr.decode()
    [row] = json.loads(listed.stdout)["turns"]
    assert row["turn"] == 1 and row["prompt"] == "change things"
    assert set(row["files"]) == {"a.txt", "staged.txt", "new.txt", "gone.txt", "run.sh", "untracked.txt"}

    done = await agent(repo, env, "rewind", sid[:14], "--turn", "1", "--json")
    assert done.returncode == 0, done.stderr.decode()
    result = json.loads(done.stdout)
    assert result["deleted"] == ["new.txt"] and result["kept"] == []
    after = files_of(repo)
    assert after.pop("mine.txt")[0] == b"the user's own file\n"
    assert after == before_files  # bytes and modes, the ignored build output included
    (repo / "mine.txt").unlink()
    assert git_fingerprint(repo, genv) == before_git

    fork = result["sessionId"]
    assert fork and fork != sid
    sessions = await agent(repo, env, "sessions", "list", "--json")
    ids = {json.loads(line)["id"] for line in sessions.stdout.decode().splitlines()}
    assert {sid, fork} <= ids
    journal = (tmp_path / "home").rglob(f"{fork}/journal.jsonl")
    fork_record = [json.loads(line) for line in next(journal).read_text().splitlines()][1]
    assert fork_record["type"] == "fork" and fork_record["reason"] == "rewind" and fork_record["at"] == 0


async def test_a_file_changed_since_is_kept_and_a_plain_folder_works(tmp_path, server: FakeServer) -> None:
    work = tmp_path / "plain"
    work.mkdir()
    trust(tmp_path, work)
    (work / "notes.md").write_text("original notes\n")
    (work / "both.md").write_text("both start\n")
    env = agent_env(tmp_path, server)
    server.enqueue(
        tool_reply("c1", "bash", {"command": "echo agent >> notes.md && echo agent >> both.md && mkdir -p d && echo x > d/made.txt"}),
        text_reply("ok"),
    )
    run = await agent(work, env, "run", "-p", "edit notes", "--mode", "yolo", "--format", "json")
    assert run.returncode == 0, run.stderr.decode()
    sid = json.loads(run.stdout)["session_id"]
    (work / "both.md").write_text("the user rewrote this after the agent\n")

    done = await agent(work, env, "rewind", sid, "--turn", "1", "--code", "--json")
    assert done.returncode == 3, done.stderr.decode()
    result = json.loads(done.stdout)
    assert result["restored"] == ["notes.md"] and result["deleted"] == ["d/made.txt"]
    assert [k["path"] for k in result["kept"]] == ["both.md"] and result["sessionId"] is None
    assert (work / "notes.md").read_text() == "original notes\n"
    assert (work / "both.md").read_text() == "the user rewrote this after the agent\n"
    assert not (work / ".git").exists()  # the private store never lives in the workspace

    bad = await agent(work, env, "rewind", sid, "--turn", "7")
    assert bad.returncode == 1 and b"there is no turn 7" in bad.stderr and b"Traceback" not in bad.stderr
