"""The web page's budgets, in Chromium (Debian's package, driven by Playwright)
against a real ``agent serve`` on loopback:

* page load to interactive: navigation start to ACP initialized and the
  session list shown (median of 10 loads, logged in);
* first streamed chunk shown: from the loopback LLM writing the first text
  chunk to the server, to that text being in the page's DOM (median of 5);
* a 10,000-message session: frame time p95 while scrolling it (from its middle,
  160 px a frame, a fast fling)
  (each frame's main-thread work: its animation-frame callback, style, layout
  and paint, up to the next task);
* total shipped assets, gzipped (everything under acp/web/static).

Skipped (one row saying why) when Chromium or Playwright is missing.
"""

from __future__ import annotations

import concurrent.futures
import gzip
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import trio

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "acp" / "web" / "static"
LOAD_RUNS = 10
LOAD_BUDGET_MS = 300
CHUNK_RUNS = 5
CHUNK_BUDGET_MS = 30
SCROLL_MESSAGES = 10_000
SCROLL_FRAMES = 300
SCROLL_STEP_PX = 160  # per frame: a fast fling (~10,000 px/s at 60 Hz)
FRAME_BUDGET_MS = 16
ASSETS_BUDGET_KB = 300
READY_TIMEOUT_S = 60


def _assets_gzipped_kb() -> float:
    total = 0
    for path in STATIC.rglob("*"):
        if path.is_file():
            total += len(gzip.compress(path.read_bytes(), compresslevel=9))
    return total / 1024


def _llm_module() -> Any:
    spec = importlib.util.spec_from_file_location("bench_web_llm_server", ROOT / "tests" / "fakes" / "llm_server.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _chunk(text: str) -> bytes:
    import json

    body = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}  # fmt: skip
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def _done() -> list[bytes]:
    import json

    stop = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}  # fmt: skip
    return [b"data: " + json.dumps(stop).encode() + b"\n\n", b"data: [DONE]\n\n"]


