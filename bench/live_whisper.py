"""Offline recognition budgets (rows of ``python -m bench live``).

* cascade with Whisper tiny.en: end of the user's speech (the last voiced
  frame of real espeak-ng utterances played in real time) to the first
  synthesized audio, answered by the echo provider; p50 <= 1.8 s. The same
  with pocketsphinx beside it.
* word error rate over espeak-ng utterances, Whisper beside pocketsphinx.
"""

from __future__ import annotations

import importlib.util
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import trio

from agentcore import AgentCoreBuilder, SessionCreateInfo
from agentcore.frontend import Frontend
from agentcore.live.audio import Pcm, silence

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from fakes.modules import load_module  # noqa: E402  (tests/ is not a package)

_scoring = load_module("speech_scoring", Path(__file__).resolve().parent.parent / "tests" / "live" / "speech_scoring.py")
speak, words, edit_distance, RATE = _scoring.speak, _scoring.words, _scoring.edit_distance, _scoring.RATE
GAP_MS = 2_500  # the answer (echo + espeak) finishes before the next question
LATENCY_BUDGET = "p50 <= 1800 ms"
SENTENCES = (
    "what is the capital of france",
    "what is the weather in paris tomorrow",
    "remind me to call my mother this evening",
    "how far is the airport from the hotel",
    "add milk and bread to my shopping list",
    "cancel my appointment with the dentist",
)


def _wer(clips: list[bytes], stt: Any) -> float:
    stt.load()
    errors = total = 0
    for text, clip in zip(SENTENCES, clips, strict=True):
        stt.begin()
        for start in range(0, len(clip), 6_400):  # 200 ms batches, as the cascade feeds
            stt.feed(clip[start : start + 6_400])
        ref = words(text)
        errors += edit_distance(ref, words(stt.finish()))
        total += len(ref)
    return errors / total


async def _latencies(tmp: Path, clips: list[bytes], stt: Any) -> list[float]:
    from agentcore.live.cascade import CascadeBackend
    from agentcore.live.controller import VoiceConfig, VoiceController
    from agentcore.live.events import SpeechStopped
    from agentcore.live.transport import WavFileTransport

    class TimedInput(WavFileTransport):
        started_at = 0.0

        async def frames(self):  # type: ignore[override]
            self.started_at = trio.current_time()  # pacing starts once the backend is open
            async for frame in super().frames():
                yield frame

    gap = silence(GAP_MS, RATE)
    audio = Pcm(gap + b"".join(c + gap for c in clips), RATE)
    core = AgentCoreBuilder().without_builtin_tools().with_state_dir(tmp / "state").build()
    info = SessionCreateInfo(cwd=tmp, frontend=Frontend.voice(), interactive=False)
    async with core.open_session(info) as session:
        transport = TimedInput(None, None, input_pcm=audio, paced=True)
        backend = CascadeBackend(session, stt=stt)
        ends: list[int] = []
        original = backend._send.send

        async def spy(event: Any) -> None:
            if isinstance(event, SpeechStopped):
                ends.append(event.audio_end_ms)
            await original(event)

        backend._send.send = spy  # type: ignore[method-assign]
        controller = VoiceController(session, transport, lambda: backend, config=VoiceConfig(finish_idle_s=0.3, local_barge_in=False))
        metrics = (await controller.run()).metrics
    firsts = [t.first_audio_at for t in metrics.turns if t.first_audio_at is not None]
    return [(first - (transport.started_at + end / 1000)) * 1000 for first, end in zip(firsts, ends, strict=False)]


def rows(area: str) -> list[tuple[str, str, str, str]]:
    from agentcore.live.stt import PocketsphinxStt
    from agentcore.live.stt_whisper import WhisperStt, bundled_model_path

    if shutil.which("espeak-ng") is None:
        return [(area, "cascade (whisper) speech end -> first audio", "skipped: espeak-ng missing", LATENCY_BUDGET)]
    model = bundled_model_path()
    if model is None or importlib.util.find_spec("faster_whisper") is None:
        return [(area, "cascade (whisper) speech end -> first audio", "skipped: voice extra missing", LATENCY_BUDGET)]
    clips = [speak(s) for s in SENTENCES]
    out: list[tuple[str, str, str, str]] = []
    recognisers = [("whisper tiny.en", lambda: WhisperStt(model))]
    if importlib.util.find_spec("pocketsphinx") is not None:
        recognisers.append(("pocketsphinx", PocketsphinxStt))
    for name, make in recognisers:
        with tempfile.TemporaryDirectory() as tmp:
            latencies = trio.run(_latencies, Path(tmp), clips, make())
        value = f"{statistics.median(latencies):.0f} ms (p50 of {len(latencies)})" if latencies else "no answer"
        out.append((area, f"cascade ({name}) speech end -> first audio", value, LATENCY_BUDGET if name.startswith("whisper") else "-"))
    for name, make in recognisers:
        out.append((area, f"word error rate, {len(SENTENCES)} espeak-ng utterances ({name})", f"{_wer(clips, make()):.1%}",
                    "<= 10 %" if name.startswith("whisper") else "-"))  # fmt: skip
    return out
