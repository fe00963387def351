"""The ``agent acp --bridge`` budgets, on real processes: the ``agent`` command
relaying stdio to an ``agent serve`` it started (a loopback OpenAI-wire model).

* spawn -> ``initialize`` answered with a warm server (median of several
  spawns: Python's start-up, the socket, the hello, the relayed answer);
* ``session/new`` through the bridge, warm (median);
* one turn whose loopback LLM streams 6 chunks: prompt -> answer (median).

The cold start (no server: the bridge starts ``agent serve --daemon``) is
reported for information, and so are two floors: the interpreter's own
start-up (``python -c pass``: the bridge cannot be faster) and ``session/new``
sent straight to the socket (what the relay adds is the difference).
Spawned processes may write bytecode (``PYTHONDONTWRITEBYTECODE`` is dropped),
as an installed ``agent`` has it.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import trio

from bench.bench_acp import INIT, AgentProcess, _fake_server_module

SPAWNS = 15  # warm bridge spawns measured
NEW_SESSIONS = 20  # warm session/new calls measured
TURNS = 10  # streamed turns measured
TURN_CHUNKS = 6  # text chunks per streamed reply
INIT_BUDGET_MS = 30
NEW_BUDGET_MS = 10
TURN_BUDGET_MS = 120
MODEL = "gpt-4o-mini"


def _agent_command() -> list[str]:
    script = Path(sys.executable).parent / "agent"  # what an editor runs
    return [str(script)] if script.exists() else [sys.executable, "-m", "agentcore.cli.main"]


def _env(home: Path, llm_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.endswith("_API_KEY") and not k.startswith("AGENTCORE_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update({
        "AGENTCORE_HOME": str(home), "OLLAMA_HOST": "127.0.0.1:9", "AGENTCORE_SERVE_LISTEN": "127.0.0.1:0",
        "AGENTCORE_PROVIDER": "openai", "AGENTCORE_MODEL": MODEL,
        "OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": f"{llm_url}/v1",
    })  # fmt: skip
    return env


async def _spawn(env: dict[str, str], cwd: Path) -> AgentProcess:
    proc = await trio.lowlevel.open_process(
        [*_agent_command(), "acp", "--bridge"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, cwd=str(cwd), env=env,
    )  # fmt: skip
    return AgentProcess(proc)


def _reply_parts(count: int) -> list[bytes]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        obj = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": MODEL,
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return b"data: " + json.dumps(obj).encode() + b"\n\n"

    usage = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": MODEL, "choices": [],
             "usage": {"prompt_tokens": 10, "completion_tokens": count, "total_tokens": count + 10}}
    return [chunk({"role": "assistant", "content": ""}), *(chunk({"content": f"w{i} "}) for i in range(count)),
            chunk({}, "stop") + b"data: " + json.dumps(usage).encode() + b"\n\ndata: [DONE]\n\n"]


async def _measure(root: Path) -> list[tuple[str, str, str, str]]:
    work = root / "work"
    work.mkdir()
    fake = _fake_server_module()
    rows: list[tuple[str, str, str, str]] = []
    async with fake.open_fake_server() as llm:
        env = _env(root / "home", llm.url)
        try:
            start = time.perf_counter()
            agent = await _spawn(env, work)
            await agent.request("initialize", INIT)
            cold_ms = (time.perf_counter() - start) * 1000
            await agent.close()

            init_ms = []
            for _ in range(SPAWNS):
                start = time.perf_counter()
                agent = await _spawn(env, work)
                answer, _ = await agent.request("initialize", INIT)
                init_ms.append((time.perf_counter() - start) * 1000)
                assert "result" in answer, answer
                await agent.close()

            agent = await _spawn(env, work)
            await agent.request("initialize", INIT)
            new_ms = []
            for _ in range(NEW_SESSIONS + 1):
                start = time.perf_counter()
                created, _ = await agent.request("session/new", {"cwd": str(work), "mcpServers": []})
                new_ms.append((time.perf_counter() - start) * 1000)
            sid = created["result"]["sessionId"]

            turn_ms = []
            for _ in range(TURNS):
                llm.enqueue(fake.sse_reply(*_reply_parts(TURN_CHUNKS)))
                start = time.perf_counter()
                reply, _ = await agent.request("session/prompt", {"sessionId": sid, "prompt": [{"type": "text", "text": "go"}]})
                turn_ms.append((time.perf_counter() - start) * 1000)
                assert reply.get("result", {}).get("stopReason") == "end_turn", reply
            await agent.close()
            direct_ms = await _direct_session_new(root / "home" / "run" / "agent.sock", env, work)
            floor_ms = await trio.to_thread.run_sync(_interpreter_floor_ms, env)
        finally:
            await trio.run_process([*_agent_command(), "serve", "stop"], env=env, capture_stdout=True, check=False)
    rows.append(("bridge", "cold: spawn -> initialize, agent serve started (info)", f"{cold_ms:.0f} ms", "-"))
    rows.append(("bridge", "warm: spawn -> initialize answered (median)", f"{statistics.median(init_ms):.1f} ms",
                 f"< {INIT_BUDGET_MS} ms"))  # fmt: skip
    rows.append(("bridge", "  the interpreter's own start-up, python -c pass (median)", f"{floor_ms:.1f} ms", "-"))
    rows.append(("bridge", "session/new through the bridge (median, warm)", f"{statistics.median(new_ms[1:]):.1f} ms",
                 f"< {NEW_BUDGET_MS} ms"))  # fmt: skip
    rows.append(("bridge", "  the same straight on the socket (median)", f"{direct_ms:.1f} ms", "-"))
    rows.append(("bridge", f"one turn, {TURN_CHUNKS} streamed chunks: prompt -> answer (median)",
                 f"{statistics.median(turn_ms):.1f} ms", f"< {TURN_BUDGET_MS} ms"))  # fmt: skip
    return rows


async def _direct_session_new(path: Path, env: dict[str, str], work: Path) -> float:
    """session/new on the server's socket with no bridge in between (after the same hello)."""
    stream = await trio.open_unix_socket(str(path))
    buffer = bytearray()

    async def call(rid: int, method: str, params: dict[str, Any]) -> dict[str, Any]:
        await stream.send_all(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}).encode() + b"\n")
        while True:
            while b"\n" not in buffer:
                buffer.extend(await stream.receive_some(1 << 16))
            line, _, rest = bytes(buffer).partition(b"\n")
            buffer[:] = rest
            message = json.loads(line)
            if message.get("id") == rid and "method" not in message:
                return message

    await call(1, "_agentcore/bridge/hello", {"env": env, "cwd": str(work)})
    await call(2, "initialize", INIT)
    times = []
    for rid in range(3, 3 + NEW_SESSIONS):
        start = time.perf_counter()
        await call(rid, "session/new", {"cwd": str(work), "mcpServers": []})
        times.append((time.perf_counter() - start) * 1000)
    await stream.aclose()
    return statistics.median(times)


def _interpreter_floor_ms(env: dict[str, str]) -> float:
    times = []
    for _ in range(SPAWNS):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def run() -> list[tuple[str, str, str, str]]:
    root = Path(tempfile.mkdtemp(prefix="bench-br-"))  # short: the socket path must fit in 107 bytes
    try:
        return trio.run(_measure, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    for row in run():
        print(" | ".join(row))
