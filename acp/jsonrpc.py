"""JSON-RPC 2.0 over a message transport: one JSON object per line of a pair
of trio byte streams (stdio, a Unix socket), or one per WebSocket frame or HTTP
body (:class:`MessageTransport`).

Both peers send requests: the client asks the agent to run prompts, the agent
asks the client for permission, file contents and terminals. Every incoming
request runs in its own task, so a long ``session/prompt`` never blocks the
``session/cancel`` notification, a permission answer or an ``fs/*`` request
behind it. Notifications are handled inline, in arrival order, and must not
block.

Framing: UTF-8 JSON, one object per line, LF only. Output is ASCII-escaped, so
U+2028/U+2029 (which some line splitters treat as breaks) never appear raw.
A line longer than :data:`MAX_MESSAGE_BYTES` is refused with an error and
skipped; the connection keeps serving.

Errors are typed values: a handler raises :class:`JsonRpcError` (or one of its
subclasses) to answer with that code; any other exception is logged with its
traceback and answered with -32603 and a reference, never the traceback.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

import attrs
import trio

from agentcore.bounded_json import JsonTooDeep, loads_bounded
from agentcore.errors import ProtocolError
from agentcore.gc_pause import gc_paused

log = logging.getLogger("acp.jsonrpc")

MAX_MESSAGE_BYTES = 32 * 1024 * 1024  # bytes per line; a larger message is refused, not buffered
RECEIVE_CHUNK_BYTES = 64 * 1024  # bytes per read; one pipe buffer's worth or so
NOTIFY_BATCH_BYTES = 256 * 1024  # bytes per write when many notifications go out at once (a replay)
NOTIFY_ENCODE_CHUNK = 1000  # notifications encoded between writes of a replay
EOF_DRAIN_TIMEOUT_S = 5.0  # seconds in-flight handlers get to answer after the peer closed its side

# JSON-RPC 2.0 and ACP error codes.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
REQUEST_CANCELLED = -32800
AUTH_REQUIRED = -32000
RESOURCE_NOT_FOUND = -32002

CANCEL_REQUEST_METHOD = "$/cancel_request"

RequestId = int | str | None


class JsonRpcError(ProtocolError):
    """An error answer: raise it from a handler, or receive it from the peer."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}, {self.message!r})"


class MethodNotFound(JsonRpcError):
    def __init__(self, method: str) -> None:
        super().__init__(METHOD_NOT_FOUND, "Method not found", {"method": method})


class InvalidParams(JsonRpcError):
    """``details`` says what is wrong, e.g. ``{"path": "sessionId", "error": "required"}``."""

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(INVALID_PARAMS, f"Invalid params: {message}", details)


class RequestCancelled(JsonRpcError):
    def __init__(self) -> None:
        super().__init__(REQUEST_CANCELLED, "Request cancelled")


class RemoteError(JsonRpcError):
    """The peer answered one of our requests with an error."""


class ConnectionClosed(ProtocolError):
    """The peer closed the connection before answering."""


class PeerTimedOut(ProtocolError):
    """The peer did not answer a request within its time limit (it was told to drop it)."""

    def __init__(self, method: str, timeout_s: float) -> None:
        super().__init__(f"no answer to {method} within {timeout_s:g} s")
        self.method = method
        self.timeout_s = timeout_s


@attrs.frozen
class RequestContext:
    """Where an incoming message sits in the stream.

    ``seq`` increases by one per message received, so a handler can tell
    whether a notification (say ``session/cancel``) arrived after its request
    even if its task started later.
    """

    seq: int
    request_id: RequestId = None
    # Run after the response is on the wire (e.g. updates that must follow it).
    after_response: list[Callable[[], Awaitable[None]]] = attrs.field(factory=list, eq=False)


