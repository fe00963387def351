"""ACP frontend budgets, measured on real ``python -m agentcore.acp`` processes.

* spawn -> ``initialize`` response (median of several cold starts);
* ``session/new`` without MCP servers (median of warm calls; the first call,
  which builds the core from configuration, is reported separately);
* a prompt whose loopback LLM streams 5,000 chunks without delay: prompt ->
  response, every update delivered before it;
* ``session/load`` of a 10,000-message session in a fresh agent (median).

The client splits what it reads into lines a chunk at a time and counts the
``session/update`` notifications without parsing them (everything else is
parsed): the numbers are the agent's, not the cost of Python's ``json`` in the
measuring client (an editor parses natively, many times faster).
"""

from __future__ import annotations

import importlib.util
import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import trio

ROOT = Path(__file__).resolve().parent.parent
SPAWNS = 10  # cold starts measured; enough for a stable median on a 2-core machine
NEW_SESSIONS = 20  # warm session/new calls measured
STREAM_CHUNKS = 5000  # text chunks the loopback LLM streams in one reply
INIT_BUDGET_MS = 200
NEW_BUDGET_MS = 30
STREAM_BUDGET_MS = 1000
GUARD_BUDGET_PERCENT = 2  # the nesting guards' share of a streamed prompt
LOAD_MESSAGES = 10_000  # a long session, loaded and replayed to the client
LOAD_RUNS = 3  # fresh agents; each load is a whole replay
LOAD_BUDGET_MS = 300
READ_TIMEOUT_S = 30  # seconds; a benchmark step that takes longer has hung
UPDATE_PREFIX = b'{"jsonrpc":"2.0","method":"session/update"'
UPDATE: dict[str, Any] = {"method": "session/update"}


