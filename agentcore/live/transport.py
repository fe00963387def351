"""The :class:`AudioTransport` trait and the WAV-file transport.

A transport delivers input frames and plays output. Playback is accounted per
output *item* (an assistant audio item), because barge-in must tell the
backend exactly how much of each item the user heard: :meth:`clear_output`
stops playback at once, drops what is queued and returns the milliseconds of
each interrupted item that were actually played.

:class:`Playout` is the playback engine shared by every transport: a queue of
chunks and one player task that "plays" each chunk for its real duration
(``paced``) or instantly, handing the audio to a sink (a WAV file, a sound
device) and tracking the playout clock.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Protocol, runtime_checkable

import trio

from agentcore.live.audio import FRAME_MS, Pcm, bytes_to_ms, ms_to_bytes, read_wav, resample, silence, wav_bytes

log = logging.getLogger(__name__)

TRAILING_SILENCE_MS = 1500  # appended to file input so a turn detector sees the speech end
OUTPUT_RATE_DEFAULT = 24_000  # Hz; the realtime backends' output rate, so no resampling on the hot path


@runtime_checkable
class AudioTransport(Protocol):
    @property
    def input_rate(self) -> int: ...

    @property
    def output_rate(self) -> int: ...

    def frames(self) -> AsyncIterator[bytes]:
        """Input audio: 16-bit mono PCM frames of :data:`FRAME_MS` at ``input_rate``; ends with the input."""
        ...

    def play(self, item_id: str, pcm: bytes, rate: int) -> None:
        """Queue output audio for ``item_id`` (never blocks: playback runs on its own task)."""
        ...

    def clear_output(self) -> dict[str, int]:
        """Stop playback now; return ms actually played of each item that still had audio queued."""
        ...

    def played_ms(self, item_id: str) -> int: ...

    @property
    def playing(self) -> bool: ...

    async def wait_drained(self) -> None:
        """Return once nothing is queued or playing."""
        ...

    def running(self) -> AsyncIterator[None]:
        """``async with transport.running():`` owns the transport's tasks and files."""
        ...


Sink = Callable[[bytes], None]
Clock = Callable[[], float]


class Playout:
    """Queue + player task with per-item playout accounting."""

    def __init__(self, rate: int, sink: Sink, *, paced: bool, speed: float = 1.0) -> None:
        self.rate = rate
        self._sink = sink
        self._paced = paced
        self._speed = speed  # >1 plays faster than real time (tests of timing-sensitive flows)
        self._queue: collections.deque[tuple[str, bytes]] = collections.deque()
        self._played: dict[str, float] = collections.defaultdict(float)  # item -> ms
        self._current: tuple[str, bytes, float] | None = None  # item, chunk, start time
        self._chunk_scope: trio.CancelScope | None = None
        self._wakeup = trio.Event()
        self._drained = trio.Event()
        self._drained.set()
        self.total_ms = 0.0

    def play(self, item_id: str, pcm: bytes, rate: int) -> None:
        if rate != self.rate:
            pcm = resample(pcm, rate, self.rate)
        if not pcm:
            return
        self._queue.append((item_id, pcm))
        if self._drained.is_set():
            self._drained = trio.Event()
        self._wakeup.set()

    @property
    def playing(self) -> bool:
        return self._current is not None or bool(self._queue)

    def played_ms(self, item_id: str) -> int:
        extra = 0.0
        if self._current is not None and self._current[0] == item_id:
            extra = self._elapsed_ms(self._current)
        return int(self._played.get(item_id, 0.0) + extra)

    def clear_output(self) -> dict[str, int]:
        interrupted: dict[str, int] = {}
        if self._current is not None:
            item, chunk, _start = self._current
            elapsed = self._elapsed_ms(self._current)
            self._sink(chunk[: ms_to_bytes(elapsed, self.rate)])  # what was heard, for the recording
            self._played[item] += elapsed
            self.total_ms += elapsed
            interrupted[item] = int(self._played[item])
            self._current = None
            if self._chunk_scope is not None:
                self._chunk_scope.cancel()
        for item, _chunk in self._queue:
            interrupted.setdefault(item, int(self._played.get(item, 0.0)))
        self._queue.clear()
        self._drained.set()
        return interrupted

    async def wait_drained(self) -> None:
        await self._drained.wait()

    def _elapsed_ms(self, current: tuple[str, bytes, float]) -> float:
        _item, chunk, start = current
        if not self._paced:
            return bytes_to_ms(len(chunk), self.rate)
        return min(max(0.0, (trio.current_time() - start) * 1000 * self._speed), bytes_to_ms(len(chunk), self.rate))

    async def run(self) -> None:
        while True:
            if not self._queue:
                self._current = None
                self._drained.set()
                self._wakeup = trio.Event()
                await self._wakeup.wait()
                continue
            item, chunk = self._queue.popleft()
            duration_ms = bytes_to_ms(len(chunk), self.rate)
            self._current = (item, chunk, trio.current_time())
            if self._paced:
                with trio.CancelScope() as scope:
                    self._chunk_scope = scope
                    await trio.sleep(duration_ms / 1000 / self._speed)
                self._chunk_scope = None
                if scope.cancelled_caught:
                    continue  # clear_output accounted the partial chunk
            else:
                await trio.lowlevel.checkpoint()
            if self._current is not None:
                self._sink(chunk)
                self._played[item] += duration_ms
                self.total_ms += duration_ms
                self._current = None


