"""Every ACP method and its error paths, in process over a memory stream pair.

The client side is a line-level peer; every line the agent writes is checked
against the official schema (the matching definition, not just the envelope).
"""

from __future__ import annotations

import contextlib
import io
import tomllib
from pathlib import Path
from typing import Any

import pytest
import trio

from agentcore.acp import capabilities
from acp_fakes import Pause, ScriptedProvider, acp_connection, make_core, text_reply, texts, tool_reply
from agentcore.llm.errors import AuthError
from agentcore.permissions import PermissionMode

CANCEL_BUDGET_S = 0.5  # session/cancel must end the prompt within this


def test_agent_version_has_one_source() -> None:
    """``agentcore.__version__`` is the only place the version is written:
    pyproject.toml reads it (dynamic), and the installed metadata, ACP's
    agentInfo and ``agent --version`` all report it."""
    from importlib.metadata import version

    import agentcore
    from agentcore.cli.main import main

    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "agentcore.__version__"}
    written = agentcore.__version__
    assert version("agentcore") == written  # what pip installed from the checkout
    assert capabilities.initialize_result()["agentInfo"]["version"] == written
    for argv in (["--version"], ["--version", "chat"]):  # the fast path and the parser's
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) if argv[1:] else contextlib.nullcontext():
            main(argv)
        assert out.getvalue() == f"agentcore {written}\n"


async def test_initialize_advertises_the_v1_surface(core: Any, workspace: Path) -> None:
    async with acp_connection(core, workspace) as h:
        result = await h.initialize({"fs": {"readTextFile": True}})
        assert result["protocolVersion"] == 1
        caps = result["agentCapabilities"]
        assert caps["loadSession"] is True
        assert caps["promptCapabilities"] == {"image": True, "audio": False, "embeddedContext": True}
        assert caps["mcpCapabilities"] == {"http": True, "sse": True, "acp": True}
        assert set(caps["sessionCapabilities"]) >= {"list", "resume", "close", "delete"}
        assert result["agentInfo"]["name"] == "agentcore"
        assert "ANTHROPIC_API_KEY" in result["authMethods"][0]["description"]


async def test_initialize_with_bad_params_is_32602(core: Any, workspace: Path) -> None:
    async with acp_connection(core, workspace) as h:
        reply = await h.peer.request("initialize", {"clientCapabilities": {}})
        assert reply["error"]["code"] == -32602
        assert reply["error"]["data"]["path"] == "protocolVersion"


async def test_new_session_returns_modes_and_options_then_commands(core: Any, workspace: Path) -> None:
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        reply = await h.peer.request("session/new", {"cwd": str(workspace), "mcpServers": []})
        result = reply["result"]
        assert result["modes"]["currentModeId"] == "ask"
        assert {m["id"] for m in result["modes"]["availableModes"]} == {"read-only", "ask", "accept-edits", "yolo", "plan"}
        categories = {o["id"]: o["category"] for o in result["configOptions"]}
        assert categories == {"model": "model", "mode": "mode", "reasoning_effort": "thought_level"}
        # The commands update comes strictly after the response (it was read after it).
        commands = await h.peer.receive()
        names = {c["name"] for c in commands["params"]["update"]["availableCommands"]}
        assert {"compact", "context"} <= names
        assert commands["params"]["sessionId"] == result["sessionId"]


async def test_new_session_param_errors(core: Any, workspace: Path) -> None:
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        for params, path in (
            ({"mcpServers": []}, "cwd"),
            ({"cwd": "relative/dir", "mcpServers": []}, "cwd"),
            ({"cwd": str(workspace / "missing"), "mcpServers": []}, "cwd"),
            ({"cwd": str(workspace), "mcpServers": "no"}, "mcpServers"),
            ({"cwd": str(workspace), "mcpServers": [], "additionalDirectories": ["x"]}, "additionalDirectories[0]"),
        ):
            reply = await h.peer.request("session/new", params)
            assert reply["error"]["code"] == -32602, reply
            assert reply["error"]["data"]["path"] == path


