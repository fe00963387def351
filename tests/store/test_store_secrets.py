"""No secret reaches the state directory: not the API key a session used (even
when the provider's error echoes it), not MCP server env vars or headers."""

from __future__ import annotations

import json

import pytest

from agentcore import TurnAbortedError
from agentcore.config.settings import McpServerConfig
from fakes.llm_server import json_reply
from store_support import API_KEY, ECHO_TOOL, info, make_core, make_provider, text, tool_call

MCP_TOKEN = "mcp-env-token-7c6b5a4938271605"
MCP_HEADER = "Bearer mcp-header-secret-0a1b2c3d4e5f"


async def test_no_secret_in_any_file_under_the_state_dir(store, server, http_client, state_dir, work):
    server.enqueue(
        tool_call("call_1", "echo", '{"text": "hi"}'),
        text("all good"),
        # OpenAI's real 401 body quotes the key it was given.
        json_reply(401, {"error": {"message": f"Incorrect API key provided: {API_KEY}.", "type": "invalid_request_error",
                                   "param": None, "code": "invalid_api_key"}}),
    )
    server_config = McpServerConfig(
        name="files", command="mcp-files", env={"FILES_TOKEN": MCP_TOKEN}, headers={"authorization": MCP_HEADER}
    )
    core = make_core(store, make_provider(server, http_client), state_dir, tools=[ECHO_TOOL])
    async with core.open_session(info(work, mcp_servers=(server_config,))) as session:
        await session.run_turn("use the tool")
        with pytest.raises(TurnAbortedError):
            await session.run_turn("this one is rejected")
    assert server.requests[0].headers["authorization"] == f"Bearer {API_KEY}"  # the key was really in use

    files = [p for p in state_dir.rglob("*") if p.is_file()]
    assert any(p.name == "journal.jsonl" for p in files) and any(p.name == "meta.json" for p in files)
    for path in files:
        data = path.read_bytes()
        for secret in (API_KEY, MCP_TOKEN, MCP_HEADER):
            assert secret.encode() not in data, f"{secret[:8]}… found in {path}"
    meta = json.loads((store.sessions_dir / session.id / "meta.json").read_text())
    assert meta["mcp_servers"] == ["files"]  # the server was seen, by name only
    aborted = store.open_read_only(session.id).transcript[-1]
    assert aborted.message.text == "this one is rejected"
