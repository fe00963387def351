"""Several clients on one session, as ``agent serve`` runs them: one hub shared
by every connection (in process here; the transports have their own tests).

Both clients see the stream; a permission request goes to every controller and
the first answer wins (the other is told to drop it); an observer sees
everything and changes nothing; a client that disconnects mid-turn leaves the
turn running, and attaching again shows the rest; the second client can cancel;
``session/load`` of a live session attaches instead of opening a second copy; a
client that stops reading is detached, never holding the session back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

import agentcore.acp.live as live_module
from acp_fakes import Pause, ScriptedProvider, make_core, text_reply, tool_reply
from acp_peer import Peer
from acp_schema import AgentTranscriptChecker
from agentcore.acp.agent import AgentSetup
from agentcore.acp.hub import AcpHub, open_hub
from agentcore.acp.jsonrpc import LineTransport
from agentcore.acp.approvals import APPROVAL_DENIED
from agentcore.acp.live import DETACHED_METHOD, NOT_ATTACHED, OBSERVER_REFUSED

ATTACH = "_agentcore/session/attach"
APPROVE = "_agentcore/session/approve"
WAIT_S = 10.0


@asynccontextmanager
async def server(core: Any) -> AsyncIterator[tuple[AcpHub, Any]]:
    """A hub that keeps sessions (a server) and a way to connect clients to it."""
    async with open_hub(lambda: AgentSetup(core=core), keep_sessions=True) as hub, trio.open_nursery() as nursery:

        async def connect(*, lockstep: bool = False, caps: dict[str, Any] | None = None) -> tuple[Peer, Any]:
            pair = trio.testing.lockstep_stream_pair if lockstep else trio.testing.memory_stream_pair
            agent_side, client_side = pair()
            nursery.start_soon(hub.serve, LineTransport(agent_side, agent_side))
            peer = Peer(client_side, checker=AgentTranscriptChecker())
            await peer.request("initialize", {"protocolVersion": 1, "clientCapabilities": caps or {}})
            return peer, client_side

        yield hub, connect
        nursery.cancel_scope.cancel()


async def new_session(peer: Peer, workspace: Path) -> str:
    reply = await peer.request("session/new", {"cwd": str(workspace), "mcpServers": []})
    return reply["result"]["sessionId"]


async def attach(peer: Peer, sid: str, role: str = "controller", history: str = "full", *, owner: Peer | None = None) -> dict[str, Any]:
    """Attach ``peer``; a controller needs the ``owner``'s approval, which it gives."""
    if role == "controller" and owner is not None:
        rid = peer.next_id()
        await peer.send({"jsonrpc": "2.0", "id": rid, "method": ATTACH, "params": {"sessionId": sid, "role": role, "historyPolicy": history}})
        asked = (await read_until(owner, lambda m: m.get("method") == APPROVE))[-1]
        assert asked["params"]["action"] == "attach as controller"
        await owner.answer(asked["id"], {"approved": True})
        reply = await peer.response_to(rid)  # replayed updates land in peer.notifications
    else:
        reply = await peer.request(ATTACH, {"sessionId": sid, "role": role, "historyPolicy": history})
    assert "result" in reply, reply
    return reply["result"]


def prompt_params(sid: str, text: str) -> dict[str, Any]:
    return {"sessionId": sid, "prompt": [{"type": "text", "text": text}]}


async def read_until(peer: Peer, predicate: Any) -> list[dict[str, Any]]:
    """Messages from the agent up to and including the first that matches."""
    seen = []
    with trio.fail_after(WAIT_S):
        while True:
            message = await peer.receive()
            seen.append(message)
            if predicate(message):
                return seen


def texts(messages: list[dict[str, Any]]) -> str:
    return "".join(
        m["params"]["update"]["content"]["text"]
        for m in messages
        if m.get("method") == "session/update" and m["params"]["update"]["sessionUpdate"] == "agent_message_chunk"
    )


def is_answer(rid: Any) -> Any:
    return lambda m: m.get("id") == rid and "method" not in m


