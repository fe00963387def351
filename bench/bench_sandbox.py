"""The cost of the bubblewrap sandbox: median wall time of ``bash -c true``
through LocalShell, sandboxed and not, and the redactor's throughput."""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import trio

from agentcore.secrets import Redactor, ToolSecrets
from agentcore.tools.local import LocalShell
from agentcore.tools.sandbox import BWRAP_PATH, ProcessConfinement, SandboxMode, SandboxPolicy

RUNS = 40  # commands per variant; the median hides scheduler noise
OVERHEAD_BUDGET_MS = 30.0  # sandboxed minus unsandboxed
REDACT_TEXT_BYTES = 4 * 1024 * 1024  # one large tool output
REDACT_BUDGET_MS = 50.0  # for 4 MB with a dozen keys: far below a model round trip
Row = tuple[str, str, str, str]


async def median_ms(shell: LocalShell, cwd: Path) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        result = await shell.run("bash -c true", cwd=cwd, timeout_s=10.0)
        times.append((time.perf_counter() - start) * 1000)
        assert result.exit_code == 0, result.output
    return statistics.median(times)


async def measure(root: Path) -> list[Row]:
    secrets = ToolSecrets.from_environment(os.environ)
    plain = LocalShell(secrets=secrets)
    rows: list[Row] = []
    unsandboxed = await median_ms(plain, root)
    rows.append(("sandbox", "bash -c true, unsandboxed (median)", f"{unsandboxed:.1f} ms", "-"))
    bwrap = Path(shutil.which("bwrap") or BWRAP_PATH)
    policy = SandboxPolicy(mode=SandboxMode.WORKSPACE_WRITE, bwrap=bwrap, home=Path.home())
    if policy.problem() is not None:
        rows.append(("sandbox", "bash -c true, sandboxed", "skipped: no bubblewrap", f"<= +{OVERHEAD_BUDGET_MS:.0f} ms"))
    else:
        boxed = LocalShell(secrets=secrets, confinement=ProcessConfinement(policy, (root,)))
        sandboxed = await median_ms(boxed, root)
        rows.append(("sandbox", "bash -c true, sandboxed (median)", f"{sandboxed:.1f} ms", "-"))
        rows.append(("sandbox", "sandbox overhead", f"+{sandboxed - unsandboxed:.1f} ms", f"<= +{OVERHEAD_BUDGET_MS:.0f} ms"))
    keys = {f"KEY_{i}": f"sk-bench-{i:02d}-0123456789abcdefghij" for i in range(12)}
    redactor = Redactor(keys)
    text = ("ordinary build output line with nothing secret in it\n" * (REDACT_TEXT_BYTES // 54))[:REDACT_TEXT_BYTES]
    start = time.perf_counter()
    redactor.redact(text)
    elapsed = (time.perf_counter() - start) * 1000
    rows.append(("sandbox", "redact 4 MB of output (12 keys)", f"{elapsed:.1f} ms", f"<= {REDACT_BUDGET_MS:.0f} ms"))
    return rows


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        return trio.run(measure, Path(tmp).resolve())
