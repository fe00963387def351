"""Chromium (Debian's package) under Playwright's sync API, in a thread of its own,
against a real ``agent serve`` with the loopback LLM.

Playwright's sync objects belong to the thread that made them, so every call
goes through :meth:`Browser.run` onto one dedicated thread; the trio side
(the server process, the fake LLM) keeps running meanwhile. Nothing waits by
sleeping: page conditions are waited on with ``wait_for_function`` /
``wait_for_selector``, server-side events with trio events.
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import trio

from fakes.modules import load_module

HERE = Path(__file__).parent
TESTS = HERE.parent
serve = load_module("serve_support", TESTS / "serve" / "serve_support.py")
PAGE_TIMEOUT_MS = 20_000  # any single wait on the page
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
T = TypeVar("T")


def artifacts_dir() -> Path:
    """Where screenshots go: ``tmp/artifacts/web`` in the checkout (ignored by git)."""
    root = TESTS.parent / "tmp" / "artifacts"
    path = root / "web"
    path.mkdir(parents=True, exist_ok=True)
    (root / ".gitignore").write_text("*\n")  # artifacts, never committed
    return path


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e .[test])"
    if chromium_path() is None:
        return "Chromium is not installed (apt-get install chromium; scripts/bootstrap test does it as root)"
    return None


class Browser:
    """One Chromium, driven from one thread."""

    def __init__(self, executor: concurrent.futures.ThreadPoolExecutor) -> None:
        self._executor = executor
        self.playwright: Any = None
        self.chromium: Any = None

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        future = self._executor.submit(partial(fn, *args, **kwargs))
        return await trio.to_thread.run_sync(future.result, abandon_on_cancel=True)

    def launch(self, extra_args: Sequence[str] = ()) -> Any:
        """Another browser process (e.g. with fake media flags); closed with the fixture."""
        args = ["--disable-gpu", "--no-first-run", *extra_args]
        if os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium's sandbox refuses to run as root
        return self.playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=args)

    def new_page(self, viewport: dict[str, int] = DESKTOP, chromium: Any = None) -> Any:
        context = (chromium or self.chromium).new_context(viewport=viewport)
        page = context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        page.errors = []  # type: ignore[attr-defined]
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))  # type: ignore[attr-defined]
        return page


@asynccontextmanager
async def open_browser() -> AsyncIterator[Browser]:
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium")
    browser = Browser(executor)

    def start() -> None:
        from playwright.sync_api import sync_playwright

        browser.playwright = sync_playwright().start()
        browser.chromium = browser.launch()

    def stop() -> None:
        if browser.playwright is not None:
            browser.playwright.stop()  # closes every browser it launched

    try:
        await browser.run(start)
        yield browser
    finally:
        with trio.CancelScope(shield=True):
            await browser.run(stop)
        executor.shutdown(wait=False)


# ----------------------------------------------------------- page helpers (browser thread)


def log_in(page: Any, base: str, token: str) -> None:
    """Open the page, trade the token for the cookie, wait until ACP is up."""
    page.goto(base + "/")
    page.wait_for_selector("#login-token")
    page.fill("#login-token", token)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("body[data-conn=up]")


def new_session(page: Any, cwd: Path) -> str:
    page.fill("#new-cwd", str(cwd))
    page.click("#new-session button[type=submit]")
    page.wait_for_function("() => window.agentcore.state.session && window.agentcore.state.session.id")
    return page.evaluate("() => window.agentcore.state.session.id")


def send_prompt(page: Any, text: str) -> None:
    page.fill("#composer-input", text)
    page.press("#composer-input", "Enter")


def wait_text(page: Any, selector: str, text: str) -> None:
    page.wait_for_function(
        "([sel, text]) => [...document.querySelectorAll(sel)].some((n) => n.textContent.includes(text))", arg=[selector, text]
    )


def wait_idle(page: Any) -> None:
    page.wait_for_selector("body[data-turn=idle]", state="attached")


def screenshot(page: Any, name: str) -> Path:
    path = artifacts_dir() / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


# --------------------------------------------------------------------- server side


def web_env(home: Path, llm_url: str | None) -> dict[str, str]:
    return serve.serve_env(home, llm_url)


@asynccontextmanager
async def running_server(dirs: dict[str, Path], llm_url: str | None, *args: str) -> AsyncIterator[Any]:
    env = web_env(dirs["home"], llm_url)
    async with serve.running_server(dirs["home"], "--no-socket", *serve.provider_args(llm_url), *args,
                                    env=env, cwd=dirs["work"]) as server:  # fmt: skip
        yield server


PYTHON = sys.executable
