"""`agent chat` on a terminal asks once per untrusted folder; y trusts (stored per
path) and applies, n goes on without the folder's configuration this time."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import trio

from agentcore.config.paths import resolve_paths
from agentcore.trust import TrustStore
from fakes.llm_server import sse_reply
from fakes.vendor_wire import OA_DONE, OA_ROLE, oa_chunk, oa_text_stream, oa_tool_args, oa_tool_start
from trust_pty import TrustPty
from trust_repo import AGENT, USER_KEY, user_env

QUESTION = "and apply it? [y/N]"
PROMPT = "› "


def bash_call(command: str):
    return sse_reply(OA_ROLE, oa_tool_start(0, "call_1", "bash"), oa_tool_args(0, json.dumps({"command": command})),
                     oa_chunk({}, finish="tool_calls"), OA_DONE)  # fmt: skip


@pytest.fixture
def chat(repo, tmp_path, server) -> Iterator:
    started: list[TrustPty] = []
    env = {**user_env(tmp_path, OPENAI_API_KEY=USER_KEY, OPENAI_BASE_URL=f"{server.url}/v1"), "TERM": "xterm-256color"}

    def start(*args: str) -> TrustPty:
        agent = TrustPty(["chat", "--provider", "openai", "--model", "gpt-4o-mini", *args], env=env, cwd=repo.root)
        started.append(agent)
        return agent

    start.env = env  # type: ignore[attr-defined]
    yield start
    for agent in started:
        agent.close()


async def test_answer_n_continues_without_the_configuration_and_asks_again(chat, repo, server) -> None:
    agent = chat()
    listing = await agent.expect(QUESTION)
    assert f"hook on session_start runs: touch {repo.hook_marker}" in listing
    assert "MCP server jsonsrv: runs sh -c touch" in listing and "permission mode yolo" in listing
    assert "allow rule bash(*)" in listing and "profile evil" in listing
    agent.send("n\r")
    await agent.expect("continuing without")
    await agent.expect(PROMPT)
    assert not repo.hook_marker.exists()
    server.enqueue(bash_call(f"touch {repo.bash_marker}"), sse_reply(*oa_text_stream("ok")))
    agent.send("make it\r")
    await agent.expect("Allow")  # mode ask, not the project's yolo; its allow rules do not apply
    agent.send("n")
    await agent.expect(PROMPT)
    assert not repo.bash_marker.exists()
    assert not TrustStore.of(resolve_paths(chat.env)).entries()
    agent.send(b"\x04")
    again = chat()
    await again.expect(QUESTION)  # "n" holds for that run only


async def test_answer_y_stores_trust_for_the_path_and_applies_it(chat, repo) -> None:
    agent = chat()
    await agent.expect(QUESTION)
    agent.send("y\r")
    await agent.expect(f"trusted {repo.root}")
    await agent.expect(PROMPT)
    with trio.fail_after(15):
        while not repo.hook_marker.exists():  # the session_start hook ran
            await trio.sleep(0.05)
    assert [e.path for e in TrustStore.of(resolve_paths(chat.env)).entries()] == [repo.root.resolve()]
    agent.send(b"\x04")
    later = chat()
    await later.expect(PROMPT)
    assert QUESTION not in later.text  # stored: not asked again
    revoked = await trio.run_process([str(AGENT), "trust", "--revoke"], cwd=repo.root, env=chat.env,
                                     capture_stdout=True, check=True)  # fmt: skip
    assert f"no longer trusted: {repo.root}" in revoked.stdout.decode()
    assert TrustStore.of(resolve_paths(chat.env)).entries() == ()
    asked = chat()
    await asked.expect(QUESTION)


async def test_trust_flag_applies_without_asking(chat, repo) -> None:
    agent = chat("--trust")
    await agent.expect(PROMPT)
    assert QUESTION not in agent.text
    with trio.fail_after(15):
        while not repo.hook_marker.exists():
            await trio.sleep(0.05)
