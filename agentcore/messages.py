"""Conversation values: messages, content blocks, usage and stop reasons.

Everything here is an immutable ``attrs`` value. History stores these objects
and shares them between forks, so nothing may mutate them after creation
(tool inputs are deep-frozen on construction for the same reason).

``message_to_dict`` / ``message_from_dict`` are the one JSON codec used by the
journal, the wire replays and the tests; keep it stable and versioned by the
store, never by ad-hoc fields.

Media: an image is either inline (:class:`ImageBlock`, base64) or an
:class:`ImageRef` naming a content-addressed blob (``sha256:<hex>``) that a
:class:`BlobReader` resolves when a wire request is built
(:func:`resolve_image`). :func:`externalize_media` is the one path by which
images above :data:`INLINE_IMAGE_MAX_BYTES` leave a message for a
:class:`MediaStore`; the codec writes an ``ImageRef`` as
``{"type": "image", "blob": ..., "media_type": ..., "bytes": n}``.

Citations: a :class:`TextBlock` may carry the web sources a hosted search gave
the model (:class:`Citation`); the codec writes them as the block's
``citations`` list, and only when there are some.
"""

from __future__ import annotations

import base64
import binascii
import enum
import logging
import re
import uuid
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Protocol, TypeAlias, assert_never, runtime_checkable

import attrs

from agentcore.errors import InputError, StoreError

log = logging.getLogger(__name__)


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
class Citation:
    """A web source a hosted search gave the model, cited by the text it is
    attached to: ``url``, the page ``title`` and the ``cited_text`` (what the
    vendor quotes; may be empty). Kept with the message and shown by frontends."""

    url: str = attrs.field(converter=encodable_text)
    title: str = attrs.field(default="", converter=encodable_text)
    cited_text: str = attrs.field(default="", converter=encodable_text)


def _citations(value: Any) -> tuple[Citation, ...]:
    return tuple(value)


@attrs.frozen
class TextBlock:
    text: str = attrs.field(converter=encodable_text)
    # Sources the text cites (hosted web search); never sent back to a model.
    citations: tuple[Citation, ...] = attrs.field(default=(), converter=_citations)


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


# ---------------------------------------------------------------------- media

# Images up to this many decoded bytes stay inline (history and journal): a blob
# file per icon would cost more than the ~5 KB of base64 it saves.
INLINE_IMAGE_MAX_BYTES = 4 * 1024
BLOB_ID = re.compile(r"sha256:[0-9a-f]{64}")  # the only shape of a blob id


class MediaUnavailable(StoreError):
    """An image's bytes cannot be had: its blob is missing or corrupt, or its id is
    not a blob id. Raised by a :class:`BlobReader`; shown as a placeholder."""


@runtime_checkable
class BlobReader(Protocol):
    """Where an :class:`ImageRef`'s bytes come from."""

    def read_blob(self, blob_id: str) -> bytes:
        """The blob's bytes, verified against its id; raises :class:`MediaUnavailable`."""
        ...

    def check_blob(self, blob_id: str, size: int) -> None:
        """Raise :class:`MediaUnavailable` unless the blob is there, ``size`` bytes, intact."""
        ...


@runtime_checkable
class MediaStore(BlobReader, Protocol):
    """A :class:`BlobReader` that also stores: what :func:`externalize_media` needs."""

    def write_blob(self, data: bytes) -> str:
        """Store ``data`` once (content-addressed); its id ``sha256:<hex>``. Raises ``OSError``."""
        ...


@attrs.frozen
class ImageRef:
    """An image kept out of line: ``size`` bytes in the blob ``blob``
    (``sha256:<hex>``), read through ``reader`` only when a request or a
    client needs them (:func:`resolve_image`). History holds these instead of
    base64, so a long session with many screenshots does not keep them in RAM."""

    media_type: str
    blob: str
    size: int
    reader: BlobReader | None = attrs.field(default=None, eq=False, repr=False)

    def resolve(self) -> ImageBlock:
        """The inline image; raises :class:`MediaUnavailable`."""
        if self.reader is None:
            raise MediaUnavailable(f"image {self.blob} cannot be read here (no blob store)")
        return ImageBlock(self.media_type, base64.b64encode(self.reader.read_blob(self.blob)).decode("ascii"))


