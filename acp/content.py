"""ACP prompt content blocks -> the core's user message.

Text and images pass through. Attached files arrive either embedded
(``resource``: the client sent the text or bytes) or linked (``resource_link``:
the agent reads them, through the session's file backend, so an editor that
delegates file access serves its unsaved buffer). Attachments become text
blocks fenced with their URI so the model knows where the text came from.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from acp.jsonrpc import InvalidParams
from agentcore.messages import ImageBlock, TextBlock, UserMessage
from agentcore.tools.backends import FsBackend, FsError

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


async def to_user_message(blocks: Any, fs: FsBackend) -> UserMessage:
    if not isinstance(blocks, list) or not blocks:
        raise InvalidParams("prompt must be a non-empty array of content blocks", {"path": "prompt", "error": "expected a non-empty array"})
    out: list[TextBlock | ImageBlock] = []
    for index, block in enumerate(blocks):
        if not isinstance(block, dict):
            raise _problem(index, "type", "expected a content block object")
        out.append(await _convert(index, block, fs))
    return UserMessage(content=tuple(out))


def _str_field(index: int, block: dict[str, Any], field: str) -> str:
    value = block.get(field)
    if not isinstance(value, str):
        raise _problem(index, field, "required string")
    return value


async def _convert(index: int, block: dict[str, Any], fs: FsBackend) -> TextBlock | ImageBlock:
    match block.get("type"):
        case "text":
            return TextBlock(_str_field(index, block, "text"))
        case "image":
            data = _str_field(index, block, "data")
            return ImageBlock(_str_field(index, block, "mimeType"), data)
        case "resource":
            return _embedded(index, block)
        case "resource_link":
            return await _linked(index, block, fs)
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
        return ImageBlock(mime, blob)
    try:
        data = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        raise _problem(index, "resource.blob", "not valid base64") from None
    try:
        return _fenced(uri, data.decode("utf-8"))
    except UnicodeDecodeError:
        return TextBlock(f"[attached binary file {uri} ({mime}, {len(data):,} bytes); its content is not shown]")


async def _linked(index: int, block: dict[str, Any], fs: FsBackend) -> TextBlock:
    uri = _str_field(index, block, "uri")
    name = block.get("name") if isinstance(block.get("name"), str) else uri
    path = file_path(uri)
    if path is None:
        return TextBlock(f"[linked resource {name}: {uri}]")
    try:
        text = await fs.read_text(path)
    except FsError as exc:
        return TextBlock(f"[linked file {uri} could not be read: {exc}]")
    return _fenced(uri, text)
