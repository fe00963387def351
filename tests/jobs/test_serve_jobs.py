"""Job approvals answered through ``agent serve`` (``_agentcore/jobs/list`` and
``_agentcore/jobs/approve`` over ACP) against a real server, the Temporal dev
server and real workers: the pending approval is listed, a wrong call id is one
line, the right answer lets the job finish; an approval that timed out cannot
be answered any more (it failed closed)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
import trio
from fakes.modules import load_module
from jobs_support import JOB_TIMEOUT_S, PlanModel, outcome, state_when, submit
from trio_websocket import open_websocket_url

pytest.importorskip("temporalio", reason="the temporalio SDK is not installed (the temporal extra)")

from agentcore.jobs.errors import JobError

ss = load_module("serve_support", Path(__file__).parent.parent / "serve" / "serve_support.py")


class Acp:
    """One WebSocket ACP connection to the server: request → its answer (result or error)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    async def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        request_id = next(self.ids)
        await self.ws.send_message(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}))
        with trio.fail_after(JOB_TIMEOUT_S):
            while True:
                message = json.loads(await self.ws.get_message())
                if message.get("id") == request_id:
                    return message


def _serve(tmp_path: Path, temporal_address: str | None, llm_url: str) -> Any:
    home, work = tmp_path / "srv-home", tmp_path / "srv-work"
    work.mkdir(exist_ok=True)
    extra = {"AGENTCORE_TEMPORAL": temporal_address} if temporal_address else {}
    env = ss.serve_env(home, llm_url, **extra)
    return ss.running_server(home, *ss.provider_args(llm_url), env=env, cwd=work)


async def _connected(srv: Any) -> Any:
    return open_websocket_url(srv.url.replace("http://", "ws://", 1), extra_headers=list(srv.auth.items()))


async def test_an_approval_is_answered_through_the_server(temporal_server, workers, queue, repo, env, server, tmp_path) -> None:
    server.respond_with(PlanModel())
    job_id = await submit(temporal_server, queue, repo, env, "--mode", "ask", "--approval-timeout", "120")
    state = await state_when(temporal_server, job_id, lambda status, st: bool(st.pending))
    (pending,) = state.pending
    async with _serve(tmp_path, temporal_server.address, server.url) as srv, await _connected(srv) as ws:
        acp = Acp(ws)
        assert "result" in await acp.call("initialize", ss.INITIALIZE_PARAMS)
        listed = (await acp.call("_agentcore/jobs/list", {"jobId": job_id}))["result"]["jobs"]
        assert listed == [{"jobId": job_id, "status": "running", "started": listed[0]["started"], "goal": "append a step line to log.txt",
                           "phase": "waiting_approval",
                           "turn": state.turn, "sessionId": state.session_id,
                           "pending": [{"callId": pending.call_id, "tool": "bash", "title": pending.title}]}]  # fmt: skip
        wrong = (await acp.call("_agentcore/jobs/approve", {"jobId": job_id, "callId": "call_nope", "decision": "allow"}))
        assert wrong["error"]["data"]["type"] == "ApprovalError", wrong
        assert wrong["error"]["message"].startswith("job is not waiting for an approval of call call_nope"), wrong
        assert "\n" not in wrong["error"]["message"]
        bad = await acp.call("_agentcore/jobs/approve", {"jobId": job_id, "callId": pending.call_id, "decision": "maybe"})
        assert "decision must be allow or deny" in bad["error"]["message"]
        assert not (Path(state.workspace) / "log.txt").exists()  # no answer has been accepted yet
        answered = await acp.call("_agentcore/jobs/approve", {"jobId": job_id, "callId": pending.call_id, "decision": "allow"})
        assert answered["result"] == {"jobId": job_id, "callId": pending.call_id, "decision": "allow"}, answered
        result = await outcome(temporal_server, job_id)
        assert result.reached
        assert (Path(state.workspace) / "log.txt").read_text() == "step\n"  # the approved call ran
        closed = (await acp.call("_agentcore/jobs/list", {"jobId": job_id}))["result"]["jobs"]
        assert closed[0]["status"] == "completed" and "pending" not in closed[0]


async def test_a_timed_out_approval_cannot_be_answered_through_the_server(temporal_server, workers, queue, repo, env,
                                                                         server, tmp_path) -> None:  # fmt: skip
    server.respond_with(PlanModel())
    job_id = await submit(temporal_server, queue, repo, env, "--mode", "ask", "--approval-timeout", "1")
    state = await state_when(temporal_server, job_id, lambda status, st: bool(st.pending))
    (pending,) = state.pending
    with pytest.raises(JobError, match="approval was not answered within 1s"):
        await outcome(temporal_server, job_id)
    async with _serve(tmp_path, temporal_server.address, server.url) as srv, await _connected(srv) as ws:
        acp = Acp(ws)
        await acp.call("initialize", ss.INITIALIZE_PARAMS)
        late = await acp.call("_agentcore/jobs/approve", {"jobId": job_id, "callId": pending.call_id, "decision": "allow"})
        assert late["error"]["message"] == f"job {job_id} is not waiting for approvals: workflow execution already completed", late
    assert not (Path(state.workspace) / "log.txt").exists()  # failed closed: the call never ran


async def test_without_temporal_the_server_says_so(tmp_path, server) -> None:
    async with _serve(tmp_path, None, server.url) as srv, await _connected(srv) as ws:
        acp = Acp(ws)
        await acp.call("initialize", ss.INITIALIZE_PARAMS)
        answer = await acp.call("_agentcore/jobs/list", {})
        assert "has no Temporal configured" in answer["error"]["message"] and "AGENTCORE_TEMPORAL" in answer["error"]["message"]
