"""MCP over ACP: an MCP server the client hosts, reached over the ACP connection.

The client side is real: the official MCP SDK's low-level ``Server`` runs in
the test over anyio memory streams, and every ``mcp/message`` the agent sends
is handed to it as the inner JSON-RPC request (``requestId`` as its id); its
answer goes back as the ``{"result"}`` / ``{"error"}`` outcome. Every agent
line is checked against the official schema, ``mcp/message`` against the
unstable definitions (tests/acp/schema/mcp_over_acp.unstable.json).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
import trio
import trio.testing
from jsonschema import Draft202012Validator
from mcp.server.lowlevel import Server
from mcp.shared.message import SessionMessage

from acp_fakes import ScriptedProvider, text_reply, tool_reply
from acp_peer import Peer
from acp_schema import AgentTranscriptChecker, SchemaViolation
from agentcore.acp.agent import AgentSetup
from agentcore.acp.hub import serve_acp
from agentcore.core import AgentCoreBuilder, SessionPolicy
from agentcore.mcp import McpToolFactory
from agentcore.mcp.spec import session_specs
from agentcore.permissions import PermissionMode, Rule, RuleAction

UNSTABLE_DEFS = Path(__file__).parent / "schema" / "mcp_over_acp.unstable.json"
WAIT_S = 20.0  # seconds for a whole scenario (a cold MCP SDK import included); they take well under one
SERVER_ID = "client-tools-7f3a"  # opaque, chosen by the client
TOOL = "mcp__client__lookup"  # mcp__<server name>__<tool>


# ------------------------------------------------------------ the client side


class HostedServer:
    """The client's MCP server: the SDK's low-level Server over memory streams."""

    def __init__(self, *, hold: trio.Event | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.methods: list[str] = []  # inner methods, in arrival order
        self.call_started = trio.Event()
        self._hold = hold
        self._answers: dict[str, trio.MemorySendChannel[dict[str, Any]]] = {}
        self.server = Server("client", on_list_tools=self._list_tools, on_call_tool=self._call_tool)

    async def _list_tools(self, ctx: Any, params: Any) -> types.ListToolsResult:
        schema = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
        return types.ListToolsResult(tools=[types.Tool(name="lookup", description="Look a widget up.", input_schema=schema)])

    async def _call_tool(self, ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        self.calls.append((params.name, dict(params.arguments or {})))
        self.call_started.set()
        if self._hold is not None:
            await self._hold.wait()
        text = f"found {(params.arguments or {}).get('q')} in the editor"
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)])

    @asynccontextmanager
    async def running(self) -> AsyncIterator[HostedServer]:
        to_server, server_in = anyio.create_memory_object_stream[SessionMessage | Exception](16)
        server_out, from_server = anyio.create_memory_object_stream[SessionMessage](16)

        async def route_answers() -> None:
            async for item in from_server:
                message = item.message
                if isinstance(message, types.JSONRPCResponse):
                    outcome: dict[str, Any] = {"result": message.result}
                elif isinstance(message, types.JSONRPCError):
                    outcome = {"error": message.error.model_dump(exclude_none=True)}
                else:
                    continue  # server notifications: none in these scenarios
                self._answers.pop(str(message.id)).send_nowait(outcome)

        self._to_server = to_server
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.server.run, server_in, server_out, self.server.create_initialization_options())
            nursery.start_soon(route_answers)
            yield self
            nursery.cancel_scope.cancel()

    async def handle(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """One agent ``mcp/message`` request -> its outcome carrier."""
        assert envelope["serverId"] == SERVER_ID
        self.methods.append(envelope["method"])
        answer_send, answer_receive = trio.open_memory_channel[dict[str, Any]](1)
        self._answers[envelope["requestId"]] = answer_send
        request = types.JSONRPCRequest(jsonrpc="2.0", id=envelope["requestId"], method=envelope["method"], params=envelope.get("params"))
        await self._to_server.send(SessionMessage(request))
        return await answer_receive.receive()



class Client:
    """A small ACP client: answers the agent's requests while it waits for its own."""

    def __init__(self, peer: Peer, hosted: HostedServer, *, permission: str = "allow_once") -> None:
        self.peer = peer
        self.hosted = hosted
        self.permission = permission
        self.permission_asks: list[dict[str, Any]] = []
        self.mcp_envelopes: list[dict[str, Any]] = []
        self.notifications: list[dict[str, Any]] = []
        self.answer_override: Callable[[dict[str, Any]], Any] | None = None
        self._send_lock = trio.Lock()
        self._waiting: dict[Any, trio.MemorySendChannel[dict[str, Any]]] = {}
        self.order: list[str] = []  # "session/new answered", "tools/list", ... as seen by the client

    async def send(self, message: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.peer.send(message)

    async def start_request(self, method: str, params: Any) -> trio.MemoryReceiveChannel[dict[str, Any]]:
        rid = self.peer.next_id()
        answer_send, answer_receive = trio.open_memory_channel[dict[str, Any]](1)
        self._waiting[rid] = answer_send
        await self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        return answer_receive

    async def request(self, method: str, params: Any) -> dict[str, Any]:
        answer_receive = await self.start_request(method, params)
        with trio.fail_after(WAIT_S):
            reply = await answer_receive.receive()
        self.order.append(f"{method} answered")
        return reply

    async def run(self) -> None:
        async with trio.open_nursery() as nursery:
            while True:
                try:
                    message = await self.peer.receive()
                except EOFError:
                    return
                if "method" in message and "id" in message:
                    nursery.start_soon(self._answer, message)
                elif "method" in message:
                    self.notifications.append(message)
                else:
                    self._waiting.pop(message["id"]).send_nowait(message)

    async def _answer(self, message: dict[str, Any]) -> None:
        params = message["params"]
        if message["method"] == "mcp/message":
            self.mcp_envelopes.append(params)
            self.order.append(params["method"])
            if self.answer_override is not None and params["method"] == "tools/call":
                result = self.answer_override(params)
            else:
                result = await self.hosted.handle(params)
        elif message["method"] == "session/request_permission":
            self.permission_asks.append(params)
            self.order.append("permission asked")
            result = {"outcome": {"outcome": "selected", "optionId": self.permission}}
        else:
            raise AssertionError(f"unexpected agent request {message}")
        await self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})


