"""``LiveHandle``: what an application may do to a running voice session.

Send a typed user turn, inject context or new instructions (through the
session's :class:`~agentcore.live.steering.Steering`), push audio that did not
come from the transport, change phase, and read or set state — while
:meth:`VoiceController.run` is going. :class:`ControllerHandle` implements it
over the controller's parts (:class:`HandleHost`), so the handle reaches
nothing else.

Invariant: the handle writes to history only the way voice does (a typed
turn becomes a user message through the :class:`TranscriptReducer`, in
conversation order, or is written by the backend's own session turn), and
calls on a session that is not connected raise :class:`HandleError`, never
a backend's internal error.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from agentcore.errors import VoiceError
from agentcore.live.audio import bytes_to_ms, resample
from agentcore.live.backend import BackendClosedError
from agentcore.live.flow import Conversation, LiveUpdate, TranscriptUpdate
from agentcore.live.phases import PhaseMachine
from agentcore.live.state import VoiceState
from agentcore.live.steering import Delivery, Steering
from agentcore.live.telemetry import SessionMetrics
from agentcore.live.transcript import DEFAULT_WINDOW_TURNS, TranscriptWindow
from agentcore.messages import new_id


class HandleError(VoiceError, RuntimeError):
    """A handle call that cannot be done now (not connected, no phases, empty text)."""


class LiveHandle(Protocol):
    async def send_text(self, text: str, *, respond: bool = True) -> None:
        """A user turn typed instead of spoken; the model answers it (``respond``)."""
        ...

    async def inject_context(self, text: str, *, delivery: Delivery = Delivery.DEFERRED, respond: bool = False) -> None: ...

    async def update_instructions(self, text: str, *, delivery: Delivery = Delivery.IMMEDIATE) -> None: ...

    async def push_audio(self, pcm: bytes, rate: int) -> bool:
        """16-bit mono PCM at ``rate`` straight to the backend; False when not connected."""
        ...

    async def change_phase(self, name: str) -> bool:
        """Take the transition to ``name`` if one exists and its guard holds."""
        ...

    @property
    def state(self) -> Mapping[str, Any]:
        """The conversation's state (read-only view)."""
        ...

    def set_state(self, key: str, value: Any) -> None: ...

    @property
    def phase(self) -> str | None: ...

    @property
    def voice_state(self) -> VoiceState: ...

    @property
    def metrics(self) -> SessionMetrics: ...

    def transcript(self, turns: int = DEFAULT_WINDOW_TURNS) -> TranscriptWindow: ...


class StateView(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...

    def set(self, key: str, value: Any) -> None: ...

    def as_dict(self) -> dict[str, Any]: ...


class HandleHost(Protocol):
    """The parts of the controller the handle drives."""

    session: Any  # its history only
    conversation: Conversation
    steering: Steering
    phases: PhaseMachine | None
    store: StateView
    metrics: SessionMetrics


class ControllerHandle:
    def __init__(self, host: HandleHost, notify: Callable[[LiveUpdate], None]) -> None:
        self._host = host
        self._notify = notify  # the controller's listeners and callbacks

    def _backend(self) -> Any:
        backend = self._host.conversation.backend
        if backend is None:
            raise HandleError("the voice session is not connected (connecting, reconnecting or closed)")
        return backend

    async def send_text(self, text: str, *, respond: bool = True) -> None:
        text = text.strip()
        if not text:
            raise HandleError("send_text needs some text")
        backend = self._backend()
        reducer = self._host.conversation.reducer
        item = new_id("text_in")
        if not reducer.external_writer:
            reducer.expect_user(item)
            await reducer.user_final(item, 0, text)  # a user message in conversation order
        self._notify(TranscriptUpdate("user", item, text, final=True))
        send: Callable[..., Any] | None = getattr(backend, "send_text", None)
        try:
            if send is not None:
                await send(text, respond=respond)
            else:  # Gemini Live: client content is a user turn
                await backend.inject_context(text, respond=respond)
        except BackendClosedError as exc:
            raise HandleError(f"the voice session dropped while sending text: {exc}") from exc

    async def inject_context(self, text: str, *, delivery: Delivery = Delivery.DEFERRED, respond: bool = False) -> None:
        await self._host.steering.inject_context(text, delivery=delivery, respond=respond)

    async def update_instructions(self, text: str, *, delivery: Delivery = Delivery.IMMEDIATE) -> None:
        await self._host.steering.update_instructions(text, delivery=delivery)

    async def push_audio(self, pcm: bytes, rate: int) -> bool:
        backend = self._host.conversation.backend
        if backend is None:
            return False
        self._host.metrics.audio_in_ms += bytes_to_ms(len(pcm), rate)
        try:
            await backend.send_audio(resample(pcm, rate, backend.input_rate))
        except BackendClosedError:
            return False
        return True

    async def change_phase(self, name: str) -> bool:
        phases = self._host.phases
        if phases is None:
            raise HandleError("this voice session has no phases")
        return await phases.go(name, trigger="handle")

    @property
    def state(self) -> Mapping[str, Any]:
        return types.MappingProxyType(self._host.store.as_dict())

    def set_state(self, key: str, value: Any) -> None:
        self._host.store.set(key, value)

    @property
    def phase(self) -> str | None:
        return self._host.phases.current.name if self._host.phases is not None else None

    @property
    def voice_state(self) -> VoiceState:
        return self._host.conversation.state.state

    @property
    def metrics(self) -> SessionMetrics:
        return self._host.metrics

    def transcript(self, turns: int = DEFAULT_WINDOW_TURNS) -> TranscriptWindow:
        return TranscriptWindow.from_history(self._host.session.history.snapshot(), turns)
