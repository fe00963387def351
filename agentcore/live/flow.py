"""The conversation flow: what the control plane does with each voice event.

:class:`Conversation` owns the state machine, the transcript reducer, the tool
runner and the telemetry of one voice session, across reconnects. The
:class:`~agentcore.live.controller.VoiceController` feeds it events from
whichever backend is connected and input frames from the transport.

Barge-in is the time-critical path: output is cleared *first* (a synchronous
call on the transport), then the response is cancelled and each interrupted
item truncated, at the backend and in history, to what was actually played.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, assert_never

import attrs
import trio

from agentcore.live.audio import bytes_to_ms
from agentcore.live.backend import BackendClosedError, SpeechBackend
from agentcore.live.events import (
    AssistantTranscriptDelta,
    AssistantTranscriptDone,
    AudioDelta,
    BackendNotice,
    Disconnected,
    GoAway,
    InputCommitted,
    InputDiscarded,
    Interrupted,
    ResponseDone,
    ResponseStarted,
    ResponseStatus,
    ResumptionUpdate,
    SpeechStarted,
    SpeechStopped,
    ToolCallCancelled,
    ToolCallRequested,
    UserTranscriptDelta,
    UserTranscriptFinal,
    VoiceEvent,
)
from agentcore.live.reducer import TranscriptReducer
from agentcore.live.state import StateMachine, VoiceState
from agentcore.live.telemetry import SessionMetrics, TurnMetrics
from agentcore.live.tools import VoiceToolRunner
from agentcore.live.transport import AudioTransport

log = logging.getLogger(__name__)
S = VoiceState


@attrs.frozen
class TranscriptUpdate:
    role: str  # "user" | "assistant"
    item_id: str
    text: str
    final: bool


@attrs.frozen
class StateUpdate:
    state: VoiceState


@attrs.frozen
class NoticeUpdate:
    level: str
    text: str


LiveUpdate = TranscriptUpdate | StateUpdate | NoticeUpdate


class ConversationRules(Protocol):
    """What the flow reports to the conversation's state and rules
    (:class:`~agentcore.live.director.Director`)."""

    def voice_state(self, state: VoiceState) -> None: ...

    async def user_speech_started(self) -> None: ...

    async def user_turn(self, text: str) -> None: ...

    async def interruption(self) -> None: ...

    async def tool_called(self, name: str, call_id: str) -> None: ...

    async def tool_finished(self, name: str, call_id: str, ok: bool, error: str = "") -> None: ...


class Conversation:
    def __init__(
        self,
        *,
        transport: AudioTransport,
        reducer: TranscriptReducer,
        metrics: SessionMetrics,
        state: StateMachine,
        notify: Callable[[LiveUpdate], None],
        signal: Callable[[str, bool], Awaitable[None]],
        on_resumption: Callable[[str], None],
        on_go_away: Callable[[float], None],
        on_usage: Callable[[Any], None],
    ) -> None:
        self.transport = transport
        self.reducer = reducer
        self.metrics = metrics
        self.state = state
        self.tools: VoiceToolRunner | None = None  # wired by the controller
        self.rules: ConversationRules | None = None  # wired by the controller
        self.backend: SpeechBackend | None = None
        self.nursery: trio.Nursery | None = None
        self._notify = notify
        self._signal = signal
        self._on_resumption = on_resumption
        self._on_go_away = on_go_away
        self._on_usage = on_usage
        self.active: str | None = None  # the response being generated
        self.cancelled: set[str] = set()
        self.user_speaking = False
        self.speech_stopped_at: float | None = None
        self.expecting_since: float | None = None  # user turn ended, no response yet
        self.nudged = False  # a soft-turn response was requested for the current wait
        self.awaiting_transcript: dict[str, float] = {}  # committed user item -> since
        self._received_ms: dict[str, float] = collections.defaultdict(float)  # item -> audio received
        self._item_response: dict[str, str] = {}
        self._item_content: dict[str, int] = {}
        self._turn_items: dict[str, set[str]] = collections.defaultdict(set)
        self._raw_args: dict[str, str] = {}
        self._assistant_text: dict[str, str] = collections.defaultdict(str)
        self._changed = trio.Event()

    # ------------------------------------------------------------ state

    def to(self, new: VoiceState) -> None:
        if self.state.to(new):
            if self.rules is not None:
                self.rules.voice_state(new)
            self._notify(StateUpdate(new))
        self._changed.set()
        self._changed = trio.Event()

    async def wait_changed(self) -> None:
        await self._changed.wait()

    @property
    def idle(self) -> bool:
        """Nobody is talking, nothing is playing or pending."""
        return (
            self.state.state is S.LISTENING
            and not self.user_speaking
            and not self.transport.playing
            and self.active is None
            and self.expecting_since is None
        )

    @property
    def quiescent(self) -> bool:
        """Idle and nothing left to resolve: the session may end here."""
        return self.idle and not self.reducer.pending and not (self.tools and self.tools.busy)

    async def response_idle(self) -> None:
        """Return when no response is being generated (a tool result may ask for the next)."""
        while self.active is not None and self.active not in self.cancelled:
            await self.wait_changed()

    def tools_executing(self, running: bool) -> None:
        """Blocking tools started or all finished: show it, and expect the answer to their results."""
        if running:
            if self.state.state in (S.THINKING, S.SPEAKING, S.INTERRUPTED) and not self.transport.playing and not self.user_speaking:
                self.to(S.EXECUTING_TOOL)
        elif self.state.state is S.EXECUTING_TOOL:
            self.expecting_since, self.nudged = trio.current_time(), False
            self.to(S.THINKING)

    async def deliverable(self) -> None:
        """Return when a background result may be spoken into the conversation."""
        while not self.idle:
            await self.wait_changed()

    async def settle(self) -> None:
        """Back to listening once an answer has fully played."""
        if self.state.state in (S.SPEAKING, S.THINKING, S.INTERRUPTED, S.EXECUTING_TOOL) and not self.transport.playing and not self.user_speaking:
            answering = self.active is not None and self.active not in self.cancelled
            if self.tools is not None and self.tools.executing:
                if not answering:
                    self.to(S.EXECUTING_TOOL)  # e.g. a bridge phrase finished playing
                return
            if not answering and self.expecting_since is None and not (self.tools and self.tools.busy and self.state.state is S.THINKING):
                self.to(S.LISTENING)

    # ---------------------------------------------------------- dispatch

    async def dispatch(self, event: VoiceEvent) -> None:
        now = trio.current_time()
        match event:
            case SpeechStarted():
                self.user_speaking = True
                self.expecting_since = None
                await self.barge_in(source="backend vad")
                self.to(S.USER_SPEAKING)
                if self.rules is not None:
                    await self.rules.user_speech_started()
            case SpeechStopped():
                self.user_speaking = False
                self.speech_stopped_at = now
                self.expecting_since, self.nudged = now, False
                self.to(S.THINKING)
            case InputCommitted(item_id=item_id):
                self.reducer.expect_user(item_id)
                self.awaiting_transcript.setdefault(item_id, now)
            case InputDiscarded(item_id=item_id):
                self.awaiting_transcript.pop(item_id, None)
                self.expecting_since = None
                await self.reducer.drop_user(item_id)
            case UserTranscriptDelta(item_id=item_id, text=text):
                self._notify(TranscriptUpdate("user", item_id, text, final=False))
            case UserTranscriptFinal(item_id=item_id, content_index=ci, text=text):
                self.awaiting_transcript.pop(item_id, None)
                if await self.reducer.user_final(item_id, ci, text):
                    self._notify(TranscriptUpdate("user", item_id, text, final=True))
                    await self._signal("user_turn", True)
                    if self.rules is not None:
                        await self.rules.user_turn(text)
            case ResponseStarted(response_id=rid):
                self.active = rid
                self.expecting_since = None
                self.reducer.start_response(rid)
                self.metrics.turns.append(TurnMetrics(rid, now, user_stopped_at=self.speech_stopped_at))
                self.speech_stopped_at = None
                if self.tools is not None:
                    self.tools.on_response_started(rid)
                if self.state.state is not S.USER_SPEAKING:
                    self.to(S.THINKING)
            case AudioDelta():
                self._play(event, now)
            case AssistantTranscriptDelta(response_id=rid, item_id=item_id, content_index=ci, text=text, event_id=eid):
                if rid not in self.cancelled:
                    self.reducer.assistant_delta(rid, item_id, ci, text, eid)
                    self._assistant_text[item_id] += text
                    self._notify(TranscriptUpdate("assistant", item_id, self._assistant_text[item_id], final=False))
            case AssistantTranscriptDone(response_id=rid, item_id=item_id, content_index=ci, text=text):
                if rid not in self.cancelled:
                    self.reducer.assistant_final(rid, item_id, ci, text)
                    self._notify(TranscriptUpdate("assistant", item_id, text, final=True))
            case ToolCallRequested(response_id=rid, call_id=call_id, name=name, arguments=arguments):
                self.reducer.tool_call(rid, call_id, name, arguments)
                self._raw_args[call_id] = arguments
            case ToolCallCancelled(call_ids=ids):
                if self.tools is not None:
                    self.tools.cancel(ids)
            case ResponseDone():
                await self._response_done(event)
            case Interrupted():
                await self.barge_in(source="backend")
            case ResumptionUpdate(handle=handle):
                self._on_resumption(handle)
            case GoAway(time_left_s=left):
                self._on_go_away(left)
            case BackendNotice(message=message, code=code):
                self._notify(NoticeUpdate("warning", f"{code}: {message}" if code else message))
            case Disconnected():
                pass  # handled by the controller's connection loop
            case _:
                assert_never(event)
        await self.settle()

    def _play(self, event: AudioDelta, now: float) -> None:
        if event.response_id in self.cancelled:
            return
        self.transport.play(event.item_id, event.pcm, event.rate)
        ms = bytes_to_ms(len(event.pcm), event.rate)
        self._received_ms[event.item_id] += ms
        self._item_response[event.item_id] = event.response_id
        self._item_content[event.item_id] = event.content_index
        self._turn_items[event.response_id].add(event.item_id)
        turn = self.metrics.turn(event.response_id)
        if turn is not None:
            turn.audio_ms += ms
            if turn.first_audio_at is None:
                turn.first_audio_at = now
        if self.state.state is not S.USER_SPEAKING:
            self.to(S.SPEAKING)

    async def _response_done(self, event: ResponseDone) -> None:
        rid = event.response_id
        if self.active == rid:
            self.active = None
            self._changed.set()  # response_idle() waiters
            self._changed = trio.Event()
        status = ResponseStatus.CANCELLED if rid in self.cancelled else event.status
        calls = await self.reducer.finish_response(rid, status, event.usage, message_ids=event.message_ids)
        self.metrics.usage = self.metrics.usage + event.usage
        self._on_usage(event.usage)
        turn = self.metrics.turn(rid)
        if turn is not None:
            turn.status, turn.usage, turn.tool_calls = status.value, event.usage, len(calls)
        if calls and self.tools is not None and self.nursery is not None:
            raw = {c.id: self._raw_args.get(c.id, "{}") for c in calls}
            await self.tools.run_calls(self.nursery, rid, calls, raw)
            if self.state.state is not S.USER_SPEAKING and not self.transport.playing:
                self.to(S.EXECUTING_TOOL if self.tools.executing else S.THINKING)
            await self._signal("tool_calls", True)
            if self.rules is not None:
                for call in calls:
                    await self.rules.tool_called(call.name, call.id)

    async def tool_finished(self, name: str, call_id: str, ok: bool, error: str = "") -> None:
        """A voice tool call finished (the tool runner reports every result, failures too)."""
        await self._signal("tool_result", ok)
        if self.rules is not None:
            await self.rules.tool_finished(name, call_id, ok, error)

    # ------------------------------------------------------------ barge-in

    async def cancel_response(self, *, source: str) -> bool:
        """Stop the current answer as a barge-in would (output cleared, response
        cancelled, history cut to what was heard), without counting an interruption."""
        return await self.barge_in(source=source, interruption=False)

    async def barge_in(self, *, source: str, interruption: bool = True) -> bool:
        """The user spoke over the assistant: stop, cancel, keep what was heard."""
        started = trio.current_time()
        audible = self.transport.playing
        played = self.transport.clear_output() if audible else {}
        if audible:
            self.to(S.INTERRUPTED)  # before any await: the drain watcher must see why output stopped
        interrupted: set[str] = set()
        active = self.active
        if active is not None and active not in self.cancelled:
            self.cancelled.add(active)
            interrupted.add(active)
            await self._backend_call("cancel_response")
        if not audible and not interrupted:
            return False
        for item_id, ms in played.items():
            rid = self._item_response.get(item_id)
            if rid is not None:
                interrupted.add(rid)
            ci = self._item_content.get(item_id, 0)
            if self.backend is not None and self.backend.capabilities.truncate:
                await self._backend_call("truncate", item_id, ci, ms)
            await self.reducer.truncate(item_id, ci, ms, self._received_ms.get(item_id, float(ms)))
        if audible and interruption:
            self.metrics.interruptions += 1
            self.metrics.barge_in_ms.append((trio.current_time() - started) * 1000)
            for rid in interrupted:
                turn = self.metrics.turn(rid)
                if turn is not None:
                    turn.interrupted = True
            self._notify(NoticeUpdate("info", f"barge-in ({source})"))
            await self._signal("interruption", True)
            if self.rules is not None:
                await self.rules.interruption()
        if self.tools is not None:
            self.tools.mark_interrupted(interrupted)
        return audible

    async def abandon_inflight(self) -> None:
        """The connection dropped: keep what was heard, close what cannot finish."""
        await self.barge_in(source="disconnect")
        for rid in list(self.reducer_open_responses()):
            self.cancelled.add(rid)
            await self.reducer.finish_response(rid, ResponseStatus.CANCELLED)
        self.active = None
        self.expecting_since = None
        for item_id in list(self.awaiting_transcript):
            await self.reducer.drop_user(item_id)
        self.awaiting_transcript.clear()
        self.user_speaking = False

    def reducer_open_responses(self) -> list[str]:
        return [t.response_id for t in self.metrics.turns if not t.status]

    async def _backend_call(self, method: str, *args: Any) -> None:
        backend = self.backend
        if backend is None:
            return
        try:
            await getattr(backend, method)(*args)
        except BackendClosedError:
            log.debug("%s on a closed backend", method)

    def finalize_metrics(self) -> None:
        """Heard audio per turn, from the transport's playout accounting."""
        for turn in self.metrics.turns:
            turn.heard_ms = sum(self.transport.played_ms(i) for i in self._turn_items.get(turn.response_id, ()))
        self.metrics.audio_out_ms = sum(t.heard_ms for t in self.metrics.turns)
