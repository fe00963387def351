"""Configuration speed: import cost, loading every layer, loading profiles."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IMPORT_RUNS = 9  # fresh interpreters; the fastest run is the least disturbed by other load
LOAD_RUNS = 200
# Our own modules over python + attrs (attrs is shared with all of agentcore). Most of it is
# attrs generating methods for each frozen class (~1 ms per class on a slow machine).
IMPORT_BUDGET_MS = 30.0
LOAD_BUDGET_MS = 10.0
PROFILE_BUDGET_MS = 5.0

_USER = """provider = "anthropic"
model = "claude-sonnet-4-5"
[permissions]
allow = ["bash(git status*)", "bash(git diff*)"]
[providers.local]
protocol = "openai-chat"
base_url = "http://127.0.0.1:8080/v1"
models = ["a", "b"]
[mcp.servers.files]
command = "npx"
args = ["-y", "server"]
"""
_PROJECT = '[turn]\nrequest_limit = 40\n[permissions]\nallow = ["bash(npm test*)"]\n'
_LOCAL = '[permissions]\nallow = ["bash(make*)"]\n'


def _import_ms(statement: str, pycache: Path) -> float:
    """Fastest wall time of a fresh interpreter running ``statement``, with bytecode
    cached (as in a real install) in a private pycache so the tree stays clean."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    argv = [sys.executable, "-X", f"pycache_prefix={pycache}", "-c", statement]
    subprocess.run(argv, check=True, env=env)  # compiles and caches the bytecode
    samples = []
    for _ in range(IMPORT_RUNS):
        start = time.perf_counter()
        subprocess.run(argv, check=True, env=env)
        samples.append((time.perf_counter() - start) * 1000)
    return min(samples)


def _per_call_ms(fn) -> float:
    fn()  # warm caches once
    start = time.perf_counter()
    for _ in range(LOAD_RUNS):
        fn()
    return (time.perf_counter() - start) * 1000 / LOAD_RUNS


def run() -> list[tuple[str, str, str, str]]:
    from agentcore.config import load_settings
    from agentcore.config.profiles import list_profiles, load_profile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bare = _import_ms("pass", root / "pycache")
        baseline = _import_ms("import attrs, pathlib, typing, re", root / "pycache")
        imported = _import_ms("import agentcore.config, agentcore.config.profiles, agentcore.config.paths", root / "pycache")
        home, project = root / "home", root / "project"
        (project / ".agent").mkdir(parents=True)
        home.mkdir()
        (home / "config.toml").write_text(_USER)
        (project / ".agent" / "config.toml").write_text(_PROJECT)
        (project / ".agent" / "config.local.toml").write_text(_LOCAL)
        env = {"AGENTCORE_HOME": str(home), "AGENTCORE_TRUST_PROJECT": "1"}  # all three files apply
        loaded = load_settings(cwd=project, env=env)
        load_ms = _per_call_ms(lambda: load_settings(cwd=project, env=env))
        profile_ms = _per_call_ms(lambda: load_profile("coder", cwd=project, paths=loaded.paths))
        list_ms = _per_call_ms(lambda: list_profiles(cwd=project, paths=loaded.paths))
    return [
        ("config", "python start-up (reference)", f"{bare:.1f} ms", ""),
        ("config", "import attrs, pathlib, typing, re (reference)", f"{baseline - bare:.1f} ms", ""),
        ("config", "import config+profiles+paths (over the above)", f"{imported - baseline:.1f} ms",
         f"< {IMPORT_BUDGET_MS:g} ms"),
        ("config", "load_settings, 3 files + env", f"{load_ms:.2f} ms", f"< {LOAD_BUDGET_MS:g} ms"),
        ("config", "load_profile coder (md, spawn check)", f"{profile_ms:.2f} ms", f"< {PROFILE_BUDGET_MS:g} ms"),
        ("config", "list_profiles", f"{list_ms:.2f} ms", f"< {PROFILE_BUDGET_MS:g} ms"),
    ]  # fmt: skip
