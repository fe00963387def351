"""Moves a session's events to the client as ``session/update`` notifications.

Streaming models emit text a few characters at a time; one notification per
delta would cost more in JSON framing than the text itself. The pump merges
consecutive deltas of the same kind, but never holds the first one back more
than :data:`COALESCE_WINDOW_S`: a person sees the reply start at once.

Any other event flushes the pending text first, so the order on the wire is
the order of the events. :meth:`UpdatePump.drain` lets a prompt handler wait
until everything its turn emitted is on the wire before it answers.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from agentcore.acp.project import SessionProjector, Update, content_chunk
from agentcore.events import AgentEvent, AssistantTextDelta, ThoughtDelta

log = logging.getLogger("acp.pump")

COALESCE_WINDOW_S = 0.020  # seconds the first delta of a run may wait for company; below what a reader notices
COALESCE_MAX_CHARS = 8 * 1024  # chars; a run this long is sent at once, the window buys nothing more

SendUpdate = Callable[[Update], Awaitable[None]]


class UpdatePump:
    """One per session: ``run`` consumes a subscription, ``drain`` is the barrier."""

    def __init__(self, projector: SessionProjector, send_update: SendUpdate) -> None:
        self._projector = projector
        self._send_update = send_update
        self._pending_kind: str | None = None
        self._pending_message_id: str | None = None
        self._pending: list[str] = []
        self._pending_chars = 0
        self._deadline = math.inf
        self._seen = 0  # events counted by the observer (emitted)
        self._processed = 0  # events taken off the subscription and projected
        self._progress = trio.Condition()
        self._send_lock = trio.Lock()
        self._stopped = False  # run() has ended (the session closed): nothing more is projected

    def observe(self, _event: AgentEvent) -> None:
        """Register with ``emitter.add_observer``: counts events as they are emitted."""
        self._seen += 1

    @property
    def emitted(self) -> int:
        return self._seen

    async def run(self, events: Any) -> None:
        """Consume ``events`` (a trio receive channel) until it closes or the
        task is cancelled; either way a waiting :meth:`drain` is released."""
        try:
            await self._consume(events)
        finally:
            self._stopped = True
            with trio.CancelScope(shield=True):
                async with self._progress:
                    self._progress.notify_all()

    async def _consume(self, events: Any) -> None:
        while True:
            event: AgentEvent | None = None
            with trio.move_on_at(self._deadline):
                try:
                    event = await events.receive()
                except (trio.EndOfChannel, trio.ClosedResourceError):
                    await self.flush()
                    return
            if event is None:
                await self.flush()
                continue
            await self._handle(event)
            async with self._progress:
                self._processed += 1
                self._progress.notify_all()

    async def _handle(self, event: AgentEvent) -> None:
        match event:
            case AssistantTextDelta(text=text) if text:
                await self._add_text("agent_message_chunk", text)
                return
            case ThoughtDelta(text=text) if text:
                await self._add_text("agent_thought_chunk", text)
                return
        updates = self._projector.project(event)
        if not updates:
            return
        await self.flush()
        for update in updates:
            await self._send(update)

    async def _add_text(self, kind: str, text: str) -> None:
        if self._pending_kind not in (None, kind):
            await self.flush()
        if self._pending_kind is None:
            self._pending_kind = kind
            self._pending_message_id = self._projector.message_id(kind)  # of the response it belongs to
            self._deadline = trio.current_time() + COALESCE_WINDOW_S
        self._pending.append(text)
        self._pending_chars += len(text)
        if self._pending_chars >= COALESCE_MAX_CHARS:
            await self.flush()

    async def flush(self) -> None:
        """Send the pending text run, if any."""
        if self._pending_kind is None:
            return
        update = content_chunk(self._pending_kind, "".join(self._pending), self._pending_message_id)
        self._pending_kind = None
        self._pending = []
        self._pending_chars = 0
        self._deadline = math.inf
        await self._send(update)

    async def _send(self, update: Update) -> None:
        async with self._send_lock:
            await self._send_update(update)

    async def drain(self, upto: int | None = None) -> None:
        """Wait until the first ``upto`` emitted events (default: all so far) are
        projected, then flush pending text. Call before answering a prompt."""
        target = self._seen if upto is None else upto
        async with self._progress:
            while self._processed < target and not self._stopped:
                await self._progress.wait()
        if not self._stopped:  # a closed session's client gets no more updates
            await self.flush()
