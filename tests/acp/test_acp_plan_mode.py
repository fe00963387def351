"""Plan mode over ACP: listed among the session modes; nothing is written while
in it (write_file, edit_file, a shell redirect, git commit); the plan is a
``session/request_permission`` (schema-checked) whose rejection keeps the mode
and whose approval switches it (``current_mode_update``)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from acp_fakes import ScriptedProvider, acp_connection, text_reply, tool_reply
from agentcore.permissions import PLAN_REJECTED

PLAN = "1. Add notes.txt with a greeting.\n2. Check it reads back."


async def _prompt(h: Any, sid: str, rid: int, text: str) -> None:
    await h.peer.send({"jsonrpc": "2.0", "id": rid, "method": "session/prompt",
                       "params": {"sessionId": sid, "prompt": [{"type": "text", "text": text}]}})  # fmt: skip


async def _until_permission_or_reply(h: Any, rid: int) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Updates up to the next permission request (returned) or the prompt's reply (None)."""
    updates: list[dict[str, Any]] = []
    while True:
        message = await h.peer.receive()
        if message.get("method") == "session/request_permission":
            return message, updates
        if message.get("id") == rid and "method" not in message:
            return None, updates
        if message.get("method") == "session/update":
            updates.append(message["params"]["update"])


def _tool_texts(provider: ScriptedProvider) -> str:
    return str(provider.requests[-1].messages)


async def test_plan_mode_over_acp_denies_writes_then_the_plan_is_a_permission_request(
    core: Any, provider: ScriptedProvider, workspace: Path
) -> None:
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    (workspace / "app.py").write_text("x = 1\n")
    provider.add(
        tool_reply("c1", "write_file", {"path": "notes.txt", "content": "pwned\n"}),
        tool_reply("c2", "edit_file", {"path": "app.py", "edits": [{"old_string": "x = 1", "new_string": "x = 2"}]}),
        tool_reply("c3", "bash", {"command": "echo pwned > pwned.txt"}),
        tool_reply("c4", "bash", {"command": "git add -A && git commit -qm pwned"}),
        tool_reply("c5", "bash", {"command": "cat app.py"}),
        tool_reply("c6", "exit_plan_mode", {"plan": PLAN}),
        text_reply("Understood, tell me what to change."),
    )
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        reply = await h.peer.request("session/new", {"cwd": str(workspace), "mcpServers": []})
        sid = reply["result"]["sessionId"]
        modes = reply["result"]["modes"]["availableModes"]
        assert {"id": "plan", "name": "Plan"}.items() <= next(m for m in modes if m["id"] == "plan").items()
        assert (await h.peer.request("session/set_mode", {"sessionId": sid, "modeId": "plan"}))["result"] == {}

        await _prompt(h, sid, 50, "add a notes file")
        request, updates = await _until_permission_or_reply(h, 50)
        assert request is not None  # only the plan asked: every write before it was refused outright
        params = request["params"]
        assert params["toolCall"]["kind"] == "switch_mode"
        assert params["toolCall"]["content"][0]["content"]["text"] == PLAN
        assert [o["optionId"] for o in params["options"]] == ["allow_once", "allow_always", "reject_once"]
        failed = [u for u in updates if u.get("sessionUpdate") == "tool_call_update" and u.get("status") == "failed"]
        assert {u["toolCallId"] for u in failed} == {"c1", "c2", "c3", "c4"}
        for request_after in provider.requests[1:5]:  # each refusal, as the model read it: the mode, not bad input
            assert "plan mode" in str(request_after.messages[-1])
        assert not (workspace / "notes.txt").exists() and not (workspace / "pwned.txt").exists()
        assert (workspace / "app.py").read_text() == "x = 1\n"
        log = subprocess.run(["git", "-C", str(workspace), "log", "--oneline"], capture_output=True, text=True)
        assert log.stdout == ""  # no commit was made
        await h.peer.answer(request["id"], {"outcome": {"outcome": "selected", "optionId": "reject_once"}})
        request, updates = await _until_permission_or_reply(h, 50)
        assert request is None
        assert PLAN_REJECTED in _tool_texts(provider)
        assert "x = 1" in str(provider.requests[5].messages[-1])  # the read-only command ran
        assert not any(u.get("sessionUpdate") == "current_mode_update" for u in updates)

        # Approved with "auto-accept edits": the mode switches, and the edit runs without a question.
        provider.add(
            tool_reply("c7", "exit_plan_mode", {"plan": PLAN}),
            tool_reply("c8", "write_file", {"path": "notes.txt", "content": "hello\n"}),
            text_reply("Done."),
        )
        await _prompt(h, sid, 51, "looks fine, go")
        request, _ = await _until_permission_or_reply(h, 51)
        assert request is not None
        await h.peer.answer(request["id"], {"outcome": {"outcome": "selected", "optionId": "allow_always"}})
        request, updates = await _until_permission_or_reply(h, 51)
        assert request is None  # the write asked nothing: accept-edits
        assert {"sessionUpdate": "current_mode_update", "currentModeId": "accept-edits"} in updates
        assert (workspace / "notes.txt").read_text() == "hello\n"
