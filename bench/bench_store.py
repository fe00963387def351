"""Session store budgets: load a 10,000-message session, journal one message.

``python -m bench store``. The journal is written in the real format
(``agentcore.store.format``) with realistic turns: a prompt, an assistant
tool call, its result (~400 characters of code) and an answer.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import trio

from agentcore.events import LlmCallFinished, MessageAppended, TurnEnded, TurnStarted
from agentcore.history import VecHistory
from agentcore.tokens import count_message
from agentcore.messages import (
    AssistantMessage,
    Message,
    StopReason,
    TextBlock,
    ToolResultBlock,
    ToolResultMessage,
    ToolUseBlock,
    Usage,
    UserMessage,
)
from agentcore.store import JournalStore
from agentcore.store.files import JournalWriter
from agentcore.store.format import JOURNAL_FILE, RecordType, message_record, record

AREA = "store"
LOAD_MESSAGES = 10_000
LOAD_BUDGET_MS = 300.0
WRITE_BUDGET_MS = 1.0
LOAD_RUNS = 7  # median of this many loads (the first warms the page cache)
WRITE_MESSAGES = 2_000  # messages journaled through a live session for the per-message figure
METADATA_SETS = 200  # set_metadata calls measured (each journals a record and rewrites meta.json)
MESSAGES_PER_TURN = 4


def _turn(i: int) -> list[Message]:
    code = "def parse(tokens):\n    return [t for t in tokens if t]\n" * 7
    return [
        UserMessage((TextBlock(f"Please look at src/module_{i}.py and fix the failing parser test."),)),
        AssistantMessage(
            (TextBlock("Let me read the file."), ToolUseBlock(f"call_{i}", "read_file", {"path": f"src/module_{i}.py"})),
            model="bench-model",
            usage=Usage(1200, 40),
        ),
        ToolResultMessage((ToolResultBlock(f"call_{i}", (TextBlock(code),)),)),
        AssistantMessage((TextBlock("Fixed: empty tokens are now skipped, and the test passes."),), model="bench-model", usage=Usage(1400, 30)),
    ]


def write_session(sessions_dir: Path, session_id: str, messages: int) -> None:
    path = sessions_dir / session_id
    path.mkdir(parents=True)
    writer = JournalWriter.create(path / JOURNAL_FILE)
    now = time.time()
    recs = [record(RecordType.SESSION, now, id=session_id, cwd=str(sessions_dir), created=now, profile="default",
                   provider="bench", model="bench-model", mode="ask", mcp_servers=[])]
    for i in range(messages // MESSAGES_PER_TURN):
        turn = f"turn_{i}"
        recs.append(record(RecordType.TURN_STARTED, now, turn=turn))
        recs += [message_record(now, turn, m, tokens=count_message(m)) for m in _turn(i)]  # as the recorder writes them
        recs.append(record(RecordType.LLM_CALL, now, turn=turn, model="bench-model", usage={"input_tokens": 1200}, cost_usd=0.004))
        recs.append(record(RecordType.TURN_ENDED, now, turn=turn, stop_reason="end_turn", usage={"input_tokens": 2600}))
    writer.write_many(recs)
    writer.close()


def _bench_load(root: Path) -> tuple[float, float, float, int]:
    sessions = root / "sessions"
    write_session(sessions, "sess_bench_load", LOAD_MESSAGES)
    size = (sessions / "sess_bench_load" / JOURNAL_FILE).stat().st_size
    times, cpu_times = [], []
    for _ in range(LOAD_RUNS):
        store = JournalStore(sessions)  # fresh: no cached reservation
        start, cpu_start = time.perf_counter(), time.process_time()
        snapshot = store.load("sess_bench_load")
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)  # unaffected by other processes on a busy machine
        assert len(snapshot.messages) == LOAD_MESSAGES
    start = time.perf_counter()
    VecHistory(snapshot.messages, token_counts=snapshot.token_counts)  # what resuming adds on top
    history_s = time.perf_counter() - start
    return statistics.median(times), statistics.median(cpu_times), history_s, size


async def _bench_writes(root: Path) -> tuple[float, float, float, float]:
    from agentcore import AgentCoreBuilder, SessionCreateInfo

    store = JournalStore(root / "sessions")
    core = AgentCoreBuilder().without_builtin_tools().with_session_store(store).with_state_dir(root).build()
    work = root / "work"
    work.mkdir()
    per_message: list[float] = []
    turn_ends: list[float] = []
    metadata_sets: list[float] = []
    async with core.open_session(SessionCreateInfo(cwd=work)) as session:
        session.set_metadata("bench", True)  # the journal is created lazily: make it exist before measuring
        for i in range(METADATA_SETS):
            start = time.perf_counter()
            session.set_metadata("run", i)  # one v3 record, and meta.json for `sessions list --meta`
            metadata_sets.append(time.perf_counter() - start)
        for i in range(WRITE_MESSAGES // MESSAGES_PER_TURN):
            turn = f"turn_{i}"
            store.on_event(session, TurnStarted(turn))
            for message in _turn(i):
                session.history.append(message)
                start = time.perf_counter()
                store.on_event(session, MessageAppended(turn, message))
                per_message.append(time.perf_counter() - start)
            store.on_event(session, LlmCallFinished(turn, "echo", Usage(1200, 40), 0.004, 2000, 100_000, 0.004 * (i + 1)))
            start = time.perf_counter()
            store.on_event(session, TurnEnded(turn, StopReason.END_TURN, Usage(1200, 40)))
            turn_ends.append(time.perf_counter() - start)
    per_message.sort()
    p99 = per_message[int(len(per_message) * 0.99)]
    return statistics.mean(per_message), p99, statistics.median(turn_ends), statistics.mean(metadata_sets)


def run() -> list[tuple[str, str, str, str]]:
    with tempfile.TemporaryDirectory(prefix="agentcore-bench-store-") as tmp:
        root = Path(tmp)
        load_s, load_cpu_s, history_s, size = _bench_load(root / "load")
        (root / "write").mkdir()
        mean_s, p99_s, turn_end_s, metadata_s = trio.run(_bench_writes, root / "write")
    return [
        (AREA, f"load a {LOAD_MESSAGES:,}-message session ({size / 1e6:.1f} MB journal)", f"{load_s * 1e3:.0f} ms (cpu {load_cpu_s * 1e3:.0f} ms)", f"< {LOAD_BUDGET_MS:.0f} ms"),
        (AREA, "journal write per message (mean)", f"{mean_s * 1e3:.3f} ms", f"< {WRITE_BUDGET_MS:.0f} ms"),
        (AREA, "journal write per message (p99)", f"{p99_s * 1e3:.3f} ms", f"< {WRITE_BUDGET_MS:.0f} ms"),
        (AREA, "turn end (journal fsync + meta.json)", f"{turn_end_s * 1e3:.2f} ms", "off the per-message path"),
        (AREA, "session.set_metadata (record + meta.json, mean)", f"{metadata_s * 1e3:.3f} ms", "off the per-message path"),
        (AREA, f"resume: VecHistory of {LOAD_MESSAGES:,} messages with recorded counts (core)", f"{history_s * 1e3:.0f} ms", "informational"),
    ]
