"""`agent sessions migrate --to postgresql://…` and the sessions commands on a
database store ([store] url, here through AGENTCORE_STORE_URL in the injected env)."""

from __future__ import annotations

import io
import json

from agentcore.cli.sessions_cmd import SessionsContext, main
from pg_support import info, make_core, make_provider, text

from agentcore.config import resolve_paths
from agentcore.store import JournalStore


def _run(argv, env, cwd):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, SessionsContext(cwd, env, out, err, width=200, color=False))
    return code, out.getvalue(), err.getvalue()


async def test_migrate_then_list_show_and_remove_from_the_database(pg_url, server, http_client, tmp_path, work):
    env = {"AGENTCORE_HOME": str(tmp_path / "home")}
    files = JournalStore(resolve_paths(env).sessions_dir)
    server.enqueue(text("one"), text("two"))
    core = make_core(files, make_provider(server, http_client), tmp_path / "state")
    ids = []
    for prompt in ("first session", "second session"):
        async with core.open_session(info(work)) as session:
            await session.run_turn(prompt)
            ids.append(session.id)

    code, out, err = _run(["migrate", "--to", pg_url], env, work)
    assert (code, err) == (0, "")
    assert "Copied 2 sessions" in out and "0 were already there" in out
    code, out, _ = _run(["migrate", "--to", pg_url], env, work)
    assert code == 0 and "Copied 0 sessions" in out and "2 were already there" in out

    db_env = {**env, "AGENTCORE_STORE_URL": pg_url}
    code, out, _ = _run(["list", "--json"], db_env, work)
    assert code == 0
    assert sorted(json.loads(line)["id"] for line in out.splitlines()) == sorted(ids)
    code, out, _ = _run(["show", ids[0][:12]], db_env, work)
    assert code == 0 and "first session" in out and "one" in out
    code, out, _ = _run(["rm", ids[0]], db_env, work)
    assert code == 0 and ids[0] in out
    code, out, _ = _run(["list", "--json"], db_env, work)
    assert [json.loads(line)["id"] for line in out.splitlines()] == [ids[1]]
    assert len(files.list_sessions()) == 2  # the files are never changed


def test_a_bad_store_url_is_one_line(tmp_path, work, pg_server):
    env = {"AGENTCORE_HOME": str(tmp_path / "home"), "AGENTCORE_STORE_URL": "mysql://nope"}
    code, out, err = _run(["list"], env, work)
    assert code == 1 and err.strip() == "error: [store] url must be a postgresql:// URL (or unset for session files)"
    env["AGENTCORE_STORE_URL"] = f"postgresql://agentcore:s3cret-pw@127.0.0.1:{pg_server.port}/missing_db"
    code, out, err = _run(["list"], env, work)
    assert code == 1 and err.count("\n") == 1 and "missing_db on 127.0.0.1" in err and "s3cret" not in err
