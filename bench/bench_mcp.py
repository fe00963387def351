"""MCP budgets: slow servers never hold up a session; nothing imports the SDK early.

* session creation with two slow MCP servers configured (they wait on a file
  that never appears), cold (the SDK not yet imported) and warm;
* the first turn in a process with no servers (the first turn of a process
  also loads the tokenizer), for scale;
* the first prompt of a session whose server takes 1.5 s to start: its
  request lists the server's tools, and it is sent no later than 50 ms after
  the server became ready (the turn waits for the rest of the start, no more);
* ``agent --version`` and the modules behind ``agent acp`` leave the MCP SDK
  unimported (checked in a fresh interpreter).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import trio

Row = tuple[str, str, str, str]

CREATE_BUDGET_S = 0.250  # from the issue: a session answers within 250 ms whatever its servers do
READY_TO_REQUEST_BUDGET_S = 0.050  # from the issue: the first prompt waits the server's remaining start + 50 ms
SLOW_START_S = 1.5  # the slow server sleeps this long before answering initialize
SERVER_SCRIPT = Path(__file__).resolve().parent.parent / "tests" / "mcp" / "servers" / "demo_server.py"


async def _session_timings(root: Path, servers: int) -> tuple[float, float]:
    """(seconds to open the session, seconds to open it and finish a first turn; no turn with servers)."""
    from agentcore import AgentCoreBuilder, EchoProvider, SessionCreateInfo
    from agentcore.mcp import McpToolFactory
    from agentcore.mcp.spec import McpServerSpec, Transport

    specs = [
        McpServerSpec(
            name=f"slow{i}",
            transport=Transport.STDIO,
            command=sys.executable,
            args=[str(SERVER_SCRIPT), "--gate", str(root / "never")],
        )
        for i in range(servers)
    ]
    core = (
        AgentCoreBuilder()
        .with_provider(EchoProvider(), "echo")
        .without_builtin_tools()
        .with_state_dir(root / "state")
        .with_session_tool_factory(McpToolFactory(lambda _session: specs))
        .build()
    )
    start = time.perf_counter()
    async with core.open_session(SessionCreateInfo(cwd=root)) as session:
        opened = time.perf_counter() - start
        if not servers:  # with servers that never start, the first turn would wait out their start-up timeout
            await session.run_turn("hello")
        answered = time.perf_counter() - start
    return opened, answered


async def _first_prompt_timing(root: Path) -> tuple[bool, float, float]:
    """(the first request listed the tools, seconds from turn start to the server's
    ready, seconds from ready to the request), for a server that sleeps 1.5 s first."""
    from agentcore import AgentCoreBuilder, EchoProvider, SessionCreateInfo
    from agentcore.events import McpServerStatus
    from agentcore.mcp import McpToolFactory
    from agentcore.mcp.spec import McpServerSpec, Transport

    spec = McpServerSpec(
        name="slow", transport=Transport.STDIO, command=sys.executable,
        args=[str(SERVER_SCRIPT), "--name", "slow", "--delay", str(SLOW_START_S)],
    )  # fmt: skip
    marks: dict[str, float] = {}
    offered: list[str] = []

    class Recording(EchoProvider):
        async def complete(self, request):  # type: ignore[no-untyped-def]
            marks.setdefault("request", time.perf_counter())
            offered.extend(t.name for t in request.tools)
            async for chunk in super().complete(request):
                yield chunk

    class ReadyClock:
        def session_opened(self, session: object) -> None: ...
        def session_closed(self, session: object) -> None: ...

        def on_event(self, session: object, event: object) -> None:
            if isinstance(event, McpServerStatus) and event.state == "ready":
                marks.setdefault("ready", time.perf_counter())

    core = (
        AgentCoreBuilder()
        .with_provider(Recording(), "echo")
        .without_builtin_tools()
        .with_state_dir(root / "state")
        .with_observer(ReadyClock())
        .with_session_tool_factory(McpToolFactory(lambda _session: [spec]))
        .build()
    )
    async with core.open_session(SessionCreateInfo(cwd=root)) as session:
        start = time.perf_counter()
        await session.run_turn("hello")
    listed = "mcp__slow__echo" in offered
    return listed, marks["ready"] - start, marks["request"] - marks["ready"]


def measure_first_prompt() -> tuple[bool, float, float]:
    code = (
        "import json, sys, tempfile, trio; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
        "from bench.bench_mcp import _first_prompt_timing;"
        "tmp = tempfile.TemporaryDirectory(); print(json.dumps(trio.run(_first_prompt_timing, Path(tmp.name))))"
    )
    root = str(Path(__file__).resolve().parent.parent)
    out = subprocess.run([sys.executable, "-c", code, root], capture_output=True, text=True, check=True, cwd=root)
    listed, start_s, wait_s = json.loads(out.stdout.strip().splitlines()[-1])
    return bool(listed), start_s, wait_s


def _sdk_imported(code: str) -> bool:
    probe = code + "\nimport sys\nprint(any(m == 'mcp' or m.startswith(('mcp.', 'mcp_types')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return out.stdout.strip().endswith("True")


def measure_in_fresh_process(servers: int) -> list[tuple[float, float]]:
    """Run in a new interpreter: a cold session, then a warm one (SDK and tokenizer loaded)."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); from bench.bench_mcp import _measure;"
        f"print(json.dumps(_measure({servers})))"
    )
    root = str(Path(__file__).resolve().parent.parent)
    out = subprocess.run([sys.executable, "-c", code, root], capture_output=True, text=True, check=True, cwd=root)
    return [tuple(pair) for pair in json.loads(out.stdout.strip().splitlines()[-1])]


def _measure(servers: int) -> list[tuple[float, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        return [trio.run(_session_timings, Path(tmp), servers) for _ in range(2)]


def run() -> list[Row]:
    (base_open, base_turn), _ = measure_in_fresh_process(0)
    (cold_open, _), (warm_open, _) = measure_in_fresh_process(2)
    listed, start_s, wait_s = measure_first_prompt()
    version = _sdk_imported(
        "import sys, contextlib, io\nfrom agentcore.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['--version'])"
    )
    acp = _sdk_imported("import agentcore.acp.server, agentcore.acp.agent, agentcore.core, agentcore.mcp")
    budget = f"< {CREATE_BUDGET_S * 1000:.0f} ms"
    return [
        ("mcp", "open + first turn, no MCP servers (cold process)", f"{base_turn * 1000:.0f} ms", ""),
        ("mcp", "open session, 2 slow servers (cold SDK)", f"{cold_open * 1000:.0f} ms", budget),
        ("mcp", "open session, 2 slow servers (warm SDK)", f"{warm_open * 1000:.0f} ms", budget),
        ("mcp", f"first prompt, {SLOW_START_S:g} s server: its tools in the request", "yes" if listed else "no", "yes"),
        ("mcp", f"first prompt, {SLOW_START_S:g} s server: turn start -> server ready", f"{start_s * 1000:.0f} ms", ""),
        ("mcp", "first prompt: server ready -> request sent", f"{wait_s * 1000:.1f} ms",
         f"<= {READY_TO_REQUEST_BUDGET_S * 1000:.0f} ms"),
        ("mcp", "agent --version imports the MCP SDK", "yes" if version else "no", "no"),
        ("mcp", "agent acp start-up modules import the MCP SDK", "yes" if acp else "no", "no"),
    ]
