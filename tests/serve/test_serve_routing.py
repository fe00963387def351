"""The pieces of agent serve that need no process: where each agent message
goes on a Streamable HTTP connection, what a client that stops reading costs,
which requests pass the door, and the exposure rule."""

from __future__ import annotations

import json
from typing import Any

import pytest
import trio
from agentcore.acp.remote import auth
from agentcore.acp.remote.connection import RemoteConnection, TransportKind
from agentcore.acp.remote.errors import ExposureRefused, ServeError
from agentcore.acp.remote.outbox import OUTBOX_CAPACITY, ClientTooSlow, Outbox
from agentcore.acp.remote.settings import Listen, check_exposure, is_loopback, parse_listen

TOKEN = "t" * 64
ORIGINS = auth.own_origins("127.0.0.1", 8417, loopback=True)


def _line(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode() + b"\n"


def _drain(outbox: Outbox) -> list[dict[str, Any]]:
    found = []
    while True:
        try:
            found.append(json.loads(outbox._receive.receive_nowait()))
        except trio.WouldBlock:
            return found


async def test_http_routing_follows_the_session_of_each_message() -> None:
    conn = RemoteConnection("c1", TransportKind.HTTP)
    new = {"jsonrpc": "2.0", "id": 1, "method": "session/new", "params": {"cwd": "/", "mcpServers": []}}
    await conn.deliver(json.dumps(new).encode(), new)
    await conn.send_messages([_line({"jsonrpc": "2.0", "id": 1, "result": {"sessionId": "s1"}})])
    assert conn.stream("s1") is not None and conn.stream("s2") is None
    prompt = {"jsonrpc": "2.0", "id": 2, "method": "session/prompt", "params": {"sessionId": "s1", "prompt": []}}
    await conn.deliver(json.dumps(prompt).encode(), prompt)
    await conn.send_messages([
        _line({"jsonrpc": "2.0", "method": "session/update", "params": {"sessionId": "s1", "update": {}}}),
        _line({"jsonrpc": "2.0", "id": 7, "method": "session/request_permission", "params": {"sessionId": "s1"}}),
        _line({"jsonrpc": "2.0", "id": 2, "result": {"stopReason": "end_turn"}}),
        _line({"jsonrpc": "2.0", "method": "session/update", "params": {"sessionId": "s2", "update": {}}}),
        _line({"jsonrpc": "2.0", "method": "_agentcore/notice", "params": {}}),
    ])  # fmt: skip
    on_connection = _drain(conn.connection_stream)
    on_session = _drain(conn.session_streams["s1"])
    # The answer that established the session is on the connection stream (the client learns the id there).
    assert [m.get("id") for m in on_connection] == [1, None, None]
    assert on_connection[1]["params"]["sessionId"] == "s2"  # a session this connection does not know
    assert [m.get("method") or m.get("id") for m in on_session] == ["session/update", "session/request_permission", 2]


async def test_initialize_over_http_is_answered_to_its_post() -> None:
    conn = RemoteConnection("c1", TransportKind.HTTP)
    answer: list[bytes | None] = []
    async with trio.open_nursery() as nursery:

        async def post() -> None:
            answer.append(await conn.request(b'{"jsonrpc":"2.0","id":0,"method":"initialize"}', 0))

        nursery.start_soon(post)
        async for received in conn.receive_messages(1 << 20):
            assert json.loads(received)["method"] == "initialize"
            break
        await conn.send_messages([_line({"jsonrpc": "2.0", "id": 0, "result": {"protocolVersion": 1}})])
    assert answer and json.loads(answer[0] or b"")["result"] == {"protocolVersion": 1}
    assert _drain(conn.connection_stream) == []


async def test_websocket_keeps_one_stream_in_order() -> None:
    conn = RemoteConnection("c1", TransportKind.WEBSOCKET)
    messages = [{"jsonrpc": "2.0", "id": 1, "result": {"sessionId": "s1"}},
                {"jsonrpc": "2.0", "method": "session/update", "params": {"sessionId": "s1", "update": {}}}]  # fmt: skip
    await conn.send_messages([_line(m) for m in messages])
    assert _drain(conn.connection_stream) == messages and conn.session_streams == {}


async def test_a_client_that_stops_reading_is_dropped_not_waited_for(autojump_clock: Any) -> None:
    conn = RemoteConnection("c1", TransportKind.WEBSOCKET)
    update = _line({"jsonrpc": "2.0", "method": "session/update", "params": {"sessionId": "s1", "update": {}}})
    for _ in range(OUTBOX_CAPACITY):
        await conn.send_messages([update])  # buffered: the client may be slow for a moment
    started = trio.current_time()
    with pytest.raises(trio.BrokenResourceError):
        await conn.send_messages([update])
    assert trio.current_time() - started == pytest.approx(30.0)
    assert conn.closed.is_set() and "read nothing" in conn.close_reason
    with pytest.raises(trio.BrokenResourceError):  # later messages fail at once
        await conn.send_messages([update])


async def test_an_outbox_reports_a_slow_reader(autojump_clock: Any) -> None:
    outbox = Outbox(capacity=1, slow_timeout_s=2.0)
    await outbox.push(b"1")
    with pytest.raises(ClientTooSlow):
        await outbox.push(b"2")
    assert await outbox.next_message() == b"1"
    outbox.close()
    assert await outbox.next_message() is None


def _check(path: str = "/acp", query: bytes = b"", **headers: str) -> auth.Refusal | None:
    raw = [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
    return auth.check_request(path=path, query_string=query, headers=raw, token=TOKEN, origins=ORIGINS)


def test_the_door() -> None:
    bearer = f"Bearer {TOKEN}"
    assert _check(authorization=bearer) is None
    assert _check(authorization=f"bearer {TOKEN}") is None  # the scheme is case-insensitive
    assert _check(sec_websocket_protocol=f"acp, agentcore.bearer.{TOKEN}") is None
    assert _check() is auth.UNAUTHORIZED
    assert _check(authorization=f"Basic {TOKEN}") is auth.UNAUTHORIZED
    assert _check(authorization=bearer[:-1]) is auth.UNAUTHORIZED
    assert _check(query=f"token={TOKEN}".encode(), authorization=bearer) is auth.QUERY_TOKEN
    assert _check(query=TOKEN.encode(), authorization=bearer) is auth.QUERY_TOKEN  # a bare value too
    assert _check(query=b"api_key=anything") is auth.QUERY_TOKEN  # checked before anything else
    assert _check(query=b"v=1", authorization=bearer) is None
    assert _check(origin="http://localhost:8417", authorization=bearer) is None
    assert _check(origin="http://127.0.0.1:8417/", authorization=bearer) is None
    assert _check(origin="http://127.0.0.1:9999", authorization=bearer) is auth.FOREIGN_ORIGIN
    assert _check(origin="http://attacker.example") is auth.FOREIGN_ORIGIN  # before the token: 403, not 401
    assert _check("/health") is None
    assert _check("/health", origin="http://attacker.example") is auth.FOREIGN_ORIGIN
    assert {r.body for r in (auth.UNAUTHORIZED, auth.FOREIGN_ORIGIN, auth.QUERY_TOKEN)} == {
        b'{"error":"unauthorized"}', b'{"error":"forbidden origin"}',
        b'{"error":"credentials in the URL are refused; send Authorization: Bearer"}',
    }  # fmt: skip


def test_exposure_rule() -> None:
    assert parse_listen(None) == Listen("127.0.0.1", 8417)
    assert parse_listen("0") == Listen("127.0.0.1", 0)
    assert parse_listen("[::1]:9000") == Listen("::1", 9000)
    for host in ("127.0.0.1", "127.0.0.2", "::1", "localhost"):
        assert is_loopback(host)
        check_exposure(Listen(host, 0), allow_remote=False)
    for host in ("0.0.0.0", "::", "192.168.1.5", "example.com"):
        assert not is_loopback(host)
        with pytest.raises(ExposureRefused):
            check_exposure(Listen(host, 0), allow_remote=False)
        check_exposure(Listen(host, 0), allow_remote=True)
    with pytest.raises(ServeError):
        parse_listen("127.0.0.1:http")
