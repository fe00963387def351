"""Checkpoints in the PostgreSQL store: a tool call's file changes reach the
database (the record and the bytes of what it wrote), a second store object
over another state directory reads them back and rebuilds a fresh clone of the
workspace from them (what a job's new worker does), and a path a deny rule
covers never reaches the database, neither its name nor its bytes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg
from pg_support import MODEL, info, make_provider, text, tool_call

from agentcore import AgentCoreBuilder
from agentcore.jobs import workspace as ws
from agentcore.permissions import PermissionMode, Rule, RuleAction
from agentcore.session.base import SessionPolicy
from agentcore.store.pg import PgSessionStore

SECRET = "SECRET_TOKEN=do-not-copy-4242"
SCRIPT = f"mkdir -p src\nprintf 'print(1)\\n' > src/app.py\nchmod +x src/app.py\necho '{SECRET}' > .env\n"
COMMAND = "sh tool.sh"  # the deny rule would refuse a command naming .env; a script it cannot read through is the test


def build(store: PgSessionStore, provider, state_dir: Path):
    policy = SessionPolicy(mode=PermissionMode.YOLO, rules=(Rule.parse("read_file(**/.env)", RuleAction.DENY),))
    return (
        AgentCoreBuilder().with_provider(provider, MODEL).with_session_store(store).with_state_dir(state_dir)
        .with_policy(policy).build()
    )  # fmt: skip


async def test_checkpoints_reach_the_database_and_rebuild_a_workspace_elsewhere(
    pg_url, server, http_client, tmp_path, work
):
    (work / "README.md").write_text("a project\n")
    (work / "tool.sh").write_text(SCRIPT)
    fresh = tmp_path / "clone"
    shutil.copytree(work, fresh)  # the repository as a new worker clones it
    server.enqueue(tool_call("c1", "bash", json.dumps({"command": COMMAND})), text("done"))
    with PgSessionStore(pg_url) as store:
        core = build(store, make_provider(server, http_client), tmp_path / "state-a")
        async with core.open_session(info(work)) as session:
            await session.run_turn("write the app")
            assert session.checkpoints.problem is None
        sid = session.id
    assert (work / ".env").read_text() == SECRET + "\n"  # the tool ran; the file is only kept out of checkpoints

    with psycopg.connect(pg_url) as conn:
        records = [r[0] for r in conn.execute("SELECT record FROM agentcore_checkpoints WHERE session_id = %s", (sid,))]
        blobs = [bytes(r[0]) for r in conn.execute("SELECT data FROM agentcore_blobs")]
    assert len(records) == 1 and "src/app.py" in records[0]
    assert ".env" not in records[0] and all(SECRET.encode() not in b for b in blobs)  # denied: neither name nor bytes
    assert b"print(1)\n" in blobs

    # Another machine: a second store object, another state directory (no local checkpoints there).
    with PgSessionStore(pg_url) as other:
        copy = other.checkpoint_copy(sid)
        [record] = copy.records()
        assert [c.path for c in record.changes] == ["src/app.py"] and record.tool == "bash"
        report = ws.replay(tmp_path / "state-b" / "checkpoints" / sid, fresh, None, copy)
    assert report.restored == ("src/app.py",)
    assert (fresh / "src" / "app.py").read_bytes() == b"print(1)\n"
    assert (fresh / "src" / "app.py").stat().st_mode & 0o100  # the executable bit came back too
    assert not (fresh / ".env").exists()

    with PgSessionStore(pg_url) as store:  # deleting the session takes its checkpoints and their bytes
        store.delete(sid)
        with psycopg.connect(pg_url) as conn:
            assert conn.execute("SELECT count(*) FROM agentcore_checkpoints").fetchone()[0] == 0
            assert conn.execute("SELECT count(*) FROM agentcore_blobs").fetchone()[0] == 0


async def test_a_copy_that_fails_is_a_problem_not_a_failed_call(pg_url, server, http_client, tmp_path, work):
    server.enqueue(tool_call("c1", "bash", json.dumps({"command": "echo hi > a.txt"})), text("done"))
    with PgSessionStore(pg_url) as store:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("DROP TABLE agentcore_checkpoints")  # the copy cannot be written
        core = build(store, make_provider(server, http_client), tmp_path / "state")
        async with core.open_session(info(work)) as session:
            await session.run_turn("write")
            assert session.checkpoints.problem is not None and "agentcore_checkpoints" in session.checkpoints.problem
            assert [r for r in session.checkpoints.log.read() if r.changes[0].path == "a.txt"]  # the local log has it
    assert (work / "a.txt").read_text() == "hi\n"
    assert server.requests[-1].json()["messages"][-1]["role"] == "tool"  # the call's result went back to the model
