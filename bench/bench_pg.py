"""PostgreSQL session store budgets: append per message, load a 1,000-message session,
lease takeover after the owning process dies.

``python -m bench pg``. Starts a throw-away PostgreSQL from the Debian packages
(tests/fakes/pg_server.py) with ``fsync`` on, as in production, on loopback.
Rows say why when PostgreSQL or psycopg is missing. Messages are bench_store's
realistic turns (a prompt, a tool call, ~400 characters of result, an answer).
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import trio

from agentcore.events import LlmCallFinished, MessageAppended, TurnEnded, TurnStarted
from agentcore.messages import StopReason, Usage
from bench.bench_store import MESSAGES_PER_TURN, _turn

AREA = "pg"
ROOT = Path(__file__).resolve().parent.parent
APPEND_BUDGET_MS = 2.0
LOAD_BUDGET_MS = 50.0
LOAD_MESSAGES = 1_000
LOAD_RUNS = 7
WRITE_MESSAGES = 2_000
DURABLE_SAMPLES = 200  # single messages each waited on until committed
TAKEOVER_LEASE_S = 2.0  # the lease of the process that dies in the takeover bench
TAKEOVER_SLACK_S = 1.0  # budget: lease time + this
TAKEOVER_POLL_S = 0.02  # how often the survivor tries to load the session
_HOLDER = """
import sys, time
from agentcore.store.pg import PgSessionStore
store = PgSessionStore(sys.argv[1], lease_s=float(sys.argv[2]))
store.leases.acquire(sys.argv[3])
print("HELD", flush=True)
time.sleep(3600)
"""


def _pg_server_module():  # tests/fakes is not a package on the bench's path
    spec = importlib.util.spec_from_file_location("bench_pg_server", ROOT / "tests" / "fakes" / "pg_server.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def _record(store, root: Path, messages: int, *, durable: bool = True) -> tuple[str, list[float], list[float], float]:
    """Record ``messages`` through a live session; per-message on_event times, turn-end times, wall total."""
    from agentcore import AgentCoreBuilder, SessionCreateInfo

    durable_samples = DURABLE_SAMPLES if durable else 0
    core = AgentCoreBuilder().without_builtin_tools().with_session_store(store).with_state_dir(root).build()
    work = root / "work"
    work.mkdir(exist_ok=True)
    per_message: list[float] = []
    turn_ends: list[float] = []
    async with core.open_session(SessionCreateInfo(cwd=work)) as session:
        session.set_metadata("bench", True)  # the rows are created lazily: make them exist before measuring
        store.writer.barrier()
        begin = time.perf_counter()
        for i in range(messages // MESSAGES_PER_TURN):
            turn = f"turn_{i}"
            store.on_event(session, TurnStarted(turn))
            for message in _turn(i):
                session.history.append(message)
                start = time.perf_counter()
                store.on_event(session, MessageAppended(turn, message))
                per_message.append(time.perf_counter() - start)
            store.on_event(session, LlmCallFinished(turn, "echo", Usage(1200, 40), 0.004, 2000, 100_000, 0.004 * (i + 1)))
            start = time.perf_counter()
            store.on_event(session, TurnEnded(turn, StopReason.END_TURN, Usage(1200, 40)))  # waits for the commit
            turn_ends.append(time.perf_counter() - start)
        total = time.perf_counter() - begin
        samples: list[float] = []
        if not durable_samples:
            return session.id, per_message, [*turn_ends, total / messages], 0.0
        turn = "turn_durable"
        store.on_event(session, TurnStarted(turn))
        for i in range(durable_samples):
            message = _turn(i)[0]
            session.history.append(message)
            start = time.perf_counter()
            store.on_event(session, MessageAppended(turn, message))
            store.writer.barrier(session.id)
            samples.append(time.perf_counter() - start)
        store.on_event(session, TurnEnded(turn, StopReason.END_TURN, Usage(1, 1)))
        sid = session.id
    return sid, per_message, [*turn_ends, total / messages], statistics.median(samples)


def _bench(url: str, root: Path) -> list[tuple[str, str, str, str]]:
    from agentcore.store.pg import PgSessionStore

    with PgSessionStore(url) as store:
        _, per_message, turn_stats, durable_s = trio.run(_record, store, root, WRITE_MESSAGES)
        *turn_ends, amortised_s = turn_stats
        (root / "load").mkdir()
        load_id, *_ = trio.run(partial(_record, durable=False), store, root / "load", LOAD_MESSAGES)
    times, cpu_times = [], []
    for _ in range(LOAD_RUNS):
        with PgSessionStore(url) as fresh:  # no cached reservation
            start, cpu_start = time.perf_counter(), time.process_time()
            snapshot = fresh.load(load_id)
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - cpu_start)  # this process only: steadier on a busy machine
        assert len(snapshot.messages) == LOAD_MESSAGES
    takeover_s = _takeover(url, load_id)
    per_message.sort()
    return [
        (AREA, "append per message on the session's task (p50: encode + queue)",
         f"{statistics.median(per_message) * 1e3:.3f} ms", f"< {APPEND_BUDGET_MS:.0f} ms"),
        (AREA, "append per message (p99)", f"{per_message[int(len(per_message) * 0.99)] * 1e3:.3f} ms",
         f"< {APPEND_BUDGET_MS:.0f} ms"),
        (AREA, f"append per message, committed (amortised over {WRITE_MESSAGES:,}, fsync on)",
         f"{amortised_s * 1e3:.3f} ms", f"< {APPEND_BUDGET_MS:.0f} ms"),
        (AREA, "one message queued and waited on until committed (p50)", f"{durable_s * 1e3:.3f} ms",
         f"< {APPEND_BUDGET_MS:.0f} ms"),
        (AREA, "turn end (waits for the commit, p50)", f"{statistics.median(turn_ends) * 1e3:.2f} ms",
         "off the per-message path"),
        (AREA, f"load a {LOAD_MESSAGES:,}-message session (fresh store, median of {LOAD_RUNS})",
         f"{statistics.median(times) * 1e3:.1f} ms (cpu {statistics.median(cpu_times) * 1e3:.1f} ms)",
         f"< {LOAD_BUDGET_MS:.0f} ms"),
        (AREA, f"lease takeover after the owner is SIGKILLed (lease {TAKEOVER_LEASE_S:g} s)",
         f"{takeover_s:.2f} s", f"< {TAKEOVER_LEASE_S + TAKEOVER_SLACK_S:g} s"),
    ]  # fmt: skip


def _takeover(url: str, session_id: str) -> float:
    """A process holding ``session_id``'s lease is SIGKILLed: seconds until another store loads it."""
    import subprocess

    from agentcore.store import SessionLocked
    from agentcore.store.pg import PgSessionStore

    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, url, str(TAKEOVER_LEASE_S), session_id],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "HELD"
    finally:
        holder.kill()
        holder.wait()
    killed = time.perf_counter()
    with PgSessionStore(url) as survivor:
        while True:
            try:
                survivor.load(session_id)
                return time.perf_counter() - killed
            except SessionLocked:
                time.sleep(TAKEOVER_POLL_S)


def run() -> list[tuple[str, str, str, str]]:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return [(AREA, "skipped", "psycopg is not installed (pip install -e '.[pg]')", "")]
    pg = _pg_server_module()
    bin_dir, why = pg.find_pg_bin()
    if bin_dir is None:
        return [(AREA, "skipped", why, "")]
    with pg.running_pg(bin_dir, durable=True) as server, tempfile.TemporaryDirectory(prefix="agentcore-bench-pg-") as tmp:
        return _bench(server.create_database("bench"), Path(tmp))
