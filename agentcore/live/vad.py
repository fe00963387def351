"""Voice activity detection for the offline cascade.

A frame classifier says "speech or not" for one 20 ms frame (webrtcvad when
installed, else an energy threshold); :class:`Segmenter` turns that flicker
into utterances: speech starts after a few voiced frames (with some audio
before it kept, so the first syllable reaches the recogniser) and ends after
a stretch of silence.
"""

from __future__ import annotations

import collections
import enum
from typing import Protocol

import attrs

from agentcore.live.audio import FRAME_MS, rms_dbfs

ENERGY_SPEECH_DBFS = -40.0  # quieter than this is room noise for a close microphone
WEBRTC_AGGRESSIVENESS = 2  # 0..3; 2 rejects steady noise without clipping soft speech
START_FRAMES = 3  # 60 ms of voiced frames before an utterance counts as started
END_FRAMES = 15  # 300 ms of silence ends an utterance: short pauses stay inside it
PREROLL_FRAMES = 15  # 300 ms of audio before the start is kept for the recogniser
WEBRTC_RATES = (8_000, 16_000, 32_000, 48_000)


class FrameClassifier(Protocol):
    def is_speech(self, frame: bytes, rate: int) -> bool: ...


@attrs.frozen
class EnergyClassifier:
    threshold_dbfs: float = ENERGY_SPEECH_DBFS

    def is_speech(self, frame: bytes, rate: int) -> bool:
        return rms_dbfs(frame) > self.threshold_dbfs


class WebrtcClassifier:
    def __init__(self, aggressiveness: int = WEBRTC_AGGRESSIVENESS) -> None:
        import webrtcvad

        self._vad = webrtcvad.Vad(aggressiveness)

    def is_speech(self, frame: bytes, rate: int) -> bool:
        if rate not in WEBRTC_RATES:
            raise ValueError(f"webrtcvad needs 8/16/32/48 kHz audio, got {rate} Hz")
        return bool(self._vad.is_speech(frame, rate))


def default_classifier() -> FrameClassifier:
    try:
        return WebrtcClassifier()
    except ImportError:
        return EnergyClassifier()


class SegmentKind(enum.Enum):
    START = "start"  # payload: the pre-roll audio
    SPEECH = "speech"  # payload: one frame inside the utterance
    END = "end"  # payload: empty


@attrs.frozen
class Segment:
    kind: SegmentKind
    audio: bytes = b""
    at_ms: float = 0.0  # position in the input stream


class Segmenter:
    def __init__(
        self,
        classifier: FrameClassifier,
        rate: int,
        *,
        start_frames: int = START_FRAMES,
        end_frames: int = END_FRAMES,
        preroll_frames: int = PREROLL_FRAMES,
    ) -> None:
        self._classifier = classifier
        self._rate = rate
        self._start_frames = start_frames
        self._end_frames = end_frames
        self._preroll: collections.deque[bytes] = collections.deque(maxlen=preroll_frames)
        self._voiced = 0
        self._silent = 0
        self.in_speech = False
        self._position_ms = 0.0
        self.last_voiced_ms = 0.0  # end of the last voiced frame: where the user stopped talking

    def feed(self, frame: bytes) -> list[Segment]:
        self._position_ms += FRAME_MS
        speech = self._classifier.is_speech(frame, self._rate)
        if speech:
            self.last_voiced_ms = self._position_ms
        if not self.in_speech:
            self._preroll.append(frame)
            self._voiced = self._voiced + 1 if speech else 0
            if self._voiced >= self._start_frames:
                self.in_speech, self._silent = True, 0
                audio = b"".join(self._preroll)
                self._preroll.clear()
                return [Segment(SegmentKind.START, audio, self._position_ms)]
            return []
        self._silent = 0 if speech else self._silent + 1
        out = [Segment(SegmentKind.SPEECH, frame, self._position_ms)]
        if self._silent >= self._end_frames:
            out.append(self.end())
        return out

    def end(self) -> Segment:
        """Close the current utterance now (end of input, explicit commit)."""
        self.in_speech, self._voiced, self._silent = False, 0, 0
        return Segment(SegmentKind.END, b"", self.last_voiced_ms)
