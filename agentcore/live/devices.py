"""Microphone and speaker through ``sounddevice`` (an optional extra).

The device callbacks run on PortAudio's threads; they hand audio to trio
through a memory channel (input) and pull from a thread-safe byte FIFO fed by
the shared :class:`Playout` engine (output). Without a sound device or the
package, :func:`open_device_transport` raises :class:`BackendUnavailable`
with what to install.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import trio

from agentcore.live.audio import FRAME_MS, SAMPLE_WIDTH, ms_to_bytes
from agentcore.live.backend import BackendUnavailable
from agentcore.live.transport import Playout, PlayoutAccounting

DEVICE_RATE = 24_000  # Hz; one rate for mic and speaker keeps the realtime path free of resampling
INPUT_QUEUE_FRAMES = 256  # ~5 s of 20 ms frames; older frames are dropped if the loop stalls


def _sounddevice() -> Any:
    try:
        import sounddevice
    except (ImportError, OSError) as exc:  # OSError: PortAudio library missing
        raise BackendUnavailable(f"microphone/speaker need the sounddevice package and PortAudio: {exc}") from exc
    return sounddevice


class DeviceTransport(PlayoutAccounting):
    """Live microphone input and speaker output."""

    def __init__(self, *, use_mic: bool, use_speaker: bool, rate: int = DEVICE_RATE) -> None:
        self._sd = _sounddevice()
        self._use_mic, self._use_speaker = use_mic, use_speaker
        self._rate = rate
        self._fifo: collections.deque[bytes] = collections.deque()
        self._fifo_lock = threading.Lock()
        self._playout = Playout(rate, self._enqueue, paced=True)
        self._send, self._receive = trio.open_memory_channel[bytes](INPUT_QUEUE_FRAMES)

    @property
    def input_rate(self) -> int:
        return self._rate

    @property
    def output_rate(self) -> int:
        return self._rate

    def _enqueue(self, chunk: bytes) -> None:
        with self._fifo_lock:
            self._fifo.append(chunk)

    def _fill(self, out: Any, frames: int, _time: Any, _status: Any) -> None:
        need = frames * SAMPLE_WIDTH
        buf = bytearray()
        with self._fifo_lock:
            while self._fifo and len(buf) < need:
                chunk = self._fifo.popleft()
                take = need - len(buf)
                buf += chunk[:take]
                if len(chunk) > take:
                    self._fifo.appendleft(chunk[take:])
        out[:] = bytes(buf) + bytes(need - len(buf))

    async def frames(self) -> AsyncIterator[bytes]:
        async for frame in self._receive:
            yield frame

    def play(self, item_id: str, pcm: bytes, rate: int) -> None:
        self._playout.play(item_id, pcm, rate)

    def clear_output(self) -> dict[str, int]:
        played = self._playout.clear_output()
        with self._fifo_lock:
            self._fifo.clear()
        return played

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        token = trio.lowlevel.current_trio_token()
        block = ms_to_bytes(FRAME_MS, self._rate) // SAMPLE_WIDTH

        def deliver(frame: bytes) -> None:
            try:
                self._send.send_nowait(frame)
            except (trio.WouldBlock, trio.ClosedResourceError):
                pass  # the loop is behind: dropping a frame beats blocking the audio thread

        def captured(data: Any, _frames: int, _time: Any, _status: Any) -> None:
            try:
                token.run_sync_soon(deliver, bytes(data))
            except trio.RunFinishedError:
                pass

        streams: list[Any] = []
        try:
            if self._use_mic:
                streams.append(self._sd.RawInputStream(samplerate=self._rate, channels=1, dtype="int16", blocksize=block, callback=captured))
            if self._use_speaker:
                streams.append(self._sd.RawOutputStream(samplerate=self._rate, channels=1, dtype="int16", blocksize=block, callback=self._fill))
        except Exception as exc:  # PortAudio reports a missing device as a plain exception
            raise BackendUnavailable(f"cannot open the sound device: {exc}") from exc
        for stream in streams:
            stream.start()
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._playout.run)
                try:
                    yield
                finally:
                    nursery.cancel_scope.cancel()
        finally:
            for stream in streams:
                stream.stop()
                stream.close()
            self._send.close()
