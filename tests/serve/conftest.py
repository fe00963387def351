"""agent serve fixtures: each test gets a workspace and an AGENTCORE_HOME of its own.

The home lives in a short directory under /tmp, not pytest's tmp_path: a Unix
socket path must fit in 107 bytes, and pytest's paths carry the test's name."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def serve_dirs() -> Iterator[dict[str, Path]]:
    root = Path(tempfile.mkdtemp(prefix="serve-"))
    work = root / "work"
    work.mkdir()
    try:
        yield {"root": root, "work": work.resolve(), "home": root / "home", "transcript": root / "transcript.jsonl"}
    finally:
        shutil.rmtree(root, ignore_errors=True)
