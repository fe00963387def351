"""Conversation values: messages, content blocks, usage and stop reasons.

Everything here is an immutable ``attrs`` value. History stores these objects
and shares them between forks, so nothing may mutate them after creation
(tool inputs are deep-frozen on construction for the same reason).

``message_to_dict`` / ``message_from_dict`` are the one JSON codec used by the
journal, the wire replays and the tests; keep it stable and versioned by the
store, never by ad-hoc fields.
"""

from __future__ import annotations

import binascii
import enum
import re
import uuid
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, TypeAlias, assert_never

import attrs

from agentcore.errors import InputError


def new_id(prefix: str) -> str:
    """A short, unique, sortable-enough identifier such as ``msg_3f9c2a...``."""
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


# A surrogate code point in a Python str is always a lone one (a valid pair decodes
# to one code point): it comes from undecodable file names (surrogateescape), a
# command line in another encoding, or a peer's "\ud800" JSON escape.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT_CHARACTER = "\ufffd"


def encodable_text(text: str) -> str:
    """``text`` as every UTF-8 boundary (journal, wire, terminal) can carry it:
    lone surrogates become U+FFFD, visibly. Message values are built through
    this, so a message that reaches history can always be written and sent."""
    if text.isascii() or _LONE_SURROGATE.search(text) is None:  # isascii: a C scan, most text
        return text
    return _LONE_SURROGATE.sub(REPLACEMENT_CHARACTER, text)