# ------------------------------------------------------------ schema checks


@cache
def _unstable(name: str) -> Draft202012Validator:
    defs = json.loads(UNSTABLE_DEFS.read_text())["$defs"]
    return Draft202012Validator({"$defs": defs, "$ref": f"#/$defs/{name}"})


class McpOverAcpChecker(AgentTranscriptChecker):
    """The official checks, plus ``mcp/message`` against its unstable definition."""

    def _check_outgoing(self, message: Any, which: str = "schema.json") -> None:
        if message.get("method") != "mcp/message":
            super()._check_outgoing(message, which)
            return
        if "id" not in message:
            raise SchemaViolation(f"the agent sent mcp/message as a notification: {message}")
        errors = list(_unstable("MessageMcpRequest").iter_errors(message.get("params")))
        if errors:
            raise SchemaViolation(f"MessageMcpRequest violation: {errors[0].message}: {message}")


def _check_outcome(outcome: Any) -> Any:
    errors = list(_unstable("MessageMcpResponse").iter_errors(outcome))
    assert not errors, errors[0].message
    return outcome


# ------------------------------------------------------------ harness


def _core(provider: ScriptedProvider, state: Path, *rules: Rule) -> Any:
    return (
        AgentCoreBuilder()
        .with_env({})
        .with_provider(provider, "scripted-1")
        .with_policy(SessionPolicy(mode=PermissionMode.ASK, rules=rules))
        .with_session_tool_factory(McpToolFactory(lambda session: session_specs(session, env={})))
        .with_state_dir(state)
        .build()
    )


@asynccontextmanager
async def _connected(core: Any, hosted: HostedServer, **client: Any) -> AsyncIterator[tuple[Client, trio.testing.MemoryStream]]:
    agent_side, client_side = trio.testing.memory_stream_pair()
    peer = Peer(client_side, checker=McpOverAcpChecker(), read_timeout_s=WAIT_S)
    async with hosted.running(), trio.open_nursery() as nursery:
        nursery.start_soon(serve_acp, agent_side, agent_side, lambda: AgentSetup(core=core))
        acp_client = Client(peer, hosted, **client)
        nursery.start_soon(acp_client.run)
        init = await acp_client.request("initialize", {"protocolVersion": 1, "clientCapabilities": {}})
        assert init["result"]["agentCapabilities"]["mcpCapabilities"]["acp"] is True
        yield acp_client, client_side
        await client_side.send_eof()
        nursery.cancel_scope.cancel()


