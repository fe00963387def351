"""Assembling one assistant message from a provider's stream of chunks.

Invariant: tool-call arguments enter the message only as parsed, bounded JSON
objects; anything else becomes an error the model can read (``invalid_args``),
never an exception.
"""

from __future__ import annotations

import json

import attrs

from agentcore.bounded_json import JsonTooDeep, loads_bounded
from agentcore.llm.base import (
    Chunk,
    CitationDelta,
    ProviderStop,
    RetryNotice,
    StopChunk,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    UsageChunk,
)
from agentcore.messages import (
    AssistantMessage,
    Citation,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    Usage,
    assert_never,
)


@attrs.define
class StreamAssembler:
    """Builds one :class:`AssistantMessage` from provider chunks."""

    blocks: list[TextBlock | ThinkingBlock | ToolUseBlock] = attrs.field(factory=list)
    _text: list[str] = attrs.field(factory=list)
    _citations: list[Citation] = attrs.field(factory=list)  # sources of the text run being built
    _thinking: list[str] = attrs.field(factory=list)
    _signature: str | None = None
    _calls: dict[int, list[str]] = attrs.field(factory=dict)  # index -> [id, name, args...]
    invalid_args: dict[str, str] = attrs.field(factory=dict)  # call id -> problem
    usage: Usage = Usage()
    stop: ProviderStop | None = None

    def feed(self, chunk: Chunk) -> None:
        match chunk:
            case TextDelta(text=text):
                if self._thinking or self._signature:
                    self._flush_thinking()
                self._text.append(text)
            case CitationDelta(citation=citation):
                self._citations.append(citation)
            case ThinkingDelta(text=text, signature=sig, redacted=redacted):
                if self._text:
                    self._flush_text()
                if redacted is not None:
                    self._flush_thinking()
                    self.blocks.append(ThinkingBlock("", None, redacted))
                self._thinking.append(text)
                if sig is not None:
                    self._signature = sig
            case ToolCallStart(index=index, id=call_id, name=name):
                self._flush_text()
                self._flush_thinking()
                self._calls[index] = [call_id, name]
            case ToolCallDelta(index=index, arguments=fragment):
                self._calls.setdefault(index, [f"call_{index}", "unknown"]).append(fragment)
            case ToolCallEnd(index=index):
                self._close_call(index)
            case UsageChunk(usage=usage):
                self.usage = usage
            case StopChunk(reason=reason):
                self.stop = reason
            case RetryNotice():
                pass
            case _:
                assert_never(chunk)

    def _flush_text(self) -> None:
        if self._text:
            text = "".join(self._text)
            self._text.clear()
            if text:
                self.blocks.append(TextBlock(text, tuple(self._citations)))
                self._citations.clear()

    def _flush_thinking(self) -> None:
        if self._thinking or self._signature:
            text = "".join(self._thinking)
            self._thinking.clear()
            if text or self._signature:
                self.blocks.append(ThinkingBlock(text, self._signature))
            self._signature = None

    def _close_call(self, index: int) -> None:
        parts = self._calls.pop(index, None)
        if parts is None:
            return
        call_id, name, raw = parts[0], parts[1], "".join(parts[2:])
        args: object = {}
        if raw.strip():
            try:
                args = loads_bounded(raw)
            except JsonTooDeep as exc:
                self.invalid_args[call_id] = (
                    f"The arguments for {name} are {exc}. Call the tool again with flatter arguments."
                )
                args = {}
            except json.JSONDecodeError as exc:
                self.invalid_args[call_id] = (
                    f"The arguments for {name} were not valid JSON ({exc.msg} at character {exc.pos})"
                    + (" - the response hit the output token limit" if self.stop is ProviderStop.MAX_TOKENS else "")
                    + ". Call the tool again with complete, valid JSON arguments."
                )
                args = {}
        if not isinstance(args, dict):
            self.invalid_args[call_id] = f"The arguments for {name} must be a JSON object."
            args = {}
        self.blocks.append(ToolUseBlock(call_id, name, args))

    def finish(self, model: str, *, complete: bool) -> AssistantMessage | None:
        """The message so far. When cut short (cancelled) unfinished tool calls are dropped."""
        if self._citations and not self._text:  # sources after the last text belong to it
            for index in range(len(self.blocks) - 1, -1, -1):
                block = self.blocks[index]
                if isinstance(block, TextBlock):
                    self.blocks[index] = attrs.evolve(block, citations=(*block.citations, *self._citations))
                    break
            self._citations.clear()
        self._flush_text()
        self._flush_thinking()
        if complete:
            for index in sorted(self._calls):
                self._close_call(index)
        else:
            self._calls.clear()
        if not self.blocks:
            return None
        return AssistantMessage(content=tuple(self.blocks), model=model, usage=self.usage)