class PlayoutAccounting:
    """The playback half of :class:`AudioTransport` for transports that own a
    :class:`Playout` (``self._playout``)."""

    _playout: Playout

    def played_ms(self, item_id: str) -> int:
        return self._playout.played_ms(item_id)

    @property
    def playing(self) -> bool:
        return self._playout.playing

    @property
    def output_ms(self) -> float:
        return self._playout.total_ms

    async def wait_drained(self) -> None:
        await self._playout.wait_drained()


class WavFileTransport(PlayoutAccounting):
    """Input from a WAV file, output to a WAV file (or discarded).

    ``paced=True`` feeds input and plays output in real time (what a person
    would hear; with trio's ``MockClock`` it is instant and deterministic);
    ``paced=False`` runs as fast as possible.
    """

    def __init__(
        self,
        input_path: Path | None,
        output_path: Path | None = None,
        *,
        paced: bool = True,
        output_rate: int = OUTPUT_RATE_DEFAULT,
        trailing_silence_ms: int = TRAILING_SILENCE_MS,
        input_pcm: Pcm | None = None,
        speed: float = 1.0,
    ) -> None:
        if input_pcm is None and input_path is not None:
            input_pcm = read_wav(Path(input_path))  # fail before anything starts
        self._input = input_pcm
        self._output_path = Path(output_path) if output_path is not None else None
        self._paced = paced
        self._trailing_ms = trailing_silence_ms
        self._recorded = bytearray()
        self._output_rate = output_rate
        self._speed = speed
        self._playout = Playout(output_rate, self._record, paced=paced, speed=speed)
        self._record_origin: float | None = None
        self.input_finished = trio.Event()

    @property
    def input_rate(self) -> int:
        return self._input.rate if self._input is not None else OUTPUT_RATE_DEFAULT

    @property
    def output_rate(self) -> int:
        return self._output_rate

    def _record(self, chunk: bytes) -> None:
        if self._output_path is None:
            return
        if self._paced:
            # Keep the recording on the wall-clock timeline: pad the gaps with silence.
            now = trio.current_time()
            if self._record_origin is None:
                self._record_origin = now - bytes_to_ms(len(chunk), self._output_rate) / 1000 / self._speed
            chunk_ms = bytes_to_ms(len(chunk), self._output_rate)
            start_ms = (now - self._record_origin) * 1000 * self._speed - chunk_ms
            gap = ms_to_bytes(start_ms, self._output_rate) - len(self._recorded)
            if gap > 0:
                self._recorded += bytes(gap)
        self._recorded += chunk

    async def frames(self) -> AsyncIterator[bytes]:
        try:
            if self._input is None:
                return
            frames = self._input.frames(FRAME_MS)
            frames += Pcm(silence(self._trailing_ms, self._input.rate), self._input.rate).frames(FRAME_MS)
            start = trio.current_time()
            for index, frame in enumerate(frames):
                if self._paced:
                    await trio.sleep_until(start + index * FRAME_MS / 1000 / self._speed)
                else:
                    await trio.lowlevel.checkpoint()
                yield frame
        finally:
            self.input_finished.set()

    def play(self, item_id: str, pcm: bytes, rate: int) -> None:
        self._playout.play(item_id, pcm, rate)

    def clear_output(self) -> dict[str, int]:
        return self._playout.clear_output()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        self._record_origin = trio.current_time()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._playout.run)
            try:
                yield
            finally:
                nursery.cancel_scope.cancel()
                if self._output_path is not None:
                    self._output_path.write_bytes(wav_bytes(Pcm(bytes(self._recorded), self._output_rate)))
