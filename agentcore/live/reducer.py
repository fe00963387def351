"""``TranscriptReducer``: the only writer of voice turns into canonical history.

Realtime backends report a conversation as a stream of partial, possibly
duplicated, reordered or interrupted pieces. The reducer turns them into the
same immutable messages a text turn would have produced:

* user finals are keyed by ``(item_id, content_index)``; a repeat is ignored;
* assistant transcript deltas are deduplicated by event id and *staged* per
  response; they are committed when the response is done, discarded when it
  is cancelled unheard, and cut to the heard prefix when the user barged in
  (also after commit: the committed message is rewritten);
* tool calls and their results are kept together (results follow their call);
* messages are written in conversation order through a queue of slots, so an
  answer never lands before the late transcript of the question it answers.

Every write is ``history.append`` plus a :class:`MessageAppended` on the
session's events, so the journal records voice turns like any other.

With a backend that writes history itself (the cascade runs a normal session
turn), the reducer only reconciles barge-in: it cuts the spoken message to
what was heard.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

import attrs

from agentcore.events import AgentEvent, HistoryRolledBack, MessageAppended
from agentcore.history import History
from agentcore.live.events import ResponseStatus
from agentcore.messages import (
    AssistantMessage,
    MessageKind,
    TextBlock,
    ToolResultBlock,
    ToolResultMessage,
    ToolUseBlock,
    Usage,
    UserMessage,
)

log = logging.getLogger(__name__)

Emit = Callable[[AgentEvent], Awaitable[None]]
ItemKey = tuple[str, int]  # (item_id, content_index)
CANCELLED_TOOL_RESULT = "Cancelled: the voice conversation ended before this tool call finished."


def heard_prefix(text: str, heard_ms: float, total_ms: float) -> str:
    """The part of ``text`` spoken in the first ``heard_ms`` of ``total_ms`` of
    audio, assuming an even speaking rate and never ending mid-word."""
    if heard_ms <= 0 or total_ms <= 0 or not text:
        return ""
    if heard_ms >= total_ms:
        return text
    cut = int(len(text) * heard_ms / total_ms)
    prefix = text[:cut]
    if cut < len(text) and not text[cut].isspace() and prefix and not prefix[-1].isspace():
        space = max(prefix.rfind(" "), prefix.rfind("\n"))
        prefix = prefix[:space] if space >= 0 else ""
    return prefix.rstrip()


@attrs.define
class _ItemText:
    deltas: list[str] = attrs.Factory(list)
    seen: set[str] = attrs.Factory(set)
    final: str | None = None
    heard: str | None = None  # set once truncated: the text the user actually heard

    @property
    def text(self) -> str:
        return self.final if self.final is not None else "".join(self.deltas)

    @property
    def spoken(self) -> str:
        return self.heard if self.heard is not None else self.text


@attrs.define
class _UserSlot:
    key: ItemKey
    text: str | None = None
    dropped: bool = False

    @property
    def ready(self) -> bool:
        return self.text is not None or self.dropped


@attrs.define
class _ResponseSlot:
    response_id: str
    items: dict[ItemKey, _ItemText] = attrs.Factory(dict)
    calls: dict[str, ToolUseBlock] = attrs.Factory(dict)
    status: ResponseStatus | None = None
    usage: Usage = Usage()
    message_id: str | None = None  # the committed (or externally written) message

    @property
    def ready(self) -> bool:
        return self.status is not None


@attrs.define
class _ToolSlot:
    response_id: str
    call_ids: list[str]
    results: dict[str, ToolResultBlock] = attrs.Factory(dict)

    @property
    def ready(self) -> bool:
        return all(c in self.results for c in self.call_ids)


@attrs.define
class _ContextSlot:
    message: UserMessage
    ready: bool = True


_Slot: TypeAlias = _UserSlot | _ResponseSlot | _ToolSlot | _ContextSlot


def parse_arguments(arguments: str) -> dict[str, Any] | None:
    """Tool arguments as the model wrote them; None when not a JSON object."""
    try:
        value = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class TranscriptReducer:
    def __init__(self, history: History, emit: Emit, *, model: str | None = None, external_writer: bool = False) -> None:
        self._history = history
        self._emit = emit
        self._model = model
        self.external_writer = external_writer
        self._queue: list[_Slot] = []
        self._users: dict[ItemKey, _UserSlot] = {}
        self._responses: dict[str, _ResponseSlot] = {}
        self._item_response: dict[ItemKey, str] = {}
        self._tools: dict[str, _ToolSlot] = {}  # call id -> slot

    # ---------------------------------------------------------------- user

    def expect_user(self, item_id: str, content_index: int = 0) -> None:
        """Reserve the place of a committed user turn whose transcript is still coming."""
        key = (item_id, content_index)
        if self.external_writer or key in self._users:
            return
        slot = _UserSlot(key)
        self._users[key] = slot
        self._queue.append(slot)

    async def user_final(self, item_id: str, content_index: int, text: str) -> bool:
        """Record a user's final transcript; False if this key was already final."""
        if self.external_writer:
            return True
        key = (item_id, content_index)
        slot = self._users.get(key)
        if slot is None:
            self.expect_user(item_id, content_index)
            slot = self._users[key]
        if slot.ready:
            return False
        slot.text = text
        await self._flush()
        return True

    async def drop_user(self, item_id: str, content_index: int = 0) -> None:
        slot = self._users.get((item_id, content_index))
        if slot is not None and not slot.ready:
            slot.dropped = True
            await self._flush()

    # ----------------------------------------------------------- assistant

    def start_response(self, response_id: str) -> None:
        self._response(response_id)

    def _response(self, response_id: str) -> _ResponseSlot:
        slot = self._responses.get(response_id)
        if slot is None:
            slot = _ResponseSlot(response_id)
            self._responses[response_id] = slot
            if not self.external_writer:
                self._queue.append(slot)
        return slot

    def _item(self, response_id: str, item_id: str, content_index: int) -> _ItemText | None:
        slot = self._response(response_id)
        if slot.status is not None and not self.external_writer:
            return None  # late pieces of a finished response are not part of it
        key = (item_id, content_index)
        self._item_response[key] = response_id
        return slot.items.setdefault(key, _ItemText())

    def assistant_delta(self, response_id: str, item_id: str, content_index: int, text: str, event_id: str = "") -> None:
        item = self._item(response_id, item_id, content_index)
        if item is None or item.heard is not None or item.final is not None:
            return
        if event_id:
            if event_id in item.seen:
                return  # a duplicated or replayed delta
            item.seen.add(event_id)
        item.deltas.append(text)

    def assistant_final(self, response_id: str, item_id: str, content_index: int, text: str) -> None:
        item = self._item(response_id, item_id, content_index)
        if item is not None and item.heard is None:
            item.final = text  # authoritative: repairs dropped deltas

    def tool_call(self, response_id: str, call_id: str, name: str, arguments: str) -> ToolUseBlock:
        slot = self._response(response_id)
        block = slot.calls.get(call_id)
        if block is None:
            block = ToolUseBlock(call_id, name, parse_arguments(arguments) or {})
            slot.calls[call_id] = block
        return block

    def response_text(self, response_id: str) -> str:
        slot = self._responses.get(response_id)
        return " ".join(i.spoken for i in slot.items.values() if i.spoken) if slot else ""

    async def finish_response(
        self, response_id: str, status: ResponseStatus, usage: Usage = Usage(), *, message_ids: tuple[str, ...] = ()
    ) -> tuple[ToolUseBlock, ...]:
        """Close a response; returns the tool calls to run (none unless completed)."""
        slot = self._response(response_id)
        if slot.status is not None:
            return ()
        slot.status, slot.usage = status, usage
        if self.external_writer:
            slot.message_id = self._last_assistant(message_ids)
            await self._reconcile_external(slot)
            return ()
        calls = tuple(slot.calls.values()) if status in (ResponseStatus.COMPLETED, ResponseStatus.INCOMPLETE) else ()
        if calls:
            tools = _ToolSlot(response_id, [c.id for c in calls])
            self._queue.insert(self._queue.index(slot) + 1, tools)
            for call in calls:
                self._tools[call.id] = tools
        await self._flush()
        return calls

    async def tool_result(self, call_id: str, content: tuple[Any, ...], *, is_error: bool = False) -> None:
        slot = self._tools.get(call_id)
        if slot is None or call_id in slot.results:
            return
        slot.results[call_id] = ToolResultBlock(call_id, tuple(content), is_error)
        await self._flush()

    async def truncate(self, item_id: str, content_index: int, heard_ms: float, total_ms: float) -> str:
        """Cut an assistant item to what the user heard; returns the heard text."""
        key = (item_id, content_index)
        response_id = self._item_response.get(key)
        if response_id is None:
            return ""
        slot = self._responses[response_id]
        item = slot.items[key]
        if item.heard is None:
            item.heard = heard_prefix(item.text, heard_ms, total_ms)
        if slot.message_id is not None:
            await self._rewrite(slot)
        elif self.external_writer and slot.status is not None:
            await self._reconcile_external(slot)
        return item.heard

    # -------------------------------------------------------------- context

    async def add_context(self, text: str, *, kind: MessageKind = MessageKind.CONTEXT) -> UserMessage:
        message = UserMessage((TextBlock(text),), kind=kind)
        self._queue.append(_ContextSlot(message))
        await self._flush()
        return message

    # ------------------------------------------------------------ lifecycle

    @property
    def pending(self) -> bool:
        return bool(self._queue)

    async def close(self) -> None:
        """Resolve whatever is still open: unheard user turns are dropped,
        unfinished responses count as cancelled, unfinished tools get a result."""
        for slot in list(self._queue):
            match slot:
                case _UserSlot() if not slot.ready:
                    slot.dropped = True
                case _ResponseSlot() if not slot.ready:
                    slot.status = ResponseStatus.CANCELLED
                case _ToolSlot():
                    for call_id in slot.call_ids:
                        slot.results.setdefault(call_id, ToolResultBlock(call_id, (TextBlock(CANCELLED_TOOL_RESULT),), True))
        await self._flush()

    # -------------------------------------------------------------- writing

    async def _flush(self) -> None:
        while self._queue and self._queue[0].ready:
            slot = self._queue.pop(0)
            match slot:
                case _UserSlot():
                    if slot.text and slot.text.strip():
                        await self._append(UserMessage((TextBlock(slot.text.strip()),)), turn_id=slot.key[0])
                case _ResponseSlot():
                    await self._commit_response(slot)
                case _ToolSlot():
                    results = tuple(slot.results[c] for c in slot.call_ids)
                    await self._append(ToolResultMessage(results), turn_id=slot.response_id)
                case _ContextSlot():
                    await self._append(slot.message, turn_id=None)

    def _assistant_message(self, slot: _ResponseSlot, *, message_id: str | None = None) -> AssistantMessage | None:
        heard_only = slot.status in (ResponseStatus.CANCELLED, ResponseStatus.FAILED)
        texts = [item.spoken for item in slot.items.values() if item.spoken and (item.heard is not None or not heard_only)]
        text = " ".join(t.strip() for t in texts if t.strip())
        content: list[TextBlock | ToolUseBlock] = [TextBlock(text)] if text else []
        if not heard_only:
            content += list(slot.calls.values())
        if not content:
            return None
        if message_id is None:
            return AssistantMessage(tuple(content), model=self._model, usage=slot.usage)
        return AssistantMessage(tuple(content), model=self._model, usage=slot.usage, id=message_id)

    async def _commit_response(self, slot: _ResponseSlot) -> None:
        message = self._assistant_message(slot)
        if message is not None:
            slot.message_id = message.id
            await self._append(message, turn_id=slot.response_id)

    async def _rewrite(self, slot: _ResponseSlot) -> None:
        """Replace a committed assistant message with its heard version."""
        index = self._find(slot.message_id)
        if index is None:
            return
        old = self._history[index]
        assert isinstance(old, AssistantMessage)
        heard_text = " ".join(i.spoken.strip() for i in slot.items.values() if i.spoken.strip())
        content = ([TextBlock(heard_text)] if heard_text else []) + list(old.tool_uses)
        new = attrs.evolve(old, content=tuple(content))
        if new == old:
            return
        if index == len(self._history) - 1:
            # Journal-friendly: roll the last message back and append its heard version.
            self._history.truncate(index)
            await self._emit(HistoryRolledBack(slot.response_id, index))
            if content:
                await self._append(new, turn_id=slot.response_id)
            else:
                slot.message_id = None
        elif content:
            log.debug("rewriting non-final assistant message %s in place", old.id)
            self._history.replace(index, new)

    async def _reconcile_external(self, slot: _ResponseSlot) -> None:
        """Cascade: the session wrote the turn; make it say only what was heard."""
        if not any(i.heard is not None for i in slot.items.values()):
            return
        if slot.message_id is not None:
            await self._rewrite(slot)
            return
        message = self._assistant_message(slot)  # the turn was cancelled before its message was written
        if message is not None and message.text:
            slot.message_id = message.id
            await self._append(AssistantMessage((TextBlock(message.text),), model=self._model, id=message.id), turn_id=slot.response_id)

    def _last_assistant(self, message_ids: tuple[str, ...]) -> str | None:
        wanted = set(message_ids)
        for message in reversed(self._history.snapshot()):
            if message.id in wanted and isinstance(message, AssistantMessage) and message.text:
                return message.id
        return None

    def _find(self, message_id: str | None) -> int | None:
        if message_id is None:
            return None
        for index in range(len(self._history) - 1, -1, -1):
            if self._history[index].id == message_id:
                return index
        return None

    async def _append(self, message: Any, *, turn_id: str | None) -> None:
        self._history.append(message)
        await self._emit(MessageAppended(turn_id, message))
