"""CLI speed: ``agent --version``, ``agent chat`` ready for input, and
rendering throughput of a fast answer stream.

* ``--version``: wall time of the console script, best of a few runs.
* chat ready: from spawning ``agent chat`` on a pseudo-terminal (no MCP
  servers, the offline echo model, a fresh ``AGENTCORE_HOME``) until its
  prompt is on screen.
* resume: the same with ``--resume`` of a 10,000-message session; the row is
  what the resume adds to the plain start (both best-of).
* rendering: text deltas fed to the terminal renderer (live region on, as in
  a real terminal) at full speed, with the live region redrawn at the chat's
  refresh rate of simulated time; the rate must stay above what a fast
  provider sends (2,000 chunks/s), or the display would fall behind.
"""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AGENT = Path(sys.executable).parent / "agent"
VERSION_BUDGET_S = 0.150
READY_BUDGET_S = 0.400
RESUME_BUDGET_S = 0.300  # what resuming a long session may add to the start
RESUME_MESSAGES = 10_000
CHUNKS_BUDGET_PER_S = 2_000
RUNS = 5  # best-of, to keep scheduler noise out of start-up times
CHUNKS = 20_000  # about ten seconds of a fast stream at the budget rate
READY_MARK = "› ".encode()
READY_TIMEOUT_S = 20.0


def _version_time() -> float:
    best = float("inf")
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([str(AGENT), "--version"], check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def _ready_time(resume_messages: int = 0) -> float:
    best = float("inf")
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory() as home:
            env = {"AGENTCORE_HOME": home, "HOME": home, "PATH": os.environ.get("PATH", ""), "TERM": "xterm-256color",
                   "AGENTCORE_PROVIDER": "echo"}
            argv = [str(AGENT), "chat"]
            if resume_messages:
                from bench.bench_store import write_session

                write_session(Path(home) / "state" / "sessions", "sess_bench_resume", resume_messages)
                argv += ["--resume", "sess_bench_resume"]
            master, slave = pty.openpty()
            start = time.perf_counter()
            proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=home)
            os.close(slave)
            seen = b""
            try:
                deadline = start + READY_TIMEOUT_S
                while READY_MARK not in seen:
                    ready, _, _ = select.select([master], [], [], max(0.0, deadline - time.perf_counter()))
                    if not ready:
                        raise TimeoutError("agent chat never showed its prompt")
                    seen += os.read(master, 65536)
                best = min(best, time.perf_counter() - start)
            finally:
                proc.kill()
                proc.wait()
                os.close(master)
    return best


def _render_rate() -> float:
    from rich.console import Console

    from agentcore.events import AssistantTextDelta, TurnStarted
    from agentcore.cli.render import REFRESH_PER_SECOND, Renderer

    console = Console(file=io.StringIO(), force_terminal=True, width=100, color_system="truecolor")
    renderer = Renderer(console, live=True)
    words = ("The ", "quick ", "**brown** ", "fox ", "`jumps` ", "over\n", "the ", "lazy ", "dog.\n\n", "- item\n")
    per_refresh = CHUNKS_BUDGET_PER_S // REFRESH_PER_SECOND  # chunks arriving between two redraws
    renderer.handle(TurnStarted("t"))
    start = time.perf_counter()
    for i in range(CHUNKS):
        renderer.handle(AssistantTextDelta("t", words[i % len(words)]))
        if i % per_refresh == 0:
            renderer.refresh()
    renderer.close()
    return CHUNKS / (time.perf_counter() - start)


def run() -> list[tuple[str, str, str, str]]:
    version = _version_time()
    ready = _ready_time()
    resumed = _ready_time(RESUME_MESSAGES)
    rate = _render_rate()
    return [
        ("cli", "agent --version", f"{version * 1000:.0f} ms", f"< {VERSION_BUDGET_S * 1000:.0f} ms"),
        ("cli", "agent chat ready for input", f"{ready * 1000:.0f} ms", f"< {READY_BUDGET_S * 1000:.0f} ms"),
        ("cli", f"agent chat --resume, {RESUME_MESSAGES:,} messages: added to the start",
         f"{(resumed - ready) * 1000:.0f} ms (ready at {resumed * 1000:.0f} ms)", f"< {RESUME_BUDGET_S * 1000:.0f} ms"),
        ("cli", "render text deltas", f"{rate:,.0f} chunks/s", f">= {CHUNKS_BUDGET_PER_S:,} chunks/s"),
    ]


if __name__ == "__main__":
    for row in run():
        print(" | ".join(row))
