"""The websocket plumbing shared by the realtime backends (trio-websocket).

A backend's connection lives in one task started in the nursery the control
plane hands to :meth:`open`: it connects, runs the subclass's handshake, then
reads JSON messages and turns each into voice events until the connection
ends, when it reports :class:`Disconnected` and closes the event stream.
Connection failures before the handshake completes are raised from ``open``
as :class:`BackendConnectError`, with secrets removed from the message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import trio
from trio_websocket import ConnectionClosed, HandshakeError, open_websocket_url

from agentcore.errors import VoiceError
from agentcore.live.backend import BackendClosedError, BackendConnectError, BackendSeed, redact
from agentcore.live.events import BackendNotice, Disconnected, VoiceEvent

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0  # handshake deadline; a realtime conversation cannot wait longer
DISCONNECT_TIMEOUT_S = 2.0  # closing handshake; the conversation is over either way
MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # session.created echoes instructions and tools; audio deltas are small
EVENT_BUFFER = 4096  # events between the socket reader and the control plane; backpressure beyond
SEEN_EVENT_IDS = 4096  # how many provider event ids are remembered to drop replays


class ProtocolViolation(VoiceError, ValueError):
    """A server message the backend cannot interpret."""


class WebSocketBackend:
    """Base for JSON-over-websocket backends. Subclasses implement
    :meth:`_handshake` and :meth:`_translate`."""

    def __init__(self, *, url: str, headers: Sequence[tuple[str, str]] = (), secrets: Sequence[str] = ()) -> None:
        self._url = url
        self._headers = [(k.encode(), v.encode()) for k, v in headers]
        self._secrets = tuple(secrets)
        self._ws: Any = None
        self._scope: trio.CancelScope | None = None
        self._send_events, self._receive_events = trio.open_memory_channel[VoiceEvent](EVENT_BUFFER)
        self._lock = trio.Lock()
        self._seen: dict[str, None] = {}
        self.closed = False

    # ----------------------------------------------------------- lifecycle

    async def open(self, seed: BackendSeed, nursery: trio.Nursery) -> None:
        await nursery.start(self._hold, seed)

    def events(self) -> trio.MemoryReceiveChannel[VoiceEvent]:
        return self._receive_events

    async def close(self) -> None:
        self.closed = True
        if self._ws is not None:
            with trio.move_on_after(DISCONNECT_TIMEOUT_S, shield=True):
                try:
                    await self._ws.aclose()
                except Exception:  # the socket may already be gone; closing is best effort
                    log.debug("closing %s websocket failed", type(self).__name__, exc_info=True)
        if self._scope is not None:
            self._scope.cancel()

    async def _hold(self, seed: BackendSeed, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        with trio.CancelScope() as scope:
            self._scope = scope
            started = False
            reason, clean = "closed", True
            try:
                async with open_websocket_url(
                    self._url,
                    extra_headers=self._headers,
                    max_message_size=MAX_MESSAGE_BYTES,
                    connect_timeout=CONNECT_TIMEOUT_S,
                    disconnect_timeout=DISCONNECT_TIMEOUT_S,
                ) as ws:
                    self._ws = ws
                    with trio.fail_after(CONNECT_TIMEOUT_S):
                        await self._handshake(seed)
                    started = True
                    task_status.started()
                    reason, clean = await self._read_loop()
            except (OSError, HandshakeError, trio.TooSlowError, ConnectionClosed, ProtocolViolation, KeyError, ValueError) as exc:
                message = redact(f"{type(self).__name__}: {_describe(exc)}", self._secrets)
                if not started:
                    raise BackendConnectError(message) from None
                reason, clean = message, False
            finally:
                self.closed = True
                if started:
                    with trio.move_on_after(DISCONNECT_TIMEOUT_S, shield=True):
                        await self._send_events.send(Disconnected(reason, clean=clean))
                self._send_events.close()

    async def _read_loop(self) -> tuple[str, bool]:
        while True:
            try:
                raw = await self._ws.get_message()
            except ConnectionClosed as exc:
                code = getattr(exc.reason, "code", None)
                # 1000 from the server is the backend ending the conversation (clean);
                # anything else, or a close we started, is a drop or our own doing
                return f"connection closed ({code})", code == 1000 and not self.closed
            try:
                message = json.loads(raw)
                if not isinstance(message, dict):
                    raise ProtocolViolation("server message is not a JSON object")
                events = list(self._translate(message))
            except (ValueError, KeyError, TypeError) as exc:
                # One malformed message must not end the conversation.
                events = [BackendNotice(f"unreadable server message: {type(exc).__name__}: {exc}", "protocol")]
            for event in events:
                await self._send_events.send(event)

    # -------------------------------------------------------- for subclasses

    async def _handshake(self, seed: BackendSeed) -> None:
        raise NotImplementedError

    def _translate(self, message: dict[str, Any]) -> Iterable[VoiceEvent]:
        raise NotImplementedError

    async def _send(self, message: dict[str, Any]) -> None:
        if self._ws is None or self.closed:
            raise BackendClosedError(f"{type(self).__name__} is not connected")
        text = json.dumps(message, separators=(",", ":"))
        async with self._lock:
            try:
                await self._ws.send_message(text)
            except ConnectionClosed as exc:
                raise BackendClosedError(f"{type(self).__name__}: connection closed while sending") from exc

    async def _receive_json(self) -> dict[str, Any]:
        """One message during the handshake."""
        message = json.loads(await self._ws.get_message())
        if not isinstance(message, dict):
            raise ProtocolViolation("server message is not a JSON object")
        return message

    def _first_time(self, event_id: str) -> bool:
        """False for an event id already seen: servers may replay or duplicate events."""
        if not event_id:
            return True
        if event_id in self._seen:
            return False
        self._seen[event_id] = None
        if len(self._seen) > SEEN_EVENT_IDS:
            self._seen.pop(next(iter(self._seen)))
        return True


def _describe(exc: BaseException) -> str:
    """The error and, when it only wraps another (trio-websocket does), its cause."""
    text = f"{type(exc).__name__}: {exc}".rstrip(": ")
    inner = exc.__cause__ or exc.__context__
    if inner is not None and not str(exc):
        text += f" ({type(inner).__name__}: {inner})"
    return text
