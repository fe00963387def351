"""MCP tools as agentcore tools: names, safety classes and result mapping.

A server's tool ``search`` on server ``github`` is offered to the model as
``mcp__github__search``. Model APIs accept tool names matching
``^[a-zA-Z0-9_-]{1,64}$``, so other characters become ``_`` and a name that is
too long (or that collides with another after sanitising) is cut and given a
short hash of the original server and tool names: the same server always
yields the same names, so prompt caches and permission rules stay valid.

Nothing here imports the MCP SDK: results are read by attribute, the way the
SDK's pydantic models expose them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import attrs

from agentcore.messages import ImageBlock, InvalidImage, TextBlock, freeze_json
from agentcore.tools.base import Safety, ToolContext, ToolDescription, ToolKind, ToolResult
from agentcore.tools.registry import DYNAMIC_PREFIX

TOOL_NAME_MAX = 64  # the longest tool name OpenAI and Anthropic accept
TOOL_NAME_HASH_CHARS = 8  # hex digits of sha256 that make a shortened name unique
_INVALID = re.compile(r"[^A-Za-z0-9_-]")
SEPARATOR = "__"


def _sanitize(text: str) -> str:
    return _INVALID.sub("_", text)


def _hashed(full: str, server: str, tool: str) -> str:
    digest = hashlib.sha256(f"{server}\0{tool}".encode()).hexdigest()[:TOOL_NAME_HASH_CHARS]
    return f"{full[: TOOL_NAME_MAX - TOOL_NAME_HASH_CHARS - 1]}_{digest}"


def tool_name(server: str, tool: str) -> str:
    """``mcp__<server>__<tool>``, sanitised and, when too long, shortened deterministically."""
    full = _sanitize(f"{DYNAMIC_PREFIX}{server}{SEPARATOR}{tool}")
    return full if len(full) <= TOOL_NAME_MAX else _hashed(full, server, tool)


def assign_names(server: str, tools: Iterable[str]) -> dict[str, str]:
    """Model-facing name for each of a server's tool names. Tools whose
    sanitised names collide all get hashed names, whatever order they came in."""
    originals = list(dict.fromkeys(tools))
    plain = {t: tool_name(server, t) for t in originals}
    counts: dict[str, int] = {}
    for name in plain.values():
        counts[name] = counts.get(name, 0) + 1
    return {t: (n if counts[n] == 1 else _hashed(_sanitize(f"{DYNAMIC_PREFIX}{server}{SEPARATOR}{t}"), server, t))
            for t, n in plain.items()}  # fmt: skip


def safety_for(annotations: Any, *, trust_annotations: bool = False) -> Safety:
    """From the tool's hints: read-only, destructive, open-world (network), else mutating.

    A server grades its own tools, so a hint that would *lift* a restriction
    (``readOnlyHint``: run unasked, even in read-only mode) counts only when the
    user's configuration trusts that server's annotations. Hints that make a
    tool stricter always count, and ``destructiveHint`` beats ``readOnlyHint``.
    Only hints a server states count; the spec's defaults for absent hints are
    pessimistic and would make every unannotated tool look destructive.
    """
    if annotations is None:
        return Safety.MUTATING
    if getattr(annotations, "destructive_hint", None) is True:
        return Safety.DESTRUCTIVE
    if trust_annotations and getattr(annotations, "read_only_hint", None) is True:
        return Safety.READ_ONLY
    if getattr(annotations, "open_world_hint", None) is True:
        return Safety.NETWORK
    return Safety.MUTATING


_KINDS = {
    Safety.READ_ONLY: ToolKind.READ,
    Safety.NETWORK: ToolKind.FETCH,
    Safety.DESTRUCTIVE: ToolKind.DELETE,
    Safety.MUTATING: ToolKind.OTHER,
}


def input_schema(schema: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The tool's argument schema; providers need ``type: object`` at the top."""
    schema = dict(schema or {})
    schema.setdefault("type", "object")
    if schema["type"] == "object":
        schema.setdefault("properties", {})
    return freeze_json(schema)