async def test_missing_credentials_fail_session_new_with_auth_required(workspace: Path, tmp_path: Path) -> None:
    from agentcore.core import AgentCoreBuilder
    from agentcore.llm.registry import select_provider

    async def no_echo(provider: str | None, model: str | None) -> Any:
        return await select_provider(default_provider=provider, default_model=model, env={"OLLAMA_HOST": "127.0.0.1:9"}, allow_echo=False)

    core = AgentCoreBuilder().with_env({}).with_provider_resolver(no_echo).with_state_dir(tmp_path).build()
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        reply = await h.peer.request("session/new", {"cwd": str(workspace), "mcpServers": []})
        assert reply["error"]["code"] == -32000
        assert "ANTHROPIC_API_KEY" in reply["error"]["message"] and "OPENAI_API_KEY" in reply["error"]["message"]
        auth = await h.peer.request("authenticate", {"methodId": capabilities.ENV_AUTH_METHOD_ID})
        assert auth["error"]["code"] == -32000


async def test_text_prompt_streams_updates_before_the_response(core: Any, provider: ScriptedProvider, workspace: Path) -> None:
    provider.add(text_reply("Hel", "lo ", "there", thinking="pondering"))
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        sid = await h.new_session()
        reply, updates = await h.prompt(sid, "say hello")
        assert reply["result"] == {"stopReason": "end_turn"}
        assert texts(updates) == "Hello there"
        assert texts(updates, "agent_thought_chunk") == "pondering"
        kinds = [u["sessionUpdate"] for u in updates]
        assert "session_info_update" in kinds and "usage_update" in kinds
        title = next(u for u in updates if u["sessionUpdate"] == "session_info_update")
        assert title["title"] == "say hello"
        usage = next(u for u in updates if u["sessionUpdate"] == "usage_update")
        assert usage["size"] == 200_000 and usage["cost"]["currency"] == "USD"


async def test_prompt_errors(core: Any, provider: ScriptedProvider, workspace: Path) -> None:
    provider.add(AuthError("bad key: set ANTHROPIC_API_KEY", status=401))
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        sid = await h.new_session()
        unknown = await h.peer.request("session/prompt", {"sessionId": "sess_nope", "prompt": [{"type": "text", "text": "x"}]})
        assert unknown["error"]["code"] == -32002
        bad = await h.peer.request("session/prompt", {"sessionId": sid, "prompt": [{"type": "video"}]})
        assert bad["error"]["code"] == -32602 and bad["error"]["data"]["path"] == "prompt[0].type"
        empty = await h.peer.request("session/prompt", {"sessionId": sid, "prompt": []})
        assert empty["error"]["code"] == -32602
        failed, _ = await h.prompt(sid, "hi")
        assert failed["error"]["code"] == -32000 and "bad key" in failed["error"]["message"]


