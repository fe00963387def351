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


# ------------------------------------------------------------- unstable


def _journaled_core(provider: ScriptedProvider, state_dir: Path) -> Any:
    from agentcore import AgentCoreBuilder
    from agentcore.store import JournalStore

    return (AgentCoreBuilder().with_env({}).with_provider(provider, "scripted-1")
            .with_session_store(JournalStore(state_dir / "sessions")).with_state_dir(state_dir).build())


async def test_initialize_advertises_fork(core: Any, workspace: Path) -> None:
    async with acp_connection(core, workspace) as h:
        result = await h.initialize()
        assert result["agentCapabilities"]["sessionCapabilities"]["fork"] == {}


async def test_fork_copies_the_conversation_and_leaves_the_source(provider: ScriptedProvider, workspace: Path, tmp_path: Path) -> None:
    provider.add(text_reply("the answer is 42"), text_reply("in the fork"), text_reply("in the source"))
    core = _journaled_core(provider, tmp_path / "state")
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        source = await h.new_session()
        await h.prompt(source, "what is the answer?")
        reply = await h.peer.request("session/fork", {"sessionId": source, "cwd": str(workspace), "mcpServers": []})
        assert "result" in reply, reply
        forked = reply["result"]["sessionId"]
        assert forked != source and reply["result"]["modes"]["currentModeId"] == "ask"
        fork_answer, _ = await h.prompt(forked, "and in the fork?")
        assert fork_answer["result"]["stopReason"] == "end_turn"
        await h.prompt(source, "and in the source?")
        missing = await h.peer.request("session/fork", {"sessionId": "sess_nope", "cwd": str(workspace), "mcpServers": []})
        assert missing["error"]["code"] == -32002
    fork_request, source_request = provider.requests[1], provider.requests[2]
    assert [m.text for m in fork_request.messages] == ["what is the answer?", "the answer is 42", "and in the fork?"]
    assert "and in the fork?" not in [m.text for m in source_request.messages]  # the source never saw the fork


async def test_the_prompt_answer_carries_the_turn_usage_for_clients_that_opt_in(
    core: Any, provider: ScriptedProvider, workspace: Path
) -> None:
    provider.add(text_reply("hi"), text_reply("hi again"))
    async with acp_connection(core, workspace) as h:
        await h.initialize({"_meta": {"agentcore": {"unstable": True}}})
        sid = await h.new_session()
        reply, _ = await h.prompt(sid, "hello")
    assert reply["result"]["usage"] == {"totalTokens": 132, "inputTokens": 120, "outputTokens": 12}
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        sid = await h.new_session()
        plain, _ = await h.prompt(sid, "hello")
    assert plain["result"] == {"stopReason": "end_turn"}  # a stable client gets the stable answer