def _start_server(home: Path, work: Path, llm_url: str) -> tuple[subprocess.Popen[str], str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and not k.startswith("AGENTCORE_")}
    env.update(AGENTCORE_HOME=str(home), OLLAMA_HOST="127.0.0.1:9", OPENAI_API_KEY="sk-bench", OPENAI_BASE_URL=f"{llm_url}/v1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentcore.cli.main", "serve", "--listen", "127.0.0.1:0", "--no-socket",
         "--provider", "openai", "--model", "gpt-4o-mini"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=work,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    url = line.strip().removeprefix("agent serve: listening on ").split(" ")[0]
    token = (home / "state" / "serve-token").read_text().strip()
    return proc, url.removesuffix("/acp"), token


def _browser() -> Any:
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    args = ["--disable-gpu"] + (["--no-sandbox"] if os.geteuid() == 0 else [])
    chromium = playwright.chromium.launch(executable_path=shutil.which("chromium"), headless=True, args=args)
    return playwright, chromium


def _page_load(chromium: Any, base: str, token: str) -> list[float]:
    page = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(base + "/")
    page.fill("#login-token", token)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("body[data-conn=up]")
    times = []
    for _ in range(LOAD_RUNS):
        page.goto(base + "/")
        page.wait_for_function("() => window.agentcore && window.agentcore.readyAt !== undefined && document.body.dataset.conn === 'up'")
        times.append(page.evaluate("() => window.agentcore.readyAt"))
    return times


def _open_session(chromium: Any, base: str, token: str, work: Path) -> Any:
    page = chromium.new_context().new_page()
    page.goto(base + "/")
    page.fill("#login-token", token)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("body[data-conn=up]")
    page.fill("#new-cwd", str(work))
    page.click("#new-session button[type=submit]")
    page.wait_for_function("() => window.agentcore.state.session && window.agentcore.state.session.id")
    return page


def _first_chunk_shown(page: Any, marker: str) -> float:
    """Send a prompt; the wall-clock ms at which ``marker`` is in the DOM."""
    page.evaluate("""(marker) => {
        window.__shownAt = undefined;
        const seen = () => document.querySelector('#transcript').textContent.includes(marker);
        new MutationObserver((_, obs) => { if (seen()) { window.__shownAt = performance.timeOrigin + performance.now(); obs.disconnect(); } })
            .observe(document.querySelector('#transcript'), { childList: true, subtree: true, characterData: true });
    }""", marker)  # fmt: skip
    page.fill("#composer-input", "go")
    page.press("#composer-input", "Enter")
    page.wait_for_function("() => window.__shownAt !== undefined")
    shown = page.evaluate("() => window.__shownAt")
    page.wait_for_selector("body[data-turn=idle]", state="attached")
    return shown


def _scroll_frames(chromium: Any, base: str, token: str) -> list[float]:
    page = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(base + "/")
    page.fill("#login-token", token)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("body[data-conn=up]")
    # A 10,000-message conversation as a replay delivers it: user prompts, Markdown replies, tool calls.
    page.evaluate("""(count) => {
        const t = window.agentcore.transcript;
        document.getElementById('empty').hidden = true;
        for (let i = 0; i < count; i++) {
            if (i % 3 === 0) t.apply({sessionUpdate: 'user_message_chunk', content: {type: 'text', text: `question ${i}`}});
            else if (i % 3 === 1) t.apply({sessionUpdate: 'agent_message_chunk', content: {type: 'text', text: `Answer **${i}** with \\`code\\` and a [link](https://example.invalid/${i}).\\n\\n- one\\n- two`}});
            else t.apply({sessionUpdate: 'tool_call', toolCallId: `c${i}`, title: `Run ls ${i}`, kind: 'execute', status: 'completed',
                          content: [{type: 'content', content: {type: 'text', text: 'a\\nb\\nc'}}]});
        }
        t.flush();
    }""", SCROLL_MESSAGES)  # fmt: skip
    # Each frame's main-thread work: from its requestAnimationFrame callback (which scrolls)
    # to the first task after it, i.e. script, style, layout and paint of that frame.
    return page.evaluate("""(frames) => new Promise((resolve) => {
        const box = document.getElementById('transcript');
        const step = STEP;
        box.scrollTop = box.scrollHeight / 2;  // from the middle of the session, downwards
        const times = [];
        const channel = new MessageChannel();
        let started = 0, n = 0;
        channel.port1.onmessage = () => {
            times.push(performance.now() - started);
            if (++n < frames) requestAnimationFrame(tick); else resolve(times.slice(2));
        };
        const tick = () => {
            started = performance.now();
            box.scrollTop += step;
            channel.port2.postMessage(0);
        };
        requestAnimationFrame(tick);
    })""".replace("STEP", str(SCROLL_STEP_PX)), SCROLL_FRAMES)  # fmt: skip


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


async def _measure() -> dict[str, Any]:
    llm_server = _llm_module()
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=1)

    async def in_browser(fn: Any, *args: Any) -> Any:
        return await trio.to_thread.run_sync(executor.submit(partial(fn, *args)).result)

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        home, work = Path(tmp) / "home", Path(tmp) / "work"
        work.mkdir()
        async with llm_server.open_fake_server() as llm:
            sent_at: list[float] = []

            async def stamp() -> None:
                sent_at.append(time.time() * 1000)

            for i in range(CHUNK_RUNS):
                marker = f"marker{i}x"
                llm.enqueue(llm_server.sse_reply(_chunk(""), stamp, _chunk(marker), *_done()))
            proc, base, token = await trio.to_thread.run_sync(_start_server, home, work, llm.url)
            try:
                playwright, chromium = await in_browser(_browser)
                try:
                    results["load"] = await in_browser(_page_load, chromium, base, token)
                    page = await in_browser(_open_session, chromium, base, token, work)
                    delays = []
                    for i in range(CHUNK_RUNS):
                        shown = await in_browser(_first_chunk_shown, page, f"marker{i}x")
                        delays.append(shown - sent_at[i])
                    results["chunk"] = delays
                    results["frames"] = await in_browser(_scroll_frames, chromium, base, token)
                finally:
                    await in_browser(playwright.stop)
            finally:
                proc.terminate()
                await trio.to_thread.run_sync(partial(proc.wait, READY_TIMEOUT_S))
    executor.shutdown(wait=False)
    return results


def run() -> list[tuple[str, str, str, str]]:
    assets = _assets_gzipped_kb()
    rows = [("web", "shipped assets, gzipped", f"{assets:.0f} KB", f"<= {ASSETS_BUDGET_KB} KB")]
    if shutil.which("chromium") is None or importlib.util.find_spec("playwright") is None:
        return rows + [("web", "browser budgets", "skipped: Chromium or Playwright missing", "")]
    results = trio.run(_measure)
    rows += [
        ("web", "page load to interactive (median)", f"{statistics.median(results['load']):.0f} ms", f"<= {LOAD_BUDGET_MS} ms"),
        ("web", "first chunk shown after the server got it (median)", f"{statistics.median(results['chunk']):.1f} ms",
         f"<= {CHUNK_BUDGET_MS} ms"),
        ("web", f"{SCROLL_MESSAGES:,}-message session, frame time p95", f"{_p95(results['frames']):.1f} ms",
         f"<= {FRAME_BUDGET_MS} ms"),
    ]  # fmt: skip
    return rows
