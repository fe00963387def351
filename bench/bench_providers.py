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
from agentcore.llm.capabilities import fit_request
from agentcore.llm.catalog import default_catalog
from agentcore.llm.openai_responses import build_body as responses_body
from agentcore.llm.responses_stream import ResponsesStreamDecoder
from agentcore.turn.stream import StreamAssembler
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


def _responses_blob(n: int) -> bytes:
    """A Responses stream as OpenAI sends it: reasoning summary deltas, then text deltas."""
    head = (
        'event: response.output_item.added\ndata: {"type":"response.output_item.added","sequence_number":0,'
        '"output_index":0,"item":{"id":"rs_1","type":"reasoning","summary":[]}}\n\n'
    )
    parts = [head]
    for i in range(n):
        if i < n // 4:
            parts.append(
                'event: response.reasoning_summary_text.delta\ndata: {"type":"response.reasoning_summary_text.delta",'
                f'"sequence_number":{i + 1},"item_id":"rs_1","output_index":0,"summary_index":0,"delta":"r{i} "}}\n\n'
            )
        else:
            parts.append(
                'event: response.output_text.delta\ndata: {"type":"response.output_text.delta",'
                f'"sequence_number":{i + 1},"item_id":"msg_1","output_index":1,"content_index":0,"delta":"t{i} ",'
                '"logprobs":[]}\n\n'
            )
    parts.append(
        'event: response.completed\ndata: {"type":"response.completed","sequence_number":999999,"response":{'
        '"id":"resp_1","object":"response","created_at":1,"status":"completed","model":"gpt-5","output":[],'
        '"parallel_tool_calls":true,"tool_choice":"auto","tools":[],"usage":{"input_tokens":9,"output_tokens":9,'
        '"input_tokens_details":{"cached_tokens":0},"output_tokens_details":{"reasoning_tokens":3},"total_tokens":18}}}\n\n'
    )
    return "".join(parts).encode()


def _assembled_throughput(blob: bytes, decoder: ResponsesStreamDecoder) -> float:
    """SSE parse + decode + StreamAssembler (the message a turn keeps), events per second."""
    parser = SseParser()
    assembler = StreamAssembler()
    events = 0
    start = time.perf_counter()
    for i in range(0, len(blob), READ_SIZE):
        for event in parser.feed(blob[i : i + READ_SIZE]):
            events += 1
            for chunk in decoder.feed(event):
                assembler.feed(chunk)
    assembler.finish("gpt-5", complete=True)
    elapsed = time.perf_counter() - start
    return events / elapsed


def _capability_cost_us(rounds: int = 2_000) -> tuple[float, float]:
    """Microseconds to build one Responses body, without and with the capability lookup + fit."""
    catalog = default_catalog()
    request = LlmRequest(model="gpt-5", system="s", messages=(user_text("go"),), temperature=0.5)
    caps = catalog.lookup("gpt-5").capabilities
    start = time.perf_counter()
    for _ in range(rounds):
        responses_body(request, caps)
    plain = (time.perf_counter() - start) / rounds * 1e6
    start = time.perf_counter()
    for _ in range(rounds):
        found = catalog.lookup(request.model).capabilities
        responses_body(fit_request(request, found)[0], found)
    fitted = (time.perf_counter() - start) / rounds * 1e6
    return plain, fitted


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
    rs = _assembled_throughput(_responses_blob(EVENTS), ResponsesStreamDecoder(provider="b", api_key_env=None, secret=None))
    plain_us, fitted_us = _capability_cost_us()
    latencies = trio.run(_latency_ms)
    p50 = statistics.median(latencies)
    p99 = statistics.quantiles(latencies, n=100)[98]
    return [
        ("providers", "openai-chat parse+assembly", f"{oa:,.0f} chunks/s", f">= {THROUGHPUT_BUDGET:,} chunks/s"),
        ("providers", "anthropic parse+assembly", f"{an:,.0f} chunks/s", f">= {THROUGHPUT_BUDGET:,} chunks/s"),
        ("providers", "openai-responses parse+assembly", f"{rs:,.0f} events/s", f">= {THROUGHPUT_BUDGET:,} events/s"),
        ("providers", "request build: + capability fit", f"{plain_us:.1f} -> {fitted_us:.1f} us", "<= 50 us (a request takes ms)"),
        ("providers", "socket -> yield latency p50", f"{p50:.3f} ms", f"<= {LATENCY_BUDGET_MS} ms"),
        ("providers", "socket -> yield latency p99", f"{p99:.3f} ms", "(info)"),
    ]


if __name__ == "__main__":
    for row in run():
        print(" | ".join(row))
