"""Permission-gate speed: judging a 2,000-character compound shell command
against a handful of rules, parsed fresh (a new command) and cached (a repeat)."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from agentcore.permissions import DefaultPermissionGate, PermissionCheck, PermissionMode, Rule, RuleAction
from agentcore.shell_syntax import analyse_command
from agentcore.tools.base import Safety, ToolDescription, ToolKind
from agentcore.tools.workspace import Workspace

COMMAND_CHARS = 2_000  # a long agent command: a build, a test run and their plumbing
SAMPLES = 200  # evaluations per measurement; p50 of these
BUDGET_MS = 2.0  # p50 per evaluation: well under a human-noticeable delay per tool call
Row = tuple[str, str, str, str]
RULES = ("bash(git *)", "bash(npm run *)", "bash(make *)", "bash(cd *)", "bash(echo *)", "bash(grep *)")
PARTS = (
    "cd src && make -j4 2>&1 | tee build.log",
    "git status --short | grep -v '^??' | head -20",
    "npm run lint -- --fix > lint.txt",
    "echo \"$(git rev-parse HEAD) done\" >> log.txt",
    "for f in a b c; do echo $f; done",
)


def compound_command(salt: int) -> str:
    parts: list[str] = []
    while len(" && ".join(parts)) < COMMAND_CHARS:
        parts.append(PARTS[len(parts) % len(PARTS)])
    return f"echo run{salt} && " + " && ".join(parts)


def _p50_ms(gate: DefaultPermissionGate, commands: list[str], workspace: Workspace) -> float:
    times = []
    for command in commands:
        check = PermissionCheck(
            "t", "c", "bash", Safety.DESTRUCTIVE, command, ToolDescription("bash", ToolKind.EXECUTE),
            workspace=workspace,
        )
        start = time.perf_counter()
        gate.evaluate(check)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def run() -> list[Row]:
    gate = DefaultPermissionGate(
        mode=PermissionMode.ASK,
        rules=(*(Rule.parse(r, RuleAction.ALLOW) for r in RULES), Rule.parse("bash(rm *)", RuleAction.DENY)),
    )
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Workspace(Path(tmp))
        fresh = [compound_command(i) for i in range(SAMPLES)]
        analyse_command.cache_clear()
        cold = _p50_ms(gate, fresh, workspace)
        warm = _p50_ms(gate, [fresh[0]] * SAMPLES, workspace)
    chars = len(fresh[0])
    return [
        ("permissions", f"p50 judge a {chars}-char compound command (new)", f"{cold:.2f} ms", f"<= {BUDGET_MS} ms"),
        ("permissions", f"p50 judge a {chars}-char compound command (repeat)", f"{warm:.3f} ms", f"<= {BUDGET_MS} ms"),
    ]