class Dispatcher(Protocol):
    async def handle_request(self, method: str, params: Any, ctx: RequestContext) -> Any:
        """Return the result; raise :class:`JsonRpcError` (e.g. MethodNotFound) to refuse."""
        ...

    async def handle_notification(self, method: str, params: Any, ctx: RequestContext) -> None:
        """Unknown notifications are ignored. Runs inline: must not block."""
        ...


# One encoder for every message (json.dumps with options builds a new one per call).
_ENCODER = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False)


def encode_message(message: Mapping[str, Any]) -> bytes:
    """One line: compact, ASCII-only (U+2028/2029 are escaped), LF-terminated."""
    return _ENCODER.encode(message).encode("ascii") + b"\n"


def encode_notifications(method: str, params: Sequence[Any]) -> list[bytes]:
    """``encode_message`` of each notification, with the envelope encoded once."""
    head = f'{{"jsonrpc":"2.0","method":{_ENCODER.encode(method)},"params":'.encode("ascii")
    encode = _ENCODER.encode
    with gc_paused():  # thousands of short-lived strings, no cycles
        return [head + encode(item).encode("ascii") + b"}\n" for item in params]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def decode_line(line: bytes) -> Any:
    """Parse one line; raises ValueError (including UnicodeDecodeError, and
    :class:`JsonTooDeep` past :data:`MAX_JSON_DEPTH` levels) when it is not
    acceptable JSON."""
    return loads_bounded(line.decode("utf-8"), parse_constant=_reject_constant)


def _valid_id(value: Any) -> bool:
    # bool is an int subclass but never a valid id.
    return value is None or isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _id_key(value: RequestId) -> tuple[str, RequestId]:
    # 1 and "1" are different ids; keep them apart in the in-flight table.
    return (type(value).__name__, value)


OVERSIZED = b""  # what a transport yields for a message it refused as too large


class MessageTransport(Protocol):
    """How a :class:`Connection` exchanges messages with its peer.

    ``receive_messages`` yields each incoming message (one JSON text, no
    framing) and ends when the peer closes its side; it yields
    :data:`OVERSIZED` for a message over ``max_message_bytes`` (which the
    connection answers with an error). ``send_messages`` delivers complete
    encoded messages (each ends in LF) in order; a transport without lines
    (WebSocket, HTTP) sends each as its own frame or event.
    """

    def receive_messages(self, max_message_bytes: int) -> AsyncIterator[bytes]: ...

    async def send_messages(self, messages: Sequence[bytes]) -> None: ...


class LineTransport:
    """Messages as lines of a pair of byte streams (stdio, a Unix socket)."""

    def __init__(self, receive: trio.abc.ReceiveStream, send: trio.abc.SendStream, *, prefix: bytes = b"") -> None:
        self._receive = receive
        self._send = send
        self._prefix = prefix  # bytes already read off the stream by a fast path

    async def send_messages(self, messages: Sequence[bytes]) -> None:
        await self._send.send_all(messages[0] if len(messages) == 1 else b"".join(messages))

    async def receive_messages(self, max_message_bytes: int) -> AsyncIterator[bytes]:
        """Complete lines; a line over the limit is skipped and yielded as :data:`OVERSIZED`."""
        buffer = bytearray(self._prefix)
        self._prefix = b""
        start = 0  # where the unread part of ``buffer`` begins
        scanned = 0  # bytes of ``buffer`` known to hold no newline
        discarding = False  # inside an oversized line, dropping bytes until its end
        while True:
            newline = buffer.find(b"\n", max(start, scanned))
            if newline >= 0:
                line = bytes(buffer[start:newline])
                start = scanned = newline + 1
                if discarding or len(line) > max_message_bytes:
                    discarding = False
                    yield OVERSIZED
                elif line.strip():
                    yield line
                continue
            del buffer[:start]  # drop what was read, once per chunk (not once per line)
            start = 0
            scanned = len(buffer)
            if scanned > max_message_bytes:
                discarding = True
                buffer.clear()
                scanned = 0
            chunk = await self._receive.receive_some(RECEIVE_CHUNK_BYTES)
            if not chunk:
                if discarding:
                    yield OVERSIZED
                elif buffer.strip():
                    yield bytes(buffer)
                return
            buffer += chunk


