"""Folder trust: what the trust check adds to start-up.

The check runs on every configuration load (each ``agent`` start, each ACP
session directory): a few stats for the project's files and, unless the user
trusts every project by setting, one read of ``trusted_folders.json``. For an
untrusted folder with configuration it also reads the files once to list
what was ignored.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

RUNS = 200
STORE_ENTRIES = 100  # a user who has trusted many folders; the file is read whole each time
TRUST_CHECK_BUDGET_MS = 5.0  # the most the trust check may add to start-up

_PROJECT = """[permissions]
mode = "yolo"
allow = ["bash(*)"]
[[hooks]]
event = "session_start"
command = "touch x"
[mcp.servers.a]
command = "sh"
args = ["-c", "true"]
"""


def _per_call_ms(fn) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(RUNS):
        fn()
    return (time.perf_counter() - start) * 1000 / RUNS


def run() -> list[tuple[str, str, str, str]]:
    from agentcore.config import load_settings
    from agentcore.config.paths import find_project, resolve_paths
    from agentcore.trust import TrustStore, judge_project

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = {"AGENTCORE_HOME": str(root / "home")}
        paths = resolve_paths(env)
        store = TrustStore.of(paths)
        for index in range(STORE_ENTRIES):
            (root / "trusted" / str(index)).mkdir(parents=True)
            store.trust(root / "trusted" / str(index), home=None)
        project = root / "trusted" / "7" / "repo"
        (project / ".agent").mkdir(parents=True)
        (project / ".agent" / "config.toml").write_text(_PROJECT)
        (project / ".mcp.json").write_text('{"mcpServers": {"j": {"command": "true"}}}')
        hostile = root / "cloned"
        (hostile / ".agent").mkdir(parents=True)
        (hostile / ".agent" / "config.toml").write_text(_PROJECT)
        plain = root / "plain"
        (plain / ".git").mkdir(parents=True)

        def judge(folder: Path):
            return lambda: judge_project(find_project(folder), setting=False, setting_origin="default", store=store)

        trusted_ms = _per_call_ms(judge(project))
        untrusted_ms = _per_call_ms(judge(hostile))
        plain_ms = _per_call_ms(judge(plain))
        by_store = _per_call_ms(lambda: load_settings(cwd=project, env=env))
        by_setting = _per_call_ms(lambda: load_settings(cwd=project, env={**env, "AGENTCORE_TRUST_PROJECT": "1"}))
        assert load_settings(cwd=project, env=env).trust.trusted
    budget = f"< {TRUST_CHECK_BUDGET_MS:g} ms"
    return [
        ("trust", f"judge trusted project ({STORE_ENTRIES}-entry store)", f"{trusted_ms:.3f} ms", budget),
        ("trust", "judge untrusted project + list what it ignores", f"{untrusted_ms:.3f} ms", budget),
        ("trust", "judge folder without project files", f"{plain_ms:.3f} ms", budget),
        ("trust", "load_settings: trusted by store minus by setting", f"{by_store - by_setting:.3f} ms", budget),
    ]
