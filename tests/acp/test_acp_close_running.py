"""Every request is answered: closing or deleting a session while a prompt runs
answers that prompt with ``cancelled`` (it used to be left hanging forever)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio

from acp_fakes import Pause, ScriptedProvider, acp_connection, text_reply

ANSWER_TIMEOUT_S = 10.0  # a generous bound on a wait that used to be forever


@pytest.mark.parametrize("method", ["session/close", "session/delete"])
async def test_closing_a_session_answers_its_running_prompt(
    method: str, core: Any, provider: ScriptedProvider, workspace: Path
) -> None:
    pause = Pause()
    provider.add([*text_reply("partial ")[:1], pause, *text_reply("never")])
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        sid = await h.new_session()
        prompt = {"sessionId": sid, "prompt": [{"type": "text", "text": "go"}]}
        await h.peer.send({"jsonrpc": "2.0", "id": 70, "method": "session/prompt", "params": prompt})
        await pause.reached.wait()
        await h.peer.send({"jsonrpc": "2.0", "id": 71, "method": method, "params": {"sessionId": sid}})
        answers: dict[Any, dict[str, Any]] = {}
        with trio.fail_after(ANSWER_TIMEOUT_S):
            while len(answers) < 2:  # both answered, in either order (closing may await the session's clean-up)
                message = await h.peer.receive()
                if "method" in message:
                    continue  # updates of the cancelled turn
                answers[message["id"]] = message
        assert answers[71]["result"] == {}
        assert answers[70]["result"] == {"stopReason": "cancelled"}
        gone = await h.peer.request("session/prompt", prompt)
        assert gone["error"]["code"] == -32002  # the session is no longer open


async def test_a_client_that_disconnects_mid_permission_stops_the_turn(core: Any, provider: ScriptedProvider, workspace: Path) -> None:
    """The pending ask used to be taken as "the user declined", and the turn went
    on making model requests for nobody; now the turn is cancelled."""
    import trio.testing

    from acp_fakes import tool_reply
    from acp_peer import Peer
    from agentcore.acp.agent import AgentSetup
    from agentcore.acp.hub import serve_acp

    provider.add(tool_reply("call_b", "bash", {"command": "echo hi"}), text_reply("went on for nobody"))
    agent_side, client_side = trio.testing.memory_stream_pair()
    peer = Peer(client_side)
    async with trio.open_nursery() as nursery:
        served = trio.Event()

        async def serve() -> None:
            await serve_acp(agent_side, agent_side, lambda: AgentSetup(core=core))
            served.set()

        nursery.start_soon(serve)
        await peer.request("initialize", {"protocolVersion": 1, "clientCapabilities": {}})
        sid = (await peer.request("session/new", {"cwd": str(workspace), "mcpServers": []}))["result"]["sessionId"]
        await peer.send({"jsonrpc": "2.0", "id": 9, "method": "session/prompt",
                         "params": {"sessionId": sid, "prompt": [{"type": "text", "text": "run"}]}})
        while (await peer.receive()).get("method") != "session/request_permission":
            pass
        await client_side.send_eof()  # the editor went away with the question open
        with trio.fail_after(ANSWER_TIMEOUT_S):
            await served.wait()
    assert len(provider.requests) == 1  # no model request after the client left
