"""Conversation history with token accounting and O(1) copy-on-write forks.

``VecHistory`` keeps messages and their token counts in parallel lists that
forks share. A history appends in place while it is the furthest writer of
the shared buffer; the first write that would disturb another fork's view
copies the prefix it owns (once), so ``fork()`` is O(1) and appends stay
amortised O(1).

With a ``media`` store, images over the inline threshold are moved out of each
message as it enters (``append``, ``replace``, ``splice_prefix``) and held as
:class:`~agentcore.messages.ImageRef` s, read again only for a request.

Token counts are computed once per message. The running total is calibrated
against what the provider reported for the last call: ``used`` is the
provider's number plus estimates of whatever changed since.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

import attrs

from agentcore.errors import SessionError
from agentcore import tokens
from agentcore.messages import (
    AssistantMessage,
    MediaStore,
    Message,
    MessageKind,
    ToolResultMessage,
    UserMessage,
    externalize_media,
)


class HistoryError(SessionError):
    pass


@attrs.frozen
class ContextBreakdown:
    """Estimated tokens per part of the next request."""

    system_prompt: int = 0
    tool_schemas: int = 0
    messages: int = 0  # user and assistant messages, excluding the two below
    tool_results: int = 0
    summaries: int = 0

    @property
    def total(self) -> int:
        return self.system_prompt + self.tool_schemas + self.messages + self.tool_results + self.summaries


@attrs.frozen
class ContextStatus:
    used: int  # calibrated against the provider when possible
    window: int
    breakdown: ContextBreakdown = ContextBreakdown()
    calibrated: bool = False

    @property
    def ratio(self) -> float:
        return self.used / self.window if self.window else 0.0

    @property
    def free(self) -> int:
        return max(0, self.window - self.used)


@runtime_checkable
class History(Protocol):
    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Message: ...

    def __iter__(self) -> Iterator[Message]: ...

    def snapshot(self) -> tuple[Message, ...]: ...

    def append(self, message: Message, *, count: int | None = None) -> None:
        """Add ``message``; ``count`` is its token count when the caller has it
        (counted off the event loop for a long one)."""
        ...

    def replace(self, index: int, message: Message) -> None: ...

    def splice_prefix(self, prefix_len: int, replacement: Sequence[Message]) -> None: ...

    def truncate(self, length: int) -> None: ...

    def fork(self) -> History: ...

    def fork_at(self, index: int) -> History: ...

    def message_tokens(self, index: int) -> int: ...

    def calibrate(
        self, *, reported_input_tokens: int, system_tokens: int, tool_tokens: int, length: int | None = None
    ) -> None: ...

    def context_status(self, *, window: int, system_tokens: int, tool_tokens: int) -> ContextStatus: ...


class _Buffer:
    """Storage shared by forks. Only the furthest writer may append in place."""

    __slots__ = ("messages", "tokens")

    def __init__(self, messages: list[Message], counts: list[int]) -> None:
        self.messages = messages
        self.tokens = counts


@attrs.frozen
class _Calibration:
    length: int  # messages covered by the provider's report
    reported: int  # provider-reported prompt tokens
    messages_total: int  # our estimate of those messages at the time
    system_tokens: int
    tool_tokens: int


def _category(message: Message) -> str:
    if isinstance(message, ToolResultMessage):
        return "tool_results"
    if isinstance(message, UserMessage) and message.kind is MessageKind.SUMMARY:
        return "summaries"
    return "messages"


def safe_cut(messages: Sequence[Message], index: int) -> int:
    """The largest cut <= ``index`` that does not separate a tool_use from its result."""
    index = max(0, min(index, len(messages)))
    while index > 0 and index < len(messages) and isinstance(messages[index], ToolResultMessage):
        index -= 1
    if index > 0:
        prev = messages[index - 1]
        if isinstance(prev, AssistantMessage) and prev.tool_uses:
            index -= 1
    return index


class VecHistory:
    """The default :class:`History`."""

    def __init__(
        self,
        messages: Sequence[Message] = (),
        *,
        token_counts: Sequence[int | None] | None = None,
        media: MediaStore | None = None,
    ) -> None:
        """``token_counts`` (aligned with ``messages``) are trusted where given,
        e.g. recorded by the session journal; missing ones are counted. ``media``
        takes the large images of messages added later (forks share it)."""
        self._media = media
        msgs = list(messages)
        known = list(token_counts) if token_counts is not None and len(token_counts) == len(msgs) else [None] * len(msgs)
        counts = [tokens.count_message(m) if n is None else n for m, n in zip(msgs, known, strict=True)]
        self._buf = _Buffer(msgs, counts)
        self._len = len(msgs)
        self._exclusive = True  # no fork has seen this buffer
        self._calibration: _Calibration | None = None
        self._totals = {"messages": 0, "tool_results": 0, "summaries": 0}
        self._recount()

    # ------------------------------------------------------------- reading

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, index: int) -> Message:
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError(index)
        return self._buf.messages[index]

    def __iter__(self) -> Iterator[Message]:
        return iter(self._buf.messages[: self._len])

    def snapshot(self) -> tuple[Message, ...]:
        return tuple(self._buf.messages[: self._len])

    def message_tokens(self, index: int) -> int:
        if not 0 <= index < self._len:
            raise IndexError(index)
        return self._buf.tokens[index]

    @property
    def total_tokens(self) -> int:
        return sum(self._totals.values())

    # ------------------------------------------------------------- writing

    def append(self, message: Message, *, count: int | None = None) -> None:
        if self._media is not None:
            message = externalize_media(message, self._media)
        if count is None:
            count = tokens.count_message(message)
        if len(self._buf.messages) != self._len:
            self._own()  # another fork (or our own rollback) left entries past us
        self._buf.messages.append(message)
        self._buf.tokens.append(count)
        self._len += 1
        self._totals[_category(message)] += count

    def replace(self, index: int, message: Message) -> None:
        if not 0 <= index < self._len:
            raise IndexError(index)
        self._own()
        if self._media is not None:
            message = externalize_media(message, self._media)
        old = self._buf.messages[index]
        self._totals[_category(old)] -= self._buf.tokens[index]
        count = tokens.count_message(message)
        self._buf.messages[index] = message
        self._buf.tokens[index] = count
        self._totals[_category(message)] += count
        self._invalidate_calibration(index)

    def splice_prefix(self, prefix_len: int, replacement: Sequence[Message]) -> None:
        """Replace ``self[:prefix_len]`` with ``replacement``, keeping everything after.

        Compaction summarises a prefix it read earlier; messages appended while
        it ran are after ``prefix_len`` and survive untouched.
        """
        if not 0 <= prefix_len <= self._len:
            raise HistoryError(f"prefix of {prefix_len} messages exceeds history of {self._len}")
        tail_msgs = self._buf.messages[prefix_len : self._len]
        tail_counts = self._buf.tokens[prefix_len : self._len]
        media = self._media
        new = [externalize_media(m, media) for m in replacement] if media is not None else list(replacement)
        self._buf = _Buffer(new + tail_msgs, [tokens.count_message(m) for m in new] + tail_counts)
        self._len = len(self._buf.messages)
        self._exclusive = True
        self._calibration = None
        self._recount()

    def truncate(self, length: int) -> None:
        if not 0 <= length <= self._len:
            raise HistoryError(f"cannot truncate history of {self._len} to {length}")
        for message, count in zip(self._buf.messages[length : self._len], self._buf.tokens[length : self._len], strict=True):
            self._totals[_category(message)] -= count
        if self._exclusive:
            del self._buf.messages[length:]
            del self._buf.tokens[length:]
        self._len = length
        self._invalidate_calibration(length)

    # --------------------------------------------------------------- forks

    def fork(self) -> VecHistory:
        """O(1): the fork shares this buffer until either side writes."""
        child = VecHistory.__new__(VecHistory)
        child._media = self._media
        child._buf = self._buf
        child._len = self._len
        child._exclusive = False
        child._calibration = self._calibration
        child._totals = dict(self._totals)
        self._exclusive = False
        return child

    def fork_at(self, index: int) -> VecHistory:
        """A fork holding ``self[:cut]``, where ``cut <= index`` is the nearest
        boundary that keeps every tool_use with its result."""
        child = self.fork()
        cut = safe_cut(self._buf.messages[: self._len], index)
        child._len = cut
        child._invalidate_calibration(cut)
        child._recount()
        return child

    # ---------------------------------------------------------- accounting

    def calibrate(
        self, *, reported_input_tokens: int, system_tokens: int, tool_tokens: int, length: int | None = None
    ) -> None:
        """Record the provider's count of a request that held ``self[:length]``
        (default: every current message) plus the system prompt and tools."""
        length = self._len if length is None else max(0, min(length, self._len))
        self._calibration = _Calibration(
            length=length,
            reported=reported_input_tokens,
            messages_total=sum(self._buf.tokens[:length]),
            system_tokens=system_tokens,
            tool_tokens=tool_tokens,
        )

    def context_status(self, *, window: int, system_tokens: int, tool_tokens: int) -> ContextStatus:
        breakdown = ContextBreakdown(
            system_prompt=system_tokens,
            tool_schemas=tool_tokens,
            messages=self._totals["messages"],
            tool_results=self._totals["tool_results"],
            summaries=self._totals["summaries"],
        )
        cal = self._calibration
        if cal is None:
            return ContextStatus(used=breakdown.total, window=window, breakdown=breakdown)
        used = (
            cal.reported
            + (self.total_tokens - cal.messages_total)
            + (system_tokens - cal.system_tokens)
            + (tool_tokens - cal.tool_tokens)
        )
        return ContextStatus(used=max(used, 0), window=window, breakdown=breakdown, calibrated=True)

    # ------------------------------------------------------------ internal

    def _own(self) -> None:
        """Make the buffer ours alone before writing to it in place."""
        if self._exclusive and len(self._buf.messages) == self._len:
            return
        self._buf = _Buffer(self._buf.messages[: self._len], self._buf.tokens[: self._len])
        self._exclusive = True

    def _invalidate_calibration(self, changed_index: int) -> None:
        if self._calibration is not None and changed_index < self._calibration.length:
            self._calibration = None

    def _recount(self) -> None:
        totals = {"messages": 0, "tool_results": 0, "summaries": 0}
        for message, count in zip(self._buf.messages[: self._len], self._buf.tokens[: self._len], strict=True):
            totals[_category(message)] += count
        self._totals = totals
