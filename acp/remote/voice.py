"""``/voice``: talk to a live ACP session over one WebSocket (docs/voice.md,
"Voice through the server").

The socket carries a :class:`~agentcore.live.StreamedAudioTransport`; the
offline cascade (Whisper or pocketsphinx, the session's own model, espeak-ng)
runs over it as in ``agent voice``, with the session's ``[voice]`` settings
(``stt_model``, the speech style) read the same way, against the hub's live session: what is said becomes
a prompt of *that* session, every attached ACP client sees it, and the answer
is spoken back.

The wire, after the handshake (same auth as ``/acp``; the subprotocol
``agentcore.voice`` is selected when offered, never one carrying the token):

* client, first frame, text: ``{"sessionId": ID, "sampleRate": HZ, "outputRate": HZ}``
  (``sampleRate`` defaults to 16000, ``outputRate`` to ``sampleRate``);
* server: ``{"type": "ready", "sessionId", "inputRate", "outputRate", "backend"}``;
* client, binary: 16-bit little-endian mono PCM at ``sampleRate``, any length;
* server, binary: the agent's speech, the same format at ``outputRate``, paced
  in real time;
* server, text: ``{"type": "transcript" | "state" | "notice" | "telemetry" | "clear", ...}``
  (``clear``: barge-in; drop any speech not yet played);
* client, text: ``{"type": "end"}``: no more input; the answer being spoken
  finishes, final telemetry follows, then the server closes with 1000.

A call prompts the session as a controller does, so the session's owner
approves it first (``_agentcore/session/approve``, action ``talk by voice``),
as for attaching as controller; a session nobody controls is not asked about.

Attached ACP clients get ``_agentcore/voice/transcript``, ``.../state``,
``.../notice`` and ``.../telemetry`` notifications (``sessionId`` in params),
a ``user_message_chunk`` ``session/update`` for each spoken prompt, and the
turn's updates as for any prompt.

Close codes (:class:`CloseCode`) and the errors of this module::

    ServeError
    └── VoiceRefused        the first frame, the session or the server refuses this call (a close code + reason)

Invariant: one voice call per session at a time; every task of a call lives
in :meth:`VoiceCall.run`, which returns once the socket is closed (or gone)
and the final telemetry has been sent to the session's clients.
"""

from __future__ import annotations

import enum
import json
import logging
import math
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any

import attrs
import trio
from agentcore.acp.approvals import ApprovalDenied, require_approval
from agentcore.acp.jsonrpc import ConnectionClosed
from agentcore.acp.project import content_chunk
from agentcore.acp.remote.auth import offered_subprotocols
from agentcore.acp.remote.errors import ServeError

from agentcore import WhenBusy
from agentcore.bounded_json import loads_bounded
from agentcore.live import (
    BackendError,
    BackendUnavailable,
    CascadeBackend,
    LiveUpdate,
    StateUpdate,
    StreamedAudioTransport,
    VoiceConfig,
    VoiceController,
    VoiceOptions,
    VoiceState,
    check_cascade,
    metrics_json,
    update_json,
    update_kind,
    voice_options,
)
from agentcore.messages import MessageKind, UserMessage

if TYPE_CHECKING:
    from agentcore.acp.hub import AcpHub
    from agentcore.acp.live import LiveSession

log = logging.getLogger("acp.remote")

VOICE_PATH = "/voice"
VOICE_SUBPROTOCOL = "agentcore.voice"
NOTIFY_PREFIX = "_agentcore/voice/"  # + transcript | state | notice | telemetry
BACKEND = "cascade"
DEFAULT_RATE_HZ = 16_000  # the recogniser's rate: nothing to resample on the way in
MIN_RATE_HZ, MAX_RATE_HZ = 8_000, 48_000  # telephone to studio; anything else is a mistake
START_TIMEOUT_S = 10.0  # seconds the client has to name its session after the handshake
START_MAX_CHARS = 4_096  # the first frame is a small JSON object
OUTBOUND_QUEUE_MESSAGES = 1_024  # frames waiting for a client that does not read: ~40 s of speech
CLOSE_GRACE_S = 5.0  # seconds the last messages get to reach a slow client once the call ended
APPROVAL_ACTION = "talk by voice"
APPROVAL_DETAIL = "a voice call wants to prompt this session"
CLOSE_REASON_MAX_BYTES = 123  # a close frame's reason must fit in a control frame


