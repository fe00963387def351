"""BackgroundTasks on its own, and background shells started by bash."""

from __future__ import annotations

import re

import pytest
import trio

from agentcore.background import BackgroundTasks, TaskHandle, TaskKind, TaskSnapshot, TaskStatus
from agentcore.tools.shell import BashTool
from fakes.proc_util import pid_gone, wait_until

WAIT_S = 5.0


async def test_completed_failed_and_cancelled_outcomes():
    finished: list[TaskSnapshot] = []
    release = trio.Event()

    async def ok(handle: TaskHandle) -> str:
        handle.append_output("line one\nline two\npartial")
        return "all good"

    async def boom(handle: TaskHandle) -> str:
        raise RuntimeError("disk on fire")

    async def forever(handle: TaskHandle) -> str:
        await release.wait()
        return "never"

    async with BackgroundTasks.open(on_finished=finished.append) as tasks:
        a = tasks.start("ok task", TaskKind.SUB_AGENT, ok)
        b = tasks.start("failing task", TaskKind.SUB_AGENT, boom)
        c = tasks.start("stuck", TaskKind.SHELL, forever)
        assert [s.status for s in tasks.snapshot()] == [TaskStatus.RUNNING] * 3
        done = await tasks.wait(a.id)
        assert done.status is TaskStatus.COMPLETED and done.outcome == "all good"
        assert done.recent_output == ("line one", "line two", "partial")
        assert done.ended_at is not None and done.duration_s is not None
        failed = await tasks.wait(b.id)
        assert failed.status is TaskStatus.FAILED and failed.outcome == "RuntimeError: disk on fire"
        assert tasks.cancel(c.id) is True
        cancelled = await tasks.wait(c.id)
        assert cancelled.status is TaskStatus.CANCELLED
        assert tasks.cancel(c.id) is False and tasks.cancel("nope") is False
    assert sorted(s.id for s in finished) == sorted([a.id, b.id, c.id])
    assert a.id != b.id != c.id and c.id.startswith("shell_")
    assert tasks.get("nope") is None


async def test_leaving_the_table_cancels_running_tasks():
    async def forever(handle: TaskHandle) -> None:
        await trio.sleep_forever()

    async with BackgroundTasks.open() as tasks:
        handle = tasks.start("idle", TaskKind.SUB_AGENT, forever)
    assert handle.status is TaskStatus.CANCELLED


async def test_async_on_finished_hook_is_awaited():
    got = trio.Event()

    async def hook(snapshot: TaskSnapshot) -> None:
        await trio.lowlevel.checkpoint()
        got.set()

    async def quick(handle: TaskHandle) -> str:
        return "done"

    async with BackgroundTasks.open(on_finished=hook) as tasks:
        tasks.start("quick", TaskKind.SUB_AGENT, quick)
        with trio.fail_after(WAIT_S):
            await got.wait()


async def test_background_shell_runs_and_is_cancellable(make_ctx):
    async with BackgroundTasks.open() as tasks:
        ctx = make_ctx(background=tasks)
        result = await BashTool().execute(
            {"command": "echo ready; sleep 100", "run_in_background": True},
            ctx,
        )
        task_id = result.raw_output["task_id"]
        log = result.raw_output["output_path"]
        assert task_id in result.text_content and log in result.text_content
        snapshot = tasks.get(task_id)
        assert snapshot is not None and snapshot.kind is TaskKind.SHELL and str(snapshot.output_path) == log
        await wait_until(lambda: "ready" in tasks.get(task_id).recent_output, WAIT_S)
        with open(log, encoding="utf-8") as f:
            assert "ready" in f.read()
        assert tasks.cancel(task_id)
        final = await tasks.wait(task_id)
        assert final.status is TaskStatus.CANCELLED


async def test_background_shell_cancel_kills_group(make_ctx):
    async with BackgroundTasks.open() as tasks:
        ctx = make_ctx(background=tasks)
        result = await BashTool().execute(
            {"command": "sleep 100 & echo child=$!; wait", "run_in_background": True}, ctx
        )
        task_id = result.raw_output["task_id"]
        await wait_until(lambda: any("child=" in ln for ln in tasks.get(task_id).recent_output), WAIT_S)
        line = next(ln for ln in tasks.get(task_id).recent_output if "child=" in ln)
        pid = int(re.search(r"child=(\d+)", line).group(1))
        assert not pid_gone(pid)
        tasks.cancel(task_id)
        await tasks.wait(task_id)
        await wait_until(lambda: pid_gone(pid), 1.0)


async def test_background_shell_completion_is_reported(make_ctx):
    finished: list[TaskSnapshot] = []
    async with BackgroundTasks.open(on_finished=finished.append) as tasks:
        ctx = make_ctx(background=tasks)
        result = await BashTool().execute({"command": "echo hi; exit 4", "run_in_background": True}, ctx)
        final = await tasks.wait(result.raw_output["task_id"])
    assert final.status is TaskStatus.COMPLETED and final.outcome.startswith("exit code 4")
    assert final.recent_output == ("hi",)
    assert finished == [final]


async def test_background_needs_a_table(ctx):
    result = await BashTool().execute({"command": "true", "run_in_background": True}, ctx)
    assert result.is_error and "not available" in result.text_content


def test_snapshot_is_frozen():
    snap = TaskSnapshot("t", "l", TaskKind.SHELL, TaskStatus.RUNNING, 0.0, None, ())
    with pytest.raises(AttributeError):
        snap.status = TaskStatus.FAILED  # type: ignore[misc]
