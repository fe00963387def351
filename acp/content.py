"""ACP prompt content blocks -> the core's user message.

Text and images pass through. Attached files arrive either embedded
(``resource``: the client sent the text or bytes) or linked (``resource_link``:
the agent reads them, through the session's file backend, so an editor that
delegates file access serves its unsaved buffer). Attachments become text
blocks fenced with their URI so the model knows where the text came from.

A linked file is read only as ``read_file`` would be (:class:`SessionLinkAccess`):
inside the workspace and not denied by a rule, it is read (read-only mode
included); a deny rule keeps it out; outside the workspace the user is asked
through the permission gate, and where nobody can answer it is not read. What
is not read becomes a short note in the prompt instead.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from agentcore.acp.jsonrpc import InvalidParams
from agentcore.messages import ImageBlock, InvalidImage, TextBlock, UserMessage, new_id
from agentcore.permissions import PermissionCheck, PermissionGate
from agentcore.tools import FsBackend, FsError
from agentcore.tools import Location, Safety, ToolDescription, ToolKind
from agentcore.tools import Workspace

LINK_TOOL = "read_file"  # a linked file is judged as a read_file call on its path

RESOURCE_MAX_CHARS = 256 * 1024  # chars of one attached file given to the model; the rest is cut with a note


def _problem(index: int, field: str, error: str) -> InvalidParams:
    return InvalidParams(f"prompt[{index}].{field}: {error}", {"path": f"prompt[{index}].{field}", "error": error})


def _fenced(uri: str, text: str) -> TextBlock:
    if len(text) > RESOURCE_MAX_CHARS:
        omitted = len(text) - RESOURCE_MAX_CHARS
        text = text[:RESOURCE_MAX_CHARS] + f"\n[... {omitted:,} more characters not included ...]"
    return TextBlock(f'<context uri="{uri}">\n{text}\n</context>')


def file_path(uri: str) -> Path | None:
    """The local path of a ``file://`` URI (or a bare absolute path), else None."""
    if uri.startswith("/"):
        return Path(uri)
    parsed = urlparse(uri)
    if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
        return None
    return Path(unquote(parsed.path))


class LinkAccess(Protocol):
    async def refusal(self, path: Path) -> str | None:
        """None when the linked local file may be read; otherwise why not."""
        ...


class NoLinkAccess:
    """Reads no linked file: nothing is there to judge it."""

    async def refusal(self, path: Path) -> str | None:
        return "no permission gate is available to approve reading it"


class SessionLinkAccess:
    """Linked files judged like ``read_file`` calls of the session: its
    workspace confinement, its rules and mode, and its permission gate."""

    def __init__(self, gate: PermissionGate, workspace: Workspace) -> None:
        self.gate = gate
        self.workspace = workspace

    async def refusal(self, path: Path) -> str | None:
        resolved = path.expanduser().resolve()  # a symlink is judged by what it reaches
        denied = self.gate.path_denied(resolved, workspace=self.workspace)
        if denied is not None:
            return f"a permission rule denies it ({denied})"
        inside = self.workspace.contains(resolved)
        subject = self.workspace.relative(resolved) if inside else str(resolved)
        check = PermissionCheck(
            turn_id="",
            call_id=new_id("link"),
            tool_name=LINK_TOOL,
            safety=Safety.READ_ONLY,
            subject=subject,
            description=ToolDescription(
                title=f"Read the attached file {subject}", kind=ToolKind.READ, locations=(Location(str(resolved)),)
            ),
            raw_input={"path": str(resolved)},
            workspace=self.workspace,
        )
        if inside:
            decision = await self.gate.check(check)
        else:
            ask = getattr(self.gate, "ask", None)  # gates that cannot ask a person refuse
            if ask is None:
                return f"{resolved} is outside the workspace and nobody can approve reading it"
            decision = await ask(check, f"{resolved} is outside the workspace")
        return None if decision.allowed else decision.reason


async def to_user_message(blocks: Any, fs: FsBackend, *, links: LinkAccess | None = None) -> UserMessage:
    """The prompt as a user message; ``links`` decides which linked files are read."""
    if not isinstance(blocks, list) or not blocks:
        raise InvalidParams("prompt must be a non-empty array of content blocks", {"path": "prompt", "error": "expected a non-empty array"})
    access = links if links is not None else NoLinkAccess()
    out: list[TextBlock | ImageBlock] = []
    for index, block in enumerate(blocks):
        if not isinstance(block, dict):
            raise _problem(index, "type", "expected a content block object")
        out.append(await _convert(index, block, fs, access))
    return UserMessage(content=tuple(out))


def _str_field(index: int, block: dict[str, Any], field: str) -> str:
    value = block.get(field)
    if not isinstance(value, str):
        raise _problem(index, field, "required string")
    return value


async def _convert(index: int, block: dict[str, Any], fs: FsBackend, links: LinkAccess) -> TextBlock | ImageBlock:
    match block.get("type"):
        case "text":
            return TextBlock(_str_field(index, block, "text"))
        case "image":
            data = _str_field(index, block, "data")
            try:
                return ImageBlock(_str_field(index, block, "mimeType"), data)
            except InvalidImage as exc:
                raise _problem(index, "data", str(exc)) from None
        case "resource":
            return _embedded(index, block)
        case "resource_link":
            return await _linked(index, block, fs, links)
        case "audio":
            raise _problem(index, "type", "audio prompts are not supported (promptCapabilities.audio is false)")
        case other:
            raise _problem(index, "type", f"unknown content block type {other!r}")


def _embedded(index: int, block: dict[str, Any]) -> TextBlock | ImageBlock:
    resource = block.get("resource")
    if not isinstance(resource, dict):
        raise _problem(index, "resource", "required object")
    uri = resource.get("uri")
    if not isinstance(uri, str):
        raise _problem(index, "resource.uri", "required string")
    if isinstance(resource.get("text"), str):
        return _fenced(uri, resource["text"])
    blob = resource.get("blob")
    if not isinstance(blob, str):
        raise _problem(index, "resource", "needs text or blob")
    mime = resource.get("mimeType") or "application/octet-stream"
    if mime.startswith("image/"):
        try:
            return ImageBlock(mime, blob)
        except InvalidImage as exc:
            raise _problem(index, "resource.blob", str(exc)) from None
    try:
        data = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        raise _problem(index, "resource.blob", "not valid base64") from None
    try:
        return _fenced(uri, data.decode("utf-8"))
    except UnicodeDecodeError:
        return TextBlock(f"[attached binary file {uri} ({mime}, {len(data):,} bytes); its content is not shown]")


async def _linked(index: int, block: dict[str, Any], fs: FsBackend, links: LinkAccess) -> TextBlock:
    uri = _str_field(index, block, "uri")
    name = block.get("name") if isinstance(block.get("name"), str) else uri
    path = file_path(uri)
    if path is None:
        return TextBlock(f"[linked resource {name}: {uri}]")
    refusal = await links.refusal(path)
    if refusal is not None:
        return TextBlock(f"[linked file {uri} was not read: {refusal}]")
    try:
        text = await fs.read_text(path.expanduser().resolve())
    except FsError as exc:
        return TextBlock(f"[linked file {uri} could not be read: {exc}]")
    return _fenced(uri, text)
