"""ACP ``session/update`` payloads -> the :class:`~agentcore.events.AgentEvent`
values the terminal renderer draws: the inverse of :mod:`acp.project`, for a
terminal attached to a session that runs in ``agent serve``.

Pure (no I/O, no trio): :class:`UpdateTranslator` keeps only what the wire
leaves out — which tool calls were announced and how much of their output was
seen — so each mapping is tested directly. What the wire cannot say is filled
in plainly: a replayed call lasted 0 s, a turn id is the terminal's own.

Two kinds of turn reach an attached terminal. Its own (it sent
``session/prompt``) are drawn like a local chat's, live region and all. Turns
another client started arrive while the prompt is on screen, so the live
region must stay out of the way: each of their tool calls is a line when it
starts and is drawn whole once finished, and the paragraph being written is
printed when the model call ends (:meth:`UpdateTranslator.update` returns
``TurnEnded`` as that marker, which the renderer takes as "print what is
pending"). The server's turn updates (``_meta.agentcore.turn`` on a
``session_info_update``, asked for with ``turnUpdates``) become a line when
another client's turn starts and one when it ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from agentcore.events import (
    AgentEvent,
    AssistantTextDelta,
    LlmCallFinished,
    ModeChanged,
    ModelChanged,
    Notice,
    PermissionRequested,
    PlanEntry,
    PlanUpdated,
    ThoughtDelta,
    TitleChanged,
    ToolCallFinished,
    ToolCallProgress,
    ToolCallStarted,
    TurnEnded,
)
from agentcore.messages import StopReason, TextBlock, Usage
from agentcore.permissions import PermissionOption
from agentcore.tools import DiffPreview, Location, ToolKind, ToolResult

USER_PROMPT_MARK = "› "  # a replayed prompt is shown as the chat's prompt showed it
DESCRIPTION_SEPARATOR = " — "  # acp.project puts it between a command and the model's words
ALWAYS_ALLOW_PREFIX = "Always allow ("  # acp.project names the rule in the option's label
MODEL_OPTION = "model"
OTHER_TOOL_MARK = "▸ "  # another client's tool call, as it starts
FINISHED_STATUSES = ("completed", "failed")

Clock = Callable[[], float]


@attrs.define
class _Call:
    started: ToolCallStarted
    since: float
    shown: bool  # ToolCallStarted went to the renderer already
    output: str = ""


def _text_of(content: Any) -> str | None:
    """The text of a content block ``{"type": "text", "text": ...}``."""
    if isinstance(content, Mapping) and content.get("type") == "text" and isinstance(content.get("text"), str):
        return content["text"]
    return None


def _kind(value: Any) -> ToolKind:
    try:
        return ToolKind(value)
    except ValueError:
        return ToolKind.OTHER


def _diff(items: Any) -> DiffPreview | None:
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping) and item.get("type") == "diff" and isinstance(item.get("path"), str):
            old = item.get("oldText")
            return DiffPreview(item["path"], old if isinstance(old, str) else None, str(item.get("newText") or ""))
    return None


def _texts(items: Any) -> list[str]:
    """The text of each ``{"type": "content", "content": {"type": "text"}}`` item."""
    texts = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping) and item.get("type") == "content":
            text = _text_of(item.get("content"))
            if text is not None:
                texts.append(text)
    return texts


def _locations(items: Any) -> tuple[Location, ...]:
    found = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping) and isinstance(item.get("path"), str):
            line = item.get("line")
            found.append(Location(item["path"], line if isinstance(line, int) else None))
    return tuple(found)


def _unquoted(title: str) -> str:
    """"`git status` — Show it" -> "git status — Show it": editors show the
    backticks as code; the chat shows the title as text."""
    if title.startswith("`") and "`" in title[1:]:
        command, _, rest = title[1:].partition("`")
        return command + rest
    return title


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def always_rule(options: Any) -> tuple[str, str]:
    """(rule, what it admits) from the "Always allow (RULE: ADMITS)" option's name."""
    for option in options if isinstance(options, list) else []:
        if not isinstance(option, Mapping) or option.get("kind") != PermissionOption.ALLOW_ALWAYS.value:
            continue
        name = option.get("name")
        if isinstance(name, str) and name.startswith(ALWAYS_ALLOW_PREFIX) and name.endswith(")"):
            rule, _, admits = name[len(ALWAYS_ALLOW_PREFIX) : -1].partition(": ")
            return rule, admits
    return "", ""


def option_id(options: Any, option: PermissionOption) -> str:
    """The id the agent gave ``option`` (matched by kind); the option's value when it gave none."""
    for offered in options if isinstance(options, list) else []:
        if isinstance(offered, Mapping) and offered.get("kind") == option.value and isinstance(offered.get("optionId"), str):
            return offered["optionId"]
    return option.value


