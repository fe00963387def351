"""Real parts for job tests and the jobs bench: ``agent worker`` processes, a
scripted model that answers by conversation state, a git repository, and the
Temporal client called from trio.

The model (an OpenAI-wire responder on the loopback fake server) is stateless:
it reads the request's messages and answers the next step of a fixed plan —
prompt → a ``bash`` call appending a line to ``log.txt`` → ``goal_done`` →
a closing text — so any worker, any retry, gets the answer that fits the
journal it continues from.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import trio
from fakes.llm_server import FakeServer, RecordedRequest, Reply, sse_reply
from fakes.proc_util import wait_until
from fakes.vendor_wire import OA_DONE, OA_ROLE, oa_chunk, oa_tool_stream, oa_usage

AGENT = Path(sys.executable).parent / "agent"
FAKE_KEY = "sk-test-jobs-0123456789"
WORKER_READY_S = 60.0  # an agent worker starting (imports, Temporal connection) on a busy machine
STOP_GRACE_S = 10.0
STEP_COMMAND = "echo step >> log.txt"


def text_reply(text: str) -> Reply:
    return sse_reply(OA_ROLE, oa_chunk({"content": text}), oa_chunk({}, finish="stop"), oa_usage(100, 5), OA_DONE)


def tool_reply(call_id: str, name: str, args: dict[str, Any]) -> Reply:
    return sse_reply(*oa_tool_stream((call_id, name, json.dumps(args))))


def last_tool_name(messages: list[dict[str, Any]]) -> str | None:
    """The tool whose result is the conversation's last message, if it is one."""
    if not messages or messages[-1].get("role") != "tool":
        return None
    call_id = messages[-1].get("tool_call_id")
    for m in reversed(messages):
        for call in m.get("tool_calls") or ():
            if call.get("id") == call_id:
                return call["function"]["name"]
    return None


@attrs.define
class PlanModel:
    """The scripted model. ``hang_after_tool`` / ``hang_first`` make one request
    hang (until its client goes away): a worker is then "mid-job"."""

    hang_after_tool: bool = False
    hang_first: bool = False
    hung: trio.Event = attrs.field(factory=trio.Event)

    def __call__(self, request: RecordedRequest) -> Reply | None:
        if not request.path.endswith("/chat/completions"):
            return None
        messages = request.json()["messages"]
        n = len(messages)
        last = last_tool_name(messages)
        if self.hang_first or (self.hang_after_tool and last == "bash"):
            self.hang_first = self.hang_after_tool = False
            self.hung.set()
            return sse_reply(OA_ROLE, end="hang")
        if last is None:
            return tool_reply(f"call_step_{n}", "bash", {"command": STEP_COMMAND})
        if last == "bash":
            return tool_reply(f"call_done_{n}", "goal_done", {"summary": "log.txt has a step line"})
        return text_reply("Done.")


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "README.md").write_text("a project\n")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(path), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}  # fmt: skip
    for args in (["init", "-q", "-b", "main"], ["add", "README.md"], ["commit", "-q", "-m", "start"]):
        subprocess.run(["git", *args], cwd=path, env=env, check=True, capture_output=True)
    return path


def worker_env(home: Path, llm: FakeServer) -> dict[str, str]:
    return {
        "AGENTCORE_HOME": str(home),  # the session store every worker shares
        "HOME": str(home.parent),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "OPENAI_API_KEY": FAKE_KEY,
        "OPENAI_BASE_URL": f"{llm.url}/v1",
    }


@attrs.define
class WorkerProc:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    workspaces: Path

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def log_records(self) -> list[dict[str, Any]]:
        """The worker's JSON log lines (other output, like the ready line, is skipped)."""
        out = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                out.append(json.loads(line))
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def start_worker(name: str, address: str, queue: str, env: dict[str, str], root: Path) -> WorkerProc:
    log = root / f"{name}.log"
    workspaces = root / f"ws-{name}"
    with open(log, "wb") as out:  # noqa: ASYNC230 - creating an empty log file
        proc = subprocess.Popen(  # noqa: ASYNC220 - returns at once; stop() and kill() need the Popen
            [str(AGENT), "worker", "--temporal", address, "--queue", queue, "--id", name, "--workspaces", str(workspaces),
             "--log-format", "json"],
            env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=root,
        )  # fmt: skip
    worker = WorkerProc(name, proc, log, workspaces)
    try:
        await wait_until(lambda: b"ready: worker" in log.read_bytes() or proc.poll() is not None, WORKER_READY_S)
    except BaseException:
        worker.stop()
        raise
    if proc.poll() is not None:
        raise RuntimeError(f"worker {name} exited: {log.read_text(errors='replace')[-2000:]}")
    return worker


async def temporal(address: str, call: Callable[..., Any], *args: Any) -> Any:
    """Run ``call(client, *args)`` (an agentcore.jobs.client coroutine) on its own asyncio loop in a thread."""
    from agentcore.jobs.client import connect

    async def go() -> Any:
        return await call(await connect(address), *args)

    return await trio.to_thread.run_sync(asyncio.run, go())


async def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return await trio.run_process([str(AGENT), *args], env=env, capture_stdout=True, capture_stderr=True, check=False)


# ---------------------------------------------------------------- job helpers

JOB_TIMEOUT_S = 60.0


async def submit(temporal_server, queue: str, repo: Path, env: dict[str, str], *extra: str) -> str:
    done = await run_cli("jobs", "submit", "--temporal", temporal_server.address, "--queue", queue, "--goal",
                         "append a step line to log.txt", "--repo", str(repo), "--json", *extra, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)["job"]


async def outcome(temporal_server, job_id: str):
    from agentcore.jobs import result

    with trio.fail_after(JOB_TIMEOUT_S):
        return await temporal(temporal_server.address, result, job_id)


POLL_S = 0.1  # between reads of a job's state while waiting for it to change


async def state_when(temporal_server, job_id: str, condition):
    """The job's state once ``condition(status, state)`` holds (polled through the workflow query)."""
    from agentcore.jobs import describe

    with trio.fail_after(JOB_TIMEOUT_S):
        while True:
            status, state = await temporal(temporal_server.address, describe, job_id)
            if condition(status, state):
                return state
            await trio.sleep(POLL_S)
