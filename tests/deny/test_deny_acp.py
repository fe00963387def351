"""ACP: a resource_link is read only as read_file would be, and permission
requests show what runs (every agent line checked against the ACP schema)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentcore.acp.content import SessionLinkAccess, to_user_message
from acp_fakes import ScriptedProvider, acp_connection, text_reply, tool_reply
from agentcore.core import AgentCoreBuilder, MemorySessionStore, SessionPolicy
from agentcore.permissions import DefaultPermissionGate, NonInteractiveGate, PermissionMode
from agentcore.tools.local import LocalFs
from agentcore.tools.workspace import Workspace
from deny_support import rules

OUTSIDE_SECRET = "outside-the-workspace-7f3a"


def _core(provider: ScriptedProvider, state: Path, *, mode: PermissionMode = PermissionMode.ASK, deny: tuple[str, ...] = ()) -> Any:
    return (
        AgentCoreBuilder()
        .with_env({})
        .with_provider(provider, "scripted-1")
        .with_policy(SessionPolicy(mode=mode, rules=rules(deny=deny)))
        .with_session_store(MemorySessionStore())
        .with_state_dir(state)
        .build()
    )


def _link(path: Path | str) -> dict[str, Any]:
    uri = path.as_uri() if isinstance(path, Path) else path
    return {"type": "resource_link", "name": Path(str(path)).name, "uri": uri}


async def _prompt(h: Any, sid: str, blocks: list[dict[str, Any]], *, answer: str | None = None, rid: int = 40) -> tuple[dict, list[dict]]:
    """Send a prompt; answer each permission request with ``answer`` (fail if one
    comes and ``answer`` is None). Returns (response, permission requests)."""
    await h.peer.send({"jsonrpc": "2.0", "id": rid, "method": "session/prompt", "params": {"sessionId": sid, "prompt": blocks}})
    asked: list[dict] = []
    while True:
        message = await h.peer.receive()
        if message.get("method") == "session/request_permission":
            assert answer is not None, f"unexpected permission request: {message}"
            asked.append(message)
            await h.peer.answer(message["id"], {"outcome": {"outcome": "selected", "optionId": answer}})
        elif message.get("id") == rid and "method" not in message:
            return message, asked


def _sent_to_model(provider: ScriptedProvider) -> str:
    return "\n".join(repr(m) for r in provider.requests for m in r.messages)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    path = tmp_path / "elsewhere" / "notes.txt"
    path.parent.mkdir()
    path.write_text(f"{OUTSIDE_SECRET}\n")
    return path


@pytest.mark.parametrize("target", ["/etc/passwd", "/proc/self/environ", "tmp-outside"])
async def test_a_link_outside_the_workspace_is_asked_about_and_a_no_keeps_it_out(tmp_path, work, outside, target) -> None:
    path = outside if target == "tmp-outside" else Path(target)
    provider = ScriptedProvider([text_reply("ok")])
    async with acp_connection(_core(provider, tmp_path / "state"), work) as h:
        await h.initialize()
        sid = await h.new_session()
        reply, asked = await _prompt(h, sid, [{"type": "text", "text": "see"}, _link(path)], answer="reject_once")
    assert reply["result"]["stopReason"] == "end_turn"
    assert len(asked) == 1 and str(path.resolve()) in json.dumps(asked[0]["params"]["toolCall"])
    sent = _sent_to_model(provider)
    assert "was not read" in sent and OUTSIDE_SECRET not in sent
    if target == "/etc/passwd":
        assert "root:" not in sent
    if target == "/proc/self/environ":
        assert "PATH=" not in sent


async def test_a_link_outside_the_workspace_is_read_after_a_yes(tmp_path, work, outside) -> None:
    provider = ScriptedProvider([text_reply("ok")])
    async with acp_connection(_core(provider, tmp_path / "state"), work) as h:
        await h.initialize()
        sid = await h.new_session()
        _, asked = await _prompt(h, sid, [_link(outside)], answer="allow_once")
    assert len(asked) == 1
    assert OUTSIDE_SECRET in _sent_to_model(provider)


async def test_a_symlink_in_the_workspace_to_outside_is_asked_about(tmp_path, work, outside) -> None:
    (work / "harmless.txt").symlink_to(outside)
    provider = ScriptedProvider([text_reply("ok")])
    async with acp_connection(_core(provider, tmp_path / "state"), work) as h:
        await h.initialize()
        sid = await h.new_session()
        _, asked = await _prompt(h, sid, [_link(work / "harmless.txt")], answer="reject_once")
    assert len(asked) == 1 and OUTSIDE_SECRET not in _sent_to_model(provider)


@pytest.mark.parametrize("mode", [PermissionMode.ASK, PermissionMode.READ_ONLY])
async def test_a_link_inside_the_workspace_is_read_without_asking(tmp_path, work, mode) -> None:
    provider = ScriptedProvider([text_reply("ok")])
    async with acp_connection(_core(provider, tmp_path / "state", mode=mode), work) as h:
        await h.initialize()
        sid = await h.new_session()
        _, asked = await _prompt(h, sid, [_link(work / "README.md")], answer=None)
    assert not asked and "API_TOKEN goes in .env" in _sent_to_model(provider)


@pytest.mark.parametrize("rule", ["read_file(**/.env)", "*(.env)"])
async def test_a_denied_link_is_not_read_and_nobody_is_asked(tmp_path, work, secret, rule) -> None:
    provider = ScriptedProvider([text_reply("ok")])
    async with acp_connection(_core(provider, tmp_path / "state", deny=(rule,)), work) as h:
        await h.initialize()
        sid = await h.new_session()
        reply, asked = await _prompt(h, sid, [{"type": "text", "text": "see"}, _link(work / ".env")], answer=None)
    assert reply["result"]["stopReason"] == "end_turn" and not asked
    sent = _sent_to_model(provider)
    assert secret not in sent and "was not read" in sent


async def test_where_nobody_can_answer_an_outside_link_is_not_read(work, outside) -> None:
    gate = NonInteractiveGate(DefaultPermissionGate(mode=PermissionMode.YOLO))
    links = SessionLinkAccess(gate, Workspace(work))
    message = await to_user_message([_link(outside), _link(work / "README.md")], LocalFs(), links=links)
    assert OUTSIDE_SECRET not in message.text and "was not read" in message.text
    assert "API_TOKEN goes in .env" in message.text  # inside the workspace is fine


# ------------------------------------------------------------- what runs is shown


async def test_a_bash_permission_request_shows_the_command_first(tmp_path, work) -> None:
    command = "python -c 'print(1/0)'"
    provider = ScriptedProvider(
        [tool_reply("call_b", "bash", {"command": command, "description": "Try dividing by zero"}), text_reply("ok")]
    )
    async with acp_connection(_core(provider, tmp_path / "state"), work) as h:  # every line is schema-checked
        await h.initialize()
        sid = await h.new_session()
        await h.peer.send({"jsonrpc": "2.0", "id": 9, "method": "session/prompt", "params": {"sessionId": sid, "prompt": [{"type": "text", "text": "go"}]}})
        announced = None
        while (message := await h.peer.receive()).get("method") != "session/request_permission":
            update = message["params"]["update"]
            if update["sessionUpdate"] == "tool_call":
                announced = update
        await h.peer.answer(message["id"], {"outcome": {"outcome": "selected", "optionId": "reject_once"}})
        await h.peer.response_to(9)
    tool_call = message["params"]["toolCall"]
    for shown in (tool_call, announced):
        assert shown["title"].startswith(f"`{command}`") and shown["title"].endswith("Try dividing by zero")
        assert any(command in c["content"]["text"] for c in shown["content"] if c["type"] == "content")
    always = next(o for o in message["params"]["options"] if o["optionId"] == "allow_always")
    assert "bash(" in always["name"]