CallFn = Callable[[str, Mapping[str, Any]], Awaitable[ToolResult]]


@attrs.frozen
class McpTool:
    """One tool of one server. ``call`` reaches the server (and restarts it if needed)."""

    name: str  # the model-facing name
    server: str
    remote_name: str  # the name the server knows
    description: str
    parameters: Mapping[str, Any]
    safety: Safety
    title: str | None = None
    call: CallFn = attrs.field(kw_only=True, eq=False, repr=False)

    @property
    def parallel_safe(self) -> bool:
        return self.safety is Safety.READ_ONLY

    def permission_subject(self, args: Mapping[str, Any]) -> str | None:
        return None  # rules match MCP tools by name (mcp__github__*)

    async def describe(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolDescription:
        return ToolDescription(title=f"{self.server}: {self.title or self.remote_name}", kind=_KINDS[self.safety])

    async def execute(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        return await self.call(self.remote_name, args)


def make_tool(server: str, name: str, remote: Any, call: CallFn, *, trust_annotations: bool = False) -> McpTool:
    """An :class:`McpTool` from an SDK ``Tool`` listing entry; ``trust_annotations``
    is the server's ``mcp.servers.NAME.trust_annotations`` setting."""
    description = (remote.description or "").strip() or f"Tool {remote.name} of MCP server {server}."
    return McpTool(
        name=name,
        server=server,
        remote_name=remote.name,
        description=description,
        parameters=input_schema(remote.input_schema),
        safety=safety_for(remote.annotations, trust_annotations=trust_annotations),
        title=getattr(remote, "title", None) or getattr(remote.annotations, "title", None),
        call=call,
    )


# ----------------------------------------------------------------- results


def _image(mime: str, data: str, uri: str) -> TextBlock | ImageBlock:
    """A server's image, or a note saying why it cannot be shown to the model."""
    try:
        return ImageBlock(mime, data)
    except InvalidImage as exc:
        return TextBlock(f"[an image{f' ({uri})' if uri else ''} the server sent cannot be used: {exc}]")


def _resource_block(resource: Any) -> TextBlock | ImageBlock:
    uri = str(getattr(resource, "uri", ""))
    mime = getattr(resource, "mime_type", None) or ""
    text = getattr(resource, "text", None)
    if text is not None:
        return TextBlock(f"[resource {uri}]\n{text}")
    blob = getattr(resource, "blob", "") or ""
    if mime.startswith("image/"):
        return _image(mime, blob, uri)
    return TextBlock(f"[resource {uri}: {mime or 'binary'}, {len(blob) * 3 // 4} bytes, not shown]")


def _content_block(block: Any) -> TextBlock | ImageBlock:
    match getattr(block, "type", None):
        case "text":
            return TextBlock(block.text)
        case "image":
            return _image(block.mime_type, block.data, "")
        case "audio":
            return TextBlock(f"[audio: {block.mime_type}, {len(block.data) * 3 // 4} bytes, not shown]")
        case "resource":
            return _resource_block(block.resource)
        case "resource_link":
            described = f" - {block.description}" if getattr(block, "description", None) else ""
            return TextBlock(f"[resource link: {block.name} {block.uri}{described}]")
        case other:
            return TextBlock(f"[unsupported MCP content type {other!r}]")


def map_result(result: Any) -> ToolResult:
    """An SDK ``CallToolResult`` as a :class:`ToolResult`.

    Structured content is sent to the model as JSON only when the server gave
    no text (servers usually mirror it as text); frontends always get it in
    ``raw_output``.
    """
    blocks = [_content_block(b) for b in result.content or ()]
    structured = getattr(result, "structured_content", None)
    if structured is not None and not any(isinstance(b, TextBlock) for b in blocks):
        blocks.append(TextBlock(json.dumps(structured, ensure_ascii=False, sort_keys=True)))
    if not blocks:
        blocks.append(TextBlock("(no output)"))
    raw = {"structured_content": structured} if structured is not None else None
    return ToolResult(content=tuple(blocks), is_error=bool(result.is_error), raw_output=raw)