async def test_both_clients_see_the_stream_and_the_second_can_cancel(provider: ScriptedProvider, core, workspace) -> None:
    pause = Pause()
    provider.add(text_reply("shared ", "reply"), [*text_reply("before pause")[:1], pause, *text_reply("never")])
    async with server(core) as (hub, connect):
        a, _ = await connect()
        b, _ = await connect()
        sid = await new_session(a, workspace)
        attached = await attach(b, sid, owner=a)
        assert attached["connectedClients"] == 2 and attached["role"] == "controller"
        assert len(hub.sessions) == 1

        await a.send({"jsonrpc": "2.0", "id": 50, "method": "session/prompt", "params": prompt_params(sid, "hi")})
        seen_a = await read_until(a, is_answer(50))
        seen_b = await read_until(b, lambda m: "shared reply" in texts([m]) or texts([m]).endswith("reply"))
        assert texts(seen_a) == "shared reply" and "reply" in texts(seen_b)

        await a.send({"jsonrpc": "2.0", "id": 51, "method": "session/prompt", "params": prompt_params(sid, "long")})
        with trio.fail_after(WAIT_S):
            await pause.reached.wait()
        await b.notify("session/cancel", {"sessionId": sid})  # the other client stops it
        answer = (await read_until(a, is_answer(51)))[-1]
        assert answer["result"]["stopReason"] == "cancelled"


async def test_a_permission_request_goes_to_every_controller_and_the_first_answer_wins(
    provider: ScriptedProvider, core, workspace
) -> None:
    (workspace / "notes.txt").write_text("old\n")
    provider.add(tool_reply("call_w", "write_file", {"path": "notes.txt", "content": "new\n"}), text_reply("written"))
    async with server(core) as (_hub, connect):
        a, _ = await connect()
        b, _ = await connect()
        sid = await new_session(a, workspace)
        await attach(b, sid, owner=a)
        await a.send({"jsonrpc": "2.0", "id": 60, "method": "session/prompt", "params": prompt_params(sid, "write")})
        asked_a = (await read_until(a, lambda m: m.get("method") == "session/request_permission"))[-1]
        asked_b = (await read_until(b, lambda m: m.get("method") == "session/request_permission"))[-1]
        assert asked_a["params"]["toolCall"]["toolCallId"] == asked_b["params"]["toolCall"]["toolCallId"]
        await b.answer(asked_b["id"], {"outcome": {"outcome": "selected", "optionId": "allow_once"}})
        seen_a = await read_until(a, is_answer(60))
        assert {"jsonrpc": "2.0", "method": "$/cancel_request", "params": {"requestId": asked_a["id"]}} in seen_a
        assert seen_a[-1]["result"]["stopReason"] == "end_turn"
        assert (workspace / "notes.txt").read_text() == "new\n"


async def test_an_observer_sees_everything_and_changes_nothing(provider: ScriptedProvider, core, workspace) -> None:
    provider.add(text_reply("for everyone"))
    async with server(core) as (_hub, connect):
        a, _ = await connect()
        watcher, _ = await connect()
        sid = await new_session(a, workspace)
        assert (await attach(watcher, sid, role="observer"))["role"] == "observer"
        refused = await watcher.request("session/prompt", prompt_params(sid, "let me"))
        assert refused["error"]["code"] == OBSERVER_REFUSED and "observer" in refused["error"]["message"]
        mode = await watcher.request("session/set_mode", {"sessionId": sid, "modeId": "yolo"})
        assert mode["error"]["code"] == OBSERVER_REFUSED
        answer = await a.request("session/prompt", prompt_params(sid, "go"))
        assert answer["result"]["stopReason"] == "end_turn"
        assert "for everyone" in texts(await read_until(watcher, lambda m: "everyone" in texts([m])))
        assert len(provider.requests) == 1  # the observer's prompt never reached the model

        stranger, _ = await connect()
        unattached = await stranger.request("session/prompt", prompt_params(sid, "hello?"))
        assert unattached["error"]["code"] == -32002  # not open on this connection


