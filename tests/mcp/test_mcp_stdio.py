"""A real MCP server over stdio, as session tools."""

from __future__ import annotations

import trio

from agentcore.events import McpServerStatus
from agentcore.mcp.state import ServerState
from agentcore.messages import ImageBlock, TextBlock
from agentcore.tools.base import Safety

from mcp_fakes import stdio_spec

SETTLE_LIMIT_S = 30  # a generous bound on a real server start (imports), not a synchronisation sleep


async def test_tools_appear_with_names_schemas_and_safety(make_core, info) -> None:
    core, _, _ = make_core([stdio_spec()])
    async with core.open_session(info) as session:
        with trio.fail_after(SETTLE_LIMIT_S):
            await session.mcp.wait_settled()
        names = session.registry.names()
        assert "mcp__demo__echo" in names and "mcp__demo__crash" in names
        echo = session.registry.get("mcp__demo__echo")
        assert echo.parameters["properties"]["text"]["type"] == "string"
        assert echo.parameters["required"] == ("text",)
        assert "Echo the text back" in echo.description
        safety = {n: session.registry.get(f"mcp__demo__{n}").safety for n in ("echo", "wipe", "lookup", "pid")}
        assert safety == {
            "echo": Safety.MUTATING,  # its readOnlyHint counts only for a trusted server (tests/deny)
            "wipe": Safety.DESTRUCTIVE,
            "lookup": Safety.NETWORK,
            "pid": Safety.MUTATING,
        }


async def test_results_map_text_images_resources_structured_and_errors(make_core, info) -> None:
    core, _, _ = make_core([stdio_spec()])
    async with core.open_session(info) as session:
        with trio.fail_after(SETTLE_LIMIT_S):
            await session.mcp.wait_settled()

        async def call(name: str, **args):
            return await session.registry.get(f"mcp__demo__{name}").execute(args, None)

        echoed = await call("echo", text="hi")
        assert echoed.text_content == "echo: hi" and not echoed.is_error
        picture = await call("picture")
        assert isinstance(picture.content[0], ImageBlock) and picture.content[0].media_type == "image/png"
        assert picture.content[1] == TextBlock("a dot")
        document = await call("document")
        assert "[resource file:///notes.txt]\nnote body" in document.text_content
        assert "application/octet-stream" in document.text_content
        measured = await call("measure")
        assert measured.text_content == '{"unit": "cm", "width": 3}'
        assert measured.raw_output["structured_content"]["width"] == 3
        failed = await call("fail")
        assert failed.is_error


async def test_instructions_resources_and_prompts(make_core, info) -> None:
    core, _, _ = make_core([stdio_spec()])
    async with core.open_session(info) as session:
        with trio.fail_after(SETTLE_LIMIT_S):
            await session.mcp.wait_settled()
        prompt = session.system_prompt()
        assert "# MCP server: demo" in prompt
        assert "The demo tools answer questions about widgets." in prompt
        (status,) = session.mcp.status()
        assert status.state is ServerState.READY
        assert [r.uri for r in status.resources] == ["widgets://catalog"]
        assert [(p.name, p.arguments) for p in status.prompts] == [("review", ("widget",))]
        assert "demo server starting" in status.stderr_tail
        assert "mcp__demo__echo" in status.tools


async def test_list_changed_refreshes_the_tools(make_core, info) -> None:
    core, _, events = make_core([stdio_spec()])
    async with core.open_session(info) as session:
        with trio.fail_after(SETTLE_LIMIT_S):
            await session.mcp.wait_settled()
        before = len(session.registry.names())
        assert "mcp__demo__late" not in session.registry.names()
        result = await session.registry.get("mcp__demo__grow").execute({}, None)
        assert result.text_content == "grown"
        with trio.fail_after(SETTLE_LIMIT_S):
            await events.wait_for(lambda e: isinstance(e, McpServerStatus) and e.tool_count == before + 1)
        late = session.registry.get("mcp__demo__late")
        assert (await late.execute({"x": 21}, None)).text_content == "42"
