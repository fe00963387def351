"""A scriptable HTTP/1.1 server on 127.0.0.1 for testing HTTP clients
(LLM providers first of all) through a real socket.

Usage::

    async with open_fake_server() as server:
        server.enqueue(Reply(parts=[b"data: {...}\\n\\n", b"data: [DONE]\\n\\n"]))
        ...point a client at server.url...
        req = server.requests[0]
        assert req.json()["model"] == "gpt-4o"
        assert req.headers["authorization"] == "Bearer sk-test"
        await req.disconnected.wait()      # the client went away

* Responses are scripted in order (``enqueue``); a ``route`` answers one
  method and path every time instead (e.g. ``GET /v1/models``).
* Every request is recorded (method, path, lower-cased headers, raw body)
  before its reply is sent.
* A reply is a status, headers, and ``parts`` written one network write
  each, in ``chunked`` (each part is one HTTP chunk), ``close`` (the body
  ends when the connection closes) or ``length`` framing. A part may also be
  an async callable, awaited at that point: use it to wait for a
  ``trio.Event`` or to take a timestamp.
* ``end`` says what happens after the parts: ``"finish"`` completes the
  response, ``"drop"`` closes the connection mid-body, ``"hang"`` keeps the
  connection open and silent until the client disconnects.
* ``request.disconnected`` is set when the client closes the connection the
  request came on.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal

import attrs
import trio

Part = bytes | Callable[[], Awaitable[None]]
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests",
            500: "Internal Server Error", 503: "Service Unavailable", 529: "Overloaded"}
_MAX_HEADER_BYTES = 64 * 1024  # request heads larger than this are a client bug


@attrs.frozen
class Reply:
    status: int = 200
    headers: Sequence[tuple[str, str]] = (("content-type", "text/event-stream"),)
    parts: Sequence[Part] = ()
    framing: Literal["chunked", "close", "length"] = "chunked"
    end: Literal["finish", "drop", "hang"] = "finish"


def sse_reply(*parts: Part, **kwargs: Any) -> Reply:
    return Reply(parts=parts, **kwargs)


def json_reply(status: int, body: Any, headers: Sequence[tuple[str, str]] = ()) -> Reply:
    return Reply(
        status=status,
        headers=(("content-type", "application/json"), *headers),
        parts=(json.dumps(body).encode(),),
        framing="length",
    )


@attrs.define
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    disconnected: trio.Event = attrs.field(factory=trio.Event)

    def json(self) -> Any:
        return json.loads(self.body)


class FakeServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.requests: list[RecordedRequest] = []
        self._queue: deque[Reply] = deque()
        self._routes: dict[tuple[str, str], Reply] = {}
        self._responder: Callable[[RecordedRequest], Reply | None] | None = None
        self._request_seen = trio.Condition()

    def enqueue(self, *replies: Reply) -> None:
        self._queue.extend(replies)

    def route(self, method: str, path: str, reply: Reply) -> None:
        self._routes[(method.upper(), path)] = reply

    def respond_with(self, responder: Callable[[RecordedRequest], Reply | None]) -> None:
        """Consult ``responder`` first for every request (e.g. to answer by body
        content); when it returns None the routes and the queue are used."""
        self._responder = responder

    async def wait_for_requests(self, count: int) -> None:
        async with self._request_seen:
            while len(self.requests) < count:
                await self._request_seen.wait()

    def _next_reply(self, method: str, path: str, request: RecordedRequest | None = None) -> Reply:
        if self._responder is not None and request is not None:
            chosen = self._responder(request)
            if chosen is not None:
                return chosen
        routed = self._routes.get((method, path.split("?", 1)[0]))
        if routed is not None:
            return routed
        if self._queue:
            return self._queue.popleft()
        return json_reply(500, {"error": {"message": f"fake server: nothing scripted for {method} {path}"}})

    async def handle(self, stream: trio.SocketStream) -> None:
        seen: list[RecordedRequest] = []
        buf = bytearray()
        try:
            while True:
                request = await _read_request(stream, buf)
                if request is None:
                    return
                seen.append(request)
                self.requests.append(request)
                async with self._request_seen:
                    self._request_seen.notify_all()
                reply = self._next_reply(request.method, request.path, request)
                keep_open = await _write_reply(stream, reply)
                if not keep_open:
                    return
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return
        finally:
            for request in seen:
                request.disconnected.set()
            await trio.aclose_forcefully(stream)


async def _read_request(stream: trio.SocketStream, buf: bytearray) -> RecordedRequest | None:
    while b"\r\n\r\n" not in buf:
        data = await stream.receive_some(65536)
        if not data:
            return None
        buf += data
        if len(buf) > _MAX_HEADER_BYTES:
            raise ValueError("request head too large")
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    buf[:] = rest
    lines = head.decode("latin-1").split("\r\n")
    method, path, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = await _read_chunked(stream, buf)
    else:
        length = int(headers.get("content-length", "0"))
        while len(buf) < length:
            data = await stream.receive_some(65536)
            if not data:
                return None
            buf += data
        body = bytes(buf[:length])
        del buf[:length]
    return RecordedRequest(method=method.upper(), path=path, headers=headers, body=body)


async def _read_chunked(stream: trio.SocketStream, buf: bytearray) -> bytes:
    body = bytearray()

    async def need(pred: Callable[[], bool]) -> None:
        while not pred():
            data = await stream.receive_some(65536)
            if not data:
                raise trio.BrokenResourceError("client closed mid-body")
            buf.extend(data)

    while True:
        await need(lambda: b"\r\n" in buf)
        size_line, _, _ = bytes(buf).partition(b"\r\n")
        del buf[: len(size_line) + 2]
        size = int(size_line.split(b";")[0], 16)
        await need(lambda: len(buf) >= size + 2)
        body += buf[:size]
        del buf[: size + 2]
        if size == 0:
            return bytes(body)


async def _write_reply(stream: trio.SocketStream, reply: Reply) -> bool:
    """Send one reply; True if the connection may serve another request."""
    data_parts = [p for p in reply.parts if isinstance(p, bytes)]
    head = [f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Status')}"]
    head += [f"{k}: {v}" for k, v in reply.headers]
    if reply.framing == "chunked":
        head.append("transfer-encoding: chunked")
    elif reply.framing == "length":
        head.append(f"content-length: {sum(len(p) for p in data_parts)}")
    else:
        head.append("connection: close")
    await stream.send_all(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
    for part in reply.parts:
        if not isinstance(part, bytes):
            await part()
            continue
        if not part:
            continue
        if reply.framing == "chunked":
            await stream.send_all(b"%x\r\n%b\r\n" % (len(part), part))
        else:
            await stream.send_all(part)
    match reply.end:
        case "drop":
            return False
        case "hang":
            while await stream.receive_some(65536):
                pass  # anything the client still sends is ignored until it closes
            return False
        case "finish":
            if reply.framing == "chunked":
                await stream.send_all(b"0\r\n\r\n")
            return reply.framing != "close"


@asynccontextmanager
async def open_fake_server() -> AsyncIterator[FakeServer]:
    """Serve on an ephemeral 127.0.0.1 port for the duration of the block."""
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    server = FakeServer(port)
    async with trio.open_nursery() as nursery:
        await nursery.start(trio.serve_listeners, server.handle, listeners)
        try:
            yield server
        finally:
            nursery.cancel_scope.cancel()
