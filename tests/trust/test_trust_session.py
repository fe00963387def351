"""In-process sessions (the app every frontend builds): an untrusted folder's MCP
servers and hooks are not even scheduled; trusted, they are."""

from __future__ import annotations

import trio

from agentcore.app import build_app
from agentcore.frontend import Frontend
from agentcore.session.hooks import NoHooks
from agentcore.config.paths import resolve_paths
from agentcore.trust import TrustStore


async def test_untrusted_session_schedules_no_mcp_server_and_no_hook(repo, env) -> None:
    told = []
    app = build_app(cwd=repo.root, env=env, flags={"provider": "echo"}, frontend=Frontend.library(),
                    on_untrusted_project=told.append)
    async with app.core.open_session(app.session_info()) as session:
        assert session.mcp is None and isinstance(session.hooks, NoHooks)
        assert session.mode.value == "ask" and session.policy.rules == ()
    assert not repo.hook_marker.exists()
    assert [t.root for t in told] == [repo.root]


async def test_trusted_session_starts_them(repo, env) -> None:
    TrustStore.of(resolve_paths(env)).trust(repo.root, home=None)
    told = []
    app = build_app(cwd=repo.root, env=env, flags={"provider": "echo"}, frontend=Frontend.library(),
                    on_untrusted_project=told.append)
    async with app.core.open_session(app.session_info()) as session:
        assert session.mcp is not None and {c.spec.name for c in session.mcp.connections} >= {"jsonsrv", "cfgsrv"}
        assert session.mode.value == "yolo"
        with trio.fail_after(30):
            while not (repo.mcp_json_marker.exists() and repo.mcp_config_marker.exists()):
                await trio.sleep(0.05)  # polling an observable condition: the server processes' side effect
    assert repo.hook_marker.exists() and told == []


async def test_each_session_directory_is_judged_on_its_own(repo, env, tmp_path) -> None:
    """As ACP opens sessions per cwd: the app was built elsewhere."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    told = []
    app = build_app(cwd=elsewhere, env=env, flags={"provider": "echo"}, frontend=Frontend.acp(),
                    on_untrusted_project=told.append)
    async with app.core.open_session(app.session_info(cwd=repo.root)) as session:
        assert session.mcp is None and session.mode.value == "ask"
    assert [t.root for t in told] == [repo.root] and not repo.hook_marker.exists()
    TrustStore.of(resolve_paths(env)).trust(repo.root, home=None)
    async with app.core.open_session(app.session_info(cwd=repo.root)) as session:
        assert session.mode.value == "yolo" and session.mcp is not None
