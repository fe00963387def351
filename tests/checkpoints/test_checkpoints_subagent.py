"""A sub-agent's file changes belong to its parent's turn: rewinding the parent
to that turn undoes them (the child shares the parent's checkpoints)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from agentcore import AgentCoreBuilder, SessionCreateInfo, SessionPolicy
from agentcore.checkpoints import LiveRewind, RewindScope
from agentcore.config.settings import AgentsSettings, Settings
from agentcore.llm.openai_chat import OpenAiChatProvider
from agentcore.permissions import PermissionMode
from agentcore.store import JournalStore
from fakes.llm_server import FakeServer, sse_reply
from fakes.vendor_wire import oa_text_stream, oa_tool_stream


def policy(profile: str, spawn: tuple[str, ...] = ()) -> SessionPolicy:
    return SessionPolicy(profile=profile, prompt=f"ROLE:{profile}", inherit_project_prompt=False,
                         mode=PermissionMode.YOLO, spawn=spawn, settings=Settings(agents=AgentsSettings(max_depth=1)))  # fmt: skip


async def test_a_sub_agents_edit_is_rewound_with_its_parents_turn(tmp_path: Path, server: FakeServer, http_client: httpx.AsyncClient) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "shared.txt").write_text("before the child\n")
    main_replies = iter([
        sse_reply(*oa_tool_stream(("s1", "spawn_agent", json.dumps({"profile": "child", "task": "edit shared.txt"})))),
        sse_reply(*oa_text_stream("the child did it")),
    ])  # fmt: skip
    child_replies = iter([
        sse_reply(*oa_tool_stream(("w1", "write_file", json.dumps({"path": "shared.txt", "content": "child wrote\n"})))),
        sse_reply(*oa_text_stream("edited")),
    ])  # fmt: skip

    def respond(request):
        system = json.dumps(request.json()["messages"][0])
        return next(child_replies) if "ROLE:child" in system else next(main_replies)

    server.respond_with(respond)
    provider = OpenAiChatProvider(name="openai", base_url=f"{server.url}/v1", api_key="sk-sub-test-0123456789",
                                  api_key_env="OPENAI_API_KEY", http_client=http_client)  # fmt: skip
    policies = {"main": policy("main", spawn=("child",)), "child": policy("child")}
    core = (
        AgentCoreBuilder().with_provider(provider, "gpt-4o-mini").with_session_store(JournalStore(tmp_path / "sessions"))
        .with_state_dir(tmp_path / "state").with_policy_resolver(lambda profile, cwd: policies[profile or "main"]).build()
    )
    async with core.open_session(SessionCreateInfo(cwd=work, mode=PermissionMode.YOLO)) as session:
        await session.run_turn("delegate the edit")
        assert (work / "shared.txt").read_text() == "child wrote\n"
        rewinder = LiveRewind(core, session)
        assert [(r.number, r.files) for r in rewinder.turns()] == [(1, ("shared.txt",))]
        result = await rewinder.rewind(1, RewindScope.CODE)
        assert result.report is not None and result.report.restored == ("shared.txt",)
    assert (work / "shared.txt").read_text() == "before the child\n"
