"""Turn-windowed extraction: structured fields pulled out of the conversation
between turns, by an out-of-band call to the session's own provider.

A :class:`TurnExtractor` declares fields (:class:`ExtractField`: a name, a
type, a merge policy, optionally a session-metadata key to promote to) and
when to run (triggers: every turn, every n turns, in given phases, when a
keyword is said). After a selected turn it asks the model, with a forced
``record_fields`` tool call whose JSON schema is built from the fields, for
the values stated in the last few turns (a :class:`TranscriptWindow`), and
merges them into the conversation's state.

Invariants:

* it never blocks speech: :meth:`TurnExtractor.turn_completed` only notes the
  turn; the call runs in :meth:`TurnExtractor.run`, a task of its own, one
  extraction at a time (turns that complete meanwhile coalesce into one run);
* failures (a provider error, a timeout, JSON that is not an object of the
  declared fields) are reported as :class:`ExtractionFailed` telemetry, never
  raised into the conversation;
* the call's usage is charged to the session (``UsageCharged``, source
  ``"extraction"``), like a compaction summary.
"""

from __future__ import annotations

import enum
import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from contextlib import aclosing
from typing import Any, Protocol, runtime_checkable

import attrs
import trio

from agentcore.errors import AgentcoreError, VoiceError
from agentcore.events import FanoutEmitter, UsageCharged
from agentcore.history import History
from agentcore.live.control_events import ExtractionCompleted, ExtractionFailed, TurnCompleted
from agentcore.live.transcript import DEFAULT_WINDOW_TURNS, TranscriptWindow
from agentcore.llm.base import LlmProvider, LlmRequest, TextDelta, ToolCallDelta, ToolSpec, UsageChunk
from agentcore.messages import MessageKind, TextBlock, Usage, UserMessage

log = logging.getLogger(__name__)

EXTRACTION_TIMEOUT_S = 20.0  # an extraction slower than this is abandoned (and reported)
EXTRACTION_MAX_TOKENS = 1_024
TOOL_NAME = "record_fields"
FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
FIELD_TYPES = ("string", "number", "integer", "boolean")

EXTRACTION_SYSTEM = """\
You read the latest turns of a live voice conversation and record structured \
fields for the application. Call record_fields once. Give a field only when the \
conversation states it; use null for anything not stated. Never guess or invent."""


class ExtractionError(VoiceError, ValueError):
    """An extraction declared in a way that cannot work (bad field name or type, no fields)."""


class Merge(enum.Enum):
    REPLACE = "replace"  # the newest stated value wins
    KEEP_FIRST = "keep_first"  # the first stated value stays
    APPEND = "append"  # values accumulate in a list (no duplicates)


@attrs.frozen
class ExtractField:
    name: str
    description: str = ""
    type: str = "string"
    merge: Merge = Merge.REPLACE
    state_key: str | None = None  # where in state (default: the name)
    promote: str | None = None  # a session metadata key to copy the value to

    def __attrs_post_init__(self) -> None:
        if not FIELD_NAME.fullmatch(self.name):
            raise ExtractionError(f"extraction field name {self.name!r} must be an identifier of at most 64 characters")
        if self.type not in FIELD_TYPES:
            raise ExtractionError(f"extraction field {self.name!r} has type {self.type!r}; one of {', '.join(FIELD_TYPES)}")

    @property
    def key(self) -> str:
        return self.state_key or self.name

    def schema(self) -> dict[str, Any]:
        if self.merge is Merge.APPEND:
            return {"type": ["array", "null"], "items": {"type": self.type}, "description": self.description}
        return {"type": [self.type, "null"], "description": self.description}


def fields_schema(fields: Sequence[ExtractField]) -> dict[str, Any]:
    """The JSON schema of the ``record_fields`` call."""
    return {
        "type": "object",
        "properties": {f.name: f.schema() for f in fields},
        "required": [f.name for f in fields],
        "additionalProperties": False,
    }


# ------------------------------------------------------------------ triggers


class Trigger(Protocol):
    def fires(self, event: TurnCompleted) -> bool: ...


@attrs.frozen
class EveryTurn:
    def fires(self, event: TurnCompleted) -> bool:
        return True


@attrs.frozen
class EveryNTurns:
    n: int

    def fires(self, event: TurnCompleted) -> bool:
        return self.n > 0 and event.index % self.n == 0


@attrs.frozen
class OnPhase:
    phases: tuple[str, ...]

    def fires(self, event: TurnCompleted) -> bool:
        return event.phase in self.phases


