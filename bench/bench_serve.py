"""Server budgets, measured in process: one hub as ``agent serve`` holds it,
clients connected over memory streams (the transports are measured by the
end-to-end rows that spawn a real server).

* ``session/load`` of a 100-message session live in the server: a second
  client loads (attaches to) it and gets the whole replay (median);
* 20 clients on one session: for each of 200 updates (mode changes: one
  update each, nothing coalesced), the time from the first client having it
  to the last (p99);
* 200 sessions, each streaming a 2,000-chunk reply at once (the echo model):
  all complete, and the event loop's lag meanwhile (p99 of a 5 ms ticker);
* a 5 MB prompt in one session while another streams: the lag the other
  session's client sees (p99), i.e. tokenizing and journaling the prompt must
  not stall the loop;
* memory per idle live session (tracemalloc, 100 sessions).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import trio
import trio.testing

LOAD_MESSAGES = 100
LOAD_RUNS = 15
LOAD_BUDGET_MS = 20
FANOUT_CLIENTS = 20
FANOUT_UPDATES = 200
FANOUT_BUDGET_MS = 5
SESSIONS = 200
SESSION_WORDS = 2_000
LAG_BUDGET_MS = 50
BIG_PROMPT_BYTES = 5_000_000
IDLE_SESSIONS = 100
IDLE_BUDGET_MIB = 0.5
TICK_S = 0.005


def _core(state: Path) -> Any:
    from agentcore import AgentCoreBuilder
    from agentcore.llm.echo import ECHO_MODEL, EchoProvider
    from agentcore.store import JournalStore

    return (
        AgentCoreBuilder()
        .with_env({})
        .with_provider(EchoProvider(), ECHO_MODEL)
        .with_session_store(JournalStore(state / "sessions"))
        .with_state_dir(state)
        .build()
    )


class Client:
    """A client on a memory stream: reads every line, notes when each arrived."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.next_id = 0
        self.waiting: dict[int, trio.Event] = {}
        self.answers: dict[int, Any] = {}
        self.chunks: list[float] = []  # arrival times of agent_message_chunk updates
        self.modes: list[float] = []  # arrival times of current_mode_update updates

    async def read(self) -> None:
        partial = b""
        while data := await self.stream.receive_some(1 << 20):
            *lines, partial = (partial + data).split(b"\n")
            now = time.perf_counter()
            for line in lines:
                if b'"agent_message_chunk"' in line:
                    self.chunks.append(now)
                    continue
                if b'"current_mode_update"' in line:
                    self.modes.append(now)
                    continue
                message = json.loads(line)
                if message.get("method") == "_agentcore/session/approve":  # the owner approves at once
                    answer = {"jsonrpc": "2.0", "id": message["id"], "result": {"approved": True}}
                    await self.stream.send_all(json.dumps(answer).encode() + b"\n")
                elif "id" in message and "method" not in message and message["id"] in self.waiting:
                    self.answers[message["id"]] = message
                    self.waiting.pop(message["id"]).set()

    async def request(self, method: str, params: dict[str, Any]) -> Any:
        self.next_id += 1
        rid = self.next_id
        self.waiting[rid] = event = trio.Event()
        await self.stream.send_all(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}).encode() + b"\n")
        await event.wait()
        return self.answers.pop(rid)


@asynccontextmanager
async def _server(state: Path) -> AsyncIterator[Callable[[], Any]]:
    from agentcore.acp.agent import AgentSetup
    from agentcore.acp.hub import open_hub
    from agentcore.acp.jsonrpc import LineTransport

    core = _core(state)
    hub_cm = open_hub(lambda: AgentSetup(core=core), keep_sessions=True, manage_gc=True)  # as agent serve runs it
    async with hub_cm as hub, trio.open_nursery() as nursery:

        async def connect() -> Client:
            agent_side, client_side = trio.testing.memory_stream_pair()
            nursery.start_soon(hub.serve, LineTransport(agent_side, agent_side))
            client = Client(client_side)
            nursery.start_soon(client.read)
            await client.request("initialize", {"protocolVersion": 1, "clientCapabilities": {}})
            return client

        yield connect
        nursery.cancel_scope.cancel()


async def _new(client: Client, cwd: Path) -> str:
    return (await client.request("session/new", {"cwd": str(cwd), "mcpServers": []}))["result"]["sessionId"]


async def _prompt(client: Client, sid: str, text: str) -> Any:
    return await client.request("session/prompt", {"sessionId": sid, "prompt": [{"type": "text", "text": text}]})


def _words(n: int) -> str:
    return " ".join(f"w{i}" for i in range(n))


class LagMeter:
    """How late a 5 ms ticker wakes up: the event loop's responsiveness."""

    def __init__(self) -> None:
        self.lags: list[float] = []

    async def run(self) -> None:
        while True:
            start = time.perf_counter()
            await trio.sleep(TICK_S)
            self.lags.append(time.perf_counter() - start - TICK_S)


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0


