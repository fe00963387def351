"""A client that falls silent never holds a turn for ever: a permission request
nobody answers is refused after `permissions.answer_timeout_s` (the client is
told to drop it), and a file read the editor never answers fails the tool call
after a minute. Both limits are set short here (the defaults: half an hour and
one minute)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio
import trio.testing

from acp_fakes import ScriptedProvider, text_reply, tool_reply
from acp_peer import Peer
from agentcore import AgentCoreBuilder, SessionPolicy
from agentcore.acp.agent import AgentSetup
from agentcore.acp.hub import serve_acp
from agentcore.permissions import PermissionMode
from agentcore.session import MemorySessionStore

ANSWER_TIMEOUT_S = 0.5
CALL_TIMEOUT_S = 0.5


def core_for(provider: ScriptedProvider, state_dir: Path) -> Any:
    policy = SessionPolicy(mode=PermissionMode.ASK, permission_answer_timeout_s=ANSWER_TIMEOUT_S)
    return (
        AgentCoreBuilder().with_env({}).with_provider(provider, "scripted-1").with_policy(policy)
        .with_session_store(MemorySessionStore()).with_state_dir(state_dir).build()
    )


async def _prompt_and_collect(peer: Peer, sid: str, text: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Send a prompt, answer nothing, and return the prompt's answer and every message seen."""
    await peer.send({"jsonrpc": "2.0", "id": 9, "method": "session/prompt",
                     "params": {"sessionId": sid, "prompt": [{"type": "text", "text": text}]}})
    seen = []
    while True:
        message = await peer.receive()
        seen.append(message)
        if message.get("id") == 9 and "method" not in message:
            return message, seen


def _tool_result_texts(provider: ScriptedProvider) -> list[str]:
    last = provider.requests[-1]
    return [r.text for m in last.messages for r in getattr(m, "results", ())]


async def test_an_unanswered_permission_request_is_refused_after_the_timeout(tmp_path: Path) -> None:
    provider = ScriptedProvider()
    provider.add(tool_reply("call_b", "bash", {"command": "touch should-not-exist"}), text_reply("I will wait for you."))
    work = tmp_path / "work"
    work.mkdir()
    agent_side, client_side = trio.testing.memory_stream_pair()
    peer = Peer(client_side)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve_acp, agent_side, agent_side, lambda: AgentSetup(core=core_for(provider, tmp_path / "s"), client_call_timeout_s=CALL_TIMEOUT_S))
        await peer.request("initialize", {"protocolVersion": 1, "clientCapabilities": {}})
        sid = (await peer.request("session/new", {"cwd": str(work), "mcpServers": []}))["result"]["sessionId"]
        started = trio.current_time()
        answer, seen = await _prompt_and_collect(peer, sid, "run it")
        waited = trio.current_time() - started
        await client_side.send_eof()
    asked = [m for m in seen if m.get("method") == "session/request_permission"]
    withdrawn = [m for m in seen if m.get("method") == "$/cancel_request"]
    assert len(asked) == 1 and withdrawn == [{"jsonrpc": "2.0", "method": "$/cancel_request",
                                              "params": {"requestId": asked[0]["id"]}}]
    assert answer["result"]["stopReason"] == "end_turn"
    assert waited >= ANSWER_TIMEOUT_S
    within = f"Nobody answered the permission request within {ANSWER_TIMEOUT_S:g} seconds, so the call was not run"
    assert any(within in t for t in _tool_result_texts(provider))
    assert not (work / "should-not-exist").exists()
    updates = [m["params"]["update"] for m in seen if m.get("method") == "session/update"]
    assert any(u.get("status") == "failed" for u in updates if u.get("sessionUpdate") == "tool_call_update")


async def test_a_file_read_the_editor_never_answers_fails_the_call(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("local copy\n")
    provider = ScriptedProvider()
    provider.add(tool_reply("call_r", "read_file", {"path": "notes.txt"}), text_reply("The editor did not answer."))
    agent_side, client_side = trio.testing.memory_stream_pair()
    peer = Peer(client_side)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve_acp, agent_side, agent_side, lambda: AgentSetup(core=core_for(provider, tmp_path / "s"), client_call_timeout_s=CALL_TIMEOUT_S))
        caps = {"fs": {"readTextFile": True, "writeTextFile": True}}
        await peer.request("initialize", {"protocolVersion": 1, "clientCapabilities": caps})
        sid = (await peer.request("session/new", {"cwd": str(work), "mcpServers": []}))["result"]["sessionId"]
        answer, seen = await _prompt_and_collect(peer, sid, "read notes")
        await client_side.send_eof()
    reads = [m for m in seen if m.get("method") == "fs/read_text_file"]
    assert len(reads) == 1
    assert {"jsonrpc": "2.0", "method": "$/cancel_request", "params": {"requestId": reads[0]["id"]}} in seen
    assert answer["result"]["stopReason"] == "end_turn"
    results = _tool_result_texts(provider)
    assert any(f"did not answer fs/read_text_file within {CALL_TIMEOUT_S:g} s" in t for t in results), results
