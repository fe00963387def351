"""The local bridge's hello: a client on the server's Unix socket hands over its
environment and directory, and its sessions are set up from them (so a
different OPENAI_BASE_URL per client reaches a different model); any other
transport is refused the hello, and clients with the same environment share
one set-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio
import trio.testing

from acp_fakes import ScriptedProvider, make_core, text_reply
from acp_peer import Peer
from agentcore.acp.agent import AgentSetup, ClientInfo
from agentcore.acp.hub import open_hub
from agentcore.acp.jsonrpc import LineTransport

HELLO = "_agentcore/bridge/hello"


async def test_each_local_client_gets_a_setup_from_its_own_environment(tmp_path: Path, workspace: Path) -> None:
    server_provider, client_provider = ScriptedProvider(), ScriptedProvider()
    server_provider.add(text_reply("from the server's model"))
    client_provider.add(text_reply("from the client's model"))
    made: list[tuple[dict[str, str], Path, dict[str, Any]]] = []

    def client_setup(env: Any, cwd: Path, flags: Any) -> AgentSetup:
        made.append((dict(env), cwd, dict(flags)))
        return AgentSetup(core=make_core(client_provider, tmp_path / "client-state"))

    server_setup = lambda: AgentSetup(core=make_core(server_provider, tmp_path / "server-state"))  # noqa: E731
    async with open_hub(server_setup, keep_sessions=True, client_setup=client_setup) as hub, trio.open_nursery() as nursery:

        async def connect(transport: str) -> Peer:
            agent_side, client_side = trio.testing.memory_stream_pair()
            nursery.start_soon(partial_serve, hub, LineTransport(agent_side, agent_side), ClientInfo(transport))
            peer = Peer(client_side)
            await peer.request("initialize", {"protocolVersion": 1, "clientCapabilities": {}})
            return peer

        env = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "PATH": "/usr/bin"}
        local = await connect("unix")
        hello = await local.request(HELLO, {"env": env, "cwd": str(workspace), "flags": {"model": "m1"}})
        assert hello["result"]["version"] and hello["result"]["pid"] and hello["result"]["flags"] is True
        sid = (await local.request("session/new", {"cwd": str(workspace), "mcpServers": []}))["result"]["sessionId"]
        answer = await local.request("session/prompt", {"sessionId": sid, "prompt": [{"type": "text", "text": "hi"}]})
        assert answer["result"]["stopReason"] == "end_turn"
        assert len(client_provider.requests) == 1 and not server_provider.requests
        assert made == [(env, workspace, {"model": "m1"})]

        again = await connect("unix")  # the same environment and flags: the same set-up, not a second core
        assert "result" in await again.request(HELLO, {"env": env, "cwd": str(workspace), "flags": {"model": "m1"}})
        assert len(made) == 1
        other = await connect("unix")  # other flags: a set-up of their own
        assert "result" in await other.request(HELLO, {"env": env, "cwd": str(workspace), "flags": {"trust": True}})
        assert len(made) == 2 and made[1][2] == {"trust": True}
        bad_flags = await other.request(HELLO, {"env": env, "cwd": str(workspace), "flags": {"sandbox": "off"}})
        assert bad_flags["error"]["code"] == -32602

        remote = await connect("websocket")
        refused = await remote.request(HELLO, {"env": env, "cwd": str(workspace)})
        assert refused["error"]["code"] == -32601
        bad = await again.request(HELLO, {"env": {"A": 1}, "cwd": str(workspace)})
        assert bad["error"]["code"] == -32602
        nursery.cancel_scope.cancel()


async def partial_serve(hub: Any, transport: Any, client: Any) -> None:
    await hub.serve(transport, client=client)