def image_placeholder(reason: object) -> TextBlock:
    """What stands in for an image whose bytes cannot be had."""
    return TextBlock(f"[image unavailable: {reason}]")


def resolve_image(block: ImageBlock | ImageRef) -> ImageBlock | TextBlock:
    """``block`` inline, for a wire request or a client; a placeholder text when
    its blob cannot be read (the error is logged, the request still goes)."""
    if isinstance(block, ImageBlock):
        return block
    try:
        return block.resolve()
    except MediaUnavailable as exc:
        log.warning("%s", exc)
        return image_placeholder(exc)


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
    content: tuple[TextBlock | ImageBlock | ImageRef, ...] = ()
    is_error: bool = False

    @property
    def text(self) -> str:
        return "\n".join(b.text for b in self.content if isinstance(b, TextBlock))


ContentBlock: TypeAlias = TextBlock | ImageBlock | ImageRef | ThinkingBlock | ToolUseBlock | ToolResultBlock


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
    web_search_requests: int = 0  # hosted web searches the vendor ran (billed per search)

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
            self.web_search_requests + other.web_search_requests,
        )

    @property
    def prompt_tokens(self) -> int:
        """Everything the model read: fresh input plus cache reads and writes."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens


@attrs.frozen
class UserMessage:
    content: tuple[TextBlock | ImageBlock | ImageRef, ...]
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
    def citations(self) -> tuple[Citation, ...]:
        """The sources its text cites, each URL once, in order of first citation."""
        seen: dict[str, Citation] = {}
        for block in self.content:
            if isinstance(block, TextBlock):
                for citation in block.citations:
                    seen.setdefault(citation.url, citation)
        return tuple(seen.values())

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


def externalize_media(message: Message, store: MediaStore) -> Message:
    """``message`` with every inline image over :data:`INLINE_IMAGE_MAX_BYTES`
    stored in ``store`` and replaced by an :class:`ImageRef` (same id). The same
    object when there is nothing to move (the common case costs a type check).
    An image the store refuses (a full disk) stays inline: nothing is lost."""
    match message:
        case UserMessage(content=content):
            moved = _externalize_blocks(content, store)
            return message if moved is content else attrs.evolve(message, content=moved)
        case ToolResultMessage(results=results):
            new = tuple(_externalize_result(r, store) for r in results)
            if all(a is b for a, b in zip(new, results, strict=True)):
                return message
            return attrs.evolve(message, results=new)
        case _:
            return message


def _externalize_result(result: ToolResultBlock, store: MediaStore) -> ToolResultBlock:
    moved = _externalize_blocks(result.content, store)
    return result if moved is result.content else attrs.evolve(result, content=moved)


def _externalize_blocks(
    blocks: tuple[TextBlock | ImageBlock | ImageRef, ...], store: MediaStore
) -> tuple[TextBlock | ImageBlock | ImageRef, ...]:
    if not any(type(b) is ImageBlock and len(b.data) // 4 * 3 > INLINE_IMAGE_MAX_BYTES for b in blocks):
        return blocks
    out: list[TextBlock | ImageBlock | ImageRef] = []
    for block in blocks:
        if type(block) is ImageBlock and len(block.data) // 4 * 3 > INLINE_IMAGE_MAX_BYTES:
            data = base64.b64decode(block.data)
            try:
                out.append(ImageRef(block.media_type, store.write_blob(data), len(data), store))
                continue
            except (OSError, StoreError) as exc:
                log.warning("an image stays inline: storing it failed: %s", exc)
        out.append(block)
    return tuple(out)


# ---------------------------------------------------------------------- codec


def block_to_dict(block: ContentBlock) -> dict[str, Any]:
    match block:
        case TextBlock(text=text, citations=citations):
            if citations:
                return {"type": "text", "text": text, "citations": [citation_to_dict(c) for c in citations]}
            return {"type": "text", "text": text}
        case ImageBlock(media_type=mt, data=data):
            return {"type": "image", "media_type": mt, "data": data}
        case ImageRef(media_type=mt, blob=blob, size=size):
            return {"type": "image", "media_type": mt, "blob": blob, "bytes": size}
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


def block_from_dict(d: Mapping[str, Any], *, blobs: BlobReader | None = None) -> ContentBlock:
    """One block; an image stored as a blob becomes an :class:`ImageRef` read
    through ``blobs`` (checked now, so a missing or corrupt blob, or an id that
    is not a blob id, becomes a placeholder text and the message still loads)."""
    kind = d["type"]
    if kind == "text":
        cited = d.get("citations") or ()
        return TextBlock(d["text"], tuple(_citation_from_dict(c) for c in cited if isinstance(c, Mapping)))
    if kind == "image":
        if "blob" in d:
            return _image_ref_from_dict(d, blobs)
        try:
            return ImageBlock(d["media_type"], d["data"])
        except InvalidImage as exc:  # recorded before images were checked: the session still loads
            return TextBlock(f"[an image that cannot be sent: {exc}]")
    if kind == "thinking":
        return ThinkingBlock(d.get("text", ""), d.get("signature"), d.get("redacted"))
    if kind == "tool_use":
        return ToolUseBlock(d["id"], d["name"], d.get("input") or {})
    if kind == "tool_result":
        content = tuple(block_from_dict(b, blobs=blobs) for b in d.get("content", ()))
        return ToolResultBlock(d["tool_use_id"], content, bool(d.get("is_error", False)))  # type: ignore[arg-type]
    raise ValueError(f"unknown content block type {kind!r}")


def _image_ref_from_dict(d: Mapping[str, Any], blobs: BlobReader | None) -> ImageRef | TextBlock:
    blob, size, media_type = d["blob"], d.get("bytes"), d.get("media_type")
    if not isinstance(blob, str) or not BLOB_ID.fullmatch(blob):
        return image_placeholder("the journal names it by an id that is not a blob id")
    if type(size) is not int or size < 0 or size > IMAGE_MAX_BYTES or media_type not in IMAGE_MEDIA_TYPES:
        return image_placeholder(f"{blob} has an invalid size or media type")
    if blobs is not None:
        try:
            blobs.check_blob(blob, size)
        except MediaUnavailable as exc:
            return image_placeholder(exc)
    return ImageRef(media_type, blob, size, blobs)


def citation_to_dict(citation: Citation) -> dict[str, str]:
    d = {"url": citation.url}
    if citation.title:
        d["title"] = citation.title
    if citation.cited_text:
        d["cited_text"] = citation.cited_text
    return d


def _citation_from_dict(d: Mapping[str, Any]) -> Citation:
    return Citation(str(d.get("url", "")), str(d.get("title") or ""), str(d.get("cited_text") or ""))


_USAGE_FIELDS = tuple(attrs.fields_dict(Usage))


def usage_to_dict(usage: Usage) -> dict[str, int]:
    d = attrs.asdict(usage)
    if not d["web_search_requests"]:  # most calls search nothing: keep the journal's records as they were
        del d["web_search_requests"]
    return d


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


def message_from_dict(d: Mapping[str, Any], *, blobs: BlobReader | None = None) -> Message:
    """Inverse of :func:`message_to_dict`; ``blobs`` resolves images stored as blobs."""
    role = d["role"]
    if role == "user":
        return UserMessage(
            content=tuple(block_from_dict(b, blobs=blobs) for b in d["content"]),  # type: ignore[arg-type]
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
            results=tuple(block_from_dict(b, blobs=blobs) for b in d["results"]),  # type: ignore[arg-type]
            id=d["id"],
        )
    raise ValueError(f"unknown message role {role!r}")
