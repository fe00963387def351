"""Interop fixtures: each test gets a workspace, an AGENTCORE_HOME and a transcript path.

A module that sets ``BRIDGE_VARIANT = True`` runs each of its tests twice:
against ``agent acp`` in-process ("stdio") and through ``agent acp --bridge``
("bridge"), which starts an ``agent serve`` under the test's own home (a short
directory under /tmp: a Unix socket path must fit in 107 bytes). After the
test that server must be running with the scenario's sessions live in it,
is stopped, and must have logged no traceback.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import interop_support as s
import pytest

MODES = ("stdio", "bridge")


class InteropDirs(dict[str, Path]):
    """``work``, ``home``, ``transcript``; ``mode`` says how ``agent acp`` runs."""

    mode: str = "stdio"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if getattr(metafunc.module, "BRIDGE_VARIANT", False) and "launch_mode" in metafunc.fixturenames:
        metafunc.parametrize("launch_mode", MODES, indirect=True)


@pytest.fixture
def launch_mode(request: Any) -> str:
    return getattr(request, "param", "stdio")


@pytest.fixture
def interop_dirs(tmp_path: Path, launch_mode: str) -> Iterator[dict[str, Path]]:
    work = tmp_path / "work"
    work.mkdir()
    dirs = InteropDirs(work=work.resolve(), home=tmp_path / "home", transcript=tmp_path / "transcript.jsonl")
    dirs.mode = launch_mode
    if launch_mode == "stdio":
        yield dirs
        return
    short = Path(tempfile.mkdtemp(prefix="ib-"))
    dirs["home"] = short / "home"
    try:
        yield dirs
        status, log = s.stop_bridge_server(dirs["home"])
        # the scenario's sessions lived in the server the bridge started (sessions outlive connections)
        assert status.startswith("agent serve: running") and " 0 live sessions" not in status, status
        assert "Traceback" not in log, log
    finally:
        shutil.rmtree(short, ignore_errors=True)