def _fake_server_module() -> Any:
    spec = importlib.util.spec_from_file_location("bench_llm_server", ROOT / "tests" / "fakes" / "llm_server.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class AgentProcess:
    def __init__(self, proc: trio.Process) -> None:
        self.proc = proc
        self.partial = b""  # an incomplete last line
        self.lines: collections.deque[bytes] = collections.deque()  # complete lines not yet read
        self.next_id = 0

    async def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        await self.proc.stdin.send_all(json.dumps(message).encode() + b"\n")

    async def receive(self) -> dict[str, Any]:
        """The next message. Lines are split a chunk at a time, as a native
        client would, so the client's own cost stays out of the numbers."""
        assert self.proc.stdout is not None
        if not self.lines:
            with trio.fail_after(READ_TIMEOUT_S):
                while not self.lines:
                    chunk = await self.proc.stdout.receive_some(1 << 20)
                    if not chunk:
                        raise EOFError("agent exited")
                    *complete, self.partial = (self.partial + chunk).split(b"\n")
                    self.lines.extend(complete)
        line = self.lines.popleft()
        if line.startswith(UPDATE_PREFIX):
            return UPDATE  # counted, not parsed: a native client parses far faster than Python's json
        return json.loads(line)

    async def request(self, method: str, params: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """(response, notifications received before it)."""
        self.next_id += 1
        rid = self.next_id
        await self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        notes = 0
        while True:
            message = await self.receive()
            if message.get("id") == rid and "method" not in message:
                return message, notes
            notes += 1

    async def close(self) -> None:
        assert self.proc.stdin is not None
        await self.proc.stdin.aclose()
        with trio.move_on_after(5):
            await self.proc.wait()
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


def _env(home: Path, llm_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and not k.startswith("AGENTCORE_")}
    env["AGENTCORE_HOME"] = str(home)
    env["OLLAMA_HOST"] = "127.0.0.1:9"
    if llm_url:
        env["OPENAI_API_KEY"] = "sk-bench"
        env["OPENAI_BASE_URL"] = f"{llm_url}/v1"
    return env


async def _spawn(args: list[str], home: Path, cwd: Path, llm_url: str | None = None) -> AgentProcess:
    proc = await trio.lowlevel.open_process(
        [sys.executable, "-m", "agentcore.acp", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=str(cwd),
        env=_env(home, llm_url),
    )
    return AgentProcess(proc)


INIT = {"protocolVersion": 1, "clientCapabilities": {}}


async def _measure(tmp: Path) -> list[tuple[str, str, str, str]]:
    work = tmp / "work"
    work.mkdir()
    rows: list[tuple[str, str, str, str]] = []

    init_ms = []
    for _ in range(SPAWNS):
        start = time.perf_counter()
        agent = await _spawn(["--provider", "echo"], tmp / "home", work)
        await agent.request("initialize", INIT)
        init_ms.append((time.perf_counter() - start) * 1000)
        await agent.close()
    rows.append(("acp", "spawn -> initialize response (median)", f"{statistics.median(init_ms):.0f} ms", f"< {INIT_BUDGET_MS} ms"))

    agent = await _spawn(["--provider", "echo"], tmp / "home", work)
    await agent.request("initialize", INIT)
    start = time.perf_counter()
    await agent.request("session/new", {"cwd": str(work), "mcpServers": []})
    first_ms = (time.perf_counter() - start) * 1000
    new_ms = []
    for _ in range(NEW_SESSIONS):
        start = time.perf_counter()
        await agent.request("session/new", {"cwd": str(work), "mcpServers": []})
        new_ms.append((time.perf_counter() - start) * 1000)
    await agent.close()
    rows.append(("acp", "session/new, no MCP (median, warm)", f"{statistics.median(new_ms):.1f} ms", f"< {NEW_BUDGET_MS} ms"))
    rows.append(("acp", "first session/new (builds the core)", f"{first_ms:.0f} ms", "-"))

    fake = _fake_server_module()
    async with fake.open_fake_server() as server:
        server.enqueue(fake.sse_reply(*_stream_parts(STREAM_CHUNKS)))
        agent = await _spawn(["--provider", "openai", "--model", "gpt-4o-mini"], tmp / "home", work, server.url)
        await agent.request("initialize", INIT)
        created, _ = await agent.request("session/new", {"cwd": str(work), "mcpServers": []})
        sid = created["result"]["sessionId"]
        start = time.perf_counter()
        reply, notes = await agent.request("session/prompt", {"sessionId": sid, "prompt": [{"type": "text", "text": "stream"}]})
        stream_ms = (time.perf_counter() - start) * 1000
        await agent.close()
    assert reply.get("result", {}).get("stopReason") == "end_turn", reply
    rows.append(("acp", f"prompt -> response, {STREAM_CHUNKS} LLM chunks ({notes} updates)", f"{stream_ms:.0f} ms", f"< {STREAM_BUDGET_MS} ms"))
    guard_ms = _guard_cost_ms(_stream_parts(STREAM_CHUNKS))
    rows.append(("acp", "  of which depth guards on those chunks", f"{guard_ms:.1f} ms ({100 * guard_ms / stream_ms:.1f} %)",
                 f"< {GUARD_BUDGET_PERCENT} %"))

    from bench.bench_store import write_session

    sessions = tmp / "home" / "state" / "sessions"
    write_session(sessions, "sess_bench_big", LOAD_MESSAGES)
    load_ms = []
    for _ in range(LOAD_RUNS):
        agent = await _spawn(["--provider", "echo"], tmp / "home", work)
        await agent.request("initialize", INIT)
        await agent.request("session/new", {"cwd": str(work), "mcpServers": []})  # the core is built: load alone
        start = time.perf_counter()
        loaded, replayed = await agent.request("session/load", {"sessionId": "sess_bench_big", "cwd": str(sessions), "mcpServers": []})
        load_ms.append((time.perf_counter() - start) * 1000)
        await agent.close()
    assert "result" in loaded, loaded
    rows.append(("acp", f"session/load, {LOAD_MESSAGES:,} messages ({replayed:,} updates, median)",
                 f"{statistics.median(load_ms):.0f} ms", f"< {LOAD_BUDGET_MS} ms"))
    return rows


def _guard_cost_ms(parts: list[bytes]) -> float:
    """What the nesting guard adds to parsing the stream's SSE payloads: the same
    payloads through ``loads_bounded`` and through plain ``json.loads``, best of five."""
    from agentcore.bounded_json import loads_bounded

    payloads = [line[len(b"data: "):] for part in parts for line in part.split(b"\n\n")
                if line.startswith(b"data: {")]

    def best(parse: Any) -> float:
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            for payload in payloads:
                parse(payload)
            runs.append(time.perf_counter() - start)
        return min(runs)

    return max(0.0, best(loads_bounded) - best(json.loads)) * 1000


def _stream_parts(count: int) -> list[bytes]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        obj = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "gpt-4o-mini",
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return b"data: " + json.dumps(obj).encode() + b"\n\n"

    body = b"".join(chunk({"content": f"w{i} "}) for i in range(count))
    usage = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "gpt-4o-mini", "choices": [],
             "usage": {"prompt_tokens": 10, "completion_tokens": count, "total_tokens": count + 10}}
    tail = chunk({}, "stop") + b"data: " + json.dumps(usage).encode() + b"\n\ndata: [DONE]\n\n"
    return [chunk({"role": "assistant", "content": ""}), body, tail]


def run() -> list[tuple[str, str, str, str]]:
    with tempfile.TemporaryDirectory(prefix="bench-acp-") as tmp:
        return trio.run(_measure, Path(tmp))


if __name__ == "__main__":
    for row in run():
        print(" | ".join(row))
