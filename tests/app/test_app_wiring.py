"""agentcore.app: layered config + profiles + provider selection -> a working core."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from agentcore.app import AppError, build_app
from agentcore.events import PermissionRequested
from agentcore.frontend import Frontend
from agentcore.llm.registry import NoProviderError
from agentcore.messages import StopReason
from agentcore.config.paths import resolve_paths
from agentcore.trust import TrustStore
from agentcore.permissions import PermissionMode, PermissionOption
from fakes.llm_server import open_fake_server, sse_reply
from fakes.vendor_wire import oa_text_stream, oa_tool_stream

KEY = "sk-test-app-wiring-0123456789"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    # The user trusts this folder, as `agent trust` records it (untrusted folders: tests/trust).
    TrustStore.of(resolve_paths(_env(tmp_path))).trust(root, home=None)
    return root


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"AGENTCORE_HOME": str(tmp_path / "home"), **extra}


async def test_no_key_means_echo_with_a_reason(tmp_path, project):
    app = build_app(cwd=project, env=_env(tmp_path, OLLAMA_HOST="127.0.0.1:9"), frontend=Frontend.cli())
    async with app.core.open_session(app.session_info()) as session:
        assert session.selection.is_echo
        assert "no API key" in session.selection.reason
        assert session.policy.profile == "default"
        assert "bash" in session.registry.names() and session.mode is PermissionMode.ASK
        assert (await session.run_turn("ping")).text == "ping"


async def test_acp_style_without_echo_fails_clearly(tmp_path, project):
    app = build_app(cwd=project, env=_env(tmp_path, OLLAMA_HOST="127.0.0.1:9"), frontend=Frontend.acp(), allow_echo=False)
    with pytest.raises(NoProviderError, match="ANTHROPIC_API_KEY"):
        async with app.core.open_session(app.session_info()):
            pass


async def test_profile_sets_tools_mode_and_prompt(tmp_path, project):
    app = build_app(cwd=project, env=_env(tmp_path), flags={"profile": "reviewer", "provider": "echo"}, frontend=Frontend.cli())
    async with app.core.open_session(app.session_info()) as session:
        assert session.mode is PermissionMode.READ_ONLY
        assert set(session.registry.names()) == {"read_file", "glob", "grep", "update_plan"}
        assert "reviewing code" in session.system_prompt()


def test_bad_config_is_an_app_error_naming_file_and_key(tmp_path, project):
    (project / ".agent").mkdir()
    (project / ".agent" / "config.toml").write_text("[permissions]\nmood = 'ask'\n")
    with pytest.raises(AppError) as err:
        build_app(cwd=project, env=_env(tmp_path), frontend=Frontend.cli())
    assert "config.toml" in str(err.value) and "mood" in str(err.value)


async def test_openai_through_base_url_and_always_rule_persists(tmp_path, project):
    async with open_fake_server() as server:
        env = _env(tmp_path, OPENAI_API_KEY=KEY, OPENAI_BASE_URL=f"{server.url}/v1")
        flags = {"provider": "openai", "model": "gpt-4o-mini"}
        server.enqueue(
            sse_reply(*oa_tool_stream(("c1", "bash", '{"command": "echo hello-from-bash"}'))),
            sse_reply(*oa_text_stream("ran it")),
            sse_reply(*oa_tool_stream(("c2", "bash", '{"command": "echo again"}'))),
            sse_reply(*oa_text_stream("ran again")),
        )
        app = build_app(cwd=project, env=env, flags=flags, frontend=Frontend.cli())
        asked: list[str] = []
        async with app.core.open_session(app.session_info()) as session:

            async def answer() -> None:
                async with session.events.subscribe() as events:
                    async for ev in events:
                        if isinstance(ev, PermissionRequested):
                            asked.append(ev.always_rule)
                            session.permissions.resolve(ev.request_id, PermissionOption.ALLOW_ALWAYS)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(answer)
                await trio.testing.wait_all_tasks_blocked()
                outcome = await session.run_turn("run echo")
                nursery.cancel_scope.cancel()
        assert outcome.stop_reason is StopReason.END_TURN and outcome.text == "ran it"
        assert asked == ["bash(echo *)"]
        assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"
        assert "hello-from-bash" in str(server.requests[1].json()["messages"])
        local = (project / ".agent" / "config.local.toml").read_text()
        assert "bash(echo *)" in local and KEY not in local

        # A new app (as a new process would) no longer asks for the same command family.
        app2 = build_app(cwd=project, env=env, flags=flags, frontend=Frontend.cli())
        async with app2.core.open_session(app2.session_info(interactive=False)) as session:
            outcome = await session.run_turn("run echo again")
        assert outcome.text == "ran again"
        assert "again" in str(server.requests[3].json()["messages"][-1])
        assert "unattended" not in str(server.requests[3].json()["messages"])
