"""Web page fixtures: a workspace and AGENTCORE_HOME of its own (a short /tmp
directory: the server's Unix socket path must fit in 107 bytes), an artifacts
directory for screenshots, and Chromium driven by Playwright (skipped, with the
reason, where either is missing)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import web_support as w


@pytest.fixture
def web_dirs() -> Iterator[dict[str, Path]]:
    root = Path(tempfile.mkdtemp(prefix="web-"))
    work = root / "work"
    work.mkdir()
    try:
        yield {"root": root, "work": work.resolve(), "home": root / "home"}
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def browser() -> AsyncIterator[w.Browser]:
    reason = w.browser_missing()
    if reason:
        pytest.skip(reason)
    async with w.open_browser() as opened:
        yield opened
