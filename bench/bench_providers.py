"""Provider streaming speed: parse + assembly throughput, and the latency
from a chunk reaching the socket to the provider yielding it.

Throughput feeds recorded-format event streams through the SSE parser and
each protocol's decoder in 4 KiB reads on one core. Latency runs a real
provider against the loopback fake server (tests/fakes/llm_server.py): the
server writes one event, the consumer stamps its arrival, then asks for the
next, so no queueing hides in the numbers.
"""

from __future__ import annotations

import statistics
import sys
import time
from contextlib import aclosing
from pathlib import Path

import httpx
import trio

from agentcore.llm.anthropic_stream import AnthropicStreamDecoder
from agentcore.llm.base import LlmRequest, TextDelta
from agentcore.llm.openai_chat import OpenAiChatProvider
from agentcore.llm.openai_stream import OpenAiStreamDecoder
from agentcore.llm.sse import SseParser
from agentcore.messages import user_text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from fakes.llm_server import open_fake_server, sse_reply  # noqa: E402

THROUGHPUT_BUDGET = 20_000  # chunks per second on one core
LATENCY_BUDGET_MS = 2.0  # p50, socket arrival to yield
READ_SIZE = 4096  # bytes per simulated network read
EVENTS = 20_000  # text events per throughput run
LATENCY_SAMPLES = 300


def _openai_blob(n: int) -> bytes:
    head = (
        '{"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741569952,'
        '"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":'
    )
    parts = [f'data: {head}{{"content":"tok{i} "}},"logprobs":null,"finish_reason":null}}]}}\n\n' for i in range(n)]
    parts.append(f'data: {head}{{}},"logprobs":null,"finish_reason":"stop"}}]}}\n\ndata: [DONE]\n\n')
    return "".join(parts).encode()


def _anthropic_blob(n: int) -> bytes:
    parts = [
        'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message",'
        '"role":"assistant","content":[],"model":"claude-sonnet-4-5","usage":{"input_tokens":25,"output_tokens":1}}}\n\n',
        'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n',
    ]
    parts += [
        f'event: content_block_delta\ndata: {{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":"tok{i} "}}}}\n\n'
        for i in range(n)
    ]
    parts.append(
        'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
        'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}\n\n'
        'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    )
    return "".join(parts).encode()


def _throughput(blob: bytes, decoder: OpenAiStreamDecoder | AnthropicStreamDecoder) -> float:
    parser = SseParser()
    count = 0
    start = time.perf_counter()
    for i in range(0, len(blob), READ_SIZE):
        for event in parser.feed(blob[i : i + READ_SIZE]):
            count += len(decoder.feed(event))
    elapsed = time.perf_counter() - start
    return count / elapsed


async def _latency_ms() -> list[float]:
    sent_at: list[float] = []
    ready = [trio.Event() for _ in range(LATENCY_SAMPLES)]
    parts: list[object] = []
    for i in range(LATENCY_SAMPLES):

        async def stamp(i: int = i) -> None:
            if i:
                await ready[i - 1].wait()  # the consumer has the previous chunk
            sent_at.append(time.perf_counter())

        parts.append(stamp)
        parts.append(
            f'data: {{"choices":[{{"index":0,"delta":{{"content":"t{i}"}},"finish_reason":null}}]}}\n\n'.encode()
        )
    parts.append(b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')
    latencies: list[float] = []
    async with open_fake_server() as server, httpx.AsyncClient(trust_env=False) as client:
        server.enqueue(sse_reply(*parts))  # type: ignore[arg-type]
        provider = OpenAiChatProvider(
            name="bench", base_url=f"{server.url}/v1", api_key=None, api_key_env=None, http_client=client
        )
        request = LlmRequest(model="gpt-4o-mini", system="", messages=(user_text("go"),))
        async with aclosing(provider.complete(request)) as chunks:
            async for chunk in chunks:
                if isinstance(chunk, TextDelta):
                    i = len(latencies)
                    latencies.append((time.perf_counter() - sent_at[i]) * 1000.0)
                    ready[i].set()
    return latencies


def run() -> list[tuple[str, str, str, str]]:
    oa = _throughput(_openai_blob(EVENTS), OpenAiStreamDecoder(provider="b", api_key_env=None, secret=None))
    an = _throughput(_anthropic_blob(EVENTS), AnthropicStreamDecoder(provider="b", api_key_env=None, secret=None))
    latencies = trio.run(_latency_ms)
    p50 = statistics.median(latencies)
    p99 = statistics.quantiles(latencies, n=100)[98]
    return [
        ("providers", "openai-chat parse+assembly", f"{oa:,.0f} chunks/s", f">= {THROUGHPUT_BUDGET:,} chunks/s"),
        ("providers", "anthropic parse+assembly", f"{an:,.0f} chunks/s", f">= {THROUGHPUT_BUDGET:,} chunks/s"),
        ("providers", "socket -> yield latency p50", f"{p50:.3f} ms", f"<= {LATENCY_BUDGET_MS} ms"),
        ("providers", "socket -> yield latency p99", f"{p99:.3f} ms", "(info)"),
    ]


if __name__ == "__main__":
    for row in run():
        print(" | ".join(row))
