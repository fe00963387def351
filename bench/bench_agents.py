"""Sub-agents, background outcomes and hooks: the overhead each adds to a turn."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import trio

from agentcore import AgentCoreBuilder, EchoProvider, SessionCreateInfo, SessionPolicy
from agentcore.background import TaskHandle, TaskKind
from agentcore.events import TurnStarted
from agentcore.session.hooks import run_hook_process

Row = tuple[str, str, str, str]
SAMPLES = 20


def _core(state: Path) -> object:
    policies = {
        "main": SessionPolicy(profile="main", spawn=("child",)),
        "child": SessionPolicy(profile="child"),
    }
    return (
        AgentCoreBuilder()
        .with_provider(EchoProvider(), "echo")
        .without_builtin_tools()
        .with_state_dir(state)
        .with_policy_resolver(lambda profile, cwd: policies[profile or "main"])
        .build()
    )


async def _spawn_overhead(work: Path) -> float:
    """Median seconds for a foreground child: open, one echo turn, close."""
    core = _core(work / "state")

    async def sink(text: str) -> None:
        return None

    times = []
    async with core.open_session(SessionCreateInfo(cwd=work)) as session:
        for _ in range(SAMPLES):
            start = time.perf_counter()
            await session.agents.run_child("child", "say hello", sink)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


async def _outcome_to_turn(work: Path) -> float:
    """Median seconds from a background task's end to its autonomous turn starting."""
    core = _core(work / "state")
    times = []
    async with core.open_session(SessionCreateInfo(cwd=work)) as session:
        for _ in range(SAMPLES):
            started = trio.Event()
            ended_at = 0.0

            def observe(event: object) -> None:
                if isinstance(event, TurnStarted):
                    started.set()

            remove = session.events.add_observer(observe)

            async def job(handle: TaskHandle) -> str:
                nonlocal ended_at
                ended_at = time.perf_counter()
                return "done"

            session.background.start("bench", TaskKind.SUB_AGENT, job)
            await started.wait()
            times.append(time.perf_counter() - ended_at)
            remove()
            while session.turn_running:  # let the echo turn finish before the next sample
                await trio.sleep(0)
    return statistics.median(times)


async def _hook_round_trip(work: Path) -> float:
    """Median seconds for one ``sh -c`` hook that reads its JSON and answers."""
    payload = b'{"event": "pre_tool_use", "tool_name": "bash"}'
    command = 'cat >/dev/null; echo \'{"decision": "allow"}\''
    times = []
    for _ in range(SAMPLES):
        start = time.perf_counter()
        await run_hook_process(command, payload, cwd=work, env={"PATH": "/usr/bin:/bin"}, timeout_s=10.0)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        spawn = trio.run(_spawn_overhead, work)
        wake = trio.run(_outcome_to_turn, work)
        hook = trio.run(_hook_round_trip, work)
    return [
        ("agents", "foreground sub-agent overhead, echo model (median)", f"{spawn * 1e3:.2f} ms", "<= 10 ms"),
        ("agents", "background outcome -> autonomous turn start (median)", f"{wake * 1e3:.2f} ms", "<= 5 ms"),
        ("hooks", "one command hook round trip, sh (median)", f"{hook * 1e3:.2f} ms", "<= 20 ms"),
    ]