class Connection:
    """A JSON-RPC peer. ``serve()`` reads until EOF; ``request``/``notify`` send.

    Owns the tasks of incoming requests: they live in the nursery ``serve`` opens.
    Built on two byte streams (lines), or on any :class:`MessageTransport`
    (``Connection.over(transport)``).
    """

    def __init__(
        self,
        receive: trio.abc.ReceiveStream | None,
        send: trio.abc.SendStream | None,
        dispatcher: Dispatcher | None = None,
        *,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        prefix: bytes = b"",
        first_seq: int = 0,
        transport: MessageTransport | None = None,
        arrivals: Iterator[int] | None = None,
    ) -> None:
        if transport is None:
            assert receive is not None and send is not None
            transport = LineTransport(receive, send, prefix=prefix)
        self.transport = transport
        # May be set after construction: the dispatcher usually needs the connection too.
        self.dispatcher = dispatcher
        self._max_message_bytes = max_message_bytes
        # Message sequence numbers order requests and notifications by arrival; a
        # server shares one counter among its connections (``arrivals``), so a
        # cancel from one client is ordered against a prompt from another.
        self._seq = arrivals if arrivals is not None else itertools.count(first_seq)
        self._send_lock = trio.Lock()
        self._next_id = itertools.count(1)
        self._pending: dict[int, trio.MemorySendChannel[tuple[bool, Any]]] = {}
        self._in_flight: dict[tuple[str, RequestId], trio.CancelScope] = {}
        self._closed = False

    @classmethod
    def over(cls, transport: MessageTransport, dispatcher: Dispatcher | None = None, **options: Any) -> Connection:
        return cls(None, None, dispatcher, transport=transport, **options)

    @property
    def closed(self) -> bool:
        return self._closed

    # ---------------------------------------------------------------- sending

    async def send_message(self, message: Mapping[str, Any]) -> None:
        data = encode_message(message)
        async with self._send_lock:
            await self.transport.send_messages((data,))

    async def notify_many(self, method: str, params: Sequence[Any], *, batch_bytes: int = NOTIFY_BATCH_BYTES) -> None:
        """Send many notifications of one method in as few writes as possible
        (a replay of thousands of updates): lines are joined up to ``batch_bytes``."""
        step = NOTIFY_ENCODE_CHUNK  # encode a slice, send what is ready, so the peer reads while we encode
        pending: list[bytes] = []
        size = 0
        for start in range(0, len(params), step):
            for line in encode_notifications(method, params[start : start + step]):
                pending.append(line)
                size += len(line)
                if size >= batch_bytes:
                    await self._send_joined(pending)
                    pending, size = [], 0
        if pending:
            await self._send_joined(pending)

    async def _send_joined(self, lines: list[bytes]) -> None:
        async with self._send_lock:
            await self.transport.send_messages(lines)

    async def notify(self, method: str, params: Any = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        await self.send_message(message)

    async def request(self, method: str, params: Any = None, *, timeout_s: float = math.inf) -> Any:
        """Send a request and wait for its answer.

        Raises :class:`RemoteError` when the peer answers with an error,
        :class:`ConnectionClosed` when it goes away first and
        :class:`PeerTimedOut` when ``timeout_s`` passes first. If the caller is
        cancelled (or the time runs out) while waiting, the peer is told with
        ``$/cancel_request``.
        """
        if self._closed:
            raise ConnectionClosed(f"connection closed; cannot send {method}")
        request_id = next(self._next_id)
        answer_send, answer_receive = trio.open_memory_channel[tuple[bool, Any]](1)
        self._pending[request_id] = answer_send
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        try:
            await self.send_message(message)
            with trio.move_on_after(timeout_s) as deadline:
                try:
                    ok, value = await answer_receive.receive()
                except trio.EndOfChannel:
                    raise ConnectionClosed(f"connection closed while waiting for {method}") from None
            if deadline.cancelled_caught:
                await self._tell_peer_cancelled(request_id)
                raise PeerTimedOut(method, timeout_s)
        except trio.Cancelled:
            await self._tell_peer_cancelled(request_id)
            raise
        finally:
            self._pending.pop(request_id, None)
        if ok:
            return value
        raise value

    async def _tell_peer_cancelled(self, request_id: int) -> None:
        if self._closed or request_id not in self._pending:
            return
        with trio.CancelScope(shield=True):
            try:
                await self.notify(CANCEL_REQUEST_METHOD, {"requestId": request_id})
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass

    # ---------------------------------------------------------------- serving

    def _require_dispatcher(self) -> Dispatcher:
        if self.dispatcher is None:
            raise RuntimeError("Connection.dispatcher must be set before serving")
        return self.dispatcher

    async def serve(self) -> None:
        """Read and dispatch until the peer closes its side, then drain and return."""
        try:
            async with trio.open_nursery() as nursery:
                async for line in self.transport.receive_messages(self._max_message_bytes):
                    if line is OVERSIZED:
                        await self._refuse_oversized()
                    else:
                        await self._dispatch_line(line, nursery)
                self._close_pending()
                # Handlers still running get a moment to answer; waiting forever
                # for a peer that has gone would hang the process.
                nursery.cancel_scope.deadline = trio.current_time() + EOF_DRAIN_TIMEOUT_S
        finally:
            self._close_pending()

    def _close_pending(self) -> None:
        self._closed = True
        for answer_send in self._pending.values():
            answer_send.close()
        self._pending.clear()

    async def _refuse_oversized(self) -> None:
        log.warning("refused a message over %d bytes", self._max_message_bytes)
        error = JsonRpcError(
            INVALID_REQUEST,
            f"Message too large: over {self._max_message_bytes} bytes",
            {"limitBytes": self._max_message_bytes},
        )
        await self._send_error(None, error)

    async def _dispatch_line(self, line: bytes, nursery: trio.Nursery) -> None:
        seq = next(self._seq)
        try:
            message = decode_line(line)
        except JsonTooDeep as exc:
            raw_id = exc.parsed.get("id") if isinstance(exc.parsed, dict) else None
            detail = {"detail": str(exc), "limitDepth": exc.limit}
            error = JsonRpcError(INVALID_REQUEST, f"Invalid Request: {exc}", detail)
            await self._send_error(raw_id if _valid_id(raw_id) else None, error)
            return
        except ValueError as exc:
            await self._send_error(None, JsonRpcError(PARSE_ERROR, "Parse error", {"detail": str(exc)[:200]}))
            return
        if not isinstance(message, dict):
            kind = "a batch" if isinstance(message, list) else type(message).__name__
            await self._send_error(None, JsonRpcError(INVALID_REQUEST, f"Invalid Request: expected an object, got {kind}"))
            return
        raw_id = message.get("id")
        echo_id = raw_id if _valid_id(raw_id) else None
        problem = self._envelope_problem(message)
        if problem is not None:
            await self._send_error(echo_id, JsonRpcError(INVALID_REQUEST, f"Invalid Request: {problem}"))
            return
        if "method" not in message:
            self._accept_response(message)
            return
        method: str = message["method"]
        params = message.get("params")
        if "id" not in message:
            await self._run_notification(method, params, RequestContext(seq))
            return
        key = _id_key(raw_id)
        if key in self._in_flight:
            await self._send_error(raw_id, JsonRpcError(INVALID_REQUEST, "Invalid Request: id already in use"))
            return
        scope = trio.CancelScope()
        self._in_flight[key] = scope
        nursery.start_soon(self._run_request, method, params, RequestContext(seq, raw_id), scope, key)

    @staticmethod
    def _envelope_problem(message: dict[str, Any]) -> str | None:
        if message.get("jsonrpc") != "2.0":
            return 'jsonrpc must be "2.0"'
        if "id" in message and not _valid_id(message["id"]):
            return "id must be a string, an integer or null"
        if "method" in message:
            if not isinstance(message["method"], str):
                return "method must be a string"
            if "params" in message and not isinstance(message["params"], dict | list | None):
                return "params must be an object or an array"
            return None
        if "id" not in message:
            return "a message needs a method (request, notification) or an id (response)"
        if ("result" in message) == ("error" in message):
            return "a response has exactly one of result and error"
        return None

    def _accept_response(self, message: dict[str, Any]) -> None:
        response_id = message["id"]
        answer_send = self._pending.get(response_id) if isinstance(response_id, int) else None
        if answer_send is None:
            # Includes error answers with id null: the peer could not parse
            # something we sent. Nothing waits for it; note it and go on.
            log.warning("ignored a response with unknown id %r: %.200s", response_id, message.get("error"))
            return
        if "error" in message:
            error = message["error"] if isinstance(message["error"], dict) else {}
            code = error.get("code")
            value: Any = RemoteError(
                code if isinstance(code, int) else INTERNAL_ERROR,
                str(error.get("message", "error without message")),
                error.get("data"),
            )
            answer_send.send_nowait((False, value))
        else:
            answer_send.send_nowait((True, message["result"]))

    async def _run_notification(self, method: str, params: Any, ctx: RequestContext) -> None:
        if method == CANCEL_REQUEST_METHOD:
            target = params.get("requestId") if isinstance(params, dict) else None
            scope = self._in_flight.get(_id_key(target)) if _valid_id(target) else None
            if scope is not None:
                scope.cancel()
            return
        try:
            await self._require_dispatcher().handle_notification(method, params, ctx)
        except Exception:
            # A notification has no one to answer; the log is the only witness.
            log.exception("notification %s failed", method)

    async def _run_request(
        self, method: str, params: Any, ctx: RequestContext, scope: trio.CancelScope, key: tuple[str, RequestId]
    ) -> None:
        result: Any = None
        error: JsonRpcError | None = None
        try:
            with scope:
                try:
                    result = await self._require_dispatcher().handle_request(method, params, ctx)
                except JsonRpcError as exc:
                    error = exc
                except Exception:
                    error = self._internal_error(method)
            if scope.cancelled_caught:
                error = RequestCancelled()
        finally:
            self._in_flight.pop(key, None)
        if error is None:
            try:
                encode_message({"result": result})
            except (TypeError, ValueError):
                error = self._internal_error(method)
        if error is not None:
            await self._send_error(ctx.request_id, error)
            return
        await self._send_quietly({"jsonrpc": "2.0", "id": ctx.request_id, "result": result})
        for hook in ctx.after_response:
            try:
                await hook()
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                log.info("peer gone; skipped the rest of the follow-ups of %s", method)
                return
            except Exception:
                log.exception("a follow-up of %s failed", method)

    @staticmethod
    def _internal_error(method: str) -> JsonRpcError:
        ref = f"err-{next(_error_refs)}"
        log.exception("request %s failed (%s)", method, ref)
        return JsonRpcError(INTERNAL_ERROR, f"Internal error ({ref}; details are in the agent's log)")

    async def _send_error(self, request_id: RequestId, error: JsonRpcError) -> None:
        await self._send_quietly({"jsonrpc": "2.0", "id": request_id, "error": error.to_dict()})

    async def _send_quietly(self, message: Mapping[str, Any]) -> None:
        try:
            await self.send_message(message)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            log.info("peer gone; dropped a message for id %r", message.get("id"))


_error_refs = itertools.count(1)

