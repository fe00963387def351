"""Context management: the local work of a compaction, and ContextStatus cost."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import trio

from agentcore import AgentCoreBuilder, EchoProvider, SessionCreateInfo
from agentcore.session.compaction import choose_cut, render_transcript, summary_message
from agentcore.history import VecHistory
from agentcore.messages import AssistantMessage, TextBlock, ToolResultBlock, ToolResultMessage, ToolUseBlock, user_text

Row = tuple[str, str, str, str]
PARAGRAPH = "The parser reads the configuration file, validates each key against the schema and reports errors. " * 4


def _history(target_tokens: int) -> VecHistory:
    h = VecHistory()
    i = 0
    while h.total_tokens < target_tokens:
        h.append(user_text(f"Request {i}: please look at module {i} and fix the failing test."))
        h.append(AssistantMessage((TextBlock("Looking."), ToolUseBlock(f"c{i}", "read_file", {"path": f"src/m{i}.py"}))))
        h.append(ToolResultMessage((ToolResultBlock(f"c{i}", (TextBlock(PARAGRAPH * 3),)),)))
        h.append(AssistantMessage((TextBlock(PARAGRAPH),)))
        i += 1
    return h


def _local_compaction(h: VecHistory, window: int) -> float:
    start = time.perf_counter()
    messages = h.snapshot()
    counts = [h.message_tokens(i) for i in range(len(messages))]
    cut = choose_cut(messages, counts, window)
    render_transcript(messages[:cut])  # what the summariser would read
    replacement = summary_message("## Goal\nsummary text", messages[:cut])
    fork = h.fork()
    fork.splice_prefix(cut, [replacement])
    return time.perf_counter() - start


async def _status_cost(n_messages: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        core = AgentCoreBuilder().with_provider(EchoProvider(), "echo").with_state_dir(Path(tmp)).build()
        async with core.open_session(SessionCreateInfo(cwd=Path(tmp))) as session:
            for i in range(n_messages // 2):
                session.history.append(user_text(f"message {i} " + PARAGRAPH[:200]))
                session.history.append(AssistantMessage((TextBlock("ok " + PARAGRAPH[:100]),)))
            session.context_status()  # warm caches (system prompt, tool schemas)
            times = []
            for _ in range(200):
                start = time.perf_counter()
                session.context_status()
                times.append(time.perf_counter() - start)
            return statistics.median(times)


def run() -> list[Row]:
    h = _history(150_000)
    local = min(_local_compaction(h, 200_000) for _ in range(5))
    rows: list[Row] = [
        ("context", f"compaction local work, {h.total_tokens:,}-token history", f"{local * 1000:.1f} ms", "< 50 ms"),
    ]
    for n in (10, 10_000):
        cost = trio.run(_status_cost, n)
        rows.append(("context", f"ContextStatus, {n:,} messages", f"{cost * 1e6:.0f} µs", "< 1 ms"))
    return rows