@attrs.frozen
class OnKeyword:
    words: tuple[str, ...]

    def fires(self, event: TurnCompleted) -> bool:
        text = event.turn.text.lower()
        return any(re.search(rf"\b{re.escape(w.lower())}\b", text) for w in self.words)


# ---------------------------------------------------------------- protocols


class ExtractionHost(Protocol):
    """What extraction reads from the session: its provider and model, the
    history it windows, where usage is charged and reported."""

    provider: LlmProvider

    @property
    def model(self) -> str: ...

    @property
    def history(self) -> History: ...

    @property
    def events(self) -> FanoutEmitter: ...

    def record_usage(self, usage: Usage) -> float: ...


@runtime_checkable
class MetadataSink(Protocol):
    """Where promoted fields go: the session's durable metadata."""

    def set_metadata(self, key: str, value: Any) -> None: ...


class StateSink(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...

    def set(self, key: str, value: Any) -> None: ...


# ------------------------------------------------------------------ values


def _coerce(field: ExtractField, value: Any) -> Any:
    """The value as the field's type, or raise ValueError."""
    match field.type:
        case "string":
            if isinstance(value, str) and value.strip():
                return value.strip()
        case "boolean":
            if isinstance(value, bool):
                return value
        case "integer":
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, float) and value.is_integer():
                return int(value)
        case "number":
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value
    raise ValueError(f"{field.name}: {value!r} is not a {field.type}")


def parse_arguments(raw: str) -> dict[str, Any]:
    """The model's JSON object (a fenced code block is accepted); ValueError otherwise."""
    text = raw.strip()
    if text.startswith("```"):
        text = text.strip("`")
        text = text[text.find("{") :] if "{" in text else text
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    return data


def _metadata_value(value: Any) -> Any:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


# --------------------------------------------------------------- extractor