async def test_a_turn_outlives_its_client_and_attaching_again_shows_the_rest(
    provider: ScriptedProvider, core, workspace
) -> None:
    pause = Pause()
    provider.add([*text_reply("first half ")[:1], pause, *text_reply("second half")])
    async with server(core) as (hub, connect):
        a, a_stream = await connect()
        sid = await new_session(a, workspace)
        await a.send({"jsonrpc": "2.0", "id": 70, "method": "session/prompt", "params": prompt_params(sid, "work")})
        with trio.fail_after(WAIT_S):
            await pause.reached.wait()
        await a_stream.send_eof()  # the editor went away mid-turn
        with trio.fail_after(WAIT_S):
            while hub.connections:
                await trio.sleep(0)
        pause.opened.set()
        live = hub.sessions[sid]
        with trio.fail_after(WAIT_S):
            while live.session.turn_running:
                await trio.sleep(0)
        assert [m.text for m in live.session.history.snapshot()][-1] == "first half second half"

        b, _ = await connect()
        result = await attach(b, sid, history="full")
        assert result["turnRunning"] is False
        assert "first half second half" in texts(b.notifications)  # replayed before the answer


async def test_loading_a_live_session_attaches_instead_of_opening_a_second_copy(
    provider: ScriptedProvider, core, workspace
) -> None:
    provider.add(text_reply("remembered"), text_reply("both see this"))
    async with server(core) as (hub, connect):
        a, _ = await connect()
        b, _ = await connect()
        sid = await new_session(a, workspace)
        await a.request("session/prompt", prompt_params(sid, "remember"))
        await b.send({"jsonrpc": "2.0", "id": 79, "method": "session/load",
                      "params": {"sessionId": sid, "cwd": str(workspace), "mcpServers": []}})
        asked = (await read_until(a, lambda m: m.get("method") == APPROVE))[-1]  # loading it = controlling it
        await a.answer(asked["id"], {"approved": True})
        loaded = await b.response_to(79)
        assert "result" in loaded and len(hub.sessions) == 1
        assert "remembered" in texts(b.notifications)
        await b.send({"jsonrpc": "2.0", "id": 80, "method": "session/prompt", "params": prompt_params(sid, "again")})
        assert "both see this" in texts(await read_until(b, is_answer(80)))
        assert "both see this" in texts(await read_until(a, lambda m: "both see" in texts([m])))


async def test_a_client_that_stops_reading_is_detached_not_waited_for(
    provider: ScriptedProvider, core, workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_module, "VIEW_BUFFER_EVENTS", 4)
    provider.add(text_reply(*[f"w{i} " for i in range(200)]))
    async with server(core) as (hub, connect):
        a, _ = await connect()
        slow, _ = await connect(lockstep=True)  # its writes block until it reads; it never does (yet)
        sid = await new_session(a, workspace)
        await slow.send({"jsonrpc": "2.0", "id": 90, "method": ATTACH, "params": {"sessionId": sid, "role": "observer"}})
        with trio.fail_after(WAIT_S):
            while len(hub.sessions[sid].views) < 2:
                await trio.sleep(0)
        answer = await a.request("session/prompt", prompt_params(sid, "stream a lot"))
        assert answer["result"]["stopReason"] == "end_turn"  # the slow client held nothing back
        assert len(hub.sessions[sid].views) == 1
        detached = await read_until(slow, lambda m: m.get("method") == DETACHED_METHOD)
        assert "fell too far behind" in detached[-1]["params"]["reason"]


async def test_attach_to_a_session_nobody_has_is_a_clear_error(core, workspace) -> None:
    async with server(core) as (_hub, connect):
        a, _ = await connect()
        missing = await a.request(ATTACH, {"sessionId": "sess_nope", "cwd": str(workspace), "mcpServers": []})
        assert missing["error"]["code"] == -32002
        bad = await a.request(ATTACH, {"sessionId": "x", "role": "admin"})
        assert bad["error"]["code"] == -32602 and "controller, observer" in bad["error"]["message"]
    assert NOT_ATTACHED != OBSERVER_REFUSED


