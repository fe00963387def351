"""A phone line for tests: the caller speaks when the test says so (after the
agent finished answering, as a person on the phone would), and the agent's
speech is "played" at once into a recording."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio

from agentcore.live.audio import FRAME_MS, Pcm, silence
from agentcore.live.transport import Playout, PlayoutAccounting

RATE = 16_000
TRAILING_SILENCE_MS = 900  # after each utterance: the VAD sees it end


class CallerLine(PlayoutAccounting):
    def __init__(self, *, rate: int = RATE) -> None:
        self._rate = rate
        self.recorded = bytearray()
        self._playout = Playout(rate, self.recorded.extend, paced=False)
        self._send, self._receive = trio.open_memory_channel[bytes](math.inf)

    @property
    def input_rate(self) -> int:
        return self._rate

    @property
    def output_rate(self) -> int:
        return self._rate

    def say(self, pcm: bytes) -> None:
        """The caller says ``pcm`` (16-bit mono at the line's rate), then is silent."""
        for frame in Pcm(pcm + silence(TRAILING_SILENCE_MS, self._rate), self._rate).frames(FRAME_MS):
            self._send.send_nowait(frame)

    def hang_up(self) -> None:
        self._send.close()

    async def frames(self) -> AsyncIterator[bytes]:
        async for frame in self._receive:
            yield frame

    def play(self, item_id: str, pcm: bytes, rate: int) -> None:
        self._playout.play(item_id, pcm, rate)

    def clear_output(self) -> dict[str, int]:
        return self._playout.clear_output()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._playout.run)
            try:
                yield
            finally:
                nursery.cancel_scope.cancel()
