"""The :class:`SpeechBackend` trait and what a backend is opened with.

A backend is one conversation with a speech model: realtime over a websocket
(OpenAI Realtime, Gemini Live) or the offline cascade. It is opened *seeded*
from the session's canonical history, instructions and tools, so a reconnect
(or a fallback to another backend) continues the same conversation. It reports
everything as :mod:`agentcore.live.events` values on :meth:`events`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import attrs
import trio

from agentcore.errors import VoiceError
from agentcore.live.events import VoiceEvent
from agentcore.llm.base import ToolSpec
from agentcore.messages import Message


class BackendError(VoiceError):
    """Base of the typed backend errors."""


class BackendConnectError(BackendError):
    """The backend could not be opened (refused, handshake rejected, timed out)."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class BackendClosedError(BackendError):
    """A call on a backend whose connection has ended."""


class BackendUnavailable(BackendError):
    """A backend's requirements are missing (a package, a system program, a key)."""


@attrs.frozen
class BackendCapabilities:
    server_vad: bool  # the backend detects speech turns itself
    truncate: bool  # the backend keeps an audio item it can truncate to what was heard
    writes_history: bool = False  # the backend runs session turns that write history itself
    resumable: bool = False  # reconnects can resume with a server-side handle


@attrs.frozen
class BackendSeed:
    """What a backend is opened with: the canonical conversation so far."""

    instructions: str
    messages: tuple[Message, ...] = ()
    tools: tuple[ToolSpec, ...] = ()
    resumption_handle: str | None = None


@runtime_checkable
class SpeechBackend(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def input_rate(self) -> int:
        """Sample rate of the audio :meth:`send_audio` expects (16-bit mono PCM)."""
        ...

    @property
    def capabilities(self) -> BackendCapabilities: ...

    async def open(self, seed: BackendSeed, nursery: trio.Nursery) -> None:
        """Connect and seed the conversation; tasks live in ``nursery`` until :meth:`close`.
        Raises :class:`BackendConnectError` when the backend cannot be reached."""
        ...

    def events(self) -> trio.MemoryReceiveChannel[VoiceEvent]:
        """The stream of events; it ends after a :class:`Disconnected`."""
        ...

    async def send_audio(self, pcm: bytes) -> None: ...

    async def commit(self) -> None:
        """End the user's audio turn (when the backend does no turn detection itself)."""
        ...

    async def create_response(self, *, instructions: str | None = None) -> None: ...

    async def cancel_response(self) -> None: ...

    async def truncate(self, item_id: str, content_index: int, audio_end_ms: int) -> None:
        """Tell the backend only ``audio_end_ms`` of an assistant item was heard."""
        ...

    async def submit_tool_output(self, call_id: str, name: str, output: str, *, respond: bool) -> None: ...

    async def inject_context(self, text: str, *, respond: bool = False) -> None:
        """Add text to the conversation the model sees (not spoken by the user)."""
        ...

    async def say(self, text: str) -> None:
        """Speak ``text`` now, as it is (a bridge phrase or an apology), as a response of its own."""
        ...

    async def update_session(self, *, instructions: str | None = None, tools: Sequence[ToolSpec] | None = None) -> None: ...

    async def close(self) -> None: ...


SAY_INSTRUCTIONS = "Say exactly this, in the conversation's language, and nothing else: {text}"


def say_instructions(text: str) -> str:
    """What a model backend is told to make it speak ``text`` verbatim."""
    return SAY_INSTRUCTIONS.format(text=text)


def seed_instructions(base: str, phase_instructions: str | None) -> str:
    return base if not phase_instructions else f"{base}\n\n# Current phase\n{phase_instructions}"


def redact(text: str, secrets: Sequence[str]) -> str:
    """Remove secrets from text that may reach a log or an event."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def tool_json_schema(spec: ToolSpec) -> dict[str, Any]:
    from agentcore.messages import thaw_json

    return thaw_json(spec.parameters)
