"""Optional: the reference server-everything (Node) over stdio, a 2025-era server.

Runs when ``npm install`` has been run in tests/mcp (package.json there) and
node is on PATH; skipped otherwise. Nothing is downloaded by the test itself.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import trio

from agentcore.mcp.state import ServerState
from agentcore.mcp.spec import McpServerSpec, Transport

ENTRY = Path(__file__).parent / "node_modules" / "@modelcontextprotocol" / "server-everything" / "dist" / "index.js"
LIMIT_S = 30  # bound on a real server start, not a synchronisation sleep

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not ENTRY.exists(), reason="server-everything not installed (npm install in tests/mcp)"
)


async def test_server_everything_over_stdio(make_core, info) -> None:
    node = shutil.which("node")
    spec = McpServerSpec(name="everything", transport=Transport.STDIO, command=node, args=[str(ENTRY), "stdio"])
    core, _, _ = make_core([spec])
    async with core.open_session(info) as session:
        with trio.fail_after(LIMIT_S):
            await session.mcp.wait_settled()
        (status,) = session.mcp.status()
        assert status.state is ServerState.READY, status.error
        assert "mcp__everything__echo" in status.tools
        result = await session.registry.get("mcp__everything__echo").execute({"message": "hi"}, None)
        assert "hi" in result.text_content and not result.is_error
        assert status.resources  # it serves resources and prompts too
        assert status.prompts
