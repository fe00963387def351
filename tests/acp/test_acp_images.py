"""Images through ACP with the journal store: a prompt's image goes to the blob
store (not the journal), and ``session/load`` replays it to a new client as
image content with the same bytes."""

from __future__ import annotations

import base64
import random
from pathlib import Path
from typing import Any

from acp_fakes import ScriptedProvider, acp_connection, text_reply
from agentcore import AgentCoreBuilder
from agentcore.messages import ImageRef
from agentcore.session import SessionPolicy
from agentcore.store import JournalStore
from agentcore.store.format import JOURNAL_FILE

IMAGE_BYTES = 48 * 1024


def _core(provider: ScriptedProvider, store: JournalStore, state_dir: Path) -> Any:
    return (
        AgentCoreBuilder()
        .with_env({})
        .with_provider(provider, "scripted-1")
        .with_policy(SessionPolicy())
        .with_session_store(store)
        .with_state_dir(state_dir)
        .build()
    )


async def test_prompt_image_is_stored_as_a_blob_and_replayed_on_load(
    provider: ScriptedProvider, workspace: Path, tmp_path: Path
) -> None:
    data = b"\x89PNG\r\n\x1a\n" + random.Random(7).randbytes(IMAGE_BYTES)
    encoded = base64.b64encode(data).decode("ascii")
    store = JournalStore(tmp_path / "sessions")
    core = _core(provider, store, tmp_path / "state")
    provider.add(text_reply("a picture"))
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        sid = await h.new_session()
        blocks = [{"type": "text", "text": "look"}, {"type": "image", "mimeType": "image/png", "data": encoded}]
        reply = await h.peer.request("session/prompt", {"sessionId": sid, "prompt": blocks})
        assert reply["result"]["stopReason"] == "end_turn"
    sent = provider.requests[0].messages[-1].content[1]
    assert isinstance(sent, ImageRef) and sent.resolve().data == encoded  # history holds a reference
    journal = (store.sessions_dir / sid / JOURNAL_FILE).read_bytes()
    assert encoded[:100].encode() not in journal and len(journal) < IMAGE_BYTES // 4

    async with acp_connection(core, workspace) as h2:
        await h2.initialize()
        h2.peer.notifications.clear()
        loaded = await h2.peer.request("session/load", {"sessionId": sid, "cwd": str(workspace), "mcpServers": []})
        assert "result" in loaded
        replay = [n["params"]["update"] for n in h2.peer.notifications]
        user = [u["content"] for u in replay if u["sessionUpdate"] == "user_message_chunk"]
        assert user == [{"type": "text", "text": "look"}, {"type": "image", "mimeType": "image/png", "data": encoded}]
