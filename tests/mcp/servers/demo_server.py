"""A real MCP server for the tests, built with the SDK's MCPServer.

Run as ``python demo_server.py [--gate FILE] [--fd N] [--name NAME]``:
stdio by default; ``--fd N`` serves streamable HTTP on an already listening
socket (the test binds 127.0.0.1:0 and passes it, so there is no port race);
``--gate FILE`` delays start-up until FILE exists (a slow server the test
releases when it wants); ``--delay S`` sleeps S seconds before answering
anything (a server that is simply slow to start; the sleep is the server's,
never the test's).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from typing import Annotated

import anyio
from mcp.server.mcpserver import Context, Elicit, ElicitationResult, MCPServer, Resolve
from pydantic import BaseModel
from mcp.types import (
    BlobResourceContents,
    CallToolResult,
    EmbeddedResource,
    ImageContent,
    TextContent,
    TextResourceContents,
    ToolAnnotations,
)

GATE_POLL_S = 0.01  # the server polls its gate file; the test itself never sleeps
PNG_1X1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="

parser = argparse.ArgumentParser()
parser.add_argument("--gate")
parser.add_argument("--fd", type=int)
parser.add_argument("--name", default="demo")
parser.add_argument("--delay", type=float, default=0.0)
options = parser.parse_args()

print(f"{options.name} server starting", file=sys.stderr, flush=True)
if options.gate:
    while not os.path.exists(options.gate):
        time.sleep(GATE_POLL_S)
if options.delay:
    time.sleep(options.delay)

server = MCPServer(options.name, instructions=f"The {options.name} tools answer questions about widgets.")
children: list[subprocess.Popen[bytes]] = []


class Colour(BaseModel):
    colour: str


def _which_colour() -> Elicit[Colour]:
    return Elicit("Which colour do you like?", Colour)


@server.tool()
async def ask_colour(answer: Annotated[ElicitationResult[Colour], Resolve(_which_colour)]) -> str:
    """Ask the user for their favourite colour (an MCP elicitation, either protocol era)."""
    if answer.action == "accept" and answer.data is not None:
        return f"colour: {answer.data.colour}"
    return f"no colour ({answer.action})"


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
def echo(text: str) -> str:
    """Echo the text back."""
    return f"echo: {text}"


@server.tool(annotations=ToolAnnotations(destructiveHint=True))
def wipe(target: str) -> str:
    """Pretend to delete something."""
    return f"wiped {target}"


@server.tool(annotations=ToolAnnotations(openWorldHint=True))
def lookup(query: str) -> str:
    """Pretend to search the web."""
    return f"found {query}"


@server.tool()
def crash() -> str:
    """Exit the server process abruptly."""
    print("fatal: the widget store is corrupt", file=sys.stderr, flush=True)
    os._exit(3)


@server.tool()
async def hang() -> str:
    """Never answer (until cancelled)."""
    print("hang started", file=sys.stderr, flush=True)
    try:
        await anyio.sleep(3600)
    except anyio.get_cancelled_exc_class():
        print("hang was cancelled", file=sys.stderr, flush=True)
        raise
    return "unreachable"


# The SDK diverts fd 1 to stderr while it serves; the flood tools write to the
# pipe the client reads, as a misbehaving server's own code would.
WIRE = os.dup(1)


@server.tool()
async def flood_line() -> str:
    """Write one endless line to stdout (never a newline), then hang."""
    block = b"x" * 65_536
    while True:
        await anyio.to_thread.run_sync(os.write, WIRE, block)


@server.tool()
async def flood_garbage() -> str:
    """Write 200,000 lines that are not JSON-RPC to stdout, then hang."""
    for _ in range(200):
        os.write(WIRE, b"garbage that is not json\n" * 1_000)
    await anyio.sleep(3600)
    return "unreachable"


@server.tool()
def deep() -> CallToolResult:
    """structuredContent nested 200 levels deep."""
    nested: dict = {"leaf": 1}
    for _ in range(200):
        nested = {"a": nested}
    return CallToolResult(content=[TextContent(type="text", text="deep")], structuredContent=nested)


@server.tool()
def fail() -> str:
    """Raise an error, which the server reports with isError."""
    raise ValueError("widget not found")


@server.tool()
def picture() -> list[ImageContent | TextContent]:
    """An image and a caption."""
    return [ImageContent(type="image", data=PNG_1X1, mime_type="image/png"), TextContent(type="text", text="a dot")]


@server.tool()
def document() -> CallToolResult:
    """Embedded resources, text and binary."""
    return CallToolResult(
        content=[
            EmbeddedResource(type="resource", resource=TextResourceContents(uri="file:///notes.txt", text="note body")),
            EmbeddedResource(
                type="resource",
                resource=BlobResourceContents(uri="file:///a.bin", blob="AAAA", mime_type="application/octet-stream"),
            ),
        ]
    )


@server.tool()
def measure() -> CallToolResult:
    """Only structured content, no text."""
    return CallToolResult(content=[], structured_content={"width": 3, "unit": "cm"})


@server.tool()
def pid() -> str:
    """The server's process id."""
    return str(os.getpid())


@server.tool()
def spawn_child() -> str:
    """Start a long-lived child process (left behind unless the group is killed)."""
    child = subprocess.Popen(["sleep", "300"])
    children.append(child)
    return str(child.pid)


@server.tool()
async def grow(ctx: Context) -> str:
    """Add a tool named 'late' and announce the changed list."""

    def late(x: int) -> int:
        """Double a number."""
        return x * 2

    server.add_tool(late, name="late")
    await ctx.notify_tools_changed()
    await ctx.request_context.session.send_tool_list_changed()
    return "grown"


@server.resource("widgets://catalog", name="catalog", description="All widgets")
def catalog() -> str:
    return "widget-a, widget-b"


@server.prompt()
def review(widget: str) -> str:
    """Review a widget."""
    return f"Review {widget}"


if options.fd is None:
    server.run()
else:
    import uvicorn

    listener = socket.socket(fileno=options.fd)
    config = uvicorn.Config(server.streamable_http_app(), log_level="warning", lifespan="on")
    anyio.run(uvicorn.Server(config).serve, [listener])