async def _answer_permission(h: Any, option: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read until the permission request, answer it, return (request, updates seen before it)."""
    seen: list[dict[str, Any]] = []
    while True:
        message = await h.peer.receive()
        if message.get("method") == "session/request_permission":
            await h.peer.answer(message["id"], {"outcome": {"outcome": "selected", "optionId": option}})
            return message, seen
        seen.append(message["params"]["update"])


async def _finish(h: Any, rid: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    h.peer.notifications.clear()
    reply = await h.peer.response_to(rid)
    return reply, [n["params"]["update"] for n in h.peer.notifications]


async def test_tool_call_with_permission_allowed(core: Any, provider: ScriptedProvider, workspace: Path) -> None:
    target = workspace / "notes.txt"
    provider.add(tool_reply("call_w", "write_file", {"path": "notes.txt", "content": "hi\n"}), text_reply("Written."))
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        sid = await h.new_session()
        await h.peer.send({"jsonrpc": "2.0", "id": 50, "method": "session/prompt", "params": {"sessionId": sid, "prompt": [{"type": "text", "text": "write"}]}})
        request, before = await _answer_permission(h, "allow_once")
        announced = [u for u in before if u["sessionUpdate"] == "tool_call"]
        assert announced and announced[0]["toolCallId"] == "call_w" and announced[0]["status"] == "pending"
        params = request["params"]
        assert params["toolCall"]["toolCallId"] == "call_w"
        assert [o["kind"] for o in params["options"]] == ["allow_once", "allow_always", "reject_once", "reject_always"]
        reply, after = await _finish(h, 50)
        assert reply["result"] == {"stopReason": "end_turn"}
        statuses = [u.get("status") for u in after if u["sessionUpdate"] == "tool_call_update" and u.get("status")]
        assert statuses == ["in_progress", "completed"]
        done = [u for u in after if u.get("status") == "completed"][0]
        assert any(c["type"] == "diff" and c["newText"] == "hi\n" for c in done["content"])
        assert target.read_text() == "hi\n"


async def test_tool_call_with_permission_rejected(core: Any, provider: ScriptedProvider, workspace: Path) -> None:
    provider.add(tool_reply("call_w", "write_file", {"path": "no.txt", "content": "x"}), text_reply("OK, not writing."))
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        sid = await h.new_session()
        await h.peer.send({"jsonrpc": "2.0", "id": 51, "method": "session/prompt", "params": {"sessionId": sid, "prompt": [{"type": "text", "text": "write"}]}})
        await _answer_permission(h, "reject_once")
        reply, after = await _finish(h, 51)
        assert reply["result"] == {"stopReason": "end_turn"}
        assert [u["status"] for u in after if u["sessionUpdate"] == "tool_call_update"] == ["failed"]
        assert not (workspace / "no.txt").exists()
        assert "declined" in provider.requests[-1].messages[-1].results[0].text


async def test_cancel_mid_stream_returns_cancelled_quickly(core: Any, provider: ScriptedProvider, workspace: Path) -> None:
    pause = Pause()
    provider.add([*text_reply("partial ")[:1], pause, *text_reply("never")])
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        sid = await h.new_session()
        await h.peer.send({"jsonrpc": "2.0", "id": 60, "method": "session/prompt", "params": {"sessionId": sid, "prompt": [{"type": "text", "text": "go"}]}})
        await pause.reached.wait()
        started = trio.current_time()
        await h.peer.notify("session/cancel", {"sessionId": sid})
        reply, _ = await _finish(h, 60)
        assert reply["result"] == {"stopReason": "cancelled"}
        assert trio.current_time() - started < CANCEL_BUDGET_S
        provider.add(text_reply("after cancel"))
        again, updates = await h.prompt(sid, "again")
        assert again["result"]["stopReason"] == "end_turn" and texts(updates) == "after cancel"


async def test_cancel_resolves_a_pending_permission_as_cancelled(core: Any, provider: ScriptedProvider, workspace: Path) -> None:
    provider.add(tool_reply("call_b", "bash", {"command": "echo hi"}))
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        sid = await h.new_session()
        await h.peer.send({"jsonrpc": "2.0", "id": 70, "method": "session/prompt", "params": {"sessionId": sid, "prompt": [{"type": "text", "text": "run"}]}})
        while (message := await h.peer.receive()).get("method") != "session/request_permission":
            pass
        await h.peer.notify("session/cancel", {"sessionId": sid})
        # The agent stops waiting for the client: it says so with $/cancel_request, then answers.
        seen: list[dict[str, Any]] = []
        while "id" not in (msg := await h.peer.receive()) or "method" in msg:
            seen.append(msg)
        assert msg["id"] == 70 and msg["result"] == {"stopReason": "cancelled"}
        assert {"jsonrpc": "2.0", "method": "$/cancel_request", "params": {"requestId": message["id"]}} in seen


async def test_new_prompt_cancels_the_running_one_and_runs(core: Any, provider: ScriptedProvider, workspace: Path) -> None:
    pause = Pause()
    provider.add([pause], text_reply("second answer"))
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        sid = await h.new_session()
        prompt = {"sessionId": sid, "prompt": [{"type": "text", "text": "first"}]}
        await h.peer.send({"jsonrpc": "2.0", "id": 80, "method": "session/prompt", "params": prompt})
        await pause.reached.wait()
        await h.peer.send({"jsonrpc": "2.0", "id": 81, "method": "session/prompt", "params": {**prompt, "prompt": [{"type": "text", "text": "second"}]}})
        first = await h.peer.response_to(80)
        assert first["result"] == {"stopReason": "cancelled"}
        h.peer.notifications.clear()
        second = await h.peer.response_to(81)
        assert second["result"] == {"stopReason": "end_turn"}
        assert texts([n["params"]["update"] for n in h.peer.notifications]) == "second answer"


async def test_load_replays_the_conversation_in_a_new_connection(core: Any, provider: ScriptedProvider, workspace: Path) -> None:
    provider.add(tool_reply("call_r", "read_file", {"path": "a.txt"}), text_reply("It says A."))
    (workspace / "a.txt").write_text("A\n")
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        sid = await h.new_session()
        reply, _ = await h.prompt(sid, "read a.txt")
        assert reply["result"]["stopReason"] == "end_turn"
    async with acp_connection(core, workspace) as h2:
        await h2.initialize()
        h2.peer.notifications.clear()
        loaded = await h2.peer.request("session/load", {"sessionId": sid, "cwd": str(workspace), "mcpServers": []})
        assert loaded["result"]["modes"]["currentModeId"] == "ask"
        replay = [n["params"]["update"] for n in h2.peer.notifications]
        kinds = [u["sessionUpdate"] for u in replay]
        assert kinds[:4] == ["user_message_chunk", "tool_call", "tool_call_update", "agent_message_chunk"]
        assert replay[0]["content"]["text"] == "read a.txt" and texts(replay) == "It says A."
        assert replay[2]["status"] == "completed"
        missing = await h2.peer.request("session/load", {"sessionId": "sess_missing", "cwd": str(workspace), "mcpServers": []})
        assert missing["error"]["code"] == -32002


async def test_list_resume_close_delete(core: Any, provider: ScriptedProvider, workspace: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    provider.add(text_reply("one"))
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        first = await h.new_session()
        await h.prompt(first, "titled prompt")
        second_reply = await h.peer.request("session/new", {"cwd": str(other), "mcpServers": []})
        second = second_reply["result"]["sessionId"]
        await h.peer.receive()  # its commands update
        listed = (await h.peer.request("session/list", {}))["result"]["sessions"]
        assert {s["sessionId"] for s in listed} == {first, second}
        here = (await h.peer.request("session/list", {"cwd": str(workspace.resolve())}))["result"]["sessions"]
        assert [s["sessionId"] for s in here] == [first] and here[0]["title"] == "titled prompt"
        bad = await h.peer.request("session/list", {"cursor": "zzz"})
        assert bad["error"]["code"] == -32602

        assert (await h.peer.request("session/close", {"sessionId": first}))["result"] == {}
        closed = await h.peer.request("session/prompt", {"sessionId": first, "prompt": [{"type": "text", "text": "x"}]})
        assert closed["error"]["code"] == -32002
        resumed = await h.peer.request("session/resume", {"sessionId": first, "cwd": str(workspace)})
        assert resumed["result"]["modes"]["currentModeId"] == "ask"
        assert (await h.peer.receive())["params"]["update"]["sessionUpdate"] == "available_commands_update"

        assert (await h.peer.request("session/delete", {"sessionId": second}))["result"] == {}
        gone = await h.peer.request("session/delete", {"sessionId": second})
        assert gone["error"]["code"] == -32002
        remaining = (await h.peer.request("session/list", {}))["result"]["sessions"]
        assert [s["sessionId"] for s in remaining] == [first]


async def test_set_mode_and_config_options(core: Any, workspace: Path) -> None:
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        sid = await h.new_session()
        h.peer.notifications.clear()
        assert (await h.peer.request("session/set_mode", {"sessionId": sid, "modeId": "yolo"}))["result"] == {}
        bad = await h.peer.request("session/set_mode", {"sessionId": sid, "modeId": "godmode"})
        assert bad["error"]["code"] == -32602
        changed = await h.peer.request("session/set_config_option", {"sessionId": sid, "configId": "reasoning_effort", "value": "high"})
        options = {o["id"]: o["currentValue"] for o in changed["result"]["configOptions"]}
        assert options == {"model": "scripted-1", "mode": "yolo", "reasoning_effort": "high"}
        changed = await h.peer.request("session/set_config_option", {"sessionId": sid, "configId": "mode", "value": "read-only"})
        assert {o["id"]: o["currentValue"] for o in changed["result"]["configOptions"]}["mode"] == "read-only"
        unknown = await h.peer.request("session/set_config_option", {"sessionId": sid, "configId": "colour", "value": "red"})
        assert unknown["error"]["code"] == -32602 and unknown["error"]["data"]["path"] == "configId"
        # The mode changes were also announced as updates.
        await h.peer.request("session/list", {})
        modes = [n["params"]["update"]["currentModeId"] for n in h.peer.notifications if n["params"]["update"]["sessionUpdate"] == "current_mode_update"]
        assert modes == ["yolo", "read-only"]


async def test_fs_delegation_reads_the_editor_buffer_and_writes_through_it(provider: ScriptedProvider, workspace: Path, tmp_path: Path) -> None:
    core = make_core(provider, tmp_path / "state", mode=PermissionMode.YOLO)
    (workspace / "buf.txt").write_text("on disk\n")
    provider.add(tool_reply("c1", "read_file", {"path": "buf.txt"}), tool_reply("c2", "write_file", {"path": "out.txt", "content": "new\n"}), text_reply("done"))
    async with acp_connection(core, workspace) as h:
        await h.initialize({"fs": {"readTextFile": True, "writeTextFile": True}})
        sid = await h.new_session()
        await h.peer.send({"jsonrpc": "2.0", "id": 90, "method": "session/prompt", "params": {"sessionId": sid, "prompt": [{"type": "text", "text": "go"}]}})
        calls: list[str] = []
        while True:
            message = await h.peer.receive()
            if message.get("id") == 90 and "method" not in message:
                break
            if message.get("method") == "fs/read_text_file":
                calls.append("read")
                assert message["params"] == {"sessionId": sid, "path": str((workspace / "buf.txt").resolve())}
                await h.peer.answer(message["id"], {"content": "unsaved buffer\n"})
            elif message.get("method") == "fs/write_text_file":
                calls.append("write")
                assert message["params"]["content"] == "new\n"
                await h.peer.answer(message["id"], {})
        assert message["result"]["stopReason"] == "end_turn"
        assert "read" in calls and "write" in calls
        assert "unsaved buffer" in provider.requests[1].messages[-1].results[0].text
        assert not (workspace / "out.txt").exists()  # the editor wrote it, not the agent


async def test_terminal_delegation_creates_waits_and_releases(provider: ScriptedProvider, workspace: Path, tmp_path: Path) -> None:
    core = make_core(provider, tmp_path / "state", mode=PermissionMode.YOLO)
    provider.add(tool_reply("c1", "bash", {"command": "echo hi"}), text_reply("ran"))
    async with acp_connection(core, workspace) as h:
        await h.initialize({"terminal": True})
        sid = await h.new_session()
        await h.peer.send({"jsonrpc": "2.0", "id": 91, "method": "session/prompt", "params": {"sessionId": sid, "prompt": [{"type": "text", "text": "go"}]}})
        methods: list[str] = []
        updates: list[dict[str, Any]] = []
        while True:
            message = await h.peer.receive()
            if message.get("id") == 91 and "method" not in message:
                break
            method = message.get("method")
            if method == "session/update":
                updates.append(message["params"]["update"])
                continue
            methods.append(method)
            answers = {
                "terminal/create": {"terminalId": "term-1"},
                "terminal/wait_for_exit": {"exitCode": 0},
                "terminal/output": {"output": "hi\n", "truncated": False, "exitStatus": {"exitCode": 0}},
                "terminal/release": {},
            }
            if method == "terminal/create":
                assert message["params"]["args"] == ["-c", "echo hi"] and message["params"]["cwd"] == str(workspace.resolve())
            await h.peer.answer(message["id"], answers[method])
        assert methods == ["terminal/create", "terminal/wait_for_exit", "terminal/output", "terminal/release"]
        assert any({"type": "terminal", "terminalId": "term-1"} in (u.get("content") or []) for u in updates)
        assert "hi" in provider.requests[1].messages[-1].results[0].text


async def test_undelegated_client_never_gets_fs_or_terminal_calls(core: Any, provider: ScriptedProvider, workspace: Path) -> None:
    (workspace / "a.txt").write_text("local\n")
    provider.add(tool_reply("c1", "read_file", {"path": "a.txt"}), text_reply("ok"))
    async with acp_connection(core, workspace) as h:
        await h.initialize({"fs": {"readTextFile": False}})
        sid = await h.new_session()
        reply, _ = await h.prompt(sid, "read")  # h.prompt fails on any agent request
        assert reply["result"]["stopReason"] == "end_turn"
        assert "local" in provider.requests[1].messages[-1].results[0].text


async def test_prompt_content_blocks(core: Any, provider: ScriptedProvider, workspace: Path) -> None:
    (workspace / "linked.py").write_text("print('linked')\n")
    provider.add(text_reply("seen"))
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        sid = await h.new_session()
        blocks = [
            {"type": "text", "text": "look at these"},
            {"type": "resource_link", "name": "linked.py", "uri": (workspace / "linked.py").as_uri()},
            {"type": "resource", "resource": {"uri": "file:///x/emb.md", "text": "embedded text", "mimeType": "text/markdown"}},
            {"type": "image", "mimeType": "image/png", "data": "iVBORw0KGgo="},
        ]
        reply = await h.peer.request("session/prompt", {"sessionId": sid, "prompt": blocks})
        assert reply["result"]["stopReason"] == "end_turn"
        user = provider.requests[0].messages[-1]
        joined = user.text
        assert "print('linked')" in joined and "embedded text" in joined and "file:///x/emb.md" in joined
        assert any(getattr(b, "media_type", None) == "image/png" for b in user.content)


async def test_context_command_answers_without_the_model(core: Any, provider: ScriptedProvider, workspace: Path) -> None:
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        sid = await h.new_session()
        reply, updates = await h.prompt(sid, "/context")
        assert reply["result"]["stopReason"] == "end_turn"
        assert "200,000 tokens" in texts(updates)
        assert provider.requests == []


async def test_malformed_lines_and_unknown_methods_then_a_working_prompt(core: Any, provider: ScriptedProvider, workspace: Path) -> None:
    provider.add(text_reply("still fine"))
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        sid = await h.new_session()
        await h.peer.send_raw(b"{not json\n")
        assert (await h.peer.receive())["error"]["code"] == -32700
        assert (await h.peer.request("session/fly", {}))["error"]["code"] == -32601
        assert (await h.peer.request("_vendor/x", {}))["error"]["code"] == -32601
        await h.peer.notify("_vendor/note", {})
        reply, updates = await h.prompt(sid, "hi")
        assert reply["result"]["stopReason"] == "end_turn" and texts(updates) == "still fine"
