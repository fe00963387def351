"""Empty sessions are not saved, and ACP does not notice: `session/new` then
`session/load` of the same id works while the session is live even though it
has no prompt yet (nothing is on disk), and a prompt afterwards saves it; a
session closed without any prompt leaves no directory, and loading it later is
a clean "no session" error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from acp_fakes import acp_connection, text_reply, texts
from agentcore import AgentCoreBuilder, SessionPolicy
from agentcore.store import JournalStore


def journal_core(provider: Any, tmp_path: Path) -> Any:
    return (
        AgentCoreBuilder().with_env({}).with_provider(provider, "scripted-1").with_policy(SessionPolicy())
        .with_session_store(JournalStore(tmp_path / "sessions")).with_state_dir(tmp_path / "state").build()
    )


async def test_new_then_load_of_a_live_empty_session_works_and_a_closed_one_leaves_nothing(
    provider, tmp_path: Path, workspace: Path
) -> None:
    provider.add(text_reply("saved now"))
    core = journal_core(provider, tmp_path)
    sessions = tmp_path / "sessions"
    async with acp_connection(core, workspace) as acp:
        await acp.initialize()
        sid = await acp.new_session()
        assert not (sessions / sid).exists()  # nothing worth saving yet
        loaded = await acp.peer.request("session/load", {"sessionId": sid, "cwd": str(workspace), "mcpServers": []})
        assert "result" in loaded, loaded
        _, updates = await acp.prompt(sid, "hello")
        assert "saved now" in texts(updates)
        assert (sessions / sid / "journal.jsonl").is_file()

        empty = await acp.new_session()
        await acp.peer.request("session/close", {"sessionId": empty})
        assert not (sessions / empty).exists()
        missing = await acp.peer.request("session/load", {"sessionId": empty, "cwd": str(workspace), "mcpServers": []})
    assert missing["error"]["message"] == f"Session not found: {empty}"
    assert [s.id for s in JournalStore(sessions).list_sessions()] == [sid]