async def approval_request(owner: Peer) -> dict[str, Any]:
    return (await read_until(owner, lambda m: m.get("method") == APPROVE))[-1]


async def test_high_risk_requests_of_another_client_wait_for_the_owner(provider: ScriptedProvider, core, workspace) -> None:
    async with server(core) as (hub, connect):
        a, _ = await connect()
        b, _ = await connect()
        sid = await new_session(a, workspace)
        await attach(b, sid, owner=a)

        # Switching to a mode that bypasses permissions: refused by the owner.
        await b.send({"jsonrpc": "2.0", "id": 100, "method": "session/set_mode", "params": {"sessionId": sid, "modeId": "yolo"}})
        asked = await approval_request(a)
        assert asked["params"]["action"] == "switching to yolo mode" and asked["params"]["sessionId"] == sid
        await a.answer(asked["id"], {"approved": False})
        refused = await b.response_to(100)
        assert refused["error"]["code"] == APPROVAL_DENIED and refused["error"]["data"]["reason"] == "refused"
        assert hub.sessions[sid].session.mode.value == "ask"

        # The same through the config option, approved this time.
        await b.send({"jsonrpc": "2.0", "id": 101, "method": "session/set_config_option",
                      "params": {"sessionId": sid, "configId": "mode", "value": "yolo"}})
        await a.answer((await approval_request(a))["id"], {"approved": True})
        assert "result" in await b.response_to(101)
        assert hub.sessions[sid].session.mode.value == "yolo"

        # A safe change needs nobody's approval; the owner's own requests never ask.
        assert "result" in await b.request("session/set_mode", {"sessionId": sid, "modeId": "ask"})
        assert "result" in await a.request("session/set_mode", {"sessionId": sid, "modeId": "yolo"})

        # Deleting it: a broken answer fails closed; the session lives on.
        await b.send({"jsonrpc": "2.0", "id": 102, "method": "session/delete", "params": {"sessionId": sid}})
        await a.answer((await approval_request(a))["id"], {"approved": "yes"})
        assert (await b.response_to(102))["error"]["code"] == APPROVAL_DENIED
        assert sid in hub.sessions


async def test_an_owner_that_never_answers_denies_after_the_timeout(provider: ScriptedProvider, core, workspace) -> None:
    async with open_hub(lambda: AgentSetup(core=core, approval_timeout_s=0.3), keep_sessions=True) as hub, \
            trio.open_nursery() as nursery:
        peers = []
        for _ in range(2):
            agent_side, client_side = trio.testing.memory_stream_pair()
            nursery.start_soon(hub.serve, LineTransport(agent_side, agent_side))
            peer = Peer(client_side)
            await peer.request("initialize", {"protocolVersion": 1, "clientCapabilities": {}})
            peers.append(peer)
        a, b = peers
        sid = await new_session(a, workspace)
        started = trio.current_time()
        denied = await b.request(ATTACH, {"sessionId": sid, "role": "controller"})
        assert denied["error"]["code"] == APPROVAL_DENIED and "no answer within 0.3 s" in denied["error"]["message"]
        assert trio.current_time() - started >= 0.3
        assert len(hub.sessions[sid].views) == 1  # not attached
        observer = await b.request(ATTACH, {"sessionId": sid, "role": "observer"})
        assert observer["result"]["role"] == "observer"  # watching needs no approval
        nursery.cancel_scope.cancel()


async def test_a_session_nobody_controls_is_taken_over_without_asking(provider: ScriptedProvider, core, workspace) -> None:
    async with server(core) as (hub, connect):
        a, a_stream = await connect()
        sid = await new_session(a, workspace)
        await a_stream.send_eof()  # its only client left (a dropped network)
        with trio.fail_after(WAIT_S):
            while hub.connections:
                await trio.sleep(0)
        b, _ = await connect()
        assert (await attach(b, sid))["role"] == "controller"
        assert hub.sessions[sid].owner().conn is not None


