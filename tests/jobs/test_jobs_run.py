"""Durable jobs end to end: a real Temporal dev server, real ``agent worker``
processes, the loopback model; the CLI submits, shows, approves and cancels."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import trio
from fakes.proc_util import wait_until
from jobs_support import (
    AGENT,
    FAKE_KEY,
    JOB_TIMEOUT_S,
    STEP_COMMAND,
    PlanModel,
    outcome,
    run_cli,
    state_when,
    submit,
    temporal,
)

pytest.importorskip("temporalio", reason="the temporalio SDK is not installed (the temporal extra)")

from agentcore.jobs import client as jobs
from agentcore.jobs.errors import JobError


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
    holder = next(w for w in workers if w.name == state.worker)
    ended = [r for r in holder.log_records() if r["msg"] == "turn 1 ended: goal_done"]
    assert ended and ended[0]["job_id"] == job_id and ended[0]["session_id"] == result.session_id  # structured logs
    assert FAKE_KEY not in holder.log.read_text()


def _requests_for_goal(server) -> int:
    return sum(1 for r in server.requests if r.path.endswith("/chat/completions") and r.json()["messages"][-1]["role"] == "user")


async def test_worker_killed_mid_job_resumes_on_another_from_its_checkpoint(temporal_server, workers, queue, repo, env, server) -> None:
    model = PlanModel(hang_after_tool=True)  # the model call after the tool ran never answers: the worker is mid-turn
    server.respond_with(model)
    job_id = await submit(temporal_server, queue, repo, env, "--mode", "yolo", "--heartbeat-timeout", "2", "--failover-after", "2")
    with trio.fail_after(JOB_TIMEOUT_S):
        await model.hung.wait()
    state = await state_when(temporal_server, job_id, lambda status, st: st.worker is not None)
    holder = next(w for w in workers if w.name == state.worker)
    other = next(w for w in workers if w is not holder)
    assert (Path(state.workspace) / "log.txt").read_text() == "step\n"
    holder.kill()  # SIGKILL: no goodbye to Temporal, the session journal is left mid-turn
    result = await outcome(temporal_server, job_id)
    assert result.reached and result.stop == "goal_done" and result.failovers == 1
    _, state = await temporal(temporal_server.address, jobs.describe, job_id)
    assert state.worker == other.name
    workspace = Path(state.workspace)
    assert workspace.parent == other.workspaces.resolve()
    # The file the killed worker's tool call wrote came back from the session's checkpoints and
    # the call did not run again (it appends): the turn went on from its last recorded message.
    assert (workspace / "log.txt").read_text() == "step\n"
    assert "(1 files replayed)" in other.log.read_text()
    assert _requests_for_goal(server) == 1  # the goal prompt was sent once, by the first worker


async def test_an_approval_is_answered_through_the_cli(temporal_server, workers, queue, repo, env, server, tmp_path) -> None:
    server.respond_with(PlanModel())
    job_id = await submit(temporal_server, queue, repo, env, "--mode", "ask", "--approval-timeout", "120")
    state = await state_when(temporal_server, job_id, lambda status, st: bool(st.pending))
    (pending,) = state.pending
    assert pending.tool == "bash" and state.phase == "waiting_approval"
    assert not (Path(state.workspace) / "log.txt").exists()  # nothing ran before the answer
    shown = await run_cli("jobs", "show", job_id, "--temporal", temporal_server.address, env=env)
    assert f"waiting for approval: {pending.call_id}" in shown.stdout.decode()
    followed = tmp_path / "follow.out"
    with open(followed, "wb") as out:  # noqa: ASYNC230 - the follower's stdout file
        follower = await trio.lowlevel.open_process([str(AGENT), "jobs", "show", job_id, "--follow", "--temporal",
                                                     temporal_server.address], stdout=out, env=env)  # fmt: skip
    try:
        # Live progress from the session journal while the turn is still waiting in the worker:
        await wait_until(lambda: STEP_COMMAND in followed.read_text(), JOB_TIMEOUT_S)
        await _approve_and_finish(temporal_server, job_id, pending, state, env, follower, followed)
    finally:
        if follower.returncode is None:
            follower.kill()
            await follower.wait()


async def _approve_and_finish(temporal_server, job_id, pending, state, env, follower, followed) -> None:
    wrong = await run_cli("jobs", "approve", job_id, "call_nope", "allow", "--temporal", temporal_server.address, env=env)
    assert wrong.returncode == 1
    assert wrong.stderr.decode().startswith("error: job is not waiting for an approval of call call_nope")
    assert "Traceback" not in wrong.stderr.decode()
    answered = await run_cli("jobs", "approve", job_id, pending.call_id, "allow", "--temporal", temporal_server.address, env=env)
    assert answered.returncode == 0, answered.stderr.decode()
    result = await outcome(temporal_server, job_id)
    assert result.reached
    assert (Path(state.workspace) / "log.txt").read_text() == "step\n"  # the approved call ran
    with trio.fail_after(JOB_TIMEOUT_S):
        assert await follower.wait() == 0  # --follow ends with the job
    assert "reached: goal_done" in followed.read_text()
    again = await run_cli("jobs", "approve", job_id, pending.call_id, "deny", "--temporal", temporal_server.address, env=env)
    assert again.returncode == 1  # the job is closed: no second answer


async def test_an_unanswered_approval_fails_closed(temporal_server, workers, queue, repo, env, server) -> None:
    server.respond_with(PlanModel())
    job_id = await submit(temporal_server, queue, repo, env, "--mode", "ask", "--approval-timeout", "1")
    with pytest.raises(JobError, match="approval was not answered within 1s"):
        await outcome(temporal_server, job_id)
    status, state = await temporal(temporal_server.address, jobs.describe, job_id)
    assert status == "failed" and not state.pending
    assert not (Path(state.workspace) / "log.txt").exists()  # the call never ran
    assert _requests_for_goal(server) == 1 and len(server.requests) == 1  # and nothing ran after it either


async def test_cancel_reaches_the_running_turn(temporal_server, workers, queue, repo, env, server) -> None:
    model = PlanModel(hang_first=True)
    server.respond_with(model)
    job_id = await submit(temporal_server, queue, repo, env, "--mode", "yolo", "--heartbeat-timeout", "2")
    with trio.fail_after(JOB_TIMEOUT_S):
        await model.hung.wait()
    hung = server.requests[-1]
    cancelled = await run_cli("jobs", "cancel", job_id, "--temporal", temporal_server.address, env=env)
    assert cancelled.returncode == 0, cancelled.stderr.decode()
    with trio.fail_after(JOB_TIMEOUT_S):
        await hung.disconnected.wait()  # the model call in the worker was cancelled
    await state_when(temporal_server, job_id, lambda status, st: status == "canceled")
    with pytest.raises(JobError, match="cancelled"):
        await outcome(temporal_server, job_id)
    missing = await run_cli("jobs", "cancel", "job-nope", "--temporal", temporal_server.address, env=env)
    assert missing.returncode == 1 and missing.stderr.decode() == "error: no job job-nope\n"


async def test_a_repository_that_cannot_be_cloned_fails_the_job_in_one_line(temporal_server, workers, queue, tmp_path, env, server) -> None:
    server.respond_with(PlanModel())
    not_a_repo = tmp_path / "plain"
    not_a_repo.mkdir()
    job_id = await submit(temporal_server, queue, not_a_repo, env)
    with pytest.raises(JobError, match=r"WorkspaceError: cannot clone .*plain") as failed:
        await outcome(temporal_server, job_id)
    assert "\n" not in str(failed.value)
    assert not server.requests  # no model call for a job without a workspace


async def test_bad_input_is_one_line(tmp_path, env, repo) -> None:
    from temporal_dev import free_port

    nowhere = f"127.0.0.1:{free_port()}"
    unreachable = await run_cli("jobs", "list", "--temporal", nowhere, env=env)
    assert unreachable.returncode == 1
    assert unreachable.stderr.decode().startswith(f"error: cannot reach Temporal at {nowhere}")
    assert unreachable.stderr.decode().count("\n") == 1
    missing = await run_cli("jobs", "submit", "--goal", "x", "--repo", str(tmp_path / "nope"), "--temporal", nowhere, env=env)
    assert missing.returncode == 2 and "is neither a directory nor a git URL" in missing.stderr.decode()
    empty = await run_cli("jobs", "submit", "--goal", " ", "--repo", str(repo), "--temporal", nowhere, env=env)
    assert empty.returncode == 2 and empty.stderr.decode() == "error: the goal is empty\n"


async def test_a_denied_call_never_runs_and_the_model_is_told(temporal_server, workers, queue, repo, env, server) -> None:
    server.respond_with(PlanModel())
    job_id = await submit(temporal_server, queue, repo, env, "--mode", "ask", "--max-turns", "1")
    state = await state_when(temporal_server, job_id, lambda status, st: bool(st.pending))
    (pending,) = state.pending
    denied = await run_cli("jobs", "approve", job_id, pending.call_id, "deny", "--temporal", temporal_server.address, env=env)
    assert denied.returncode == 0, denied.stderr.decode()
    result = await outcome(temporal_server, job_id)
    assert not (Path(state.workspace) / "log.txt").exists()
    told = [r for r in server.requests if r.path.endswith("/chat/completions") and r.json()["messages"][-1]["role"] == "tool"]
    assert told and "declined" in json.dumps(told[0].json()["messages"][-1])
    assert result.turns == 1


async def test_submit_wait_reports_the_outcome_and_its_exit_code(temporal_server, workers, queue, repo, env, server) -> None:
    server.respond_with(PlanModel())
    done = await run_cli("jobs", "submit", "--temporal", temporal_server.address, "--queue", queue, "--goal", "append",
                         "--repo", str(repo), "--mode", "yolo", "--wait", "--json", env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    report = json.loads(done.stdout)
    assert report["reached"] is True and report["stop"] == "goal_done" and report["job"].startswith("job-")


async def test_without_the_temporal_extra_the_commands_say_what_to_install(env) -> None:
    # A child interpreter where temporalio cannot be imported (as without the extra).
    code = "import sys; sys.modules['temporalio'] = None; from agentcore.cli.main import main; sys.exit(main(sys.argv[1:]))"
    for argv in (["jobs", "list"], ["worker", "--queue", "q"]):
        done = await trio.run_process([sys.executable, "-c", code, *argv], env=env, capture_stdout=True,
                                      capture_stderr=True, check=False)  # fmt: skip
        assert done.returncode == 1
        assert done.stderr.decode() == "error: durable jobs need the temporal extra: pip install 'agentcore[temporal]'\n"
