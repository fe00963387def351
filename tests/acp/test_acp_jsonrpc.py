"""The JSON-RPC layer, seen from the peer: framing, ids, every error path, concurrency."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
import trio.testing

from agentcore.acp.jsonrpc import (
    MAX_MESSAGE_BYTES,
    ConnectionClosed,
    Connection,
    InvalidParams,
    MethodNotFound,
    RemoteError,
    RequestContext,
)
from acp_peer import Peer
from agentcore.bounded_json import MAX_JSON_DEPTH
from acp_schema import validate_definition


class EchoDispatcher:
    """Methods for the tests: echo, fail, bad_params, wait (blocks on an event), unserialisable."""

    def __init__(self) -> None:
        self.release = trio.Event()
        self.waiting = trio.Event()
        self.notes: list[tuple[str, Any, int]] = []
        self.connection: Connection | None = None

    async def handle_request(self, method: str, params: Any, ctx: RequestContext) -> Any:
        match method:
            case "echo":
                return params
            case "fail":
                raise RuntimeError("secret internals: /home/user/.ssh/id_rsa")
            case "bad_params":
                raise InvalidParams("sessionId is required", {"path": "sessionId", "error": "required"})
            case "wait":
                self.waiting.set()
                await self.release.wait()
                return "released"
            case "unserialisable":
                return {"value": float("nan")}
            case "ask_peer":
                assert self.connection is not None
                return await self.connection.request("client/thing", {"q": 1})
        raise MethodNotFound(method)

    async def handle_notification(self, method: str, params: Any, ctx: RequestContext) -> None:
        self.notes.append((method, params, ctx.seq))
        if method == "release":
            self.release.set()


@asynccontextmanager
async def connected(**kwargs: Any) -> AsyncIterator[tuple[Peer, EchoDispatcher, Connection]]:
    agent_side, client_side = trio.testing.memory_stream_pair()
    dispatcher = EchoDispatcher()
    conn = Connection(agent_side, agent_side, dispatcher, **kwargs)
    dispatcher.connection = conn
    async with trio.open_nursery() as nursery:
        nursery.start_soon(conn.serve)
        yield Peer(client_side), dispatcher, conn
        nursery.cancel_scope.cancel()


def assert_error(message: dict[str, Any], code: int, request_id: Any) -> dict[str, Any]:
    assert message["jsonrpc"] == "2.0"
    assert "result" not in message
    assert message["id"] == request_id and type(message["id"]) is type(request_id)
    assert message["error"]["code"] == code, message
    validate_definition("Error", message["error"])
    return message["error"]


@pytest.mark.parametrize("request_id", [7, 0, -3, 2**53 + 1, "abc", "", "ünï", "1"])
async def test_ids_are_echoed_exactly(request_id: Any) -> None:
    async with connected() as (peer, _, _):
        reply = await peer.request("echo", {"x": [1, "two"]}, request_id=request_id)
        assert reply == {"jsonrpc": "2.0", "id": request_id, "result": {"x": [1, "two"]}}


async def test_output_is_one_ascii_line_even_for_line_separators() -> None:
    async with connected() as (peer, _, _):
        text = "a\u2028b\u2029c\nd é 🎉"
        reply = await peer.request("echo", {"t": text})
        line = peer.raw_lines[-1]
        assert line.isascii() and b"\n" not in line and b"\r" not in line
        assert b"\\u2028" in line and b"\\u2029" in line
        assert reply["result"]["t"] == text


async def test_parse_error_has_null_id_and_connection_keeps_serving() -> None:
    async with connected() as (peer, _, _):
        await peer.send_raw(b'{"jsonrpc": "2.0", "id": 1, "method": \n')
        assert_error(await peer.receive(), -32700, None)
        await peer.send_raw(b"\xff\xfe not utf-8\n")
        assert_error(await peer.receive(), -32700, None)
        await peer.send_raw(b'{"jsonrpc":"2.0","id":2,"method":"echo","params":[NaN]}\n')
        assert_error(await peer.receive(), -32700, None)
        assert (await peer.request("echo", [1]))["result"] == [1]


@pytest.mark.parametrize("deep", [b"[" * 150 + b"]" * 150, b'{"a":' * 150 + b"1" + b"}" * 150])
async def test_deeply_nested_line_gets_32600_and_the_connection_keeps_serving(deep: bytes) -> None:
    async with connected() as (peer, _, _):
        await peer.send_raw(b'{"jsonrpc":"2.0","id":7,"method":"echo","params":[' + deep + b"]}\n")
        error = assert_error(await peer.receive(), -32600, 7)  # the parser got through it: id echoed
        assert f"more than {MAX_JSON_DEPTH} levels" in error["message"]
        assert error["data"]["limitDepth"] == MAX_JSON_DEPTH
        await peer.send_raw(b'{"jsonrpc":"2.0","id":8,"params":' + b"[" * 200_000 + b"\n")  # too deep to parse
        assert_error(await peer.receive(), -32600, None)
        assert (await peer.request("echo", ["still here"]))["result"] == ["still here"]


@pytest.mark.parametrize(
    ("message", "echo_id"),
    [
        (5, None),
        ([{"jsonrpc": "2.0", "id": 1, "method": "echo"}], None),
        ({"id": 3, "method": "echo"}, 3),
        ({"jsonrpc": "1.0", "id": 4, "method": "echo"}, 4),
        ({"jsonrpc": "2.0", "id": 5, "method": 12}, 5),
        ({"jsonrpc": "2.0", "id": 6, "method": "echo", "params": "str"}, 6),
        ({"jsonrpc": "2.0", "id": 1.5, "method": "echo"}, None),
        ({"jsonrpc": "2.0", "id": True, "method": "echo"}, None),
        ({"jsonrpc": "2.0", "id": {"a": 1}, "method": "echo"}, None),
        ({"jsonrpc": "2.0"}, None),
        ({"jsonrpc": "2.0", "id": 9}, 9),
    ],
)
async def test_invalid_requests_get_32600(message: Any, echo_id: Any) -> None:
    async with connected() as (peer, _, _):
        await peer.send_raw(json.dumps(message).encode() + b"\n")
        error = assert_error(await peer.receive(), -32600, echo_id)
        assert error["message"].startswith("Invalid Request")
        assert (await peer.request("echo", ["ok"]))["result"] == ["ok"]


@pytest.mark.parametrize("method", ["nope", "session/nope", "_vendor/thing", "_"])
async def test_unknown_methods_get_32601(method: str) -> None:
    async with connected() as (peer, _, _):
        error = assert_error(await peer.request(method, {}, request_id=11), -32601, 11)
        assert error["data"] == {"method": method}


async def test_unknown_notifications_are_ignored_silently() -> None:
    async with connected() as (peer, dispatcher, _):
        await peer.notify("_vendor/ping", {"x": 1})
        await peer.notify("made/up")
        # The next line on the wire is the answer to this request: nothing was sent for the notifications.
        reply = await peer.request("echo", [1], request_id=99)
        assert reply["id"] == 99
        assert [n[0] for n in dispatcher.notes] == ["_vendor/ping", "made/up"]


async def test_invalid_params_carry_details() -> None:
    async with connected() as (peer, _, _):
        error = assert_error(await peer.request("bad_params", {}, request_id="p"), -32602, "p")
        assert "sessionId" in error["message"]
        assert error["data"] == {"path": "sessionId", "error": "required"}


async def test_internal_errors_do_not_leak_details() -> None:
    async with connected() as (peer, _, _):
        error = assert_error(await peer.request("fail", request_id=1), -32603, 1)
        text = json.dumps(error)
        assert "secret" not in text and "Traceback" not in text and "RuntimeError" not in text
        error = assert_error(await peer.request("unserialisable", request_id=2), -32603, 2)
        assert (await peer.request("echo", ["still here"]))["result"] == ["still here"]


async def test_cancel_request_answers_32800() -> None:
    async with connected() as (peer, dispatcher, _):
        await peer.send({"jsonrpc": "2.0", "id": "slow", "method": "wait"})
        await dispatcher.waiting.wait()
        await peer.notify("$/cancel_request", {"requestId": "slow"})
        assert_error(await peer.receive(), -32800, "slow")
        # Cancelling something unknown is a no-op, and the connection still serves.
        await peer.notify("$/cancel_request", {"requestId": 12345})
        assert (await peer.request("echo", [3]))["result"] == [3]


async def test_running_request_never_blocks_notifications_or_other_requests() -> None:
    async with connected() as (peer, dispatcher, _):
        await peer.send({"jsonrpc": "2.0", "id": 1, "method": "wait"})
        await dispatcher.waiting.wait()
        assert (await peer.request("echo", ["meanwhile"], request_id=2))["result"] == ["meanwhile"]
        await peer.notify("release")
        assert (await peer.response_to(1))["result"] == "released"
        seqs = [seq for _, _, seq in dispatcher.notes]
        assert seqs and seqs[0] > 1  # the notification came after both requests


async def test_duplicate_in_flight_id_is_refused() -> None:
    async with connected() as (peer, dispatcher, _):
        await peer.send({"jsonrpc": "2.0", "id": 1, "method": "wait"})
        await dispatcher.waiting.wait()
        await peer.send({"jsonrpc": "2.0", "id": 1, "method": "echo"})
        assert_error(await peer.receive(), -32600, 1)
        await peer.notify("release")
        assert (await peer.response_to(1))["result"] == "released"


async def test_error_response_with_null_id_is_tolerated() -> None:
    async with connected() as (peer, _, _):
        await peer.send({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}})
        await peer.send({"jsonrpc": "2.0", "id": 424242, "result": {}})  # answer to nothing
        assert (await peer.request("echo", ["fine"]))["result"] == ["fine"]


async def test_oversized_message_is_refused_and_serving_continues() -> None:
    limit = 1024
    async with connected(max_message_bytes=limit) as (peer, _, _):
        big = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "echo", "params": ["x" * (limit * 3)]})
        # Split across writes so the refusal happens while the line is still arriving.
        for start in range(0, len(big), 500):
            await peer.send_raw(big[start : start + 500].encode())
        await peer.send_raw(b"\n")
        error = assert_error(await peer.receive(), -32600, None)
        assert "too large" in error["message"]
        assert (await peer.request("echo", ["after"]))["result"] == ["after"]


async def test_default_limit_is_32_mib_and_a_big_message_under_it_is_fine() -> None:
    assert MAX_MESSAGE_BYTES == 32 * 1024 * 1024
    async with connected() as (peer, _, _):
        payload = "y" * (4 * 1024 * 1024)
        assert (await peer.request("echo", [payload]))["result"] == [payload]
        await peer.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"echo","params":["' + b"z" * MAX_MESSAGE_BYTES + b'"]}\n')
        assert_error(await peer.receive(), -32600, None)
        assert (await peer.request("echo", ["small"]))["result"] == ["small"]


async def test_outgoing_requests_get_results_and_errors() -> None:
    async with connected() as (peer, _, _):
        await peer.send({"jsonrpc": "2.0", "id": "a", "method": "ask_peer"})
        asked = await peer.receive()
        assert asked["method"] == "client/thing" and asked["params"] == {"q": 1}
        await peer.answer(asked["id"], {"answer": 42})
        assert (await peer.response_to("a"))["result"] == {"answer": 42}

        await peer.send({"jsonrpc": "2.0", "id": "b", "method": "ask_peer"})
        asked = await peer.receive()
        await peer.send({"jsonrpc": "2.0", "id": asked["id"], "error": {"code": -32002, "message": "no such file"}})
        # The dispatcher let RemoteError rise: it is a JsonRpcError, so its code is passed on.
        error = assert_error(await peer.response_to("b"), -32002, "b")
        assert error["message"] == "no such file"


async def test_cancelled_outgoing_request_tells_the_peer() -> None:
    async with connected() as (peer, _, conn):
        async with trio.open_nursery() as nursery:
            result: list[Any] = []

            async def ask() -> None:
                with trio.CancelScope() as scope:
                    cancel_scopes.append(scope)
                    result.append(await conn.request("client/slow"))

            cancel_scopes: list[trio.CancelScope] = []
            nursery.start_soon(ask)
            asked = await peer.receive()
            cancel_scopes[0].cancel()
            note = await peer.receive()
            assert note == {"jsonrpc": "2.0", "method": "$/cancel_request", "params": {"requestId": asked["id"]}}
        assert result == []


async def test_peer_closing_fails_pending_requests() -> None:
    agent_side, client_side = trio.testing.memory_stream_pair()
    dispatcher = EchoDispatcher()
    conn = Connection(agent_side, agent_side, dispatcher)
    outcome: list[BaseException] = []

    async def ask() -> None:
        try:
            await conn.request("client/thing")
        except ConnectionClosed as exc:
            outcome.append(exc)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(conn.serve)
        nursery.start_soon(ask)
        peer = Peer(client_side)
        await peer.receive()
        await client_side.send_eof()
    assert len(outcome) == 1
    with pytest.raises(ConnectionClosed):
        await conn.request("after/close")


async def test_remote_error_is_a_jsonrpc_error_with_code() -> None:
    err = RemoteError(-32000, "auth", {"x": 1})
    assert err.to_dict() == {"code": -32000, "message": "auth", "data": {"x": 1}}


async def test_after_response_hooks_run_after_the_response() -> None:
    class Hooked(EchoDispatcher):
        async def handle_request(self, method: str, params: Any, ctx: RequestContext) -> Any:
            assert self.connection is not None
            conn = self.connection

            async def follow_up() -> None:
                await conn.notify("after", {"n": 1})

            ctx.after_response.append(follow_up)
            return "first"

    agent_side, client_side = trio.testing.memory_stream_pair()
    dispatcher = Hooked()
    conn = Connection(agent_side, agent_side, dispatcher)
    dispatcher.connection = conn
    async with trio.open_nursery() as nursery:
        nursery.start_soon(conn.serve)
        peer = Peer(client_side)
        await peer.send({"jsonrpc": "2.0", "id": 1, "method": "x"})
        assert (await peer.receive())["result"] == "first"
        assert (await peer.receive())["method"] == "after"
        nursery.cancel_scope.cancel()
