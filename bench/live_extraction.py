"""Extraction never delays audio: the audio delta -> transport path (parse,
translate, dispatch, queue for playback) measured while a TurnExtractor's
structured-output call streams from a loopback OpenAI-wire server in the
same trio run (its chunks are parsed between the deltas).

Each delta is stamped when it "arrives", then the pump yields once (where the
extraction task gets to run, as it would when a websocket message wakes the
pump) before it is dispatched: extraction work in between counts against it.
"""

from __future__ import annotations

import base64
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import trio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from fakes.llm_server import open_fake_server, sse_reply  # noqa: E402
from fakes.vendor_wire import OA_DONE, OA_ROLE, oa_chunk, oa_tool_args, oa_tool_start, oa_usage  # noqa: E402

from agentcore import AgentCoreBuilder, SessionCreateInfo  # noqa: E402
from agentcore.frontend import Frontend  # noqa: E402
from agentcore.live.audio import tone  # noqa: E402
from agentcore.live.control_events import TurnCompleted  # noqa: E402
from agentcore.live.controller import VoiceController  # noqa: E402
from agentcore.live.events import ResponseStarted  # noqa: E402
from agentcore.live.extraction import ExtractField, Merge, TurnExtractor  # noqa: E402
from agentcore.live.openai_realtime import OpenAIRealtimeBackend  # noqa: E402
from agentcore.live.phases import StateStore  # noqa: E402
from agentcore.live.transcript import TranscriptTurn  # noqa: E402
from agentcore.live.transport import WavFileTransport  # noqa: E402
from agentcore.llm.base import ModelInfo  # noqa: E402
from agentcore.llm.openai_chat import OpenAiChatProvider  # noqa: E402

MAX_DELTAS = 20_000  # safety cap; the measurement ends when the extraction has finished
DELTA_MS = 100
ARG_CHUNKS = 400  # the extraction's answer arrives in this many stream chunks (one network write each)


def _stream() -> list:
    values = json.dumps({"name": "Ada Lovelace", "items": ["router"] * 20, "order": 1234})
    step = max(1, len(values) // ARG_CHUNKS)
    parts: list = [OA_ROLE, oa_tool_start(0, "call_b", "record_fields")]
    for i in range(0, len(values), step):
        parts.append(oa_tool_args(0, values[i : i + step]))
    return [*parts, oa_chunk(finish="tool_calls"), oa_usage(200, 40), OA_DONE]


async def _measure(tmp: Path) -> tuple[list[float], int]:
    async with open_fake_server() as server, httpx.AsyncClient(trust_env=False) as client:
        provider = OpenAiChatProvider(
            name="openai", base_url=f"{server.url}/v1", api_key="sk-bench", api_key_env="OPENAI_API_KEY",
            http_client=client, models=(ModelInfo("bench", 100_000, 4_000),),
        )
        core = AgentCoreBuilder().with_provider(provider, "bench").without_builtin_tools().with_state_dir(tmp / "state").build()
        async with core.open_session(SessionCreateInfo(cwd=tmp, frontend=Frontend.voice(), interactive=False)) as session:
            fields = (ExtractField("name"), ExtractField("items", merge=Merge.APPEND), ExtractField("order", type="integer"))
            extractor = TurnExtractor(session, fields, store=StateStore())
            backend = OpenAIRealtimeBackend(api_key="bench")
            controller = VoiceController(session, WavFileTransport(None, None, input_pcm=None), lambda: backend)
            conv = controller.conversation
            conv.backend = backend
            conv.to(conv.state.state.__class__.LISTENING)
            pcm = base64.b64encode(tone(DELTA_MS, 24_000)).decode()
            latencies: list[float] = []
            async with trio.open_nursery() as nursery:
                nursery.start_soon(extractor.run)
                server.enqueue(sse_reply(*_stream()))
                extractor.turn_completed(TurnCompleted(1, "r0", "completed", None, TranscriptTurn("my name is Ada", "hi")))
                await conv.dispatch(ResponseStarted("resp_b"))
                for n in range(MAX_DELTAS):
                    if n % 50 == 0:
                        controller.transport.clear_output()
                    raw = json.dumps({"type": "response.output_audio.delta", "event_id": f"ev_{n}", "response_id": "resp_b", "item_id": "item_b", "output_index": 0, "content_index": 0, "delta": pcm})
                    start = time.perf_counter()
                    await trio.sleep(0)  # the extraction task may run here
                    busy = extractor.busy
                    for event in backend._translate(json.loads(raw)):
                        await conv.dispatch(event)
                    if not busy:
                        break
                    latencies.append((time.perf_counter() - start) * 1000)
                nursery.cancel_scope.cancel()
            done = extractor.records[-1] if extractor.records else None
    return latencies, type(done).__name__ if done else "still running"


def rows(area: str) -> list[tuple[str, str, str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        latencies, outcome = trio.run(_measure, Path(tmp))
    p99 = sorted(latencies)[int(len(latencies) * 0.99)]
    return [
        (area, "audio delta -> transport during extraction (p50)", f"{statistics.median(latencies):.3f} ms", "<= 5 ms"),
        (area, "  same, p99", f"{p99:.3f} ms ({len(latencies)} deltas, {outcome})", "-"),
    ]
