"""An :class:`~agentcore.live.transport.AudioTransport` over messages: a remote
client's microphone comes in as chunks of PCM, the agent's speech goes out as
chunks of PCM (``agent serve``'s ``/voice`` WebSocket is one such client).

Input chunks may have any length; :meth:`StreamedAudioTransport.feed` cuts them
into the :data:`~agentcore.live.audio.FRAME_MS` frames the control plane
expects (a trailing odd byte waits for the next chunk). Output is paced by the
shared :class:`~agentcore.live.transport.Playout` in pieces of
:data:`OUTPUT_PIECE_MS`, each handed to ``send_audio`` once its real duration
has passed: what was sent is what the client can have played, so barge-in
truncates the answer to what was heard (within one piece), and the client's
buffer never runs far ahead of the server. ``on_clear`` tells the sender that
output was cleared (barge-in), so it can tell the client to drop what it holds.

Invariant: ``send_audio`` and ``on_clear`` are synchronous and must not block
(they run on the playout task or inside :meth:`clear_output`); queue the
message and send it from a task of your own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import trio

from agentcore.live.audio import FRAME_MS, ms_to_bytes, resample
from agentcore.live.transport import Playout, PlayoutAccounting

OUTPUT_PIECE_MS = 40  # ms of speech per outgoing message: barge-in accounting within 40 ms, 25 messages a second
INPUT_QUEUE_FRAMES = 250  # 20 ms frames (5 s) waiting for the control plane before feed() waits (backpressure)


class StreamedAudioTransport(PlayoutAccounting):
    """Input pushed with :meth:`feed` (ended by :meth:`end_input`); output paced
    to ``send_audio``. Rates are 16-bit mono PCM sample rates in Hz."""

    def __init__(
        self,
        *,
        input_rate: int,
        output_rate: int,
        send_audio: Callable[[bytes], None],
        on_clear: Callable[[], None] = lambda: None,
        piece_ms: int = OUTPUT_PIECE_MS,
    ) -> None:
        self._input_rate = input_rate
        self._output_rate = output_rate
        self._on_clear = on_clear
        self._piece_bytes = ms_to_bytes(piece_ms, output_rate)
        self._frame_bytes = ms_to_bytes(FRAME_MS, input_rate)
        self._pending = bytearray()  # input not yet a whole frame
        self._playout = Playout(output_rate, send_audio, paced=True)
        self._send, self._receive = trio.open_memory_channel[bytes](INPUT_QUEUE_FRAMES)

    @property
    def input_rate(self) -> int:
        return self._input_rate

    @property
    def output_rate(self) -> int:
        return self._output_rate

    # ------------------------------------------------------------- input

    async def feed(self, pcm: bytes) -> None:
        """Queue input audio; waits while the control plane is :data:`INPUT_QUEUE_FRAMES` behind.
        Raises :class:`trio.ClosedResourceError` after :meth:`end_input`."""
        self._pending += pcm
        whole = len(self._pending) - len(self._pending) % self._frame_bytes
        chunk, self._pending = bytes(self._pending[:whole]), self._pending[whole:]
        for start in range(0, len(chunk), self._frame_bytes):
            await self._send.send(chunk[start : start + self._frame_bytes])

    def end_input(self) -> None:
        """No more input: :meth:`frames` ends once the queued frames are taken (a partial frame is dropped)."""
        self._pending.clear()
        self._send.close()

    async def frames(self) -> AsyncIterator[bytes]:
        async for frame in self._receive:
            yield frame

    # ------------------------------------------------------------ output

    def play(self, item_id: str, pcm: bytes, rate: int) -> None:
        pcm = resample(pcm, rate, self._output_rate)
        for start in range(0, len(pcm), self._piece_bytes):
            self._playout.play(item_id, pcm[start : start + self._piece_bytes], self._output_rate)

    def clear_output(self) -> dict[str, int]:
        played = self._playout.clear_output()
        if played:
            self._on_clear()
        return played

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._playout.run)
            try:
                yield
            finally:
                nursery.cancel_scope.cancel()
                self._send.close()