class TurnExtractor:
    def __init__(
        self,
        host: ExtractionHost,
        fields: Iterable[ExtractField],
        *,
        store: StateSink,
        triggers: Sequence[Trigger] = (EveryTurn(),),
        name: str = "extraction",
        window_turns: int = DEFAULT_WINDOW_TURNS,
        timeout_s: float = EXTRACTION_TIMEOUT_S,
        instructions: str = "",
        metadata: MetadataSink | None = None,
        report: Callable[[ExtractionCompleted | ExtractionFailed], None] | None = None,
    ) -> None:
        self.fields = tuple(fields)
        if not self.fields:
            raise ExtractionError("an extractor needs at least one field")
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ExtractionError(f"extraction fields are named twice: {sorted({n for n in names if names.count(n) > 1})}")
        self.host = host
        self.store = store
        self.triggers = tuple(triggers)
        self.name = name
        self.window_turns = window_turns
        self.timeout_s = timeout_s
        self.instructions = instructions
        self.metadata = metadata if metadata is not None else (host if isinstance(host, MetadataSink) else None)
        self.report = report
        self.records: list[ExtractionCompleted | ExtractionFailed] = []
        self.coalesced = 0  # selected turns folded into a later run
        self._pending: TurnCompleted | None = None
        self._wake = trio.Event()
        self._idle = trio.Event()
        self._idle.set()

    # ------------------------------------------------------------ scheduling

    def turn_completed(self, event: TurnCompleted) -> bool:
        """Note a finished turn; True when it selects an extraction. Never blocks."""
        if event.status == "failed" or not any(t.fires(event) for t in self.triggers):
            return False
        if self._pending is not None:
            self.coalesced += 1
        self._pending = event
        self._idle = trio.Event() if self._idle.is_set() else self._idle
        self._wake.set()
        return True

    @property
    def busy(self) -> bool:
        return not self._idle.is_set()

    async def wait_idle(self) -> None:
        """Return when no extraction is pending or running."""
        await self._idle.wait()

    async def run(self) -> None:
        """Run selected extractions one at a time, until cancelled."""
        while True:
            await self._wake.wait()
            self._wake = trio.Event()
            event, self._pending = self._pending, None
            if event is not None:
                await self.extract(event.index)
            if self._pending is None:
                self._idle.set()

    # ------------------------------------------------------------- the call

    async def extract(self, turn_index: int = 0) -> ExtractionCompleted | ExtractionFailed:
        """One extraction over the current window, merged into state now."""
        started = trio.current_time()

        def failed(reason: str, message: str) -> ExtractionFailed:
            return ExtractionFailed(self.name, turn_index, reason, message, (trio.current_time() - started) * 1000)

        window = TranscriptWindow.from_history(self.host.history.snapshot(), self.window_turns)
        result: ExtractionCompleted | ExtractionFailed
        raw: str | None = None
        with trio.move_on_after(self.timeout_s) as scope:
            try:
                raw = await self._call(window)
            except Exception as exc:  # a provider's failure is telemetry here, whatever its type
                log.warning("extraction %s failed: %s", self.name, exc)
                result = failed("provider", str(exc))
        if scope.cancelled_caught:
            result = failed("timeout", f"no answer within {self.timeout_s:g} s")
        elif raw is not None:
            try:
                data = parse_arguments(raw)
            except ValueError as exc:
                result = failed("invalid", f"not a JSON object of the declared fields: {exc}")
            else:
                result = self._merge(data, turn_index, started)
        self.records.append(result)
        if self.report is not None:
            self.report(result)
        return result

    def _request(self, window: TranscriptWindow) -> LlmRequest:
        known = {f.name: self.store.get(f.key) for f in self.fields if self.store.get(f.key) is not None}
        parts = [f"<conversation>\n{window.render() or '(nothing said yet)'}\n</conversation>"]
        if known:
            parts.append(f"Recorded so far: {json.dumps(known, ensure_ascii=False, default=str)}")
        if self.instructions:
            parts.append(self.instructions)
        parts.append("Record the fields stated in the conversation above.")
        tool = ToolSpec(TOOL_NAME, "Record the fields stated in the conversation (null when not stated).", fields_schema(self.fields))
        return LlmRequest(
            model=self.host.model,
            system=EXTRACTION_SYSTEM,
            messages=(UserMessage((TextBlock("\n\n".join(parts)),), kind=MessageKind.CONTEXT),),
            tools=(tool,),
            max_tokens=EXTRACTION_MAX_TOKENS,
            tool_choice=TOOL_NAME,
        )

    async def _call(self, window: TranscriptWindow) -> str:
        request = self._request(window)
        arguments: list[str] = []
        text: list[str] = []
        usage = Usage()
        try:
            async with aclosing(self.host.provider.complete(request)) as stream:
                async for chunk in stream:
                    if isinstance(chunk, ToolCallDelta):
                        arguments.append(chunk.arguments)
                    elif isinstance(chunk, TextDelta):
                        text.append(chunk.text)
                    elif isinstance(chunk, UsageChunk):
                        usage = usage + chunk.usage
        finally:
            if usage != Usage():  # charged also when cut short, like a compaction summary
                cost = self.host.record_usage(usage)
                with trio.CancelScope(shield=True):
                    await self.host.events.emit(UsageCharged(None, "extraction", self.host.model, usage, cost))
        return "".join(arguments) if arguments else "".join(text)

    # ------------------------------------------------------------- merging

    def _merge(self, data: dict[str, Any], turn_index: int, started: float) -> ExtractionCompleted:
        changed: dict[str, Any] = {}
        promoted: list[str] = []
        rejected: list[str] = []
        for field in self.fields:
            value = data.get(field.name)
            if value is None:
                continue
            try:
                new = self._merged(field, value)
            except ValueError:
                rejected.append(field.name)
                continue
            if new is None or new == self.store.get(field.key):
                continue
            try:
                self.store.set(field.key, new)
            except AgentcoreError as exc:  # a key the store computes or reserves
                log.warning("extraction %s: state %s not set: %s", self.name, field.key, exc)
                rejected.append(field.name)
                continue
            changed[field.key] = new
            if field.promote and self.metadata is not None:
                try:
                    self.metadata.set_metadata(field.promote, _metadata_value(new))
                    promoted.append(field.promote)
                except AgentcoreError as exc:  # a refused metadata value (MetadataError) stays telemetry
                    log.warning("extraction %s: metadata %s not set: %s", self.name, field.promote, exc)
                    rejected.append(field.name)
        return ExtractionCompleted(
            self.name, turn_index, changed, tuple(promoted), (trio.current_time() - started) * 1000, tuple(rejected)
        )

    def _merged(self, field: ExtractField, value: Any) -> Any:
        current = self.store.get(field.key)
        match field.merge:
            case Merge.REPLACE:
                return _coerce(field, value)
            case Merge.KEEP_FIRST:
                return current if current is not None else _coerce(field, value)
            case Merge.APPEND:
                items = [_coerce(field, v) for v in (value if isinstance(value, list) else [value])]
                merged = list(current) if isinstance(current, list | tuple) else ([] if current is None else [current])
                for item in items:
                    if item not in merged:
                        merged.append(item)
                return merged