class UpdateTranslator:
    """One session's updates -> events. ``own_turn`` is True while this terminal's
    own prompt runs (see the module docstring for what changes)."""

    def __init__(self, *, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._calls: dict[str, _Call] = {}
        self.own_turn = False
        self.turn_id = ""
        self.provider = ""  # the wire names the model only; the journal names the provider
        self.model = ""
        self.others_turn: str | None = None  # another client's turn running now: who started it
        self._others_ended = False  # another client's turn just ended: what is pending can be printed

    @property
    def open_calls(self) -> int:
        return len(self._calls)

    def update(self, update: Mapping[str, Any]) -> list[AgentEvent]:
        turn = self.turn_id
        match update.get("sessionUpdate"):
            case "agent_message_chunk":
                text = _text_of(update.get("content"))
                return [AssistantTextDelta(turn, text)] if text else []
            case "agent_thought_chunk":
                text = _text_of(update.get("content"))
                return [ThoughtDelta(turn, text)] if text else []
            case "user_message_chunk":
                text = _text_of(update.get("content"))
                shown = text if text is not None else "[image]"
                return [Notice("info", USER_PROMPT_MARK + shown)]
            case "tool_call":
                return self._tool_call(update)
            case "tool_call_update":
                return self._tool_call_update(update)
            case "plan":
                entries = [e for e in update.get("entries") or [] if isinstance(e, Mapping)]
                return [PlanUpdated(tuple(
                    PlanEntry(str(e.get("content", "")), str(e.get("status", "pending")), str(e.get("priority", "medium")))
                    for e in entries
                ))]  # fmt: skip
            case "usage_update":
                return self._usage(update)
            case "session_info_update":
                title = update.get("title")
                events: list[AgentEvent] = [TitleChanged(title)] if isinstance(title, str) and title else []
                return events + self._turn(_mapping(_mapping(_mapping(update.get("_meta")).get("agentcore")).get("turn")))
            case "current_mode_update":
                mode = update.get("currentModeId")
                return [ModeChanged(mode)] if isinstance(mode, str) else []
            case "config_option_update":
                return self._options(update.get("configOptions"))
            case "notice":
                title, description = str(update.get("title") or ""), update.get("description")
                text = f"{title}: {description}" if isinstance(description, str) and description else title
                return [Notice(str(update.get("severity") or "info"), text)] if text else []
            case _:
                return []  # available commands, compaction progress, what a newer agent adds

    def flush(self) -> TurnEnded:
        """The marker that makes the renderer print the paragraph it holds."""
        return TurnEnded(self.turn_id, StopReason.END_TURN, Usage())

    def settles_remote_output(self, events: list[AgentEvent]) -> bool:
        """Whether, after ``events``, another client's turn has reached a point
        where what the renderer holds can be printed: a model call ended and no
        tool call is open."""
        ended, self._others_ended = self._others_ended, False
        if ended and not self.own_turn:
            return True
        return not self.own_turn and not self._calls and any(isinstance(e, LlmCallFinished) for e in events)

    def _turn(self, turn: Mapping[str, Any]) -> list[AgentEvent]:
        """A turn started or ended (the server's turn updates): a line for another
        client's turn; this terminal's own turns are drawn as they run."""
        if not turn or turn.get("thisClient") is True:
            return []
        by = turn.get("startedBy")
        who = f"another client ({by})" if isinstance(by, str) and by else "the agent"
        match turn.get("state"):
            case "running":
                self.others_turn = who
                return [Notice("info", f"turn started by {who}")]
            case "ended":
                self.others_turn = None
                self._others_ended = True
                return [Notice("info", f"turn by {who} ended: {_turn_end(turn)}")]
        return []

    def _tool_call(self, update: Mapping[str, Any]) -> list[AgentEvent]:
        call_id = update.get("toolCallId")
        if not isinstance(call_id, str):
            return []
        kind = _kind(update.get("kind"))
        title = _unquoted(str(update.get("title") or update.get("name") or "tool"))
        started = ToolCallStarted(
            turn_id=self.turn_id,
            call_id=call_id,
            name=str(update.get("name") or title),
            title=title,
            kind=kind,
            raw_input=_mapping(update.get("rawInput")),
            locations=_locations(update.get("locations")),
            diff=_diff(update.get("content")),
        )
        self._calls[call_id] = _Call(started, self._clock(), shown=self.own_turn)
        events: list[AgentEvent] = [started] if self.own_turn else []
        if not self.own_turn and update.get("status") not in FINISHED_STATUSES:
            events.append(Notice("info", f"{OTHER_TOOL_MARK}{title}"))  # drawn whole when it finishes
        if update.get("status") in FINISHED_STATUSES:
            events += self._tool_call_update(update)
        return events

    def _tool_call_update(self, update: Mapping[str, Any]) -> list[AgentEvent]:
        call = self._calls.get(str(update.get("toolCallId")))
        if call is None:
            return []  # output of work a finished call left running, or of a call from before we attached
        status = update.get("status")
        if status in FINISHED_STATUSES:
            del self._calls[call.started.call_id]
            return self._finished(call, update, failed=status == "failed")
        texts = _texts(update.get("content"))
        if not texts or not call.shown:
            return []
        output = texts[-1]
        new = output.removeprefix(call.output)  # the whole output is sent each time; the tail is new
        call.output = output
        return [ToolCallProgress(self.turn_id, call.started.call_id, new)] if new else []

    def _finished(self, call: _Call, update: Mapping[str, Any], *, failed: bool) -> list[AgentEvent]:
        content = update.get("content")
        result = ToolResult(
            content=tuple(TextBlock(text) for text in _texts(content)),
            is_error=failed,
            diff=_diff(content),
            raw_output=_mapping(update.get("rawOutput")) or None,
        )
        finished = ToolCallFinished(
            self.turn_id, call.started.call_id, call.started.name, result, duration_s=max(0.0, self._clock() - call.since)
        )
        return [finished] if call.shown else [call.started, finished]

    def _usage(self, update: Mapping[str, Any]) -> list[AgentEvent]:
        cost = _mapping(update.get("cost")).get("amount")
        used, size = update.get("used"), update.get("size")
        return [LlmCallFinished(
            turn_id=self.turn_id, model=self.model, usage=Usage(), cost_usd=0.0,
            context_used=used if isinstance(used, int) else 0, context_window=size if isinstance(size, int) else 0,
            session_cost_usd=float(cost) if isinstance(cost, int | float) else 0.0,
        )]  # fmt: skip

    def _options(self, options: Any) -> list[AgentEvent]:
        model = current_option(options, MODEL_OPTION)
        if model is None or model == self.model:
            return []
        changed = bool(self.model)
        self.model = model
        return [ModelChanged(self.provider, model)] if changed else []

    # ------------------------------------------------------------ questions

    def permission_request(self, request_id: str, params: Mapping[str, Any]) -> PermissionRequested:
        """``session/request_permission`` as the question the chat asks."""
        call = _mapping(params.get("toolCall"))
        kind = _kind(call.get("kind"))
        raw_input = _mapping(call.get("rawInput"))
        name = str(call.get("name") or call.get("title") or "tool")
        title = str(call.get("title") or name)
        command = raw_input.get("command") if kind is ToolKind.EXECUTE else None
        subject = command.strip() if isinstance(command, str) and command.strip() else None
        if subject is not None and title.startswith("`"):
            # "`cmd` — what the model said": the chat shows the command on its own.
            title = title.split(DESCRIPTION_SEPARATOR, 1)[1] if DESCRIPTION_SEPARATOR in title else ""
        rule, admits = always_rule(params.get("options"))
        return PermissionRequested(
            turn_id=self.turn_id,
            request_id=request_id,
            call_id=str(call.get("toolCallId") or ""),
            tool_name=name,
            title=title,
            kind=kind,
            subject=subject,
            raw_input=raw_input,
            diff=_diff(call.get("content")),
            always_rule=rule,
            always_admits=admits,
        )

    def approval_request(self, request_id: str, params: Mapping[str, Any]) -> PermissionRequested:
        """``_agentcore/session/approve`` (this terminal owns the session and
        another client asks for something risky) as a yes/no question."""
        action = str(params.get("action") or "a change to this session")
        detail = str(params.get("detail") or "")
        return PermissionRequested(
            turn_id=self.turn_id,
            request_id=request_id,
            call_id="",
            tool_name=action,
            title=f"{action} ({detail})" if detail else action,
            kind=ToolKind.OTHER,
            subject=None,
            raw_input={},
        )


def _turn_end(turn: Mapping[str, Any]) -> str:
    """"end turn · 1,234 tokens" from a turn's end update."""
    if isinstance(turn.get("error"), str):
        return "failed"
    reason = str(turn.get("stopReason") or "end_turn").replace("_", " ")
    total = _mapping(turn.get("usage")).get("totalTokens")
    return f"{reason} · {total:,} tokens" if isinstance(total, int) and total else reason


def current_option(options: Any, option: str) -> str | None:
    """The current value of config option ``option`` in a ``configOptions`` list."""
    for entry in options if isinstance(options, list) else []:
        if isinstance(entry, Mapping) and entry.get("id") == option and isinstance(entry.get("currentValue"), str):
            return entry["currentValue"]
    return None
