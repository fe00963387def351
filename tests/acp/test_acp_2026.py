"""ACP's 2026 stable additions, in process: ``logout``, ``messageId`` on chunks,
``$/cancel_request`` of a running prompt. Every agent line is schema-checked
(stable and unstable schemas)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio

from agentcore.acp.pump import COALESCE_MAX_CHARS
from acp_fakes import Pause, ScriptedProvider, acp_connection, text_reply


async def test_initialize_advertises_logout(core: Any, workspace: Path) -> None:
    async with acp_connection(core, workspace) as h:
        result = await h.initialize()
        assert result["agentCapabilities"]["auth"] == {"logout": {}}


async def test_logout_refuses_new_sessions_until_authenticate(core: Any, workspace: Path) -> None:
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        before = await h.new_session()
        assert (await h.peer.request("logout", {}))["result"] == {}
        refused = await h.peer.request("session/new", {"cwd": str(workspace), "mcpServers": []})
        assert refused["error"]["code"] == -32000
        assert "authenticate" in refused["error"]["message"]
        resumed = await h.peer.request("session/resume", {"sessionId": before, "cwd": str(workspace), "mcpServers": []})
        assert "result" in resumed  # already open on this connection: not a new session
        wrong = await h.peer.request("authenticate", {"methodId": "password"})
        assert wrong["error"]["code"] == -32602
        assert (await h.peer.request("authenticate", {"methodId": "env-api-key"}))["result"] == {}
        assert await h.new_session()  # signed in again


async def test_chunks_of_one_response_share_a_message_id(core: Any, provider: ScriptedProvider, workspace: Path) -> None:
    long_piece = "x" * (COALESCE_MAX_CHARS + 1)  # a run this long is sent at once: two chunks of one message
    provider.add(text_reply(long_piece, long_piece), text_reply("hel", "lo", thinking="pondering"))
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        sid = await h.new_session()
        _, first = await h.prompt(sid, "one")
        _, second = await h.prompt(sid, "two")
    text_ids = [u["messageId"] for u in first if u["sessionUpdate"] == "agent_message_chunk"]
    assert len(text_ids) == 2 and len(set(text_ids)) == 1
    later = [u for u in second if u["sessionUpdate"] in ("agent_message_chunk", "agent_thought_chunk")]
    assert {u["sessionUpdate"] for u in later} == {"agent_message_chunk", "agent_thought_chunk"}
    later_text_ids = {u["messageId"] for u in later if u["sessionUpdate"] == "agent_message_chunk"}
    assert len(later_text_ids) == 1 and later_text_ids.isdisjoint(text_ids)  # a new response, a new message


async def test_replayed_chunks_carry_the_stored_message_ids(core: Any, provider: ScriptedProvider, workspace: Path) -> None:
    provider.add(text_reply("stored answer"))
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        sid = await h.new_session()
        await h.prompt(sid, "remember this")
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        h.peer.notifications.clear()
        reply = await h.peer.request("session/load", {"sessionId": sid, "cwd": str(workspace), "mcpServers": []})
        assert "result" in reply
        chunks = [n["params"]["update"] for n in h.peer.notifications
                  if n["params"]["update"]["sessionUpdate"] in ("user_message_chunk", "agent_message_chunk")]
    assert [c["sessionUpdate"] for c in chunks] == ["user_message_chunk", "agent_message_chunk"]
    assert all(c["messageId"].startswith("msg") for c in chunks)
    assert chunks[0]["messageId"] != chunks[1]["messageId"]


async def test_cancel_request_ends_a_running_prompt_with_32800(core: Any, provider: ScriptedProvider, workspace: Path) -> None:
    pause = Pause()
    provider.add([*text_reply("partial")[:1], pause])
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        sid = await h.new_session()
        await h.peer.send({"jsonrpc": "2.0", "id": "p-1", "method": "session/prompt",
                           "params": {"sessionId": sid, "prompt": [{"type": "text", "text": "go"}]}})
        with trio.fail_after(10):
            await pause.reached.wait()
        await h.peer.notify("$/cancel_request", {"requestId": "p-1"})
        answer = await h.peer.response_to("p-1")
        assert answer["error"]["code"] == -32800
        provider.add(text_reply("after"))
        reply, _ = await h.prompt(sid, "again")  # the session is still usable
        assert reply["result"]["stopReason"] == "end_turn"
