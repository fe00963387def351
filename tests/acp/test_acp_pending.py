"""A turn cut off by a crash, continued from an editor: ``session/load`` of a
session with a pending turn, then the ``/continue`` command runs it from its last
complete message on the wire; ``/continue discard`` drops it; with nothing
pending the command says so and calls no model."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import trio

from acp_fakes import Pause, ScriptedProvider, acp_connection, text_reply, texts
from agentcore import AgentCoreBuilder, SessionCreateInfo
from agentcore.messages import TextBlock
from agentcore.permissions import PermissionMode
from agentcore.session import SessionPolicy
from agentcore.store import JournalStore

# A crash image is the journal; the checkpoint store may be mid-scan (its index.lock
# comes and goes) and is not part of what these tests replay.
NO_CHECKPOINTS = shutil.ignore_patterns("checkpoints")


def _core(provider: ScriptedProvider, store: JournalStore, state_dir: Path) -> Any:
    return (
        AgentCoreBuilder().with_env({}).with_provider(provider, "scripted-1")
        .with_policy(SessionPolicy(mode=PermissionMode.YOLO)).with_session_store(store).with_state_dir(state_dir)
        .build()
    )  # fmt: skip


async def _crash_image(provider: ScriptedProvider, tmp_path: Path, workspace: Path) -> tuple[Path, str]:
    """A session directory as SIGKILL would leave it: the second prompt is
    journaled, its model call never answered."""
    store = JournalStore(tmp_path / "sessions")
    pause = Pause()
    provider.add(text_reply("First answer."), [pause])
    async with _core(provider, store, tmp_path / "state").open_session(SessionCreateInfo(cwd=workspace)) as session:
        await session.run_turn("first prompt")
        async with trio.open_nursery() as nursery:
            nursery.start_soon(session.run_turn, "second prompt")
            await pause.reached.wait()
            shutil.copytree(store.sessions_dir / session.id, tmp_path / "image" / session.id, ignore=NO_CHECKPOINTS)
            session.cancel()
    return tmp_path / "image", session.id


def _texts(request: Any) -> list[str]:
    return ["".join(b.text for b in m.content if isinstance(b, TextBlock)) for m in request.messages]


async def _load(h: Any, sid: str, workspace: Path) -> list[dict[str, Any]]:
    await h.initialize()
    loaded = await h.peer.request("session/load", {"sessionId": sid, "cwd": str(workspace), "mcpServers": []})
    assert "result" in loaded, loaded
    while True:  # the notices and the commands follow the answer
        message = await h.peer.receive()
        h.peer.notifications.append(message)
        if message.get("params", {}).get("update", {}).get("sessionUpdate") == "available_commands_update":
            return [n["params"]["update"] for n in h.peer.notifications if n.get("method") == "session/update"]


async def test_continue_runs_the_cut_off_turn_from_an_editor(provider: ScriptedProvider, workspace: Path, tmp_path: Path) -> None:
    image, sid = await _crash_image(provider, tmp_path, workspace)
    provider.add(text_reply("Picked up where it stopped."))
    async with acp_connection(_core(provider, JournalStore(image), tmp_path / "state2"), workspace) as h:
        updates = await _load(h, sid, workspace)
        commands = [u for u in updates if u["sessionUpdate"] == "available_commands_update"][-1]["availableCommands"]
        assert "continue" in {c["name"] for c in commands}
        calls = len(provider.requests)
        reply, streamed = await h.prompt(sid, "/continue")
        assert reply["result"]["stopReason"] == "end_turn"
        notice, _, answer = texts(streamed).rpartition("\n\n")
        assert "cut off" in notice and "/continue" in notice  # the start-up notice says how
        assert answer == "Picked up where it stopped."
        assert len(provider.requests) == calls + 1
        assert _texts(provider.requests[-1]) == ["first prompt", "First answer.", "second prompt"]
        reply, streamed = await h.prompt(sid, "/continue")  # nothing left: no model call
        assert "no cut-off turn" in texts(streamed) and len(provider.requests) == calls + 1


async def test_continue_discard_drops_the_turn_and_the_next_prompt_starts_clean(
    provider: ScriptedProvider, workspace: Path, tmp_path: Path
) -> None:
    image, sid = await _crash_image(provider, tmp_path, workspace)
    provider.add(text_reply("A fresh answer."))
    async with acp_connection(_core(provider, JournalStore(image), tmp_path / "state2"), workspace) as h:
        await _load(h, sid, workspace)
        calls = len(provider.requests)
        _, streamed = await h.prompt(sid, "/continue discard")
        assert "Dropped the cut-off turn" in texts(streamed) and len(provider.requests) == calls
        reply, _ = await h.prompt(sid, "third prompt")
        assert reply["result"]["stopReason"] == "end_turn"
    assert _texts(provider.requests[-1]) == ["first prompt", "First answer.", "third prompt"]
