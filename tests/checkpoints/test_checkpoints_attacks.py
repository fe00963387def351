"""Attacks on checkpoints and rewind, through real `agent` processes.

* A cloned repository whose `.git/config` names programs (fsmonitor, pager,
  hooks, a clean filter, a textconv) and whose `.gitattributes` asks for line-end
  conversion: the private store never runs any of them and restores CRLF bytes
  exactly.
* Restore never follows a symlink: a parent directory swapped for a link to a
  folder outside, or a file swapped for a link to an outside file, leaves the
  outside untouched (even with --force).
* Paths a deny rule covers are never stored (so never restored); protected
  paths (.envrc, .agent/) the session changed are reported as kept, not written.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from agentcore.checkpoints.gitstore import blob_sha

from checkpoint_support import agent, agent_env, git, git_env, text_reply, tool_reply, trust
from fakes.llm_server import FakeServer


async def run_turn(work: Path, env: dict, server: FakeServer, *calls: tuple[str, dict]) -> str:
    server.enqueue(*(tool_reply(f"c{i}", name, args) for i, (name, args) in enumerate(calls)), text_reply("done"))
    run = await agent(work, env, "run", "-p", "do it", "--mode", "yolo", "--format", "json")
    assert run.returncode == 0, run.stderr.decode()
    return json.loads(run.stdout)["session_id"]


async def test_a_hostile_repository_config_runs_nothing_and_bytes_stay_exact(tmp_path: Path, server: FakeServer) -> None:
    work = tmp_path / "work"
    work.mkdir()
    genv = git_env(tmp_path)
    git(work, genv, "init", "-q")
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.sh"
    evil.write_text(f"#!/bin/sh\necho \"$0 $*\" >> {marker}\ncat\n")
    evil.chmod(0o755)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for name in ("pre-commit", "post-checkout", "post-index-change", "fsmonitor-watchman", "reference-transaction"):
        (hooks / name).write_text(evil.read_text())
        (hooks / name).chmod(0o755)
    with (work / ".git" / "config").open("a") as f:
        f.write(f"[core]\n\tfsmonitor = {evil}\n\tpager = {evil}\n\thooksPath = {hooks}\n\tautocrlf = true\n"
                f"[filter \"x\"]\n\tclean = {evil}\n\tsmudge = {evil}\n\trequired = true\n"
                f"[diff \"x\"]\n\ttextconv = {evil}\n")  # fmt: skip
    (work / ".gitattributes").write_text("* filter=x diff=x text eol=crlf\n")
    (work / "crlf.txt").write_bytes(b"one\r\ntwo\r\n")
    (work / "lf.txt").write_bytes(b"only lf\n")
    trust(tmp_path, work)
    env = agent_env(tmp_path, server)
    sid = await run_turn(work, env, server, ("bash", {"command": "printf 'x\\n' > crlf.txt && printf 'y\\r\\n' > lf.txt"}))
    done = await agent(work, env, "rewind", sid, "--turn", "1", "--code", "--json")
    assert done.returncode == 0, done.stderr.decode()
    assert sorted(json.loads(done.stdout)["restored"]) == ["crlf.txt", "lf.txt"]
    assert (work / "crlf.txt").read_bytes() == b"one\r\ntwo\r\n" and (work / "lf.txt").read_bytes() == b"only lf\n"
    assert not marker.exists(), marker.read_text()


async def test_restore_never_writes_through_a_symlink(tmp_path: Path, server: FakeServer) -> None:
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (work / "data.txt").write_text("original data\n")
    trust(tmp_path, work)
    env = agent_env(tmp_path, server)
    sid = await run_turn(work, env, server, ("write_file", {"path": "sub/new.txt", "content": "same\n"}),
                         ("write_file", {"path": "data.txt", "content": "same\n"}))  # fmt: skip
    # Someone swaps the folder and the file for links to the outside, with the bytes the session left.
    (work / "sub" / "new.txt").unlink()
    (work / "sub").rmdir()
    (work / "sub").symlink_to(outside)
    (outside / "new.txt").write_text("same\n")
    (outside / "target.txt").write_text("same\n")
    (work / "data.txt").unlink()
    (work / "data.txt").symlink_to(outside / "target.txt")

    done = await agent(work, env, "rewind", sid, "--turn", "1", "--code", "--force", "--json")
    result = json.loads(done.stdout)
    assert [k["path"] for k in result["kept"]] == ["sub/new.txt"], result
    assert result["restored"] == ["data.txt"]
    assert (outside / "new.txt").read_text() == "same\n" and (outside / "target.txt").read_text() == "same\n"
    assert not (work / "data.txt").is_symlink() and (work / "data.txt").read_text() == "original data\n"


async def test_denied_paths_are_never_stored_and_protected_paths_never_written(tmp_path: Path, server: FakeServer) -> None:
    work = tmp_path / "work"
    (work / ".agent").mkdir(parents=True)
    (work / ".agent" / "config.toml").write_text('[permissions]\ndeny = ["read_file(private/**)"]\n')
    (work / "private").mkdir()
    (work / "private" / "key.txt").write_text("secret v1\n")
    (work / ".envrc").write_text("export A=1\n")
    (work / "tool.sh").write_text("echo 'secret v2' > private/key.txt\necho 'export A=2' > .envrc\necho ok > plain.txt\n")
    trust(tmp_path, work)
    env = agent_env(tmp_path, server)
    sid = await run_turn(work, env, server, ("bash", {"command": "sh tool.sh"}))
    assert (work / "private" / "key.txt").read_text() == "secret v2\n"
    listed = json.loads((await agent(work, env, "rewind", sid, "--list", "--json")).stdout)
    assert set(listed["turns"][0]["files"]) == {".envrc", "plain.txt"}  # the denied file was never stored

    done = await agent(work, env, "rewind", sid, "--turn", "1", "--code", "--json")
    assert done.returncode == 3
    result = json.loads(done.stdout)
    assert result["deleted"] == ["plain.txt"]
    assert [k["path"] for k in result["kept"]] == [".envrc"] and "protected" in result["kept"][0]["reason"]
    assert (work / ".envrc").read_text() == "export A=2\n" and (work / "private" / "key.txt").read_text() == "secret v2\n"
    store = next((tmp_path / "home").rglob(f"{sid}/checkpoints"))
    genv = {**git_env(tmp_path), "GIT_DIR": str(store / "objects.git")}
    for content in (b"secret v1\n", b"secret v2\n"):
        missing = subprocess.run(["git", "cat-file", "-e", blob_sha(content)], env=genv, capture_output=True)
        assert missing.returncode != 0  # neither version of the denied file is in the store
    present = subprocess.run(["git", "cat-file", "-e", blob_sha(b"export A=1\n")], env=genv, capture_output=True)
    assert present.returncode == 0  # (the check can see stored blobs)
    assert "private" not in (store / "checkpoints.jsonl").read_text()
