"""``agent serve``'s operations endpoints against a real server: ``/ready``
reports the session store and Temporal (the dev server) and turns 503 when
Temporal is unreachable; ``/metrics`` counts a real turn in Prometheus text."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from fakes.modules import load_module
from jobs_support import text_reply
from temporal_dev import free_port

ss = load_module("serve_support", Path(__file__).parent.parent / "serve" / "serve_support.py")


def metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name} not in:\n{text}"
    return float(match.group(1))


async def test_ready_and_metrics_on_a_real_server(tmp_path, temporal_server, server) -> None:
    server.respond_with(lambda r: text_reply("hello there") if r.path.endswith("/chat/completions") else None)
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    env = ss.serve_env(home, server.url, AGENTCORE_TEMPORAL=temporal_server.address)
    async with (
        ss.running_server(home, *ss.provider_args(server.url), env=env, cwd=work) as srv,
        httpx.AsyncClient(trust_env=False) as http,
    ):
        assert (await http.get(f"{srv.base}/ready")).status_code == 401  # behind the token, unlike /health
        assert (await http.get(f"{srv.base}/metrics")).status_code == 401
        ready = await http.get(f"{srv.base}/ready", headers=srv.auth)
        assert ready.status_code == 200, ready.text
        checks = ready.json()["checks"]
        assert checks["store"]["ok"] and checks["temporal"] == {"ok": True, "configured": True}
        config = ss.client_config(srv, transport="http", scenario="prompt", cwd=work, transcript=tmp_path / "t.jsonl")
        events = await ss.run_sdk_client(config, cwd=work)
        assert ss.step(events, "prompt")["stopReason"] == "end_turn"
        got = await http.get(f"{srv.base}/metrics", headers=srv.auth)
        assert got.status_code == 200 and got.headers["content-type"].startswith("text/plain; version=0.0.4")
        text = got.text
        assert metric(text, 'agentcore_turns_total{stop="end_turn"}') == 1
        assert metric(text, "agentcore_turns_running") == 0
        assert metric(text, "agentcore_llm_calls_total") == 1
        assert metric(text, "agentcore_llm_call_seconds_count") == 1
        assert metric(text, "agentcore_llm_output_tokens_total") == 5  # the fake's usage
        assert metric(text, "agentcore_serve_sessions_live") == 1 and metric(text, "agentcore_sessions_live") == 1
        assert metric(text, "agentcore_jobs_open") == 0  # the job queue's depth, from Temporal
        assert "sk-interop-test" not in text and str(work) not in text  # counts only


async def test_ready_is_503_naming_temporal_when_it_is_unreachable(tmp_path, server) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    env = ss.serve_env(home, None, AGENTCORE_TEMPORAL=f"127.0.0.1:{free_port()}")  # nothing listens there
    async with (
        ss.running_server(home, *ss.provider_args(None), env=env, cwd=work) as srv,
        httpx.AsyncClient(trust_env=False) as http,
    ):
        ready = await http.get(f"{srv.base}/ready", headers=srv.auth)
        assert ready.status_code == 503
        report = ready.json()
        assert report["status"] == "not ready" and report["checks"]["store"]["ok"]
        temporal = report["checks"]["temporal"]
        assert temporal["ok"] is False and temporal["configured"] and temporal["error"]
        assert (await http.get(f"{srv.base}/health")).status_code == 200  # liveness is not readiness
