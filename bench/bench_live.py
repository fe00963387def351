"""Voice live layer budgets.

* backend audio delta -> transport: parse the provider's JSON event, translate
  it, dispatch it through the control plane and queue it for playback
  (p50 <= 5 ms);
* barge-in: from the user's speech being detected to output cleared, the
  response cancelled and the item truncated in history (<= 50 ms);
* offline cascade: end of the user's speech (last voiced frame of a real
  espeak-ng utterance, played in real time) to the first synthesized audio,
  answered by the echo provider (< 1.5 s).
"""

from __future__ import annotations

import base64
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import trio

from agentcore import AgentCoreBuilder, SessionCreateInfo
from bench import live_extraction, live_rules, live_whisper
from agentcore.frontend import Frontend
from agentcore.live.audio import tone
from agentcore.live.controller import VoiceConfig, VoiceController
from agentcore.live.events import ResponseStarted, SpeechStarted
from agentcore.live.openai_realtime import OpenAIRealtimeBackend
from agentcore.live.transport import WavFileTransport

AREA = "live"
DELTAS = 500  # audio deltas measured
DELTA_MS = 100  # typical OpenAI Realtime delta length
BARGE_INS = 50
FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "live" / "fixtures" / "hello_there.wav"


def _session_info(tmp: Path) -> SessionCreateInfo:
    return SessionCreateInfo(cwd=tmp, frontend=Frontend.voice(), interactive=False)


async def _hot_path(tmp: Path) -> tuple[list[float], list[float]]:
    core = AgentCoreBuilder().without_builtin_tools().with_state_dir(tmp / "state").build()
    async with core.open_session(_session_info(tmp)) as session:
        transport = WavFileTransport(None, None, input_pcm=None)
        backend = OpenAIRealtimeBackend(api_key="bench")
        controller = VoiceController(session, transport, lambda: backend)
        conv = controller.conversation
        conv.backend = backend
        conv.to(conv.state.state.__class__.LISTENING)
        pcm = base64.b64encode(tone(DELTA_MS, 24_000)).decode()
        delta_ms: list[float] = []
        barge_ms: list[float] = []
        for turn in range(BARGE_INS):
            rid, item = f"resp_{turn}", f"item_{turn}"
            await conv.dispatch(ResponseStarted(rid))
            for n in range(DELTAS // BARGE_INS):
                raw = json.dumps({"type": "response.output_audio.delta", "event_id": f"ev_{turn}_{n}", "response_id": rid, "item_id": item, "output_index": 0, "content_index": 0, "delta": pcm})
                start = time.perf_counter()
                for event in backend._translate(json.loads(raw)):
                    await conv.dispatch(event)
                delta_ms.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            await conv.dispatch(SpeechStarted(f"user_{turn}"))
            barge_ms.append((time.perf_counter() - start) * 1000)
            transport.clear_output()
    return delta_ms, barge_ms


class _TimedInput(WavFileTransport):
    started_at: float | None = None

    async def frames(self):  # type: ignore[override]
        self.started_at = trio.current_time()
        async for frame in super().frames():
            yield frame


async def _cascade(tmp: Path) -> float | None:
    from agentcore.live.cascade import CascadeBackend
    from agentcore.live.events import SpeechStopped

    core = AgentCoreBuilder().without_builtin_tools().with_state_dir(tmp / "state").build()
    async with core.open_session(_session_info(tmp)) as session:
        transport = _TimedInput(FIXTURE, None, paced=True, trailing_silence_ms=800)
        stopped: list[int] = []
        backend = CascadeBackend(session)
        original = backend._send.send

        async def spy(event: Any) -> None:
            if isinstance(event, SpeechStopped):
                stopped.append(event.audio_end_ms)
            await original(event)

        backend._send.send = spy  # type: ignore[method-assign]
        controller = VoiceController(session, transport, lambda: backend, config=VoiceConfig(finish_idle_s=0.3))
        metrics = (await controller.run()).metrics
    if not metrics.turns or metrics.turns[0].first_audio_at is None or not stopped or transport.started_at is None:
        return None
    speech_end = transport.started_at + stopped[0] / 1000
    return (metrics.turns[0].first_audio_at - speech_end) * 1000


def run() -> list[tuple[str, str, str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        delta_ms, barge_ms = trio.run(_hot_path, Path(tmp))
    rows = [
        (AREA, "audio delta -> transport (p50)", f"{statistics.median(delta_ms):.3f} ms", "<= 5 ms"),
        (AREA, "audio delta -> transport (p99)", f"{sorted(delta_ms)[int(len(delta_ms) * 0.99)]:.3f} ms", "-"),
        (AREA, "barge-in: clear, cancel, truncate (max)", f"{max(barge_ms):.2f} ms", "<= 50 ms"),
    ]
    rows += live_rules.rows(AREA)  # reactor and instructions from state
    rows += live_extraction.rows(AREA)  # the same hot path while an extraction streams
    rows += live_whisper.rows(AREA)  # offline recognition: latency and word error rate, whisper beside pocketsphinx
    if shutil.which("espeak-ng") is None:
        rows.append((AREA, "cascade speech end -> first audio", "skipped: espeak-ng missing", "< 1500 ms"))
        return rows
    try:
        with tempfile.TemporaryDirectory() as tmp:
            latency = trio.run(_cascade, Path(tmp))
    except Exception as exc:  # pocketsphinx missing or broken: report, do not hide the others
        rows.append((AREA, "cascade speech end -> first audio", f"error: {exc}", "< 1500 ms"))
        return rows
    measured = f"{latency:.0f} ms" if latency is not None else "no answer"
    rows.append((AREA, "cascade speech end -> first audio (echo)", measured, "< 1500 ms"))
    return rows

