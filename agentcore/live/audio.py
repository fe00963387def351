"""PCM helpers: 16-bit mono little-endian audio, the one format inside the live layer.

Every backend speaks 16-bit PCM, only the sample rate differs (OpenAI Realtime
24 kHz both ways, Gemini Live 16 kHz in and 24 kHz out, espeak-ng 22.05 kHz,
pocketsphinx 16 kHz), so audio moves as ``bytes`` plus a rate. Resampling is
linear interpolation in pure Python: cheap enough for 20 ms frames and speech
bandwidth, and it keeps numpy out of the dependencies.
"""

from __future__ import annotations

import array
import io
import math
import struct
import sys
import wave
from pathlib import Path

import attrs

from agentcore.errors import VoiceError

SAMPLE_WIDTH = 2  # bytes per sample: 16-bit PCM everywhere
FRAME_MS = 20  # input frame length; webrtcvad accepts 10/20/30 ms and 20 ms keeps latency low
MAX_SAMPLE = 32767
_LITTLE = sys.byteorder == "little"


class AudioFormatError(VoiceError, ValueError):
    """A WAV file or buffer that is not audio the live layer can use."""


def ms_to_bytes(ms: float, rate: int) -> int:
    """Whole samples covering ``ms`` at ``rate``, in bytes."""
    return int(rate * ms / 1000) * SAMPLE_WIDTH


def bytes_to_ms(n: int, rate: int) -> float:
    return n / SAMPLE_WIDTH / rate * 1000 if rate else 0.0


def _samples(pcm: bytes) -> array.array[int]:
    data = array.array("h")
    data.frombytes(pcm[: len(pcm) - len(pcm) % SAMPLE_WIDTH])
    if not _LITTLE:
        data.byteswap()
    return data


def _to_bytes(data: array.array[int]) -> bytes:
    if not _LITTLE:
        data = array.array("h", data)
        data.byteswap()
    return data.tobytes()


def resample(pcm: bytes, src_rate: int, dst_rate: int) -> bytes:
    """Linear-interpolation resampling of 16-bit mono PCM."""
    if src_rate == dst_rate or not pcm:
        return pcm
    src = _samples(pcm)
    n_src = len(src)
    n_dst = max(1, int(n_src * dst_rate / src_rate))
    step = src_rate / dst_rate
    last = n_src - 1
    out = array.array("h", bytes(n_dst * SAMPLE_WIDTH))
    for i in range(n_dst):
        x = i * step
        j = int(x)
        if j >= last:
            out[i] = src[last]
            continue
        s0 = src[j]
        out[i] = int(s0 + (src[j + 1] - s0) * (x - j))
    return _to_bytes(out)


def rms_dbfs(pcm: bytes) -> float:
    """Loudness of a frame in dB relative to full scale (silence is -inf)."""
    data = _samples(pcm)
    if not data:
        return -math.inf
    mean_square = sum(s * s for s in data) / len(data)
    if mean_square <= 0:
        return -math.inf
    return 10 * math.log10(mean_square / (MAX_SAMPLE * MAX_SAMPLE))


def silence(ms: float, rate: int) -> bytes:
    return bytes(ms_to_bytes(ms, rate))


def tone(ms: float, rate: int, *, freq_hz: float = 220.0, amplitude: float = 0.3) -> bytes:
    """A sine tone: a stand-in for speech where only loudness matters (VAD, fakes)."""
    n = ms_to_bytes(ms, rate) // SAMPLE_WIDTH
    peak = amplitude * MAX_SAMPLE
    data = array.array("h", (int(peak * math.sin(2 * math.pi * freq_hz * i / rate)) for i in range(n)))
    return _to_bytes(data)


def mix_down(pcm: bytes, channels: int) -> bytes:
    """Average interleaved channels into mono."""
    if channels == 1:
        return pcm
    data = _samples(pcm)
    mono = array.array("h", (sum(data[i : i + channels]) // channels for i in range(0, len(data) - channels + 1, channels)))
    return _to_bytes(mono)


@attrs.frozen
class Pcm:
    """A buffer of 16-bit mono PCM at ``rate``."""

    data: bytes
    rate: int

    @property
    def duration_ms(self) -> float:
        return bytes_to_ms(len(self.data), self.rate)

    def frames(self, frame_ms: int = FRAME_MS) -> list[bytes]:
        """Fixed-size frames; the last one is padded with silence."""
        size = ms_to_bytes(frame_ms, self.rate)
        out = [self.data[i : i + size] for i in range(0, len(self.data), size)]
        if out and len(out[-1]) < size:
            out[-1] = out[-1] + bytes(size - len(out[-1]))
        return out


def read_wav(path: Path) -> Pcm:
    """Read a PCM WAV file as 16-bit mono (stereo is mixed down)."""
    try:
        with wave.open(str(path), "rb") as w:
            if w.getsampwidth() != SAMPLE_WIDTH:
                raise AudioFormatError(f"{path}: {8 * w.getsampwidth()}-bit audio; only 16-bit PCM WAV is supported")
            raw = w.readframes(w.getnframes())
            return Pcm(mix_down(raw, w.getnchannels()), w.getframerate())
    except (wave.Error, EOFError) as exc:
        raise AudioFormatError(f"{path}: not a PCM WAV file ({exc})") from exc


def parse_wav_bytes(blob: bytes) -> Pcm:
    """Parse a WAV held in memory, tolerating the bogus sizes that streaming
    writers (``espeak-ng --stdout``) put in the header."""
    if len(blob) < 12 or blob[:4] != b"RIFF" or blob[8:12] != b"WAVE":
        raise AudioFormatError("not a RIFF/WAVE stream")
    pos, rate, channels, width = 12, 0, 1, SAMPLE_WIDTH
    while pos + 8 <= len(blob):
        chunk, size = blob[pos : pos + 4], struct.unpack("<I", blob[pos + 4 : pos + 8])[0]
        body = pos + 8
        if chunk == b"fmt ":
            _fmt, channels, rate, _brate, _align, bits = struct.unpack("<HHIIHH", blob[body : body + 16])
            width = bits // 8
        elif chunk == b"data":
            if not rate:
                raise AudioFormatError("WAV data before its fmt chunk")
            if width != SAMPLE_WIDTH:
                raise AudioFormatError(f"{8 * width}-bit audio; only 16-bit PCM is supported")
            end = len(blob) if body + size > len(blob) else body + size  # streaming writers lie about size
            return Pcm(mix_down(blob[body:end], channels), rate)
        pos = body + size + (size & 1)
    raise AudioFormatError("WAV stream has no data chunk")


def wav_bytes(pcm: Pcm) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(SAMPLE_WIDTH)
        w.setframerate(pcm.rate)
        w.writeframes(pcm.data)
    return buf.getvalue()


def write_wav(path: Path, pcm: Pcm) -> None:
    Path(path).write_bytes(wav_bytes(pcm))