async def test_the_server_lists_its_live_sessions_with_their_clients(provider: ScriptedProvider, core, workspace) -> None:
    async with server(core) as (_hub, connect):
        a, _ = await connect()
        watcher, _ = await connect()
        sid = await new_session(a, workspace)
        await attach(watcher, sid, role="observer")
        listed = await watcher.request("_agentcore/sessions/live", {"cwd": str(workspace)})
        assert listed["result"]["sessions"] == [
            {"sessionId": sid, "cwd": str(workspace), "clients": 2, "turnRunning": False}
        ]
        elsewhere = await watcher.request("_agentcore/sessions/live", {"cwd": "/nowhere"})
        assert elsewhere["result"]["sessions"] == []


async def test_files_delegated_to_an_editor_that_left_are_read_here(provider: ScriptedProvider, core, workspace) -> None:
    """The editor that opened the session read files through itself; once it is
    gone, the session (live on in the server) reads them from this machine."""
    (workspace / "notes.txt").write_text("on disk\n")
    provider.add(tool_reply("call_r", "read_file", {"path": "notes.txt"}), text_reply("read it"))
    async with server(core) as (hub, connect):
        editor, editor_stream = await connect(caps={"fs": {"readTextFile": True, "writeTextFile": True}})
        sid = await new_session(editor, workspace)
        await editor_stream.send_eof()
        with trio.fail_after(WAIT_S):
            while hub.connections:
                await trio.sleep(0)
        terminal, _ = await connect()
        await attach(terminal, sid)
        answer = await terminal.request("session/prompt", prompt_params(sid, "read notes"))
        assert answer["result"]["stopReason"] == "end_turn"
    results = [r.text for m in provider.requests[-1].messages for r in getattr(m, "results", ())]
    assert any("on disk" in text for text in results), results


async def test_allow_always_from_another_client_needs_the_owner_or_counts_once(
    provider: ScriptedProvider, core, workspace
) -> None:
    """"Always" writes a rule into the project's configuration: a non-owner's
    answer needs the owner's approval; refused, the call is allowed once only."""
    provider.add(
        tool_reply("call_1", "write_file", {"path": "a.txt", "content": "a\n"}), text_reply("one"),
        tool_reply("call_2", "write_file", {"path": "b.txt", "content": "b\n"}), text_reply("two"),
    )  # fmt: skip
    async with server(core) as (hub, connect):
        a, _ = await connect()
        b, _ = await connect()
        sid = await new_session(a, workspace)
        await attach(b, sid, owner=a)
        gate = hub.sessions[sid].session.permissions

        await b.send({"jsonrpc": "2.0", "id": 110, "method": "session/prompt", "params": prompt_params(sid, "write a")})
        asked = (await read_until(b, lambda m: m.get("method") == "session/request_permission"))[-1]
        await b.answer(asked["id"], {"outcome": {"outcome": "selected", "optionId": "allow_always"}})
        approval = await approval_request(a)
        assert approval["params"]["action"] == "remember a permission rule"
        await a.answer(approval["id"], {"approved": False})
        assert (await b.response_to(110))["result"]["stopReason"] == "end_turn"
        assert (workspace / "a.txt").exists()  # allowed this once
        rules_before = list(gate.rules)

        await b.send({"jsonrpc": "2.0", "id": 111, "method": "session/prompt", "params": prompt_params(sid, "write b")})
        asked = (await read_until(b, lambda m: m.get("method") == "session/request_permission"))[-1]  # asked again
        await b.answer(asked["id"], {"outcome": {"outcome": "selected", "optionId": "allow_always"}})
        await a.answer((await approval_request(a))["id"], {"approved": True})
        assert (await b.response_to(111))["result"]["stopReason"] == "end_turn"
        assert len(gate.rules) > len(rules_before)  # remembered now
