"""No secret reaches the session database: not the API key a session used (even
when the provider's error echoes it), not MCP server env vars or headers, not
the database password in anything the store says."""

from __future__ import annotations

import psycopg
import pytest

from agentcore import TurnAbortedError
from agentcore.config.settings import McpServerConfig
from agentcore.store.pg import PgSessionStore
from fakes.llm_server import json_reply
from pg_support import API_KEY, ECHO_TOOL, info, make_core, make_provider, text, tool_call

MCP_TOKEN = "mcp-env-token-7c6b5a4938271605"
MCP_HEADER = "Bearer mcp-header-secret-0a1b2c3d4e5f"
TABLES = ("agentcore_sessions", "agentcore_records", "agentcore_blobs", "agentcore_leases", "agentcore_schema",
          "agentcore_checkpoints")


async def test_no_secret_in_any_table(pg_url, server, http_client, state_dir, work):
    server.enqueue(
        tool_call("call_1", "echo", '{"text": "hi"}'),
        text("all good"),
        json_reply(401, {"error": {"message": f"Incorrect API key provided: {API_KEY}.", "type": "invalid_request_error",
                                   "param": None, "code": "invalid_api_key"}}),
    )  # fmt: skip
    server_config = McpServerConfig(
        name="files", command="mcp-files", env={"FILES_TOKEN": MCP_TOKEN}, headers={"authorization": MCP_HEADER}
    )
    with PgSessionStore(pg_url) as store:
        core = make_core(store, make_provider(server, http_client), state_dir, tools=[ECHO_TOOL])
        async with core.open_session(info(work, mcp_servers=(server_config,))) as session:
            await session.run_turn("use the tool")
            with pytest.raises(TurnAbortedError):
                await session.run_turn("this one is rejected")
        assert server.requests[0].headers["authorization"] == f"Bearer {API_KEY}"
        assert store.open_read_only(session.id).mcp_servers == ("files",)  # seen, by name only
    with psycopg.connect(pg_url) as conn:
        dump = "\n".join(str(row) for table in TABLES for row in conn.execute(f"SELECT * FROM {table}"))
    assert session.id in dump and "use the tool" in dump  # the dump really holds the session
    for secret in (API_KEY, MCP_TOKEN, MCP_HEADER):
        assert secret not in dump, f"{secret[:8]}… found in the database"