async def _new_session(client: Client, workspace: Path) -> str:
    server = {"type": "acp", "name": "client", "serverId": SERVER_ID}
    assert not list(_unstable("McpServerAcp").iter_errors(server))
    reply = await client.request("session/new", {"cwd": str(workspace), "mcpServers": [server]})
    assert "result" in reply, reply
    return reply["result"]["sessionId"]


async def _prompt(client: Client, session_id: str, text: str) -> dict[str, Any]:
    return await client.request("session/prompt", {"sessionId": session_id, "prompt": [{"type": "text", "text": text}]})


def _tool_results(provider: ScriptedProvider, index: int) -> str:
    return str(provider.requests[index].messages[-1])


# ------------------------------------------------------------ tests


async def test_the_model_calls_a_client_hosted_tool_after_the_permission_gate(tmp_path: Path, workspace: Path) -> None:
    provider = ScriptedProvider([tool_reply("call_1", TOOL, {"q": "widgets"}), text_reply("done")])
    hosted = HostedServer()
    async with _connected(_core(provider, tmp_path / "state"), hosted) as (client, _):
        session_id = await _new_session(client, workspace)
        # The client's server was asked for its tools before session/new was answered.
        assert client.order.index("tools/list") < client.order.index("session/new answered")
        reply = await _prompt(client, session_id, "look widgets up in the editor")
    assert reply["result"]["stopReason"] == "end_turn"
    assert TOOL in {t.name for t in provider.requests[0].tools}
    assert hosted.calls == [("lookup", {"q": "widgets"})]
    assert client.order.index("permission asked") < client.order.index("tools/call")
    assert client.permission_asks[0]["toolCall"]["toolCallId"] == "call_1"
    assert "found widgets in the editor" in _tool_results(provider, 1)
    # Each inner request its own requestId, never reused; every outcome a valid carrier.
    ids = [e["requestId"] for e in client.mcp_envelopes]
    assert len(ids) == len(set(ids)) and {e["serverId"] for e in client.mcp_envelopes} == {SERVER_ID}
    call = next(e for e in client.mcp_envelopes if e["method"] == "tools/call")
    assert call["params"]["name"] == "lookup" and call["params"]["arguments"] == {"q": "widgets"}
    assert call["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] == "2026-07-28"


async def test_a_deny_rule_blocks_the_client_hosted_tool(tmp_path: Path, workspace: Path) -> None:
    provider = ScriptedProvider([tool_reply("call_1", TOOL, {"q": "secrets"}), text_reply("ok")])
    hosted = HostedServer()
    core = _core(provider, tmp_path / "state", Rule.parse(TOOL, RuleAction.DENY))
    async with _connected(core, hosted) as (client, _):
        session_id = await _new_session(client, workspace)
        reply = await _prompt(client, session_id, "try the tool")
    assert reply["result"]["stopReason"] == "end_turn"
    assert hosted.calls == [] and "tools/call" not in hosted.methods
    assert client.permission_asks == []
    assert "denied" in _tool_results(provider, 1).lower()


async def test_refusing_the_permission_keeps_the_call_from_the_client(tmp_path: Path, workspace: Path) -> None:
    provider = ScriptedProvider([tool_reply("call_1", TOOL, {"q": "x"}), text_reply("ok")])
    hosted = HostedServer()
    async with _connected(_core(provider, tmp_path / "state"), hosted, permission="reject_once") as (client, _):
        session_id = await _new_session(client, workspace)
        await _prompt(client, session_id, "try the tool")
    assert len(client.permission_asks) == 1 and hosted.calls == []


async def test_malformed_mcp_messages_get_clear_errors_and_the_connection_serves_on(tmp_path: Path, workspace: Path) -> None:
    provider = ScriptedProvider([tool_reply("call_1", TOOL, {"q": "a"}), text_reply("first"),
                                 tool_reply("call_2", TOOL, {"q": "b"}), text_reply("second")])  # fmt: skip
    hosted = HostedServer()
    core = _core(provider, tmp_path / "state", Rule.parse(TOOL, RuleAction.ALLOW))
    async with _connected(core, hosted) as (client, _):
        session_id = await _new_session(client, workspace)
        bad = await client.request("mcp/message", {"serverId": SERVER_ID, "method": "tools/list"})
        assert bad["error"]["code"] == -32602 and bad["error"]["data"]["path"] == "requestId"
        not_array = await client.request("mcp/message", ["tools/list"])
        assert not_array["error"]["code"] == -32602
        # Well formed, but the agent hosts no MCP servers for the client.
        unknown = await client.request("mcp/message", {"serverId": "x", "requestId": "1", "method": "tools/list"})
        assert unknown["error"]["code"] == -33001 and unknown["error"]["data"] == {"serverId": "x"}
        await client.send({"jsonrpc": "2.0", "method": "mcp/message", "params": {"serverId": 3}})  # ignored
        # The client answers a tools/call with something that is not an outcome:
        # the model gets an error result, the session goes on.
        client.answer_override = lambda params: {"content": "not a carrier"}
        first = await _prompt(client, session_id, "first")
        client.answer_override = None
        second = await _prompt(client, session_id, "second")
    assert first["result"]["stopReason"] == "end_turn" and second["result"]["stopReason"] == "end_turn"
    assert "neither" in _tool_results(provider, 1)
    assert "found b in the editor" in _tool_results(provider, 3)
    assert hosted.calls == [("lookup", {"q": "b"})]


async def test_an_inner_mcp_error_reaches_the_model_as_an_error_result(tmp_path: Path, workspace: Path) -> None:
    provider = ScriptedProvider([tool_reply("call_1", TOOL, {"q": "a"}), text_reply("ok")])
    hosted = HostedServer()
    core = _core(provider, tmp_path / "state", Rule.parse(TOOL, RuleAction.ALLOW))
    async with _connected(core, hosted) as (client, _):
        session_id = await _new_session(client, workspace)
        client.answer_override = lambda params: _check_outcome({"error": {"code": -32603, "message": "the editor is busy"}})
        reply = await _prompt(client, session_id, "go")
    assert reply["result"]["stopReason"] == "end_turn"
    assert "the editor is busy" in _tool_results(provider, 1)


async def test_the_client_disconnecting_mid_call_ends_everything_cleanly(tmp_path: Path, workspace: Path) -> None:
    provider = ScriptedProvider([tool_reply("call_1", TOOL, {"q": "slow"}), text_reply("never")])
    hosted = HostedServer(hold=trio.Event())  # the client-side tool never finishes
    core = _core(provider, tmp_path / "state", Rule.parse(TOOL, RuleAction.ALLOW))
    agent_side, client_side = trio.testing.memory_stream_pair()
    peer = Peer(client_side, checker=McpOverAcpChecker(), read_timeout_s=WAIT_S)
    served = trio.Event()

    async def agent() -> None:
        await serve_acp(agent_side, agent_side, lambda: AgentSetup(core=core))
        served.set()

    with trio.fail_after(WAIT_S):
        async with hosted.running(), trio.open_nursery() as nursery:
            nursery.start_soon(agent)
            client = Client(peer, hosted)
            nursery.start_soon(client.run)
            await client.request("initialize", {"protocolVersion": 1, "clientCapabilities": {}})
            session_id = await _new_session(client, workspace)
            prompt = await client.start_request("session/prompt", {"sessionId": session_id, "prompt": [{"type": "text", "text": "go"}]})
            await hosted.call_started.wait()
            await client_side.send_eof()  # the editor goes away with the tool call in flight
            answer = await prompt.receive()  # the turn still ends, while the agent drains
            await served.wait()  # the agent's connection (its sessions and their MCP servers) wound down
            nursery.cancel_scope.cancel()
    assert hosted.calls == [("lookup", {"q": "slow"})]
    # The call in flight failed with the reason, and the server is not restarted: its client is gone.
    result = _tool_results(provider, 1)
    assert "the ACP client that provides it has disconnected" in result and "will not be restarted" in result
    assert answer["result"]["stopReason"] == "end_turn"
    assert len(provider.requests) <= 2  # nothing kept running after the client left


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ({"type": "acp", "name": "client"}, "client.serverId"),
        ({"type": "acp", "name": "client", "serverId": ""}, "client.serverId"),
        ({"type": "channel", "name": "client"}, "client.type"),
    ],
)
async def test_a_bad_acp_entry_refuses_session_new(tmp_path: Path, workspace: Path, entry: dict[str, Any], key: str) -> None:
    hosted = HostedServer()
    async with _connected(_core(ScriptedProvider(), tmp_path / "state"), hosted) as (client, _):
        reply = await client.request("session/new", {"cwd": str(workspace), "mcpServers": [entry]})
    assert "error" in reply and key in reply["error"]["message"]
    assert hosted.methods == []
