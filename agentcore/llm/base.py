"""The ``LlmProvider`` trait: one streaming completion call, provider-neutral.

A provider turns an :class:`LlmRequest` into an async stream of
:data:`Chunk` values. Callers must consume the stream inside
``contextlib.aclosing(provider.complete(req))`` so that cancelling the
consuming scope closes the HTTP response at once (trio cancels the ``await``
inside the generator; ``aclose`` then runs the generator's ``finally``).

Chunks arrive in this order: any number of :class:`RetryNotice` (only before
any output), then text / thinking / tool-call chunks interleaved, then at most
one :class:`UsageChunk` and exactly one :class:`StopChunk`.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol, TypeAlias, runtime_checkable

import attrs

from agentcore.messages import Citation, Message, Usage, freeze_json


class ReasoningEffort(enum.Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ProviderStop(enum.Enum):
    """Why one LLM call stopped (finer than a turn's :class:`StopReason`)."""

    END_TURN = "end_turn"
    TOOL_USE = "tool_use"
    MAX_TOKENS = "max_tokens"
    REFUSAL = "refusal"


@attrs.frozen
class ToolSpec:
    """A tool as the model sees it: name, description, JSON schema."""

    name: str
    description: str
    parameters: Mapping[str, Any] = attrs.field(converter=freeze_json)


@attrs.frozen
class WebSearch:
    """Hosted web search for a request: the vendor's own search tool, run on
    its servers. ``allowed_domains`` limits results to those domains (and
    their subdomains); ``blocked_domains`` keeps them out (at most one of the two
    is set). ``required``: a session that cannot have it does not start."""

    allowed_domains: tuple[str, ...] = ()
    blocked_domains: tuple[str, ...] = ()
    required: bool = False


@attrs.frozen
class LlmRequest:
    model: str
    system: str
    messages: tuple[Message, ...]
    tools: tuple[ToolSpec, ...] = ()
    max_tokens: int | None = None
    temperature: float | None = None
    reasoning_effort: ReasoningEffort | None = None
    # "auto" (default), "none", "required", or a tool name to force.
    tool_choice: str = "auto"
    web_search: WebSearch | None = None  # offer the provider's hosted search (checked it can: hosted_web_search)


# --------------------------------------------------------------------- chunks


@attrs.frozen
class TextDelta:
    text: str


@attrs.frozen
class ThinkingDelta:
    """Reasoning text; ``signature`` arrives once, usually in its own delta.
    ``redacted`` carries an encrypted thinking block (no text)."""

    text: str = ""
    signature: str | None = None
    redacted: str | None = None


@attrs.frozen
class CitationDelta:
    """A source the text streamed so far cites (hosted web search); it belongs
    to the current text block."""

    citation: Citation


@attrs.frozen
class ToolCallStart:
    index: int
    id: str
    name: str


@attrs.frozen
class ToolCallDelta:
    index: int
    arguments: str  # a fragment of the JSON arguments


@attrs.frozen
class ToolCallEnd:
    index: int


@attrs.frozen
class UsageChunk:
    usage: Usage


@attrs.frozen
class StopChunk:
    reason: ProviderStop


@attrs.frozen
class RetryNotice:
    """The provider is about to retry after ``delay_s`` (before any output)."""

    attempt: int  # the attempt that failed, 1-based
    max_attempts: int
    delay_s: float
    reason: str
    usage: Usage | None = None  # what the failed attempt was billed for, when the vendor said


Chunk: TypeAlias = (
    TextDelta
    | ThinkingDelta
    | CitationDelta
    | ToolCallStart
    | ToolCallDelta
    | ToolCallEnd
    | UsageChunk
    | StopChunk
    | RetryNotice
)


# ---------------------------------------------------------------- model info


@attrs.frozen
class Pricing:
    """US dollars per million tokens; ``web_search`` per thousand hosted searches."""

    input: float = 0.0
    output: float = 0.0
    cache_read: float = 0.0
    cache_write: float = 0.0
    web_search: float = 0.0

    def cost(self, usage: Usage) -> float:
        return (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + usage.cache_read_tokens * self.cache_read
            + usage.cache_write_tokens * self.cache_write
        ) / 1_000_000 + usage.web_search_requests * self.web_search / 1_000


# The vendor APIs a model can be served by (``Capabilities.api``).
API_CHAT = "chat"  # OpenAI Chat Completions and the servers that imitate it
API_RESPONSES = "responses"  # OpenAI Responses
API_MESSAGES = "messages"  # Anthropic Messages


@attrs.frozen
class Capabilities:
    """What a model accepts and offers; requests are built from it
    (:func:`agentcore.llm.capabilities.fit_request`). The defaults are the
    conservative profile of a model nobody described: plain sampling, no
    reasoning control, no images, no hosted tools."""

    api: str = API_CHAT
    temperature: bool = True
    top_p: bool = True
    reasoning_efforts: tuple[str, ...] = ()  # levels the model takes; () = no reasoning control
    thinking_budget: bool = False  # reasoning is a token budget (Anthropic extended thinking)
    image_input: bool = False
    hosted_tools: tuple[str, ...] = ()  # e.g. ("web_search",)
    prompt_caching: bool = False


@attrs.frozen
class ModelInfo:
    id: str
    context_window: int
    max_output_tokens: int
    pricing: Pricing = Pricing()
    known: bool = True  # False when the catalog fell back to defaults
    capabilities: Capabilities = Capabilities()


@runtime_checkable
class LlmProvider(Protocol):
    """A streaming chat-completion backend."""

    @property
    def name(self) -> str: ...

    def complete(self, request: LlmRequest) -> AsyncIterator[Chunk]:
        """Stream one completion. Raises :class:`ProviderError` subclasses."""
        ...

    async def list_models(self) -> list[ModelInfo]: ...

    def model_info(self, model: str) -> ModelInfo:
        """Context window, output limit and prices (from the catalog)."""
        ...