async def _measure(tmp: Path) -> list[tuple[str, str, str, str]]:
    work = tmp / "work"
    work.mkdir()
    rows = []
    async with _server(tmp / "state") as connect:
        # session/load of a live 100-message session by another client
        owner = await connect()
        sid = await _new(owner, work)
        for i in range(LOAD_MESSAGES // 2):
            await _prompt(owner, sid, f"message {i}")
        load_ms = []
        for _ in range(LOAD_RUNS):
            other = await connect()
            start = time.perf_counter()
            loaded = await other.request("session/load", {"sessionId": sid, "cwd": str(work), "mcpServers": []})
            load_ms.append((time.perf_counter() - start) * 1000)
            assert "result" in loaded, loaded
        rows.append(("serve", f"session/load of a live {LOAD_MESSAGES}-message session (median)",
                     f"{statistics.median(load_ms):.1f} ms", f"< {LOAD_BUDGET_MS} ms"))

    async with _server(tmp / "state2") as connect:
        # 20 clients on one session
        first = await connect()
        sid = await _new(first, work)
        watchers = [await connect() for _ in range(FANOUT_CLIENTS - 1)]
        for watcher in watchers:
            await watcher.request("_agentcore/session/attach", {"sessionId": sid, "role": "observer", "historyPolicy": "none"})
        clients = [first, *watchers]
        for i in range(FANOUT_UPDATES):  # each mode change is one update every client gets, uncoalesced
            await first.request("session/set_mode", {"sessionId": sid, "modeId": "accept-edits" if i % 2 else "ask"})
            with trio.fail_after(30):
                while any(len(c.modes) <= i for c in clients):
                    await trio.sleep(0)
        spreads = [(max(times) - min(times)) * 1000 for times in zip(*(c.modes for c in clients), strict=True)]
        rows.append(("serve", f"{FANOUT_CLIENTS} clients on one session: fan-out, first to last client (p99)",
                     f"{_p99(spreads):.2f} ms", f"< {FANOUT_BUDGET_MS} ms"))

    async with _server(tmp / "state3") as connect, trio.open_nursery() as nursery:
        # 200 sessions streaming at once
        lag = LagMeter()
        pairs = []
        for _ in range(SESSIONS):
            client = await connect()
            pairs.append((client, await _new(client, work)))
        nursery.start_soon(lag.run)
        done = []
        start = time.perf_counter()

        async def run_one(client: Client, session_id: str) -> None:
            answer = await _prompt(client, session_id, _words(SESSION_WORDS))
            done.append(answer["result"]["stopReason"])

        async with trio.open_nursery() as streams:
            for client, session_id in pairs:
                streams.start_soon(run_one, client, session_id)
        elapsed = time.perf_counter() - start
        nursery.cancel_scope.cancel()
        complete = sum(1 for stop in done if stop == "end_turn")
        rows.append(("serve", f"{SESSIONS} sessions x {SESSION_WORDS:,}-chunk replies at once: completed",
                     f"{complete}/{SESSIONS} in {elapsed:.1f} s", "all"))
        rows.append(("serve", "  event-loop lag meanwhile (p99)", f"{_p99(lag.lags) * 1000:.1f} ms", f"< {LAG_BUDGET_MS} ms"))

    async with _server(tmp / "state4") as connect, trio.open_nursery() as nursery:
        # a 5 MB prompt next to a streaming session
        big, other = await connect(), await connect()
        big_sid, other_sid = await _new(big, work), await _new(other, work)
        baseline = len(other.chunks)
        nursery.start_soon(_prompt, big, big_sid, "x" * BIG_PROMPT_BYTES)
        await _prompt(other, other_sid, _words(SESSION_WORDS * 5))
        gaps = [(b - a) * 1000 for a, b in zip(other.chunks[baseline:], other.chunks[baseline + 1 :])]
        rows.append(("serve", "a 5 MB prompt next door: the other session's chunk gaps (p99)",
                     f"{_p99(gaps):.1f} ms", f"< {LAG_BUDGET_MS} ms"))
        nursery.cancel_scope.cancel()

    async with _server(tmp / "state5") as connect:
        client = await connect()
        await _new(client, work)  # build the core first: its memory is not per session
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(IDLE_SESSIONS):
            await _new(client, work)
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        per = (after - before) / IDLE_SESSIONS / 2**20
        rows.append(("serve", f"memory per idle live session ({IDLE_SESSIONS} sessions)", f"{per:.2f} MiB",
                     f"< {IDLE_BUDGET_MIB} MiB"))
    return rows


def run() -> list[tuple[str, str, str, str]]:
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        return trio.run(_measure, Path(tmp))


if __name__ == "__main__":
    for row in run():
        print(" | ".join(row))
