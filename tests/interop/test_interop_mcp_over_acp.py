"""MCP over ACP end to end: ``agent acp`` (a real subprocess, the model a loopback
OpenAI-wire server) and a client on the official TypeScript SDK that hosts an
MCP server over the ACP connection with its ``McpOverAcpProvider``.

The wire is recorded: every agent line is checked against the official schema,
``mcp/message`` against its unstable definition.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import interop_support as s

pytestmark = pytest.mark.skipif(s.node_missing_reason() is not None, reason=s.node_missing_reason() or "")

MCP_CLIENT = s.HERE / "mcp_over_acp_client.mjs"
UNSTABLE_DEFS = s.TESTS / "acp" / "schema" / "mcp_over_acp.unstable.json"


@pytest.fixture(scope="module", autouse=True)
def node_modules() -> None:
    s.ensure_node_modules()


def _check_wire(transcript: Path) -> list[dict[str, Any]]:
    """Schema-check the agent's lines; return the mcp/message requests it sent."""
    defs = json.loads(UNSTABLE_DEFS.read_text())["$defs"]
    envelope = Draft202012Validator({"$defs": defs, "$ref": "#/$defs/MessageMcpRequest"})
    checker = s.acp_schema.AgentTranscriptChecker()
    mcp_ids: set[Any] = set()
    sent: list[dict[str, Any]] = []
    for raw in transcript.read_text().splitlines():
        entry = json.loads(raw)
        message = json.loads(entry["line"])
        if entry["dir"] == "in":
            if message.get("id") in mcp_ids and "method" not in message:
                assert not list(Draft202012Validator({"$defs": defs, "$ref": "#/$defs/MessageMcpResponse"}).iter_errors(message.get("result")))
                continue  # the client's answer to our mcp/message
            checker.client_sent(message)
        elif message.get("method") == "mcp/message":
            assert "id" in message and not list(envelope.iter_errors(message["params"])), message
            mcp_ids.add(message["id"])
            sent.append(message["params"])
        else:
            checker.agent_sent(message)
    assert checker.checked > 0
    return sent


async def test_the_model_calls_a_tool_the_typescript_client_hosts(interop_dirs: dict[str, Path]) -> None:
    call = s.tool_reply("call_1", "mcp__editor__lookup", {"q": "widgets"})
    async with s.llm_server.open_fake_server() as server:
        server.enqueue(call, s.text_reply("Found them."))
        config = {
            "command": s.agent_command(provider="openai"),
            "cwd": str(interop_dirs["work"]),
            "env": s.agent_env(os.environ, interop_dirs["home"], server.url),
            "transcript": str(interop_dirs["transcript"]),
            "prompt": "find the widgets",
        }
        events = await s.run_client(["node", str(MCP_CLIENT), json.dumps(config)], cwd=s.HERE, env=os.environ)
    result = s.step(events, "prompt")
    assert result["acp"] is True and result["stopReason"] == "end_turn"
    order = result["order"]
    # Discovery and the tool list before session/new was answered; the gate before the call.
    assert order.index("tools/list") < order.index("session/new answered") < order.index("permission") < order.index("tools/call")
    assert [c["name"] for c in result["toolCalls"]] == ["lookup"] and result["toolCalls"][0]["arguments"] == {"q": "widgets"}
    tools = server.requests[0].json()["tools"]
    assert "mcp__editor__lookup" in {t["function"]["name"] for t in tools}
    tool_message = server.requests[1].json()["messages"][-1]
    assert tool_message["role"] == "tool" and "found widgets in the open buffers" in str(tool_message["content"])
    sent = _check_wire(interop_dirs["transcript"])
    assert {m["serverId"] for m in sent} == {result["serverId"]}
    assert len({m["requestId"] for m in sent}) == len(sent)
