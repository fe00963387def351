"""Durable jobs end to end: a real Temporal dev server, real ``agent worker``
processes, the loopback model; the CLI submits, shows, approves and cancels."""

from __future__ import annotations

import json
from pathlib import Path

import trio

from agentcore.jobs import client as jobs
from agentcore.jobs.errors import JobError
from jobs_support import STEP_COMMAND, PlanModel, run_cli, temporal

JOB_TIMEOUT_S = 60.0


async def submit(temporal_server, queue: str, repo: Path, env: dict[str, str], *extra: str) -> str:
    done = await run_cli("jobs", "submit", "--temporal", temporal_server.address, "--queue", queue, "--goal",
                         "append a step line to log.txt", "--repo", str(repo), "--json", *extra, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)["job"]


async def outcome(temporal_server, job_id: str):
    with trio.fail_after(JOB_TIMEOUT_S):
        return await temporal(temporal_server.address, jobs.result, job_id)


async def test_goal_job_with_tool_calls_completes_on_a_worker_pool(temporal_server, workers, queue, repo, env, server) -> None:
    server.respond_with(PlanModel())
    job_id = await submit(temporal_server, queue, repo, env, "--mode", "yolo")
    result = await outcome(temporal_server, job_id)
    assert result.reached and result.stop == "goal_done" and result.turns == 1
    assert result.summary == "log.txt has a step line"
    status, state = await temporal(temporal_server.address, jobs.describe, job_id)
    assert status == "completed" and state.worker in ("wa", "wb")
    workspace = Path(state.workspace)
    assert workspace.parent.name == f"ws-{state.worker}"
    assert (workspace / "log.txt").read_text() == "step\n"  # the tool ran in the worker's clone
    assert (workspace / "README.md").read_text() == "a project\n"
    assert not (repo / "log.txt").exists()  # never in the submitted repository
    shown = await run_cli("jobs", "show", job_id, "--temporal", temporal_server.address, "--follow", env=env)
    out = shown.stdout.decode()
    assert shown.returncode == 0, shown.stderr.decode()
    assert STEP_COMMAND in out and "goal_done" in out  # progress read from the session journal
    assert f"session: {result.session_id}" in out and "reached: goal_done after 1 turn(s)" in out
    listed = await run_cli("jobs", "list", "--temporal", temporal_server.address, env=env)
    assert job_id in listed.stdout.decode() and "completed" in listed.stdout.decode()