class CloseCode(enum.IntEnum):
    NORMAL = 1000  # the client said "end" and the answer finished
    GOING_AWAY = 1001  # the session was closed, or the server is shutting down
    BAD_START = 4400  # the first frame is not the expected JSON object
    NOT_APPROVED = 4403  # the session's owner did not approve the call
    TOO_SLOW = 4408  # the client read nothing while its queue filled
    UNKNOWN_SESSION = 4404  # no live session with that id
    BUSY = 4409  # another voice call is talking to that session
    UNAVAILABLE = 4503  # the offline cascade cannot run on this server


class VoiceRefused(ServeError):
    def __init__(self, code: CloseCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@attrs.frozen
class VoiceStart:
    session_id: str
    input_rate: int
    output_rate: int


def parse_start(text: str | None) -> VoiceStart:
    """The client's first frame; :class:`VoiceRefused` (``BAD_START``) says what is wrong with it."""
    if text is None or len(text) > START_MAX_CHARS:
        raise VoiceRefused(CloseCode.BAD_START, 'the first frame must be text: {"sessionId": ..., "sampleRate": 16000}')
    try:
        value = loads_bounded(text, max_depth=2)
    except ValueError:
        raise VoiceRefused(CloseCode.BAD_START, "the first frame is not JSON") from None
    if not isinstance(value, dict) or not isinstance(value.get("sessionId"), str) or not value["sessionId"]:
        raise VoiceRefused(CloseCode.BAD_START, "the first frame must name the session: {\"sessionId\": ...}")
    input_rate = _rate(value, "sampleRate", DEFAULT_RATE_HZ)
    return VoiceStart(value["sessionId"], input_rate, _rate(value, "outputRate", input_rate))


def _rate(value: dict[str, Any], key: str, default: int) -> int:
    rate = value.get(key, default)
    if isinstance(rate, bool) or not isinstance(rate, int) or not MIN_RATE_HZ <= rate <= MAX_RATE_HZ:
        raise VoiceRefused(CloseCode.BAD_START, f"{key} must be an integer from {MIN_RATE_HZ} to {MAX_RATE_HZ} (Hz)")
    return rate


DEFAULT_OPTIONS = VoiceOptions()  # a neutral style, the default recogniser


def check_voice(options: VoiceOptions = DEFAULT_OPTIONS) -> None:
    """Refuse before any audio flows when the offline cascade cannot run on this
    server (or the configured ``stt_model`` is not a usable model)."""
    try:
        check_cascade(stt_model=options.stt_model)
    except BackendUnavailable as exc:
        raise VoiceRefused(CloseCode.UNAVAILABLE, str(exc)) from None


def session_voice_options(session: Any) -> VoiceOptions:
    """The ``[voice]`` settings of the session's own configuration (its directory's),
    read as ``agent voice`` reads them; a relative ``stt_model`` is taken from the
    session's working directory."""
    settings = getattr(getattr(session, "policy", None), "settings", None)
    return voice_options(settings, session.cwd)


Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class VoiceCalls:
    """The server's voice calls: at most one per session."""

    def __init__(self, hub: AcpHub) -> None:
        self._hub = hub
        self.calls: dict[str, VoiceCall] = {}  # by session id
        self._watched: set[str] = set()  # sessions whose closing ends their call

    async def serve(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        """One ``/voice`` WebSocket (its request has passed the auth checks) until it closes."""
        if (await receive())["type"] != "websocket.connect":
            return
        accept: dict[str, Any] = {"type": "websocket.accept"}
        if VOICE_SUBPROTOCOL in offered_subprotocols(scope["headers"]):
            accept["subprotocol"] = VOICE_SUBPROTOCOL
        await send(accept)
        socket = VoiceSocket(receive, send)
        try:
            start = await self._start(socket)
            if start is None:
                return  # the client left before naming a session
            live = self._hub.sessions.get(start.session_id)
            if live is None:
                raise VoiceRefused(CloseCode.UNKNOWN_SESSION, "no live session with that id; open or load it over /acp first")
            options = session_voice_options(live.session)
            check_voice(options)
            with self._claim(VoiceCall(live, start, socket, options)) as call:
                await self._approved(live)
                await call.run()
        except VoiceRefused as exc:
            log.info("voice call refused: %s", exc.reason)
            await socket.close(exc.code, exc.reason)

    async def _start(self, socket: VoiceSocket) -> VoiceStart | None:
        with trio.move_on_after(START_TIMEOUT_S):
            event = await socket.receive()
            if event["type"] != "websocket.receive":
                return None
            return parse_start(event.get("text"))
        raise VoiceRefused(CloseCode.BAD_START, f"no start frame within {START_TIMEOUT_S:g} s")

    async def _approved(self, live: LiveSession) -> None:
        """A call prompts the session, as a controller does: its owner approves, as
        for attaching as controller (a session nobody controls is not asked about)."""
        try:
            await require_approval(live, None, APPROVAL_ACTION, APPROVAL_DETAIL, timeout_s=self._hub.setup().approval_timeout_s)
        except ApprovalDenied as exc:
            raise VoiceRefused(CloseCode.NOT_APPROVED, exc.message) from None

    @contextmanager
    def _claim(self, call: VoiceCall) -> Iterator[VoiceCall]:
        session = call.live.session
        if session.id in self.calls:
            raise VoiceRefused(CloseCode.BUSY, "another voice call is talking to this session")
        on_close = getattr(session, "on_close", None)  # DefaultSession (every session of a server) has it
        if session.id not in self._watched and on_close is not None:
            self._watched.add(session.id)
            on_close(partial(self._session_closed, session.id))
        self.calls[session.id] = call
        try:
            yield call
        finally:
            del self.calls[session.id]

    def _session_closed(self, session_id: str) -> None:
        self._watched.discard(session_id)
        call = self.calls.get(session_id)
        if call is not None:
            call.end(CloseCode.GOING_AWAY, "the session was closed")


class VoiceSocket:
    """The ASGI side of one accepted socket; sends nothing once the client left or it was closed."""

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send
        self.gone = False  # the client disconnected
        self.closed = False  # the server sent its close frame

    async def receive(self) -> MutableMapping[str, Any]:
        event = await self._receive()
        if event["type"] == "websocket.disconnect":
            self.gone = True
        return event

    async def send(self, message: bytes | str) -> None:
        if self.gone or self.closed:
            return
        key = "bytes" if isinstance(message, bytes) else "text"
        await self._send({"type": "websocket.send", key: message})

    async def close(self, code: CloseCode, reason: str) -> None:
        if self.gone or self.closed:
            return
        self.closed = True
        text = reason.encode("utf-8")[:CLOSE_REASON_MAX_BYTES].decode("utf-8", "ignore")
        await self._send({"type": "websocket.close", "code": int(code), "reason": text})


class SharedSessionTurns:
    """The live session as the cascade drives it (the members it uses). A spoken
    prompt is shown to every attached client first (a ``user_message_chunk``,
    as a replay shows a prompt), then replaces a running turn, as a prompt from
    any client of the server does."""

    def __init__(self, live: LiveSession) -> None:
        self.live = live
        self._session = live.session

    @property
    def events(self) -> Any:
        return self._session.events

    @property
    def extra_prompt_sections(self) -> dict[str, str]:
        return self._session.extra_prompt_sections

    def system_prompt(self) -> str:
        return self._session.system_prompt() if hasattr(self._session, "system_prompt") else ""

    def cancel(self) -> None:
        self._session.cancel()

    async def run_turn(self, prompt: UserMessage) -> Any:
        if prompt.kind is MessageKind.PROMPT and prompt.text:
            await self.live.send_update(content_chunk("user_message_chunk", prompt.text))
        return await self._session.run_turn(prompt, when_busy=WhenBusy.PREEMPT)


class VoiceCall:
    """One conversation: the socket's audio through the cascade into the live
    session; updates to the socket and to the session's attached clients."""

    def __init__(self, live: LiveSession, start: VoiceStart, socket: VoiceSocket, options: VoiceOptions = DEFAULT_OPTIONS) -> None:
        self.live = live
        self.options = options
        self._start = start
        self._socket = socket
        self._out_send, self._out_receive = trio.open_memory_channel[bytes | str](OUTBOUND_QUEUE_MESSAGES)
        # Unbounded: a few updates per spoken turn, drained by one task; a slow
        # client is cut off by its own bounded outbox, never by losing updates here.
        self._updates_send, self._updates_receive = trio.open_memory_channel[tuple[str, dict[str, Any]]](math.inf)
        self.transport = StreamedAudioTransport(
            input_rate=start.input_rate,
            output_rate=start.output_rate,
            send_audio=self._queue,
            on_clear=lambda: self._queue(CLEAR_MESSAGE),
        )
        turns = SharedSessionTurns(live)
        # As `agent voice`: the call ends once input ended and the answer finished.
        config = VoiceConfig(style=options.style)
        self.controller = VoiceController(
            live.session, self.transport, lambda: CascadeBackend(turns, style=options.style, stt_model=options.stt_model), config=config
        )
        self.controller.add_listener(self._on_update)
        self._reported_turns = 0
        self._close = (CloseCode.NORMAL, "the voice call ended")
        self._finished = False

    async def run(self) -> None:
        log.info("voice call on session %s started", self.live.id[:8])
        ready = {"type": "ready", "sessionId": self.live.id, "backend": BACKEND,
                 "inputRate": self._start.input_rate, "outputRate": self._start.output_rate}  # fmt: skip
        await self._socket.send(json.dumps(ready))
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._read)
                async with trio.open_nursery() as delivery:
                    delivery.start_soon(self._write)
                    delivery.start_soon(self._forward)
                    try:
                        await self._converse()
                    finally:
                        self._finish()
                        delivery.cancel_scope.deadline = trio.current_time() + CLOSE_GRACE_S
                nursery.cancel_scope.cancel()
        finally:
            log.info("voice call on session %s ended: %s", self.live.id[:8], self._close[1])

    async def _converse(self) -> None:
        summary = None
        try:
            summary = await self.controller.run()
        except* BackendError as group:  # raised while setting up, before the conversation
            self._close = (CloseCode.UNAVAILABLE, str(group.exceptions[0]))
        if summary is not None and not summary.ok:  # the backend failed: the run's summary says why
            self._close = (CloseCode.UNAVAILABLE, summary.message)

    def _finish(self) -> None:
        """Final telemetry after everything else; then the forwarder ends the socket."""
        self._finished = True
        final = {**metrics_json(self.controller.metrics), "final": True}
        self._updates_send.send_nowait(("telemetry", final))
        self._updates_send.close()

    # ------------------------------------------------------------ tasks

    async def _read(self) -> None:
        while True:
            event = await self._socket.receive()
            if event["type"] == "websocket.disconnect":
                self._hang_up()
                return
            if event["type"] != "websocket.receive":
                continue
            if event.get("bytes") is not None:
                try:
                    await self.transport.feed(event["bytes"])
                except trio.ClosedResourceError:
                    pass  # audio after "end": the client said it was done
            else:
                self._control(event.get("text"))

    def _control(self, text: str | None) -> None:
        try:
            message = loads_bounded(text or "", max_depth=2)
        except ValueError:
            message = None
        if isinstance(message, dict) and message.get("type") == "end":
            self.transport.end_input()
            return
        notice = {"type": "notice", "level": "warning", "text": 'unknown message; send binary audio or {"type": "end"}'}
        self._queue(json.dumps(notice))

    async def _write(self) -> None:
        async for message in self._out_receive:
            await self._socket.send(message)
        await self._socket.close(*self._close)

    async def _forward(self) -> None:
        async for kind, payload in self._updates_receive:
            self._queue(json.dumps({"type": kind, **payload}))
            await self._notify_views(NOTIFY_PREFIX + kind, {"sessionId": self.live.id, **payload})
        self._out_send.close()

    async def _notify_views(self, method: str, params: dict[str, Any]) -> None:
        for view in self.live.views:
            try:
                await view.conn.notify(method, params)
            except (ConnectionClosed, trio.BrokenResourceError, trio.ClosedResourceError):
                log.debug("a client of session %s left before %s", self.live.id[:8], method)

    # -------------------------------------------------------- callbacks

    def _queue(self, message: bytes | str) -> None:
        """To the socket, in order, never blocking the caller (the playout task, the controller)."""
        try:
            self._out_send.send_nowait(message)
        except trio.WouldBlock:
            if self._close[0] is not CloseCode.TOO_SLOW:
                log.warning("voice client of session %s reads nothing; ending the call", self.live.id[:8])
                self._close = (CloseCode.TOO_SLOW, "the client fell too far behind")
                self.controller.stop()
        except trio.ClosedResourceError:
            pass  # the call has ended

    def _on_update(self, update: LiveUpdate) -> None:
        """A listener of the controller: a turn's telemetry goes out once it is back to listening."""
        if self._finished:
            return  # the call has ended; its final telemetry is out
        self._updates_send.send_nowait((update_kind(update), update_json(update)))
        if isinstance(update, StateUpdate) and update.state is VoiceState.LISTENING:
            finished = sum(1 for turn in self.controller.metrics.turns if turn.status)
            if finished > self._reported_turns:
                self._reported_turns = finished
                self._updates_send.send_nowait(("telemetry", metrics_json(self.controller.metrics)))

    def _hang_up(self) -> None:
        self.transport.end_input()
        self.controller.stop()

    def end(self, code: CloseCode, reason: str) -> None:
        """End the call now (the session closed): the socket closes with ``code`` and ``reason``."""
        self._close = (code, reason)
        self.controller.stop()


CLEAR_MESSAGE = json.dumps({"type": "clear"})