def freeze_json(value: Any) -> Any:
    """Return a read-only deep copy of a JSON-like value (dicts become mappings,
    strings become :func:`encodable_text`)."""
    if isinstance(value, str):
        return encodable_text(value)
    if isinstance(value, Mapping):
        return MappingProxyType({encodable_text(str(k)): freeze_json(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze_json(v) for v in value)
    return value


def thaw_json(value: Any) -> Any:
    """Inverse of :func:`freeze_json`: plain dicts and lists, safe to serialise."""
    if isinstance(value, Mapping):
        return {k: thaw_json(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [thaw_json(v) for v in value]
    return value


# --------------------------------------------------------------------- blocks


@attrs.frozen
class TextBlock:
    text: str = attrs.field(converter=encodable_text)


# What every provider accepts as an image, and the most any of them takes in one.
IMAGE_MEDIA_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
IMAGE_MAX_BYTES = 20 * 1024 * 1024  # decoded; OpenAI's limit (Anthropic's is lower and is its error to give)


class InvalidImage(InputError):
    """An image block a provider would refuse: its type, size or base64 is wrong."""


@attrs.frozen
class ImageBlock:
    """An image, base64-encoded. ``media_type`` is e.g. ``image/png``.

    Checked on construction (type, decoded size, base64), so a block in history
    is one a provider accepts; a bad one is an :class:`InvalidImage` for its
    source (a client's prompt, a tool) to report, never a failed request later."""

    media_type: str
    data: str

    def __attrs_post_init__(self) -> None:
        if self.media_type not in IMAGE_MEDIA_TYPES:
            allowed = ", ".join(sorted(IMAGE_MEDIA_TYPES))
            raise InvalidImage(f"images must be one of {allowed}, not {self.media_type!r}")
        if len(self.data) // 4 * 3 > IMAGE_MAX_BYTES:
            raise InvalidImage(f"the image is over {IMAGE_MAX_BYTES // (1024 * 1024)} MB")
        try:
            binascii.a2b_base64(self.data, strict_mode=True)
        except (binascii.Error, ValueError):
            raise InvalidImage("the image data is not valid base64") from None


@attrs.frozen
class ThinkingBlock:
    """Model reasoning. ``signature`` is the provider's opaque proof and must be
    sent back unchanged (Anthropic rejects edited thinking). ``redacted`` holds
    an encrypted blob the provider returned instead of text."""

    text: str = attrs.field(converter=encodable_text)
    signature: str | None = None
    redacted: str | None = None


@attrs.frozen
class ToolUseBlock:
    id: str
    name: str = attrs.field(converter=encodable_text)
    input: Mapping[str, Any] = attrs.field(converter=freeze_json, factory=dict)


@attrs.frozen
class ToolResultBlock:
    tool_use_id: str
    content: tuple[TextBlock | ImageBlock, ...] = ()
    is_error: bool = False

    @property
    def text(self) -> str:
        return "\n".join(b.text for b in self.content if isinstance(b, TextBlock))


ContentBlock: TypeAlias = TextBlock | ImageBlock | ThinkingBlock | ToolUseBlock | ToolResultBlock


# ------------------------------------------------------------------- messages


class MessageKind(enum.Enum):
    """Where a user-side message came from. Only ``PROMPT`` is typed by a person."""

    PROMPT = "prompt"
    SUMMARY = "summary"  # a compaction summary standing in for older messages
    BACKGROUND = "background"  # outcomes of background tasks delivered to the model
    CONTEXT = "context"  # injected context (hooks, voice steering)


class StopReason(enum.Enum):
    """Why a turn ended (the ACP stop reasons)."""

    END_TURN = "end_turn"
    MAX_TOKENS = "max_tokens"
    MAX_TURN_REQUESTS = "max_turn_requests"
    REFUSAL = "refusal"
    CANCELLED = "cancelled"


@attrs.frozen
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
        )

    @property
    def prompt_tokens(self) -> int:
        """Everything the model read: fresh input plus cache reads and writes."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens


@attrs.frozen
class UserMessage:
    content: tuple[TextBlock | ImageBlock, ...]
    kind: MessageKind = MessageKind.PROMPT
    id: str = attrs.field(factory=lambda: new_id("msg"))

    @property
    def text(self) -> str:
        return "\n".join(b.text for b in self.content if isinstance(b, TextBlock))


@attrs.frozen
class AssistantMessage:
    content: tuple[TextBlock | ThinkingBlock | ToolUseBlock, ...]
    model: str | None = None
    usage: Usage | None = None
    id: str = attrs.field(factory=lambda: new_id("msg"))

    @property
    def text(self) -> str:
        return "".join(b.text for b in self.content if isinstance(b, TextBlock))

    @property
    def tool_uses(self) -> tuple[ToolUseBlock, ...]:
        return tuple(b for b in self.content if isinstance(b, ToolUseBlock))


@attrs.frozen
class ToolResultMessage:
    """The results of one assistant message's tool calls, in call order."""

    results: tuple[ToolResultBlock, ...]
    id: str = attrs.field(factory=lambda: new_id("msg"))

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.results)


Message: TypeAlias = UserMessage | AssistantMessage | ToolResultMessage


def user_text(text: str, *, kind: MessageKind = MessageKind.PROMPT) -> UserMessage:
    return UserMessage(content=(TextBlock(text),), kind=kind)


# ---------------------------------------------------------------------- codec


def block_to_dict(block: ContentBlock) -> dict[str, Any]:
    match block:
        case TextBlock(text=text):
            return {"type": "text", "text": text}
        case ImageBlock(media_type=mt, data=data):
            return {"type": "image", "media_type": mt, "data": data}
        case ThinkingBlock(text=text, signature=sig, redacted=red):
            d: dict[str, Any] = {"type": "thinking", "text": text}
            if sig is not None:
                d["signature"] = sig
            if red is not None:
                d["redacted"] = red
            return d
        case ToolUseBlock(id=id_, name=name, input=inp):
            return {"type": "tool_use", "id": id_, "name": name, "input": thaw_json(inp)}
        case ToolResultBlock(tool_use_id=tid, content=content, is_error=err):
            return {
                "type": "tool_result",
                "tool_use_id": tid,
                "content": [block_to_dict(b) for b in content],
                "is_error": err,
            }
        case _:
            assert_never(block)


def block_from_dict(d: Mapping[str, Any]) -> ContentBlock:
    kind = d["type"]
    if kind == "text":
        return TextBlock(d["text"])
    if kind == "image":
        try:
            return ImageBlock(d["media_type"], d["data"])
        except InvalidImage as exc:  # recorded before images were checked: the session still loads
            return TextBlock(f"[an image that cannot be sent: {exc}]")
    if kind == "thinking":
        return ThinkingBlock(d.get("text", ""), d.get("signature"), d.get("redacted"))
    if kind == "tool_use":
        return ToolUseBlock(d["id"], d["name"], d.get("input") or {})
    if kind == "tool_result":
        content = tuple(block_from_dict(b) for b in d.get("content", ()))
        return ToolResultBlock(d["tool_use_id"], content, bool(d.get("is_error", False)))  # type: ignore[arg-type]
    raise ValueError(f"unknown content block type {kind!r}")


_USAGE_FIELDS = tuple(attrs.fields_dict(Usage))


def usage_to_dict(usage: Usage) -> dict[str, int]:
    return attrs.asdict(usage)


def usage_from_dict(d: Mapping[str, Any]) -> Usage:
    return Usage(*[int(d.get(k, 0)) for k in _USAGE_FIELDS])  # one per assistant message: kept cheap


def message_to_dict(msg: Message) -> dict[str, Any]:
    match msg:
        case UserMessage():
            return {
                "role": "user",
                "id": msg.id,
                "kind": msg.kind.value,
                "content": [block_to_dict(b) for b in msg.content],
            }
        case AssistantMessage():
            d: dict[str, Any] = {
                "role": "assistant",
                "id": msg.id,
                "content": [block_to_dict(b) for b in msg.content],
            }
            if msg.model is not None:
                d["model"] = msg.model
            if msg.usage is not None:
                d["usage"] = usage_to_dict(msg.usage)
            return d
        case ToolResultMessage():
            return {
                "role": "tool",
                "id": msg.id,
                "results": [block_to_dict(b) for b in msg.results],
            }
        case _:
            assert_never(msg)


def message_from_dict(d: Mapping[str, Any]) -> Message:
    role = d["role"]
    if role == "user":
        return UserMessage(
            content=tuple(block_from_dict(b) for b in d["content"]),  # type: ignore[arg-type]
            kind=MessageKind(d.get("kind", "prompt")),
            id=d["id"],
        )
    if role == "assistant":
        usage = d.get("usage")
        return AssistantMessage(
            content=tuple(block_from_dict(b) for b in d["content"]),  # type: ignore[arg-type]
            model=d.get("model"),
            usage=usage_from_dict(usage) if usage else None,
            id=d["id"],
        )
    if role == "tool":
        return ToolResultMessage(
            results=tuple(block_from_dict(b) for b in d["results"]),  # type: ignore[arg-type]
            id=d["id"],
        )
    raise ValueError(f"unknown message role {role!r}")
