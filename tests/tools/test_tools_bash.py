"""bash and LocalShell against real processes: timeouts and cancellation kill
the whole process group, output is capped and spilled, exit codes reported."""

from __future__ import annotations

import re
import subprocess

import trio

from agentcore.tools.local import LocalShell
from agentcore.tools.shell import BashTool
from tools_executor import call_tool
from tools_progress import ProgressLog
from fakes.proc_util import pid_gone, wait_until

KILL_BUDGET_S = 1.0  # the group must be gone within this after a timeout or cancel
GRANDCHILD = "sleep 100 & echo child=$!; wait"


def child_pid(text: str) -> int:
    match = re.search(r"child=(\d+)", text)
    assert match, text
    return int(match.group(1))


async def test_exit_code_and_output(ctx):
    result = await BashTool().execute({"command": "echo out; echo err >&2; exit 3"}, ctx)
    assert result.is_error
    assert result.text_content == "out\nerr\n\n[Exit code 3.]"
    assert result.raw_output["exit_code"] == 3


async def test_success_runs_in_workspace(ctx, ws):
    result = await BashTool().execute({"command": "pwd; printf '%s' \"$GIT_PAGER\""}, ctx)
    assert not result.is_error
    assert result.text_content.startswith(f"{ws}\ncat")


async def test_signal_is_reported(ctx):
    result = await BashTool().execute({"command": "kill -KILL $$"}, ctx)
    assert result.is_error and "Killed by SIGKILL" in result.text_content
    assert result.raw_output["signal"] == 9


async def test_timeout_kills_grandchild(ctx):
    start = trio.current_time()
    result = await BashTool().execute({"command": GRANDCHILD, "timeout_s": 1}, ctx)
    assert trio.current_time() - start < 1 + KILL_BUDGET_S
    assert result.is_error and "Timed out after 1 s" in result.text_content
    pid = child_pid(result.text_content)
    await wait_until(lambda: pid_gone(pid), KILL_BUDGET_S)


async def test_shell_timeout_sub_second(ws):
    result = await LocalShell().run(GRANDCHILD, cwd=ws, timeout_s=0.2)
    assert result.timed_out and result.exit_code is None and result.signal is not None
    pid = child_pid(result.output)
    await wait_until(lambda: pid_gone(pid), KILL_BUDGET_S)


async def test_cancel_kills_process_group(make_ctx):
    progress = ProgressLog()
    ctx = make_ctx(progress=progress)
    seen = trio.Event()
    pids: list[int] = []

    async def watch(report):
        await progress(report)
        if "child=" in report.text and not pids:
            pids.append(child_pid(report.text))
            seen.set()

    ctx.progress = watch
    async with trio.open_nursery() as nursery:
        nursery.start_soon(BashTool().execute, {"command": GRANDCHILD}, ctx)
        with trio.fail_after(5):
            await seen.wait()
        cancelled_at = trio.current_time()
        nursery.cancel_scope.cancel()
    assert trio.current_time() - cancelled_at < KILL_BUDGET_S
    await wait_until(lambda: pid_gone(pids[0]), KILL_BUDGET_S)


async def test_leftover_background_children_are_killed_at_exit(ws):
    result = await LocalShell().run("sleep 100 & echo child=$!", cwd=ws, timeout_s=10)
    assert result.exit_code == 0
    pid = child_pid(result.output)
    await wait_until(lambda: pid_gone(pid), KILL_BUDGET_S)


async def test_large_output_is_cut_and_spilled(ctx):
    result = await BashTool().execute({"command": "seq 1 30000"}, ctx)
    full = subprocess.run(["seq", "1", "30000"], capture_output=True, text=True, check=True).stdout
    text = result.text_content
    assert len(text) < 31_000
    assert text.startswith("1\n2\n3\n") and "30000\n\n[Exit code 0.]" in text
    spill = result.raw_output["output_path"]
    assert spill and spill in text
    with open(spill, encoding="utf-8") as f:
        assert f.read() == full


async def test_backend_spills_beyond_memory_limit(ws, tmp_path):
    shell = LocalShell(memory_limit_chars=10_000, spill_dir=tmp_path / "shell-spill")
    result = await shell.run("seq 1 20000", cwd=ws, timeout_s=10)
    assert result.truncated and result.full_output_path is not None
    assert result.full_output_path.read_text().splitlines()[-1] == "20000"
    assert result.output.startswith("1\n2\n") and result.output.rstrip().endswith("20000")
    assert len(result.output) < 10_200


async def test_progress_is_reported(make_ctx):
    progress = ProgressLog()
    result = await BashTool().execute({"command": "echo first-line"}, make_ctx(progress=progress))
    assert not result.is_error
    assert any("first-line" in p.text for p in progress.reports)


async def test_env_is_layered_over_inherited(ws):
    result = await LocalShell().run(
        'printf "%s|%s" "$EXTRA" "${PATH:+has-path}"', cwd=ws, timeout_s=10, env={"EXTRA": "x"}
    )
    assert result.output == "x|has-path"


async def test_timeout_above_max_is_refused(ctx):
    result = await call_tool(BashTool(), {"command": "true", "timeout_s": 601}, ctx)
    assert result.is_error and "above the maximum" in result.text


def test_bash_subject_and_title():
    tool = BashTool()
    assert tool.permission_subject({"command": "  git status  "}) == "git status"
    assert tool.title({"command": "pytest -q", "description": "Run the tests"}) == "Run the tests"
    assert tool.title({"command": "echo a\necho b"}) == "echo a..."
